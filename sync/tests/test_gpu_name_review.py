"""The review queue: an admin maps an unknown GPU name to a model, and the held offers come in."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from marketplace import services
from marketplace.models import GpuAlias, GpuModel, GpuNameReview
from sync.models import SyncConnection
from sync.services import gpu_name_review_map

pytestmark = pytest.mark.django_db

LATER = timezone.now() + timedelta(hours=1)


@pytest.fixture
def h100():
    return GpuModel.objects.get(slug="h100-sxm")


@pytest.fixture
def connections(acme, beta):
    """Acme has an enabled and a paused connection, Beta one enabled; all due only later."""
    make = SyncConnection.objects.create
    return {
        "acme": make(provider=acme, name="a", base_url="https://a.example/f.json", next_sync_at=LATER),
        "acme_paused": make(
            provider=acme, name="p", base_url="https://p.example/f.json", next_sync_at=LATER, enabled=False
        ),
        "beta": make(provider=beta, name="b", base_url="https://b.example/f.json", next_sync_at=LATER),
    }


@pytest.fixture
def review(acme):
    """Acme's API says "Hopper Mystery 80G", which no alias knows: 3 offers held."""
    services.gpu_names_unknown_record(provider=acme, names={"Hopper Mystery 80G": 3}, now=timezone.now())
    return GpuNameReview.objects.get()


def test_resolving_creates_the_alias_and_makes_the_providers_connections_due(review, h100, connections):
    now = timezone.now()

    due = gpu_name_review_map(review=review, gpu_model=h100, now=now)

    assert due == 1
    assert GpuAlias.objects.resolve("Hopper Mystery 80G") == h100
    review.refresh_from_db()
    assert (review.resolved_at, review.gpu_model) == (now, h100)
    times = {key: SyncConnection.objects.get(pk=c.pk).next_sync_at for key, c in connections.items()}
    assert times == {"acme": now, "acme_paused": LATER, "beta": LATER}  # paused and other providers untouched


def test_resolving_to_the_model_an_alias_already_names_just_closes_the_review(review, h100, connections):
    GpuAlias.objects.create(name="hopper-mystery-80g", gpu_model=h100)

    gpu_name_review_map(review=review, gpu_model=h100, now=timezone.now())

    assert GpuAlias.objects.filter(normalized=review.normalized).count() == 1
    assert GpuNameReview.objects.get().resolved_at is not None


def test_resolving_refuses_a_name_that_already_maps_to_another_model(review, h100, connections):
    GpuAlias.objects.create(name="Hopper Mystery 80G", gpu_model=GpuModel.objects.get(slug="a100-sxm-80"))

    with pytest.raises(ValidationError, match="already maps to"):
        gpu_name_review_map(review=review, gpu_model=h100, now=timezone.now())

    assert GpuNameReview.objects.get().resolved_at is None
    assert SyncConnection.objects.get(pk=connections["acme"].pk).next_sync_at == LATER


def test_a_resolved_name_seen_unknown_again_goes_back_into_the_queue(review, h100, acme):
    gpu_name_review_map(review=review, gpu_model=h100, now=timezone.now())
    GpuAlias.objects.filter(normalized=review.normalized).delete()

    services.gpu_names_unknown_record(provider=acme, names={"Hopper Mystery 80G": 2}, now=timezone.now())

    review.refresh_from_db()
    assert (review.resolved_at, review.offers_held) == (None, 2)


# --- Admin ---------------------------------------------------------------------------------


def changelist() -> str:
    return reverse("admin:marketplace_gpunamereview_changelist")


def test_the_queue_lists_names_with_providers_and_held_offers(admin_client, review, beta):
    review.providers.add(beta)
    GpuNameReview.objects.create(raw_name="Old Name", normalized="oldname", resolved_at=timezone.now())

    response = admin_client.get(changelist(), {"resolved": "no"})

    assert response.status_code == 200
    text = response.text
    assert "Hopper Mystery 80G" in text and "Acme GPU, Beta Compute" in text
    assert "Old Name" not in text
    assert "Old Name" in admin_client.get(changelist(), {"resolved": "yes"}).text
    assert admin_client.get(changelist(), {"q": "hopper"}).status_code == 200


def test_the_queue_cannot_be_added_to_by_hand(admin_client):
    assert admin_client.get(reverse("admin:marketplace_gpunamereview_add")).status_code == 403


def test_mapping_on_the_change_form(admin_client, review, h100, connections):
    url = reverse("admin:marketplace_gpunamereview_change", args=[review.pk])
    assert admin_client.get(url).status_code == 200

    response = admin_client.post(url, {"gpu_model": h100.pk}, follow=True)

    assert response.status_code == 200
    assert "now maps to H100 SXM" in response.text
    assert GpuAlias.objects.resolve("hopper mystery 80g") == h100
    assert GpuNameReview.objects.get().resolved_at is not None
    assert SyncConnection.objects.get(pk=connections["acme"].pk).next_sync_at < LATER
    # Resolved: the mapping is the alias now, no longer editable here.
    assert 'name="gpu_model"' not in admin_client.get(url).text


def test_the_change_form_explains_a_clash_with_an_existing_alias(admin_client, review, h100):
    GpuAlias.objects.create(name="Hopper Mystery 80G", gpu_model=GpuModel.objects.get(slug="a100-sxm-80"))
    url = reverse("admin:marketplace_gpunamereview_change", args=[review.pk])

    response = admin_client.post(url, {"gpu_model": h100.pk})

    assert response.status_code == 200
    assert "already maps to" in response.text
    assert GpuNameReview.objects.get().resolved_at is None


def test_the_action_maps_several_names_at_once(admin_client, review, h100, acme, connections):
    services.gpu_names_unknown_record(provider=acme, names={"H100-MYSTERY": 1}, now=timezone.now())
    pks = list(GpuNameReview.objects.values_list("pk", flat=True))
    data = {"action": "map_to_gpu_model", "_selected_action": pks}

    page = admin_client.post(changelist(), data)
    assert page.status_code == 200 and "Map GPU names to a GPU model" in page.text
    assert not GpuAlias.objects.filter(normalized="h100mystery").exists()  # nothing yet

    response = admin_client.post(changelist(), {**data, "apply": "yes", "gpu_model": h100.pk}, follow=True)

    assert response.status_code == 200
    assert GpuAlias.objects.resolve("H100-MYSTERY") == h100
    assert GpuAlias.objects.resolve("Hopper Mystery 80G") == h100
    assert not GpuNameReview.objects.filter(resolved_at__isnull=True).exists()


def test_spellings_that_normalize_alike_are_one_entry_with_their_counts_added(acme):
    from django.utils import timezone

    from marketplace.models import GpuNameReview
    from marketplace.services import gpu_names_unknown_record

    gpu_names_unknown_record(provider=acme, names={"H9 X": 2, "h9-x": 3}, now=timezone.now())

    review = GpuNameReview.objects.get()
    assert (review.normalized, review.offers_held) == ("h9x", 5)

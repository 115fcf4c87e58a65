"""Django admin for the developer side: the GPU catalogue, its aliases, offers and their history."""

from datetime import timedelta

import pytest
from django.utils import timezone

from marketplace.models import GpuAlias, GpuModel, Offer, OfferSnapshot
from portal.testing import admin_url, make_offer
from providers.models import Provider, Region

pytestmark = pytest.mark.django_db


@pytest.fixture
def offer(acme, acme_fra):
    return make_offer(acme, acme_fra)


@pytest.fixture
def objects(offer):
    """One object of every developer-side model."""
    return {
        GpuModel: GpuModel.objects.get(slug="h100-sxm"),
        GpuAlias: GpuAlias.objects.filter(gpu_model__slug="h100-sxm").first(),
        Offer: offer,
        OfferSnapshot: OfferSnapshot.objects.create(offer=offer, price_per_gpu_hour="2.50", nodes_available=4),
    }


@pytest.mark.parametrize("model", [GpuModel, GpuAlias, Offer, OfferSnapshot])
def test_every_page_opens_for_a_superuser(admin_client, objects, model):
    obj = objects[model]

    assert admin_client.get(admin_url(model, "changelist")).status_code == 200
    assert admin_client.get(admin_url(model, "changelist"), {"q": "h100"}).status_code == 200
    assert admin_client.get(admin_url(model, "change", obj.pk)).status_code == 200
    if model is not OfferSnapshot:
        assert admin_client.get(admin_url(model, "add")).status_code == 200


def test_the_offer_list_does_not_grow_queries_with_rows(admin_client, acme, acme_fra, django_assert_max_num_queries):
    for _ in range(3):
        make_offer(acme, acme_fra)
    with django_assert_max_num_queries(20) as few:
        admin_client.get(admin_url(Offer, "changelist"))
    for _ in range(20):
        make_offer(acme, acme_fra)

    with django_assert_max_num_queries(len(few.captured_queries)):
        admin_client.get(admin_url(Offer, "changelist"))


def test_offers_are_filtered_by_country_and_gpu(admin_client, acme, acme_fra, beta, beta_nyc):
    german = make_offer(acme, acme_fra, gpu="h100-sxm")
    make_offer(beta, beta_nyc, gpu="h100-sxm")
    make_offer(acme, acme_fra, gpu="a100-sxm-80")

    response = admin_client.get(
        admin_url(Offer, "changelist"), {"country": "DE", "gpu_model__id__exact": german.gpu_model_id}
    )

    assert list(response.context["cl"].result_list) == [german]


def test_offers_are_withdrawn_never_deleted(admin_client, offer):
    response = admin_client.post(
        admin_url(Offer, "changelist"), {"action": "withdraw", "_selected_action": [offer.pk]}, follow=True
    )

    assert "1 offer withdrawn." in response.content.decode()
    assert Offer.objects.get(pk=offer.pk).status == Offer.Status.WITHDRAWN
    assert admin_client.get(admin_url(Offer, "delete", offer.pk)).status_code == 403
    assert admin_client.post(admin_url(Offer, "delete", offer.pk), {"post": "yes"}).status_code == 403
    assert Offer.objects.filter(pk=offer.pk).exists()


def test_snapshots_are_read_only(admin_client, objects):
    snapshot = objects[OfferSnapshot]

    assert admin_client.get(admin_url(OfferSnapshot, "add")).status_code == 403
    response = admin_client.post(admin_url(OfferSnapshot, "change", snapshot.pk), {"nodes_available": 99})
    assert response.status_code == 403
    assert OfferSnapshot.objects.get(pk=snapshot.pk).nodes_available == 4


def test_an_alias_is_added_to_a_gpu_model(admin_client):
    b200 = GpuModel.objects.get(slug="b200")

    response = admin_client.post(admin_url(GpuAlias, "add"), {"gpu_model": b200.pk, "name": "Blackwell B200 SXM"})

    assert response.status_code == 302
    assert GpuAlias.objects.resolve("blackwell-b200-sxm") == b200


def test_an_alias_that_already_maps_somewhere_is_refused(admin_client):
    h100 = GpuModel.objects.get(slug="h100-sxm")
    count = GpuAlias.objects.count()

    response = admin_client.post(admin_url(GpuAlias, "add"), {"gpu_model": h100.pk, "name": "NVIDIA B200"})

    assert response.status_code == 200
    assert "already maps to B200 180GB" in response.content.decode()
    assert GpuAlias.objects.count() == count


def offer_form(offer: Offer, **changes) -> dict:
    data = {
        "region": offer.region_id,
        "gpu_model": offer.gpu_model_id,
        "external_id": offer.external_id,
        "gpus_per_node": offer.gpus_per_node,
        "pricing_type": offer.pricing_type,
        "price_per_gpu_hour": offer.price_per_gpu_hour,
        "currency": offer.currency,
        "nodes_available": offer.nodes_available,
        "nodes_total": offer.nodes_total,
        "vcpus": offer.vcpus,
        "ram_gb": offer.ram_gb,
    }
    data.update(changes)
    return {name: "" if value is None else value for name, value in data.items()}


def test_an_admin_edit_goes_through_the_offer_service(admin_client, offer):
    Offer.objects.filter(pk=offer.pk).update(last_verified_at="2026-01-01T00:00:00Z")

    response = admin_client.post(admin_url(Offer, "change", offer.pk), offer_form(offer, price_per_gpu_hour="1.99"))

    assert response.status_code == 302
    edited = Offer.objects.get(pk=offer.pk)
    assert str(edited.price_per_gpu_hour) == "1.9900"
    assert edited.last_verified_at > timezone.now() - timedelta(minutes=1)  # a hand edit verifies it
    assert edited.snapshots.order_by("-recorded_at").first().price_per_gpu_hour == edited.price_per_gpu_hour


def test_an_admin_edit_is_refused_with_the_models_message(admin_client, offer):
    response = admin_client.post(
        admin_url(Offer, "change", offer.pk), offer_form(offer, pricing_type="reserved", min_term_months="")
    )

    assert response.status_code == 200
    assert "A reserved price needs a minimum term." in response.text
    assert Offer.objects.get(pk=offer.pk).pricing_type == "on_demand"


def test_withdrawn_offers_can_be_listed_again(admin_client, offer):
    Offer.objects.filter(pk=offer.pk).update(status=Offer.Status.WITHDRAWN)

    response = admin_client.post(
        admin_url(Offer, "changelist"), {"action": "reactivate", "_selected_action": [offer.pk]}, follow=True
    )

    assert "1 offer listed again." in response.text
    assert Offer.objects.get(pk=offer.pk).status == Offer.Status.ACTIVE


# --- Providers, as the marketplace sees them -------------------------------------------------


def test_suspend_selected_providers(admin_client, acme, beta, acme_fra):
    make_offer(acme, acme_fra)

    response = admin_client.post(
        admin_url(Provider, "changelist"), {"action": "suspend", "_selected_action": [acme.pk, beta.pk]}, follow=True
    )

    assert "2 providers suspended." in response.content.decode()
    assert set(Provider.objects.values_list("status", flat=True)) == {Provider.Status.SUSPENDED}
    assert Offer.objects.count() == 1  # nothing deleted...
    assert not Offer.objects.listed().exists()  # ...but nothing listed


def test_the_provider_list_counts_regions_and_offers(admin_client, acme, acme_fra):
    make_offer(acme, acme_fra)
    make_offer(acme, acme_fra, status=Offer.Status.WITHDRAWN)
    Region.objects.create(provider=acme, code="eu-par-1", country="FR")

    response = admin_client.get(admin_url(Provider, "changelist"))

    row = response.context["cl"].result_list.get(pk=acme.pk)
    assert (row.region_count, row.active_offer_count) == (2, 1)

"""Connection health on the dashboard: badges, the paused banner, resuming by saving, safe base URLs,
the kinds and their help, and the GPU names of this provider awaiting review."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from marketplace.models import GpuNameReview
from marketplace.services import gpu_names_unknown_record
from sync import services
from sync.adapters.registry import ADAPTERS
from sync.models import SyncConnection

pytestmark = pytest.mark.django_db

LATER = timezone.now() + timedelta(hours=1)
ERROR = "The server answered 401 Unauthorized: the API key was rejected. Edit the connection to enter a valid one."


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def make(provider, name, **fields) -> SyncConnection:
    return SyncConnection.objects.create(provider=provider, name=name, base_url=f"https://{name}.example/", **fields)


@pytest.fixture
def paused(acme):
    """Paused by the sync engine after 5 failures in a row."""
    return make(
        acme,
        "paused",
        enabled=False,
        paused_at=timezone.now(),
        consecutive_failures=5,
        last_error=ERROR,
        next_sync_at=LATER,
    )


def form_data(**extra) -> dict:
    data = {"kind": "feed", "name": "paused", "base_url": "https://fixed.example/feed.json", "interval_seconds": 300}
    data.update(extra)
    return data


def test_each_health_has_its_badge_on_list_detail_and_overview(alice_client, acme, paused):
    connections = {
        "ok": make(acme, "good", last_success_at=timezone.now()),
        "failing": make(acme, "broken", consecutive_failures=2, last_error="timed out"),
        "never": make(acme, "new"),
        "off": make(acme, "off", enabled=False),
        "paused": paused,
    }
    badges = {
        "ok": "health-ok",
        "failing": "health-failing",
        "never": "health-never",
        "off": "health-paused",
        "paused": "health-paused",
    }
    pages = [
        alice_client.get(reverse("dashboard:connection_list", args=[acme.slug])).text,
        alice_client.get(reverse("dashboard:provider", args=[acme.slug])).text,
    ]
    for page in pages:
        for badge in badges.values():
            assert badge in page
        assert "Paused after failures" in page and "Failing (2 runs in a row)" in page
    for key, connection in connections.items():
        page = alice_client.get(reverse("dashboard:connection_detail", args=[acme.slug, connection.pk])).text
        assert badges[key] in page


def test_a_paused_connection_says_why_and_how_to_resume(alice_client, acme, paused):
    edit_url = reverse("dashboard:connection_edit", args=[acme.slug, paused.pk])
    for url in [
        reverse("dashboard:connection_detail", args=[acme.slug, paused.pk]),
        reverse("dashboard:connection_list", args=[acme.slug]),
        reverse("dashboard:provider", args=[acme.slug]),
        edit_url,
    ]:
        page = alice_client.get(url).text
        assert "is paused after 5 failed syncs:" in page, url
        assert "the API key was rejected" in page
        assert f'Fix the settings and <a href="{edit_url}">save</a> to resume.' in page


def test_saving_a_paused_connection_resumes_it(alice_client, acme, paused):
    response = alice_client.post(reverse("dashboard:connection_edit", args=[acme.slug, paused.pk]), form_data())

    assert response.status_code == 302
    paused.refresh_from_db()
    assert (paused.enabled, paused.paused_at, paused.consecutive_failures) == (True, None, 0)
    assert paused.next_sync_at <= timezone.now()
    assert paused.base_url == "https://fixed.example/feed.json"
    assert SyncConnection.objects.due().filter(pk=paused.pk).exists()


def test_saving_a_connection_paused_by_hand_keeps_it_paused(alice_client, acme):
    off = make(acme, "off", enabled=False, next_sync_at=LATER)

    alice_client.post(reverse("dashboard:connection_edit", args=[acme.slug, off.pk]), form_data(name="off"))

    off.refresh_from_db()
    assert (off.enabled, off.next_sync_at) == (False, LATER)


def test_enabling_a_paused_connection_clears_the_pause(alice_client, acme, paused):
    alice_client.post(reverse("dashboard:connection_enable", args=[acme.slug, paused.pk]))

    paused.refresh_from_db()
    assert (paused.enabled, paused.paused_at, paused.consecutive_failures) == (True, None, 0)


def test_an_edit_does_not_overwrite_what_a_sync_wrote_meanwhile(acme):
    connection = make(acme, "busy")
    stale_copy = SyncConnection.objects.get(pk=connection.pk)  # loaded by the edit form
    now = timezone.now()
    SyncConnection.objects.filter(pk=connection.pk).update(  # a run finishes meanwhile
        last_run_at=now, last_success_at=now, last_error="", consecutive_failures=0
    )

    services.connection_update(
        connection=stale_copy, kind="feed", name="renamed", base_url="https://busy.example/", interval_seconds=60
    )

    connection.refresh_from_db()
    assert (connection.name, connection.interval_seconds) == ("renamed", 60)
    assert (connection.last_run_at, connection.last_success_at) == (now, now)


def test_an_edit_resumes_a_connection_the_sync_paused_after_the_form_was_loaded(acme):
    connection = make(acme, "late")
    stale_copy = SyncConnection.objects.get(pk=connection.pk)
    SyncConnection.objects.filter(pk=connection.pk).update(enabled=False, paused_at=timezone.now())

    services.connection_update(
        connection=stale_copy, kind="feed", name="late", base_url="https://late.example/", interval_seconds=60
    )

    connection.refresh_from_db()
    assert (connection.enabled, connection.paused_at) == (True, None)


# --- The form: kinds, help, safe base URLs ----------------------------------------------------


def test_the_form_offers_every_adapter_kind_with_its_help(alice_client, acme):
    page = alice_client.get(reverse("dashboard:connection_create", args=[acme.slug])).text

    for kind, adapter in ADAPTERS.items():
        assert f'<option value="{kind}"' in page
        assert f'id="kind-help-{kind}"' in page and str(adapter.label) in page
    if "verda" in ADAPTERS:
        assert "client_id:client_secret" in page


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://inventory.example/feed.json", "Use an https:// URL"),
        ("https://127.0.0.1/feed.json", "loopback"),
        ("https://10.1.2.3/feed.json", "private network"),
        ("https://169.254.169.254/latest/meta-data/", "link-local"),
        ("https://[::1]/feed.json", "loopback"),
    ],
)
def test_unsafe_base_urls_are_refused_in_production_settings(alice_client, acme, settings, url, message):
    settings.SYNC_ALLOW_PRIVATE_ADDRESSES = False

    response = alice_client.post(reverse("dashboard:connection_create", args=[acme.slug]), form_data(base_url=url))

    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["base_url"])
    assert not SyncConnection.objects.exists()


def test_local_addresses_are_allowed_when_the_setting_allows_them(alice_client, acme, settings):
    settings.SYNC_ALLOW_PRIVATE_ADDRESSES = True

    url = "http://127.0.0.1:8105/feed.json"
    alice_client.post(reverse("dashboard:connection_create", args=[acme.slug]), form_data(base_url=url))

    assert SyncConnection.objects.get().base_url == url


@pytest.mark.skipif("verda" not in ADAPTERS, reason="the Verda adapter is not registered")
def test_verda_credentials_need_the_client_id_and_secret(alice_client, acme):
    url = reverse("dashboard:connection_create", args=[acme.slug])
    response = alice_client.post(url, form_data(kind="verda", base_url="https://api.verda.com", api_key="only-an-id"))

    assert "client_id:client_secret" in " ".join(response.context["form"].errors["api_key"])

    alice_client.post(url, form_data(kind="verda", base_url="https://api.verda.com", api_key="cid:secret"))
    assert SyncConnection.objects.get().get_credentials() == "cid:secret"


# --- GPU names awaiting review ----------------------------------------------------------------


def test_the_provider_sees_its_gpu_names_awaiting_review(alice_client, acme, beta):
    now = timezone.now()
    gpu_names_unknown_record(provider=acme, names={"Hopper Mystery 80G": 3}, now=now)
    gpu_names_unknown_record(provider=beta, names={"Beta Secret GPU": 1}, now=now)
    gpu_names_unknown_record(provider=acme, names={"Old Name": 1}, now=now)
    GpuNameReview.objects.filter(raw_name="Old Name").update(resolved_at=now)
    connection = make(acme, "feed")

    for url in [
        reverse("dashboard:provider", args=[acme.slug]),
        reverse("dashboard:connection_detail", args=[acme.slug, connection.pk]),
    ]:
        page = alice_client.get(url).text
        assert "GPU names awaiting review" in page
        assert "Hopper Mystery 80G" in page
        assert "Beta Secret GPU" not in page  # another provider's
        assert "Old Name" not in page  # resolved


def test_no_review_section_without_unknown_names(alice_client, acme):
    assert "GPU names awaiting review" not in alice_client.get(reverse("dashboard:provider", args=[acme.slug])).text

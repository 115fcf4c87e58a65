"""Nobody sees or edits what belongs to another provider: every dashboard URL, GET and POST.

charlie owns Beta. Acme's objects must be 404 for him under Acme's slug and under his own slug
(Beta's), and anonymous visitors are sent to the login page.
"""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from dashboard import urls as dashboard_urls
from deals import services as deal_services
from deals.models import Message, Quote, Recipient
from deals.tests.support import TODAY, file_request, quote_values, send_quote
from marketplace import services as offer_services
from marketplace.models import CapacityWindow, Offer
from portal.testing import certify, make_offer
from providers import services as provider_services
from providers.models import Certification, Invitation, Membership, Provider, ProviderCertification
from sync import services as sync_services
from sync.models import ApiToken, ConnectionTest, SyncConnection, SyncRun

# (url name, method, objects in the URL, POST data that would be valid for the object's owner)
OFFER_DATA = {
    "gpu_model": "",  # filled by the fixture: a GpuModel pk
    "gpus_per_node": 8,
    "pricing_type": "on_demand",
    "price_per_gpu_hour": "1.00",
    "currency": "USD",
    "nodes_available": 1,
    "nodes_total": 2,
}
CASES = [
    ("dashboard:provider", "get", [], None),
    ("dashboard:region_list", "get", [], None),
    ("dashboard:region_create", "get", [], None),
    ("dashboard:region_create", "post", [], {"code": "xx-1", "country": "FR"}),
    ("dashboard:region_edit", "get", ["region"], None),
    ("dashboard:region_edit", "post", ["region"], {"code": "hacked", "country": "FR"}),
    ("dashboard:sovereignty", "get", [], None),
    ("dashboard:sovereignty", "post", [], {"legal_entity": "Hacked Ltd", "incorporation_country": "RU"}),
    ("dashboard:certification_create", "get", [], None),
    ("dashboard:certification_create", "post", [], "certification"),
    ("dashboard:certification_edit", "get", ["certification"], None),
    ("dashboard:certification_edit", "post", ["certification"], "certification"),
    ("dashboard:certification_delete", "post", ["certification"], {}),
    ("dashboard:offer_list", "get", [], None),
    ("dashboard:offer_create", "get", [], None),
    ("dashboard:offer_create", "post", [], "offer"),
    ("dashboard:offer_edit", "get", ["offer"], None),
    ("dashboard:offer_edit", "post", ["offer"], "offer"),
    ("dashboard:offer_withdraw", "post", ["offer"], {}),
    ("dashboard:offer_reactivate", "post", ["offer"], {}),
    ("dashboard:offer_confirm", "post", ["offer"], {}),
    ("dashboard:offer_export", "get", [], None),
    ("dashboard:offer_import", "get", [], None),
    ("dashboard:offer_import", "post", [], "csv"),
    ("dashboard:offer_import_confirm", "post", [], {"token": "x"}),
    ("dashboard:connection_list", "get", [], None),
    ("dashboard:connection_create", "get", [], None),
    (
        "dashboard:connection_create",
        "post",
        [],
        {"kind": "feed", "name": "x", "base_url": "https://x.example/f.json", "interval_seconds": 60},
    ),
    ("dashboard:connection_detail", "get", ["connection"], None),
    ("dashboard:feed_format", "get", [], None),
    ("dashboard:feed_format_schema", "get", [], None),
    ("dashboard:connection_edit", "get", ["connection"], None),
    (
        "dashboard:connection_edit",
        "post",
        ["connection"],
        {"kind": "feed", "name": "hacked", "base_url": "https://evil.example/f.json", "interval_seconds": 60},
    ),
    ("dashboard:connection_sync", "post", ["connection"], {}),
    ("dashboard:connection_test", "post", ["connection"], {}),
    ("dashboard:connection_test_status", "get", ["connection", "test"], None),
    ("dashboard:connection_enable", "post", ["connection"], {}),
    ("dashboard:connection_disable", "post", ["connection"], {}),
    ("dashboard:run_detail", "get", ["connection", "run"], None),
    ("dashboard:request_inbox", "get", [], None),
    ("dashboard:request_detail", "get", ["request"], None),
    ("dashboard:quote_submit", "post", ["request"], "quote"),
    ("dashboard:request_decline", "post", ["request"], {"reason": "No capacity then."}),
    ("dashboard:request_message", "post", ["request"], {"body": "Which storage do you need?"}),
    ("dashboard:quote_withdraw", "post", ["request", "quote"], {}),
    ("dashboard:agreement_detail", "get", ["agreement"], None),
    ("dashboard:window_list", "get", [], None),
    ("dashboard:window_create", "get", [], None),
    ("dashboard:window_create", "post", [], "window"),
    ("dashboard:window_edit", "get", ["window"], None),
    ("dashboard:window_edit", "post", ["window"], "window"),
    ("dashboard:window_withdraw", "post", ["window"], {}),
    ("dashboard:window_export", "get", [], None),
    ("dashboard:window_import", "get", [], None),
    ("dashboard:window_import", "post", [], "window_csv"),
    ("dashboard:demand", "get", [], None),
    ("dashboard:token_list", "get", [], None),
    ("dashboard:token_create", "post", [], {"name": "stolen"}),
    ("dashboard:token_revoke", "post", ["token"], {}),
    ("dashboard:history", "get", [], None),
    ("dashboard:profile", "get", [], None),
    ("dashboard:profile", "post", [], {"hq_country": "RU", "website": "https://evil.example", "vat_number": "X"}),
    ("dashboard:team", "get", [], None),
    ("dashboard:member_invite", "post", [], {"email": "dave@example.com", "role": "owner"}),
    ("dashboard:invitation_revoke", "post", ["invitation"], {}),
    ("dashboard:member_role", "post", ["membership"], {"role": "owner"}),
    ("dashboard:member_remove", "post", ["membership"], {}),
]
# Which URL argument each object of a case fills.
KWARGS = {"run": "run_pk", "request": "request_pk", "quote": "quote_pk", "test": "test_pk"}
# Pages for the provider's owners only: its staff get 403.
OWNER_ONLY = {"dashboard:history"}
IDS = [f"{method.upper()} {name.split(':')[1]}" for name, method, _o, _d in CASES]
WINDOW_CSV = (
    "external_id,region,gpu,gpus,from,until,price_per_gpu_hour,currency\n"
    "w-1,eu-fra-1,h100-sxm,8,2030-01-01,2030-02-01,,\n"
)
CSV = (
    "external_id,region,gpu,gpus_per_node,vcpus,ram_gb,storage_gb,gpu_interconnect,network,pricing_type,"
    "min_term_months,price_per_gpu_hour,currency,nodes_available,nodes_total\n"
    "new-1,eu-fra-1,h100-sxm,8,,,,,,on_demand,,1.00,USD,1,2\n"
)


@pytest.fixture
def world(acme, beta, acme_fra, beta_nyc, dave):
    """Acme's and Beta's objects, one of each kind: each has a request routed to it (by dave, for
    its own country only), its quote on it, an agreement on another request, a capacity window."""
    objects = {}
    for key, provider, region in [("acme", acme, acme_fra), ("beta", beta, beta_nyc)]:
        connection = SyncConnection.objects.create(
            provider=provider, name=f"{provider.slug} feed", base_url="https://feed.example/x.json"
        )
        offer = make_offer(provider, region)
        capacity_request = file_request(dave, countries=[region.country.code], country_groups=[])
        quote = send_quote(capacity_request, provider)
        won = file_request(dave, countries=[region.country.code], country_groups=[])
        agreement = deal_services.quote_accept(quote=send_quote(won, provider), developer=dave)
        window = offer_services.window_create(
            provider=provider,
            region=region,
            gpu_model=offer.gpu_model,
            gpus=64,
            starts_on=TODAY + timedelta(days=30),
            ends_on=TODAY + timedelta(days=120),
        )
        token, _secret = sync_services.token_create(
            provider=provider, name=f"{provider.slug} exporter", user=None, scopes=[ApiToken.Scope.INVENTORY_WRITE]
        )
        objects[key] = {
            "token": token,
            "region": region,
            "offer": offer,
            "connection": connection,
            "run": SyncRun.objects.create(connection=connection),
            "request": capacity_request,
            "quote": quote,
            "agreement": agreement,
            "window": window,
            "test": ConnectionTest.objects.create(connection=connection),
            "certification": certify(provider, "soc2"),
            # Acme's: bob, its staff; Beta's: charlie, its owner.
            "membership": provider.memberships.order_by("role").last(),
            "invitation": provider_services.invitation_create(
                provider=provider, by=provider.memberships.get(role="owner").user, email=f"new@{provider.slug}.example"
            ),
        }
    return objects


def _url(name: str, slug: str, objects: list[str], owned: dict) -> str:
    kwargs = {"slug": slug}
    for key in objects:
        kwargs[KWARGS.get(key, "pk")] = owned[key].pk
    return reverse(name, kwargs=kwargs)


def _request(client, method: str, url: str, data, world):
    if method == "get":
        return client.get(url)
    if data == "offer":
        # Valid for Acme: Acme's region, so only the ownership check can refuse it.
        data = {**OFFER_DATA, "region": world["acme"]["region"].pk, "gpu_model": world["acme"]["offer"].gpu_model_id}
    if data == "certification":
        soc2 = Certification.objects.get(slug="soc2")
        data = {"certification": soc2.pk, "scope": "provider", "valid_until": "2031-01-01", "issuer": "Hacked"}
    if data == "csv":
        data = {"file": SimpleUploadedFile("offers.csv", CSV.encode())}
    if data == "window_csv":
        data = {"file": SimpleUploadedFile("windows.csv", WINDOW_CSV.encode())}
    if data == "quote":
        data = {
            key: str(value) for key, value in quote_values(world["acme"]["request"], price_per_gpu_hour="0.01").items()
        }
    if data == "window":
        acme = world["acme"]
        data = {
            "region": acme["region"].pk,
            "gpu_model": acme["offer"].gpu_model_id,
            "gpus": 1,
            "starts_on": str(TODAY + timedelta(days=10)),
            "ends_on": str(TODAY + timedelta(days=20)),
        }
    return client.post(url, data)


def _snapshot(world):
    """What a forbidden request must not change."""
    acme = world["acme"]
    offer = Offer.objects.get(pk=acme["offer"].pk)
    connection = SyncConnection.objects.get(pk=acme["connection"].pk)
    return (
        list(Recipient.objects.order_by("pk").values_list("status", "declined_reason")),
        list(Quote.objects.order_by("pk").values_list("status", "price_per_gpu_hour")),
        Message.objects.count(),
        list(CapacityWindow.objects.order_by("pk").values_list("status", "gpus", "starts_on")),
        acme["region"].provider.regions.values_list("code", "country").order_by("pk")[::1],
        (offer.status, offer.price_per_gpu_hour, offer.last_verified_at, offer.stale_at),
        Offer.objects.count(),
        (connection.name, connection.base_url, connection.enabled, connection.next_sync_at),
        SyncConnection.objects.count(),
        list(ApiToken.objects.order_by("pk").values_list("name", "revoked_at")),
        ConnectionTest.objects.count(),
        Provider.objects.values_list(
            "legal_entity", "incorporation_country", "hq_country", "website", "vat_number"
        ).get(pk=offer.provider_id),
        list(Membership.objects.order_by("pk").values_list("user_id", "provider_id", "role")),
        list(Invitation.objects.order_by("pk").values_list("email", "role", "revoked_at")),
        sorted(ProviderCertification.objects.values_list("pk", "issuer", "valid_until", "verified_at")),
    )


def test_every_dashboard_url_is_covered():
    names = {f"dashboard:{pattern.name}" for pattern in dashboard_urls.urlpatterns} - {"dashboard:home"}
    assert names == {name for name, *_rest in CASES}


@pytest.mark.parametrize(("name", "method", "objects", "data"), CASES, ids=IDS)
def test_it_is_404_for_another_providers_slug(
    client, charlie, world, django_capture_on_commit_callbacks, name, method, objects, data
):
    client.force_login(charlie)
    before = _snapshot(world)
    url = _url(name, "acme-gpu", objects, world["acme"])
    with django_capture_on_commit_callbacks() as callbacks:
        response = _request(client, method, url, data, world)
    assert response.status_code == 404
    assert _snapshot(world) == before
    assert callbacks == []  # no sync queued


@pytest.mark.parametrize(
    ("name", "method", "objects", "data"),
    [case for case in CASES if case[2]],
    ids=[i for i, c in zip(IDS, CASES, strict=True) if c[2]],
)
def test_it_is_404_for_another_providers_objects_under_own_slug(
    client, charlie, world, django_capture_on_commit_callbacks, name, method, objects, data
):
    client.force_login(charlie)
    before = _snapshot(world)
    url = _url(name, "beta-compute", objects, world["acme"])
    with django_capture_on_commit_callbacks() as callbacks:
        response = _request(client, method, url, data, world)
    assert response.status_code == 404
    assert _snapshot(world) == before
    assert callbacks == []


def test_a_run_of_another_connection_of_the_same_provider_is_404_under_the_wrong_connection(client, alice, world):
    other = SyncConnection.objects.create(provider=world["acme"]["region"].provider, base_url="https://b.example/")
    client.force_login(alice)
    url = reverse(
        "dashboard:run_detail", kwargs={"slug": "acme-gpu", "pk": other.pk, "run_pk": world["acme"]["run"].pk}
    )
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(("name", "method", "objects", "data"), CASES, ids=IDS)
def test_anonymous_visitors_are_sent_to_login(client, world, name, method, objects, data):
    url = _url(name, "acme-gpu", objects, world["acme"])
    before = _snapshot(world)
    response = _request(client, method, url, data, world)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")
    assert _snapshot(world) == before


@pytest.mark.parametrize(("name", "method", "objects", "data"), [c for c in CASES if c[1] == "get"])
def test_staff_of_the_provider_can_open_every_page_but_the_owners(client, bob, world, name, method, objects, data):
    client.force_login(bob)
    response = client.get(_url(name, "acme-gpu", objects, world["acme"]))
    assert response.status_code == (403 if name in OWNER_ONLY else 200)


@pytest.mark.parametrize("name", sorted(OWNER_ONLY))
def test_owners_open_their_pages(client, alice, world, name):
    client.force_login(alice)
    assert client.get(reverse(name, kwargs={"slug": "acme-gpu"})).status_code == 200


def test_developer_without_provider_sees_an_invitation_to_apply(client, dave):
    client.force_login(dave)
    response = client.get(reverse("dashboard:home"))
    assert response.status_code == 200
    assert reverse("accounts:apply_provider") in response.text

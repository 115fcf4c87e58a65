"""``manage.py load_demo``: the ten launch partners, their feeds, history and demo logins, idempotently."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.services import email_is_verified
from deals.models import CapacityRequest, Quote, SavedSearch
from deals.services import request_file
from deals.tests.support import request_values
from demo.load import MANUAL_OFFERS
from demo.partners import PARTNERS, partner_offers
from demo.quotes import demo_quotes
from marketplace.models import Offer, OfferSnapshot
from providers.models import Membership, Provider, ProviderCertification, Region
from sync.models import SyncConnection, SyncRun

T0 = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
# The feeds' offers plus the demo provider's hand-maintained ones.
DEMO_OFFERS = sum(len(partner_offers(partner)) for partner in PARTNERS) + len(MANUAL_OFFERS)

pytestmark = pytest.mark.django_db


def load_demo(*args) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    models = [Provider, Region, ProviderCertification, SyncConnection, Offer, OfferSnapshot, User, Membership]
    return {model.__name__: model.objects.count() for model in models}


def test_it_loads_the_ten_launch_partners_with_their_regions():
    with time_machine.travel(T0, tick=False):
        load_demo("--no-sync")

    providers = Provider.objects.exclude(slug="sandbox-cloud").order_by("name")
    assert [p.name for p in providers] == sorted(partner.name for partner in PARTNERS)
    assert {p.status for p in providers} == {Provider.Status.APPROVED}
    nebius = Provider.objects.get(slug="nebius")
    assert nebius.hq_country == "NL"
    assert set(nebius.regions.values_list("country", flat=True)) == {"FI", "FR", "IS", "US", "GB"}
    assert nebius.regions.get(code="eu-north1").city == "Mäntsälä"
    assert set(nebius.certification_records.values_list("certification__slug", flat=True)) >= {"iso27001", "soc2"}
    assert set(Region.objects.filter(provider__slug="yotta").values_list("city", flat=True)) == {
        "Navi Mumbai",
        "Greater Noida",
        "Gandhinagar",
    }


def test_partners_carry_their_operators_facts_and_certification_records():
    with time_machine.travel(T0, tick=False):
        load_demo("--no-sync")

    operators = {p.slug: (p.incorporation_country.code, p.parent_country.code) for p in Provider.objects.all()}
    assert {slug: operators[slug] for slug in ["coreweave", "nebius", "nscale", "yotta", "softbank"]} == {
        "coreweave": ("US", "US"),
        "nebius": ("NL", "NL"),
        "nscale": ("GB", "GB"),
        "yotta": ("IN", "IN"),
        "softbank": ("JP", "JP"),
    }
    nebius = Provider.objects.get(slug="nebius")
    assert (nebius.legal_entity, nebius.parent_name, nebius.dpa_offered) == ("Nebius B.V.", "Nebius Group N.V.", True)
    # GDPR DPA is a document, not a certification; the demo shows every state a record can be in.
    records = ProviderCertification.objects.select_related("provider", "certification")
    states = {(r.provider.slug, r.certification.slug): r.state(T0.date()) for r in records}
    assert not any(slug == "gdpr" for _, slug in states)
    assert states[("nebius", "iso27001")] == "valid"
    assert states[("foxconn", "iso50001")] == "expired"
    assert states[("nscale", "soc2")] == "unverified"
    pci = records.get(provider__slug="yotta", certification__slug="pci-dss")
    assert (pci.scope, [region.code for region in pci.regions.all()]) == ("regions", ["NM1"])


def test_it_connects_each_partner_to_its_feed_on_this_site(settings):
    settings.SITE_URL = "http://127.0.0.1:8000"

    with time_machine.travel(T0, tick=False):
        load_demo("--no-sync")

    connections = SyncConnection.objects.select_related("provider")
    assert connections.count() == 10
    for connection in connections:
        assert connection.kind == SyncConnection.FEED
        assert connection.base_url == f"http://127.0.0.1:8000/demo/feeds/{connection.provider.slug}.json"
        assert 30 <= connection.interval_seconds <= 90
        assert connection.enabled
        assert connection.next_sync_at == T0
    assert len({c.interval_seconds for c in connections}) > 5  # not all due at the same moment


def test_it_fills_the_catalog_at_once_from_the_feeds():
    with time_machine.travel(T0, tick=False):
        out = load_demo()

    assert Offer.objects.listed().fresh().count() == DEMO_OFFERS
    assert SyncRun.objects.filter(outcome=SyncRun.Outcome.SUCCESS).count() == 10
    lambda_h100 = Offer.objects.filter(provider__slug="lambda", gpu_model__slug="h100-sxm", gpus_per_node=8)
    assert set(lambda_h100.values_list("country", flat=True)) == {"US", "DE"}
    assert Offer.objects.filter(provider__slug="nebius", region__code="eu-west1").first().currency == "EUR"
    assert f"{DEMO_OFFERS} offers listed" in out


def test_it_gives_every_offer_a_week_of_history():
    with time_machine.travel(T0, tick=False):
        load_demo()

    offer = Offer.objects.get(provider__slug="coreweave", external_id="hgx-h100-8x-us-east-04-od")
    recorded = list(offer.snapshots.values_list("recorded_at", flat=True))
    assert len(recorded) > 50
    assert min(recorded) == T0 - timedelta(days=7)
    assert max(recorded) == T0
    assert not Offer.objects.filter(snapshots__isnull=True).exists()


def test_it_creates_the_demo_logins(settings):
    settings.SITE_URL = "http://127.0.0.1:8000"

    with time_machine.travel(T0, tick=False):
        out = load_demo("--no-sync")

    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.check_password("admin")
    provider = User.objects.get(username="provider")
    assert provider.check_password("provider") and not provider.is_staff
    assert set(Provider.objects.for_user(provider).values_list("slug", flat=True)) == {"lambda", "sandbox-cloud"}
    assert set(Membership.objects.filter(user=provider).values_list("role", flat=True)) == {Membership.Role.OWNER}
    sandbox = Provider.objects.get(slug="sandbox-cloud")
    assert not sandbox.offers.exists() and not sandbox.sync_connections.exists()
    developer = User.objects.get(username="developer")
    assert developer.check_password("developer") and not developer.memberships.exists()
    for line in ["admin / admin", "provider / provider", "developer / developer", "http://127.0.0.1:8000/admin/"]:
        assert line in out


def test_running_it_twice_changes_nothing():
    with time_machine.travel(T0, tick=False):
        load_demo()
        first = counts()
        load_demo()

    assert counts() == first
    assert first["Offer"] == DEMO_OFFERS
    assert first["User"] == 3


def test_running_it_later_duplicates_nothing():
    with time_machine.travel(T0, tick=False):
        load_demo()
    first = counts()
    User.objects.filter(username="admin").update(email="root@example.com")
    User.objects.get(username="provider").set_password("changed")

    with time_machine.travel(T0 + timedelta(hours=3), tick=False):
        load_demo()

    later = counts()
    del first["OfferSnapshot"], later["OfferSnapshot"]  # the later sync records what changed
    assert later == first
    assert Offer.objects.listed().fresh().count() == DEMO_OFFERS
    assert User.objects.get(username="admin").email == "root@example.com"  # existing users are kept


def test_it_refuses_when_the_demo_is_disabled(settings):
    settings.DEMO_ENABLED = False

    with pytest.raises(CommandError, match="disabled"):
        load_demo()
    assert not Provider.objects.exists()


@pytest.mark.django_db
def test_the_demo_provider_can_edit_a_manual_offer_and_the_catalog_shows_it(client):
    call_command("load_demo", stdout=StringIO())
    offer = Offer.objects.get(provider__slug="lambda", external_id="1cc-h100-europe-central-1")
    # Through the sign-in form: django-axes wants the request with the credentials.
    assert client.post("/accounts/login/", {"username": "provider", "password": "provider"}).status_code == 302
    data = {
        "region": offer.region_id,
        "gpu_model": offer.gpu_model_id,
        "gpus_per_node": 8,
        "pricing_type": "reserved",
        "min_term_months": 3,
        "price_per_gpu_hour": "1.99",
        "currency": "USD",
        "nodes_available": 5,
        "nodes_total": 24,
        "external_id": offer.external_id,
    }
    response = client.post(reverse("dashboard:offer_edit", args=["lambda", offer.pk]), data)
    assert response.status_code == 302, getattr(response, "context", {}) and response.context["form"].errors

    call_command("load_demo", stdout=StringIO())  # a later load (or sync) keeps the edit
    offer.refresh_from_db()
    assert (offer.price_per_gpu_hour, offer.nodes_available) == (Decimal("1.99"), 5)
    catalog = client.get(reverse("marketplace:catalog"), {"country": "DE", "gpu": "h100-sxm", "pricing": "reserved"})
    assert "1.99" in catalog.content.decode()


def test_the_developer_has_a_request_with_two_quotes_and_a_saved_search(client):
    with time_machine.travel(T0, tick=False):
        out = load_demo()
        load_demo()  # once only

    request = CapacityRequest.objects.get(developer__username="developer")
    assert (request.gpu_count, request.country_groups, request.start_date.isoformat()) == (64, ["eu"], "2026-12-01")
    assert request.recipients.count() >= 2
    quotes = request.quotes.filter(status=Quote.Status.OFFERED)
    assert quotes.count() == 2 and all(quote.automatic for quote in quotes)
    assert f"The developer's capacity request #{request.pk} reached" in out
    assert SavedSearch.objects.get(user__username="developer").query == "gpu=h100-sxm&region_group=eu"
    assert email_is_verified(user=User.objects.get(username="developer"))
    client.force_login(User.objects.get(username="developer"))
    assert client.get(request.get_absolute_url()).text.count('data-quote="') == 2


def test_demo_partners_answer_new_requests_by_themselves(django_capture_on_commit_callbacks):
    with time_machine.travel(T0, tick=False):
        load_demo()
    developer = User.objects.get(username="developer")
    CapacityRequest.objects.filter(developer=developer).update(status=CapacityRequest.Status.WITHDRAWN)

    with time_machine.travel(T0, tick=False), django_capture_on_commit_callbacks(execute=False) as callbacks:
        request = request_file(developer=developer, **request_values(start_date=T0.date() + timedelta(days=30)))

    routed = [callback for callback in callbacks if not hasattr(callback, "func")]  # request_routed.send
    assert routed and request.recipients.exists()
    with time_machine.travel(T0, tick=False):
        quotes = demo_quotes(request_id=request.pk)  # what the task does, a few seconds after routing
    assert quotes and all(quote.automatic and "Demo partner" in quote.terms for quote in quotes)

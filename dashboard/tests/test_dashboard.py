"""The provider dashboard: overview, regions and offers, as alice (owner) and bob (staff) of Acme."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from marketplace.models import GpuModel, Offer, OfferSnapshot
from portal.testing import make_offer, make_provider, make_stale
from providers.models import Membership, Provider, Region
from sync.models import SyncConnection, SyncRun


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def offer_data(region: Region, **extra) -> dict:
    data = {
        "region": region.pk,
        "gpu_model": GpuModel.objects.get(slug="h100-sxm").pk,
        "gpus_per_node": 8,
        "vcpus": 128,
        "ram_gb": 2048,
        "storage_gb": "",
        "gpu_interconnect": "nvlink",
        "network": "infiniband",
        "pricing_type": "on_demand",
        "min_term_months": "",
        "price_per_gpu_hour": "2.49",
        "currency": "usd",
        "nodes_available": 3,
        "nodes_total": 10,
        "external_id": "",
    }
    data.update(extra)
    return data


# --- Home and overview ---------------------------------------------------------------------


def test_home_redirects_to_the_only_provider(alice_client, acme):
    response = alice_client.get(reverse("dashboard:home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:provider", args=["acme-gpu"])


def test_home_lists_several_providers(alice_client, alice, acme):
    other = make_provider("Gamma Cloud", "FR", owner=alice)
    response = alice_client.get(reverse("dashboard:home"))
    assert response.status_code == 200
    assert reverse("dashboard:provider", args=[acme.slug]) in response.text
    assert reverse("dashboard:provider", args=[other.slug]) in response.text


def test_overview_counts_offers_and_shows_sync_health(alice_client, acme, acme_fra):
    make_offer(acme, acme_fra)
    make_offer(acme, acme_fra, status=Offer.Status.WITHDRAWN)
    stale = make_offer(acme, acme_fra)
    make_stale(stale)
    connection = SyncConnection.objects.create(
        provider=acme,
        name="Main feed",
        base_url="https://acme.example/feed.json",
        consecutive_failures=2,
        last_error="HTTP 503 from https://acme.example/feed.json",
    )
    SyncRun.objects.create(connection=connection, outcome=SyncRun.Outcome.FAILED, error="HTTP 503")

    response = alice_client.get(reverse("dashboard:provider", args=[acme.slug]))

    assert response.status_code == 200
    assert response.context["overview"] == {"regions": 1, "offers": {"active": 2, "stale": 1, "withdrawn": 1}}
    assert "Main feed" in response.text
    assert "HTTP 503 from https://acme.example/feed.json" in response.text
    assert "Failing" in response.text


@pytest.mark.parametrize(("status", "banner"), [("pending", "Pending approval."), ("suspended", "Suspended.")])
def test_a_pending_or_suspended_provider_shows_a_banner(alice_client, acme, status, banner):
    Provider.objects.filter(pk=acme.pk).update(status=status)
    response = alice_client.get(reverse("dashboard:provider", args=[acme.slug]))
    assert response.status_code == 200
    assert banner in response.text


# --- Regions -------------------------------------------------------------------------------


def test_region_list(alice_client, acme, acme_fra):
    response = alice_client.get(reverse("dashboard:region_list", args=[acme.slug]))
    assert response.status_code == 200
    assert "eu-fra-1" in response.text


def test_region_create(alice_client, acme):
    url = reverse("dashboard:region_create", args=[acme.slug])
    response = alice_client.post(url, {"code": "eu-par-1", "name": "Paris 1", "country": "FR", "city": "Paris"})
    assert response.status_code == 302
    region = acme.regions.get(code="eu-par-1")
    assert (region.country.code, region.city, region.name) == ("FR", "Paris", "Paris 1")


def test_region_create_refuses_a_duplicate_code(alice_client, acme, acme_fra):
    url = reverse("dashboard:region_create", args=[acme.slug])
    response = alice_client.post(url, {"code": "eu-fra-1", "country": "DE"})
    assert response.status_code == 200
    assert response.context["form"].errors == {"code": ["You already have a region with this code."]}
    assert acme.regions.count() == 1


def test_region_codes_are_per_provider(client, charlie, beta, acme_fra):
    client.force_login(charlie)
    response = client.post(reverse("dashboard:region_create", args=[beta.slug]), {"code": "eu-fra-1", "country": "DE"})
    assert response.status_code == 302
    assert beta.regions.filter(code="eu-fra-1").exists()


def test_region_edit_moves_its_offers_to_the_new_country(alice_client, acme, acme_fra):
    offer = make_offer(acme, acme_fra)
    url = reverse("dashboard:region_edit", args=[acme.slug, acme_fra.pk])
    assert alice_client.get(url).status_code == 200
    response = alice_client.post(url, {"code": "eu-ams-1", "country": "NL", "city": "Amsterdam"})
    assert response.status_code == 302
    acme_fra.refresh_from_db()
    offer.refresh_from_db()
    assert (acme_fra.code, acme_fra.country.code) == ("eu-ams-1", "NL")
    assert offer.country.code == "NL"


# --- Offers --------------------------------------------------------------------------------


def test_offer_list_filters_by_status(alice_client, acme, acme_fra):
    active = make_offer(acme, acme_fra, external_id="active-1")
    withdrawn = make_offer(acme, acme_fra, external_id="gone-1", status=Offer.Status.WITHDRAWN)
    url = reverse("dashboard:offer_list", args=[acme.slug])

    assert list(alice_client.get(url).context["page"].object_list) == [active]
    assert list(alice_client.get(url, {"status": "withdrawn"}).context["page"].object_list) == [withdrawn]
    assert len(alice_client.get(url, {"status": "all"}).context["page"].object_list) == 2
    assert alice_client.get(url, {"status": "nonsense"}).context["status"] == "active"


def test_offer_list_stale_filter(alice_client, acme, acme_fra):
    make_offer(acme, acme_fra)
    stale = make_offer(acme, acme_fra)
    make_stale(stale, ago=timedelta(seconds=1))
    response = alice_client.get(reverse("dashboard:offer_list", args=[acme.slug]), {"status": "stale"})
    assert [offer.pk for offer in response.context["page"].object_list] == [stale.pk]


def test_offer_create(alice_client, acme, acme_fra):
    response = alice_client.post(reverse("dashboard:offer_create", args=[acme.slug]), offer_data(acme_fra))

    assert response.status_code == 302
    offer = acme.offers.get()
    assert offer.price_per_gpu_hour == Decimal("2.49")
    assert offer.currency == "USD"
    assert offer.country.code == "DE"
    assert offer.source == Offer.Source.MANUAL
    assert offer.sync_connection is None
    assert offer.external_id.startswith("manual-")
    assert offer.stale_at - offer.last_verified_at == timedelta(days=7)
    assert OfferSnapshot.objects.filter(offer=offer).count() == 1


def test_offer_create_keeps_a_given_external_id(alice_client, acme, acme_fra):
    alice_client.post(reverse("dashboard:offer_create", args=[acme.slug]), offer_data(acme_fra, external_id="h100-8x"))
    assert acme.offers.get().external_id == "h100-8x"


def test_staff_can_create_offers_too(client, bob, acme, acme_fra):
    client.force_login(bob)
    response = client.post(reverse("dashboard:offer_create", args=[acme.slug]), offer_data(acme_fra))
    assert response.status_code == 302
    assert acme.offers.count() == 1


def test_a_pending_provider_can_prepare_offers_that_stay_unlisted(alice_client, acme, acme_fra):
    Provider.objects.filter(pk=acme.pk).update(status=Provider.Status.PENDING)
    alice_client.post(reverse("dashboard:offer_create", args=[acme.slug]), offer_data(acme_fra))
    assert acme.offers.count() == 1
    assert not Offer.objects.listed().exists()


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ({"price_per_gpu_hour": "-1"}, "price_per_gpu_hour", "A price cannot be negative."),
        ({"price_per_gpu_hour": "abc"}, "price_per_gpu_hour", "Enter a number."),
        ({"pricing_type": "reserved"}, "min_term_months", "A reserved price needs a minimum term."),
        ({"nodes_available": 11}, "nodes_available", "Cannot exceed the total number of nodes."),
        ({"gpus_per_node": 0}, "gpus_per_node", "Ensure this value is greater than or equal to 1."),
        ({"currency": "dollars"}, "currency", "Ensure this value has at most 3 characters (it has 7)."),
        ({"currency": "12$"}, "currency", "Use a three-letter ISO 4217 code, e.g. USD or EUR."),
        ({"currency": "xyz"}, "currency", "“XYZ” is not an ISO 4217 currency code: use one like USD or EUR."),
        (
            {"currency": "AED"},
            "currency",
            "The portal has no exchange rate for AED, so its prices could not be compared: use one of AUD, BGN, "
            "BRL, CAD, CHF, CNY, CZK, DKK, EUR, GBP, HKD, HUF, IDR, ILS, INR, ISK, JPY, KRW, MXN, MYR, NOK, NZD, "
            "PHP, PLN, RON, SEK, SGD, THB, TRY, USD, ZAR.",
        ),
    ],
)
def test_offer_form_shows_errors_next_to_fields(alice_client, acme, acme_fra, extra, field, message):
    response = alice_client.post(reverse("dashboard:offer_create", args=[acme.slug]), offer_data(acme_fra, **extra))
    assert response.status_code == 200
    assert response.context["form"].errors == {field: [message]}
    assert message in response.text
    assert not Offer.objects.exists()


def test_offer_form_refuses_a_region_of_another_provider(alice_client, acme, acme_fra, beta_nyc):
    """A crafted POST with Beta's region id: the choice does not exist for Acme."""
    response = alice_client.post(reverse("dashboard:offer_create", args=[acme.slug]), offer_data(beta_nyc))
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["region"]
    assert not Offer.objects.exists()


def test_offer_form_refuses_a_duplicate_external_id(alice_client, acme, acme_fra):
    make_offer(acme, acme_fra, external_id="taken")
    response = alice_client.post(
        reverse("dashboard:offer_create", args=[acme.slug]), offer_data(acme_fra, external_id="taken")
    )
    assert response.context["form"].errors == {"external_id": ["Another of your offers already has this id."]}


def test_offer_region_choices_are_the_providers_own(alice_client, acme, acme_fra, beta_nyc):
    response = alice_client.get(reverse("dashboard:offer_create", args=[acme.slug]))
    assert list(response.context["form"].fields["region"].queryset) == [acme_fra]


def test_offer_edit(alice_client, acme, acme_fra):
    offer = make_offer(acme, acme_fra, external_id="keep-me")
    Offer.objects.filter(pk=offer.pk).update(
        status=Offer.Status.STALE, stale_at=timezone.now(), last_verified_at=timezone.now() - timedelta(days=8)
    )
    url = reverse("dashboard:offer_edit", args=[acme.slug, offer.pk])
    assert alice_client.get(url).status_code == 200

    response = alice_client.post(url, offer_data(acme_fra, external_id="keep-me", price_per_gpu_hour="1.99"))

    assert response.status_code == 302
    offer.refresh_from_db()
    assert offer.price_per_gpu_hour == Decimal("1.99")
    assert offer.external_id == "keep-me"
    assert offer.last_verified_at > timezone.now() - timedelta(minutes=1)
    assert not offer.is_stale
    assert offer.snapshots.latest("recorded_at").price_per_gpu_hour == Decimal("1.99")


def test_offer_edit_with_blank_external_id_generates_one(alice_client, acme, acme_fra):
    offer = make_offer(acme, acme_fra)
    alice_client.post(reverse("dashboard:offer_edit", args=[acme.slug, offer.pk]), offer_data(acme_fra))
    offer.refresh_from_db()
    assert offer.external_id.startswith("manual-")


def test_editing_a_synced_offer_warns_and_keeps_its_sync_freshness(alice_client, acme, acme_fra):
    connection = SyncConnection.objects.create(provider=acme, name="Feed", base_url="https://acme.example/f.json")
    offer = make_offer(acme, acme_fra, sync_connection=connection, source=Offer.Source.SYNC, external_id="f-1")
    verified = offer.last_verified_at
    url = reverse("dashboard:offer_edit", args=[acme.slug, offer.pk])
    assert "The next sync overwrites" in alice_client.get(url).text
    alice_client.post(url, offer_data(acme_fra, external_id="f-1", nodes_available=1))
    offer.refresh_from_db()
    assert offer.nodes_available == 1
    assert offer.last_verified_at == verified
    assert offer.source == Offer.Source.SYNC


def test_offer_withdraw_and_reactivate(alice_client, acme, acme_fra):
    offer = make_offer(acme, acme_fra)
    response = alice_client.post(reverse("dashboard:offer_withdraw", args=[acme.slug, offer.pk]))
    assert response.status_code == 302
    offer.refresh_from_db()
    assert offer.status == Offer.Status.WITHDRAWN
    assert not Offer.objects.listed().exists()

    alice_client.post(reverse("dashboard:offer_reactivate", args=[acme.slug, offer.pk]))
    offer.refresh_from_db()
    assert offer.status == Offer.Status.ACTIVE
    assert Offer.objects.listed().get() == offer


def test_offer_actions_are_post_only(alice_client, acme, acme_fra):
    offer = make_offer(acme, acme_fra)
    assert alice_client.get(reverse("dashboard:offer_withdraw", args=[acme.slug, offer.pk])).status_code == 405
    offer.refresh_from_db()
    assert offer.status == Offer.Status.ACTIVE


def test_offer_action_returns_to_the_page_it_came_from(alice_client, acme, acme_fra):
    offer = make_offer(acme, acme_fra)
    back = reverse("dashboard:offer_list", args=[acme.slug]) + "?status=all&page=1"
    response = alice_client.post(reverse("dashboard:offer_withdraw", args=[acme.slug, offer.pk]), {"next": back})
    assert response["Location"] == back
    response = alice_client.post(
        reverse("dashboard:offer_reactivate", args=[acme.slug, offer.pk]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("dashboard:offer_list", args=[acme.slug])


def test_offer_action_with_htmx_returns_the_row(alice_client, acme, acme_fra):
    offer = make_offer(acme, acme_fra)
    response = alice_client.post(
        reverse("dashboard:offer_withdraw", args=[acme.slug, offer.pk]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert response.text.strip().startswith(f'<tr id="offer-{offer.pk}" class="withdrawn">')
    assert "<html" not in response.text


@override_settings(MANUAL_OFFER_STALE_AFTER_SECONDS=3600)
def test_confirm_still_available_makes_a_stale_offer_fresh(alice_client, acme, acme_fra):
    offer = make_offer(acme, acme_fra)
    make_stale(offer, ago=timedelta(hours=1))
    offer.refresh_from_db()
    assert not Offer.objects.listed().fresh().exists()

    response = alice_client.post(reverse("dashboard:offer_confirm", args=[acme.slug, offer.pk]))

    assert response.status_code == 302
    offer.refresh_from_db()
    assert offer.stale_at - offer.last_verified_at == timedelta(hours=1)
    assert Offer.objects.listed().fresh().get() == offer


def test_confirm_is_refused_for_a_synced_offer(alice_client, acme, acme_fra):
    connection = SyncConnection.objects.create(provider=acme, base_url="https://acme.example/f.json")
    offer = make_offer(acme, acme_fra, sync_connection=connection, source=Offer.Source.SYNC)
    stale_at = offer.stale_at
    response = alice_client.post(reverse("dashboard:offer_confirm", args=[acme.slug, offer.pk]), follow=True)
    assert "verified by its sync connection" in response.text
    offer.refresh_from_db()
    assert offer.stale_at == stale_at


def test_membership_is_what_counts_not_being_a_django_user(client, dave, acme):
    client.force_login(dave)
    assert client.get(reverse("dashboard:provider", args=[acme.slug])).status_code == 404
    Membership.objects.create(user=dave, provider=acme, role=Membership.Role.STAFF)
    assert client.get(reverse("dashboard:provider", args=[acme.slug])).status_code == 200


def test_the_offer_list_reads_sizes_in_tb_and_prices_with_unit_and_currency(client, alice, acme, acme_fra):
    make_offer(acme, acme_fra, ram_gb=2048, price_per_gpu_hour=Decimal("2.5"), currency="EUR")
    client.force_login(alice)
    english = client.get(reverse("dashboard:offer_list", args=[acme.slug])).text
    french = client.get(reverse("dashboard:offer_list", args=[acme.slug]), headers={"accept-language": "fr"}).text
    assert "2 TB" in english and "2048 GB" not in english
    assert "2.50 EUR / GPU-hour" in english
    assert "2,50 EUR" in french

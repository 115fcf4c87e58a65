"""Locations: never invented, taken from the answer where it states them, otherwise from region
mappings kept as data (and a review queue for the codes nothing places), several countries only
when the provider says so."""

import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_countries import countries

from marketplace.inventory import NormalizedOffer, ParsedInventory
from marketplace.models import Offer
from marketplace.services import inventory_apply
from portal.testing import admin_url, make_user
from providers.models import Region
from sync.engine import sync_connection_run
from sync.models import RegionMapping, RegionReview, SyncConnection
from sync.tests.support import PAYLOADS, feed_document, payload

pytestmark = pytest.mark.django_db

SAVED = {
    "lambda": "lambda/instance_types.json",
    "verda": "verda/combined.json",
    "shadeform": "shadeform/instance_types.json",
    "runpod": "runpod/gpu_inventory.json",
    "hyperstack": "hyperstack/combined.json",
    "vastai": "vastai/bundles.json",
    "feed": "feed_v1_acme.json",
}


def strings(value) -> set[str]:
    """Every string in a JSON document."""
    if isinstance(value, dict):
        return set().union(*(strings(item) for item in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(strings(item) for item in value)) if value else set()
    return {value} if isinstance(value, str) else set()


def parsed(kind: str) -> list[dict]:
    out = io.StringIO()
    call_command(
        "parse_provider_payload", adapter=kind, file=str(PAYLOADS / SAVED[kind]), stdout=out, stderr=io.StringIO()
    )
    return json.loads(out.getvalue())


@pytest.mark.parametrize("kind", list(SAVED))
def test_parse_provider_payload_lists_no_invented_location(kind):
    answer = json.loads(payload(SAVED[kind]))
    stated = strings(answer)
    for offer in parsed(kind):
        if offer["region"] is None:
            # No location: only for what the answer sells nowhere, and then in no country.
            assert (offer["available"], offer["country"]) == (False, None), offer
        elif kind == "vastai":  # one region per country the hosts' geolocation states ("Texas, US", "Norway")
            assert any(
                text.endswith(offer["country"]) or countries.by_name(text) == offer["country"] for text in stated
            )
        else:
            assert offer["region"] in stated, offer  # a location the answer names, never one it does not


def test_a_type_sold_out_everywhere_is_listed_once_in_no_country(client, acme, local_server):
    local_server.serve("/api/v1/instance-types", payload(SAVED["lambda"]))
    connection = SyncConnection.objects.create(provider=acme, kind="lambda", base_url=local_server.url(""))

    sync_connection_run(connection=connection)

    [sold_out] = Offer.objects.filter(provider=acme, nodes_available=0)
    assert (sold_out.external_id, sold_out.region, sold_out.country) == ("gpu_1x_a10", None, "")
    catalog = client.get("/?sold_out=1")
    assert f'data-offer="{sold_out.pk}"' in catalog.text and "Location not stated" in catalog.text
    for query in ("country=US", "region_group=eu", "country=IL"):
        assert f'data-offer="{sold_out.pk}"' not in client.get(f"/?sold_out=1&{query}").text
    profile = client.get(acme.get_absolute_url()).text
    assert profile.count(f'data-offer="{sold_out.pk}"') == 1 and "Location not stated" in profile
    assert "" not in {row["country"].code for row in client.get("/countries/").context["rows"]}


def test_an_offer_with_capacity_needs_a_location(acme):
    connection = SyncConnection.objects.create(provider=acme, base_url="https://acme.example/f.json")
    inventory = ParsedInventory(
        offers=[NormalizedOffer("x", "", "H100 SXM", 8, "on_demand", Decimal("2"), nodes_available=3)]
    )
    run_result = inventory_apply(connection=connection, inventory=inventory, now=timezone.now())
    assert (run_result.created, run_result.skipped) == (0, 1)


class TestMappings:
    def test_the_adapters_region_tables_are_data_loaded_by_a_migration(self):
        lambda_east = RegionMapping.objects.get(kind="lambda", code="us-east-1")
        assert (lambda_east.country.code, lambda_east.name) == ("US", "Virginia, USA")
        assert RegionMapping.objects.get(kind="runpod", code="EU-RO-1").country.code == "RO"
        assert RegionMapping.objects.filter(kind="hyperstack").count() == 3

    def test_an_unknown_region_goes_to_review_and_mapping_it_lists_the_held_offers(self, client, acme, local_server):
        local_server.serve("/api/v1/instance-types", payload(SAVED["lambda"]))
        connection = SyncConnection.objects.create(provider=acme, kind="lambda", base_url=local_server.url(""))
        sync_connection_run(connection=connection)
        assert not Offer.objects.filter(provider=acme, external_id__endswith=":us-southeast-1").exists()
        review = RegionReview.objects.get(kind="lambda", code="us-southeast-1")
        assert (review.description, review.offers_held, list(review.providers.all())) == ("Georgia, USA", 1, [acme])

        client.force_login(make_user("root", is_staff=True, is_superuser=True))
        page = client.get(admin_url(RegionReview, "change", review.pk))
        assert "Georgia, USA" in page.text
        response = client.post(admin_url(RegionReview, "change", review.pk), {"country": "US", "city": "Atlanta"})
        assert response.status_code == 302
        review.refresh_from_db()
        assert review.resolved_at is not None and review.mapping.country.code == "US"
        connection.refresh_from_db()
        assert connection.next_sync_at <= timezone.now()  # due now: no deploy, no wait

        sync_connection_run(connection=connection)
        offer = Offer.objects.get(provider=acme, external_id="gpu_8x_a100_80gb_sxm4:us-southeast-1")
        assert (offer.country.code, offer.region.city) == ("US", "Atlanta")

    def test_a_region_the_provider_placed_on_its_dashboard_needs_no_mapping(self, acme, local_server):
        Region.objects.create(provider=acme, code="us-southeast-1", country="US")
        local_server.serve("/api/v1/instance-types", payload(SAVED["lambda"]))
        connection = SyncConnection.objects.create(provider=acme, kind="lambda", base_url=local_server.url(""))
        sync_connection_run(connection=connection)
        assert Offer.objects.filter(provider=acme, external_id__endswith=":us-southeast-1").exists()
        assert not RegionReview.objects.exists()


class TestSeveralCountries:
    @pytest.fixture
    def spanning(self, acme, local_server):
        document = feed_document()
        document["regions"][0]["countries"] = ["DE", "NL"]  # eu-fra-1, as the provider says
        local_server.serve("/feed.json", document)
        connection = SyncConnection.objects.create(provider=acme, base_url=local_server.url("/feed.json"))
        sync_connection_run(connection=connection)
        return Offer.objects.get(provider=acme, external_id="h100-8x-fra-od")

    def test_the_offer_is_listed_under_each_named_country_and_marked(self, client, spanning):
        assert [country.code for country in spanning.region.other_countries] == ["NL"]
        for query in ("country=DE", "country=NL", "region_group=eu"):
            assert f'data-offer="{spanning.pk}"' in client.get(f"/?{query}").text
        assert f'data-offer="{spanning.pk}"' not in client.get("/?country=FR").text
        html = client.get("/?country=NL").text
        assert 'class="spans"' in html and "+&nbsp;NL" in html
        counts = {choice.value: choice.count for choice in client.get("/").context["facets"]["country"]}
        assert counts["NL"] >= 1 and counts["DE"] >= 1
        assert client.get("/countries/nl/").context["capacity"].offers >= 1

    def test_a_region_spans_several_countries_only_if_the_provider_says_so(self, acme, local_server):
        local_server.serve("/feed.json", feed_document())
        connection = SyncConnection.objects.create(provider=acme, base_url=local_server.url("/feed.json"))
        sync_connection_run(connection=connection)
        assert not Region.objects.exclude(other_countries="").exists()

    def test_the_feed_refuses_countries_that_leave_out_the_regions_own(self, acme):
        from sync.adapters.base import AdapterError
        from sync.adapters.feed import FeedAdapter

        document = feed_document()
        document["regions"][0]["countries"] = ["NL"]
        with pytest.raises(AdapterError, match="must include the region's country"):
            FeedAdapter().parse(json.dumps(document).encode())

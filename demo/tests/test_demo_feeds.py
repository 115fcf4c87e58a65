"""The demo partners' feeds: a realistic data set, served as open provider feed v1, that moves."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
import time_machine
from django.conf import settings

from demo.feeds import feed_for, offer_state, partner_feed
from demo.partners import PARTNERS, partner_offers
from marketplace.models import GpuAlias

SCHEMA = json.loads((Path(settings.BASE_DIR) / "docs" / "provider-feed.schema.json").read_text())
T0 = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)

# Where each launch partner is headquartered and where its demo regions are.
COUNTRIES = {
    "coreweave": ("US", {"US", "GB", "NO", "SE", "ES"}),
    "nebius": ("NL", {"FI", "FR", "IS", "US", "GB"}),
    "crusoe": ("US", {"US", "IS"}),
    "firmus": ("AU", {"AU", "SG"}),
    "foxconn": ("TW", {"TW"}),
    "gmi-cloud": ("US", {"TW", "US", "TH"}),
    "lambda": ("US", {"US", "DE", "JP", "IN", "IL"}),
    "nscale": ("GB", {"NO", "GB", "PT"}),
    "softbank": ("JP", {"JP"}),
    "yotta": ("IN", {"IN"}),
}


def test_the_ten_launch_partners_have_regions_in_their_countries():
    assert {partner.slug: (partner.hq_country, {r.country for r in partner.regions}) for partner in PARTNERS} == (
        COUNTRIES
    )


def test_the_data_set_has_a_few_hundred_distinct_offers():
    offers = [(partner.slug, offer.id) for partner in PARTNERS for offer in partner_offers(partner)]
    assert 250 <= len(offers) <= 400
    assert len(set(offers)) == len(offers)


def test_the_data_set_is_the_same_on_every_call():
    assert [partner_offers(partner) for partner in PARTNERS] == [partner_offers(partner) for partner in PARTNERS]


def test_every_demo_offer_is_coherent():
    for partner in PARTNERS:
        region_codes = {region.code for region in partner.regions}
        for offer in partner_offers(partner):
            assert offer.region in region_codes
            assert offer.nodes_total >= 1
            assert offer.price > 0
            assert (offer.pricing_type == "reserved") == (offer.min_term_months is not None)


@pytest.mark.django_db
def test_every_demo_gpu_name_resolves_to_the_catalogue():
    # With the facts each feed states beside a bare family name (gpu_form_factor, gpu_memory_gb).
    queries = {offer.gpu_query for partner in PARTNERS for offer in partner_offers(partner)}
    resolutions = GpuAlias.objects.resolve_facts(queries)
    assert [query.name for query, resolution in resolutions.items() if not resolution.resolved] == []


@pytest.mark.parametrize("slug", [partner.slug for partner in PARTNERS])
def test_it_serves_a_valid_feed_v11_with_a_capacity_window(client, slug):
    response = client.get(f"/demo/feeds/{slug}.json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    feed = response.json()
    jsonschema.validate(feed, SCHEMA)
    assert feed["format"] == "gpu-marketplace-feed"
    assert feed["version"] == 1.1
    codes = {region["code"] for region in feed["regions"]}
    assert feed["offers"]
    for offer in feed["offers"]:
        assert offer["region"] in codes
        assert 0 <= offer["nodes_available"] <= offer["nodes_total"]
    [window] = feed["capacity_windows"]
    assert window["region"] in codes and window["from"] < window["until"] and window["gpus"] > 0


def test_it_needs_no_login_and_no_csrf_token(client):
    client.handler.enforce_csrf_checks = True

    assert client.get("/demo/feeds/lambda.json").status_code == 200


def test_it_404s_for_an_unknown_partner(client):
    assert client.get("/demo/feeds/nvidia.json").status_code == 404


def test_it_only_answers_get(client):
    assert client.post("/demo/feeds/lambda.json").status_code == 405


def test_the_index_lists_every_feed(client):
    feeds = client.get("/demo/feeds/").json()["feeds"]

    assert [feed["provider"] for feed in feeds] == [partner.name for partner in PARTNERS]
    assert feeds[0]["url"] == "http://testserver/demo/feeds/coreweave.json"


def test_availability_changes_between_two_time_buckets(client):
    with time_machine.travel(T0, tick=False):
        before = client.get("/demo/feeds/coreweave.json").json()
    with time_machine.travel(T0 + timedelta(minutes=10), tick=False):
        after = client.get("/demo/feeds/coreweave.json").json()

    nodes_before = {offer["id"]: offer["nodes_available"] for offer in before["offers"]}
    nodes_after = {offer["id"]: offer["nodes_available"] for offer in after["offers"]}
    common = nodes_before.keys() & nodes_after.keys()
    changed = [offer_id for offer_id in common if nodes_before[offer_id] != nodes_after[offer_id]]
    assert len(changed) >= 10
    assert before["generated_at"] == "2026-11-27T06:00:00Z"


def test_the_same_moment_gives_the_same_offers():
    assert partner_feed("nebius", now=T0)["offers"] == partner_feed("nebius", now=T0 + timedelta(seconds=1))["offers"]


def test_on_demand_prices_drift_slowly_and_spot_prices_move():
    offers = [offer for partner in PARTNERS for offer in partner_offers(partner)]
    on_demand = [offer for offer in offers if offer.pricing_type == "on_demand"]
    spot = [offer for offer in offers if offer.pricing_type == "spot"]

    for offer in on_demand:
        price, _ = offer_state(offer, T0)
        assert abs(price - offer.price) <= offer.price * Decimal("0.02") + Decimal("0.01")
        assert offer_state(offer, T0 + timedelta(hours=1))[0] == price
    assert any(offer_state(o, T0)[0] != offer_state(o, T0 + timedelta(hours=6))[0] for o in spot)


def test_offers_are_now_and_then_sold_out_or_briefly_missing():
    """Over two hours some offers drop to 0 nodes, and some leave the feed for a step and come back."""
    partner = next(partner for partner in PARTNERS if partner.slug == "coreweave")
    moments = [T0 + timedelta(minutes=minute) for minute in range(120)]
    feeds = [{offer["id"]: offer for offer in feed_for(partner, now=at)["offers"]} for at in moments]
    every_id = {offer.id for offer in partner_offers(partner)}

    assert any(offer["nodes_available"] == 0 for feed in feeds for offer in feed.values())
    longest_absence = {}
    for offer_id in every_id:
        streak = longest = 0
        for feed in feeds:
            streak = 0 if offer_id in feed else streak + 1
            longest = max(longest, streak)
        longest_absence[offer_id] = longest
    assert any(longest_absence.values())
    assert max(longest_absence.values()) <= 8  # minutes: an offer's availability step is 1 to 8 minutes


def test_a_complete_feed_keeps_every_offer():
    partner = PARTNERS[0]
    ids = {offer.id for offer in partner_offers(partner)}
    for minute in range(60):
        feed = feed_for(partner, now=T0 + timedelta(minutes=minute), complete=True)
        assert {offer["id"] for offer in feed["offers"]} == ids

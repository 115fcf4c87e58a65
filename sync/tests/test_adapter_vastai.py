"""Vast.ai: the CLI's search query, exact offers from a saved answer, countries from geolocations,
machines listed twice, a sync. What every adapter promises is in test_adapter_contract.py."""

from dataclasses import replace
from decimal import Decimal

import pytest

from marketplace.inventory import NormalizedOffer, NormalizedRegion
from marketplace.models import GpuAlias, Offer
from sync.adapters.vastai import SEARCH_QUERY
from sync.engine import sync_connection_run
from sync.models import SyncRun
from sync.tests.support import document, expected_offer, make_connection, parse, payload, printed_offers, refusal

KIND = "vastai"
SAVED = "vastai/bundles.json"


def vast(machine, gpus, pricing, price, nodes, *, region, gpu, memory, vcpus, ram, storage, link="") -> NormalizedOffer:
    external_id = f"machine:{machine}:{gpus}x:{pricing}"
    specs = (gpu, gpus, vcpus, ram, storage, link, memory)
    return expected_offer(external_id, region, price, nodes, *specs, pricing_type=pricing, nodes_total=1)


RTX4090_CA = {"region": "vast-ca", "gpu": "RTX 4090", "memory": 24, "vcpus": 16, "ram": 63, "storage": 120}
H100_8X = {"region": "vast-us", "gpu": "H100 SXM", "memory": 80, "vcpus": 128, "ram": 2015, "storage": 2048}
H100_4X = {"region": "vast-us", "gpu": "H100 SXM", "memory": 80, "vcpus": 64, "ram": 1008, "storage": 1024}
A100_SE = {"region": "vast-se", "gpu": "A100 SXM4 40GB", "memory": 40, "vcpus": 32, "ram": 252, "storage": 500}
RTX3090_NO = {"region": "vast-no", "gpu": "RTX 3090", "memory": 24, "vcpus": None, "ram": None, "storage": None}
A100_DE = {"region": "vast-de", "gpu": "A100 PCIE 80GB", "memory": 80, "vcpus": 8, "ram": 125, "storage": 250}

EXPECTED_OFFERS = [
    # dph_total 0.34666... per hour for 1 GPU; min_bid 0.2. The same machine's dearer duplicate
    # listing (offer 12345608) is dropped.
    vast(10234, 1, "on_demand", "0.3467", 1, **RTX4090_CA),
    vast(10234, 1, "spot", "0.2000", 1, **RTX4090_CA),
    # 8 GPUs for 19.212 / hour; NVLink bandwidth given.
    vast(20411, 8, "on_demand", "2.4015", 1, **H100_8X, link="nvlink"),
    vast(20411, 8, "spot", "1.5000", 1, **H100_8X, link="nvlink"),
    # The same machine's half: its own offer (min_bid null: no spot).
    vast(20411, 4, "on_demand", "2.4015", 1, **H100_4X, link="nvlink"),
    # Rented: sold out. "A100 SXM4" with 40 GB gets its size appended; "SE" alone is the country.
    vast(30777, 2, "on_demand", "0.8050", 0, **A100_SE, link="nvlink"),
    vast(30777, 2, "spot", "0.4500", 0, **A100_SE, link="nvlink"),
    # Optional fields missing; geolocation as a bare country name (older answers).
    vast(41200, 1, "on_demand", "0.1800", 1, **RTX3090_NO),
    # Not rentable: sold out; min_bid 0: no spot offer.
    vast(60001, 1, "on_demand", "1.0670", 0, **A100_DE),
]


def saved_offer(**changes) -> dict:
    return {**document(SAVED)["offers"][0], **changes}


def test_a_saved_answer_gives_exact_offers_regions_and_warnings():
    inventory = parse(KIND, payload(SAVED))

    assert inventory.offers == EXPECTED_OFFERS
    assert inventory.regions == [
        NormalizedRegion(code="vast-ca", country="CA", name="Canada"),
        NormalizedRegion(code="vast-us", country="US", name="United States of America"),
        NormalizedRegion(code="vast-se", country="SE", name="Sweden"),
        NormalizedRegion(code="vast-no", country="NO", name="Norway"),
        NormalizedRegion(code="vast-de", country="DE", name="Germany"),
    ]
    assert inventory.warnings == [
        "Held back, with a price of 0 or none (a GPU is never listed as free): offer 12345607.",
        "Held back 2 offers whose geolocation gives no known country: "
        'offer 12345606 (null), offer 12345611 ("Somewhere, XV").',
        "1 offer repeated a machine and GPU count already listed: the cheaper one was kept.",
    ]


def test_every_gpu_name_of_the_saved_answer_resolves_and_a_half_h200_would_not(db):
    # Vast's "H200" states neither SXM nor NVL: on 8 GPUs NVLink says SXM (a bridge joins at most 4
    # H200 NVL); on half the machine it may be either, so that offer waits for review.
    offers = parse(KIND, payload(SAVED)).offers
    h200 = {"gpu_model_raw": "H200", "gpu_memory_gb": 141, "gpu_interconnect": "nvlink"}
    half, eight = (replace(offers[0], **h200, gpus_per_node=gpus) for gpus in (4, 8))

    resolutions = GpuAlias.objects.resolve_facts({offer.gpu_query for offer in [*offers, half, eight]})
    unresolved = {(query.name, query.gpus_per_node) for query, found in resolutions.items() if not found.resolved}

    assert unresolved == {("H200", 4)}


@pytest.mark.parametrize(
    ("geolocation", "country"),
    [("Texas, US", "US"), ("us", "US"), ("Île-de-France, FR", "FR"), ("Norway", "NO"), ("Berlin, Germany", None)],
)
def test_the_country_comes_from_the_iso_code_in_the_geolocation(geolocation, country):
    offers = parse(KIND, {"offers": [saved_offer(geolocation=geolocation)]}).offers

    assert [offer.region for offer in offers] == ([f"vast-{country.lower()}"] * 2 if country else [])


def test_the_search_has_the_default_filters_of_vasts_cli():
    # Verified, not external, rentable, not rented; on-demand prices.
    filters = [SEARCH_QUERY[name] for name in ("verified", "external", "rentable", "rented", "type")]
    assert filters == [{"eq": True}, {"eq": False}, {"eq": True}, {"eq": False}, "on-demand"]


def test_the_cheaper_of_two_listings_of_a_machine_wins_whatever_the_order():
    dear, cheap = saved_offer(id=1, dph_total=0.5, min_bid=None), saved_offer(id=2, dph_total=0.3, min_bid=None)

    (offer,) = parse(KIND, {"offers": [dear, cheap]}).offers

    assert (offer.external_id, offer.price_per_gpu_hour) == ("machine:10234:1x:on_demand", Decimal("0.3000"))


def test_the_machine_keeps_its_id_when_the_host_relists_it():
    before = parse(KIND, {"offers": [saved_offer(id=111)]}).offers
    after = parse(KIND, {"offers": [saved_offer(id=222, dph_total=0.5)]}).offers

    assert [offer.external_id for offer in before] == [offer.external_id for offer in after]


def test_an_answer_without_offers_is_refused_clearly():
    error = refusal(KIND, {"bundles": []})

    assert str(error) == 'Vast.ai\'s answer has no "offers" list: this is not an offers search.'
    assert error.permanent


@pytest.mark.parametrize(
    ("bad", "warning"),
    [
        ("x", "offers[1] skipped: it is not an object."),
        (saved_offer(num_gpus="one"), 'offers[1] skipped: its "num_gpus" "one" is not a whole number.'),
        (saved_offer(machine_id=None), 'offers[1] skipped: its "machine_id" is missing.'),
        (saved_offer(dph_total="free"), 'offers[1] skipped: its "dph_total" "free" is not a price.'),
        (saved_offer(dph_total=None), 'offers[1] skipped: its "dph_total" is missing.'),
        (saved_offer(gpu_ram=-1), 'offers[1] skipped: its "gpu_ram" -1 is not a number.'),
    ],
)
def test_an_offer_that_cannot_be_read_is_skipped_with_a_warning_naming_it(bad, warning):
    good = saved_offer(machine_id=1)

    inventory = parse(KIND, {"offers": [good, bad]})

    assert [offer.external_id for offer in inventory.offers] == ["machine:1:1x:on_demand", "machine:1:1x:spot"]
    assert inventory.warnings == [warning]


def test_an_error_body_gives_vasts_message():
    error = refusal(KIND, {"success": False, "error": "invalid_args", "msg": "Unknown field: gpu_nam"})

    assert str(error) == "Vast.ai's API returned an error: Unknown field: gpu_nam"


# --- Over HTTP ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_sync_creates_one_region_per_country(acme, local_server):
    local_server.serve("/api/v0/bundles/", payload(SAVED))
    connection = make_connection(KIND, local_server.url(""), "vast-key", provider=acme)

    run = sync_connection_run(connection=connection)

    assert (run.outcome, run.created, run.skipped) == (SyncRun.Outcome.SUCCESS, 9, 0)
    offer = Offer.objects.get(provider=acme, external_id="machine:30777:2x:spot")
    assert (offer.gpu_model.slug, offer.country.code, offer.region.code) == ("a100-sxm-40", "SE", "vast-se")
    assert (offer.nodes_available, offer.nodes_total, offer.price_per_gpu_hour) == (0, 1, Decimal("0.45"))


# --- parse_provider_payload ---------------------------------------------------------------------


EXPECTED_ROWS = {
    "machine:20411:8x:on_demand": {
        "external_id": "machine:20411:8x:on_demand",
        "gpu_model": "H100 SXM 80GB",
        "gpu_model_raw": "H100 SXM",
        "gpus_per_node": 8,
        "gpu_memory_gb": 80,
        "vcpus": 128,
        "ram_gb": 2015,
        "region": "vast-us",
        "country": "US",
        "pricing_type": "on_demand",
        "price_per_gpu_hour": "2.4015",
        "currency": "USD",
        "available": True,
        "available_gpus": 8,
        "interconnect": "sxm",
    },
    "machine:60001:1x:on_demand": {
        "external_id": "machine:60001:1x:on_demand",
        "gpu_model": "A100 PCIe 80GB",
        "gpu_model_raw": "A100 PCIE 80GB",
        "gpus_per_node": 1,
        "gpu_memory_gb": 80,
        "vcpus": 8,
        "ram_gb": 125,
        "region": "vast-de",
        "country": "DE",
        "pricing_type": "on_demand",
        "price_per_gpu_hour": "1.067",
        "currency": "USD",
        "available": False,
        "available_gpus": 0,
        "interconnect": "pcie",
    },
}


@pytest.mark.django_db
def test_the_command_prints_the_normalized_offers_of_a_saved_answer():
    rows = printed_offers(KIND, SAVED)

    assert [row["external_id"] for row in rows] == [offer.external_id for offer in EXPECTED_OFFERS]
    by_id = {row["external_id"]: row for row in rows}
    assert {key: by_id[key] for key in EXPECTED_ROWS} == EXPECTED_ROWS
    assert by_id["machine:30777:2x:spot"]["gpu_model"] == "A100 SXM 40GB"
    assert all(row["gpu_model"] for row in rows)  # every name in the saved answer is in the alias table

"""Hyperstack: the combined flavors, pricebook and stock, exact offers from saved answers, error
envelopes, a sync and the review queue. What every adapter promises is in test_adapter_contract.py."""

from dataclasses import replace
from decimal import Decimal

import pytest
from django.utils import timezone

from marketplace.inventory import NormalizedOffer, NormalizedRegion
from marketplace.models import GpuModel, GpuNameReview, Offer
from portal.lib.http import GuardedClient
from portal.testing import Reply
from sync.adapters.base import AdapterError
from sync.engine import inventory_fetch, sync_connection_run
from sync.models import SyncRun
from sync.services import gpu_name_review_map
from sync.tests.support import document, expected_offer, make_connection, parse, payload, printed_offers, refusal

KIND = "hyperstack"
SAVED = "hyperstack/combined.json"
# NVIDIA A16: a real GPU that the catalogue does not list. The saved answers have one flavor with
# it, so the tests see the review queue at work: its offer is held back, never guessed.
UNKNOWN_GPU = "A16"


@pytest.fixture(autouse=True)
def _a16_unknown(db):
    """The A16 is in the catalogue now; these tests take it out, as the GPU no alias knows."""
    GpuModel.objects.filter(slug="a16").delete()


def flavor(region, name, gpu, gpus, price, nodes, *, vcpus, ram, storage, link) -> NormalizedOffer:
    expected = expected_offer(f"{region}/{name}", region, price, nodes, gpu, gpus, vcpus, ram, storage, link)
    return replace(expected, instance_type=name)


EXPECTED_OFFERS = [
    # Stock for 1x: 120 machines. The -k8s variant of the flavor is skipped.
    flavor("CANADA-1", "n3-H100x1", "H100-80G-PCIe", 1, "1.90", 120, vcpus=28, ram=180, storage=850, link="pcie"),
    # Available, but the stock endpoint counts 0 machines of that size: count unknown.
    flavor("CANADA-1", "n3-H100x8", "H100-80G-PCIe", 8, "1.90", None, vcpus=252, ram=1440, storage=6100, link="pcie"),
    # Of two RTX-A6000 prices, the one without an end time.
    flavor("CANADA-1", "n1-RTX-A6000x1", "RTX-A6000", 1, "0.50", 14, vcpus=8, ram=57, storage=100, link=""),
    # stock_available false: sold out, listed as such.
    flavor("CANADA-1", "n1-RTX-A6000x2", "RTX-A6000", 2, "0.50", 0, vcpus=16, ram=115, storage=100, link=""),
    # original_value (1.35), not the account's discounted value (1.20).
    flavor("NORWAY-1", "n3-A100x1", "A100-80G-PCIe", 1, "1.35", 0, vcpus=28, ram=120, storage=850, link="pcie"),
    flavor("NORWAY-1", "n3-A100x8", "A100-80G-PCIe", 8, "1.35", 3, vcpus=252, ram=960, storage=6100, link="pcie"),
    # Optional fields missing; no stock entry for L40 in NORWAY-1; a numeric price.
    flavor("NORWAY-1", "n3-L40x1", "L40", 1, "1.00", None, vcpus=28, ram=58, storage=100, link=""),
    flavor("NORWAY-1", "n1-A16x1", UNKNOWN_GPU, 1, "0.40", 4, vcpus=6, ram=28, storage=100, link=""),
    flavor("US-1", "n3-H100-SXM5x8", "H100-80G-SXM5", 8, "2.40", 2, vcpus=192, ram=1800, storage=32100, link="nvlink"),
    # A region no mapping places keeps its code (the sync holds it back for review).
    flavor(
        "FINLAND-1", "n3-H100-NVLinkx8", "H100-80G-PCIe-NVLink", 8, "1.95", None, vcpus=252, ram=1440, storage=6100,
        link="nvlink",
    ),
]  # fmt: skip


def combined(**changes) -> dict:
    return {**document(SAVED), **changes}


def test_saved_answers_give_exact_offers_regions_and_warnings():
    inventory = parse(KIND, payload(SAVED))

    assert inventory.offers == EXPECTED_OFFERS
    # The regions the answer names, without countries: the region mappings (data) place them.
    assert inventory.regions == [
        NormalizedRegion(code=code, country="") for code in ("CANADA-1", "NORWAY-1", "US-1", "FINLAND-1")
    ]
    assert inventory.warnings == [
        "Held back (no price in Hyperstack's pricebook): H200-141G-SXM5 (1 flavor).",
        "Held back, with a price of 0 or none (a GPU is never listed as free): RTX-A4000 (1 flavor).",
    ]


def test_the_combined_payload_is_the_three_saved_answers():
    saved = {part: document(f"hyperstack/{part}.json") for part in ("flavors", "pricebook", "stocks")}

    assert document(SAVED) == saved


def test_an_odd_price_for_something_else_does_not_fail_the_sync():
    document = combined()
    document["pricebook"].append({"id": 99, "name": "Object-Storage", "value": "n/a", "original_value": "n/a"})

    assert parse(KIND, document).offers == EXPECTED_OFFERS


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"flavors": []}, 'the /core/flavors answer should be an object with a "data" list, not []'),
        ({"stocks": {"stock": []}}, 'the /core/stocks answer should be an object with a "stocks" list'),
        ({"pricebook": {"data": []}}, "the /pricebook answer should be a list"),
        (
            {"flavors": {"status": True, "data": [{"gpu": "L40"}]}},
            "None of the 1 groups of flavors in Hyperstack's /core/flavors answer could be read: flavors.data[0] "
            'skipped: its "flavors" is missing.',
        ),
        (
            {"flavors": {"status": True, "data": [{"gpu": "L40", "flavors": [{"gpu": "L40", "gpu_count": "1"}]}]}},
            "None of the 1 flavors in Hyperstack's /core/flavors answer could be read: flavors.data[0].flavors[0] "
            'skipped: its "gpu_count" "1" is not a whole number.',
        ),
    ],
)
def test_a_payload_of_the_wrong_shape_is_refused_clearly(changes, message):
    error = refusal(KIND, combined(**changes))

    assert message in str(error)
    assert error.permanent


def l40(document) -> dict:
    return document["flavors"]["data"][3]["flavors"][0]  # the only L40 flavor, n3-L40x1 in NORWAY-1


@pytest.mark.parametrize(
    ("change", "warning"),
    [
        (lambda d: l40(d).update(gpu_count="1"), 'flavors.data[3].flavors[0] skipped: its "gpu_count" "1" is not a '
         "whole number."),
        (lambda d: l40(d).update(name=None), 'flavors.data[3].flavors[0] skipped: its "name" is missing.'),
        (lambda d: l40(d).update(ram="lots"), 'flavors.data[3].flavors[0] skipped: its "ram" "lots" is not a number.'),
        (lambda d: d["pricebook"][2].update(value="about two"), 'flavors.data[3].flavors[0] skipped: its '
         '"pricebook[2].value" "about two" is not a price.'),
        (lambda d: d["flavors"]["data"][3].update(flavors=None), 'flavors.data[3] skipped: its "flavors" is missing.'),
    ],
)  # fmt: skip
def test_a_flavor_that_cannot_be_read_is_skipped_with_a_warning_naming_it(change, warning):
    document = combined()
    change(document)

    inventory = parse(KIND, document)

    assert inventory.offers == [offer for offer in EXPECTED_OFFERS if offer.external_id != "NORWAY-1/n3-L40x1"]
    assert inventory.warnings[0] == warning


def test_a_pricebook_entry_that_cannot_be_read_is_skipped_with_a_warning():
    document = combined()
    document["pricebook"].insert(3, {"id": 98, "value": "1.00"})

    inventory = parse(KIND, document)

    assert inventory.offers == EXPECTED_OFFERS
    assert inventory.warnings[0] == 'pricebook[3] skipped: its "name" is missing.'


def test_a_stock_entry_that_cannot_be_read_is_skipped_and_its_counts_are_unknown():
    document = combined()
    document["stocks"]["stocks"][1]["models"] = None  # NORWAY-1

    inventory = parse(KIND, document)

    counts = {offer.external_id: offer.nodes_available for offer in inventory.offers}
    assert (counts["NORWAY-1/n3-A100x8"], counts["NORWAY-1/n1-A16x1"], counts["CANADA-1/n3-H100x1"]) == (
        None,
        None,
        120,
    )
    assert inventory.warnings[0] == 'stocks[1] skipped: its "models" is missing.'


def test_an_error_envelope_gives_hyperstacks_message():
    error = refusal(KIND, combined(flavors={"status": False, "message": "Region not found", "data": None}))

    assert str(error) == "Hyperstack's /core/flavors returned an error: Region not found"


def test_a_payload_without_the_three_answers_is_refused():
    error = refusal(KIND, {"flavors": {}})

    assert 'it needs "flavors", "pricebook" and "stocks"' in str(error)
    assert error.permanent


# --- Over HTTP ----------------------------------------------------------------------------------


@pytest.fixture
def hyperstack_api(local_server):
    """The local server answering Hyperstack's three endpoints under /v1."""
    for part, path in (("flavors", "/v1/core/flavors"), ("pricebook", "/v1/pricebook"), ("stocks", "/v1/core/stocks")):
        local_server.serve(path, payload(f"hyperstack/{part}.json"))
    return local_server


def test_an_html_page_from_one_endpoint_is_refused_at_fetch(hyperstack_api):
    hyperstack_api.serve("/v1/pricebook", Reply(payload("error_page.html"), headers={"Content-Type": "text/html"}))

    with (
        GuardedClient(allow_private=True) as client,
        pytest.raises(AdapterError, match="/pricebook response is an HTML page"),
    ):
        inventory_fetch(connection=make_connection(KIND, hyperstack_api.url("/v1"), "hs-key"), client=client)


@pytest.mark.django_db
def test_an_unknown_name_waits_for_review_then_the_next_sync_lists_it(acme, hyperstack_api):
    connection = make_connection(KIND, hyperstack_api.url("/v1"), "hs-key", provider=acme)

    run = sync_connection_run(connection=connection)

    # Held back: the A16 (review queue) and FINLAND-1's offer (a region no mapping places).
    assert (run.outcome, run.created, run.skipped) == (SyncRun.Outcome.SUCCESS, 8, 2)
    offer = Offer.objects.get(provider=acme, external_id="US-1/n3-H100-SXM5x8")
    assert (offer.gpu_model.slug, offer.country.code, offer.nodes_available, offer.gpus_available) == (
        "h100-sxm",
        "US",
        2,
        16,
    )
    [review] = GpuNameReview.objects.all()
    assert (review.raw_name, review.offers_held, list(review.providers.all())) == (UNKNOWN_GPU, 1, [acme])

    a16 = GpuModel.objects.create(
        slug="a16", name="A16 16GB", architecture="Ampere", memory_gb=16, memory_type="GDDR6", form_factor="pcie"
    )
    gpu_name_review_map(review=review, gpu_model=a16, now=timezone.now())  # the admin maps it
    run = sync_connection_run(connection=connection)

    assert (run.created, run.unchanged, run.skipped) == (1, 8, 1)  # FINLAND-1 still placed nowhere
    offer = Offer.objects.get(provider=acme, external_id="NORWAY-1/n1-A16x1")
    assert (offer.gpu_model, offer.country.code, offer.nodes_available, offer.price_per_gpu_hour) == (
        a16,
        "NO",
        4,
        Decimal("0.40"),
    )


# --- parse_provider_payload ---------------------------------------------------------------------


EXPECTED_ROWS = [
    {
        "external_id": "CANADA-1/n3-H100x1",
        "gpu_model": "H100 PCIe 80GB",
        "gpu_model_raw": "H100-80G-PCIe",
        "gpus_per_node": 1,
        "gpu_memory_gb": 80,
        "vcpus": 28,
        "ram_gb": 180,
        "region": "CANADA-1",
        "country": "CA",
        "pricing_type": "on_demand",
        "price_per_gpu_hour": "1.90",
        "currency": "USD",
        "available": True,
        "available_gpus": 120,
        "interconnect": "pcie",
    },
    {
        "external_id": "CANADA-1/n3-H100x8",
        "gpu_model": "H100 PCIe 80GB",
        "gpu_model_raw": "H100-80G-PCIe",
        "gpus_per_node": 8,
        "gpu_memory_gb": 80,
        "vcpus": 252,
        "ram_gb": 1440,
        "region": "CANADA-1",
        "country": "CA",
        "pricing_type": "on_demand",
        "price_per_gpu_hour": "1.90",
        "currency": "USD",
        "available": True,
        "available_gpus": None,
        "interconnect": "pcie",
    },
]


def test_the_command_prints_the_normalized_offers_of_the_combined_payload(db):
    rows = printed_offers(KIND, SAVED)

    assert [row["external_id"] for row in rows] == [offer.external_id for offer in EXPECTED_OFFERS]
    assert rows[:2] == EXPECTED_ROWS
    by_id = {row["external_id"]: row for row in rows}
    assert (by_id["CANADA-1/n1-RTX-A6000x2"]["gpu_model"], by_id["CANADA-1/n1-RTX-A6000x2"]["available"]) == (
        "RTX A6000 48GB",
        False,
    )
    assert (by_id["FINLAND-1/n3-H100-NVLinkx8"]["country"], by_id["US-1/n3-H100-SXM5x8"]["interconnect"]) == (
        None,
        "sxm",
    )
    assert [row["external_id"] for row in rows if row["gpu_model"] is None] == ["NORWAY-1/n1-A16x1"]

"""Lambda Cloud: exact offers from a saved answer, regions with capacity, sold-out types, Lambda's
error objects, a sync and the review queue. What every adapter promises is in test_adapter_contract.py."""

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from marketplace.inventory import NormalizedOffer, NormalizedRegion
from marketplace.models import GpuModel, GpuNameReview, Offer
from sync.engine import sync_connection_run
from sync.models import SyncRun
from sync.services import gpu_name_review_map
from sync.tests.support import document, expected_offer, make_connection, parse, payload, printed_offers, refusal

KIND = "lambda"
SAVED = "lambda/instance_types.json"
# NVIDIA A16: a real GPU that the catalogue does not list. The saved response has one instance
# type with it, so the tests see the review queue at work: its offer is held back, never guessed.
UNKNOWN_GPU = "A16 (64 GB)"


@pytest.fixture(autouse=True)
def _a16_unknown(db):
    """The A16 is in the catalogue now; these tests take it out, as the GPU no alias knows."""
    GpuModel.objects.filter(slug="a16").delete()


# The saved answer's GPU types: GPU name, GPUs, vCPUs, RAM GiB, storage GiB, interconnect, GPU memory GB
TYPES = {
    "gpu_8x_h100_sxm5": ("H100 (80 GB SXM5)", 8, 208, 1800, 24780, "nvlink", 80),
    "gpu_1x_h100_pcie": ("H100 (80 GB PCIe)", 1, 26, 200, 1024, "pcie", 80),
    # No gpu_description nor storage_gib: the GPU comes from the description, storage stays unknown.
    "gpu_8x_a100_80gb_sxm4": ("A100 (80 GB SXM4)", 8, 240, 1800, None, "nvlink", 80),
    "gpu_2x_a6000": ("A6000 (48 GB)", 2, 28, 200, 1024, "", 48),
    "gpu_1x_a16": (UNKNOWN_GPU, 1, 12, 64, 512, "", 64),
    "gpu_1x_a10": ("A10 (24 GB PCIe)", 1, 30, 200, 1400, "pcie", 24),
}


def offer(instance_type: str, region: str, price: str, nodes_available: int | None = None) -> NormalizedOffer:
    external_id = f"{instance_type}:{region}" if region else instance_type
    expected = expected_offer(external_id, region, price, nodes_available, *TYPES[instance_type])
    return replace(expected, instance_type=instance_type)


def a10_sold_out() -> NormalizedOffer:
    """The type with capacity nowhere: one sold-out offer, in no location (the answer names none)."""
    return offer("gpu_1x_a10", "", "0.75", nodes_available=0)


def test_the_saved_response_gives_exact_offers_regions_and_warnings():
    inventory = parse(KIND, payload(SAVED))

    assert inventory.offers == [
        offer("gpu_8x_h100_sxm5", "us-east-1", "2.99"),  # 2392 cents / 100 / 8
        offer("gpu_8x_h100_sxm5", "us-south-1", "2.99"),
        offer("gpu_1x_h100_pcie", "us-west-3", "2.49"),
        offer("gpu_8x_a100_80gb_sxm4", "us-midwest-1", "1.79"),
        # A region no mapping places: the sync holds it back for review, the parse keeps it.
        offer("gpu_8x_a100_80gb_sxm4", "us-southeast-1", "1.79"),
        offer("gpu_2x_a6000", "us-west-1", "0.80"),
        offer("gpu_2x_a6000", "asia-northeast-1", "0.80"),
        offer("gpu_1x_a16", "us-west-1", "0.50"),
        # Capacity nowhere: one sold-out offer, in no location (the answer names none), not dropped.
        a10_sold_out(),
    ]
    # The regions the answer names, with Lambda's own words; their countries are the mappings' (data).
    assert inventory.regions == [
        NormalizedRegion("us-east-1", "", "", "Virginia, USA"),
        NormalizedRegion("us-south-1", "", "", "Texas, USA"),
        NormalizedRegion("us-west-3", "", "", "Utah, USA"),
        NormalizedRegion("us-midwest-1", "", "", ""),  # the answer names it without a description
        NormalizedRegion("us-southeast-1", "", "", "Georgia, USA"),
        NormalizedRegion("us-west-1", "", "", "California, USA"),
        NormalizedRegion("asia-northeast-1", "", "", "Osaka, Japan"),
    ]
    assert inventory.warnings == [
        'Held back, with a price of 0 or none (a GPU is never listed as free): instance type "gpu_1x_gh200".',
    ]


T0 = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)


def test_cpu_only_types_are_ignored():
    offers = parse(KIND, payload(SAVED)).offers

    assert not [offer for offer in offers if offer.external_id.startswith("cpu_")]


def test_a_type_with_capacity_nowhere_is_one_sold_out_offer_in_no_invented_location():
    offers = parse(KIND, payload(SAVED)).offers

    assert [offer for offer in offers if offer.nodes_available == 0] == [a10_sold_out()]
    named = {
        region["name"]
        for item in document(SAVED)["data"].values()
        for region in item["regions_with_capacity_available"]
    }
    assert {offer.region for offer in offers} <= named | {""}


def test_the_gpu_count_comes_from_the_name_when_specs_lack_it():
    data = document(SAVED)
    del data["data"]["gpu_1x_h100_pcie"]["instance_type"]["specs"]

    offer = next(o for o in parse(KIND, data).offers if o.external_id == "gpu_1x_h100_pcie:us-west-3")

    assert (offer.gpus_per_node, offer.price_per_gpu_hour, offer.vcpus, offer.ram_gb) == (
        1,
        Decimal("2.49"),
        None,
        None,
    )


def test_a_malformed_type_is_skipped_with_a_warning_and_the_others_stay():
    data = document(SAVED)
    data["data"]["gpu_1x_h100_pcie"]["instance_type"]["price_cents_per_hour"] = "soon"
    data["data"]["gpu_2x_a6000"]["regions_with_capacity_available"] = "everywhere"

    inventory = parse(KIND, data)

    assert {offer.external_id.split(":")[0] for offer in inventory.offers} == {
        "gpu_8x_h100_sxm5",
        "gpu_8x_a100_80gb_sxm4",
        "gpu_1x_a16",
        "gpu_1x_a10",
    }
    assert inventory.warnings[:2] == [
        'Instance type "gpu_1x_h100_pcie" skipped: its "price_cents_per_hour" "soon" is not a price.',
        'Instance type "gpu_2x_a6000" skipped: its "regions_with_capacity_available" "everywhere" is not a list.',
    ]


@pytest.mark.parametrize(
    ("body", "message", "permanent"),
    [
        (payload("lambda/error_invalid_api_key.json"), "The Lambda API answered with an error: API key was invalid, "
         "expired, or deleted (global/invalid-api-key). Check your API key or create a new one, then try again.", True),
        (b'{"error": {"code": "global/not-found", "message": "Not found."}}', "Not found (global/not-found).", False),
        (b'{"data": []}', 'has no "data" object of instance types', True),
        (b'{"instance_types": []}', 'has no "data" object of instance types', True),
    ],
)  # fmt: skip
def test_an_error_object_or_an_answer_without_data_is_a_clear_error(body, message, permanent):
    error = refusal(KIND, body)

    assert message in str(error)
    assert error.permanent is permanent


@pytest.fixture
def lambda_api(acme, local_server):
    """Acme's Lambda connection, pointing at a local server answering like Lambda."""
    local_server.serve("/api/v1/instance-types", payload(SAVED))
    return make_connection(KIND, local_server.url(""), "secret_lambda-key_123", provider=acme)


def test_a_sync_lists_the_offers_whose_gpu_and_region_are_known(lambda_api, acme):
    run = sync_connection_run(connection=lambda_api)

    assert run.outcome == SyncRun.Outcome.SUCCESS
    # The H100, A100, A6000 and A10 offers are listed; the A16 one waits for the review queue, and
    # so does the offer in us-southeast-1, a region no mapping places.
    assert (run.created, run.skipped) == (2 + 1 + 1 + 2 + 1, 2)
    offer = Offer.objects.get(provider=acme, external_id="gpu_8x_h100_sxm5:us-east-1")
    assert (offer.gpu_model.name, offer.region.country.code, offer.nodes_available) == ("H100 SXM 80GB", "US", None)
    assert offer.price_per_gpu_hour == Decimal("2.99")
    sold_out = Offer.objects.get(provider=acme, external_id="gpu_1x_a10")
    assert (sold_out.region, sold_out.country.code, sold_out.nodes_available) == (None, "", 0)
    assert not Offer.objects.filter(provider=acme, external_id__startswith="gpu_1x_a16").exists()
    assert any(UNKNOWN_GPU in warning for warning in run.warnings)
    review = GpuNameReview.objects.get(raw_name=UNKNOWN_GPU)
    assert (list(review.providers.all()), review.offers_held) == ([acme], 1)


def test_the_held_offer_appears_once_an_admin_maps_its_gpu_name(lambda_api, acme):
    sync_connection_run(connection=lambda_api)
    a16_model = GpuModel.objects.create(
        slug="a16", name="A16 64GB", architecture="Ampere", memory_gb=64, memory_type="GDDR6", form_factor="pcie"
    )
    gpu_name_review_map(review=GpuNameReview.objects.get(raw_name=UNKNOWN_GPU), gpu_model=a16_model, now=T0)

    run = sync_connection_run(connection=lambda_api)

    assert (run.created, run.skipped) == (1, 1)  # us-southeast-1 still placed nowhere
    offer = Offer.objects.get(provider=acme, external_id="gpu_1x_a16:us-west-1")
    assert (offer.gpu_model, offer.region.country.code, offer.price_per_gpu_hour) == (a16_model, "US", Decimal("0.50"))


@pytest.mark.django_db
def test_the_parse_command_prints_the_offers_of_a_saved_response():
    offers = printed_offers(KIND, SAVED)

    assert offers[0] == {
        "external_id": "gpu_8x_h100_sxm5:us-east-1",
        "gpu_model": "H100 SXM 80GB",
        "gpu_model_raw": "H100 (80 GB SXM5)",
        "gpus_per_node": 8,
        "gpu_memory_gb": 80,
        "vcpus": 208,
        "ram_gb": 1800,
        "region": "us-east-1",
        "country": "US",
        "pricing_type": "on_demand",
        "price_per_gpu_hour": "2.99",
        "currency": "USD",
        "available": True,
        "available_gpus": None,
        "interconnect": "sxm",
    }
    a6000_offer = next(offer for offer in offers if offer["external_id"] == "gpu_2x_a6000:asia-northeast-1")
    assert (a6000_offer["gpu_model"], a6000_offer["country"], a6000_offer["interconnect"]) == (
        "RTX A6000 48GB",
        "JP",
        "pcie",
    )
    a16_offer = next(offer for offer in offers if offer["external_id"] == "gpu_1x_a16:us-west-1")
    assert (a16_offer["gpu_model"], a16_offer["country"], a16_offer["interconnect"]) == (None, "US", None)
    a10 = next(offer for offer in offers if offer["external_id"] == "gpu_1x_a10")
    assert (a10["gpu_model"], a10["region"], a10["country"], a10["available"], a10["available_gpus"]) == (
        "A10 24GB",
        None,
        None,
        False,
        0,
    )
    assert len(offers) == 7 + 1 + 1
    southeast = next(offer for offer in offers if offer["region"] == "us-southeast-1")
    assert southeast["country"] is None  # no mapping places it: never guessed

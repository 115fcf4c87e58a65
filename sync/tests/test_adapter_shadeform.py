"""Shadeform: exact offers per cloud and region from a saved answer, GPU names with form and memory,
error bodies, a sync. What every adapter promises is in test_adapter_contract.py."""

import json
from dataclasses import replace
from decimal import Decimal

import pytest

from marketplace.inventory import NormalizedOffer, NormalizedRegion
from marketplace.models import GpuModel, GpuNameReview, Offer
from sync.engine import sync_connection_run
from sync.models import SyncRun
from sync.tests.support import document, expected_offer, make_connection, parse, payload, printed_offers, refusal

KIND = "shadeform"
SAVED = "shadeform/instance_types.json"
# NVIDIA A16 (Vultr's vcg-a16 type): a real GPU that the catalogue does not list. The saved
# response has it, so the tests see the review queue at work: its offer is held back, never guessed.
UNKNOWN_GPU = "A16 pcie 16GB"


@pytest.fixture(autouse=True)
def _a16_unknown(db):
    """The A16 is in the catalogue now; these tests take it out, as the GPU no alias knows."""
    GpuModel.objects.filter(slug="a16").delete()


# The saved answer's types, by "cloud:cloud_instance_type" (the instance type an offer names is the
# part after the colon): price per GPU-hour, GPU name, GPUs, vCPUs, RAM GB, storage GB, interconnect, VRAM GB
TYPES = {
    "lambdalabs:gpu_8x_h100_sxm5": ("2.99", "H100 sxm5 80GB", 8, 208, 1800, 24780, "nvlink", 80),  # 2392 ¢/8
    "hyperstack:n3-RTX-A6000x1": ("0.50", "A6000 pcie 48GB", 1, 8, 58, 100, "pcie", 48),
    "datacrunch:8A100.176V": ("1.29", "A100_80G sxm4 80GB", 8, 176, 960, 2000, "nvlink", 80),
    # Optional fields missing: no interconnect (so the bare gpu_type), no storage, no VRAM.
    "massedcompute:gpu_1x_l40s": ("1.10", "L40S", 1, 16, 64, None, "", None),
    # Specs at the top level instead of in "configuration".
    "crusoe:h200-141gb-sxm-ib.8x": ("4.30", "H200 sxm5 141GB", 8, 176, 1920, 7680, "nvlink", 141),
    "vultr:vcg-a16-6c-64g-16vram": ("0.47", UNKNOWN_GPU, 1, 6, 64, 350, "pcie", 16),
}


def offer(instance_type: str, region: str, available: bool = True) -> NormalizedOffer:
    price, *specs = TYPES[instance_type]
    expected = expected_offer(f"{instance_type}:{region}", region, price, None if available else 0, *specs)
    return replace(expected, instance_type=instance_type.partition(":")[2])


def test_the_saved_response_gives_exact_offers_regions_and_warnings():
    inventory = parse(KIND, payload(SAVED))

    assert inventory.offers == [
        offer("lambdalabs:gpu_8x_h100_sxm5", "dulles-usa-1"),
        offer("lambdalabs:gpu_8x_h100_sxm5", "houston-usa-1", available=False),
        offer("hyperstack:n3-RTX-A6000x1", "canada-1"),
        offer("hyperstack:n3-RTX-A6000x1", "norway-1", available=False),
        offer("datacrunch:8A100.176V", "helsinki-finland-1"),
        offer("datacrunch:8A100.176V", "reykjanesbaer-iceland-1", available=False),
        offer("massedcompute:gpu_1x_l40s", "kansascity-usa-1"),
        # Stockholm: in no table, but its display name, "SE, Stockholm", says where.
        offer("massedcompute:gpu_1x_l40s", "stockholm-sweden-1"),
        # The spot entry is not an on-demand offer.
        offer("crusoe:h200-141gb-sxm-ib.8x", "us-east1-a", available=False),
        offer("crusoe:h200-141gb-sxm-ib.8x", "eu-iceland1-a"),
        offer("vultr:vcg-a16-6c-64g-16vram", "us-east-1"),
    ]
    # Each region where its display name says: "SE, Stockholm" is Sweden (no table needed); what
    # follows the country is kept as the region's name, not claimed as a city.
    assert inventory.regions == [
        NormalizedRegion("dulles-usa-1", "US", "", "US, Dulles, VA"),
        NormalizedRegion("houston-usa-1", "US", "", "US, Houston, TX"),
        NormalizedRegion("canada-1", "CA", "", "CA, Montreal, QC"),
        NormalizedRegion("norway-1", "NO", "", "NO, Oslo"),
        NormalizedRegion("helsinki-finland-1", "FI", "", "FI, Helsinki"),
        NormalizedRegion("reykjanesbaer-iceland-1", "IS", "", "IS, Reykjanesbaer"),
        NormalizedRegion("kansascity-usa-1", "US", "", "US, Kansas City, KS"),
        NormalizedRegion("stockholm-sweden-1", "SE", "", "SE, Stockholm"),
        NormalizedRegion("us-east1-a", "US", "", "US, Virginia"),
        NormalizedRegion("eu-iceland1-a", "IS", "", "IS, Iceland"),
        NormalizedRegion("us-east-1", "US", "", "US, New Jersey"),
    ]
    assert inventory.warnings == [
        "Held back, with a price of 0 or none (a GPU is never listed as free): "
        'instance type "vultr:vcg-a40-1c-6g-48vram".',
    ]


def test_cpu_only_types_are_ignored():
    assert not [offer for offer in parse(KIND, payload(SAVED)).offers if "voc-c-16c" in offer.external_id]


def test_the_same_type_on_two_clouds_gives_two_offers_with_the_cloud_in_the_id():
    data = document(SAVED)
    twin = json.loads(json.dumps(data["instance_types"][0]))
    twin["cloud"] = "denvr"
    data["instance_types"] = [data["instance_types"][0], twin]

    ids = [offer.external_id for offer in parse(KIND, data).offers]

    assert ids == [
        "lambdalabs:gpu_8x_h100_sxm5:dulles-usa-1",
        "lambdalabs:gpu_8x_h100_sxm5:houston-usa-1",
        "denvr:gpu_8x_h100_sxm5:dulles-usa-1",
        "denvr:gpu_8x_h100_sxm5:houston-usa-1",
    ]


def test_a_type_listing_no_region_gives_no_offer_but_says_so():
    data = {"instance_types": [document(SAVED)["instance_types"][0] | {"availability": []}]}

    inventory = parse(KIND, data)

    assert (inventory.offers, inventory.warnings) == (
        [],
        ["1 instance type(s) list no region at all and give no offer."],
    )


def test_a_malformed_type_is_skipped_with_a_warning_and_the_others_stay():
    data = document(SAVED)
    data["instance_types"][0]["hourly_price"] = None
    data["instance_types"][1]["configuration"]["num_gpus"] = "one"

    inventory = parse(KIND, data)

    assert inventory.offers[0].external_id == "datacrunch:8A100.176V:helsinki-finland-1"
    assert inventory.warnings[:2] == [
        'instance_types[0] skipped: its "hourly_price" is missing.',
        'instance_types[1] skipped: its "configuration.num_gpus" "one" is not a whole number.',
    ]


@pytest.mark.parametrize(
    ("body", "message", "permanent"),
    [
        (b'{"error": "Invalid API key"}', "The Shadeform API answered with an error: Invalid API key", False),
        (b'{"message": "Internal server error"}', "answered with an error: Internal server error", False),
        (b'{"data": {}}', 'has no "instance_types" list', True),
        (b'{"instance_types": {"A6000": {}}}', 'has no "instance_types" list', True),
    ],
)
def test_an_error_body_or_an_answer_without_instance_types_is_a_clear_error(body, message, permanent):
    error = refusal(KIND, body)

    assert message in str(error)
    assert error.permanent is permanent


@pytest.fixture
def shadeform_api(acme, local_server):
    local_server.serve("/v1/instances/types", payload(SAVED))
    return make_connection(KIND, local_server.url(""), "sf-key-42", provider=acme)


def test_a_sync_lists_offers_with_known_gpu_names_and_regions(shadeform_api, acme):
    run = sync_connection_run(connection=shadeform_api)

    assert run.outcome == SyncRun.Outcome.SUCCESS
    listed = dict(Offer.objects.filter(provider=acme).values_list("external_id", "gpu_model__name"))
    # Not the A16 (review queue); the L40S in Stockholm is placed by its display name.
    assert listed == {
        "massedcompute:gpu_1x_l40s:stockholm-sweden-1": "L40S 48GB",
        "lambdalabs:gpu_8x_h100_sxm5:dulles-usa-1": "H100 SXM 80GB",
        "lambdalabs:gpu_8x_h100_sxm5:houston-usa-1": "H100 SXM 80GB",
        "hyperstack:n3-RTX-A6000x1:canada-1": "RTX A6000 48GB",
        "hyperstack:n3-RTX-A6000x1:norway-1": "RTX A6000 48GB",
        "datacrunch:8A100.176V:helsinki-finland-1": "A100 SXM 80GB",
        "datacrunch:8A100.176V:reykjanesbaer-iceland-1": "A100 SXM 80GB",
        "massedcompute:gpu_1x_l40s:kansascity-usa-1": "L40S 48GB",
        "crusoe:h200-141gb-sxm-ib.8x:us-east1-a": "H200 SXM 141GB",
        "crusoe:h200-141gb-sxm-ib.8x:eu-iceland1-a": "H200 SXM 141GB",
    }
    assert GpuNameReview.objects.get(raw_name=UNKNOWN_GPU).offers_held == 1
    houston = Offer.objects.get(provider=acme, external_id="lambdalabs:gpu_8x_h100_sxm5:houston-usa-1")
    assert (houston.region.country.code, houston.nodes_available, houston.price_per_gpu_hour) == (
        "US",
        0,
        Decimal("2.99"),
    )


@pytest.mark.django_db
def test_the_parse_command_prints_the_offers_of_a_saved_response():
    offers = printed_offers(KIND, SAVED)

    assert offers[1] == {
        "external_id": "lambdalabs:gpu_8x_h100_sxm5:houston-usa-1",
        "gpu_model": "H100 SXM 80GB",
        "gpu_model_raw": "H100 sxm5 80GB",
        "gpus_per_node": 8,
        "gpu_memory_gb": 80,
        "vcpus": 208,
        "ram_gb": 1800,
        "region": "houston-usa-1",
        "country": "US",
        "pricing_type": "on_demand",
        "price_per_gpu_hour": "2.99",
        "currency": "USD",
        "available": False,
        "available_gpus": 0,
        "interconnect": "sxm",
    }
    assert [(offer["external_id"], offer["country"]) for offer in offers][2:4] == [
        ("hyperstack:n3-RTX-A6000x1:canada-1", "CA"),
        ("hyperstack:n3-RTX-A6000x1:norway-1", "NO"),
    ]

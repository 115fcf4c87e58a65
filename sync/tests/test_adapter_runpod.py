"""RunPod: the GraphQL query, exact offers from a saved answer, stock levels, Community Cloud held
back, GraphQL errors, a sync. What every adapter promises is in test_adapter_contract.py."""

from dataclasses import replace
from decimal import Decimal

import pytest

from marketplace.inventory import NormalizedOffer, NormalizedRegion
from marketplace.models import GpuAlias, Offer
from sync.adapters.runpod import QUERY
from sync.engine import sync_connection_run
from sync.models import SyncRun
from sync.tests.support import document, expected_offer, make_connection, parse, payload, printed_offers, refusal

KIND = "runpod"
SAVED = "runpod/gpu_inventory.json"
H100, A100, RTX4090, L40S, H200 = (
    "NVIDIA H100 80GB HBM3",
    "NVIDIA A100 80GB PCIe",
    "NVIDIA GeForce RTX 4090",
    "NVIDIA L40S",
    "NVIDIA H200",
)
MI300X = "AMD Instinct MI300X OAM"


def secure(center, gpu, pricing, price, nodes, *, memory, vcpus=None, ram=None) -> NormalizedOffer:
    external_id = f"{center}/{gpu}/1x/{pricing}"
    expected = expected_offer(
        external_id, center, price, nodes, gpu, 1, vcpus, ram, memory=memory, pricing_type=pricing
    )
    return replace(expected, gpu_form_factor=FORMS.get(gpu, ""))


# What each type's displayName says of its form factor ("H100 SXM", "A100 PCIe").
FORMS = {H100: "sxm", A100: "pcie", H200: "sxm"}

EXPECTED_OFFERS = [
    # High / Medium / Low stock: available, count not published (None).
    secure("EU-RO-1", H100, "on_demand", "2.99", None, memory=80, vcpus=16, ram=125),
    secure("EU-RO-1", H100, "spot", "1.75", None, memory=80, vcpus=16, ram=125),
    secure("US-TX-3", H100, "on_demand", "2.99", None, memory=80, vcpus=16, ram=125),
    secure("US-TX-3", H100, "spot", "1.75", None, memory=80, vcpus=16, ram=125),
    # secureSpotPrice null: no spot offer.
    secure("EU-RO-1", A100, "on_demand", "1.64", None, memory=80, vcpus=8, ram=117),
    secure("CA-MTL-1", A100, "on_demand", "1.64", None, memory=80, vcpus=8, ram=117),
    secure("EU-RO-1", RTX4090, "on_demand", "0.69", None, memory=24, vcpus=6, ram=29),
    secure("EU-RO-1", RTX4090, "spot", "0.35", None, memory=24, vcpus=6, ram=29),
    # An empty stock status in a data center: sold out there, listed as such.
    secure("US-TX-3", RTX4090, "on_demand", "0.69", 0, memory=24, vcpus=6, ram=29),
    secure("US-TX-3", RTX4090, "spot", "0.35", 0, memory=24, vcpus=6, ram=29),
    # Sold out everywhere (null stock), and lowestPrice's figures all null: still listed.
    secure("EU-RO-1", L40S, "on_demand", "0.86", 0, memory=48),
    secure("EU-RO-1", L40S, "spot", "0.26", 0, memory=48),
    secure("CA-MTL-1", L40S, "on_demand", "0.86", 0, memory=48),
    secure("CA-MTL-1", L40S, "spot", "0.26", 0, memory=48),
    # Optional fields missing (no spot prices, no lowestPrice).
    secure("US-TX-3", H200, "on_demand", "3.99", None, memory=141),
    # A data center no mapping places: the offer keeps its id as region (the sync holds it back
    # for review unless the provider adds that region on the dashboard).
    secure("AP-KR-1", H200, "on_demand", "3.99", None, memory=141),
    secure("EU-RO-1", MI300X, "on_demand", "2.49", None, memory=192, vcpus=24, ram=283),
]


def test_a_saved_answer_gives_exact_offers_regions_and_warnings():
    inventory = parse(KIND, payload(SAVED))

    assert inventory.offers == EXPECTED_OFFERS
    # RunPod's answer places no data center in a country: the region mappings (data) do.
    assert inventory.regions == [
        NormalizedRegion(code=code, country="") for code in ("EU-RO-1", "US-TX-3", "CA-MTL-1", "AP-KR-1")
    ]
    assert inventory.warnings == [
        "Held back, with a price of 0 or none (a GPU is never listed as free): NVIDIA A40 (Secure Cloud on-demand).",
        "On Secure Cloud but in no data center's availability, so not listed: NVIDIA B200.",
        "Held back 7 Community Cloud prices: RunPod's API gives no location for Community Cloud, and the catalog "
        "lists an offer only with its country.",
    ]


def test_every_gpu_name_resolves_with_the_facts_runpod_states(db):
    # A new RunPod name the catalogue lacks fails here: add it to the catalogue's aliases. RunPod's id
    # "NVIDIA H200" says neither SXM nor NVL (both 141 GB); its displayName "H200 SXM" does.
    offers = parse(KIND, payload(SAVED)).offers  # the demo's answer: test_adapter_contract.py

    resolutions = GpuAlias.objects.resolve_facts({offer.gpu_query for offer in offers})

    assert [query.name for query, resolution in resolutions.items() if not resolution.resolved] == []
    h200 = next(resolution for query, resolution in resolutions.items() if query.name == H200)
    assert h200.gpu_model.slug == "h200"
    assert GpuAlias.objects.resolve(H200) is None  # the name alone stays ambiguous


def test_the_query_asks_the_lowest_price_of_one_gpu_pods():
    assert "lowestPrice(input: {gpuCount: 1})" in QUERY


def test_the_placeholder_type_unknown_is_skipped():
    assert all(offer.gpu_model_raw != "unknown" for offer in parse(KIND, payload(SAVED)).offers)


@pytest.mark.parametrize(
    ("status", "nodes"),
    [("High", None), ("Medium", None), ("Low", None), ("low", None), (None, 0), ("", 0), ("None", 0)],
)
def test_stock_status_is_available_without_a_count_or_sold_out(status, nodes):
    answer = document(SAVED)
    answer["data"]["dataCenters"][0]["gpuAvailability"][0]["stockStatus"] = status

    offer = parse(KIND, answer).offers[0]

    assert (offer.external_id, offer.nodes_available) == (f"EU-RO-1/{H100}/1x/on_demand", nodes)


def test_an_unknown_stock_status_reads_as_sold_out_with_a_warning():
    answer = document(SAVED)
    answer["data"]["dataCenters"][0]["gpuAvailability"][0]["stockStatus"] = "Plenty"

    inventory = parse(KIND, answer)

    assert inventory.offers[0].nodes_available == 0
    assert inventory.warnings[-1] == "Unknown RunPod stock statuses read as sold out: Plenty."


def test_a_zero_spot_price_is_held_back_and_a_string_price_is_read():
    answer = document(SAVED)
    h100 = answer["data"]["gpuTypes"][0]
    h100["secureSpotPrice"], h100["securePrice"] = 0, "3.10"

    inventory = parse(KIND, answer)

    h100_offers = [offer for offer in inventory.offers if offer.gpu_model_raw == H100]
    assert [(offer.pricing_type, offer.price_per_gpu_hour) for offer in h100_offers] == [
        ("on_demand", Decimal("3.10")),
        ("on_demand", Decimal("3.10")),
    ]
    assert "NVIDIA H100 80GB HBM3 (Secure Cloud spot)" in inventory.warnings[0]


def test_graphql_errors_fail_with_runpods_message():
    error = refusal(KIND, {"errors": [{"message": "Invalid API key", "path": ["gpuTypes"]}], "data": None})

    assert str(error) == "RunPod's API returned an error: Invalid API key"
    assert not error.permanent


def test_partial_data_with_errors_is_not_used():
    answer = document(SAVED)
    answer["errors"] = [{"message": "Something went wrong on dataCenters"}]

    assert "Something went wrong on dataCenters" in str(refusal(KIND, answer))


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"message": "Not found"}, 'no "data" object'),
        ({"data": {"gpuTypes": "none"}}, 'data.gpuTypes should be a list, not "none"'),
        ({"data": {"gpuTypes": []}}, "data.dataCenters should be a list, not null"),
        (
            {"data": {"gpuTypes": [], "dataCenters": [{"id": "EU-RO-1", "gpuAvailability": [{"stock": 1}]}]}},
            "None of the 1 data centers in RunPod's answer could be read: dataCenters[0] skipped: "
            'its "gpuAvailability[].gpuTypeId" is missing.',
        ),
    ],
)
def test_an_answer_without_both_lists_is_refused_clearly(answer, message):
    error = refusal(KIND, answer)

    assert message in str(error)
    assert error.permanent


@pytest.mark.parametrize(
    ("change", "warning"),
    [
        ({"id": ""}, 'gpuTypes[0] skipped: its "id" is missing.'),
        ({"securePrice": "cheap"}, 'gpuTypes[0] skipped: its "securePrice" "cheap" is not a price.'),
        ({"secureSpotPrice": -1}, 'gpuTypes[0] skipped: its "secureSpotPrice" -1 is not a price.'),
        ({"memoryInGb": True}, 'gpuTypes[0] skipped: its "memoryInGb" true is not a number.'),
        ({"lowestPrice": 7}, 'gpuTypes[0] skipped: its "lowestPrice" 7 is not an object.'),
    ],
)
def test_a_gpu_type_that_cannot_be_read_is_skipped_with_a_warning_naming_it(change, warning):
    answer = document(SAVED)
    answer["data"]["gpuTypes"][0].update(change)

    inventory = parse(KIND, answer)

    assert inventory.offers == [offer for offer in EXPECTED_OFFERS if offer.gpu_model_raw != H100]
    assert inventory.warnings[0] == warning


def test_a_data_center_that_cannot_be_read_is_skipped_with_a_warning_naming_it():
    answer = document(SAVED)
    answer["data"]["dataCenters"][2]["gpuAvailability"][0] = {"stock": 1}

    inventory = parse(KIND, answer)

    assert inventory.offers == [offer for offer in EXPECTED_OFFERS if offer.region != "CA-MTL-1"]
    assert inventory.warnings[0] == 'dataCenters[2] skipped: its "gpuAvailability[].gpuTypeId" is missing.'


# --- Over HTTP ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_sync_lists_located_offers_and_holds_back_the_rest(acme, local_server):
    local_server.serve("/graphql", payload(SAVED))
    connection = make_connection(KIND, local_server.url(""), "rp-key", provider=acme)

    run = sync_connection_run(connection=connection)

    assert (run.outcome, run.error) == (SyncRun.Outcome.SUCCESS, "")
    # AP-KR-1 (a data center no mapping places) is held back; the AMD type is in the catalogue now.
    assert (run.created, run.skipped) == (16, 1)
    listed = Offer.objects.filter(provider=acme).order_by("external_id")
    assert {offer.region.code: offer.country.code for offer in listed} == {
        "CA-MTL-1": "CA",
        "EU-RO-1": "RO",
        "US-TX-3": "US",
    }
    h100 = listed.get(external_id=f"US-TX-3/{H100}/1x/spot")
    assert (h100.gpu_model.slug, h100.price_per_gpu_hour, h100.nodes_available) == ("h100-sxm", Decimal("1.75"), None)
    assert listed.get(external_id=f"EU-RO-1/{L40S}/1x/on_demand").nodes_available == 0
    assert any("Community Cloud" in warning for warning in run.warnings)


# --- parse_provider_payload ---------------------------------------------------------------------


EXPECTED_FIRST_ROWS = [
    {
        "external_id": f"EU-RO-1/{H100}/1x/on_demand",
        "gpu_model": "H100 SXM 80GB",
        "gpu_model_raw": H100,
        "gpus_per_node": 1,
        "gpu_memory_gb": 80,
        "vcpus": 16,
        "ram_gb": 125,
        "region": "EU-RO-1",
        "country": "RO",
        "pricing_type": "on_demand",
        "price_per_gpu_hour": "2.99",
        "currency": "USD",
        "available": True,
        "available_gpus": None,
        "interconnect": "sxm",
    },
    {
        "external_id": f"EU-RO-1/{H100}/1x/spot",
        "gpu_model": "H100 SXM 80GB",
        "gpu_model_raw": H100,
        "gpus_per_node": 1,
        "gpu_memory_gb": 80,
        "vcpus": 16,
        "ram_gb": 125,
        "region": "EU-RO-1",
        "country": "RO",
        "pricing_type": "spot",
        "price_per_gpu_hour": "1.75",
        "currency": "USD",
        "available": True,
        "available_gpus": None,
        "interconnect": "sxm",
    },
]


@pytest.mark.django_db
def test_the_command_prints_the_normalized_offers_of_a_saved_answer():
    rows = printed_offers(KIND, SAVED)

    assert [row["external_id"] for row in rows] == [offer.external_id for offer in EXPECTED_OFFERS]
    assert rows[:2] == EXPECTED_FIRST_ROWS
    by_id = {row["external_id"]: row for row in rows}
    sold_out = by_id[f"US-TX-3/{RTX4090}/1x/on_demand"]
    assert (sold_out["gpu_model"], sold_out["available"], sold_out["available_gpus"], sold_out["interconnect"]) == (
        "RTX 4090 24GB",
        False,
        0,
        "pcie",
    )
    no_country = by_id[f"AP-KR-1/{H200}/1x/on_demand"]
    assert (no_country["country"], no_country["gpu_model"]) == (None, "H200 SXM 141GB")  # displayName: "H200 SXM"
    assert by_id[f"EU-RO-1/{MI300X}/1x/on_demand"]["gpu_model"] == "Instinct MI300X 192GB"
    # Every name RunPod uses here resolves.
    assert all(row["gpu_model"] for row in rows)

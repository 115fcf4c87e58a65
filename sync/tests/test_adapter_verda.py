"""Verda (DataCrunch): the OAuth token step, the combined payload, exact on-demand and spot offers,
error bodies, a sync. What every adapter promises is in test_adapter_contract.py."""

import json
from decimal import Decimal

import pytest

from marketplace.inventory import NormalizedOffer, NormalizedRegion
from marketplace.models import GpuModel, GpuNameReview, Offer
from portal.lib.http import GuardedClient
from portal.testing import Reply
from sync.adapters.base import AdapterError
from sync.engine import inventory_fetch, sync_connection_run
from sync.models import SyncRun
from sync.tests.support import document, make_connection, parse, payload, printed_offers, refusal

KIND = "verda"
SAVED = "verda/combined.json"
# NVIDIA A16: a real GPU that the catalogue does not list. The saved payload has one instance type
# with it, so the tests see the review queue at work: its offer is held back, never guessed.
UNKNOWN_GPU = "A16 16GB"


@pytest.fixture(autouse=True)
def _a16_unknown(db):
    """The A16 is in the catalogue now; these tests take it out, as the GPU no alias knows."""
    GpuModel.objects.filter(slug="a16").delete()


def offer(instance_type: str, location: str, plan: str, price: str, available: bool, **specs) -> NormalizedOffer:
    return NormalizedOffer(
        external_id=f"{instance_type}:{location}:{plan}" if location else f"{instance_type}:{plan}",
        instance_type=instance_type,
        region=location,
        pricing_type=plan,
        price_per_gpu_hour=Decimal(price),
        currency="USD",
        nodes_available=None if available else 0,
        **specs,
    )


H100_1X = {
    "gpu_model_raw": "H100 SXM5 80GB",
    "gpus_per_node": 1,
    "vcpus": 30,
    "ram_gb": 120,
    "gpu_interconnect": "nvlink",
    "gpu_memory_gb": 80,
}
H100_8X = H100_1X | {"gpus_per_node": 8, "vcpus": 176, "ram_gb": 1480}  # gpu_memory 640 GB is for the 8 GPUs
A100 = {
    "gpu_model_raw": "A100 SXM4 80GB",
    "gpus_per_node": 1,
    "vcpus": 22,
    "ram_gb": 120,
    "gpu_interconnect": "nvlink",
    "gpu_memory_gb": 80,
}
V100 = {
    "gpu_model_raw": "Tesla V100 16GB",
    "gpus_per_node": 1,
    "vcpus": 6,
    "ram_gb": 23,
    "storage_gb": 225,
    "gpu_memory_gb": 16,
}


def test_the_saved_payload_gives_exact_on_demand_and_spot_offers():
    inventory = parse(KIND, payload(SAVED))

    assert inventory.offers == [
        offer("1H100.80S.30V", "FIN-01", "on_demand", "2.29", True, **H100_1X),
        offer("1H100.80S.30V", "FIN-03", "on_demand", "2.29", True, **H100_1X),
        offer("1H100.80S.30V", "FIN-03", "spot", "1.15", True, **H100_1X),
        offer("8H100.80S.176V", "FIN-03", "on_demand", "2.29", True, **H100_8X),  # 18.32 / 8
        # Spot-priced but spot-free nowhere: one sold-out offer, in no invented location, not dropped.
        offer("8H100.80S.176V", "", "spot", "1.145", False, **H100_8X),
        offer("1A100.22V", "FIN-01", "on_demand", "1.29", True, **A100),
        # A location no mapping places: the sync holds it back for review; the parse keeps it.
        offer("1A100.22V", "NOR-01", "on_demand", "1.29", True, **A100),
        offer("1A100.22V", "FIN-01", "spot", "0.45", True, **A100),
        offer("1V100.6V", "ICE-01", "on_demand", "0.39", True, **V100),
        offer("1V100.6V", "", "spot", "0.14", False, **V100),
        # No spot_price, no gpu_memory, a numeric price: on-demand only.
        offer(
            "1B200.30V",
            "FIN-03",
            "on_demand",
            "3.99",
            True,
            gpu_model_raw="B200 SXM6 180GB",
            gpus_per_node=1,
            vcpus=30,
            ram_gb=184,
            gpu_interconnect="nvlink",
        ),
        offer(
            "1RTX6000ADA.10V",
            "FIN-01",
            "on_demand",
            "0.89",
            True,
            gpu_model_raw="RTX 6000 Ada 48GB",
            gpus_per_node=1,
            vcpus=10,
            ram_gb=60,
            gpu_memory_gb=48,
        ),
        # No spot_price: on-demand only.
        offer(
            "1A16.6V",
            "FIN-02",
            "on_demand",
            "0.25",
            True,
            gpu_model_raw=UNKNOWN_GPU,
            gpus_per_node=1,
            vcpus=6,
            ram_gb=32,
            gpu_memory_gb=16,
        ),
    ]
    # The locations the answer names; it states no country: the region mappings (data) place them.
    assert inventory.regions == [
        NormalizedRegion(code, "") for code in ("FIN-01", "FIN-03", "NOR-01", "ICE-01", "FIN-02")
    ]
    assert inventory.warnings == [
        "Held back, with a price of 0 or none (a GPU is never listed as free): "
        'instance type "1RTX6000ADA.10V" (spot_price), instance type "1RTXPRO6000.30V" (price_per_hour).',
    ]


def test_cpu_only_types_are_ignored():
    assert not [offer for offer in parse(KIND, payload(SAVED)).offers if offer.external_id.startswith("CPU.")]


def test_a_type_free_nowhere_is_one_sold_out_offer_in_no_invented_location():
    offers = parse(KIND, payload(SAVED)).offers

    sold_out = [(offer.external_id, offer.region) for offer in offers if offer.nodes_available == 0]
    assert sold_out == [("8H100.80S.176V:spot", ""), ("1V100.6V:spot", "")]
    named = {
        entry["location_code"] for part in ("availability", "spot_availability") for entry in document(SAVED)[part]
    }
    assert {offer.region for offer in offers} <= named | {""}


def test_the_gpu_name_falls_back_to_the_gpu_description_then_the_model():
    data = document(SAVED)
    del data["instance_types"][0]["name"]
    del data["instance_types"][2]["name"]
    data["instance_types"][2]["gpu"]["description"] = ""

    names = {offer.external_id.split(":")[0]: offer.gpu_model_raw for offer in parse(KIND, data).offers}

    assert (names["1H100.80S.30V"], names["1A100.22V"]) == ("H100 SXM5 80GB", "A100")


def test_a_malformed_type_is_skipped_with_a_warning_and_the_others_stay():
    data = document(SAVED)
    data["instance_types"][0]["price_per_hour"] = "ask us"
    data["instance_types"][2]["gpu"] = {"description": "1x A100 SXM4 80GB"}

    inventory = parse(KIND, data)

    assert {offer.external_id.split(":")[0] for offer in inventory.offers} == {
        "8H100.80S.176V",
        "1V100.6V",
        "1B200.30V",
        "1RTX6000ADA.10V",
        "1A16.6V",
    }
    assert inventory.warnings[:2] == [
        'Instance type "1H100.80S.30V" skipped: its "price_per_hour" "ask us" is not a price.',
        'Instance type "1A100.22V" skipped: its "gpu.number_of_gpus" is missing.',
    ]


def test_a_location_that_cannot_be_read_is_skipped_with_a_warning_naming_it():
    data = document(SAVED)
    data["availability"].insert(1, {"location": "FIN-02"})

    inventory = parse(KIND, data)

    assert inventory.offers == parse(KIND, payload(SAVED)).offers
    assert inventory.warnings[0] == 'availability[1] skipped: its "location_code" is missing.'


@pytest.mark.parametrize(
    ("body", "message", "permanent"),
    [
        # One endpoint's answer instead of the combined payload.
        (payload("verda/instance_types.json"), "The Verda payload must be a JSON object, not an array.", True),
        (json.dumps({"instance_types": [], "availability": []}).encode(), "lacks spot_availability", True),
        (payload("verda/error_unauthorized.json"), "answered with an error: Access token is missing or invalid "
         "(unauthorized_request)", True),
        (json.dumps({"instance_types": {"code": "server_error", "message": "Oops"}, "availability": [],
                     "spot_availability": []}).encode(), "answered with an error: Oops (server_error)", False),
        (json.dumps({"instance_types": [], "availability": {"FIN-01": []}, "spot_availability": []}).encode(),
         'The Verda "availability" must be the list', True),
        (json.dumps({"instance_types": [], "availability": [{"location": "FIN-01"}], "spot_availability": []}).encode(),
         'None of the 1 locations in the Verda "availability" could be read: availability[0] skipped: its '
         '"location_code" is missing.', True),
    ],
)  # fmt: skip
def test_a_payload_that_is_not_the_combined_answers_is_a_clear_error(body, message, permanent):
    error = refusal(KIND, body)

    assert message in str(error)
    assert error.permanent is permanent


def serve_verda(local_server) -> None:
    local_server.serve("/v1/oauth2/token", payload("verda/oauth_token.json"))
    local_server.serve("/v1/instance-types", payload("verda/instance_types.json"))
    # The adapter asks for on-demand availability first, then spot.
    local_server.serve(
        "/v1/instance-availability", payload("verda/availability.json"), payload("verda/spot_availability.json")
    )


@pytest.fixture
def verda_api(acme, local_server):
    serve_verda(local_server)
    return make_connection(KIND, local_server.url("/v1"), "client-id-123:secret:with-colons", provider=acme)


def test_credentials_without_a_colon_are_refused_before_any_request(verda_api, local_server):
    verda_api.set_credentials("only-a-client-id")

    with GuardedClient() as client, pytest.raises(AdapterError) as caught:
        inventory_fetch(connection=verda_api, client=client)

    assert "client_id:client_secret" in str(caught.value)
    assert caught.value.permanent
    assert local_server.requests == []


def test_a_token_answer_without_an_access_token_is_an_error(verda_api, local_server):
    local_server.serve("/v1/oauth2/token", {"token_type": "Bearer"})

    with GuardedClient() as client, pytest.raises(AdapterError) as caught:
        inventory_fetch(connection=verda_api, client=client)

    assert str(caught.value) == "The Verda token endpoint answered without an access token."


def test_rejected_client_credentials_fail_the_sync(verda_api, local_server):
    local_server.serve("/v1/oauth2/token", Reply(payload("verda/error_unauthorized.json"), status=401))

    run = sync_connection_run(connection=verda_api)

    assert run.outcome == SyncRun.Outcome.FAILED
    assert "rejected our credentials" in run.error
    assert local_server.hits("/v1/instance-types") == 0


def test_a_sync_lists_on_demand_and_spot_offers(verda_api, acme):
    run = sync_connection_run(connection=verda_api)

    assert run.outcome == SyncRun.Outcome.SUCCESS
    spot = Offer.objects.get(provider=acme, external_id="1A100.22V:FIN-01:spot")
    assert (spot.gpu_model.name, spot.pricing_type, spot.price_per_gpu_hour) == (
        "A100 SXM 80GB",
        "spot",
        Decimal("0.45"),
    )
    assert (spot.region.country.code, spot.nodes_available) == ("FI", None)
    sold_out = Offer.objects.get(provider=acme, external_id="1V100.6V:spot")
    assert (sold_out.gpu_model.name, sold_out.region, sold_out.nodes_available) == ("V100 16GB", None, 0)
    b200 = Offer.objects.get(provider=acme, external_id="1B200.30V:FIN-03:on_demand")
    assert (b200.gpu_model.name, b200.price_per_gpu_hour) == ("B200 180GB", Decimal("3.99"))
    # The A16 waits for the admin's review queue.
    assert not Offer.objects.filter(provider=acme, external_id__startswith="1A16").exists()
    assert run.skipped == 2  # and NOR-01's offer, a location no mapping places
    assert GpuNameReview.objects.get(raw_name=UNKNOWN_GPU).offers_held == 1


@pytest.mark.django_db
def test_the_parse_command_reads_the_combined_payload():
    offers = printed_offers(KIND, SAVED)

    assert offers[2] == {
        "external_id": "1H100.80S.30V:FIN-03:spot",
        "gpu_model": "H100 SXM 80GB",
        "gpu_model_raw": "H100 SXM5 80GB",
        "gpus_per_node": 1,
        "gpu_memory_gb": 80,
        "vcpus": 30,
        "ram_gb": 120,
        "region": "FIN-03",
        "country": "FI",
        "pricing_type": "spot",
        "price_per_gpu_hour": "1.15",
        "currency": "USD",
        "available": True,
        "available_gpus": None,
        "interconnect": "sxm",
    }
    assert len(offers) == 13

"""The demo's mocks of provider APIs (demo/api_*.py): each asks for a key as its API does, and what
it answers moves with time. That each adapter reads its mock is part of the adapters' contract
(sync/tests/test_adapter_contract.py)."""

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from demo import api_hyperstack, api_lambda, api_runpod, api_shadeform, api_vastai, api_verda
from sync.adapters.runpod import QUERY
from sync.adapters.vastai import SEARCH_QUERY
from sync.regions import inventory_locate
from sync.tests.support import parse, refusal

T0 = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)  # on a step of every mock

# kind -> (the mock's module, its whole answer at a given time, as the adapter reads it)
ANSWERS = {
    "lambda": (api_lambda, lambda at: {"data": api_lambda.instance_types(now=at)}),
    "shadeform": (api_shadeform, lambda at: {"instance_types": api_shadeform.instance_types(now=at)}),
    "verda": (
        api_verda,
        lambda at: {
            "instance_types": api_verda.instance_types(),
            "availability": api_verda.instance_availability(spot=False, now=at),
            "spot_availability": api_verda.instance_availability(spot=True, now=at),
        },
    ),
    "runpod": (api_runpod, lambda at: api_runpod.runpod_answer(now=at)),
    "vastai": (api_vastai, lambda at: api_vastai.vast_answer(now=at)),
    "hyperstack": (
        api_hyperstack,
        lambda at: {
            "flavors": api_hyperstack.flavors_answer(now=at),
            "pricebook": api_hyperstack.pricebook_answer(),
            "stocks": api_hyperstack.stocks_answer(now=at),
        },
    ),
}


def demo_inventory(kind: str, at: datetime = T0):
    return parse(kind, ANSWERS[kind][1](at))


@pytest.mark.parametrize("kind", ANSWERS)
def test_every_region_of_the_demo_apis_is_placed_by_the_answer_or_a_region_mapping(db, kind):
    """A demo partner's offers are never held back for a region nobody placed."""
    located = inventory_locate(kind=kind, inventory=demo_inventory(kind))

    assert located.regions and all(region.country for region in located.regions)
    assert {offer.region for offer in located.offers} - {""} <= {region.code for region in located.regions}


@pytest.mark.parametrize("kind", ANSWERS)
def test_availability_moves_with_time_but_not_within_a_step(kind):
    module, answer = ANSWERS[kind]

    def availability(at):
        return [(offer.external_id, offer.nodes_available) for offer in demo_inventory(kind, at).offers]

    assert availability(T0) == availability(T0 + timedelta(seconds=module.STEP_SECONDS - 1))
    assert len({json.dumps(availability(T0 + timedelta(hours=hour))) for hour in range(6)}) > 1


# --- Lambda ------------------------------------------------------------------------------------


def test_lambda_takes_a_bearer_or_a_basic_key_and_refuses_none(client):
    url = reverse("demo:api_lambda_instance_types")
    basic = base64.b64encode(b"any-key:").decode()

    assert client.get(url, headers={"Authorization": "Bearer any-key"}).status_code == 200
    assert client.get(url, headers={"Authorization": f"Basic {basic}"}).status_code == 200
    refused = client.get(url)
    assert refused.status_code == 401
    assert "global/invalid-api-key" in str(refusal("lambda", refused.content))


def test_lambda_lists_gpu_types_of_every_generation_and_cpu_types_the_adapter_ignores():
    inventory = demo_inventory("lambda")

    assert {offer.gpu_model_raw for offer in inventory.offers} >= {"H100 (80 GB SXM5)", "B200 (180 GB SXM6)"}
    assert any(name.startswith("cpu_") for name, *_ in api_lambda.TYPES)
    assert not [offer for offer in inventory.offers if offer.external_id.startswith("cpu_")]
    assert inventory.warnings == []


# --- Shadeform ---------------------------------------------------------------------------------


def test_shadeform_refuses_a_request_without_a_key(client):
    response = client.get(reverse("demo:api_shadeform_instance_types"))

    assert response.status_code == 401
    assert "answered with an error" in str(refusal("shadeform", response.content))


def test_shadeform_lists_types_of_several_clouds_in_known_regions():
    inventory = demo_inventory("shadeform")

    assert inventory.warnings == []  # every demo region is in the table
    assert {offer.external_id.split(":")[0] for offer in inventory.offers} == {
        "lambdalabs",
        "hyperstack",
        "datacrunch",
        "massedcompute",
    }


# --- Verda -------------------------------------------------------------------------------------


def test_verda_wants_a_token_it_issued(client):
    types_url = reverse("demo:api_verda_instance_types")
    assert client.get(types_url).status_code == 401
    assert client.get(types_url, headers={"Authorization": "Bearer forged"}).status_code == 401

    refused = client.post(reverse("demo:api_verda_token"), {"grant_type": "client_credentials"}, "application/json")
    assert refused.status_code == 401
    granted = client.post(
        reverse("demo:api_verda_token"),
        {"grant_type": "client_credentials", "client_id": "a", "client_secret": "b"},
        "application/json",
    )
    token = granted.json()["access_token"]
    assert client.get(types_url, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    refresh = granted.json()["refresh_token"]
    assert client.get(types_url, headers={"Authorization": f"Bearer {refresh}"}).status_code == 401


def test_verda_lists_on_demand_and_spot_offers_in_known_locations():
    inventory = demo_inventory("verda")

    assert inventory.warnings == []
    assert {offer.pricing_type for offer in inventory.offers} == {"on_demand", "spot"}
    assert not [offer for offer in inventory.offers if offer.external_id.startswith("CPU.")]
    assert {offer.region for offer in inventory.offers} <= {*api_verda.LOCATIONS, ""}  # "": sold out, nowhere


# --- RunPod ------------------------------------------------------------------------------------


def test_runpod_wants_an_api_key():
    response = Client().post("/demo/api/runpod/graphql", {"query": QUERY}, content_type="application/json")

    assert response.status_code == 401
    assert response.json()["errors"][0]["message"].startswith("Unauthorized")


@pytest.mark.parametrize("auth", [{"HTTP_AUTHORIZATION": "Bearer demo"}, {"QUERY_STRING": "api_key=demo"}])
def test_runpod_takes_the_key_as_a_bearer_token_or_in_the_query(db, auth):
    response = Client().post("/demo/api/runpod/graphql", {"query": QUERY}, content_type="application/json", **auth)

    assert response.status_code == 200
    inventory = inventory_locate(kind="runpod", inventory=parse("runpod", response.content))
    assert len(inventory.offers) > 40
    assert {region.country for region in inventory.regions} == {"RO", "IS", "SE", "US", "CA", "JP"}


def test_runpod_stock_is_sometimes_published_without_a_count_and_sometimes_sold_out():
    nodes = {
        offer.nodes_available
        for hour in (0, 3)
        for offer in demo_inventory("runpod", T0 + timedelta(hours=hour)).offers
    }

    assert {0, None} <= nodes


# --- Vast.ai -----------------------------------------------------------------------------------


def test_vastai_wants_an_api_key():
    response = Client().post("/demo/api/vastai/api/v0/bundles/", SEARCH_QUERY, content_type="application/json")

    assert response.status_code == 401


@pytest.mark.parametrize("auth", [{"HTTP_AUTHORIZATION": "Bearer demo"}, {"QUERY_STRING": "api_key=demo"}])
def test_vastai_takes_the_key_as_a_bearer_token_or_in_the_query_and_leaves_out_rented_machines(auth):
    response = Client().post("/demo/api/vastai/api/v0/bundles/", SEARCH_QUERY, content_type="application/json", **auth)

    assert response.status_code == 200
    inventory = parse("vastai", response.content)
    assert inventory.offers and all(offer.nodes_available == 1 for offer in inventory.offers)
    assert inventory.warnings == []


def test_vastai_relists_machines_under_new_offer_ids_every_day():
    today = api_vastai.vast_answer(now=T0, include_rented=True)["offers"]
    tomorrow = api_vastai.vast_answer(now=T0 + timedelta(days=1), include_rented=True)["offers"]

    assert {offer["rented"] for offer in today} == {True, False}
    assert {offer["machine_id"] for offer in today} == {offer["machine_id"] for offer in tomorrow}
    assert {offer["id"] for offer in today}.isdisjoint({offer["id"] for offer in tomorrow})


# --- Hyperstack --------------------------------------------------------------------------------


def test_hyperstack_refuses_an_empty_api_key():
    response = Client().get("/demo/api/hyperstack/core/flavors", HTTP_API_KEY=" ")

    assert response.status_code == 401
    assert response.json()["status"] is False


def test_hyperstack_answers_its_three_endpoints():
    client = Client(HTTP_API_KEY="demo")
    parts = {
        part: client.get(f"/demo/api/hyperstack{path}").json()
        for part, path in (("flavors", "/core/flavors"), ("pricebook", "/pricebook"), ("stocks", "/core/stocks"))
    }

    inventory = parse("hyperstack", parts)

    assert len(inventory.offers) == 28
    assert {region.code for region in inventory.regions} == {"CANADA-1", "NORWAY-1", "US-1"}
    assert inventory.warnings == []


def test_hyperstack_stock_runs_out_now_and_then():
    nodes = [
        offer.nodes_available
        for hour in (0, 1)
        for offer in demo_inventory("hyperstack", T0 + timedelta(hours=hour)).offers
    ]

    assert 0 in nodes

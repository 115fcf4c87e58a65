"""Shadeform adapter: GET /v1/instances/types with X-API-KEY, parsed into exact offers per cloud and region."""

import functools
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from demo import api_shadeform
from marketplace.inventory import NormalizedOffer, NormalizedRegion
from marketplace.models import GpuAlias, GpuModel, GpuNameReview, Offer
from portal.lib.http import GuardedClient
from portal.testing import Reply
from sync.adapters.base import AdapterError
from sync.adapters.registry import get_adapter
from sync.adapters.shadeform import ShadeformAdapter
from sync.engine import inventory_fetch, sync_connection_run
from sync.models import SyncConnection, SyncRun
from sync.tests.support import PAYLOADS, payload

SAVED = "shadeform/instance_types.json"
# NVIDIA A16 (Vultr's vcg-a16 type): a real GPU that the catalogue does not list. The saved
# response has it, so the tests see the review queue at work: its offer is held back, never guessed.
UNKNOWN_GPU = "A16 pcie 16GB"


def document() -> dict:
    return json.loads(payload(SAVED))


def parse(data) -> object:
    return ShadeformAdapter().parse(data if isinstance(data, bytes) else json.dumps(data).encode())


def parse_error(data) -> AdapterError:
    with pytest.raises(AdapterError) as caught:
        parse(data)
    return caught.value


def lambda_h100(region: str, available: bool) -> NormalizedOffer:
    return NormalizedOffer(
        external_id=f"lambdalabs:gpu_8x_h100_sxm5:{region}",
        region=region,
        gpu_model_raw="H100 sxm5 80GB",
        gpus_per_node=8,
        pricing_type="on_demand",
        price_per_gpu_hour=Decimal("2.99"),  # 2392 cents an hour for 8 GPUs
        currency="USD",
        nodes_available=None if available else 0,
        vcpus=208,
        ram_gb=1800,
        storage_gb=24780,
        gpu_interconnect="nvlink",
        gpu_memory_gb=80,
    )


def hyperstack_a6000(region: str, available: bool) -> NormalizedOffer:
    return NormalizedOffer(
        external_id=f"hyperstack:n3-RTX-A6000x1:{region}",
        region=region,
        gpu_model_raw="A6000 pcie 48GB",
        gpus_per_node=1,
        pricing_type="on_demand",
        price_per_gpu_hour=Decimal("0.50"),
        nodes_available=None if available else 0,
        vcpus=8,
        ram_gb=58,
        storage_gb=100,
        gpu_interconnect="pcie",
        gpu_memory_gb=48,
    )


def datacrunch_a100(region: str, available: bool) -> NormalizedOffer:
    return NormalizedOffer(
        external_id=f"datacrunch:8A100.176V:{region}",
        region=region,
        gpu_model_raw="A100_80G sxm4 80GB",
        gpus_per_node=8,
        pricing_type="on_demand",
        price_per_gpu_hour=Decimal("1.29"),
        nodes_available=None if available else 0,
        vcpus=176,
        ram_gb=960,
        storage_gb=2000,
        gpu_interconnect="nvlink",
        gpu_memory_gb=80,
    )


def crusoe_h200(region: str, available: bool) -> NormalizedOffer:
    return NormalizedOffer(
        external_id=f"crusoe:h200-141gb-sxm-ib.8x:{region}",
        region=region,
        gpu_model_raw="H200 sxm5 141GB",
        gpus_per_node=8,
        pricing_type="on_demand",
        price_per_gpu_hour=Decimal("4.30"),
        nodes_available=None if available else 0,
        vcpus=176,
        ram_gb=1920,
        storage_gb=7680,
        gpu_interconnect="nvlink",
        gpu_memory_gb=141,
    )


def vultr_a16() -> NormalizedOffer:
    return NormalizedOffer(
        external_id="vultr:vcg-a16-6c-64g-16vram:us-east-1",
        region="us-east-1",
        gpu_model_raw=UNKNOWN_GPU,
        gpus_per_node=1,
        pricing_type="on_demand",
        price_per_gpu_hour=Decimal("0.47"),
        nodes_available=None,
        vcpus=6,
        ram_gb=64,
        storage_gb=350,
        gpu_interconnect="pcie",
        gpu_memory_gb=16,
    )


def test_the_saved_response_gives_exact_offers_regions_and_warnings():
    inventory = parse(payload(SAVED))

    assert inventory.offers == [
        lambda_h100("dulles-usa-1", available=True),
        lambda_h100("houston-usa-1", available=False),
        hyperstack_a6000("canada-1", available=True),
        hyperstack_a6000("norway-1", available=False),
        datacrunch_a100("helsinki-finland-1", available=True),
        datacrunch_a100("reykjanesbaer-iceland-1", available=False),
        # Optional fields missing: no interconnect (so the bare gpu_type), no storage, no VRAM.
        NormalizedOffer(
            external_id="massedcompute:gpu_1x_l40s:kansascity-usa-1",
            region="kansascity-usa-1",
            gpu_model_raw="L40S",
            gpus_per_node=1,
            pricing_type="on_demand",
            price_per_gpu_hour=Decimal("1.10"),
            nodes_available=None,
            vcpus=16,
            ram_gb=64,
        ),
        # Specs at the top level instead of in "configuration"; the spot entry is not an on-demand offer.
        crusoe_h200("us-east1-a", available=False),
        crusoe_h200("eu-iceland1-a", available=True),
        vultr_a16(),
    ]
    assert inventory.regions == [
        NormalizedRegion("dulles-usa-1", "US", "Dulles", "US, Dulles, VA"),
        NormalizedRegion("houston-usa-1", "US", "Houston", "US, Houston, TX"),
        NormalizedRegion("canada-1", "CA", "", "CA, Montreal, QC"),
        NormalizedRegion("norway-1", "NO", "", "NO, Oslo"),
        NormalizedRegion("helsinki-finland-1", "FI", "Helsinki", "FI, Helsinki"),
        NormalizedRegion("reykjanesbaer-iceland-1", "IS", "Reykjanesbær", "IS, Reykjanesbaer"),
        NormalizedRegion("kansascity-usa-1", "US", "Kansas City", "US, Kansas City, KS"),
        NormalizedRegion("us-east1-a", "US", "", "US, Virginia"),
        NormalizedRegion("eu-iceland1-a", "IS", "", "IS, Iceland"),
        NormalizedRegion("us-east-1", "US", "", "US, New Jersey"),
    ]
    assert inventory.warnings == [
        "Held back, with a price of 0 or none (a GPU is never listed as free): "
        'instance type "vultr:vcg-a40-1c-6g-48vram".',
        'Shadeform region "stockholm-sweden-1" ("SE, Stockholm") is not in the portal\'s Shadeform region table: '
        "its 1 offer(s) are held back until the portal's team adds it.",
    ]


T0 = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)


def test_every_gpu_name_resolves_but_the_deliberately_unknown_one(db):
    # A new Shadeform name the alias table lacks fails here: add it to the catalogue's aliases.
    names = {offer.gpu_model_raw for offer in parse(payload(SAVED)).offers}
    names |= {offer.gpu_model_raw for offer in parse({"instance_types": api_shadeform.instance_types(now=T0)}).offers}

    unresolved = {name for name in names if GpuAlias.objects.resolve(name) is None}

    assert unresolved == {UNKNOWN_GPU}


def test_cpu_only_types_are_ignored():
    assert not [offer for offer in parse(payload(SAVED)).offers if "voc-c-16c" in offer.external_id]


def test_the_same_type_on_two_clouds_gives_two_offers_with_the_cloud_in_the_id():
    data = document()
    twin = json.loads(json.dumps(data["instance_types"][0]))
    twin["cloud"] = "denvr"
    data["instance_types"] = [data["instance_types"][0], twin]

    ids = [offer.external_id for offer in parse(data).offers]

    assert ids == [
        "lambdalabs:gpu_8x_h100_sxm5:dulles-usa-1",
        "lambdalabs:gpu_8x_h100_sxm5:houston-usa-1",
        "denvr:gpu_8x_h100_sxm5:dulles-usa-1",
        "denvr:gpu_8x_h100_sxm5:houston-usa-1",
    ]


def test_a_type_listing_no_region_gives_no_offer_but_says_so():
    data = {"instance_types": [document()["instance_types"][0] | {"availability": []}]}

    inventory = parse(data)

    assert (inventory.offers, inventory.warnings) == (
        [],
        ["1 instance type(s) list no region at all and give no offer."],
    )


def test_a_malformed_type_is_skipped_with_a_warning_and_the_others_stay():
    data = document()
    data["instance_types"][0]["hourly_price"] = None
    data["instance_types"][1]["configuration"]["num_gpus"] = "one"

    inventory = parse(data)

    assert inventory.offers[0].external_id == "datacrunch:8A100.176V:helsinki-finland-1"
    assert inventory.warnings[:2] == [
        'instance_types[0] skipped: its "hourly_price" is missing.',
        'instance_types[1] skipped: its "configuration.num_gpus" "one" is not a whole number.',
    ]


def test_a_response_where_no_type_can_be_read_is_an_error():
    error = parse_error({"instance_types": [{"cloud": "aws"}, "H100"]})

    assert error.permanent
    assert str(error) == (
        "None of the 2 instance types in the Shadeform API response could be read: "
        'instance_types[0] skipped: its "shade_instance_type" is missing.'
    )


@pytest.mark.parametrize(
    ("body", "message", "permanent"),
    [
        (b"<html><head><title>502 Bad Gateway</title></head></html>", "is an HTML page instead of JSON", False),
        (b'{"error": "Invalid API key"}', "The Shadeform API answered with an error: Invalid API key", False),
        (b'{"message": "Internal server error"}', "answered with an error: Internal server error", False),
        (b'{"data": {}}', 'has no "instance_types" list', True),
        (b'{"instance_types": {"A6000": {}}}', 'has no "instance_types" list', True),
        (b"[1, 2]", "The Shadeform API response is not a JSON object.", True),
        (b'{"instance_types": [{"cloud": "aws", "shade', "is not valid JSON at line 1", False),
    ],
)
def test_a_payload_of_the_wrong_shape_is_a_clear_error(body, message, permanent):
    error = parse_error(body)

    assert message in str(error)
    assert error.permanent is permanent


def test_the_base_url_may_or_may_not_end_in_v1():
    api_url = functools.partial(ShadeformAdapter().api_url, path="/v1/instances/types")
    assert api_url("https://api.shadeform.ai") == "https://api.shadeform.ai/v1/instances/types"
    assert api_url("https://api.shadeform.ai/v1/") == "https://api.shadeform.ai/v1/instances/types"


@pytest.fixture
def shadeform_api(acme, local_server):
    local_server.serve("/v1/instances/types", payload(SAVED))
    connection = SyncConnection(provider=acme, name="Shadeform", kind="shadeform", base_url=local_server.url(""))
    connection.set_credentials("sf-key-42")
    connection.save()
    return connection


def test_fetch_sends_a_get_with_the_key_in_x_api_key_and_parse_reads_the_answer(shadeform_api, local_server):
    adapter = get_adapter("shadeform")

    with GuardedClient() as client:
        body = inventory_fetch(connection=shadeform_api, client=client)

    [request] = local_server.requests
    assert (request.method, request.path, request.body) == ("GET", "/v1/instances/types", b"")
    assert request.headers["X-API-KEY"] == "sf-key-42"
    assert "Authorization" not in request.headers
    assert adapter.parse(body) == parse(payload(SAVED))


def test_a_sync_lists_offers_with_known_gpu_names_and_regions(shadeform_api, acme):
    run = sync_connection_run(connection=shadeform_api)

    assert run.outcome == SyncRun.Outcome.SUCCESS
    listed = dict(Offer.objects.filter(provider=acme).values_list("external_id", "gpu_model__name"))
    # Not the A16 (review queue) nor the L40S in Stockholm (region not in the table).
    assert listed == {
        "lambdalabs:gpu_8x_h100_sxm5:dulles-usa-1": "H100 SXM 80GB",
        "lambdalabs:gpu_8x_h100_sxm5:houston-usa-1": "H100 SXM 80GB",
        "hyperstack:n3-RTX-A6000x1:canada-1": "RTX A6000 48GB",
        "hyperstack:n3-RTX-A6000x1:norway-1": "RTX A6000 48GB",
        "datacrunch:8A100.176V:helsinki-finland-1": "A100 SXM 80GB",
        "datacrunch:8A100.176V:reykjanesbaer-iceland-1": "A100 SXM 80GB",
        "massedcompute:gpu_1x_l40s:kansascity-usa-1": "L40S 48GB",
        "crusoe:h200-141gb-sxm-ib.8x:us-east1-a": "H200 141GB",
        "crusoe:h200-141gb-sxm-ib.8x:eu-iceland1-a": "H200 141GB",
    }
    assert GpuNameReview.objects.get(raw_name=UNKNOWN_GPU).offers_held == 1
    houston = Offer.objects.get(provider=acme, external_id="lambdalabs:gpu_8x_h100_sxm5:houston-usa-1")
    assert (houston.region.country.code, houston.nodes_available, houston.price_per_gpu_hour) == (
        "US",
        0,
        Decimal("2.99"),
    )


def test_offers_held_for_an_unknown_gpu_name_appear_once_the_name_is_mapped(shadeform_api, acme):
    sync_connection_run(connection=shadeform_api)
    a16 = GpuModel.objects.create(
        slug="a16", name="A16 16GB", architecture="Ampere", memory_gb=16, memory_type="GDDR6", form_factor="pcie"
    )
    GpuAlias.objects.create(name=UNKNOWN_GPU, gpu_model=a16)  # what the admin's mapping creates

    run = sync_connection_run(connection=shadeform_api)

    assert run.created == 1
    offer = Offer.objects.get(provider=acme, external_id="vultr:vcg-a16-6c-64g-16vram:us-east-1")
    assert (offer.gpu_model, offer.region.country.code, offer.nodes_available) == (a16, "US", None)


def test_a_rejected_key_fails_the_sync(shadeform_api, local_server):
    local_server.serve("/v1/instances/types", Reply({"error": "Invalid API key"}, status=401))

    run = sync_connection_run(connection=shadeform_api)

    assert run.outcome == SyncRun.Outcome.FAILED
    assert "rejected our credentials" in run.error


def command_offers(*args) -> list[dict]:
    out = StringIO()
    call_command("parse_provider_payload", "--adapter", "shadeform", *args, stdout=out, stderr=StringIO())
    return json.loads(out.getvalue())


@pytest.mark.django_db
def test_the_parse_command_prints_the_offers_of_a_saved_response():
    offers = command_offers("--file", str(PAYLOADS / SAVED))

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


def test_the_parse_command_fetches_from_a_base_url(local_server, db):
    local_server.serve("/v1/instances/types", payload(SAVED))

    offers = command_offers("--base-url", local_server.url(""), "--api-key", "cmd-key")

    assert local_server.requests[0].headers["X-API-KEY"] == "cmd-key"
    assert len(offers) == 10


# --- The demo's mock of the API ------------------------------------------------------------


def test_the_demo_api_answers_in_shadeforms_format_and_the_adapter_reads_it(client):
    url = reverse("demo:api_shadeform_instance_types")

    response = client.get(url, headers={"X-API-KEY": "anything"})

    assert response.status_code == 200
    inventory = parse(response.content)
    assert inventory.warnings == []  # every demo region is in the table
    assert {offer.external_id.split(":")[0] for offer in inventory.offers} == {
        "lambdalabs",
        "hyperstack",
        "datacrunch",
        "massedcompute",
    }


def test_the_demo_api_refuses_a_request_without_a_key(client):
    response = client.get(reverse("demo:api_shadeform_instance_types"))

    assert response.status_code == 401
    assert "answered with an error" in str(parse_error(response.content))


def test_the_demo_availability_moves_with_time_but_not_within_a_step():
    def flags(at):
        return [[entry["available"] for entry in item["availability"]] for item in api_shadeform.instance_types(now=at)]

    assert flags(T0) == flags(T0 + timedelta(seconds=api_shadeform.STEP_SECONDS - 1))
    assert len({json.dumps(flags(T0 + timedelta(hours=hour))) for hour in range(6)}) > 1

"""The open provider feed v1: parsing is a pure function of the payload."""

import json
from decimal import Decimal

import pytest
from jsonschema import Draft202012Validator

from marketplace.inventory import NormalizedOffer, NormalizedRegion
from sync.adapters.base import AdapterError
from sync.adapters.feed import SCHEMA_PATH, FeedAdapter, _offer_plainly_valid
from sync.adapters.registry import get_adapter
from sync.tests.support import feed_document, payload


def parse(document) -> object:
    data = document if isinstance(document, bytes) else json.dumps(document).encode()
    return FeedAdapter().parse(data)


def parse_error(document) -> AdapterError:
    with pytest.raises(AdapterError) as caught:
        parse(document)
    return caught.value


def test_a_good_feed_gives_exact_normalized_offers_and_regions():
    inventory = FeedAdapter().parse(payload("feed_v1_acme.json"))

    assert inventory.regions == [
        NormalizedRegion(code="eu-fra-1", country="DE", city="Frankfurt", name="Frankfurt 1"),
        NormalizedRegion(code="fr-par-1", country="FR", city="Paris", name=""),
    ]
    assert inventory.offers == [
        NormalizedOffer(
            external_id="h100-8x-fra-od",
            region="eu-fra-1",
            gpu_model_raw="NVIDIA H100 80GB HBM3",
            gpus_per_node=8,
            pricing_type="on_demand",
            price_per_gpu_hour=Decimal("2.4900"),
            currency="USD",
            nodes_available=12,
            nodes_total=64,
            min_term_months=None,
            vcpus=208,
            ram_gb=1800,
            storage_gb=30720,
            gpu_interconnect="nvlink",
            network="infiniband",
        ),
        NormalizedOffer(
            external_id="h200-8x-par-spot",
            region="fr-par-1",
            gpu_model_raw="H200",
            gpus_per_node=8,
            pricing_type="spot",
            price_per_gpu_hour=Decimal("1.85"),
            currency="EUR",
            nodes_available=3,
            gpu_memory_gb=141,  # optional facts: "H200" alone may be the SXM or the NVL
            gpu_form_factor="sxm",
        ),
        NormalizedOffer(
            external_id="a100-8x-fra-1y",
            region="eu-fra-1",
            gpu_model_raw="A100 80GB",
            gpus_per_node=8,
            pricing_type="reserved",
            price_per_gpu_hour=Decimal("1.2"),
            currency="USD",
            nodes_available=0,
            nodes_total=10,
            min_term_months=12,
            vcpus=128,
            ram_gb=1024,
            gpu_interconnect="nvlink",
            network="roce",
        ),
        NormalizedOffer(
            external_id="l40s-4x-par-od",
            region="fr-par-1",
            gpu_model_raw="L40S",
            gpus_per_node=4,
            pricing_type="on_demand",
            price_per_gpu_hour=Decimal("0.85"),
            currency="USD",
            nodes_available=20,
            gpu_interconnect="pcie",
            network="ethernet",
        ),
    ]
    assert inventory.warnings == []


def test_prices_keep_their_decimal_value_whether_strings_or_numbers():
    document = feed_document()
    document["offers"][0]["price_per_gpu_hour"] = 2.1
    document["offers"][1]["price_per_gpu_hour"] = "0.123456"
    document["offers"][2]["price_per_gpu_hour"] = 0

    prices = [offer.price_per_gpu_hour for offer in parse(document).offers]

    assert prices[:3] == [Decimal("2.1000"), Decimal("0.1235"), Decimal("0")]


def test_regions_and_optional_fields_may_be_left_out():
    document = feed_document()
    del document["regions"], document["generated_at"], document["provider"]
    for offer in document["offers"]:
        for name in ["vcpus", "ram_gb", "storage_gb", "gpu_interconnect", "network", "nodes_total"]:
            offer.pop(name, None)

    inventory = parse(document)

    assert inventory.regions == []
    assert inventory.offers[0].gpu_interconnect == "" and inventory.offers[0].nodes_total is None


def test_unknown_fields_are_ignored_for_forward_compatibility():
    document = feed_document()
    document["sla"] = "99.9"
    document["offers"][0]["gpu_memory_gb"] = 80

    assert len(parse(document).offers) == 4


def test_an_empty_offer_list_is_a_valid_feed():
    document = feed_document()
    document["offers"] = []

    assert parse(document).offers == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["offers"][3].update(price_per_gpu_hour=-1),
            "offers[3].price_per_gpu_hour: -1 is less than the minimum of 0",
        ),
        (
            lambda d: d["offers"][0].update(price_per_gpu_hour="2,49"),
            'offers[0].price_per_gpu_hour: "2,49" is not a non-negative decimal',
        ),
        (lambda d: d["offers"][1].update(gpus_per_node="8"), 'offers[1].gpus_per_node: "8" is not of type integer'),
        (lambda d: d["offers"][1].update(gpus_per_node=0), "offers[1].gpus_per_node: 0 is less than the minimum of 1"),
        (lambda d: d["offers"][0].pop("gpu"), 'offers[0]: the required field "gpu" is missing'),
        (
            lambda d: d["offers"][0].update(pricing_type="hourly"),
            'offers[0].pricing_type: "hourly" is not one of "on_demand", "spot", "reserved"',
        ),
        (lambda d: d["offers"][2].pop("min_term_months"), 'offers[2]: the required field "min_term_months" is missing'),
        (
            lambda d: d["offers"][2].update(min_term_months=None),
            "offers[2].min_term_months: null is not of type integer",
        ),
        (lambda d: d["offers"][0].update(currency="usd"), 'offers[0].currency: "usd" is not an ISO 4217 currency code'),
        (
            lambda d: d["offers"][0].update(gpu_form_factor="socket"),
            'offers[0].gpu_form_factor: "socket" is not one of "sxm", "pcie", "nvl", "superchip", "oam", null',
        ),
        (
            lambda d: d["offers"][0].update(gpu_memory_gb=0),
            "offers[0].gpu_memory_gb: 0 is less than the minimum of 1",
        ),
        (
            lambda d: d["regions"][0].update(country="Germany"),
            'regions[0].country: "Germany" is not an ISO 3166-1 alpha-2',
        ),
        (lambda d: d["regions"][0].update(country="XX"), 'regions[0].country: "XX" is not an ISO 3166 country code'),
        (
            lambda d: d["offers"][1].update(id="h100-8x-fra-od"),
            'offers[1].id: "h100-8x-fra-od" is already used by offers[0]',
        ),
        (
            lambda d: d["offers"][0].update(nodes_available=65),
            "offers[0].nodes_available: 65 is more than nodes_total (64)",
        ),
        (lambda d: d.update(offers={}), "offers: {} is not of type array"),
        (lambda d: d.pop("offers"), '(top level): the required field "offers" is missing'),
        (lambda d: d.update(generated_at="yesterday"), 'generated_at: "yesterday" is not a date-time'),
    ],
)
def test_schema_errors_say_where_and_what(change, message):
    document = feed_document()
    change(document)

    error = parse_error(document)

    assert message in str(error)
    assert error.permanent


def test_several_errors_are_listed_in_document_order_and_capped():
    document = feed_document()
    for offer in document["offers"]:
        offer["price_per_gpu_hour"] = -1
    document["offers"] += [dict(document["offers"][0], id=f"extra-{n}") for n in range(5)]

    message = str(parse_error(document))

    assert message.index("offers[0]") < message.index("offers[1]") < message.index("offers[2]")
    assert "and 4 more problems" in message


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (payload("feed_v1_malformed.json"), "The feed is not valid JSON at line 4 column 3"),
        (payload("feed_v1_acme.json")[:300], "The feed is not valid JSON at line"),
        (b"\xff\xfe{}", "The feed is not UTF-8 text"),
        (b'{"format": "gpu-marketplace-feed", "version": 1, "offers": [], "x": NaN}', "contains NaN"),
        (b"[1, 2]", "The feed must be a JSON object, not an array."),
        (b'{"offers": []}', '"format" must be "gpu-marketplace-feed"'),
        (
            b'{"format": "gpu-marketplace-feed", "version": 2, "offers": []}',
            "reads feed versions 1 and 1.1; the feed says version 2",
        ),
    ],
)
def test_payloads_that_are_not_a_feed_are_explained(body, message):
    assert message in str(parse_error(body))


def test_the_schema_file_is_valid_draft_2020_12():
    Draft202012Validator.check_schema(json.loads(SCHEMA_PATH.read_text()))


def test_the_documented_example_is_a_valid_feed():
    doc = (SCHEMA_PATH.parent / "provider-feed.md").read_text()
    example = doc.split("```json\n", 1)[1].split("```", 1)[0]

    assert parse(example.encode()).offers


def test_a_kind_no_adapter_has_is_refused():
    with pytest.raises(LookupError):
        get_adapter("nope")


# --- The plain check that spares large feeds the schema validator ---------------------------

GOOD_OFFER = {
    "id": "h100-8x",
    "region": "eu-fra-1",
    "gpu": "H100 SXM",
    "gpus_per_node": 8,
    "pricing_type": "reserved",
    "min_term_months": 12,
    "price_per_gpu_hour": "2.49",
    "currency": "USD",
    "nodes_available": 3,
    "nodes_total": 10,
    "vcpus": 208,
    "ram_gb": 1800,
    "storage_gb": 30720,
    "gpu_interconnect": "nvlink",
    "network": "infiniband",
    "gpu_memory_gb": 80,
    "gpu_form_factor": "sxm",
    "instance_type": "gpu_8x_h100_sxm5",
}
ODD_VALUES = [
    None, True, False, 0, 1, -1, 1.0, 1.5, 120, 121, 1024, 1025, 10**6, 10**6 + 1, 999_999, 999_999.5, 10**12,
    "", "x", "2.49", "2.49\n", "-1", "1e3", "1234567", "USD", "usd", "US", "nvlink", "NVLink", "spot",
    "reserved", "ethernet", "x" * 64, "x" * 65, "x" * 200, "x" * 201, [], {},
]  # fmt: skip


def offer_variants():
    yield GOOD_OFFER
    for name in GOOD_OFFER:
        yield {key: value for key, value in GOOD_OFFER.items() if key != name}
        for value in ODD_VALUES:
            yield {**GOOD_OFFER, name: value}
    yield {**GOOD_OFFER, "pricing_type": "on_demand", "min_term_months": None}
    yield {**GOOD_OFFER, "price_per_gpu_hour": 2.49, "nodes_available": None}


def test_the_plain_check_never_accepts_an_offer_the_schema_refuses():
    offer_schema = Draft202012Validator(
        {"$ref": "#/$defs/offer", "$defs": json.loads(SCHEMA_PATH.read_text())["$defs"]}
    )
    accepted = 0
    for offer in offer_variants():
        if _offer_plainly_valid(offer):
            accepted += 1
            assert offer_schema.is_valid(offer), offer
    # ... and it accepts the ordinary offers, which are then not run through the schema.
    assert accepted > 100


def test_a_large_feed_with_one_bad_offer_is_refused_with_the_schemas_words():
    document = feed_document()
    document["offers"] = [{**GOOD_OFFER, "id": f"o{index}"} for index in range(3000)]
    document["offers"][2500]["gpus_per_node"] = 1.5

    error = parse_error(document)

    assert str(error) == "The feed is not valid: offers[2500].gpus_per_node: 1.5 is not of type integer."


def test_a_feed_over_the_offer_limit_is_refused():
    document = feed_document()
    document["offers"] = [{**GOOD_OFFER, "id": f"o{index}"} for index in range(100_001)]

    error = parse_error(document)

    assert str(error) == "The feed is not valid: offers: has more than 100000 items."


def test_the_optional_gpu_facts_are_read_and_a_feed_without_them_stays_valid():
    document = feed_document()
    document["offers"][0].update(gpu="H100", gpu_memory_gb=80, gpu_form_factor="pcie", instance_type="1x-h100-pcie")
    offer = parse(document).offers[0]
    assert (offer.gpu_memory_gb, offer.gpu_form_factor, offer.instance_type) == (80, "pcie", "1x-h100-pcie")

    for item in document["offers"]:
        for name in ("gpu_memory_gb", "gpu_form_factor", "instance_type"):
            item.pop(name, None)
    offer = parse(document).offers[0]
    assert (offer.gpu_memory_gb, offer.gpu_form_factor, offer.instance_type) == (None, "", "")

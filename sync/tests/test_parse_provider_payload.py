"""``manage.py parse_provider_payload``: an adapter's normalized offers as JSON, from a file or a live URL.

The other adapters' own test modules check their exact output through this command; here the
feed adapter pins the format itself, and every registered adapter is run on its saved payloads.
"""

import io
import json
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from portal.testing import Reply
from sync.adapters.registry import ADAPTERS
from sync.tests.support import PAYLOADS, feed_document

pytestmark = pytest.mark.django_db

KEYS = [
    "external_id",
    "gpu_model",
    "gpu_model_raw",
    "gpus_per_node",
    "gpu_memory_gb",
    "vcpus",
    "ram_gb",
    "region",
    "country",
    "pricing_type",
    "price_per_gpu_hour",
    "currency",
    "available",
    "available_gpus",
    "interconnect",
]


def run(*args: str, stdin: bytes | None = None) -> tuple[list[dict], str]:
    out, err = io.StringIO(), io.StringIO()
    if stdin is not None:
        real_stdin = sys.stdin
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))
        try:
            call_command("parse_provider_payload", *args, stdout=out, stderr=err)
        finally:
            sys.stdin = real_stdin
    else:
        call_command("parse_provider_payload", *args, stdout=out, stderr=err)
    return json.loads(out.getvalue()), err.getvalue()


def write(tmp_path: Path, document: dict) -> str:
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(document))
    return str(path)


def test_the_feed_as_normalized_offers(db):
    offers, errors = run("--adapter", "feed", "--file", str(PAYLOADS / "feed_v1_acme.json"))

    assert errors == ""
    assert offers == [
        {
            "external_id": "h100-8x-fra-od",
            "gpu_model": "H100 SXM 80GB",
            "gpu_model_raw": "NVIDIA H100 80GB HBM3",
            "gpus_per_node": 8,
            "gpu_memory_gb": 80,
            "vcpus": 208,
            "ram_gb": 1800,
            "region": "eu-fra-1",
            "country": "DE",
            "pricing_type": "on_demand",
            "price_per_gpu_hour": "2.49",
            "currency": "USD",
            "available": True,
            "available_gpus": 96,
            "interconnect": "sxm",
        },
        {
            "external_id": "h200-8x-par-spot",
            "gpu_model": "H200 SXM 141GB",
            "gpu_model_raw": "H200",
            "gpus_per_node": 8,
            "gpu_memory_gb": 141,
            "vcpus": None,
            "ram_gb": None,
            "region": "fr-par-1",
            "country": "FR",
            "pricing_type": "spot",
            "price_per_gpu_hour": "1.85",
            "currency": "EUR",
            "available": True,
            "available_gpus": 24,
            "interconnect": "sxm",
        },
        {
            "external_id": "a100-8x-fra-1y",
            "gpu_model": "A100 SXM 80GB",
            "gpu_model_raw": "A100 80GB",
            "gpus_per_node": 8,
            "gpu_memory_gb": 80,
            "vcpus": 128,
            "ram_gb": 1024,
            "region": "eu-fra-1",
            "country": "DE",
            "pricing_type": "reserved",
            "price_per_gpu_hour": "1.20",
            "currency": "USD",
            "available": False,
            "available_gpus": 0,
            "interconnect": "sxm",
        },
        {
            "external_id": "l40s-4x-par-od",
            "gpu_model": "L40S 48GB",
            "gpu_model_raw": "L40S",
            "gpus_per_node": 4,
            "gpu_memory_gb": 48,
            "vcpus": None,
            "ram_gb": None,
            "region": "fr-par-1",
            "country": "FR",
            "pricing_type": "on_demand",
            "price_per_gpu_hour": "0.85",
            "currency": "USD",
            "available": True,
            "available_gpus": 80,
            "interconnect": "pcie",
        },
    ]


def test_unknown_names_regions_and_counts_are_null_not_guessed(db, tmp_path):
    document = feed_document()
    first = document["offers"][0]
    document["offers"] = [
        {**first, "id": "mystery-nvlink", "gpu": "Hopper Mystery", "gpu_interconnect": "nvlink"},
        {**first, "id": "mystery-pcie", "gpu": "Hopper Mystery", "gpu_interconnect": "pcie"},
        {**first, "id": "mystery-bare", "gpu": "Hopper Mystery", "gpu_interconnect": None},
        {**first, "id": "nowhere", "region": "mars-1"},
        {**first, "id": "no-count", "nodes_available": None},
        {**first, "id": "free", "price_per_gpu_hour": 0},
        {**first, "id": "superchip", "gpu": "GH200", "gpu_interconnect": None},
        {**first, "id": "nvl", "gpu": "H100 NVL", "gpu_interconnect": "pcie"},
    ]

    offers, _ = run("--adapter", "feed", "--file", write(tmp_path, document))

    by_id = {offer["external_id"]: offer for offer in offers}
    assert [list(offer) for offer in offers] == [KEYS] * len(offers)
    assert (by_id["mystery-nvlink"]["gpu_model"], by_id["mystery-nvlink"]["gpu_memory_gb"]) == (None, None)
    # Not in the catalogue: the offer's own interconnect says nvlink -> sxm, pcie -> pcie, nothing -> null.
    assert [by_id[f"mystery-{kind}"]["interconnect"] for kind in ["nvlink", "pcie", "bare"]] == ["sxm", "pcie", None]
    assert (by_id["nowhere"]["region"], by_id["nowhere"]["country"]) == ("mars-1", None)
    assert (by_id["no-count"]["available"], by_id["no-count"]["available_gpus"]) == (True, None)
    assert by_id["free"]["price_per_gpu_hour"] == "0.00"
    # In the catalogue, its form factor decides, whatever the offer says.
    assert by_id["superchip"]["interconnect"] == "sxm"
    assert by_id["nvl"]["interconnect"] == "nvl"


def test_standard_input(db):
    offers, _ = run("--adapter", "feed", "--file", "-", stdin=(PAYLOADS / "feed_v1_acme.json").read_bytes())
    assert len(offers) == 4


@pytest.mark.parametrize("option", ["--api-key", "--credentials"])
def test_a_live_base_url_with_credentials(db, local_server, settings, option):
    local_server.serve("/feed.json", feed_document())
    # Loopback is refused by the sync engine in production settings, but this is a local tool.
    settings.SYNC_ALLOW_PRIVATE_ADDRESSES = False

    offers, _ = run("--adapter", "feed", "--base-url", local_server.url("/feed.json"), option, "feed-key")

    assert [offer["external_id"] for offer in offers][:1] == ["h100-8x-fra-od"]
    assert local_server.requests[0].headers["Authorization"] == "Bearer feed-key"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--adapter", "carrier-pigeon", "--file", "x.json"], 'Unknown adapter "carrier-pigeon"'),
        (["--adapter", "feed", "--file", "/nonexistent/feed.json"], "Cannot read /nonexistent/feed.json"),
        (["--adapter", "feed", "--file", str(PAYLOADS / "feed_v1_malformed.json")], "not valid JSON at line"),
        (["--adapter", "feed", "--file", str(PAYLOADS / "error_page.html")], "HTML page instead of JSON"),
    ],
)
def test_errors_are_clear_and_fail_the_command(db, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_http_errors_fail_the_command(db, local_server):
    local_server.serve("/feed.json", Reply(b"no", status=401))
    with pytest.raises(CommandError, match="401"):
        run("--adapter", "feed", "--base-url", local_server.url("/feed.json"))


def test_a_source_is_required(db):
    with pytest.raises(CommandError):
        run("--adapter", "feed")


@pytest.mark.parametrize("kind", [kind for kind in ADAPTERS if (PAYLOADS / kind).is_dir()])
def test_every_adapter_prints_the_same_shape_from_its_saved_payloads(db, kind):
    parsed = 0
    for path in sorted((PAYLOADS / kind).glob("*.json")):
        try:
            offers, _ = run("--adapter", kind, "--file", str(path))
        except CommandError:
            continue  # an error sample, or one part of a multi-request payload
        parsed += len(offers)
        for offer in offers:
            assert list(offer) == KEYS
            assert offer["pricing_type"] in {"on_demand", "spot", "reserved"}
            assert offer["interconnect"] in {"sxm", "pcie", "nvl", None}
            assert isinstance(offer["available"], bool)
            assert offer["available_gpus"] is None or isinstance(offer["available_gpus"], int)
            assert isinstance(offer["price_per_gpu_hour"], str) and float(offer["price_per_gpu_hour"]) >= 0
            assert offer["country"] is None or len(offer["country"]) == 2
    assert parsed, f"no saved {kind} payload parsed"

"""Helpers for the sync tests: saved provider answers (payloads/), parsing them with an adapter,
connections, the parse command, and Django served over real HTTP."""

import contextlib
import io
import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.servers.basehttp import ThreadedWSGIServer
from django.core.wsgi import get_wsgi_application
from django.test.testcases import QuietWSGIRequestHandler

from marketplace.inventory import NormalizedOffer, ParsedInventory
from sync.adapters.base import AdapterError
from sync.adapters.registry import get_adapter
from sync.models import SyncConnection

PAYLOADS = Path(__file__).parent / "payloads"


def payload(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


def document(name: str) -> dict:
    """A saved answer as JSON, to change before parsing or serving it."""
    return json.loads(payload(name))


def feed_document(name: str = "feed_v1_acme.json") -> dict:
    """A saved feed as a dict, to change before serving it."""
    return document(name)


def expected_offer(
    external_id: str,
    region: str,
    price: str,
    nodes_available: int | None,
    gpu: str,
    gpus: int,
    vcpus: int | None = None,
    ram_gb: int | None = None,
    storage_gb: int | None = None,
    interconnect: str = "",
    memory: int | None = None,
    *,
    pricing_type: str = "on_demand",
    nodes_total: int | None = None,
) -> NormalizedOffer:
    """An offer a test expects an adapter to read, in USD, its price written exactly as a string."""
    return NormalizedOffer(
        external_id=external_id,
        region=region,
        gpu_model_raw=gpu,
        gpus_per_node=gpus,
        pricing_type=pricing_type,
        price_per_gpu_hour=Decimal(price),
        currency="USD",
        nodes_available=nodes_available,
        nodes_total=nodes_total,
        vcpus=vcpus,
        ram_gb=ram_gb,
        storage_gb=storage_gb,
        gpu_interconnect=interconnect,
        gpu_memory_gb=memory,
    )


def parse(kind: str, body: bytes | dict | list) -> ParsedInventory:
    """What the adapter of ``kind`` reads in ``body``: bytes as they are, anything else as JSON."""
    return get_adapter(kind).parse(body if isinstance(body, bytes) else json.dumps(body).encode())


def refusal(kind: str, body: bytes | dict | list) -> AdapterError:
    """The error the adapter of ``kind`` raises on ``body``."""
    with pytest.raises(AdapterError) as caught:
        parse(kind, body)
    return caught.value


def make_connection(kind: str, base_url: str, credentials: str, *, provider=None) -> SyncConnection:
    """A connection of ``kind`` to ``base_url``, saved when it has a ``provider``."""
    made = SyncConnection(provider=provider, kind=kind, name=kind, base_url=base_url)
    made.set_credentials(credentials)
    if provider is not None:
        made.save()
    return made


def printed_offers(kind: str, saved: str) -> list[dict]:
    """What ``manage.py parse_provider_payload --adapter KIND --file`` prints for a saved answer, as JSON."""
    out = io.StringIO()
    call_command(
        "parse_provider_payload", "--adapter", kind, "--file", str(PAYLOADS / saved), stdout=out, stderr=io.StringIO()
    )
    return json.loads(out.getvalue())


@contextlib.contextmanager
def django_served() -> Iterator[str]:
    """Django's own development server on a random port, in a thread; yields its base URL.

    Like runserver, it drops request headers with an underscore. Unlike live_server it needs no
    transactional database (which would flush the GPU catalogue for later tests): it suits the
    demo's mock APIs, which read no table.
    """
    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietWSGIRequestHandler)
    server.set_app(get_wsgi_application())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()

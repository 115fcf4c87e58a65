"""Saved provider answers for the sync tests (payloads/), and Django served over real HTTP."""

import contextlib
import copy
import json
import threading
from collections.abc import Iterator
from pathlib import Path

from django.core.servers.basehttp import ThreadedWSGIServer
from django.core.wsgi import get_wsgi_application
from django.test.testcases import QuietWSGIRequestHandler

PAYLOADS = Path(__file__).parent / "payloads"


def payload(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


def feed_document(name: str = "feed_v1_acme.json") -> dict:
    """A saved feed as a dict, to change before serving it."""
    return copy.deepcopy(json.loads(payload(name)))


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

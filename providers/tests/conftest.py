"""Fixtures for the sync tests: a real HTTP server on 127.0.0.1, saved feeds, connections."""

import copy
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from providers.models import SyncConnection

PAYLOADS = Path(__file__).parent / "payloads"


def payload(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


def feed_document(name: str = "feed_v1_acme.json") -> dict:
    """A saved feed as a dict, to change before serving it."""
    return copy.deepcopy(json.loads(payload(name)))


@dataclass
class Reply:
    """What the server answers to one request."""

    body: bytes | str | dict = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the status line
    content_length: int | None = None  # declare this length instead of the real one (truncation)
    send_length: bool = True  # False: no Content-Length, the body ends when the connection closes

    def encoded(self) -> bytes:
        if isinstance(self.body, dict):
            return json.dumps(self.body).encode()
        return self.body.encode() if isinstance(self.body, str) else self.body


@dataclass
class SeenRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""


class LocalServer:
    """A threaded HTTP server on 127.0.0.1 with a random port, answering per path.

    ``serve(path, reply1, reply2, ...)``: successive requests get the replies in order, the last
    one repeats. Unknown paths get 404. Every request is recorded in ``requests``.
    """

    def __init__(self):
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[SeenRequest] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server._answer(self)

            def do_POST(self):
                server._answer(self)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, path: str = "/feed.json", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def serve(self, path: str, *replies: Reply | dict | bytes) -> None:
        with self._lock:
            self.routes[path] = [reply if isinstance(reply, Reply) else Reply(body=reply) for reply in replies]

    def hits(self, path: str) -> int:
        return sum(1 for request in self.requests if request.path.split("?")[0] == path)

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path.split("?")[0]
        length = int(handler.headers.get("Content-Length") or 0)
        received = handler.rfile.read(length) if length else b""
        with self._lock:
            self.requests.append(SeenRequest(handler.command, handler.path, dict(handler.headers.items()), received))
            replies = self.routes.get(path)
            reply = (replies.pop(0) if len(replies) > 1 else replies[0]) if replies else Reply(b"not found", 404)
        body = reply.encoded()
        try:
            time.sleep(reply.delay)
            handler.send_response(reply.status)
            for name, value in reply.headers.items():
                handler.send_header(name, value)
            if reply.send_length:
                handler.send_header("Content-Length", str(reply.content_length or len(body)))
            handler.end_headers()
            handler.wfile.write(body)
            handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeouts, size cap): that is the point of those tests
        handler.close_connection = True

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def local_server():
    server = LocalServer()
    yield server
    server.close()


@pytest.fixture
def other_server():
    """A second server, for redirects to another origin."""
    server = LocalServer()
    yield server
    server.close()


@pytest.fixture
def acme_feed(acme, local_server):
    """Acme's feed connection, pointing at the local server's /feed.json."""
    local_server.serve("/feed.json", feed_document())
    return SyncConnection.objects.create(provider=acme, name="Acme feed", base_url=local_server.url("/feed.json"))


@pytest.fixture
def fast_sync(settings):
    """Short timeouts, so failure tests stay quick."""
    settings.SYNC_CONNECT_TIMEOUT = 2
    settings.SYNC_READ_TIMEOUT = 0.5
    return settings

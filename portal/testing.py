"""Shared test helpers: the personas, the guards for tests that need services, a local HTTP server.

alice owns provider Acme GPU (DE), bob is staff of Acme, charlie owns Beta Compute (US),
dave is a developer with no provider. Fixtures are plain pytest fixtures (see conftest.py).
"""

import json
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, urlparse

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from marketplace.models import GpuModel, Offer
from marketplace.services import offers_mark_stale
from providers.models import Certification, Membership, Provider, ProviderCertification, Region

PASSWORD = "correct-horse-battery"  # noqa: S105 (test personas only)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"} or bool(os.environ.get("REQUIRE_SERVICES"))


def missing_service(reason: str) -> None:
    """In CI a missing service is a failure, elsewhere a skip with the reason."""
    if in_ci():
        pytest.fail(f"required service unavailable in CI: {reason}")
    pytest.skip(reason)


def require_postgres() -> None:
    if connection.vendor != "postgresql":
        missing_service("needs PostgreSQL: run with DATABASE_URL=postgres://... (as .ci/run does)")


def require_redis() -> str:
    url = settings.CELERY_BROKER_URL
    if not url.startswith("redis://"):
        url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    parsed = urlparse(url)
    try:
        socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=2).close()
    except OSError as exc:
        missing_service(f"needs Redis at {url}: {exc}")
    return url


def database_url() -> str:
    """The test database pytest-django created, as a DATABASE_URL for subprocesses."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def migrate(targets=None):
    """Migrate the test database to ``targets`` (older migrations, for migration tests; None: every
    app's latest) and return the apps of that state. Use the ``latest_schema_after`` fixture to
    come back."""
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


# The statement timeout of public pages (portal/lib/db.py) on PostgreSQL: one set_config, and the
# savepoint its transaction becomes inside a test's. A constant, whatever the page: not counted.
TIMEOUT_SETUP = ("SAVEPOINT", "RELEASE SAVEPOINT", "SELECT set_config('statement_timeout'")


def queries_counted(captured: list[dict]) -> int:
    """The queries of a CaptureQueriesContext a page costs, its statement timeout's setup left out."""
    return sum(1 for query in captured if not query["sql"].startswith(TIMEOUT_SETUP))


def admin_url(model, view: str, *args) -> str:
    """The URL of one of the admin's pages for ``model``: changelist, add, change (with a pk)..."""
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def make_user(username: str, **extra) -> User:
    return User.objects.create_user(username, f"{username}@example.com", PASSWORD, **extra)


def make_provider(name: str, country: str, owner: User | None = None, **extra) -> Provider:
    from django.utils.text import slugify

    provider = Provider.objects.create(
        name=name, slug=slugify(name), hq_country=country, status=Provider.Status.APPROVED, **extra
    )
    if owner:
        Membership.objects.create(user=owner, provider=provider, role=Membership.Role.OWNER)
    return provider


def certify(
    provider: Provider, slug: str, *, verified: bool = True, valid_until=None, regions=(), **extra
) -> ProviderCertification:
    """A certification record of ``provider``: verified and valid for a year unless told otherwise;
    scoped to ``regions`` when some are given."""
    from datetime import timedelta

    from django.utils import timezone

    record = ProviderCertification.objects.create(
        provider=provider,
        certification=Certification.objects.get(slug=slug),
        scope=ProviderCertification.Scope.REGIONS if regions else ProviderCertification.Scope.PROVIDER,
        valid_until=valid_until or timezone.localdate() + timedelta(days=365),
        verified_at=timezone.now() if verified else None,
        **extra,
    )
    record.regions.set(regions)
    return record


def make_offer(provider: Provider, region: Region, gpu: str = "h100-sxm", **extra) -> Offer:
    values = dict(
        gpus_per_node=8,
        price_per_gpu_hour=Decimal("2.50"),
        nodes_available=4,
        nodes_total=16,
        external_id=f"{region.code}-{gpu}-{Offer.objects.count()}",
        vcpus=128,
        ram_gb=2048,
    )
    values.update(extra)
    return Offer.objects.create(provider=provider, region=region, gpu_model=GpuModel.objects.get(slug=gpu), **values)


def make_stale(offer: Offer, *, ago: timedelta = timedelta(minutes=1)) -> Offer:
    """Let ``offer``'s verification expire ``ago`` and run the periodic task that turns such
    offers stale, as beat would (its connection's, if synced, or its own)."""
    now = timezone.now()
    if offer.sync_connection_id:
        type(offer.sync_connection).objects.filter(pk=offer.sync_connection_id).update(
            last_success_at=now - ago - offer.stale_after()
        )
    Offer.objects.filter(pk=offer.pk).update(stale_at=now - ago)
    offers_mark_stale(now=now)
    offer.refresh_from_db()
    return offer


# --- A real HTTP server on 127.0.0.1, for the sync engine and adapters -------------------------


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


@dataclass(frozen=True)
class Pace:
    """How a SlowServer sends a body: ``head`` bytes at once, then ``chunk`` bytes every ``pause`` s."""

    head: int
    pause: float
    chunk: int = 1


class SlowServer(LocalServer):
    """A LocalServer that can send a path's body slowly, or stall mid-body (a long pause).

    The full Content-Length is announced, so a client sees a body that is late, not short.
    ``close()`` (or ``release()``) ends every paced answer early.
    """

    def __init__(self):
        super().__init__()
        self.paces: dict[str, Pace] = {}
        self.released = threading.Event()

    def pace(self, path: str, pace: Pace | None) -> None:
        with self._lock:
            if pace is None:
                self.paces.pop(path, None)
            else:
                self.paces[path] = pace

    def release(self) -> None:
        self.released.set()

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path.split("?")[0]
        with self._lock:
            pace = self.paces.get(path)
        if pace is None:
            return super()._answer(handler)
        with self._lock:
            self.requests.append(SeenRequest(handler.command, handler.path, dict(handler.headers.items())))
            body = self.routes[path][0].encoded()
        try:
            handler.send_response(200)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body[: pace.head])
            handler.wfile.flush()
            for start in range(pace.head, len(body), pace.chunk):
                if self.released.wait(pace.pause):
                    break
                handler.wfile.write(body[start : start + pace.chunk])
                handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up or died: that is the point
        handler.close_connection = True

    def close(self) -> None:
        self.release()
        super().close()

    def __enter__(self) -> "SlowServer":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

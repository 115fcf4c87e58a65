import importlib
from contextlib import contextmanager
from pathlib import Path

import pytest

from portal.testing import LocalServer, make_provider, make_user, missing_service, queries_counted
from providers.models import Membership, Region
from sync.models import SyncConnection
from sync.tests.support import feed_document


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Personas are created in most tests; the production hasher costs a good half second each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _default_language():
    # A request in French leaves French active on the thread (LocaleMiddleware): each test
    # starts in the default language, whatever ran before it.
    from django.utils import translation

    translation.deactivate()


@pytest.fixture(autouse=True)
def _no_catalog_cache(settings):
    # Tests change offers between requests and expect to see it at once; the cache has its own tests.
    settings.CATALOG_CACHE_SECONDS = 0


@pytest.fixture(autouse=True)
def _api_throttle_off(monkeypatch):
    # Tests call the API hundreds of times a minute; api/tests/test_throttling.py sets its own
    # rates. (DRF reads the rates once, into this class attribute.)
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": None, "push": None})


@pytest.fixture(autouse=True)
def _no_demand_flush(settings):
    # Catalog searches are counted in the process and written every DEMAND_FLUSH_SECONDS: a
    # flush in the middle of a test would add queries to a page. Demand tests flush explicitly.
    from marketplace import services

    settings.DEMAND_FLUSH_SECONDS = 10**9
    services._demand.clear()
    services._demand_empty.clear()


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Reload what data migrations load (GPU catalogue, certifications, exchange rates, region
    mappings) for transactional tests:
    an earlier transactional test (live_server, worker processes) flushed those tables."""
    marker = request.node.get_closest_marker("django_db")
    transactional = marker is not None and (marker.kwargs.get("transaction") or (marker.args and marker.args[0]))
    if not transactional and not {"transactional_db", "live_server"} & set(request.fixturenames):
        return
    from django.apps import apps

    request.getfixturevalue("transactional_db")
    importlib.import_module("marketplace.migrations.0013_gpu_identity").catalogue_load(apps, None)
    importlib.import_module("providers.migrations.0010_certification_records").certifications_load(apps, None)
    importlib.import_module("marketplace.migrations.0011_exchange_rates_normalized_price").rates_load(apps, None)
    importlib.import_module("sync.migrations.0007_region_mappings_load").load(apps, None)


@pytest.fixture
def assert_page_queries(db):
    """``django_assert_num_queries`` for public pages: their statement timeout's setup (three
    statements on PostgreSQL, none on SQLite) is left out of the count."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    @contextmanager
    def expect(count: int):
        with CaptureQueriesContext(connection) as queries:
            yield queries
        counted = queries_counted(queries.captured_queries)
        assert counted == count, f"expected {count} queries, {counted} were done: " + "\n".join(
            query["sql"] for query in queries.captured_queries
        )

    return expect


@pytest.fixture
def latest_schema_after():
    """Migrate back to the latest schema after a test that moved the database to an older one."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.fixture
def alice(db):
    return make_user("alice")


@pytest.fixture
def bob(db):
    return make_user("bob")


@pytest.fixture
def charlie(db):
    return make_user("charlie")


@pytest.fixture
def dave(db):
    return make_user("dave")


@pytest.fixture
def acme(alice, bob):
    """Provider A, headquartered in Germany: alice owns it, bob is staff."""
    provider = make_provider("Acme GPU", "DE", owner=alice)
    Membership.objects.create(user=bob, provider=provider, role=Membership.Role.STAFF)
    return provider


@pytest.fixture
def beta(charlie):
    """Provider B, headquartered in the US, owned by charlie."""
    return make_provider("Beta Compute", "US", owner=charlie)


@pytest.fixture
def acme_fra(acme):
    return Region.objects.create(provider=acme, code="eu-fra-1", country="DE", city="Frankfurt")


@pytest.fixture
def beta_nyc(beta):
    return Region.objects.create(provider=beta, code="us-east-1", country="US", city="New York")


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


# --- A real browser: Debian's Chromium driven by Playwright (it cannot download its own here) --

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def page(monkeypatch):
    if not Path(CHROMIUM).exists():
        missing_service("chromium")
    # Playwright's sync API runs an event loop in this thread; the ORM calls made by the test
    # itself (fixtures) are synchronous and safe here.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser.new_page()
        finally:
            browser.close()


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Rate limits count in the cache: each test starts with none used.
    from django.core.cache import cache

    cache.clear()

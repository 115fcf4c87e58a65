"""The dispatcher and the Celery tasks: due connections are claimed once, synced once."""

import importlib
import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlparse, urlunparse

import pytest
from django.conf import settings
from django.db import connection as db_connection
from django.utils import timezone

from marketplace.models import Offer
from portal.testing import make_provider, require_postgres, require_redis
from providers.models import SyncConnection, SyncRun
from providers.sync import DISPATCH_LEASE, connections_claim_due
from providers.tasks import dispatch_due_syncs, sync_connection_task
from providers.tests.conftest import feed_document


def make_connections(count: int, *, base_url: str = "https://feeds.invalid/feed.json", **extra) -> list[SyncConnection]:
    """``count`` connections, each of its own provider."""
    first = SyncConnection.objects.count()
    providers = [make_provider(f"Provider {n}", "DE") for n in range(first, first + count)]
    return [SyncConnection.objects.create(provider=provider, base_url=base_url, **extra) for provider in providers]


@pytest.mark.django_db
def test_the_dispatcher_claims_due_enabled_connections_oldest_first():
    now = timezone.now()
    late, due = make_connections(2)
    SyncConnection.objects.filter(pk=late.pk).update(next_sync_at=now - timedelta(hours=1))
    (later,) = make_connections(1, next_sync_at=now + timedelta(minutes=1))
    (paused,) = make_connections(1, enabled=False)

    claimed = connections_claim_due()

    assert claimed == [late.pk, due.pk]
    assert later.pk not in claimed and paused.pk not in claimed


@pytest.mark.django_db
def test_a_claimed_connection_is_not_claimed_again_until_its_lease_ends():
    (short,) = make_connections(1, interval_seconds=60)
    (long,) = make_connections(1, interval_seconds=7200)
    before = timezone.now()

    assert set(connections_claim_due()) == {short.pk, long.pk}
    assert connections_claim_due() == []

    short.refresh_from_db()
    long.refresh_from_db()
    assert short.next_sync_at >= before + DISPATCH_LEASE
    assert long.next_sync_at >= before + timedelta(hours=2)


@pytest.mark.django_db
def test_the_dispatcher_claims_at_most_its_limit():
    make_connections(5)

    assert len(connections_claim_due(limit=3)) == 3
    assert len(connections_claim_due(limit=3)) == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_dispatchers_never_claim_a_connection_twice():
    require_postgres()
    connections = make_connections(50)
    make_connections(5, enabled=False)
    claims: list[list[int]] = []
    start = threading.Barrier(4)

    def dispatcher():
        from django.db import connection

        try:
            start.wait()
            while batch := connections_claim_due(limit=3):
                claims.append(batch)
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatcher) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    claimed = [pk for batch in claims for pk in batch]
    assert len(claimed) == len(set(claimed)) == 50
    assert set(claimed) == {connection.pk for connection in connections}


# --- The tasks, called in-process ----------------------------------------------------------------


@pytest.mark.django_db
def test_the_sync_task_syncs_by_id(acme_feed, acme):
    assert sync_connection_task(acme_feed.pk) == "success"
    assert Offer.objects.filter(provider=acme).count() == 4


@pytest.mark.django_db
def test_the_sync_task_is_idempotent(acme_feed, acme):
    SyncRun.objects.create(connection=acme_feed)  # another worker is on it

    assert sync_connection_task(acme_feed.pk) == "already running"
    assert sync_connection_task(acme_feed.pk + 1000) == "gone"
    assert not Offer.objects.exists()


def test_the_tasks_are_acked_late_and_syncs_go_to_their_queue():
    from portal.celery import app

    assert sync_connection_task.acks_late
    assert app.amqp.router.route({}, sync_connection_task.name)["queue"].name == "sync"
    assert app.amqp.router.route({}, dispatch_due_syncs.name)["queue"].name == "default"
    assert "dispatch-due-syncs" in settings.CELERY_BEAT_SCHEDULE


# --- A real worker on Redis and PostgreSQL -------------------------------------------------------


def broker_url() -> str:
    """Redis DB 13, on the host the suite's Redis is on: this test flushes it."""
    url = urlparse(require_redis())
    return urlunparse(url._replace(path="/13"))


def database_url() -> str:
    db = db_connection.settings_dict
    credentials = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_worker(log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": broker_url(),
        "SYNC_ALLOW_PRIVATE_ADDRESSES": "true",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
    }
    command = [sys.executable, "-m", "celery", "-A", "portal", "worker", "--loglevel=INFO", "--queues=default,sync"]
    command += [
        "--concurrency=2",
        "--hostname=sync-test@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    with log.open("wb") as output:
        worker = subprocess.Popen(  # noqa: S603 (a fixed command line)
            command, cwd=settings.BASE_DIR, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 20
    while b" ready." not in log.read_bytes():
        if worker.poll() is not None or time.monotonic() > deadline:
            stop_worker(worker)
            pytest.fail(f"the Celery worker did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    return worker


def stop_worker(worker: subprocess.Popen) -> None:
    worker.terminate()
    try:
        worker.wait(timeout=10)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.fixture
def gpu_catalogue(transactional_db):
    """The catalogue a data migration loads, which an earlier transactional test may have flushed."""
    from django.apps import apps

    importlib.import_module("marketplace.migrations.0002_gpu_catalogue").load(apps, None)


@pytest.mark.usefixtures("gpu_catalogue")
@pytest.mark.django_db(transaction=True)
def test_a_celery_worker_syncs_every_due_connection_once(local_server, tmp_path):
    require_postgres()
    import redis

    from portal.celery import app

    redis.Redis.from_url(broker_url()).flushdb()
    local_server.serve("/feed.json", feed_document())
    connections = make_connections(6, base_url=local_server.url("/feed.json"))
    worker = start_worker(tmp_path / "worker.log")
    try:
        with app.connection_for_write(broker_url()) as broker:
            # Two dispatchers at once, as when beat fires while a slow one still runs.
            dispatch_due_syncs.apply_async(connection=broker)
            dispatch_due_syncs.apply_async(connection=broker)

        finished = SyncRun.objects.filter(connection__in=connections).exclude(outcome=SyncRun.Outcome.RUNNING)
        wait_for(lambda: finished.count() >= len(connections), 30, "the syncs to finish")
        time.sleep(0.5)  # a duplicate would show up by now
    finally:
        stop_worker(worker)

    log = (tmp_path / "worker.log").read_text()
    assert SyncRun.objects.filter(connection__in=connections).count() == len(connections), log[-3000:]
    assert set(SyncRun.objects.values_list("outcome", flat=True)) == {"success"}, log[-3000:]
    assert Offer.objects.filter(status="active").count() == 4 * len(connections)
    assert local_server.hits("/feed.json") == len(connections)
    assert connections_claim_due() == []  # each one's next sync is an interval away

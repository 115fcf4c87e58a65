"""The dispatcher and the Celery tasks: due connections are claimed once, synced once.

Real workers on Redis and PostgreSQL are in test_engine_workers.py.
"""

import threading
from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from marketplace.models import Offer
from portal.testing import make_provider, require_postgres
from sync.engine import DISPATCH_LEASE, INTERRUPTED, RUN_LEASE, connections_claim_due
from sync.models import SyncConnection, SyncRun
from sync.tasks import dispatch_due_syncs, sync_connection_task
from sync.tests.engine_support import another_worker_syncing


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
    with another_worker_syncing(acme_feed):
        assert sync_connection_task(acme_feed.pk) == "already running"
    assert sync_connection_task(acme_feed.pk + 1000) == "gone"
    assert not Offer.objects.exists()


def test_the_tasks_are_acked_late_and_syncs_go_to_their_queue():
    from portal.celery import app

    assert sync_connection_task.acks_late
    assert sync_connection_task.reject_on_worker_lost  # a killed worker's sync is requeued
    assert app.amqp.router.route({}, sync_connection_task.name)["queue"].name == "sync"
    assert app.amqp.router.route({}, dispatch_due_syncs.name)["queue"].name == "default"
    assert "dispatch-due-syncs" in settings.CELERY_BEAT_SCHEDULE


@pytest.mark.django_db
def test_a_redelivered_task_of_a_sync_that_finished_does_nothing(acme_feed, local_server):
    claimed_at = timezone.now().isoformat()
    assert sync_connection_task(acme_feed.pk, claimed_at) == "success"

    # The broker delivers it again (its acknowledgement was lost with the worker).
    assert sync_connection_task(acme_feed.pk, claimed_at) == "done already"
    assert SyncRun.objects.filter(connection=acme_feed).count() == 1
    assert local_server.hits("/feed.json") == 1


@pytest.mark.django_db
def test_a_redelivered_task_of_a_sync_that_never_finished_syncs(acme_feed, acme):
    claimed_at = timezone.now().isoformat()
    # Its first delivery died mid-sync: a "running" run and no last_run_at.
    orphan = SyncRun.objects.create(connection=acme_feed, started_at=timezone.now() - RUN_LEASE)

    assert sync_connection_task(acme_feed.pk, claimed_at) == "success"

    orphan.refresh_from_db()
    assert (orphan.outcome, orphan.error) == ("failed", INTERRUPTED)
    assert Offer.objects.filter(provider=acme).count() == 4


@pytest.mark.django_db
def test_the_dispatcher_enqueues_each_claim_with_its_time(monkeypatch):
    connections = make_connections(2)
    sent = []
    monkeypatch.setattr(sync_connection_task, "apply_async", lambda args, **options: sent.append((args, options)))

    before = timezone.now()
    assert dispatch_due_syncs() == 2

    assert sorted(args[0] for args, _ in sent) == sorted(connection.pk for connection in connections)
    for (_, claimed_at), options in sent:
        assert before <= datetime.fromisoformat(claimed_at) <= timezone.now()
        assert options == {"expires": DISPATCH_LEASE.total_seconds()}


@pytest.mark.django_db
def test_the_dispatcher_closes_runs_left_by_dead_workers_and_only_those(monkeypatch):
    dead_connection, live_connection = make_connections(2, enabled=False)
    dead = SyncRun.objects.create(connection=dead_connection, started_at=timezone.now() - RUN_LEASE)
    monkeypatch.setattr(sync_connection_task, "apply_async", lambda *args, **options: None)

    with another_worker_syncing(live_connection) as live:
        dispatch_due_syncs()

    dead.refresh_from_db()
    live.refresh_from_db()
    assert (dead.outcome, dead.error, dead.finished_at is not None) == ("failed", INTERRUPTED, True)
    assert live.outcome == "running"

"""Real Celery workers on Redis and PostgreSQL: many connections, concurrent dispatchers, SIGKILL.

Workers are subprocesses on the pytest test database (see engine_support); feeds are served by
local HTTP servers in this process. Skipped without PostgreSQL and Redis, failed in CI.
"""

import os
import re
import signal
import time
from decimal import Decimal

import pytest
from django.utils import timezone

from marketplace.models import GpuNameReview, Offer, OfferSnapshot
from portal.testing import Pace, SlowServer, make_provider, require_postgres
from sync.engine import INTERRUPTED, connections_claim_due, sync_connection_run
from sync.models import SyncConnection, SyncRun
from sync.tasks import dispatch_due_syncs
from sync.tests.engine_support import (
    broker_flush,
    broker_url,
    other_session,
    wait_for,
    worker_children,
    worker_kill,
    worker_ready,
    worker_spawn,
    worker_start,
    worker_stop,
)
from sync.tests.support import feed_document

# Transactional: the root conftest reloads the GPU catalogue an earlier flush removed.
pytestmark = pytest.mark.django_db(transaction=True)

VISIBILITY_TIMEOUT = 2  # seconds, for the workers that should pick up a dead worker's task


@pytest.fixture(autouse=True)
def services():
    require_postgres()
    broker_flush()


def dispatch(times: int = 1) -> None:
    """Send ``times`` dispatcher tasks at once through the broker, as beat would."""
    from portal.celery import app

    with app.connection_for_write(broker_url()) as broker:
        for _ in range(times):
            dispatch_due_syncs.apply_async(connection=broker)


def make_due(*connections: SyncConnection) -> None:
    """Their next due time has come (as if their interval had passed)."""
    SyncConnection.objects.filter(pk__in=[connection.pk for connection in connections]).update(
        next_sync_at=timezone.now()
    )


def offers_state(provider) -> list[tuple]:
    return list(
        Offer.objects.filter(provider=provider)
        .order_by("external_id")
        .values_list("external_id", "status", "price_per_gpu_hour", "nodes_available", "last_verified_at")
    )


def listed(provider) -> set[tuple]:
    """(id, price, nodes available) of the provider's active offers."""
    offers = Offer.objects.filter(provider=provider, status="active")
    return {
        (external_id, price.normalize(), nodes)
        for external_id, price, nodes in offers.values_list("external_id", "price_per_gpu_hour", "nodes_available")
    }


def expected(document: dict) -> set[tuple]:
    """What listed() must return once ``document`` is synced (unknown GPUs are held back)."""
    return {
        (offer["id"], Decimal(str(offer["price_per_gpu_hour"])).normalize(), offer["nodes_available"])
        for offer in document["offers"]
        if offer["gpu"] != UNKNOWN_GPU
    }


# --- Several workers, 50 connections, concurrent dispatchers ------------------------------------

ROUNDS = 3
UNKNOWN_GPU = "Quantum Tensor 9000"


def feed_of(n: int, round_: int) -> dict:
    """Connection n's feed in round ``round_``: prices and availability move every round, one
    offer is withdrawn in round 1 and comes back in round 2 with a new one."""
    document = feed_document()
    offers = document["offers"]
    offers[0]["price_per_gpu_hour"] = f"{2 + round_ / 10 + n / 1000:.3f}"
    offers[1]["nodes_available"] = (n + round_) % 4
    if round_ == 1:
        offers.pop(3)
    if round_ == 2:
        offers.append({**offers[0], "id": f"extra-{n}", "price_per_gpu_hour": "9.5"})
    # Every provider also lists a GPU the catalogue does not know: 50 syncs at once queue it.
    offers.append({**offers[0], "id": f"mystery-{n}", "gpu": UNKNOWN_GPU})
    return document


def test_several_workers_sync_every_connection_once_per_due_time_and_lose_no_update(local_server, tmp_path):
    providers = [make_provider(f"Provider {n}", "DE") for n in range(50)]
    connections = [
        SyncConnection.objects.create(provider=provider, base_url=local_server.url(f"/feeds/{n}.json"))
        for n, provider in enumerate(providers)
    ]
    logs = [tmp_path / f"worker-{n}.log" for n in range(3)]
    workers = [worker_spawn(log, name=f"sync-{n}", concurrency=2) for n, log in enumerate(logs)]
    runs = SyncRun.objects.filter(connection__in=connections)
    finished = runs.exclude(outcome=SyncRun.Outcome.RUNNING)
    try:
        for worker, log in zip(workers, logs, strict=True):
            worker_ready(worker, log)
        for round_ in range(ROUNDS):
            for n in range(len(connections)):
                local_server.serve(f"/feeds/{n}.json", feed_of(n, round_))
            make_due(*connections)
            # Several dispatchers at once, as when beat fires while a slow one still runs.
            dispatch(times=4)

            total = len(connections) * (round_ + 1)
            wait_for(lambda total=total: finished.count() >= total, 40, f"round {round_}", log=logs[0])
            time.sleep(0.5)  # a duplicate would show up by now
            assert runs.count() == len(connections) * (round_ + 1)
    finally:
        for worker in workers:
            worker_stop(worker)

    tail = "\n".join(log.read_text()[-1500:] for log in logs)
    assert set(runs.values_list("outcome", flat=True)) == {"success"}, tail
    for n, connection in enumerate(connections):
        assert runs.filter(connection=connection).count() == ROUNDS
        assert local_server.hits(f"/feeds/{n}.json") == ROUNDS
        # No lost update: what is listed is exactly the last feed, and every price change is on record.
        assert listed(connection.provider) == expected(feed_of(n, ROUNDS - 1))
        first = Offer.objects.get(provider=connection.provider, external_id="h100-8x-fra-od")
        assert first.snapshots.count() == ROUNDS
    assert Offer.objects.count() == 5 * len(connections)  # no duplicates: 4 + "extra", one row each
    review = GpuNameReview.objects.get()  # one queue entry, however many syncs met the name at once
    assert (review.raw_name, review.offers_held, review.providers.count()) == (UNKNOWN_GPU, 1, len(connections))
    assert connections_claim_due() == []  # each one's next sync is an interval away
    # The syncs were shared: every worker did some.
    assert all(re.search(r"sync_connection_task\[.*\] succeeded", log.read_text()) for log in logs), tail


# --- SIGKILL mid-sync --------------------------------------------------------------------------


def changed_feed() -> dict:
    """Acme's feed after a price change, a new offer, a withdrawn one and a renamed region."""
    document = feed_document()
    document["regions"][0]["name"] = "Frankfurt One"
    document["offers"][0]["price_per_gpu_hour"] = "1.99"
    document["offers"].pop(3)  # l40s-4x-par-od
    document["offers"].append({**document["offers"][1], "id": "h200-8x-par-od", "pricing_type": "on_demand"})
    return document


def test_a_worker_killed_mid_fetch_changes_nothing_and_its_task_is_redelivered(acme, tmp_path):
    with SlowServer() as server:
        server.serve("/feed.json", feed_document())
        connection = SyncConnection.objects.create(provider=acme, base_url=server.url("/feed.json"))
        sync_connection_run(connection=connection)
        before, snapshots = offers_state(acme), OfferSnapshot.objects.count()
        server.serve("/feed.json", changed_feed())
        server.pace("/feed.json", Pace(head=400, pause=60))  # half a feed, then silence
        make_due(connection)

        first = tmp_path / "killed.log"
        worker = worker_start(first)
        try:
            dispatch()
            delivered = time.monotonic()
            wait_for(lambda: server.hits("/feed.json") == 2, 20, "the worker to be mid-fetch", log=first)
        finally:
            worker_kill(worker)

        # Nothing but the "running" trace of the dead run.
        (orphan,) = SyncRun.objects.filter(outcome=SyncRun.Outcome.RUNNING)
        assert offers_state(acme) == before
        assert OfferSnapshot.objects.count() == snapshots

        # Redis gives an unacknowledged task back once its visibility timeout has passed, to the
        # next worker that starts (or sweeps).
        server.pace("/feed.json", None)
        time.sleep(max(0.0, delivered + VISIBILITY_TIMEOUT + 0.5 - time.monotonic()))
        second = tmp_path / "second.log"
        worker = worker_start(second, CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT))
        try:
            succeeded = SyncRun.objects.filter(connection=connection, outcome="success", pk__gt=orphan.pk)
            wait_for(succeeded.exists, 20, "the redelivered sync", log=second)
        finally:
            worker_stop(worker)

    orphan.refresh_from_db()
    assert (orphan.outcome, orphan.error) == ("failed", INTERRUPTED)
    assert listed(acme) == expected(changed_feed())
    assert server.hits("/feed.json") == 3  # the first sync, the killed one, the redelivered one


def test_a_worker_killed_inside_the_apply_transaction_leaves_the_database_as_it_was(acme, local_server, tmp_path):
    local_server.serve("/feed.json", feed_document())
    connection = SyncConnection.objects.create(provider=acme, base_url=local_server.url("/feed.json"))
    sync_connection_run(connection=connection)
    before, snapshots = offers_state(acme), OfferSnapshot.objects.count()
    regions = sorted(acme.regions.values_list("code", "name"))
    local_server.serve("/feed.json", changed_feed())
    make_due(connection)

    # Hold a lock on an offer the sync will update: its transaction then waits there, after
    # having inserted the new offer, which is the moment to kill it.
    lock = other_session()
    lock.set_autocommit(False)
    with lock.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM marketplace_offer WHERE provider_id = %s AND external_id = %s FOR UPDATE",
            [acme.pk, "h100-8x-fra-od"],
        )
    monitor = other_session()
    log = tmp_path / "killed.log"
    worker = worker_start(log)
    try:
        dispatch()

        def blocked_backend() -> int | None:
            with monitor.cursor() as cursor:
                cursor.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query ILIKE 'UPDATE %%marketplace_offer%%'"
                )
                row = cursor.fetchone()
            return row[0] if row else None

        wait_for(lambda: blocked_backend() is not None, 20, "the apply to reach the locked offer", log=log)
        backend = blocked_backend()
    finally:
        worker_kill(worker)
        lock.rollback()
        lock.close()

    def backend_gone() -> bool:
        with monitor.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [backend])
            return cursor.fetchone()[0] == 0

    wait_for(backend_gone, 20, "PostgreSQL to end the dead worker's session")
    monitor.close()
    (orphan,) = SyncRun.objects.filter(outcome=SyncRun.Outcome.RUNNING)
    assert offers_state(acme) == before  # no new offer, no price change, nothing withdrawn
    assert OfferSnapshot.objects.count() == snapshots
    assert sorted(acme.regions.values_list("code", "name")) == regions

    # This time the next dispatch (its claim's lease over) picks the connection up again.
    make_due(connection)
    second = tmp_path / "second.log"
    worker = worker_start(second)
    try:
        dispatch()
        succeeded = SyncRun.objects.filter(connection=connection, outcome="success", pk__gt=orphan.pk)
        wait_for(succeeded.exists, 20, "the next sync", log=second)
    finally:
        worker_stop(worker)

    orphan.refresh_from_db()
    assert (orphan.outcome, orphan.error) == ("failed", INTERRUPTED)
    assert listed(acme) == expected(changed_feed())
    assert Offer.objects.get(provider=acme, external_id="l40s-4x-par-od").status == "withdrawn"


def test_a_killed_pool_process_has_its_task_requeued_at_once(acme, tmp_path):
    with SlowServer() as server:
        server.serve("/feed.json", changed_feed())
        server.pace("/feed.json", Pace(head=400, pause=60))
        connection = SyncConnection.objects.create(provider=acme, base_url=server.url("/feed.json"))

        log = tmp_path / "worker.log"
        worker = worker_start(log, concurrency=1)
        try:
            dispatch()
            wait_for(lambda: server.hits("/feed.json") == 1, 20, "the pool process to be mid-fetch", log=log)
            server.pace("/feed.json", None)
            for child in worker_children(worker):
                os.kill(child, signal.SIGKILL)
            # The worker notices its lost process and rejects the task back to the queue
            # (reject_on_worker_lost): a new pool process syncs it, no restart, no new dispatch.
            succeeded = SyncRun.objects.filter(connection=connection, outcome="success")
            wait_for(succeeded.exists, 20, "the requeued sync", log=log)
            assert worker.poll() is None
        finally:
            worker_stop(worker)

    assert "WorkerLostError" in log.read_text()
    orphan, run = SyncRun.objects.filter(connection=connection).order_by("pk")
    assert (orphan.outcome, orphan.error, run.outcome) == ("failed", INTERRUPTED, "success")
    assert listed(acme) == expected(changed_feed())

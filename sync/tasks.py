"""Celery tasks: thin wrappers that take ids, re-fetch and call the sync engine.

Beat runs ``dispatch_due_syncs`` every few seconds (settings.CELERY_BEAT_SCHEDULE); it claims
the due connections and enqueues one ``sync_connection_task`` each, on the "sync" queue
(settings.CELERY_TASK_ROUTES). Both are idempotent: a sync task delivered twice, or for a
connection another worker is already syncing, does nothing the second time.

Sync tasks are acknowledged late and rejected (so requeued) when their worker process dies: a
sync interrupted by SIGKILL is delivered again. With Redis, a message whose whole worker died
comes back after the broker's visibility timeout; by then the connection's claim may have ended
and the next dispatch syncs it instead (the message has expired and is dropped).
"""

from datetime import datetime

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from sync.engine import (
    DISPATCH_LEASE,
    RUN_LEASE,
    connections_claim_due,
    runs_close_interrupted,
    sync_connection_run,
)
from sync.models import ConnectionTest, Heartbeat, SyncConnection
from sync.preview import connection_test_run

DISPATCH_HEARTBEAT = "dispatch_due_syncs"


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    # Within the run lease, so a hung run is stopped before another may start.
    soft_time_limit=RUN_LEASE.total_seconds() - 120,
    time_limit=RUN_LEASE.total_seconds() - 60,
)
def sync_connection_task(connection_id: int, claimed_at: str | None = None) -> str:
    """Sync one connection. ``claimed_at`` (ISO time, from the dispatcher) makes a redelivery
    of a sync that did finish a no-op: the connection is synced once per due time."""
    connection = SyncConnection.objects.select_related("provider").filter(pk=connection_id).first()
    if connection is None:
        return "gone"  # deleted since it was enqueued
    if connection.provider.status != connection.provider.Status.APPROVED:
        return "provider not approved"  # suspended since it was enqueued: fetch nothing
    if claimed_at and connection.last_run_at and connection.last_run_at >= datetime.fromisoformat(claimed_at):
        return "done already"  # a redelivery: this claim's run finished (its ack was lost)
    run = sync_connection_run(connection=connection)
    return run.outcome if run else "already running"


@shared_task(ignore_result=True)
def dispatch_due_syncs() -> int:
    """Enqueue one sync per due connection; returns how many."""
    # /healthz reads this: beat and a worker of the default queue are alive.
    Heartbeat.objects.update_or_create(name=DISPATCH_HEARTBEAT, defaults={"at": timezone.now()})
    # Runs left "running" by dead workers would keep the dashboard saying "syncing" forever.
    runs_close_interrupted()
    # Before the claim, so that any run finishing after it counts (a due connection's last run
    # ended at least an interval, 30 s or more, before now).
    claimed_at = timezone.now().isoformat()
    ids = connections_claim_due()
    for connection_id in ids:
        # Past its lease the connection is claimed again: an older copy still queued is moot.
        sync_connection_task.apply_async((connection_id, claimed_at), expires=DISPATCH_LEASE.total_seconds())
    return len(ids)


@shared_task(
    ignore_result=True,
    # Someone is waiting for the answer: the HTTP client gives up first, these are the backstop.
    soft_time_limit=settings.CONNECTION_TEST_TIMEOUT_SECONDS + 15,
    time_limit=settings.CONNECTION_TEST_TIMEOUT_SECONDS + 30,
)
def connection_test_task(test_id: int) -> str:
    """Run one "test connection" (sync.preview.connection_test_run); a finished test is left alone."""
    test = ConnectionTest.objects.select_related("connection__provider").filter(pk=test_id).first()
    if test is None or not test.pending:
        return "gone or done"
    return connection_test_run(test=test).status

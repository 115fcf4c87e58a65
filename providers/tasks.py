"""Celery tasks: thin wrappers that take ids, re-fetch and call the sync engine.

Beat runs ``dispatch_due_syncs`` every few seconds (settings.CELERY_BEAT_SCHEDULE); it claims
the due connections and enqueues one ``sync_connection_task`` each, on the "sync" queue
(settings.CELERY_TASK_ROUTES). Both are idempotent: a sync task delivered twice, or for a
connection another worker is already syncing, does nothing the second time.
"""

from celery import shared_task

from providers.models import SyncConnection
from providers.sync import DISPATCH_LEASE, RUN_LEASE, connections_claim_due, sync_connection_run


@shared_task(
    acks_late=True,
    ignore_result=True,
    # Within the run lease, so a hung run is stopped before another may start.
    soft_time_limit=RUN_LEASE.total_seconds() - 120,
    time_limit=RUN_LEASE.total_seconds() - 60,
)
def sync_connection_task(connection_id: int) -> str:
    connection = SyncConnection.objects.select_related("provider").filter(pk=connection_id).first()
    if connection is None:
        return "gone"  # deleted since it was enqueued
    run = sync_connection_run(connection=connection)
    return run.outcome if run else "already running"


@shared_task(ignore_result=True)
def dispatch_due_syncs() -> int:
    """Enqueue one sync per due connection; returns how many."""
    ids = connections_claim_due()
    for connection_id in ids:
        # Past its lease the connection is claimed again: an older copy still queued is moot.
        sync_connection_task.apply_async((connection_id,), expires=DISPATCH_LEASE.total_seconds())
    return len(ids)

"""Celery tasks: thin wrappers that take ids, re-fetch and call the sync service."""

from celery import shared_task

from providers.models import SyncConnection
from providers.sync import connections_claim_due, sync_connection_run


@shared_task(acks_late=True)
def sync_connection_task(connection_id: int) -> None:
    connection = SyncConnection.objects.filter(pk=connection_id).first()
    if connection is None:
        return  # deleted since it was enqueued
    sync_connection_run(connection=connection)


@shared_task
def dispatch_due_syncs() -> int:
    """Run by beat every few seconds: enqueue one sync per due connection."""
    ids = connections_claim_due()
    for connection_id in ids:
        sync_connection_task.delay(connection_id)
    return len(ids)

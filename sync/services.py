"""Writes on sync connections: create, edit, pause and resume, queue a sync.

Every service validates with ``full_clean()`` before saving. The sync engine (sync/engine.py)
writes a connection's health and schedule columns itself, as runs end.
"""

from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace.models import GpuModel, GpuNameReview
from marketplace.services import gpu_name_review_resolve
from portal.lib.queue import queue_available
from providers.models import Provider
from sync.models import ConnectionTest, SyncConnection


def connection_create(
    *,
    provider: Provider,
    kind: str,
    name: str,
    base_url: str,
    interval_seconds: int,
    api_key: str = "",
) -> SyncConnection:
    """Add a sync connection, due at once; ``api_key`` is stored encrypted.

    A provider has at most SYNC_MAX_CONNECTIONS_PER_PROVIDER connections (ValidationError beyond):
    each one makes the workers fetch on its schedule.
    """
    limit = settings.SYNC_MAX_CONNECTIONS_PER_PROVIDER
    if SyncConnection.objects.filter(provider=provider).count() >= limit:
        raise ValidationError(
            _("A provider can have at most %(limit)d connections: remove or edit one instead.") % {"limit": limit}
        )
    connection = SyncConnection(
        provider=provider, kind=kind, name=name, base_url=base_url, interval_seconds=interval_seconds
    )
    connection.set_credentials(api_key)
    connection.full_clean()
    connection.save()
    return connection


# The columns a provider edits. A sync run writes the others (health, schedule) at any moment,
# so saves from the dashboard name their columns and never write back a stale copy of those.
CONNECTION_SETTINGS = ["kind", "name", "base_url", "interval_seconds", "credentials_encrypted"]
RESUME = {"paused_at": None, "enabled": True, "consecutive_failures": 0}


def connection_update(
    *,
    connection: SyncConnection,
    kind: str,
    name: str,
    base_url: str,
    interval_seconds: int,
    api_key: str = "",
    remove_credentials: bool = False,
) -> SyncConnection:
    """Change a connection. A blank ``api_key`` keeps the stored one unless ``remove_credentials``.

    Saving is how a provider says "fixed": a connection paused after repeated failures resumes
    (its failure count starts again) and is due at once; so is any enabled connection, to try
    the new settings without waiting. A connection paused by hand stays paused.
    """
    # As the database has them now: a run may have paused the connection since it was loaded.
    connection.refresh_from_db(fields=["enabled", "paused_at"])
    connection.kind, connection.name = kind, name
    connection.base_url, connection.interval_seconds = base_url, interval_seconds
    if api_key:
        connection.set_credentials(api_key)
    elif remove_credentials:
        connection.set_credentials("")
    fields = list(CONNECTION_SETTINGS)
    if connection.paused_at is not None:
        for field, value in RESUME.items():
            setattr(connection, field, value)
        fields += list(RESUME)
    if connection.enabled:
        connection.next_sync_at = timezone.now()
        fields.append("next_sync_at")
    connection.full_clean()
    connection.save(update_fields=fields)
    return connection


def connection_set_enabled(*, connection: SyncConnection, enabled: bool) -> SyncConnection:
    """Pause or resume scheduled syncs; a resumed connection is due at once.

    Resuming a connection paused after repeated failures also starts its failure count again.
    """
    connection.refresh_from_db(fields=["paused_at"])
    connection.enabled = enabled
    fields = ["enabled"]
    if enabled:
        connection.next_sync_at = timezone.now()
        fields.append("next_sync_at")
        if connection.paused_at is not None:
            connection.paused_at, connection.consecutive_failures = None, 0
            fields += ["paused_at", "consecutive_failures"]
    connection.full_clean()
    connection.save(update_fields=fields)
    return connection


def connection_sync_request(*, connection: SyncConnection) -> bool:
    """Queue a sync of ``connection`` now, once the current transaction commits.

    Returns False, queuing nothing, when the task queue is unavailable: an enabled connection is
    then made due now, so the dispatcher syncs it as soon as the queue is back (nothing is lost).
    Raises ValidationError for a provider that is not approved: only approved providers sync.
    """
    from sync.tasks import sync_connection_task  # tasks import the sync engine: load it lazily

    if connection.provider.status != Provider.Status.APPROVED:
        raise ValidationError(_("Syncs start once your provider is approved."))
    if not queue_available():
        SyncConnection.objects.filter(pk=connection.pk, enabled=True).update(next_sync_at=timezone.now())
        return False
    sync_connection_task.delay_on_commit(connection.pk)
    return True


def connection_test_request(*, connection: SyncConnection, user: User | None) -> ConnectionTest | None:
    """Ask a worker to test ``connection`` (fetch and parse, save nothing); None, asking nothing,
    when the task queue is unavailable. The dashboard polls the returned ConnectionTest."""
    from sync.tasks import connection_test_task

    if not queue_available():
        return None
    test = ConnectionTest.objects.create(connection=connection, requested_by=user)
    connection_test_task.delay_on_commit(test.pk)
    return test


@transaction.atomic
def gpu_name_review_map(*, review: GpuNameReview, gpu_model: GpuModel, now: datetime) -> int:
    """Map a GPU name from the review queue to ``gpu_model`` and let its held offers in.

    Resolves the review (marketplace.services.gpu_name_review_resolve) and makes the enabled
    connections of the providers that used the name due now, so their next sync lists the held
    offers. Returns how many connections were made due; raises ValidationError as the resolve does.
    """
    gpu_name_review_resolve(review=review, gpu_model=gpu_model, now=now)
    return SyncConnection.objects.filter(provider__in=review.providers.all(), enabled=True).update(next_sync_at=now)

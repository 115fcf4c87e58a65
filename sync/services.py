"""Writes on sync connections: create, edit, pause and resume, queue a sync.

Every service validates with ``full_clean()`` before saving. The sync engine (sync/engine.py)
writes a connection's health and schedule columns itself, as runs end.
"""

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace.models import GpuModel, GpuNameReview
from marketplace.services import gpu_name_review_resolve
from portal.lib.queue import queue_available
from portal.lib.urls import site_url
from providers.models import Provider
from sync.engine import sync_connection_run
from sync.models import ApiToken, ConnectionTest, RegionMapping, RegionReview, SyncConnection, SyncRun


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


# --- The JSON API: tokens and pushed inventories ---------------------------------------------

TOKEN_PREFIX = "gpm"  # noqa: S105 (not a password: what every token starts with)
IDEMPOTENCY_WINDOW = timedelta(days=1)


def token_create(*, provider: Provider, name: str, user: User | None, scopes: list[str]) -> tuple[ApiToken, str]:
    """A new API token of ``provider``; returns it and its secret, which is never shown again."""
    prefix, secret = secrets.token_hex(4), secrets.token_urlsafe(32)
    token = ApiToken(
        provider=provider,
        name=name.strip(),
        prefix=prefix,
        digest=_token_digest(secret),
        scopes=sorted(set(scopes)),
        created_by=user,
    )
    token.full_clean()
    token.save()
    return token, f"{TOKEN_PREFIX}_{prefix}_{secret}"


def token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def token_authenticate(*, raw: str) -> ApiToken | None:
    """The active token of an approved provider that ``raw`` is, or None."""
    parts = raw.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    token = ApiToken.objects.select_related("provider").filter(prefix=parts[1], revoked_at__isnull=True).first()
    if token is None or not hmac.compare_digest(token.digest, _token_digest(parts[2])):
        return None
    if token.provider.status != Provider.Status.APPROVED:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)  # not on every request
    return token


def _token_digest(secret: str) -> str:
    # A random 256-bit secret: a plain hash is enough (no dictionary to guess from).
    return hashlib.sha256(secret.encode()).hexdigest()


def push_connection(*, provider: Provider) -> SyncConnection:
    """The provider's connection that receives pushes (created on first use): its runs are the
    pushes, its interval how often pushes are expected (a pushed offer is stale after a few)."""
    connection = provider.sync_connections.filter(receives_pushes=True).first()
    if connection is None:
        connection = SyncConnection(
            provider=provider,
            name=SyncConnection.PUSH_NAME,
            kind=SyncConnection.FEED,
            base_url=site_url("/api/v1/inventory/"),
            interval_seconds=3600,
            receives_pushes=True,
        )
        connection.full_clean()
        connection.save()
    return connection


def inventory_push(*, provider: Provider, payload: bytes, idempotency_key: str = "") -> tuple[SyncRun | None, bool]:
    """Apply a provider feed document pushed to the API, exactly as a sync of it would be.

    Returns the run (None when another push of the provider is being applied) and whether it is
    an earlier run answered again for the same ``idempotency_key`` (nothing applied twice).
    """
    connection = push_connection(provider=provider)
    if idempotency_key:
        earlier = connection.runs.filter(
            idempotency_key=idempotency_key, started_at__gte=timezone.now() - IDEMPOTENCY_WINDOW
        ).first()
        if earlier is not None:
            return earlier, True
    run = sync_connection_run(connection=connection, payload=payload)
    if run is not None and idempotency_key:
        run.idempotency_key = idempotency_key
        run.save(update_fields=["idempotency_key"])
    return run, False


# --- The region review queue ---------------------------------------------------------------------


@transaction.atomic
def region_review_map(
    *,
    review: RegionReview,
    country: str,
    city: str = "",
    other_countries: tuple[str, ...] = (),
    source: str = "",
    now: datetime,
) -> int:
    """Map a region from the review queue to where it is: a RegionMapping for its adapter kind.

    The enabled connections of that kind of the providers that used the code are due now, so their
    next sync lists the held offers, without a deploy. Returns how many connections were made due.
    """
    mapping = RegionMapping.objects.filter(kind=review.kind, code=review.code).first() or RegionMapping(
        kind=review.kind, code=review.code
    )
    mapping.country, mapping.city, mapping.other_countries = country, city, list(other_countries)
    mapping.name = mapping.name or review.description[:120]
    mapping.source = source or mapping.source
    mapping.full_clean()
    mapping.save()
    review.mapping, review.resolved_at = mapping, now
    review.save(update_fields=["mapping", "resolved_at"])
    connections = SyncConnection.objects.filter(provider__in=review.providers.all(), kind=review.kind, enabled=True)
    return connections.update(next_sync_at=now)

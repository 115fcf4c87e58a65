"""The sync engine: claim due connections, fetch a connection's inventory, parse it, apply it.

One sync of one connection is ``sync_connection_run``. It is safe to call from several
workers at once: a partial unique constraint allows one running SyncRun per connection, so
creating that row is the claim, and whoever fails to create it does nothing. A failure at any
step (network, HTTP status, payload) is recorded on the run and the connection and changes no
offer: the apply is one transaction, entered only with a fully parsed inventory.

A worker can die mid-sync (SIGKILL, out of memory, a lost machine). Its transaction is rolled
back by the database, so nothing but its "running" SyncRun is left. On PostgreSQL each run
also holds a session advisory lock, which the database drops with the dead worker's session:
a running SyncRun whose lock is free belongs to a dead worker and is closed as interrupted at
once, so the redelivered task (or the next dispatch) syncs the connection again. Elsewhere
(SQLite) such a run is presumed dead after RUN_LEASE.

A connection failing SYNC_PAUSE_AFTER_FAILURES times in a row is paused (enabled=False,
paused_at set) and its provider is told by e-mail; editing the connection resumes it.
"""

import contextlib
import gc
import logging
import textwrap
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db import connection as db_connection
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from marketplace.inventory import ParsedInventory
from marketplace.services import InventoryApplyResult, inventory_apply
from portal.lib.http import FetchError, GuardedClient
from portal.lib.urls import site_url
from portal.metrics import SYNC_DURATION, SYNC_ERRORS
from providers.selectors import provider_contact_addresses
from sync.adapters.base import AdapterError
from sync.adapters.registry import get_adapter
from sync.models import SyncConnection, SyncRun
from sync.regions import inventory_locate, region_descriptions, regions_unknown_record

logger = logging.getLogger(__name__)

# A run still "running" after this was left by a worker that died; it no longer blocks the
# connection. Longer than any real run: the HTTP client gives up within a few minutes.
RUN_LEASE = timedelta(minutes=15)
# A dispatched connection is not claimed again before this (or its interval, if longer),
# unless its run finishes first and sets the real next time.
DISPATCH_LEASE = timedelta(minutes=5)
# A failing connection is retried after interval x 1, 2, 4 ... up to this (or its interval).
FAILURE_BACKOFF_CAP = timedelta(hours=1)
# PostgreSQL advisory locks are keyed by two int4: this namespace ("sync") and the connection id.
RUN_LOCK_NAMESPACE = 0x73796E63
INTERRUPTED = "This sync was interrupted before it finished (its worker stopped); nothing was changed."
INTERNAL_ERROR = (
    "The sync stopped on an internal error ({name}); nothing was changed. The portal's team can see it in the logs."
)


def sync_connection_run(
    *, connection: SyncConnection, payload: bytes | None = None, client: GuardedClient | None = None
) -> SyncRun | None:
    """Run one sync of ``connection`` and return its finished SyncRun.

    ``payload`` skips the fetch (the demo loads its feeds in-process this way); ``client``
    lets a caller supply the HTTP client. Returns None, doing nothing, when another run of the
    same connection is in progress. Never raises for a provider's fault: the run says what
    went wrong, ``connection`` is updated in place (health, failures, next sync time).
    """
    if not _run_lock(connection.pk):
        logger.info("sync of connection %s skipped: another run is in progress", connection.pk)
        return None
    run = None
    try:
        run = _run_start(connection)
        if run is None:
            logger.info("sync of connection %s skipped: another run is in progress", connection.pk)
            return None
        try:
            if payload is None and connection.receives_pushes:
                raise AdapterError(
                    "This connection receives its inventory by push to the API: there is nothing to fetch."
                )
            if payload is None:
                with contextlib.nullcontext(client) if client else GuardedClient() as http:
                    payload = inventory_fetch(connection=connection, client=http)
            with _gc_paused():
                inventory = get_adapter(connection.kind).parse(payload)
            del payload  # 30 MB at most, not needed while applying
            inventory = inventory_locate(kind=connection.kind, inventory=inventory)
            # All or nothing: a worker killed in here leaves the database as it was.
            with transaction.atomic():
                now = timezone.now()
                result = inventory_apply(connection=connection, inventory=inventory, now=now)
                if result.unknown_regions and connection.kind != SyncConnection.FEED:
                    regions_unknown_record(
                        kind=connection.kind,
                        provider=connection.provider,
                        regions=result.unknown_regions,
                        descriptions=region_descriptions(inventory),
                        now=now,
                    )
                _run_succeeded(run, connection, result, verified_at=now)
        except (FetchError, AdapterError) as exc:
            _run_failed(run, connection, str(exc), permanent=exc.permanent)
        except Exception as exc:
            logger.exception("sync of connection %s failed unexpectedly", connection.pk)
            _run_failed(run, connection, INTERNAL_ERROR.format(name=type(exc).__name__), permanent=False)
        return run
    finally:
        _run_unlock(connection.pk)
        _observe(connection, run)


def _observe(connection: SyncConnection, run: SyncRun | None) -> None:
    if run is None or run.finished_at is None:
        return
    SYNC_DURATION.labels(connection.kind, run.outcome).observe((run.finished_at - run.started_at).total_seconds())
    if run.outcome == SyncRun.Outcome.FAILED:
        SYNC_ERRORS.labels(connection.kind).inc()


@contextlib.contextmanager
def _gc_paused():
    """Parsing a large inventory builds millions of objects, none of them in a reference cycle:
    the cyclic garbage collector would scan the growing heap again and again for nothing (a
    fifth of the parse time of a 100,000-offer feed)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def connection_preview(*, connection: SyncConnection, client: GuardedClient | None = None) -> ParsedInventory:
    """Fetch and parse ``connection``'s inventory without saving anything ("test connection").

    Raises FetchError or AdapterError, whose messages are meant for the provider's staff.
    """
    with contextlib.nullcontext(client) if client else GuardedClient() as http:
        inventory = get_adapter(connection.kind).parse(inventory_fetch(connection=connection, client=http))
    return inventory_locate(kind=connection.kind, inventory=inventory)


def inventory_fetch(*, connection: SyncConnection, client: GuardedClient) -> bytes:
    """The raw inventory payload of ``connection``, fetched by its kind's adapter with its credentials."""
    adapter = get_adapter(connection.kind)
    return adapter.fetch(base_url=connection.base_url, credentials=connection.get_credentials(), client=client)


def connections_claim_due(*, limit: int = 1000) -> list[int]:
    """Claim up to ``limit`` due, enabled connections, oldest due first, and return their ids.

    Claiming pushes each connection's next_sync_at forward by a lease, so neither this
    dispatcher nor another one running at the same time returns it again; its run sets the
    real next time when it ends. On PostgreSQL the rows are locked with SKIP LOCKED, so
    concurrent dispatchers share the due connections; elsewhere a conditional UPDATE per row
    decides who got it.
    """
    now = timezone.now()
    due = SyncConnection.objects.due(now).order_by("next_sync_at")
    if db_connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            rows = list(due.select_for_update(skip_locked=True).values_list("pk", "interval_seconds")[:limit])
            leases: dict[datetime, list[int]] = defaultdict(list)
            for pk, interval in rows:
                leases[_lease_end(now, interval)].append(pk)
            for until, pks in leases.items():
                SyncConnection.objects.filter(pk__in=pks).update(next_sync_at=until)
        return [pk for pk, _ in rows]
    claimed = []
    for pk, interval in due.values_list("pk", "interval_seconds")[:limit]:
        if SyncConnection.objects.filter(pk=pk).due(now).update(next_sync_at=_lease_end(now, interval)):
            claimed.append(pk)
    return claimed


def runs_close_interrupted(*, connection_ids: list[int] | None = None) -> int:
    """Close the "running" runs whose worker died mid-sync (as failed, "interrupted"); return how many.

    On PostgreSQL a live run holds its connection's advisory lock, so a running run whose lock
    this session can take is an orphan, whatever its age. Elsewhere a run still running after
    RUN_LEASE is presumed dead. Only ``connection_ids`` when given; the dispatcher sweeps all.
    """
    now = timezone.now()
    running = SyncRun.objects.filter(outcome=SyncRun.Outcome.RUNNING)
    if connection_ids is not None:
        running = running.filter(connection_id__in=connection_ids)
    interrupted = {"outcome": SyncRun.Outcome.FAILED, "finished_at": now, "error": INTERRUPTED}
    if not _run_locks_supported():
        return running.filter(started_at__lt=now - RUN_LEASE).update(**interrupted)
    closed = 0
    for connection_id in set(running.values_list("connection_id", flat=True)):
        if not _run_lock(connection_id):
            continue  # a live worker is on it
        try:
            # Re-read under the lock: a run that finished meanwhile is not running any more.
            closed += running.filter(connection_id=connection_id).update(**interrupted)
        finally:
            _run_unlock(connection_id)
    return closed


def failure_backoff(*, interval_seconds: int, failures: int, permanent: bool) -> timedelta:
    """How long a connection waits after its ``failures``-th failure in a row.

    Its interval, then twice, four times... up to the cap. A permanent failure (rejected
    credentials, an invalid feed) waits the cap at once: it needs an edit, not a retry, and
    "sync now" is there for after the edit.
    """
    interval = timedelta(seconds=interval_seconds)
    cap = max(FAILURE_BACKOFF_CAP, interval)
    if permanent:
        return cap
    return min(interval * 2 ** min(failures - 1, 16), cap)


def _lease_end(now: datetime, interval_seconds: int) -> datetime:
    return now + max(DISPATCH_LEASE, timedelta(seconds=interval_seconds))


def _run_locks_supported() -> bool:
    return db_connection.vendor == "postgresql"


def _run_lock(connection_id: int) -> bool:
    """Take the connection's session advisory lock (PostgreSQL); False if another session holds it.

    A session lock, not a transaction one: it is held from before the run starts until after it
    ends, across the run's own transactions, and dropped by the server when the session dies.
    Locks stack within a session; every successful call is paired with _run_unlock().
    """
    if not _run_locks_supported():
        return True
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [RUN_LOCK_NAMESPACE, connection_id % 2**31])
        return cursor.fetchone()[0]


def _run_unlock(connection_id: int) -> None:
    if not _run_locks_supported():
        return
    try:
        with db_connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [RUN_LOCK_NAMESPACE, connection_id % 2**31])
    except Exception:
        # A broken session has dropped its locks already; never hide the run's own outcome.
        logger.warning("could not release the sync lock of connection %s", connection_id, exc_info=True)


def _run_start(connection: SyncConnection) -> SyncRun | None:
    runs_close_interrupted(connection_ids=[connection.pk])
    try:
        with transaction.atomic():
            # Committed on its own (outside any apply), so a crash mid-sync leaves a visible trace.
            return SyncRun.objects.create(connection=connection, started_at=timezone.now())
    except IntegrityError:
        return None


def _run_succeeded(run: SyncRun, connection: SyncConnection, result: InventoryApplyResult, *, verified_at) -> None:
    """Record the success; ``verified_at``, the apply's time, verifies every offer the inventory
    listed (Offer.verified_at reads it as the connection's last success)."""
    now = timezone.now()
    run.outcome, run.finished_at = SyncRun.Outcome.SUCCESS, now
    run.created, run.updated, run.unchanged = result.created, result.updated, result.unchanged
    run.withdrawn, run.skipped, run.warnings = result.withdrawn, result.skipped, result.warnings
    run.windows, run.suspicious = result.windows, result.suspicious
    run.save()
    _connection_update(
        connection,
        last_run_at=now,
        last_success_at=verified_at,
        last_error="",
        consecutive_failures=0,
        next_sync_at=now + timedelta(seconds=connection.interval_seconds),
    )
    if connection.paused_at is not None:
        # A success ("sync now") disproves a pause for failures; a connection disabled by hand stays so.
        if SyncConnection.objects.filter(pk=connection.pk, paused_at__isnull=False).update(
            enabled=True, paused_at=None
        ):
            connection.enabled, connection.paused_at = True, None
    logger.info(
        "sync of connection %s: %s created, %s updated, %s unchanged, %s withdrawn, %s skipped",
        connection.pk,
        run.created,
        run.updated,
        run.unchanged,
        run.withdrawn,
        run.skipped,
    )


def _run_failed(run: SyncRun, connection: SyncConnection, error: str, *, permanent: bool) -> None:
    now = timezone.now()
    with transaction.atomic():
        # Read, not trust, the count: the instance may be older than the last run.
        failures = SyncConnection.objects.filter(pk=connection.pk).values_list("consecutive_failures", flat=True)
        failures = (failures.first() or 0) + 1
        run.outcome, run.finished_at, run.error = SyncRun.Outcome.FAILED, now, error
        run.save(update_fields=["outcome", "finished_at", "error"])
        backoff = failure_backoff(interval_seconds=connection.interval_seconds, failures=failures, permanent=permanent)
        _connection_update(
            connection, last_run_at=now, last_error=error, consecutive_failures=failures, next_sync_at=now + backoff
        )
        if failures >= settings.SYNC_PAUSE_AFTER_FAILURES:
            _connection_pause(connection, now=now)
    logger.info("sync of connection %s failed (%s in a row): %s", connection.pk, failures, error)


def _connection_pause(connection: SyncConnection, *, now: datetime) -> None:
    """Stop scheduling a connection that keeps failing, and tell its provider (once)."""
    # Conditional: a connection already paused or disabled by hand is not paused (or mailed) again.
    if not SyncConnection.objects.filter(pk=connection.pk, enabled=True).update(enabled=False, paused_at=now):
        return
    connection.enabled, connection.paused_at = False, now
    logger.warning("connection %s paused after %s failures in a row", connection.pk, connection.consecutive_failures)
    # After commit: no e-mail about a pause that was rolled back; robust: a mail failure is logged only.
    transaction.on_commit(lambda: connection_paused_notify(connection=connection), robust=True)


def connection_paused_notify(*, connection: SyncConnection) -> int:
    """E-mail a paused connection's provider (contact address and owners): what failed, how to resume.

    Returns the number of messages sent (0 when the provider has no address to write to).
    """
    provider = connection.provider
    recipients = provider_contact_addresses(provider=provider)
    if not recipients:
        logger.warning("connection %s paused, but provider %s has no e-mail address", connection.pk, provider.slug)
        return 0
    link = site_url(reverse("dashboard:connection_detail", args=[provider.slug, connection.pk]))
    values = {
        "connection": connection.name,
        "provider": provider.name,
        "failures": connection.consecutive_failures,
        "error": connection.last_error,
        "link": link,
    }
    subject = gettext('Syncing of "%(connection)s" is paused after %(failures)s failed attempts') % values
    paragraphs = [
        gettext("Hello,"),
        gettext(
            'The portal could not read the inventory of %(provider)s through the connection "%(connection)s" '
            "%(failures)s times in a row, so it has stopped trying. Your offers keep what the last successful "
            "sync said; once that is too old, the catalog hides them as out of date until a sync succeeds again."
        ),
        gettext("The last error was:"),
        "    %(error)s",
        gettext(
            "Fix the problem (often the API key or the URL), then edit and save the connection on your "
            'dashboard to resume its syncs, or use "Sync now" there: a sync that succeeds resumes it too.'
        ),
        "    %(link)s",
    ]
    # Plain text mail: paragraphs wrapped at 78 columns; the indented error and link kept whole.
    body = "\n\n".join(
        text % values if text.startswith("    ") else textwrap.fill(text % values, width=78) for text in paragraphs
    )
    return send_mail(subject, body, None, recipients)


def _connection_update(connection: SyncConnection, **fields) -> None:
    # Only the sync's own columns: someone may be editing the connection's settings meanwhile.
    SyncConnection.objects.filter(pk=connection.pk).update(**fields)
    for name, value in fields.items():
        setattr(connection, name, value)

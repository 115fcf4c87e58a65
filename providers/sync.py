"""The sync engine: claim due connections, fetch a connection's inventory, parse it, apply it.

One sync of one connection is ``sync_connection_run``. It is safe to call from several
workers at once: a partial unique constraint allows one running SyncRun per connection, so
creating that row is the claim, and whoever fails to create it does nothing. A failure at any
step (network, HTTP status, payload) is recorded on the run and the connection and changes no
offer: the apply is one transaction, entered only with a fully parsed inventory.
"""

import contextlib
import logging
from collections import defaultdict
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db import connection as db_connection
from django.utils import timezone

from marketplace.services import InventoryApplyResult, offers_apply_inventory
from portal.lib.http import FetchError, GuardedClient
from providers.adapters.base import AdapterError, NormalizedRegion, ParsedInventory
from providers.adapters.registry import get_adapter
from providers.models import Provider, Region, SyncConnection, SyncRun

logger = logging.getLogger(__name__)

# A run still "running" after this was left by a worker that died; it no longer blocks the
# connection. Longer than any real run: the HTTP client gives up within a few minutes.
RUN_LEASE = timedelta(minutes=15)
# A dispatched connection is not claimed again before this (or its interval, if longer),
# unless its run finishes first and sets the real next time.
DISPATCH_LEASE = timedelta(minutes=5)
# A failing connection is retried after interval x 1, 2, 4 ... up to this (or its interval).
FAILURE_BACKOFF_CAP = timedelta(hours=1)
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
    run = _run_start(connection)
    if run is None:
        logger.info("sync of connection %s skipped: another run is in progress", connection.pk)
        return None
    try:
        adapter = get_adapter(connection.kind)
        if payload is None:
            with contextlib.nullcontext(client) if client else GuardedClient() as http:
                payload = adapter.fetch(connection, http)
        inventory = adapter.parse(payload)
        with transaction.atomic():
            now = timezone.now()
            regions = _regions_upsert(provider=connection.provider, regions=inventory.regions)
            result = offers_apply_inventory(connection=connection, offers=inventory.offers, regions=regions, now=now)
            result.warnings = inventory.warnings + result.warnings
            _run_succeeded(run, connection, result)
    except (FetchError, AdapterError) as exc:
        _run_failed(run, connection, str(exc), permanent=exc.permanent)
    except Exception as exc:
        logger.exception("sync of connection %s failed unexpectedly", connection.pk)
        _run_failed(run, connection, INTERNAL_ERROR.format(name=type(exc).__name__), permanent=False)
    return run


def connection_preview(*, connection: SyncConnection, client: GuardedClient | None = None) -> ParsedInventory:
    """Fetch and parse ``connection``'s inventory without saving anything ("test connection").

    Raises FetchError or AdapterError, whose messages are meant for the provider's staff.
    """
    adapter = get_adapter(connection.kind)
    with contextlib.nullcontext(client) if client else GuardedClient() as http:
        return adapter.parse(adapter.fetch(connection, http))


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


def _run_start(connection: SyncConnection) -> SyncRun | None:
    now = timezone.now()
    SyncRun.objects.filter(
        connection=connection, outcome=SyncRun.Outcome.RUNNING, started_at__lt=now - RUN_LEASE
    ).update(outcome=SyncRun.Outcome.FAILED, finished_at=now, error=INTERRUPTED)
    try:
        with transaction.atomic():
            # Committed on its own (outside any apply), so a crash mid-sync leaves a visible trace.
            return SyncRun.objects.create(connection=connection, started_at=now)
    except IntegrityError:
        return None


def _regions_upsert(*, provider: Provider, regions: list[NormalizedRegion]) -> dict[str, Region]:
    """Create or update the regions a feed declares; return all the provider's regions by code.

    Fields a feed leaves out (city, name) keep what the dashboard has.
    """
    existing = {region.code: region for region in Region.objects.filter(provider=provider)}
    created, changed = [], []
    for item in regions:
        region = existing.get(item.code)
        if region is None:
            region = Region(provider=provider, code=item.code, country=item.country, city=item.city, name=item.name)
            created.append(region)
            existing[item.code] = region
            continue
        wanted = {"country": item.country, "city": item.city or region.city, "name": item.name or region.name}
        current = {"country": region.country.code, "city": region.city, "name": region.name}
        if wanted != current:
            for name, value in wanted.items():
                setattr(region, name, value)
            changed.append(region)
    Region.objects.bulk_create(created)
    Region.objects.bulk_update(changed, ["country", "city", "name"])
    return existing


def _run_succeeded(run: SyncRun, connection: SyncConnection, result: InventoryApplyResult) -> None:
    now = timezone.now()
    run.outcome, run.finished_at = SyncRun.Outcome.SUCCESS, now
    run.created, run.updated, run.unchanged = result.created, result.updated, result.unchanged
    run.withdrawn, run.skipped, run.warnings = result.withdrawn, result.skipped, result.warnings
    run.save()
    _connection_update(
        connection,
        last_run_at=now,
        last_success_at=now,
        last_error="",
        consecutive_failures=0,
        next_sync_at=now + timedelta(seconds=connection.interval_seconds),
    )
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
    logger.info("sync of connection %s failed (%s in a row): %s", connection.pk, failures, error)


def _connection_update(connection: SyncConnection, **fields) -> None:
    # Only the sync's own columns: someone may be editing the connection's settings meanwhile.
    SyncConnection.objects.filter(pk=connection.pk).update(**fields)
    for name, value in fields.items():
        setattr(connection, name, value)

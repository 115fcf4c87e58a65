"""Reads for the provider dashboard: a provider's regions, offers, connections and runs."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from marketplace.models import Offer
from providers.models import Membership, Provider, Region
from sync.engine import failure_backoff
from sync.models import SyncConnection, SyncRun

OFFER_STATUS_FILTERS = ("active", "stale", "withdrawn", "all")


def provider_regions(*, provider: Provider) -> QuerySet[Region]:
    return provider.regions.annotate(active_offers=Count("offers", filter=Q(offers__status=Offer.Status.ACTIVE)))


def provider_offers(*, provider: Provider, status: str = "active", now=None) -> QuerySet[Offer]:
    """The provider's offers for the dashboard list: active (fresh), stale, withdrawn or all."""
    offers = provider.offers.select_related("region", "gpu_model", "sync_connection").order_by(
        "region__code", "gpu_model__sort_order", "gpus_per_node", "pricing_type", "id"
    )
    if status == "active":
        return offers.filter(status__in=Offer.LISTED)
    if status == "stale":
        return offers.stale()
    if status == "withdrawn":
        return offers.filter(status=Offer.Status.WITHDRAWN)
    return offers


def provider_overview(*, provider: Provider, now=None) -> dict:
    """Counts for the dashboard's overview, in two queries."""
    now = now or timezone.now()
    offers = provider.offers.aggregate(
        active=Count("id", filter=Q(status__in=Offer.LISTED)),
        stale=Count("id", filter=Q(status=Offer.Status.STALE)),
        withdrawn=Count("id", filter=Q(status=Offer.Status.WITHDRAWN)),
    )
    return {"regions": provider.regions.count(), "offers": offers}


def provider_connections(*, provider: Provider) -> QuerySet[SyncConnection]:
    return provider.sync_connections.annotate(offer_count=Count("offers", filter=Q(offers__status="active")))


def provider_recent_runs(*, provider: Provider, limit: int = 10) -> list[SyncRun]:
    runs = SyncRun.objects.filter(connection__provider=provider).select_related("connection")
    return list(runs.order_by("-started_at")[:limit])


@dataclass
class HistoryEntry:
    """One change to the provider, one of its offers or connections, for its owners."""

    when: datetime
    who: str  # the user's name; empty for the system (a sync, a command)
    kind: str  # "provider", "offer", "connection" or "member"
    label: str
    change: str  # "+" created, "~" changed, "-" deleted
    fields: list[str] = field(default_factory=list)  # the fields a "~" changed, when known


def provider_history(*, provider: Provider, limit: int = 300) -> list[HistoryEntry]:
    """The latest ``limit`` changes of each kind (provider, offers, connections, team members),
    newest first, in four queries. A change's fields are compared with the object's previous record among those
    read (the oldest records read list no fields)."""
    kinds = [
        ("provider", Provider.history.filter(id=provider.pk), lambda r: r.name),
        ("offer", Offer.history.filter(provider_id=provider.pk), lambda r: f"#{r.id} {r.external_id}"),
        ("connection", SyncConnection.history.filter(provider_id=provider.pk), lambda r: r.name),
        (
            "member",
            Membership.history.filter(provider_id=provider.pk).select_related("user"),
            lambda r: r.user.get_username() if r.user else f"#{r.user_id}",
        ),
    ]
    entries = []
    for kind, records, label in kinds:
        records = list(records.select_related("history_user").order_by("-history_date", "-history_id")[:limit])
        tracked = [f.attname for f in records[0]._meta.fields if not f.name.startswith("history_")] if records else []
        previous: dict[int, object] = {}
        for record in reversed(records):  # oldest first, to compare each with the one before
            before = previous.get(record.id)
            changed = [name for name in tracked if before and getattr(before, name) != getattr(record, name)]
            previous[record.id] = record
            user = record.history_user
            entries.append(
                HistoryEntry(
                    when=record.history_date,
                    who=user.get_username() if user else "",
                    kind=kind,
                    label=label(record),
                    change=record.history_type,
                    fields=[name.removesuffix("_id") for name in changed],
                )
            )
    entries.sort(key=lambda entry: entry.when, reverse=True)
    return entries


@dataclass
class SyncProgress:
    """Where a "sync now" pressed at ``since`` stands: queued, running, or its finished run."""

    since: int  # the press, in whole seconds since the epoch (the URL's ?sync=)
    run: SyncRun | None  # the run it started (or the one already running then), None while queued
    waited: timedelta  # since the press

    @property
    def finished(self) -> bool:
        return self.run is not None and self.run.outcome != SyncRun.Outcome.RUNNING

    @property
    def unclaimed(self) -> bool:
        """Queued and no worker took it for longer than any idle worker would take."""
        return self.run is None and self.waited > SYNC_UNCLAIMED_AFTER

    @property
    def polling(self) -> bool:
        return not self.finished and not self.unclaimed


# A "sync now" nobody started after this is reported as waiting for a worker, and the page stops
# polling: an idle worker starts one within a second or two; the dispatcher's own every 15 s.
SYNC_UNCLAIMED_AFTER = timedelta(seconds=60)


def connection_sync_progress(*, connection: SyncConnection, since: int, now: datetime | None = None) -> SyncProgress:
    """The run a "sync now" pressed at ``since`` (epoch seconds) started, in one query.

    The task creates its run when a worker starts it, so until then there is none: queued. If a
    run was already going at the press, the task did nothing ("already running") and that run is
    the one to follow, so a run counts when it started or finished after the press, or still runs.
    """
    now = now or timezone.now()
    pressed = datetime.fromtimestamp(since, tz=UTC)
    run = (
        connection.runs.filter(Q(started_at__gte=pressed) | Q(finished_at__gte=pressed) | Q(outcome="running"))
        .order_by("-started_at")
        .first()
    )
    return SyncProgress(since=since, run=run, waited=now - pressed)


@dataclass
class Backoff:
    """Why a failing connection waits, by sync/engine.py's rule (failure_backoff)."""

    failures: int
    next_at: datetime
    interval: timedelta
    cap: timedelta
    permanent: bool  # the last error waited the ceiling at once (retrying would not fix it)
    pause_after: int  # failures in a row that pause the connection

    @property
    def failures_before_pause(self) -> int:
        return max(self.pause_after - self.failures, 0)


def connection_backoff(*, connection: SyncConnection) -> Backoff | None:
    """How long an enabled, failing connection waits before its next attempt, and why; else None.

    The engine waits the interval after a first failure, then doubles it after each further one
    in a row, up to an hour (or the interval, if longer); an error retrying cannot fix waits that
    ceiling at once. The wait it chose is next_sync_at - last_run_at, which tells the two apart.
    """
    if not connection.enabled or not connection.consecutive_failures or connection.last_run_at is None:
        return None
    interval = timedelta(seconds=connection.interval_seconds)
    failures = connection.consecutive_failures
    waited = connection.next_sync_at - connection.last_run_at
    transient = failure_backoff(interval_seconds=connection.interval_seconds, failures=failures, permanent=False)
    cap = failure_backoff(interval_seconds=connection.interval_seconds, failures=failures, permanent=True)
    return Backoff(
        failures=failures,
        next_at=connection.next_sync_at,
        interval=interval,
        cap=cap,
        permanent=transient < cap and abs(waited - cap) < timedelta(seconds=1),
        pause_after=settings.SYNC_PAUSE_AFTER_FAILURES,
    )

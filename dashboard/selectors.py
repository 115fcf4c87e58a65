"""Reads for the provider dashboard: a provider's regions, offers, connections and runs."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from marketplace.models import Offer
from providers.models import Membership, Provider, Region
from sync.models import SyncConnection, SyncRun

OFFER_STATUS_FILTERS = ("active", "stale", "withdrawn", "all")


def provider_regions(*, provider: Provider) -> QuerySet[Region]:
    return provider.regions.annotate(active_offers=Count("offers", filter=Q(offers__status=Offer.Status.ACTIVE)))


def provider_offers(*, provider: Provider, status: str = "active", now=None) -> QuerySet[Offer]:
    """The provider's offers for the dashboard list: active, stale (active but unverified), withdrawn or all."""
    offers = provider.offers.select_related("region", "gpu_model", "sync_connection").order_by(
        "region__code", "gpu_model__sort_order", "gpus_per_node", "pricing_type", "id"
    )
    if status == "active":
        return offers.filter(status=Offer.Status.ACTIVE)
    if status == "stale":
        return offers.filter(status=Offer.Status.ACTIVE).stale(now)
    if status == "withdrawn":
        return offers.filter(status=Offer.Status.WITHDRAWN)
    return offers


def provider_overview(*, provider: Provider, now=None) -> dict:
    """Counts for the dashboard's overview, in two queries."""
    now = now or timezone.now()
    active = Q(status=Offer.Status.ACTIVE)
    offers = provider.offers.aggregate(
        active=Count("id", filter=active),
        stale=Count("id", filter=active & Q(stale_at__lte=now)),
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

"""Reads for the provider dashboard: a provider's regions, offers, connections and runs."""

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from marketplace.models import Offer
from providers.models import Provider, Region
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

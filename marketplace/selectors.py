"""Reads for the public marketplace pages: the catalog search and the browse pages.

Everything public starts from ``Offer.objects.listed()`` (active offers of approved providers)
and, except on an offer's own page and when asked for, from ``fresh()`` offers only.
"""

import statistics
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.http import QueryDict
from django.utils import timezone
from django_countries import countries
from django_countries.fields import Country

from marketplace.country_groups import COUNTRY_GROUPS
from marketplace.filters import COMMON_GPUS_PER_NODE, CatalogFilter
from marketplace.models import GpuModel, Offer, OfferSnapshot
from providers.models import Provider, Region, SyncConnection

ROW_RELATIONS = ("provider", "region", "gpu_model")


@dataclass
class FacetChoice:
    value: str
    label: str
    selected: bool
    count: int | None = None  # None: this facet shows no counts
    country: Country | None = None  # for a flag beside country choices


@dataclass
class CatalogResults:
    filterset: CatalogFilter
    page: Page
    facets: dict[str, list[FacetChoice]]
    sort: str
    per_page: int
    now: datetime
    params: QueryDict = field(repr=False, default_factory=QueryDict)

    @property
    def form(self):
        return self.filterset.form

    @property
    def has_filters(self) -> bool:
        return any(key not in {"sort", "page", "per_page"} for key in self.params)


def catalog_search(*, params: QueryDict, now: datetime | None = None) -> CatalogResults:
    """One page of the catalog for these URL parameters, with facet counts.

    Costs a constant number of queries whatever the filters and the page size: three small
    lists for the choices, one count and one page of rows, one GROUP BY per counted facet.
    """
    now = now or timezone.now()
    filterset = CatalogFilter(params, now=now)
    cleaned = filterset.cleaned
    base = Offer.objects.listed()
    rows = filterset.filter_queryset(base).select_related(*ROW_RELATIONS).order_by(*filterset.ordering)
    per_page = cleaned.get("per_page") or settings.CATALOG_PAGE_SIZE
    # get_page() clamps: ?page=999 shows the last page, ?page=abc the first.
    page = Paginator(rows, per_page).get_page(params.get("page"))
    return CatalogResults(
        filterset=filterset,
        page=page,
        facets=_catalog_facets(filterset=filterset, base=base),
        sort=filterset.sort,
        per_page=per_page,
        now=now,
        params=params,
    )


def _facet_counts(*, filterset: CatalogFilter, base: QuerySet, name: str, column: str) -> dict:
    """Offers per value of ``column`` under every active filter except the facet's own."""
    rows = filterset.filter_queryset(base, exclude={name}).order_by().values(column).annotate(n=Count("pk"))
    return {row[column]: row["n"] for row in rows}


def _catalog_facets(*, filterset: CatalogFilter, base: QuerySet) -> dict[str, list[FacetChoice]]:
    cleaned = filterset.cleaned

    def selected(name: str) -> set:
        return set(cleaned.get(name) or [])

    counts = {
        name: _facet_counts(filterset=filterset, base=base, name=name, column=column)
        for name, column in [
            ("gpu", "gpu_model_id"),
            ("country", "country"),
            ("provider", "provider_id"),
            ("pricing", "pricing_type"),
        ]
    }
    facets: dict[str, list[FacetChoice]] = {}

    # Choices nobody offers under the other filters are left out, unless they are selected.
    chosen = selected("gpu")
    facets["gpu"] = [
        FacetChoice(gpu.slug, gpu.name, gpu.slug in chosen, counts["gpu"].get(gpu.id, 0))
        for gpu in filterset.gpus
        if counts["gpu"].get(gpu.id) or gpu.slug in chosen
    ]
    chosen = selected("country")
    country_list = sorted((Country(code) for code in set(counts["country"]) | chosen), key=lambda c: c.name)
    facets["country"] = [
        FacetChoice(c.code, c.name, c.code in chosen, counts["country"].get(c.code, 0), country=c) for c in country_list
    ]
    chosen = selected("provider")
    facets["provider"] = [
        FacetChoice(p.slug, p.name, p.slug in chosen, counts["provider"].get(p.id, 0))
        for p in filterset.providers
        if counts["provider"].get(p.id) or p.slug in chosen
    ]
    chosen = selected("pricing")
    facets["pricing"] = [
        FacetChoice(value, label, value in chosen, counts["pricing"].get(value, 0))
        for value, label in Offer.PricingType.choices
    ]

    chosen = selected("region_group")
    facets["region_group"] = [
        FacetChoice(group.slug, group.label, group.slug in chosen) for group in COUNTRY_GROUPS.values()
    ]
    chosen = selected("hq_country")
    hq = sorted(
        {Country(p.hq_country.code) for p in filterset.providers} | {Country(c) for c in chosen}, key=lambda c: c.name
    )
    facets["hq_country"] = [FacetChoice(c.code, c.name, c.code in chosen, country=c) for c in hq]
    chosen = selected("gpus_per_node")
    facets["gpus_per_node"] = [
        FacetChoice(str(n), str(n), n in chosen) for n in sorted(set(COMMON_GPUS_PER_NODE) | chosen)
    ]
    chosen = selected("interconnect")
    facets["interconnect"] = [
        FacetChoice(value, label, value in chosen)
        for value, label in [*Offer.GpuInterconnect.choices, *Offer.Network.choices]
    ]
    chosen = selected("cert")
    facets["cert"] = [FacetChoice(c.slug, c.name, c.slug in chosen) for c in filterset.certifications]
    return facets


# --- Offer page -------------------------------------------------------------------------------


def offer_get_public(*, pk: int) -> Offer | None:
    """An offer of an approved provider, withdrawn or not (its page says it is withdrawn)."""
    offers = Offer.objects.filter(provider__status=Provider.Status.APPROVED).select_related(*ROW_RELATIONS)
    return offers.filter(pk=pk).first()


def offer_history(*, offer: Offer, limit: int = 500) -> list[OfferSnapshot]:
    """The offer's latest snapshots, oldest first."""
    snapshots = list(offer.snapshots.order_by("-recorded_at")[:limit])
    snapshots.reverse()
    return snapshots


# --- Providers --------------------------------------------------------------------------------


def _live_offers(prefix: str, now: datetime) -> Q:
    """Listed, fresh offers seen through a relation (``prefix`` like "offers__")."""
    return Q(**{f"{prefix}status": Offer.Status.ACTIVE, f"{prefix}stale_at__gt": now})


def provider_list_public(*, now: datetime | None = None) -> QuerySet[Provider]:
    now = now or timezone.now()
    live = _live_offers("offers__", now)
    return (
        Provider.objects.approved()
        .annotate(
            offer_count=Count("offers", filter=live),
            gpus_available=Sum("offers__gpus_available", filter=live, default=0),
            country_count=Count("offers__country", filter=live, distinct=True),
            last_verified_at=Max("offers__last_verified_at", filter=Q(offers__status=Offer.Status.ACTIVE)),
        )
        .prefetch_related("certifications")
        .order_by("name")
    )


def provider_get_public(*, slug: str) -> Provider | None:
    return Provider.objects.approved().filter(slug=slug).prefetch_related("certifications").first()


@dataclass
class ProviderProfile:
    provider: Provider
    regions: list[Region]
    offers: list[Offer]
    offer_count: int
    connections: list[SyncConnection]
    last_sync_at: datetime | None
    last_verified_at: datetime | None


def provider_profile(*, provider: Provider, limit: int = 200, now: datetime | None = None) -> ProviderProfile:
    """What the public profile shows; offers are capped, the catalog link shows them all."""
    now = now or timezone.now()
    live = _live_offers("offers__", now)
    regions = list(
        provider.regions.annotate(
            offer_count=Count("offers", filter=live),
            gpus_available=Sum("offers__gpus_available", filter=live, default=0),
        ).order_by("country", "code")
    )
    offers = Offer.objects.listed().filter(provider=provider)
    stats = offers.aggregate(count=Count("pk"), last_verified_at=Max("last_verified_at"))
    connections = list(provider.sync_connections.filter(enabled=True).order_by("name"))
    successes = [c.last_success_at for c in connections if c.last_success_at]
    return ProviderProfile(
        provider=provider,
        regions=regions,
        offers=list(offers.select_related(*ROW_RELATIONS).order_by("price_per_gpu_hour", "id")[:limit]),
        offer_count=stats["count"],
        connections=connections,
        last_sync_at=max(successes, default=None),
        last_verified_at=stats["last_verified_at"],
    )


# --- GPU models -------------------------------------------------------------------------------


def gpu_list_with_stats(*, now: datetime | None = None) -> QuerySet[GpuModel]:
    now = now or timezone.now()
    live = _live_offers("offers__", now) & Q(offers__provider__status=Provider.Status.APPROVED)
    return GpuModel.objects.annotate(
        offer_count=Count("offers", filter=live),
        gpus_available=Sum("offers__gpus_available", filter=live, default=0),
        lowest_price=Min("offers__price_per_gpu_hour", filter=live),
        country_count=Count("offers__country", filter=live, distinct=True),
    ).order_by("sort_order", "name")


@dataclass
class PriceSpread:
    pricing_type: str
    label: str
    currency: str
    count: int
    low: Decimal
    median: Decimal
    high: Decimal


def gpu_price_spread(*, gpu: GpuModel, now: datetime | None = None) -> list[PriceSpread]:
    """Min / median / max price per pricing type and currency (prices are not converted)."""
    offers = Offer.objects.listed().fresh(now).filter(gpu_model=gpu)
    prices: dict[tuple[str, str], list[Decimal]] = {}
    for pricing_type, currency, price in offers.values_list("pricing_type", "currency", "price_per_gpu_hour"):
        prices.setdefault((pricing_type, currency), []).append(price)
    labels = dict(Offer.PricingType.choices)
    order = list(labels)
    return [
        PriceSpread(
            pricing_type=pricing_type,
            label=labels.get(pricing_type, pricing_type),
            currency=currency,
            count=len(values),
            low=min(values),
            median=statistics.median(sorted(values)),
            high=max(values),
        )
        for (pricing_type, currency), values in sorted(
            prices.items(), key=lambda item: (order.index(item[0][0]) if item[0][0] in order else 99, item[0][1])
        )
    ]


def gpu_offers(*, gpu: GpuModel, now: datetime | None = None) -> QuerySet[Offer]:
    return (
        Offer.objects.listed()
        .fresh(now)
        .filter(gpu_model=gpu)
        .select_related(*ROW_RELATIONS)
        .order_by("price_per_gpu_hour", "id")
    )


def gpu_countries(*, gpu: GpuModel, now: datetime | None = None) -> list[dict]:
    rows = (
        Offer.objects.listed()
        .fresh(now)
        .filter(gpu_model=gpu)
        .order_by()
        .values("country")
        .annotate(offers=Count("pk"), gpus=Sum("gpus_available"))
    )
    result = [{**row, "country": Country(row["country"])} for row in rows]
    return sorted(result, key=lambda row: (-row["gpus"], row["country"].name))


# --- Countries --------------------------------------------------------------------------------


def country_from_code(code: str) -> Country | None:
    """The ISO 3166-1 country for a two-letter code in any case, or None."""
    code = code.upper()
    if len(code) != 2 or code not in dict(countries):
        return None
    return Country(code)


COUNTRY_SORTS = {
    "gpus": lambda row: (-row["gpus"], row["country"].name),
    "offers": lambda row: (-row["offers"], row["country"].name),
    "providers": lambda row: (-row["providers"], row["country"].name),
    "name": lambda row: row["country"].name,
}


def country_list_with_capacity(*, sort: str = "gpus", now: datetime | None = None) -> list[dict]:
    """Every country with listed, fresh capacity: offers, GPUs available now, providers."""
    rows = (
        Offer.objects.listed()
        .fresh(now)
        .order_by()
        .values("country")
        .annotate(offers=Count("pk"), gpus=Sum("gpus_available"), providers=Count("provider", distinct=True))
    )
    result = []
    for row in rows:
        code = row["country"]
        groups = [group for group in COUNTRY_GROUPS.values() if code in group.countries]
        result.append({**row, "country": Country(code), "groups": groups})
    return sorted(result, key=COUNTRY_SORTS.get(sort, COUNTRY_SORTS["gpus"]))


@dataclass
class CountryCapacity:
    country: Country
    by_gpu: list[dict]
    providers: list[Provider]
    headquartered: list[Provider]
    offers: int
    gpus: int


def country_capacity(*, country: Country, now: datetime | None = None) -> CountryCapacity:
    now = now or timezone.now()
    offers = Offer.objects.listed().fresh(now).filter(country=country.code)
    by_gpu = list(
        offers.order_by()
        .values("gpu_model__slug", "gpu_model__name", "gpu_model__sort_order")
        .annotate(offers=Count("pk"), gpus=Sum("gpus_available"), lowest_price=Min("price_per_gpu_hour"))
        .order_by("gpu_model__sort_order")
    )
    live = _live_offers("offers__", now) & Q(offers__country=country.code)
    providers = list(
        Provider.objects.approved()
        .annotate(
            offer_count=Count("offers", filter=live),
            gpus_available=Sum("offers__gpus_available", filter=live, default=0),
        )
        .filter(offer_count__gt=0)
        .order_by("-gpus_available", "name")
    )
    return CountryCapacity(
        country=country,
        by_gpu=by_gpu,
        providers=providers,
        headquartered=list(Provider.objects.approved().filter(hq_country=country.code).order_by("name")),
        offers=sum(row["offers"] for row in by_gpu),
        gpus=sum(row["gpus"] for row in by_gpu),
    )

"""Reads for the public marketplace pages: the catalog search and the browse pages.

Everything public starts from ``Offer.objects.listed()`` (active offers of approved providers)
and, except on an offer's own page and when asked for, from ``fresh()`` offers only.
"""

import hashlib
import operator
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cached_property, reduce

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Greatest
from django.http import QueryDict
from django.utils import timezone
from django_countries import countries
from django_countries.fields import Country

from marketplace.chips import Chip, active_filters, cleared_query
from marketplace.country_groups import COUNTRY_GROUPS
from marketplace.filters import COMMON_GPUS_PER_NODE, GROUPED_SORTS, SORTS, CatalogFilter, country_choices
from marketplace.fx import REFERENCE_CURRENCY, PriceDisplay, price_normalize, price_shown
from marketplace.models import ExchangeRate, GpuModel, Offer, OfferSnapshot
from marketplace.offer_rows import TotalSpec
from providers.models import Provider, ProviderCertification, Region

ROW_RELATIONS = ("provider", "region", "gpu_model", "sync_connection")  # the last: Offer.verified_at
# Offer tables outside the catalog list pricing types apart, cheapest first within each.
GROUPED_ORDER = SORTS["price"]
# The facets shown with counts, and the offer column each one counts by.
FACET_COLUMNS = {"gpu": "gpu_model_id", "country": "country", "provider": "provider_id", "pricing": "pricing_type"}


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
    summary: "CatalogSummary"
    sort: str
    per_page: int
    now: datetime
    params: QueryDict = field(repr=False, default_factory=QueryDict)

    @property
    def form(self):
        return self.filterset.form

    @property
    def display(self) -> PriceDisplay:
        """The currency prices are shown in, with its rate."""
        return PriceDisplay(self.filterset.currency, self.filterset.rate, self.filterset.rates_date)

    @property
    def total(self) -> TotalSpec | None:
        """The "total for N GPUs over M months" each row shows, when asked for (either sets it)."""
        cleaned = self.filterset.cleaned
        gpus, months = cleaned.get("total_gpus"), cleaned.get("term_months")
        if not gpus and not months:
            return None
        return TotalSpec(gpus=gpus or cleaned.get("min_gpus") or 1, months=months or 1)

    @property
    def default_currency(self) -> str:
        return self.filterset.default_currency

    @property
    def grouped(self) -> bool:
        """Rows come grouped by pricing type (the price orders)."""
        return self.sort in GROUPED_SORTS

    @property
    def has_filters(self) -> bool:
        return any(key not in {"sort", "page", "per_page"} for key in self.params)

    @cached_property
    def chips(self) -> list[Chip]:
        """The active filters, each with the link that removes it (no query: see chips.py)."""
        return active_filters(filterset=self.filterset, params=self.params)

    @property
    def cleared_query(self) -> str:
        """The query string of "Clear all": the sort order, page size and currency stay."""
        return cleared_query(params=self.params)

    @cached_property
    def facets(self) -> dict[str, list[FacetChoice]]:
        """The sidebar's choices; built only if the sidebar is rendered (not cached)."""
        return _catalog_facets(filterset=self.filterset, counts=self.summary.counts)

    @property
    def sidebar_key(self) -> str:
        """What the sidebar's HTML depends on besides the language: every parameter but the page
        (invalid values are shown back in their fields)."""
        items = sorted((key, value) for key, values in self.params.lists() if key != "page" for value in values)
        return hashlib.sha256(repr(items).encode()).hexdigest()


@dataclass
class CatalogSummary:
    """How many offers match the filters, and the counts beside the counted facets' choices."""

    total: int
    counts: dict[str, dict]  # facet name -> {gpu_model_id / country / provider_id / pricing_type: offers}


def catalog_search(*, params: QueryDict, now: datetime | None = None) -> CatalogResults:
    """One page of the catalog for these URL parameters, with facet counts.

    Costs a constant number of queries whatever the filters and the page size: three small
    lists for the choices and the facet summary (both cached, see catalog_summary), and one
    page of rows, which is always live.
    """
    now = now or timezone.now()
    filterset = CatalogFilter(params, now=now)
    cleaned = filterset.cleaned
    base = Offer.objects.listed()
    # Counted among the approved providers the filters hold already (no older than the counts may
    # be): an IN list rather than a join with the providers' table, 20% of a cold page at 1M.
    # The rows below keep the join: a suspended provider's offers leave them at once.
    approved = Offer.objects.listed_among([provider.id for provider in filterset.providers])
    summary = catalog_summary(filterset=filterset, base=approved)
    rows = filterset.filter_queryset(base).select_related(*ROW_RELATIONS).order_by(*filterset.ordering)
    per_page = cleaned.get("per_page") or settings.CATALOG_PAGE_SIZE
    # get_page() clamps: ?page=999 shows the last page, ?page=abc the first.
    paginator = CatalogPaginator(
        rows,
        per_page,
        count=summary.total,
        freshness=filterset.sort == "freshness",
        with_stale=bool(cleaned.get("stale")),
    )
    page = paginator.get_page(params.get("page"))
    return CatalogResults(
        filterset=filterset,
        page=page,
        summary=summary,
        sort=filterset.sort,
        per_page=per_page,
        now=now,
        params=params,
    )


class CatalogPaginator(Paginator):
    """Pages of catalog rows whose number is already known, read cheaply however deep.

    A page is read in two steps: the ids of its rows (with OFFSET, from an index that covers
    the filters of a plain listing: an index-only scan), then those rows with their relations.
    Past the middle, the ids are read from the other end in reverse order, so that the last
    page costs what the first does. Reading from the end relies on ``count``, which may be a
    few seconds old (the cached summary): the page is then off by as many rows as changed,
    as any OFFSET pagination is when offers change between two clicks.
    """

    def __init__(
        self, object_list: QuerySet, per_page: int, *, count: int, freshness: bool = False, with_stale: bool = False
    ):
        super().__init__(object_list, per_page)
        self.count = count  # instead of the cached_property's COUNT(*)
        self.freshness = freshness  # ordered by Offer.verified_at: see freshness_page_sql()
        self.with_stale = with_stale  # object_list includes stale offers

    def page(self, number) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        rows = self.object_list
        if self.freshness and connections[rows.db].vendor == "postgresql":
            try:
                sql = freshness_page_sql(rows, offset=bottom, limit=top - bottom, with_stale=self.with_stale)
            except EmptyResultSet:  # no row: an empty page, or a filter that can match nothing
                return self._get_page([], number, self)
            ids = RawSQL(*sql)  # noqa: S611 (no request text)
        elif bottom > self.count - top:
            ids = rows.reverse().values("pk")[self.count - top : self.count - bottom]
        else:
            ids = rows.values("pk")[bottom:top]
        # Subquery order is lost: order the page's rows again.
        page_rows = rows.model.objects.filter(pk__in=ids).select_related(*ROW_RELATIONS).order_by(*rows.query.order_by)
        return self._get_page(list(page_rows), number, self)


def freshness_page_sql(rows: QuerySet, *, offset: int, limit: int, with_stale: bool) -> tuple[str, list]:
    """The ids of one page of ``rows`` in the freshness order (filters.VERIFIED_AT, then id), as
    SQL for PostgreSQL that reads no more than the page needs, however many offers match.

    An active synced offer is verified when its connection last succeeded: the connections are
    walked from the most recent success, each one's matching offers read in id order from the
    (sync_connection_id, id) index and only as far as the page needs (a LATERAL join under a
    LIMIT; the connections come sorted, so PostgreSQL sorts each one's offers as it goes, an
    incremental sort, and stops at the page: 1 ms at 10k, where sorting them all took 17).
    Offers with their own verification (kept by hand, and stale ones when ``rows`` includes
    them) are read from their (last_verified_at, id) indexes. The sorted streams are merged and
    the page cut from them.
    Sorting on the expression instead reads and sorts every matching offer (228 ms at 1M).
    """
    # The SQL is made of constants, table names and Django's own compiled queries, whose values
    # are passed as parameters: nothing from the request is put into the text.
    wanted = offset + limit
    synced = rows.filter(status=Offer.Status.ACTIVE, sync_connection_id=RawSQL("c.id", ()))
    synced = synced.order_by("pk").values(offer_id=F("pk"))[:wanted]
    synced_sql, synced_params = synced.query.sql_with_params()
    # Each on its own partial index, and stale offers only when asked for: a branch whose rows
    # the filters exclude would still read its whole index (230 ms for 76k stale offers at 1M).
    own = [Q(status=Offer.Status.ACTIVE, sync_connection__isnull=True)]
    if with_stale:
        own.append(Q(status=Offer.Status.STALE))
    branches, params = [], list(synced_params)
    for condition in own:
        query = rows.filter(condition).order_by("-last_verified_at", "pk")
        query = query.values(own_verified_at=F("last_verified_at"), offer_id=F("pk"))[:wanted]
        branch_sql, branch_params = query.query.sql_with_params()
        branches.append(f"UNION ALL ({branch_sql})")
        params += branch_params
    table = Offer._meta.get_field("sync_connection").related_model._meta.db_table
    sql = (
        f"SELECT offer_id FROM ((SELECT c.last_success_at AS verified_at, o.offer_id FROM "  # noqa: S608
        f"(SELECT id, last_success_at FROM {table} WHERE last_success_at IS NOT NULL "
        f"ORDER BY last_success_at DESC) AS c "
        f"CROSS JOIN LATERAL ({synced_sql}) AS o ORDER BY c.last_success_at DESC, o.offer_id LIMIT {int(wanted)}) "
        f"{' '.join(branches)}) AS page ORDER BY verified_at DESC, offer_id LIMIT {int(limit)} OFFSET {int(offset)}"
    )
    return sql, params


def catalog_summary(*, filterset: CatalogFilter, base: QuerySet) -> CatalogSummary:
    """The total and the facet counts for the filters, cached for CATALOG_CACHE_SECONDS.

    Counting is the one part of a catalog page whose cost grows with the number of offers
    (every matching offer is read), so it is shared by every page, sort order and page size of
    the same filters, and by every visitor within the cache's lifetime. The counts may thus be
    that many seconds old; the rows never are.
    """
    seconds = settings.CATALOG_CACHE_SECONDS
    key = "catalog-summary:" + hashlib.sha256(filterset.facet_key.encode()).hexdigest()
    if seconds > 0:
        summary = cache.get(key)
        if summary is not None:
            return summary
    summary = _catalog_summary_query(filterset=filterset, base=base)
    if seconds > 0:
        cache.set(key, summary, seconds)
    return summary


def _catalog_summary_query(*, filterset: CatalogFilter, base: QuerySet) -> CatalogSummary:
    """Every facet count and the total in one query, one pass over the matching offers.

    Each facet counts the offers that pass every filter except its own (so that the other
    choices show what they would add). The offers scanned are those that pass every other
    filter and fail at most one of the counted facets' conditions; one flag column per
    condition says which they pass, and each count keeps the rows passing the others.
    PostgreSQL groups them by each facet column in one scan (GROUPING SETS); elsewhere
    (SQLite, for development) one GROUP BY per facet over the same rows.
    """
    conditions = {name: q for name in FACET_COLUMNS if (q := filterset.facet_condition(name)) is not None}
    rows = filterset.filter_queryset(base, exclude=FACET_COLUMNS).order_by()
    # Offers of regions spanning several countries count under each: one more grouping, by region,
    # only when such regions exist (their rows are few), counted like the country facet.
    facet_columns = {**FACET_COLUMNS, **({"spanning": "region_id"} if filterset.spanning else {})}
    if len(conditions) >= 2:
        # An offer failing two of the conditions counts nowhere: leave it out of the scan.
        rows = rows.filter(reduce(operator.or_, (_passes(conditions, but=name) for name in conditions)))
    flags = {f"in_{name}": ExpressionWrapper(q, output_field=BooleanField()) for name, q in conditions.items()}
    try:
        inner, params = rows.values(*facet_columns.values(), **flags).query.sql_with_params()
    except EmptyResultSet:  # a filter that can match nothing, e.g. an empty list of values
        return CatalogSummary(total=0, counts={name: {} for name in FACET_COLUMNS})

    def counted(names) -> str:
        tests = [f"in_{name}" for name in names if name in conditions]
        return f"COUNT(*) FILTER (WHERE {' AND '.join(tests)})" if tests else "COUNT(*)"

    counts = ", ".join(
        counted(other for other in FACET_COLUMNS if other != {"spanning": "country"}.get(name, name))
        for name in facet_columns
    )
    select = f"{counts}, {counted(FACET_COLUMNS)}"
    # The SQL below is made of constants and of Django's own compiled query, whose values are
    # passed as parameters: nothing from the request is put into the text.
    columns = list(facet_columns.values())
    connection = connections[rows.db]
    if connection.vendor == "postgresql":
        sets = ", ".join(f"({column})" for column in columns)
        sql = f"SELECT {', '.join(columns)}, {select} FROM ({inner}) AS offers GROUP BY GROUPING SETS ({sets})"  # noqa: S608
    else:
        sql = " UNION ALL ".join(
            f"SELECT {', '.join(c if c == column else f'NULL AS {c}' for c in columns)}, {select} "  # noqa: S608
            f"FROM ({inner}) AS offers GROUP BY {column}"
            for column in columns
        )
        params = params * len(columns)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        result = cursor.fetchall()

    # In each row exactly one facet column is set (the others are NULL: every column counted is
    # NOT NULL in the table), and its count is at the same position among the counts.
    by_facet: dict[str, dict] = {name: {} for name in FACET_COLUMNS}
    total = 0
    for row in result:
        values, facet_counts, matching = row[: len(columns)], row[len(columns) : -1], row[-1]
        for name, value, count in zip(facet_columns, values, facet_counts, strict=True):
            if value is None or value == "":  # "": an offer in no stated location counts in no country
                continue
            if name == "spanning":
                for code in filterset.spanning.get(value, ()) if count else ():
                    by_facet["country"][code] = by_facet["country"].get(code, 0) + count
                continue
            if count:
                by_facet[name][value] = by_facet[name].get(value, 0) + count
            if name == "pricing":  # every offer has one pricing type: the total, once
                total += matching
    return CatalogSummary(total=total, counts=by_facet)


def _passes(conditions: dict[str, Q], *, but: str) -> Q:
    return reduce(operator.and_, (q for name, q in conditions.items() if name != but), Q())


def _catalog_facets(*, filterset: CatalogFilter, counts: dict[str, dict]) -> dict[str, list[FacetChoice]]:
    cleaned = filterset.cleaned

    def selected(name: str) -> set:
        return set(cleaned.get(name) or [])

    facets: dict[str, list[FacetChoice]] = {}

    # Choices nobody offers under the other filters are left out, unless they are selected.
    chosen = selected("gpu")
    facets["gpu"] = [
        FacetChoice(gpu.slug, gpu.name, gpu.slug in chosen, counts["gpu"].get(gpu.id, 0))
        for gpu in filterset.gpus
        if counts["gpu"].get(gpu.id) or gpu.slug in chosen
    ]
    names = dict(country_choices())

    def name(code: str) -> str:
        return names.get(code, code)

    chosen = selected("country")
    facets["country"] = [
        FacetChoice(code, name(code), code in chosen, counts["country"].get(code, 0), country=Country(code))
        for code in sorted(set(counts["country"]) | chosen, key=name)
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

    chosen = selected("vendor")
    facets["vendor"] = [FacetChoice(value, label, value in chosen) for value, label in GpuModel.Vendor.choices]
    chosen = selected("region_group")
    facets["region_group"] = [
        FacetChoice(group.slug, group.label, group.slug in chosen) for group in COUNTRY_GROUPS.values()
    ]
    chosen = selected("hq_country")
    hq = sorted({p.hq_country.code for p in filterset.providers} | chosen, key=name)
    facets["hq_country"] = [FacetChoice(code, name(code), code in chosen, country=Country(code)) for code in hq]
    chosen = selected("operator_group")
    facets["operator_group"] = [
        FacetChoice(group.slug, group.label, group.slug in chosen) for group in COUNTRY_GROUPS.values()
    ]
    chosen = selected("operator_country")
    stated = {code for p in filterset.providers for code in p.jurisdictions}
    facets["operator_country"] = [
        FacetChoice(code, name(code), code in chosen, country=Country(code))
        for code in sorted(stated | chosen, key=name)
    ]
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


def price_display(*, currency: str | None = None) -> PriceDisplay:
    """Prices shown in ``currency`` when the portal has a rate for it, else in the default one
    (settings.CATALOG_CURRENCY). One small query."""
    rates = ExchangeRate.objects.units_per_eur()
    dates = ExchangeRate.objects.order_by("-rate_date").values_list("rate_date", flat=True)
    code = (currency or "").upper()
    if code not in rates:
        code = settings.CATALOG_CURRENCY if settings.CATALOG_CURRENCY in rates else REFERENCE_CURRENCY
    return PriceDisplay(currency=code, rate=rates[code], rates_date=dates.first())


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


def _live_offers(prefix: str) -> Q:
    """Listed, fresh offers seen through a relation (``prefix`` like "offers__")."""
    return Q(**{f"{prefix}status": Offer.Status.ACTIVE})


def _provider_verified_at() -> Greatest:
    """A provider's most recent offer verification (Offer.verified_at): its offers' own, or the
    last success of a connection of its with active offers, whichever is later."""
    connections = Offer._meta.get_field("sync_connection").related_model.objects
    listing = Exists(Offer.objects.filter(sync_connection=OuterRef("pk"), status=Offer.Status.ACTIVE))
    synced = Subquery(
        connections.filter(listing, provider=OuterRef("pk"), last_success_at__isnull=False)
        .order_by("-last_success_at")
        .values("last_success_at")[:1]
    )
    own = Max("offers__last_verified_at", filter=Q(offers__status__in=Offer.LISTED))
    return Greatest(Coalesce(own, synced), Coalesce(synced, own))


def provider_list_public() -> QuerySet[Provider]:
    live = _live_offers("offers__")
    return (
        Provider.objects.approved()
        .annotate(
            offer_count=Count("offers", filter=live),
            gpus_available=Sum("offers__gpus_available", filter=live, default=0),
            country_count=Count("offers__country", filter=live, distinct=True),
            last_verified_at=_provider_verified_at(),
        )
        .prefetch_related(_certification_records())
        .order_by("name")
    )


def _certification_records(*, regions: bool = False) -> Prefetch:
    """A provider's certification records with their certification (and regions): one query each."""
    records = ProviderCertification.objects.select_related("certification").order_by("certification__name", "pk")
    if regions:
        records = records.prefetch_related(Prefetch("regions", queryset=Region.objects.order_by("code")))
    return Prefetch("certification_records", queryset=records)


def provider_get_public(*, slug: str) -> Provider | None:
    provider = Provider.objects.approved().filter(slug=slug)
    return provider.prefetch_related(_certification_records(regions=True)).first()


def offer_certifications(*, offer: Offer) -> list[ProviderCertification]:
    """The provider's certification records that cover the offer: the whole provider's, and those
    naming its region; valid or not (their badges say which). One query."""
    records = ProviderCertification.objects.filter(provider_id=offer.provider_id).select_related("certification")
    covering = Q(scope=ProviderCertification.Scope.PROVIDER)
    if offer.region_id:
        covering |= Q(regions=offer.region_id)
    return list(records.filter(covering).distinct().order_by("certification__name", "pk"))


@dataclass
class ProviderProfile:
    provider: Provider
    regions: list[Region]
    offers: list[Offer]
    offer_count: int
    connections: list  # the provider's enabled sync connections (sync.models.SyncConnection)
    last_sync_at: datetime | None
    last_verified_at: datetime | None


def provider_profile(*, provider: Provider, limit: int = 200) -> ProviderProfile:
    """What the public profile shows; offers are capped, the catalog link shows them all."""
    live = _live_offers("offers__")
    regions = list(
        provider.regions.annotate(
            offer_count=Count("offers", filter=live),
            gpus_available=Sum("offers__gpus_available", filter=live, default=0),
        ).order_by("country", "code")
    )
    offers = Offer.objects.listed().filter(provider=provider)
    stats = offers.aggregate(
        count=Count("pk"),
        own=Max("last_verified_at"),
        synced=Max("sync_connection__last_success_at", filter=Q(status=Offer.Status.ACTIVE)),
    )
    connections = list(provider.sync_connections.filter(enabled=True).order_by("name"))
    successes = [c.last_success_at for c in connections if c.last_success_at]
    return ProviderProfile(
        provider=provider,
        regions=regions,
        offers=list(offers.select_related(*ROW_RELATIONS).order_by(*GROUPED_ORDER)[:limit]),
        offer_count=stats["count"],
        connections=connections,
        last_sync_at=max(successes, default=None),
        last_verified_at=max(filter(None, (stats["own"], stats["synced"])), default=None),
    )


# --- GPU models -------------------------------------------------------------------------------


def gpu_list_with_stats() -> QuerySet[GpuModel]:
    live = _live_offers("offers__") & Q(offers__provider__status=Provider.Status.APPROVED)
    return GpuModel.objects.annotate(
        offer_count=Count("offers", filter=live),
        gpus_available=Sum("offers__gpus_available", filter=live, default=0),
        lowest_price=Min("offers__price_normalized", filter=live),  # in the reference currency
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


def gpu_price_spread(*, gpu: GpuModel, display: PriceDisplay) -> list[PriceSpread]:
    """Min / median / max price per pricing type, every price shown in ``display``'s currency
    (converted from the reference currency, or as listed when already in it)."""
    offers = Offer.objects.listed().fresh().filter(gpu_model=gpu)
    prices: dict[str, list[Decimal]] = {}
    rows = offers.values_list("pricing_type", "price_per_gpu_hour", "currency", "price_normalized")
    for pricing_type, price, currency, normalized in rows:
        prices.setdefault(pricing_type, []).append(display.shown(price, currency, normalized))
    labels = dict(Offer.PricingType.choices)
    order = list(labels)
    return [
        PriceSpread(
            pricing_type=pricing_type,
            label=labels.get(pricing_type, pricing_type),
            currency=display.currency,
            count=len(values),
            low=min(values),
            median=statistics.median(sorted(values)),
            high=max(values),
        )
        for pricing_type, values in sorted(prices.items(), key=lambda item: order.index(item[0]))
    ]


def gpu_offers(*, gpu: GpuModel) -> QuerySet[Offer]:
    return Offer.objects.listed().fresh().filter(gpu_model=gpu).select_related(*ROW_RELATIONS).order_by(*GROUPED_ORDER)


def _capacity() -> dict:
    """Offers, GPUs available now and offers available without a published count, per group.

    An offer "available, count unknown" has no gpus_available (NULL): it adds nothing to the sum
    (which is 0, not NULL, when no offer of the group publishes a count) and one to ``unknown``.
    """
    return {
        "offers": Count("pk"),
        "gpus": Sum("gpus_available", default=0),
        "unknown": Count("pk", filter=Q(gpus_available__isnull=True)),
    }


def gpu_countries(*, gpu: GpuModel, now: datetime | None = None) -> list[dict]:
    rows = (
        Offer.objects.listed()
        .fresh()
        .filter(gpu_model=gpu)
        .exclude(country="")  # a sold-out offer in no stated location is in no country
        .order_by()
        .values("country")
        .annotate(**_capacity())
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
        .fresh()
        .exclude(country="")  # a sold-out offer in no stated location is in no country
        .order_by()
        .values("country")
        .annotate(**_capacity(), providers=Count("provider", distinct=True))
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


def country_capacity(*, country: Country) -> CountryCapacity:
    # The country's offers, and those of regions their provider says also span it.
    spanning = list(Region.objects.filter(other_countries__contains=country.code).values_list("pk", flat=True))
    here = Q(country=country.code) | Q(region_id__in=spanning) if spanning else Q(country=country.code)
    offers = Offer.objects.listed().fresh().filter(here)
    by_gpu = list(
        offers.order_by()
        .values("gpu_model__slug", "gpu_model__name", "gpu_model__sort_order")
        .annotate(**_capacity(), lowest_price=Min("price_normalized"))
        .order_by("gpu_model__sort_order")
    )
    live = _live_offers("offers__") & (
        Q(offers__country=country.code) | Q(offers__region_id__in=spanning)
        if spanning
        else Q(offers__country=country.code)
    )
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
        gpus=sum(row["gpus"] or 0 for row in by_gpu),
    )


# --- Price history (GPU and country pages) ----------------------------------------------------

PRICE_HISTORY_DAYS = 90


@dataclass(frozen=True)
class DayPrice:
    day: date
    offers: int  # on-demand offers with a known price that day
    low: Decimal
    median: Decimal


@dataclass(frozen=True)
class PriceHistory:
    """The on-demand price per GPU-hour of a set of offers, day by day, in one currency."""

    currency: str
    days: list[DayPrice]
    left_out: int  # offers priced in a currency without an exchange rate: not converted, not counted

    @property
    def median_points(self) -> list[tuple[datetime, Decimal]]:
        """(start of the day, median) for the step chart."""
        return [(_day_start(row.day), row.median) for row in self.days]


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def gpu_price_history(
    *, gpu: GpuModel, display: PriceDisplay, days: int = PRICE_HISTORY_DAYS, now: datetime | None = None
) -> PriceHistory:
    """The daily lowest and median on-demand price of the GPU model's listed offers. Three queries."""
    offers = Offer.objects.listed().filter(gpu_model=gpu)
    return _price_history(offers=offers, display=display, days=days, now=now)


def country_price_history(
    *,
    country: Country,
    gpu_slug: str,
    display: PriceDisplay,
    days: int = PRICE_HISTORY_DAYS,
    now: datetime | None = None,
) -> PriceHistory:
    """The same for one GPU model's listed offers in the country (or in regions spanning it):
    prices of different models are no series. Four queries."""
    offers = Offer.objects.listed().filter(_in_country(country), gpu_model__slug=gpu_slug)
    return _price_history(offers=offers, display=display, days=days, now=now)


def _in_country(country: Country) -> Q:
    """Offers in the country: their region's, or a region their provider says also spans it. One query."""
    spanning = list(Region.objects.filter(other_countries__contains=country.code).values_list("pk", flat=True))
    return Q(country=country.code) | Q(region_id__in=spanning) if spanning else Q(country=country.code)


def _price_history(*, offers: QuerySet, display: PriceDisplay, days: int, now: datetime | None) -> PriceHistory:
    """Each day's prices are those in effect at the day's end (or now, today): an offer's last
    snapshot by then, or its current price since its last change, as on the offer's page. Offers
    listed now only (a withdrawn offer's last price is no price anyone can pay). On-demand only:
    a spot or a 36-month reserved price is no point on the same line.

    Prices in another currency than ``display``'s are converted at today's rates (the portal keeps
    no rate history): the line shows how prices moved, not how the rates did. An offer whose
    currency has no rate is left out and counted in ``left_out``.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    first = today - timedelta(days=days - 1)
    start = _day_start(first)
    offers = offers.filter(pricing_type=Offer.PricingType.ON_DEMAND).order_by()
    before = (
        OfferSnapshot.objects.filter(offer=OuterRef("pk"), recorded_at__lt=start)
        .order_by("-recorded_at")
        .values("price_per_gpu_hour")[:1]
    )
    current = offers.annotate(price_before=Subquery(before)).values_list(
        "pk", "currency", "price_per_gpu_hour", "created_at", "updated_at", "price_before"
    )
    changes: dict[int, list[tuple[datetime, Decimal]]] = {}
    snapshots = OfferSnapshot.objects.filter(
        offer__in=offers.values("pk"), recorded_at__gte=start, recorded_at__lte=now
    )
    for offer_id, when, price in snapshots.order_by("offer_id", "recorded_at").values_list(
        "offer_id", "recorded_at", "price_per_gpu_hour"
    ):
        changes.setdefault(offer_id, []).append((when, price))
    rates = ExchangeRate.objects.units_per_eur()

    series: list[list[tuple[datetime, Decimal]]] = []
    left_out = 0
    for pk, currency, price, created_at, updated_at, price_before in current:
        if currency != display.currency and currency not in rates:
            left_out += 1
            continue
        events = [(start, price_before)] if price_before is not None else []
        events += changes.get(pk, [])
        if not events or events[-1][1] != price:
            since = max(updated_at, events[-1][0]) if events else created_at
            events.append((since, price))
        if currency != display.currency:
            events = [
                (when, price_shown(price_normalize(value, rates[currency]), display.rate)) for when, value in events
            ]
        series.append(events)

    # Each offer's changes are walked once, in order, across the days: linear in the snapshots.
    ends = [min(_day_start(first + timedelta(days=offset + 1)), now) for offset in range(days)]
    daily: list[list[Decimal]] = [[] for _ in ends]
    for events in series:
        index, value = 0, None
        for prices, end in zip(daily, ends, strict=True):
            while index < len(events) and events[index][0] <= end:
                value = events[index][1]
                index += 1
            if value is not None:
                prices.append(value)
    result = []
    for offset, prices in enumerate(daily):
        day = first + timedelta(days=offset)
        if prices:
            median = statistics.median(sorted(prices)).quantize(Decimal("0.0001"))
            result.append(DayPrice(day=day, offers=len(prices), low=min(prices), median=median))
    return PriceHistory(currency=display.currency, days=result, left_out=left_out)

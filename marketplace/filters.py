"""The catalog's filters: plain, stable URL parameters (documented in docs/catalog.md).

Invalid values never fail the page: the form reports them next to the filter and
``filter_queryset`` only applies the fields that validated. Choices for GPU models, providers
(with their jurisdictions) and certifications are loaded by ``catalog_choices()`` (small queries, kept per process
for CATALOG_CACHE_SECONDS), so that validating ``?gpu=...`` costs no query of its own and the
page's query count stays constant.
"""

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

import django_filters
from django import forms
from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from marketplace.country_groups import COUNTRY_GROUPS, countries_in_groups
from marketplace.fx import REFERENCE_CURRENCY, normalized_bound
from marketplace.models import CapacityWindow, ExchangeRate, GpuModel, Offer
from providers.models import Certification, Provider, ProviderCertification, Region

# Each ordering but freshness matches a partial index (migration 0010), so a page is an index
# range scan. Freshness is a top-N sort: no index may hold last_verified_at (see 0007).
# Prices are compared in the reference currency (marketplace.fx). The price orders keep pricing
# types apart (on demand, then reserved by term, then spot: the codes' alphabetical order), since
# a 36-month reserved price is not an alternative to an hourly one; a row says which it is.
SORTS = {
    "price": ("pricing_type", "min_term_months", "price_normalized", "id"),
    "-price": ("-pricing_type", "-min_term_months", "-price_normalized", "-id"),
    # An unknown count (NULL: "available, count not published") sorts after every known one.
    "capacity": (F("gpus_available").desc(nulls_last=True), "price_normalized", "id"),
    "freshness": ("-last_verified_at", "id"),
}
GROUPED_SORTS = {"price", "-price"}
DEFAULT_SORT = "price"
GPU_LINKS = {Offer.GpuInterconnect.NVLINK.value, Offer.GpuInterconnect.PCIE.value}
NETWORKS = {choice.value for choice in Offer.Network}
# Offered as checkboxes; any other positive count is still accepted in the URL.
COMMON_GPUS_PER_NODE = [1, 2, 4, 8, 16]


@dataclass(frozen=True)
class CatalogChoices:
    """The data-driven choice lists of the catalog's filters."""

    gpus: list[GpuModel]
    providers: list[Provider]  # approved ones only
    certifications: list[Certification]
    # Units per euro of every currency with a rate, the reference currency (1) included.
    rates: dict[str, Decimal] = field(default_factory=lambda: {REFERENCE_CURRENCY: Decimal(1)})
    rates_date: date | None = None  # of the newest rate
    # Regions their provider says span several countries: id -> the other countries (besides the
    # region's own, which offers carry); their offers are listed under each.
    spanning: dict[int, tuple[str, ...]] = field(default_factory=dict)
    # Who holds each certification today, as records that count (verified, unexpired):
    # certification id -> (providers holding it for all their regions, regions it names)...
    certified: dict[int, tuple[frozenset[int], frozenset[int]]] = field(default_factory=dict)
    # ...and the provider of each region named (region id -> provider id).
    region_providers: dict[int, int] = field(default_factory=dict)


_choices_memo: tuple[float, CatalogChoices] | None = None


def catalog_choices() -> CatalogChoices:
    """GPU models, approved providers, certifications and who holds them, exchange rates and regions
    spanning several countries, for the filters and facets.

    Six small queries, kept in the process for CATALOG_CACHE_SECONDS (0: loaded on every
    call): the lists change rarely, and a provider approved or a GPU model added shows up in
    the choices at most that late. Offers themselves are always filtered live.
    """
    global _choices_memo
    seconds = settings.CATALOG_CACHE_SECONDS
    if seconds > 0 and _choices_memo and time.monotonic() - _choices_memo[0] < seconds:
        return _choices_memo[1]
    rates = list(ExchangeRate.objects.all())
    spanning = Region.objects.exclude(other_countries="").values_list("id", "other_countries")
    holders: dict[int, tuple[set[int], set[int]]] = {}
    region_providers = {}
    records = ProviderCertification.objects.valid().values_list("certification_id", "provider_id", "scope", "regions")
    for certification_id, provider_id, scope, region_id in records:
        providers, regions = holders.setdefault(certification_id, (set(), set()))
        if scope == ProviderCertification.Scope.PROVIDER:
            providers.add(provider_id)
        elif region_id is not None:
            regions.add(region_id)
            region_providers[region_id] = provider_id
    choices = CatalogChoices(
        gpus=list(GpuModel.objects.only("id", "slug", "name", "sort_order", "vendor")),
        providers=list(
            Provider.objects.approved().only(
                "id", "slug", "name", "hq_country", "incorporation_country", "parent_country"
            )
        ),
        certifications=list(Certification.objects.all()),
        rates={REFERENCE_CURRENCY: Decimal(1), **{rate.currency: rate.units_per_eur for rate in rates}},
        rates_date=max((rate.rate_date for rate in rates), default=None),
        spanning={pk: tuple(code for code in others.split(",") if code) for pk, others in spanning},
        certified={pk: (frozenset(providers), frozenset(regions)) for pk, (providers, regions) in holders.items()},
        region_providers=region_providers,
    )
    _choices_memo = (time.monotonic(), choices) if seconds > 0 else None
    return choices


def country_choices() -> list[tuple[str, str]]:
    """Every country as (code, name) in the active language, sorted by name."""
    return _country_choices(translation.get_language())


@lru_cache(maxsize=16)
def _country_choices(language: str | None) -> list[tuple[str, str]]:
    # django-countries translates and sorts the whole list on every iteration: once per language.
    with translation.override(language):
        return [(code, str(name)) for code, name in countries]


# A repeated parameter keeps at most this many distinct values; more is an error, not a bigger query.
# A request with more is refused before (portal/middleware.py); this holds for stored queries too.
MAX_VALUES = settings.MAX_VALUES_PER_PARAMETER


class MultipleChoiceField(forms.MultipleChoiceField):
    """A repeated parameter (?gpu=a&gpu=b); an empty one (?gpu=) means no choice, not an error.

    Values are deduplicated (in their first order) and capped at MAX_VALUES."""

    default_error_messages = {"too_many": _("Choose at most %(max)d values.")}

    def to_python(self, value):
        # Each value may cost a condition in the query: a repeated one counts once.
        values = list(dict.fromkeys(self.normalize(item) for item in super().to_python(value) if item.strip()))
        if len(values) > MAX_VALUES:
            raise forms.ValidationError(self.error_messages["too_many"], code="too_many", params={"max": MAX_VALUES})
        return values

    def normalize(self, item: str) -> str:
        return item


class UpperMultipleChoiceField(MultipleChoiceField):
    """Country codes in any case: ?country=de means ?country=DE."""

    def normalize(self, item: str) -> str:
        return item.upper()


class PositiveIntegerListField(forms.Field):
    """A repeated integer parameter (?gpus_per_node=4&gpus_per_node=8), each >= 1."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"invalid": _("Enter whole numbers of 1 or more, e.g. 8.")}

    def to_python(self, value):
        if not value:
            return []
        try:
            numbers = sorted({int(item) for item in value if str(item).strip()})
        except (TypeError, ValueError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        if len(numbers) > MAX_VALUES or any(number < 1 or number > 10_000 for number in numbers):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return numbers


class ChoicesFilter(django_filters.MultipleChoiceFilter):
    field_class = MultipleChoiceField


class CountryFilter(django_filters.MultipleChoiceFilter):
    field_class = UpperMultipleChoiceField


class IntegerListFilter(django_filters.Filter):
    field_class = PositiveIntegerListField


class IntegerFilter(django_filters.Filter):
    field_class = forms.IntegerField


class CheckboxFilter(django_filters.Filter):
    field_class = forms.BooleanField


class CatalogForm(forms.Form):
    """Fields that are not filters: sorting, page size, the currency prices are shown in."""

    sort = forms.ChoiceField(
        required=False,
        label=_("Sort by"),
        choices=[
            ("price", _("Price, lowest first")),
            ("-price", _("Price, highest first")),
            ("capacity", _("Most GPUs available")),
            ("freshness", _("Most recently verified")),
        ],
    )
    per_page = forms.IntegerField(required=False, min_value=10, max_value=200, label=_("Per page"))
    # "What would it cost": each row shows the total for this many GPUs (in whole nodes) over
    # this many months (a reserved offer: at least its minimum term).
    total_gpus = forms.IntegerField(required=False, min_value=1, max_value=1_000_000, label=_("Total for N GPUs"))
    term_months = forms.IntegerField(required=False, min_value=1, max_value=120, label=_("Over N months"))
    # Choices (the currencies with a rate) are set per request; see CatalogFilter.
    currency = forms.ChoiceField(required=False, label=_("Show prices in"))


class CatalogFilter(django_filters.FilterSet):
    gpu = ChoicesFilter(label=_("GPU model"), method="filter_gpu")
    # Without a vendor (and without a GPU model), NVIDIA only: see filter_queryset().
    vendor = ChoicesFilter(label=_("Vendor"), choices=GpuModel.Vendor.choices, method="filter_vendor")
    country = CountryFilter(label=_("Country"), field_name="country", method="filter_country")
    region_group = ChoicesFilter(
        label=_("Region"),
        choices=[(group.slug, group.label) for group in COUNTRY_GROUPS.values()],
        method="filter_region_group",
    )
    hq_country = CountryFilter(label=_("Provider headquarters"), field_name="provider__hq_country", method="filter_in")
    # Who operates the capacity, beside where it is: the provider's country of incorporation and
    # its ultimate parent's must both be in the chosen groups or countries (both stated).
    operator_group = ChoicesFilter(
        label=_("Operator and parent in"),
        choices=[(group.slug, group.label) for group in COUNTRY_GROUPS.values()],
        method="filter_operator_group",
    )
    operator_country = CountryFilter(label=_("Operator and parent in country"), method="filter_operator_country")
    provider = ChoicesFilter(label=_("Provider"), method="filter_provider")
    gpus_per_node = IntegerListFilter(label=_("GPUs per node"), field_name="gpus_per_node", method="filter_in")
    min_gpus_per_node = IntegerFilter(
        label=_("At least N GPUs per node"),
        field_name="gpus_per_node",
        lookup_expr="gte",
        min_value=1,
        max_value=1024,
    )
    min_gpus = IntegerFilter(
        label=_("I need at least N GPUs now"),
        field_name="gpus_available",
        method="filter_min_gpus",
        min_value=1,
        max_value=10_000_000,
    )
    # In the currency prices are shown in (``currency``), compared in the reference currency.
    max_price = django_filters.NumberFilter(
        label=_("Max price per GPU-hour, in the currency prices are shown in (currency)"),
        method="filter_max_price",
        min_value=0,
        max_digits=12,
        decimal_places=4,
    )
    pricing = ChoicesFilter(
        label=_("Pricing"), field_name="pricing_type", method="filter_in", choices=Offer.PricingType.choices
    )
    interconnect = ChoicesFilter(
        label=_("Interconnect"),
        method="filter_interconnect",
        choices=[*Offer.GpuInterconnect.choices, *Offer.Network.choices],
    )
    # Only verified, unexpired records count; one scoped to named regions counts for their offers.
    cert = ChoicesFilter(label=_("Certifications (all of, verified)"), method="filter_cert")
    # Forward capacity: offers whose provider publishes a capacity window for the same GPU model
    # in the same region covering the whole period (then "I need N GPUs" counts the window's).
    available_from = django_filters.DateFilter(label=_("Available from"), method="filter_available_from")
    for_weeks = IntegerFilter(label=_("for (weeks)"), min_value=1, max_value=260, method="filter_nothing")
    # Checkboxes that are never invalid: "1" shows stale (sold-out) offers, anything else hides them.
    stale = CheckboxFilter(label=_("Include stale offers"), method="filter_stale")
    sold_out = CheckboxFilter(label=_("Include sold-out offers"), method="filter_sold_out")

    class Meta:
        model = Offer
        fields: list[str] = []  # every filter is declared above, none generated
        form = CatalogForm

    def __init__(
        self, data=None, queryset=None, *, now: datetime | None = None, choices: CatalogChoices | None = None, **kwargs
    ):
        super().__init__(data, queryset if queryset is not None else Offer.objects.listed(), **kwargs)
        self.now = now or timezone.now()
        choices = choices or catalog_choices()
        self.gpus, self.providers, self.certifications = choices.gpus, choices.providers, choices.certifications
        self.rates, self.rates_date = choices.rates, choices.rates_date
        self.spanning, self.certified, self.region_providers = (
            choices.spanning,
            choices.certified,
            choices.region_providers,
        )
        self.gpu_ids = {gpu.slug: gpu.id for gpu in self.gpus}
        self.provider_ids = {provider.slug: provider.id for provider in self.providers}
        self.cert_ids = {cert.slug: cert.id for cert in self.certifications}
        # Choices are per request: the lists are data, and translated labels follow the language.
        # Callables, because a form copies its fields' choice lists (hundreds of providers and
        # countries) on every request, while a callable is copied as is and called when needed.
        self.filters["gpu"].extra["choices"] = lambda: [(gpu.slug, gpu.name) for gpu in self.gpus]
        self.filters["provider"].extra["choices"] = lambda: [(p.slug, p.name) for p in self.providers]
        self.filters["cert"].extra["choices"] = lambda: [(cert.slug, cert.name) for cert in self.certifications]
        self.filters["country"].extra["choices"] = country_choices
        self.filters["hq_country"].extra["choices"] = country_choices
        self.filters["operator_country"].extra["choices"] = country_choices
        self.form.fields["currency"].choices = [(code, code) for code in self.currency_codes]

    def filter_queryset(self, queryset: QuerySet, exclude: Iterable[str] = ()) -> QuerySet:
        """Apply every filter that validated, except those in ``exclude`` (for facet counts).

        Fields with errors are absent from ``cleaned_data``, so an invalid filter is ignored
        while the valid ones still apply.
        """
        cleaned = self.cleaned
        for name, filter_ in self.filters.items():
            if name in exclude or name not in cleaned:
                continue
            queryset = filter_.filter(queryset, cleaned[name])
        if "vendor" not in exclude and not cleaned.get("vendor") and not cleaned.get("gpu"):
            # The default view is NVIDIA's: leave out the few other vendors' models (a NOT IN that
            # keeps the price-ordered index scan; an IN of every NVIDIA model would not).
            others = [gpu.id for gpu in self.gpus if gpu.vendor != GpuModel.Vendor.NVIDIA]
            if others:
                queryset = queryset.exclude(gpu_model_id__in=others)
        return queryset

    def facet_condition(self, name: str) -> Q | None:
        """The condition the counted facet ``name`` (gpu, country, provider, pricing) puts on
        offers, or None when it is not filtered on."""
        value = self.cleaned.get(name)
        if not value:
            return None
        match name:
            case "gpu":
                return Q(gpu_model_id__in=[self.gpu_ids[slug] for slug in value])
            case "provider":
                return Q(provider_id__in=[self.provider_ids[slug] for slug in value])
            case "country":
                return self.in_countries(value)
            case "pricing":
                return Q(pricing_type__in=value)
        raise ValueError(f"{name} is not a counted facet")

    def filter_in(self, queryset, name, value):
        return queryset.filter(**{f"{name}__in": value})

    def filter_gpu(self, queryset, name, value):
        return queryset.filter(self.facet_condition("gpu"))

    def filter_vendor(self, queryset, name, value):
        return queryset.filter(gpu_model_id__in=[gpu.id for gpu in self.gpus if gpu.vendor in value])

    def filter_provider(self, queryset, name, value):
        return queryset.filter(self.facet_condition("provider"))

    def in_countries(self, codes) -> Q:
        """Offers in one of these countries: their region's, or one their region also spans."""
        condition = Q(country__in=sorted(codes))
        spanning = [pk for pk, others in self.spanning.items() if set(others) & set(codes)]
        return condition | Q(region_id__in=spanning) if spanning else condition

    def filter_country(self, queryset, name, value):
        return queryset.filter(self.in_countries(value))

    def filter_region_group(self, queryset, name, value):
        return queryset.filter(self.in_countries(countries_in_groups(value)))

    def filter_interconnect(self, queryset, name, value):
        # Either choice within one dimension; both dimensions when both are asked for:
        # "NVLink + InfiniBand" means NVLink inside the node and InfiniBand between nodes.
        links = [item for item in value if item in GPU_LINKS]
        networks = [item for item in value if item in NETWORKS]
        if links:
            queryset = queryset.filter(gpu_interconnect__in=links)
        if networks:
            queryset = queryset.filter(network__in=networks)
        return queryset

    def operated_from(self, countries: set[str]) -> Q:
        """Offers of providers whose operator and ultimate parent are both in ``countries``
        (decided on the approved providers already loaded: no query, no join)."""
        countries = frozenset(countries)
        return Q(provider_id__in=[p.id for p in self.providers if p.operated_from(countries)])

    def filter_operator_group(self, queryset, name, value):
        return queryset.filter(self.operated_from(countries_in_groups(value)))

    def filter_operator_country(self, queryset, name, value):
        return queryset.filter(self.operated_from(set(value)))

    def filter_cert(self, queryset, name, value):
        # "Holds all of them", each as a record that counts (verified, unexpired: see
        # catalog_choices) for the whole provider or for the offer's region. Decided on the
        # holders already loaded, as one condition: the providers holding every one of them for
        # all their regions, or the regions (of other providers) where each one is held.
        held = [self.certified.get(self.cert_ids[slug], (frozenset(), frozenset())) for slug in value]
        providers = frozenset.intersection(*(whole for whole, _regions in held))
        candidates = frozenset().union(*(regions for _whole, regions in held))
        regions = [
            region
            for region, provider in sorted(self.region_providers.items())
            if region in candidates
            and provider not in providers
            and all(provider in whole or region in named for whole, named in held)
        ]
        condition = Q(provider_id__in=sorted(providers))
        return queryset.filter(condition | Q(region_id__in=regions) if regions else condition)

    def filter_max_price(self, queryset, name, value):
        bound = normalized_bound(value, self.rates[self.currency])
        return queryset.filter(price_normalized__lte=bound)

    def filter_available_from(self, queryset, name, value):
        end = value + timedelta(weeks=self.cleaned.get("for_weeks") or 1)
        windows = CapacityWindow.objects.listed().covering(value, end)
        windows = windows.filter(
            provider_id=OuterRef("provider_id"), region_id=OuterRef("region_id"), gpu_model_id=OuterRef("gpu_model_id")
        )
        if needed := self.cleaned.get("min_gpus"):
            windows = windows.filter(gpus__gte=needed)
        return queryset.filter(Exists(windows))

    def filter_nothing(self, queryset, name, value):
        return queryset  # read by another filter

    def filter_min_gpus(self, queryset, name, value):
        if self.cleaned.get("available_from"):
            return queryset  # counted against the capacity window, not today's availability
        return queryset.filter(gpus_available__gte=value)

    def filter_stale(self, queryset, name, value):
        return queryset if value else queryset.fresh(self.now)

    def filter_sold_out(self, queryset, name, value):
        # An unknown count (NULL) is "available": only a published 0 is sold out.
        return queryset if value else queryset.exclude(nodes_available=0)

    @property
    def cleaned(self) -> dict:
        """The values that validated, for the template and the selectors."""
        self.form.is_valid()
        return self.form.cleaned_data

    @property
    def currency_codes(self) -> list[str]:
        """The currencies prices can be shown in: the default ones first, then the others with a rate."""
        first = [code for code in settings.CATALOG_CURRENCIES if code in self.rates]
        return first + sorted(set(self.rates) - set(first))

    @property
    def default_currency(self) -> str:
        return settings.CATALOG_CURRENCY if settings.CATALOG_CURRENCY in self.rates else REFERENCE_CURRENCY

    @property
    def currency(self) -> str:
        """The currency prices are shown (and ``max_price`` read) in."""
        return self.cleaned.get("currency") or self.default_currency

    @property
    def rate(self) -> Decimal:
        """Units of the shown currency per unit of the reference currency."""
        return self.rates[self.currency]

    @property
    def sort(self) -> str:
        return self.cleaned.get("sort") or DEFAULT_SORT

    @property
    def ordering(self) -> tuple:
        return SORTS[self.sort]

    @property
    def facet_key(self) -> str:
        """What the facet counts depend on: every validated filter (not the sort or the page)."""
        cleaned = self.cleaned
        parts = []
        for name in self.filters:
            value = cleaned.get(name)
            if value not in (None, "", [], False):
                parts.append(f"{name}={sorted(value) if isinstance(value, list) else value}")
        if cleaned.get("max_price") is not None:
            parts.append(f"currency={self.currency}")  # the same figure in another currency filters otherwise
        return "&".join(parts)

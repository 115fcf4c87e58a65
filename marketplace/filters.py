"""The catalog's filters: plain, stable URL parameters (documented in docs/catalog.md).

Invalid values never fail the page: the form reports them next to the filter and
``filter_queryset`` only applies the fields that validated. Choices for GPU models, providers
and certifications are loaded by ``catalog_choices()`` (three small queries, kept per process
for CATALOG_CACHE_SECONDS), so that validating ``?gpu=...`` costs no query of its own and the
page's query count stays constant.
"""

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import django_filters
from django import forms
from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from marketplace.country_groups import COUNTRY_GROUPS, countries_in_groups
from marketplace.models import CapacityWindow, GpuModel, Offer
from providers.models import Certification, Provider

# Each ordering but freshness matches a partial index (migration 0007), so a page is an index
# range scan. Freshness is a top-N sort: no index may hold last_verified_at (see 0007).
SORTS = {
    "price": ("price_per_gpu_hour", "id"),
    "-price": ("-price_per_gpu_hour", "-id"),
    # An unknown count (NULL: "available, count not published") sorts after every known one.
    "capacity": (F("gpus_available").desc(nulls_last=True), "price_per_gpu_hour", "id"),
    "freshness": ("-last_verified_at", "id"),
}
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


_choices_memo: tuple[float, CatalogChoices] | None = None


def catalog_choices() -> CatalogChoices:
    """GPU models, approved providers and certifications, for the filters and facets.

    Three small queries, kept in the process for CATALOG_CACHE_SECONDS (0: loaded on every
    call): the lists change rarely, and a provider approved or a GPU model added shows up in
    the choices at most that late. Offers themselves are always filtered live.
    """
    global _choices_memo
    seconds = settings.CATALOG_CACHE_SECONDS
    if seconds > 0 and _choices_memo and time.monotonic() - _choices_memo[0] < seconds:
        return _choices_memo[1]
    choices = CatalogChoices(
        gpus=list(GpuModel.objects.only("id", "slug", "name", "sort_order")),
        providers=list(Provider.objects.approved().only("id", "slug", "name", "hq_country")),
        certifications=list(Certification.objects.all()),
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


class MultipleChoiceField(forms.MultipleChoiceField):
    """A repeated parameter (?gpu=a&gpu=b); an empty one (?gpu=) means no choice, not an error."""

    def to_python(self, value):
        # Each value may cost a condition in the query: a repeated one counts once.
        return list(dict.fromkeys(self.normalize(item) for item in super().to_python(value) if item.strip()))

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
        if any(number < 1 or number > 10_000 for number in numbers):
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
    """Fields that are not filters: sorting and page size."""

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


class CatalogFilter(django_filters.FilterSet):
    gpu = ChoicesFilter(label=_("GPU model"), method="filter_gpu")
    country = CountryFilter(label=_("Country"), field_name="country", method="filter_in")
    region_group = ChoicesFilter(
        label=_("Region"),
        choices=[(group.slug, group.label) for group in COUNTRY_GROUPS.values()],
        method="filter_region_group",
    )
    hq_country = CountryFilter(label=_("Provider headquarters"), field_name="provider__hq_country", method="filter_in")
    provider = ChoicesFilter(label=_("Provider"), method="filter_provider")
    gpus_per_node = IntegerListFilter(label=_("GPUs per node"), field_name="gpus_per_node", method="filter_in")
    min_gpus = IntegerFilter(
        label=_("I need at least N GPUs now"),
        field_name="gpus_available",
        method="filter_min_gpus",
        min_value=1,
        max_value=10_000_000,
    )
    max_price = django_filters.NumberFilter(
        label=_("Max price per GPU-hour"),
        field_name="price_per_gpu_hour",
        lookup_expr="lte",
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
    cert = ChoicesFilter(label=_("Certifications (all of)"), method="filter_cert")
    # Forward capacity: offers whose provider publishes a capacity window for the same GPU model
    # in the same region covering the whole period (then "I need N GPUs" counts the window's).
    available_from = django_filters.DateFilter(label=_("Available from"), method="filter_available_from")
    for_weeks = IntegerFilter(label=_("for (weeks)"), min_value=1, max_value=260, method="filter_nothing")
    # A checkbox that is never invalid: "1" shows stale offers, anything else (or nothing) hides them.
    stale = CheckboxFilter(label=_("Include stale offers"), method="filter_stale")

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
                return Q(country__in=value)
            case "pricing":
                return Q(pricing_type__in=value)
        raise ValueError(f"{name} is not a counted facet")

    def filter_in(self, queryset, name, value):
        return queryset.filter(**{f"{name}__in": value})

    def filter_gpu(self, queryset, name, value):
        return queryset.filter(self.facet_condition("gpu"))

    def filter_provider(self, queryset, name, value):
        return queryset.filter(self.facet_condition("provider"))

    def filter_region_group(self, queryset, name, value):
        return queryset.filter(country__in=sorted(countries_in_groups(value)))

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

    def filter_cert(self, queryset, name, value):
        # One EXISTS per certification: "holds all of them", and no join that could repeat a row.
        holders = Provider.certifications.through.objects
        for slug in value:
            holds = holders.filter(provider_id=OuterRef("provider_id"), certification_id=self.cert_ids[slug])
            queryset = queryset.filter(Exists(holds))
        return queryset

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

    @property
    def cleaned(self) -> dict:
        """The values that validated, for the template and the selectors."""
        self.form.is_valid()
        return self.form.cleaned_data

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
        return "&".join(parts)

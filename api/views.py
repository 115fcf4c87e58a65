"""The JSON API, v1: thin over the marketplace's selectors and the sync's services.

The offers endpoint takes exactly the HTML catalog's parameters (docs/catalog.md), through the
same FilterSet: a filter that does not validate is ignored and reported in ``ignored``, as the
catalog page reports it beside the filter. Public endpoints need no token and are throttled
per client; the inventory endpoints need a provider's token (created on its dashboard).
"""

import statistics
from decimal import Decimal

import django_filters
from django.conf import settings
from django.db import transaction
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from api import serializers
from api.authentication import HasScope
from marketplace import selectors, services
from marketplace.filters import VERIFIED_AT, CatalogFilter, CatalogForm, CheckboxFilter, IntegerFilter
from marketplace.fx import REFERENCE_CURRENCY, PriceDisplay, price_shown
from marketplace.models import ExchangeRate, GpuModel, Offer
from sync.models import ApiToken, SyncRun
from sync.services import inventory_push, push_connection

OFFER_RELATIONS = ["provider", "region", "gpu_model", "sync_connection"]  # the last: Offer.verified_at


def _catalog_parameters() -> list[OpenApiParameter]:
    """The catalog's URL parameters, read from its FilterSet, so the schema follows it."""
    parameters = []
    for name, filter_ in CatalogFilter.base_filters.items():
        if isinstance(filter_, django_filters.MultipleChoiceFilter) or "List" in type(filter_).__name__:
            kind, many = OpenApiTypes.STR, True
        elif isinstance(filter_, IntegerFilter):
            kind, many = OpenApiTypes.INT, False
        elif isinstance(filter_, django_filters.NumberFilter):
            kind, many = OpenApiTypes.NUMBER, False
        elif isinstance(filter_, django_filters.DateFilter):
            kind, many = OpenApiTypes.DATE, False
        elif isinstance(filter_, CheckboxFilter):
            kind, many = OpenApiTypes.STR, False
        else:
            kind, many = OpenApiTypes.STR, False
        parameters.append(OpenApiParameter(name, kind, many=many, description=str(filter_.label or name)))
    for name, field in CatalogForm.base_fields.items():
        kind = OpenApiTypes.INT if name == "per_page" else OpenApiTypes.STR
        choices = [value for value, _label in getattr(field, "choices", [])] or None
        parameters.append(OpenApiParameter(name, kind, description=str(field.label or name), enum=choices))
    return parameters


class CatalogCursor(CursorPagination):
    """Cursor pages in the order the catalog's ``sort`` gives (a stable, unique order), of the
    catalog's ``per_page`` size."""

    def paginate_queryset(self, queryset, request, view=None):
        self.view = view
        return super().paginate_queryset(queryset, request, view)

    # DRF positions a cursor on the first ordering field and counts an offset past the rows that
    # share its value; the price order starts with the pricing type, which thousands of offers
    # share, so the default cap of 1,000 would loop on deep pages. Deep cursors cost what deep
    # catalog pages cost (and public queries stop at the statement timeout on PostgreSQL).
    offset_cutoff = 10_000_000

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ValidationError(
                {self.cursor_query_param: ["Not a cursor this API gave: start without one."]}
            ) from None

    def get_page_size(self, request):
        return self.view.filterset.cleaned.get("per_page") or settings.CATALOG_PAGE_SIZE

    def get_ordering(self, request, queryset, view):
        key = SORT_KEYS.get(view.filterset.sort)
        return [key if not isinstance(field, str) else field for field in view.ordering]

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["ignored"] = self.view.filterset.form.errors.get_json_data()
        return response

    def get_paginated_response_schema(self, schema):
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"]["ignored"] = {"type": "object", "description": "Parameters that were not valid."}
        return paginated


# A cursor needs plain columns: the capacity sort puts unknown counts (NULL) last, as -1 below
# every published count; the freshness sort is on an expression (filters.VERIFIED_AT).
SORT_KEYS = {"capacity": "-capacity_key", "freshness": "-verified_key"}


@extend_schema(
    parameters=_catalog_parameters(),
    summary="Offers, filtered and sorted like the catalog",
    responses={
        200: serializers.OfferSerializer(many=True),
        400: OpenApiResponse(description="A cursor this API did not give."),
    },
)
class OfferList(generics.ListAPIView):
    serializer_class = serializers.OfferSerializer
    pagination_class = CatalogCursor

    def get_queryset(self):
        self.filterset = CatalogFilter(self.request.query_params)
        offers = self.filterset.filter_queryset(Offer.objects.listed()).select_related(*OFFER_RELATIONS)
        self.ordering = self.filterset.ordering
        if self.filterset.sort == "capacity":
            offers = offers.annotate(capacity_key=Coalesce("gpus_available", -1))
        if self.filterset.sort == "freshness":
            offers = offers.annotate(verified_key=VERIFIED_AT)
        return offers

    def get_serializer_context(self):
        # The currency of ?currency= as the catalog reads it (its default when none or not valid).
        display = PriceDisplay(self.filterset.currency, self.filterset.rate)
        return {**super().get_serializer_context(), "display": display}


def price_display(params) -> PriceDisplay:
    """The currency of ``?currency=`` (the catalog's default without one); 400 for one without a rate."""
    rates = ExchangeRate.objects.units_per_eur()
    default = settings.CATALOG_CURRENCY if settings.CATALOG_CURRENCY in rates else REFERENCE_CURRENCY
    code = params.get("currency", "").strip().upper() or default
    if code not in rates:
        raise ValidationError({"currency": [f"No exchange rate for {code[:10]!r}: use an ISO 4217 code, e.g. EUR."]})
    return PriceDisplay(code, rates[code])


CURRENCY = OpenApiParameter(
    "currency", OpenApiTypes.STR, description="Show prices in this currency (ISO 4217; the catalog's default without)."
)
NOT_FOUND = {404: OpenApiResponse(description="No such public object.")}
BAD_CURRENCY = {400: OpenApiResponse(description="A currency without an exchange rate.")}


@extend_schema(
    summary="One offer, listed or withdrawn",
    parameters=[CURRENCY],
    responses={200: serializers.OfferSerializer, **NOT_FOUND, **BAD_CURRENCY},
)
class OfferDetail(generics.RetrieveAPIView):
    serializer_class = serializers.OfferSerializer

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "display": price_display(self.request.query_params)}

    def get_object(self):
        offer = selectors.offer_get_public(pk=self.kwargs["pk"])
        if offer is None:
            raise Http404
        return offer


@extend_schema(
    summary="An offer's price and availability over time (oldest first)",
    responses={200: serializers.SnapshotSerializer(many=True), **NOT_FOUND},
)
class OfferHistory(generics.ListAPIView):
    serializer_class = serializers.SnapshotSerializer
    pagination_class = None

    def get_queryset(self):
        offer = selectors.offer_get_public(pk=self.kwargs["pk"])
        if offer is None:
            raise Http404
        return selectors.offer_history(offer=offer)


@extend_schema(summary="GPU models, with what is listed of each")
class GpuList(generics.ListAPIView):
    serializer_class = serializers.GpuModelStatsSerializer
    pagination_class = None

    def get_queryset(self):
        return selectors.gpu_list_with_stats()


@extend_schema(
    summary="The price index of a GPU model: low, median and high price per GPU-hour by country",
    parameters=[OpenApiParameter("country", OpenApiTypes.STR, description="Only this country (ISO code)."), CURRENCY],
    responses={200: serializers.PriceIndexSerializer(many=True), **NOT_FOUND, **BAD_CURRENCY},
)
class GpuPriceIndex(generics.ListAPIView):
    """Every listed, fresh offer's price converted to one currency (``?currency=``), so that
    offers priced in different currencies compare; by country and pricing type."""

    serializer_class = serializers.PriceIndexSerializer
    pagination_class = None

    def get_queryset(self):
        gpu = get_object_or_404(GpuModel, slug=self.kwargs["slug"])
        display = price_display(self.request.query_params)
        offers = Offer.objects.listed().fresh().filter(gpu_model=gpu).exclude(country="")
        if country := self.request.query_params.get("country", "")[:2].upper():
            offers = offers.filter(country=country)
        prices: dict[tuple, list] = {}
        for country, pricing_type, normalized in offers.values_list("country", "pricing_type", "price_normalized"):
            prices.setdefault((country, pricing_type), []).append(price_shown(normalized, display.rate))
        return [
            {
                "country": country,
                "pricing_type": pricing_type,
                "currency": display.currency,
                "offers": len(values),
                "low": min(values),
                "median": statistics.median(sorted(values)).quantize(Decimal("0.0001")),
                "high": max(values),
            }
            for (country, pricing_type), values in sorted(prices.items())
        ]


@extend_schema(summary="Approved providers, with their public facts and certifications")
class ProviderList(generics.ListAPIView):
    serializer_class = serializers.ProviderStatsSerializer
    pagination_class = None

    def get_queryset(self):
        return selectors.provider_list_public()


@extend_schema(summary="One approved provider", responses={200: serializers.ProviderSerializer, **NOT_FOUND})
class ProviderDetail(generics.RetrieveAPIView):
    serializer_class = serializers.ProviderSerializer

    def get_object(self):
        provider = selectors.provider_get_public(slug=self.kwargs["slug"])
        if provider is None:
            raise Http404
        return provider


@extend_schema(summary="Every country with listed capacity")
class CountryList(generics.ListAPIView):
    serializer_class = serializers.CountryCapacitySerializer
    pagination_class = None

    def get_queryset(self):
        return [
            {**row, "country": row["country"].code, "name": str(row["country"].name)}
            for row in selectors.country_list_with_capacity()
        ]


# --- Providers: pushing inventory ------------------------------------------------------------


class InventoryPush(APIView):
    """Push a complete provider feed document (docs/provider-feed.md) instead of being fetched.

    Validated and applied exactly as a sync of the same document; the push is recorded as a
    run of the provider's "pushed to the API" connection, on its dashboard. Send an
    ``Idempotency-Key`` header to make retries safe: the same key within a day answers the
    first push's run and applies nothing again.
    """

    permission_classes = [HasScope]
    required_scope = ApiToken.Scope.INVENTORY_WRITE
    throttle_scope = "push"
    parser_classes = [JSONParser]

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={200: serializers.PushResultSerializer, 422: serializers.PushResultSerializer},
        parameters=[OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER)],
        summary="Push the provider's inventory (a provider feed document)",
    )
    def post(self, request):
        key = request.headers.get("Idempotency-Key", "")[:100]
        run, replayed = inventory_push(provider=request.auth.provider, payload=request.body, idempotency_key=key)
        if run is None:
            return Response({"detail": "Another push of this provider is being applied: retry."}, status=409)
        body = {
            "run": run.pk,
            "outcome": run.outcome,
            "replayed": replayed,
            **{name: getattr(run, name) for name in ("created", "updated", "unchanged", "withdrawn", "skipped")},
            "suspicious": run.suspicious,
            "warnings": run.warnings,
            "error": run.error,
        }
        return Response(body, status=200 if run.outcome == SyncRun.Outcome.SUCCESS else 422)


class OfferAvailability(APIView):
    """Update one pushed or hand-kept offer's availability (and price) by the provider's own id."""

    permission_classes = [HasScope]
    required_scope = ApiToken.Scope.INVENTORY_WRITE
    throttle_scope = "push"

    @extend_schema(
        request=serializers.AvailabilitySerializer,
        responses=serializers.OfferSerializer,
        summary="Update one offer's availability",
    )
    def patch(self, request, external_id: str):
        provider = request.auth.provider
        offer = get_object_or_404(provider.offers.select_related(*OFFER_RELATIONS), external_id=external_id)
        pushed = push_connection(provider=provider)
        if offer.sync_connection_id not in (None, pushed.pk):
            return Response(
                {"detail": "This offer is synced from one of your connections: change it at its source."}, status=409
            )
        data = serializers.AvailabilitySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            services.offer_availability_update(offer=offer, now=timezone.now(), **data.validated_data)
        context = {"request": request, "display": price_display(request.query_params)}
        return Response(serializers.OfferSerializer(offer, context=context).data)

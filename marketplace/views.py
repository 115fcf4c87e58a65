from urllib.parse import urlsplit

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from marketplace import selectors, services
from marketplace.country_groups import countries_in_groups
from marketplace.filters import catalog_query_clean
from marketplace.models import GpuModel, Offer
from marketplace.world_map import world_map
from portal.http import HtmxHttpRequest
from portal.lib.db import with_statement_timeout


def _display(request: HtmxHttpRequest):
    """The currency this page shows prices in: ?currency= when the portal has a rate for it."""
    return selectors.price_display(currency=request.GET.get("currency"))


def _catalog_back(request: HtmxHttpRequest) -> str:
    """The catalog query a visitor came from, for the breadcrumb's link back to the catalog:
    ``?back=`` (a query string), else the Referer when it is our own catalog page. Only known
    catalog parameters are kept and the link is always our catalog's URL: never a redirect."""
    if "back" in request.GET:
        return catalog_query_clean(request.GET["back"])
    referer = urlsplit(request.headers.get("Referer", ""))
    if referer.netloc == request.get_host() and referer.path == reverse("marketplace:catalog"):
        return catalog_query_clean(referer.query)
    return ""


def _wants_fragment(request: HtmxHttpRequest) -> bool:
    """An htmx swap gets the fragment; boosted links and history restores need the page."""
    return bool(request.htmx) and not request.htmx.boosted and not request.htmx.history_restore_request


@require_GET
@vary_on_headers("HX-Request")
@with_statement_timeout
def catalog(request: HtmxHttpRequest) -> HttpResponse:
    results = selectors.catalog_search(params=request.GET)
    if request.GET.get("page", "1") == "1":  # a search, not the next page of one
        _demand_note(results)
    template = "marketplace/catalog.html"
    fragment = _wants_fragment(request)
    if fragment:
        template += "#results"
    context = {
        "results": results,
        "form": results.form,
        # Lazy: when the sidebar comes from the cache, its choices are never built.
        "facets": SimpleLazyObject(lambda: results.facets),
        "fragment": fragment,
        "catalog_cache_seconds": settings.CATALOG_CACHE_SECONDS,
    }
    return render(request, template, context)


def _demand_note(results: selectors.CatalogResults) -> None:
    """Count the search for providers' demand insights: the GPU models and countries it names."""
    cleaned = results.filterset.cleaned
    countries = {str(code) for code in cleaned.get("country") or []}
    countries |= countries_in_groups(list(cleaned.get("region_group") or []))
    services.search_demand_note(
        gpus=sorted(cleaned.get("gpu") or []), countries=sorted(countries), empty=results.summary.total == 0
    )


@require_GET
def offer_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    offer = selectors.offer_get_public(pk=pk)
    if offer is None:
        raise Http404
    snapshots = selectors.offer_history(offer=offer)
    price_points = [(s.recorded_at, s.price_per_gpu_hour) for s in snapshots]
    # None (available, count not published) stays None: the chart shades it instead of drawing 0.
    capacity_points = [
        (s.recorded_at, None if s.nodes_available is None else s.nodes_available * offer.gpus_per_node)
        for s in snapshots
    ]
    if not snapshots or (snapshots[-1].price_per_gpu_hour, snapshots[-1].nodes_available) != (
        offer.price_per_gpu_hour,
        offer.nodes_available,
    ):
        # The offer as it is now is the newest point, even if no snapshot recorded it.
        since = max(offer.updated_at, snapshots[-1].recorded_at) if snapshots else offer.created_at
        price_points.append((since, offer.price_per_gpu_hour))
        capacity_points.append((since, offer.gpus_available))
    withdrawn = offer.status == Offer.Status.WITHDRAWN
    context = {
        "offer": offer,
        "display": _display(request),
        "withdrawn": withdrawn,
        "price_points": price_points,
        "capacity_points": capacity_points,
        "chart_end": offer.updated_at if withdrawn else timezone.now(),
        "certifications": selectors.offer_certifications(offer=offer),
        "back": _catalog_back(request),
    }
    # 410 tells crawlers and scripts the offer existed and is gone for good.
    return render(request, "marketplace/offer_detail.html", context, status=410 if withdrawn else 200)


@require_GET
@with_statement_timeout
def provider_list(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, "marketplace/provider_list.html", {"providers": selectors.provider_list_public()})


@require_GET
@with_statement_timeout
def provider_detail(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    provider = selectors.provider_get_public(slug=slug)
    if provider is None:
        raise Http404
    profile = selectors.provider_profile(provider=provider)
    context = {"profile": profile, "provider": provider, "display": _display(request)}
    return render(request, "marketplace/provider_detail.html", context)


@require_GET
@with_statement_timeout
def gpu_list(request: HtmxHttpRequest) -> HttpResponse:
    context = {"gpus": selectors.gpu_list_with_stats(), "display": _display(request)}
    return render(request, "marketplace/gpu_list.html", context)


@require_GET
@with_statement_timeout
def gpu_detail(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    gpu = get_object_or_404(GpuModel, slug=slug)
    page = Paginator(selectors.gpu_offers(gpu=gpu), settings.CATALOG_PAGE_SIZE).get_page(request.GET.get("page"))
    display = _display(request)
    context = {
        "gpu": gpu,
        "page": page,
        "display": display,
        "spread": selectors.gpu_price_spread(gpu=gpu, display=display),
        "countries": selectors.gpu_countries(gpu=gpu),
        "history": selectors.gpu_price_history(gpu=gpu, display=display),
        "chart_end": timezone.now(),
        "back": _catalog_back(request),
    }
    return render(request, "marketplace/gpu_detail.html", context)


@require_GET
@with_statement_timeout
def country_list(request: HtmxHttpRequest) -> HttpResponse:
    sort = request.GET.get("sort") if request.GET.get("sort") in selectors.COUNTRY_SORTS else "gpus"
    rows = selectors.country_list_with_capacity(sort=sort)
    context = {"rows": rows, "sort": sort, "map": world_map(rows=rows)}
    return render(request, "marketplace/country_list.html", context)


@require_GET
@with_statement_timeout
def country_detail(request: HtmxHttpRequest, code: str) -> HttpResponse:
    country = selectors.country_from_code(code)
    if country is None:
        raise Http404
    capacity = selectors.country_capacity(country=country)
    display = _display(request)
    context = {"country": country, "capacity": capacity, "display": display, "back": _catalog_back(request)}
    # The price history is one GPU model's (?gpu=, else the one with the most offers here):
    # different models' prices make no line.
    models = {row["gpu_model__slug"]: row for row in capacity.by_gpu}
    asked = request.GET.get("gpu", "")
    if asked and asked not in models:
        context["gpu_error"] = _("No offer of this GPU model is listed here; showing another one.")
    if models:
        slug = asked if asked in models else max(capacity.by_gpu, key=lambda row: row["offers"])["gpu_model__slug"]
        context["history_gpu"] = models[slug]
        context["history"] = selectors.country_price_history(country=country, gpu_slug=slug, display=display)
        context["chart_end"] = timezone.now()
    return render(request, "marketplace/country_detail.html", context)

"""The demo partners' inventory feeds, served by the portal itself (only when DEMO_ENABLED)."""

from django.http import Http404, HttpRequest, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from demo.feeds import partner_feed
from demo.partners import PARTNERS


@csrf_exempt
@require_GET
@never_cache
def feed_index(request: HttpRequest) -> JsonResponse:
    """Where each demo partner's feed lives."""
    feeds = [
        {"provider": partner.name, "url": request.build_absolute_uri(reverse("demo:feed", args=[partner.slug]))}
        for partner in PARTNERS
    ]
    return JsonResponse({"feeds": feeds})


@csrf_exempt
@require_GET
@never_cache
def feed(request: HttpRequest, slug: str) -> JsonResponse:
    """One partner's offers as an open provider feed (v1), with availability as of now."""
    payload = partner_feed(slug, now=timezone.now())
    if payload is None:
        raise Http404("No demo partner with this slug.")
    return JsonResponse(payload)

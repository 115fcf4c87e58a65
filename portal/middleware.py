"""Middleware of the whole site: limits on what one request may ask for."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


class QueryLimitsMiddleware:
    """Refuse, before any view runs, a query string longer than MAX_QUERY_STRING_BYTES or a
    parameter repeated more than MAX_VALUES_PER_PARAMETER times (400, with the 400 page).

    Every value of a multi-value filter can cost the database a condition: without a cap, one
    anonymous URL (``/?cert=c5`` repeated 450 times) held a gunicorn worker past its timeout.
    Views also deduplicate the values they accept (marketplace/filters.py).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.GET
            and max(len(values) for _name, values in request.GET.lists()) > settings.MAX_VALUES_PER_PARAMETER
        ):
            limit = settings.MAX_VALUES_PER_PARAMETER
            return _bad_request(request, _("Too many values for one parameter: at most %(n)d.") % {"n": limit})
        if len(request.META.get("QUERY_STRING", "")) > settings.MAX_QUERY_STRING_BYTES:
            return _bad_request(request, _("This address is too long."))
        return self.get_response(request)


def _bad_request(request: HttpRequest, reason: str) -> HttpResponse:
    return render(request, "400.html", {"reason": reason}, status=400)

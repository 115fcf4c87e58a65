"""Middleware of the whole site: limits on what one request may ask for; a clean 503 when the
database is unreachable."""

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _

from portal.lib.db import is_statement_timeout


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


logger = logging.getLogger(__name__)


class DatabaseUnavailableMiddleware:
    """Answer 503 ("try again in a moment") when a view cannot reach the database, instead of a
    500: during a PostgreSQL restart requests fail cleanly, and the next ones reconnect
    (CONN_HEALTH_CHECKS) without restarting the web process."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError) or is_statement_timeout(exception):
            return None
        logger.error("database unavailable: %s", exception)
        try:
            # Without the request: its context processors (the user, the session) need the database.
            body = loader.get_template("503.html").render({})
        except Exception:
            return HttpResponseServerError("The site cannot answer right now. Please try again in a moment.")
        response = HttpResponse(body, status=503)
        response["Retry-After"] = "5"
        return response

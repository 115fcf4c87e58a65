"""Database helpers: a statement timeout for the pages anyone can ask for."""

import functools
import logging
from collections.abc import Callable
from contextlib import contextmanager

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)
QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement cancelled by statement_timeout


@contextmanager
def statement_timeout(milliseconds: int):
    """Run the block in a transaction whose every statement is cancelled after ``milliseconds``
    (PostgreSQL; elsewhere, or with 0, the block runs as it is).

    ``SET LOCAL`` (here ``set_config(..., true)``) ends with the transaction, so a pooled
    connection does not keep the limit for the next request.
    """
    if connection.vendor != "postgresql" or not milliseconds:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [str(int(milliseconds))])
        yield


def is_statement_timeout(error: BaseException) -> bool:
    return getattr(error.__cause__, "sqlstate", None) == QUERY_CANCELED


def with_statement_timeout(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A public page whose queries stop after CATALOG_STATEMENT_TIMEOUT_MS: past it, a 503 that
    says so, instead of a web worker and a database backend held for minutes."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            with statement_timeout(settings.CATALOG_STATEMENT_TIMEOUT_MS):
                response = view(request, *args, **kwargs)
                if hasattr(response, "render"):
                    response.render()  # a TemplateResponse's queries run inside the limit too
                return response
        except OperationalError as error:
            if not is_statement_timeout(error):
                raise
            logger.warning("statement timeout on %s", request.get_full_path())
            reason = _("This search took too long to answer. Try again with fewer filters.")
            response = render(request, "503.html", {"reason": reason}, status=503)
            response["Retry-After"] = "10"
            return response

    return wrapped

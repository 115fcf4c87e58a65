"""Prometheus metrics kept in the process (prometheus-client): request latency, sync duration and
errors. The figures read from the database at scrape time are in sync/health.py.

django-prometheus would do the request part, but does not support Django 6.1 yet: these few
lines do what we need. With several processes (gunicorn workers, Celery pool processes) set
PROMETHEUS_MULTIPROC_DIR to a directory they share, and /metrics adds them all up.
"""

import os
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess

REQUEST_LATENCY = Histogram(
    "portal_http_request_duration_seconds",
    "Time to answer an HTTP request, by view and status class.",
    ["view", "method", "status"],
)
SYNC_DURATION = Histogram(
    "portal_sync_duration_seconds",
    "Time a sync run took, by adapter and outcome.",
    ["adapter", "outcome"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)
SYNC_ERRORS = Counter("portal_sync_errors_total", "Sync runs that failed, by adapter.", ["adapter"])


def registry() -> CollectorRegistry:
    """A registry for one scrape: every process's metrics in multiprocess mode, else this one's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        collected = CollectorRegistry()
        multiprocess.MultiProcessCollector(collected)
        return collected
    from prometheus_client import REGISTRY

    return REGISTRY


class RequestMetricsMiddleware:
    """Observe each request's latency, labelled by the view that answered (few, known values)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = match.view_name if match else "unresolved"
        status = f"{response.status_code // 100}xx"
        REQUEST_LATENCY.labels(view, request.method, status).observe(time.perf_counter() - started)
        return response

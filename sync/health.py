"""/healthz for load balancers and /metrics for Prometheus.

/healthz answers 200 while this web process can serve pages (its database answers) and 503 when
it cannot; the JSON body also reports the broker, beat's last dispatch and the oldest due sync,
which do not stop the site from serving (the catalog keeps working with the broker down).
"""

import hmac
from urllib.parse import urlparse

from django.conf import settings
from django.db import connection
from django.db.models import Count, Exists, Min, OuterRef, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import GaugeMetricFamily

from marketplace.models import Offer
from portal.lib.queue import queue_available
from portal.metrics import registry
from sync.models import Heartbeat, SyncConnection
from sync.tasks import DISPATCH_HEARTBEAT


def _seconds_since(moment) -> float | None:
    return round((timezone.now() - moment).total_seconds(), 1) if moment else None


def oldest_due_sync_age() -> float | None:
    """How long the connection waiting longest for its sync has been due (None: none is due)."""
    due = SyncConnection.objects.due().aggregate(oldest=Min("next_sync_at"))["oldest"]
    return _seconds_since(due)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks: dict = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as error:
        checks["database"] = f"error: {type(error).__name__}"
        return JsonResponse({"status": "down", "checks": checks}, status=503)
    checks["broker"] = "ok" if queue_available(timeout=1.0) else "unavailable"
    tick = Heartbeat.objects.filter(name=DISPATCH_HEARTBEAT).values_list("at", flat=True).first()
    checks["last_beat_tick_seconds_ago"] = _seconds_since(tick)
    checks["oldest_due_sync_seconds"] = oldest_due_sync_age()
    beat_late = tick is None or checks["last_beat_tick_seconds_ago"] > settings.HEALTH_BEAT_MAX_AGE_SECONDS
    degraded = checks["broker"] != "ok" or beat_late
    return JsonResponse({"status": "degraded" if degraded else "ok", "checks": checks})


class DatabaseCollector:
    """Figures read at scrape time: offers by status, oldest verification, due syncs, queue depth."""

    def collect(self):
        offers = GaugeMetricFamily("portal_offers", "Offers by status.", labels=["status"])
        for status, count in Offer.objects.order_by().values_list("status").annotate(n=Count("pk")):
            offers.add_metric([status], count)
        yield offers
        # Offer.verified_at: an active synced offer's is its connection's last success.
        own = Offer.objects.listed().filter(Q(status=Offer.Status.STALE) | Q(sync_connection__isnull=True))
        listing = Exists(Offer.objects.listed().fresh().filter(sync_connection=OuterRef("pk")))
        times = [
            own.aggregate(oldest=Min("last_verified_at"))["oldest"],
            SyncConnection.objects.filter(listing).aggregate(oldest=Min("last_success_at"))["oldest"],
        ]
        oldest = min(filter(None, times), default=None)
        yield GaugeMetricFamily(
            "portal_oldest_verification_age_seconds",
            "Age of the least recently verified listed offer.",
            value=_seconds_since(oldest) or 0,
        )
        yield GaugeMetricFamily(
            "portal_oldest_due_sync_age_seconds",
            "How long the longest-waiting due connection has been due.",
            value=oldest_due_sync_age() or 0,
        )
        depth = GaugeMetricFamily("portal_queue_depth", "Tasks waiting in each Celery queue.", labels=["queue"])
        for queue, length in queue_lengths().items():
            depth.add_metric([queue], length)
        yield depth


def queue_lengths() -> dict[str, int]:
    """Messages waiting per queue, with a Redis broker (Celery keeps each queue as a list)."""
    url = settings.CELERY_BROKER_URL
    if urlparse(url).scheme not in {"redis", "rediss"}:
        return {}
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        return {queue: client.llen(queue) for queue in ("default", "sync")}
    except redis.RedisError:
        return {}


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if token and not hmac.compare_digest(request.headers.get("Authorization", ""), f"Bearer {token}"):
        return HttpResponse(status=401)
    output = generate_latest(registry())
    output += generate_latest(_database_registry())
    return HttpResponse(output, content_type=CONTENT_TYPE_LATEST)


def _database_registry():
    from prometheus_client import CollectorRegistry

    collected = CollectorRegistry(auto_describe=True)
    collected.register(DatabaseCollector())
    return collected

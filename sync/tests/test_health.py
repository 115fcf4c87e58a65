"""/healthz for load balancers, /metrics for Prometheus."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sync.engine import sync_connection_run
from sync.models import SyncConnection
from sync.tasks import dispatch_due_syncs

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_broker_beat_and_the_oldest_due_sync(client, acme, monkeypatch):
    SyncConnection.objects.create(
        provider=acme, base_url="https://a.example/f.json", next_sync_at=timezone.now() - timedelta(minutes=10)
    )
    before = client.get("/healthz").json()
    assert before["status"] == "degraded"  # beat has not dispatched yet
    assert before["checks"]["database"] == "ok" and before["checks"]["broker"] == "ok"
    assert before["checks"]["last_beat_tick_seconds_ago"] is None
    assert before["checks"]["oldest_due_sync_seconds"] >= 600

    from sync.tasks import sync_connection_task

    monkeypatch.setattr(sync_connection_task, "apply_async", lambda *args, **kwargs: None)  # the broker
    dispatch_due_syncs()

    after = client.get("/healthz")
    assert after.status_code == 200 and after["Cache-Control"].startswith("max-age=0")
    assert after.json()["status"] == "ok"
    assert after.json()["checks"]["last_beat_tick_seconds_ago"] < 5


def test_healthz_says_the_broker_is_down_but_stays_200(client, db, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"]["broker"] == "unavailable" and response.json()["status"] == "degraded"


def test_metrics_expose_request_latency_sync_figures_and_offers(client, acme_feed, de_offer):
    sync_connection_run(connection=acme_feed)
    client.get("/")

    text = client.get("/metrics").text

    assert 'portal_http_request_duration_seconds_count{method="GET",status="2xx",view="marketplace:catalog"}' in text
    assert 'portal_sync_duration_seconds_count{adapter="feed",outcome="success"}' in text
    assert 'portal_offers{status="active"} 5.0' in text
    assert "portal_oldest_verification_age_seconds" in text and "portal_oldest_due_sync_age_seconds" in text


def test_metrics_count_sync_errors_per_adapter(client, acme_feed, local_server):
    local_server.serve("/feed.json", b"not json")
    sync_connection_run(connection=acme_feed)
    assert 'portal_sync_errors_total{adapter="feed"}' in client.get("/metrics").text


def test_metrics_can_require_a_token(client, db, settings):
    settings.METRICS_TOKEN = "s3cret"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer s3cret"}).status_code == 200


@pytest.fixture
def de_offer(acme_fra):
    from portal.testing import make_offer

    return make_offer(acme_fra.provider, acme_fra)


def test_load_balancers_and_scrapers_over_plain_http_are_answered_not_redirected(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = settings.PLAIN_HTTP_PATHS  # as production sets it
    assert client.get("/").status_code == 301
    assert client.get("/healthz").status_code == 200
    assert client.get("/metrics").status_code == 200

"""The API is throttled: per client address without a token, per token for pushes (429 with
Retry-After). Counters live in the cache (Redis in production, shared by the web processes)."""

import json
import uuid

import pytest
from django.core.cache import cache
from django.urls import reverse
from rest_framework.throttling import SimpleRateThrottle

from portal.testing import require_redis
from sync.models import ApiToken
from sync.services import token_create
from sync.tests.support import feed_document

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["in-process", "redis"])
def rates(request, monkeypatch, settings):
    """Low rates, counted in this process's cache, then in Redis as production counts them."""
    if request.param == "redis":
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": require_redis(),
                "KEY_PREFIX": f"throttle-test-{uuid.uuid4().hex}",
            }
        }  # a fresh prefix instead of clear(), which would empty the whole Redis database
    else:
        cache.clear()
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "3/minute", "push": "2/minute"})
    yield
    if request.param != "redis":
        cache.clear()


def _push(client, secret):
    return client.post(
        reverse("api:inventory_push"),
        json.dumps(feed_document()),
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )


def test_a_client_without_token_is_throttled_by_address(client, rates):
    url = reverse("api:gpu_list")
    statuses = [client.get(url, REMOTE_ADDR="203.0.113.7").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = client.get(url, REMOTE_ADDR="203.0.113.7")
    assert int(refused["Retry-After"]) > 0
    assert "throttled" in refused.json()["detail"].lower()
    assert client.get(url, REMOTE_ADDR="203.0.113.8").status_code == 200  # another client


def test_pushes_are_throttled_per_token_not_by_the_public_rate(client, rates, acme, beta):
    first = token_create(provider=acme, name="a", user=None, scopes=[ApiToken.Scope.INVENTORY_WRITE])[1]
    second = token_create(provider=beta, name="b", user=None, scopes=[ApiToken.Scope.INVENTORY_WRITE])[1]
    for _ in range(3):  # the anonymous budget of this address, spent
        client.get(reverse("api:gpu_list"))

    assert [_push(client, first).status_code for _ in range(3)] == [200, 200, 429]
    assert _push(client, second).status_code == 200

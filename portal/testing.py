"""Shared test fixtures: the personas, and the guards for tests that need services.

alice owns provider Acme GPU (DE), bob is staff of Acme, charlie owns Beta Compute (US),
dave is a developer with no provider. Fixtures are plain pytest fixtures (see conftest.py).
"""

import os
import socket
from decimal import Decimal
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection

from marketplace.models import GpuModel, Offer
from providers.models import Membership, Provider, Region

PASSWORD = "correct-horse-battery"  # noqa: S105 (test personas only)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"} or bool(os.environ.get("REQUIRE_SERVICES"))


def missing_service(reason: str) -> None:
    """In CI a missing service is a failure, elsewhere a skip with the reason."""
    if in_ci():
        pytest.fail(f"required service unavailable in CI: {reason}")
    pytest.skip(reason)


def require_postgres() -> None:
    if connection.vendor != "postgresql":
        missing_service("needs PostgreSQL: run with DATABASE_URL=postgres://... (as .ci/run does)")


def require_redis() -> str:
    url = settings.CELERY_BROKER_URL
    if not url.startswith("redis://"):
        url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    parsed = urlparse(url)
    try:
        socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=2).close()
    except OSError as exc:
        missing_service(f"needs Redis at {url}: {exc}")
    return url


def make_user(username: str, **extra) -> User:
    return User.objects.create_user(username, f"{username}@example.com", PASSWORD, **extra)


def make_provider(name: str, country: str, owner: User | None = None, **extra) -> Provider:
    from django.utils.text import slugify

    provider = Provider.objects.create(
        name=name, slug=slugify(name), hq_country=country, status=Provider.Status.APPROVED, **extra
    )
    if owner:
        Membership.objects.create(user=owner, provider=provider, role=Membership.Role.OWNER)
    return provider


def make_offer(provider: Provider, region: Region, gpu: str = "h100-sxm", **extra) -> Offer:
    values = dict(
        gpus_per_node=8,
        price_per_gpu_hour=Decimal("2.50"),
        nodes_available=4,
        nodes_total=16,
        external_id=f"{region.code}-{gpu}-{Offer.objects.count()}",
        vcpus=128,
        ram_gb=2048,
    )
    values.update(extra)
    return Offer.objects.create(provider=provider, region=region, gpu_model=GpuModel.objects.get(slug=gpu), **values)

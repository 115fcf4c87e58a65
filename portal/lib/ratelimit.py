"""Rate limits on Django's cache: a fixed window per scope and client (IP address or user).

Written here rather than taken from django-ratelimit (last released in 2023, before Django 5):
the whole need is a counter per window. With several web processes the cache must be shared
(CACHE_URL, required in production), else each process counts on its own.
"""

import functools
import hashlib
import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)
PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT proxies the address the
    outermost trusted proxy saw (X-Forwarded-For, counted from the right: the left part is
    whatever the client claims)."""
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if proxies and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def parse_rate(rate: str) -> tuple[int, int]:
    """ "5/m" -> (5, 60): so many requests per second, minute, hour or day."""
    count, _slash, period = rate.partition("/")
    return int(count), PERIODS[period]


def rate_limit_hit(*, scope: str, key: str, rate: str) -> bool:
    """Count one request of ``key`` in ``scope``; True when it is over ``rate`` ("5/m").

    A cache that fails lets the request through (logged): a limit must never take the site down.
    """
    limit, period = parse_rate(rate)
    window = int(time.time() // period)
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    cache_key = f"ratelimit:{scope}:{digest}:{window}"
    try:
        count = 1 if cache.add(cache_key, 1, period + 1) else cache.incr(cache_key)
    except Exception as error:
        logger.warning("rate limit %s not counted, the cache failed: %s", scope, error)
        return False
    return count > limit


def rate_limited(scope: str, *, methods: tuple[str, ...] = ("POST",), per_user: bool = False):
    """Answer 429 to requests of ``methods`` beyond ``settings.RATE_LIMITS[scope]``, counted per
    client IP address (or per signed-in user with ``per_user``)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method in methods:
                user = getattr(request, "user", None)
                key = f"user:{user.pk}" if per_user and user and user.is_authenticated else f"ip:{client_ip(request)}"
                if rate_limit_hit(scope=scope, key=key, rate=settings.RATE_LIMITS[scope]):
                    logger.warning("rate limit %s reached by %s", scope, key)
                    return too_many_requests(request)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def too_many_requests(request: HttpRequest, reason: str = "") -> HttpResponse:
    reason = reason or _("Too many attempts in a short time. Please wait a few minutes and try again.")
    response = render(request, "429.html", {"reason": reason}, status=429)
    response["Retry-After"] = "60"
    return response

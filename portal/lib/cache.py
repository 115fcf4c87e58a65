"""A Redis cache that a Redis outage cannot turn into errors: reads miss, writes are dropped.

The catalog caches its facet counts and sidebar; with Redis down it computes them instead and
keeps serving. Counting operations (add, incr) still raise, for their callers to decide
(portal/lib/ratelimit.py lets the request through).
"""

import logging

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


def _fail_safe(name: str, default):
    method = getattr(RedisCache, name)

    def wrapped(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except RedisError as error:
            logger.warning("cache %s failed, going on without the cache: %s", name, error)
            return default(*args, **kwargs) if callable(default) else default

    wrapped.__name__ = name
    return wrapped


class FailSafeRedisCache(RedisCache):
    get = _fail_safe("get", lambda key, default=None, version=None: default)
    get_many = _fail_safe("get_many", {})
    has_key = _fail_safe("has_key", False)
    set = _fail_safe("set", None)
    set_many = _fail_safe("set_many", [])
    touch = _fail_safe("touch", False)
    delete = _fail_safe("delete", False)
    delete_many = _fail_safe("delete_many", None)

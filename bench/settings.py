"""Settings for the benchmarks: the portal's own, plus the floor view, on a bench database.

The database is BENCH_DATABASE_URL (a PostgreSQL URL; the runner derives one database per
dataset size from it). Everything else is production-like: DEBUG off (no query log, cached
templates), persistent database connections as CONN_MAX_AGE would give in production.
"""

import os
import warnings

import dj_database_url

from portal.settings import *  # noqa: F403
from portal.settings import BASE_DIR, DATABASES, TEMPLATES

DEBUG = False
# The benchmarks sync from feeds they serve on 127.0.0.1, as the tests and the demo do.
SYNC_ALLOW_PRIVATE_ADDRESSES = True
# WhiteNoise serves collected files when DEBUG is off; the benchmarks request no static file.
warnings.filterwarnings("ignore", "No directory at", UserWarning)
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "bench.urls"
TEMPLATES[0]["DIRS"] = [*TEMPLATES[0]["DIRS"], BASE_DIR / "bench" / "templates"]

if os.environ.get("BENCH_DATABASE_URL"):
    DATABASES["default"] = dj_database_url.parse(os.environ["BENCH_DATABASE_URL"], conn_max_age=600)
else:
    DATABASES["default"]["CONN_MAX_AGE"] = 600

# Like the portal, a per-process memory cache by default; BENCH_CACHE_URL=redis://... shares
# one between the gunicorn workers, as a production deployment would.
if os.environ.get("BENCH_CACHE_URL"):
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": os.environ["BENCH_CACHE_URL"]}
    }

# The dispatcher benchmark enqueues into this broker: memory:// unless told otherwise.
CELERY_BROKER_URL = os.environ.get("BENCH_BROKER_URL", "memory://")
CELERY_BROKER_TRANSPORT_OPTIONS = {}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

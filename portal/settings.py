"""Settings for the GPU capacity marketplace, all read from the environment.

Defaults run a local, self-contained portal (SQLite, an embedded Celery broker on the
filesystem, console e-mail). Production sets ``DJANGO_ENV=production`` and the variables
documented in the README; system checks refuse an unsafe production configuration.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import schedule
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from portal.logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
RUN_DIR = Path(os.environ.get("RUN_DIR", BASE_DIR / ".run"))


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean, got {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from None


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


PRODUCTION = env_str("DJANGO_ENV", "development") == "production"
# Off unless asked for, everywhere: `make run` asks for it; a server that forgot DJANGO_ENV does not.
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "" if PRODUCTION else "dev-only-insecure-secret-key-change-me")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set in production")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_filters",
    "django_countries",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "simple_history",
    "providers",
    "marketplace",
    "accounts",
    "sync",
    "deals",
    "dashboard",
    "api",
]

MIDDLEWARE = [
    "portal.logging.RequestIdMiddleware",
    "portal.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "portal.middleware.QueryLimitsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "portal.middleware.DatabaseUnavailableMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# SQLite by default (``make run``); PostgreSQL with DATABASE_URL=postgres://...
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("CONN_MAX_AGE", 0),
        # A kept connection is checked before a request or task uses it: after a PostgreSQL
        # restart the first request reconnects instead of failing.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, the worker and beat share one file: wait for locks, write-ahead log.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out username and address before the password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
# Login throttling: this many failures for one username from one address lock that pair out for
# AXES_COOLOFF_MINUTES (a success resets the count). Failures are kept in the database.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "portal.lib.ratelimit.client_ip"
AXES_VERBOSE = False
# Web requests come through this many proxies that append to X-Forwarded-For (0: none, the
# client connects directly). Rate limits and lockouts count by the address they saw.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
# Requests per client and period (s, m, h, d), beyond which the answer is 429 (portal/lib/ratelimit.py).
RATE_LIMITS = {
    "login": env_str("RATE_LIMIT_LOGIN", "30/m"),
    "signup": env_str("RATE_LIMIT_SIGNUP", "5/h"),
    "password_reset": env_str("RATE_LIMIT_PASSWORD_RESET", "5/h"),
    "provider_application": env_str("RATE_LIMIT_PROVIDER_APPLICATION", "5/h"),
    "connection_test": env_str("RATE_LIMIT_CONNECTION_TEST", "10/m"),
}
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:home"
LOGOUT_REDIRECT_URL = "marketplace:catalog"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Outside production WhiteNoise serves straight from static/ (no collectstatic needed).
WHITENOISE_USE_FINDERS = not PRODUCTION
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# E-mail (Django 6.1 MAILERS). Development prints e-mails on the console; production sends them
# over SMTP: EMAIL_HOST (with STARTTLS on 587 by default), or a local MTA on localhost:25.
if PRODUCTION or os.environ.get("EMAIL_HOST"):
    _smtp_relay = bool(os.environ.get("EMAIL_HOST"))
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": env_str("EMAIL_HOST", "localhost"),
                "port": env_int("EMAIL_PORT", 587 if _smtp_relay else 25),
                "username": env_str("EMAIL_HOST_USER", ""),
                "password": env_str("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", _smtp_relay),
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "GPU Marketplace <noreply@localhost>")

# Load balancers and Prometheus often ask over plain HTTP inside the network: answered, not
# redirected to HTTPS (production's SECURE_REDIRECT_EXEMPT).
PLAIN_HTTP_PATHS = [r"^healthz$", r"^metrics$"]
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = PLAIN_HTTP_PATHS
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True

# LOG_FORMAT=json: one JSON object per line, with request_id and task_id (portal/logging.py).
LOG_FORMAT = env_str("LOG_FORMAT", "text")
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be text or json, got {LOG_FORMAT!r}")
LOGGING = logging_config(level=env_str("LOG_LEVEL", "INFO"), json=LOG_FORMAT == "json")
# Celery workers keep this configuration instead of installing their own handlers.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- The JSON API (api/, docs in README) ---------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.ProviderToken"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Per client address without a token, per token with one: counters live in the cache, so
    # set CACHE_URL (Redis) to share them between web processes in production.
    "DEFAULT_THROTTLE_CLASSES": ["api.authentication.PublicRateThrottle", "api.authentication.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "120/minute"),
        "push": env_str("API_THROTTLE_PUSH", "60/minute"),
    },
    "UNAUTHENTICATED_USER": None,
    # The client's address behind proxies, as the site's own rate limits read it.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT or None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "GPU capacity marketplace API",
    "DESCRIPTION": "The catalog's offers, GPU models, providers and countries; providers push their inventory.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Swagger UI and Redoc from drf-spectacular-sidecar's static files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Celery -------------------------------------------------------------------------------
# Without CELERY_BROKER_URL the worker and beat talk through files under .run/ (no Redis).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _queue_dir = RUN_DIR / "broker"
    # Every process may send tasks (the web server, load_demo, the worker): the folders must exist.
    for _folder in ("processed", "control"):
        (_queue_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_queue_dir / "processed"),
        "control_folder": str(_queue_dir / "control"),
        "store_processed": False,
    }
else:
    # Redis redelivers a task left unacknowledged by a dead worker after this many seconds (longer
    # than any task's time limit); tests shorten it. See "Sync engine" in docs/architecture.md.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {"sync.tasks.sync_connection_task": {"queue": "sync"}}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(RUN_DIR / "celerybeat-schedule")
# One schedule, in code. Per-connection intervals are data, read by the dispatcher.
CELERY_BEAT_SCHEDULE = {
    "dispatch-due-syncs": {
        "task": "sync.tasks.dispatch_due_syncs",
        "schedule": schedule(env_int("SYNC_DISPATCH_EVERY_SECONDS", 15)),
    },
    # Staleness is a status (marketplace.services.offers_mark_stale): set within this many seconds.
    "mark-stale-offers": {
        "task": "marketplace.tasks.offers_mark_stale_task",
        "schedule": schedule(env_int("SYNC_DISPATCH_EVERY_SECONDS", 15)),
    },
    # Saved-search alerts: evaluated after syncs too (deals/receivers.py); this is the backstop.
    "evaluate-alerts": {"task": "deals.tasks.alerts_evaluate_task", "schedule": schedule(60)},
    "send-alerts": {"task": "deals.tasks.alerts_send_task", "schedule": schedule(300)},
    "expire-requests": {"task": "deals.tasks.requests_expire_task", "schedule": schedule(3600)},
    "expire-quotes": {"task": "deals.tasks.quotes_expire_task", "schedule": schedule(3600)},
    # Providers are e-mailed 30 days before a verified certification expires (once per date).
    "certification-expiry-notify": {
        "task": "providers.tasks.certification_expiry_notify_task",
        "schedule": schedule(env_int("CERTIFICATION_EXPIRY_CHECK_EVERY_SECONDS", 24 * 3600)),
    },
}

# --- Marketplace rules ----------------------------------------------------------------------
# A synced offer is stale when not verified within this many of its connection's intervals.
STALE_AFTER_INTERVALS = env_int("STALE_AFTER_INTERVALS", 3)
# ...and never sooner than this (seconds), so a 30 s demo interval does not flap.
STALE_AFTER_MIN_SECONDS = env_int("STALE_AFTER_MIN_SECONDS", 300)
# A manually entered offer must be re-confirmed by its provider within this many seconds.
MANUAL_OFFER_STALE_AFTER_SECONDS = env_int("MANUAL_OFFER_STALE_AFTER_SECONDS", 7 * 24 * 3600)
CATALOG_PAGE_SIZE = env_int("CATALOG_PAGE_SIZE", 50)
# What one request may ask for (portal/middleware.py): longer query strings, and more values for
# one parameter, are refused with a 400 before any view or query runs.
MAX_QUERY_STRING_BYTES = env_int("MAX_QUERY_STRING_BYTES", 2048)
MAX_VALUES_PER_PARAMETER = env_int("MAX_VALUES_PER_PARAMETER", 50)
# PostgreSQL cancels a public page's query after this (ms; 0: no limit); the page answers 503.
CATALOG_STATEMENT_TIMEOUT_MS = env_int("CATALOG_STATEMENT_TIMEOUT_MS", 5000)
# The currency the catalog shows prices in when none is chosen, and those offered first in its
# currency menu (then every other currency with an exchange rate).
CATALOG_CURRENCY = env_str("CATALOG_CURRENCY", "USD")
CATALOG_CURRENCIES = env_list("CATALOG_CURRENCIES", "USD,EUR")
# How long the catalog's facet counts, total and choice lists may be reused (0: never); the rows
# are always live. See docs/performance.md.
CATALOG_CACHE_SECONDS = env_int("CATALOG_CACHE_SECONDS", 30)
# The catalog's facet counts are cached; with several web workers, share them through Redis.
_cache_url = env_str("CACHE_URL", "")
CACHES = {
    # Fail-safe: with Redis down, pages compute what they would have cached (portal/lib/cache.py).
    "default": {
        "BACKEND": "portal.lib.cache.FailSafeRedisCache",
        "LOCATION": _cache_url,
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
    if _cache_url.startswith(("redis://", "rediss://"))
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

# Catalog searches are counted per GPU model and country for providers' demand insights; each
# process writes its counts this often (seconds).
DEMAND_FLUSH_SECONDS = env_int("DEMAND_FLUSH_SECONDS", 30)

# --- Capacity requests and alerts ---------------------------------------------------------------
# A developer may have this many open requests at once (providers' time is not free).
REQUESTS_MAX_OPEN_PER_DEVELOPER = env_int("REQUESTS_MAX_OPEN_PER_DEVELOPER", 5)
# At most one alert e-mail per saved search this often (seconds): a digest of what matched.
ALERT_DIGEST_SECONDS = env_int("ALERT_DIGEST_SECONDS", 3600)
# --- Exchange rates (marketplace/fx.py) -------------------------------------------------------
# Production fetches the ECB's daily reference rates (a periodic task, below); the demo and the
# tests use the snapshot that migrations load, with no network.
FX_FETCH_ENABLED = env_bool("FX_FETCH_ENABLED", PRODUCTION)
FX_RATES_URL = env_str("FX_RATES_URL", "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml")
FX_REFRESH_EVERY_SECONDS = env_int("FX_REFRESH_EVERY_SECONDS", 3 * 3600)
# Rates older than this many days are flagged as stale (the ECB skips weekends and holidays).
FX_STALE_AFTER_DAYS = env_int("FX_STALE_AFTER_DAYS", 4)
if FX_FETCH_ENABLED:
    CELERY_BEAT_SCHEDULE["exchange-rates-refresh"] = {
        "task": "marketplace.tasks.exchange_rates_refresh_task",
        "schedule": schedule(FX_REFRESH_EVERY_SECONDS),
    }

# --- Sync engine ----------------------------------------------------------------------------
SYNC_CONNECT_TIMEOUT = float(env_str("SYNC_CONNECT_TIMEOUT", "5"))
SYNC_READ_TIMEOUT = float(env_str("SYNC_READ_TIMEOUT", "20"))
SYNC_MAX_RESPONSE_BYTES = env_int("SYNC_MAX_RESPONSE_BYTES", 50 * 1024 * 1024)
# A connection failing this many times in a row is paused (and its provider e-mailed).
SYNC_PAUSE_AFTER_FAILURES = env_int("SYNC_PAUSE_AFTER_FAILURES", 8)
# Only tests (portal/settings_test.py) and the local demo (`make run`) may sync from loopback or
# private addresses: an explicit opt-in, off by default everywhere, refused in production.
SYNC_ALLOW_PRIVATE_ADDRESSES = env_bool("SYNC_ALLOW_PRIVATE_ADDRESSES", False)
# A sync that would withdraw more than this share of a connection's active offers at once is held
# back as suspicious (a broken or empty feed), unless the feed says "withdraw_all": true.
SYNC_WITHDRAW_GUARD_SHARE = float(env_str("SYNC_WITHDRAW_GUARD_SHARE", "0.5"))
# A provider has at most this many connections: each one makes workers fetch on its schedule.
SYNC_MAX_CONNECTIONS_PER_PROVIDER = env_int("SYNC_MAX_CONNECTIONS_PER_PROVIDER", 10)
# "Test connection" runs in a worker and gives up after this many seconds (someone is waiting).
CONNECTION_TEST_TIMEOUT_SECONDS = env_int("CONNECTION_TEST_TIMEOUT_SECONDS", 20)
# Fernet keys (comma-separated, newest first) for provider API credentials at rest.
CREDENTIALS_KEYS = env_list("CREDENTIALS_KEYS", "")

# --- Operations -------------------------------------------------------------------------------
# /metrics answers only with "Authorization: Bearer <METRICS_TOKEN>" when this is set.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
# /healthz says "degraded" when beat's dispatcher has not run for this long (seconds).
HEALTH_BEAT_MAX_AGE_SECONDS = env_int("HEALTH_BEAT_MAX_AGE_SECONDS", 120)

# --- Demo -----------------------------------------------------------------------------------
DEMO_ENABLED = env_bool("DEMO_ENABLED", not PRODUCTION)
if DEMO_ENABLED:
    INSTALLED_APPS.append("demo")

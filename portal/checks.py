"""What a production deployment must have, checked twice: by ``check --deploy``, and when a web,
worker or beat process starts (``refuse_unsafe_production``), so a process with an unsafe or
incomplete configuration never serves a request or runs a task."""

from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured


def production_problems() -> list[tuple[str, str]]:
    """(check id, message) for every setting production needs and does not have; [] outside production."""
    if not settings.PRODUCTION:
        return []
    database = settings.DATABASES["default"]["ENGINE"]
    problems = [
        (
            settings.SYNC_ALLOW_PRIVATE_ADDRESSES,
            "portal.E001",
            "SYNC_ALLOW_PRIVATE_ADDRESSES must be off in production.",
        ),
        (not settings.CREDENTIALS_KEYS, "portal.E002", "CREDENTIALS_KEYS must be set in production."),
        (settings.DEMO_ENABLED, "portal.E003", "DEMO_ENABLED must be off in production."),
        (settings.DEBUG, "portal.E004", "DEBUG must be off in production."),
        (not settings.ALLOWED_HOSTS, "portal.E005", "ALLOWED_HOSTS must be set in production."),
        (
            database != "django.db.backends.postgresql",
            "portal.E006",
            "DATABASE_URL must be a PostgreSQL URL in production (postgres://...).",
        ),
        (
            not settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")),
            "portal.E007",
            "CELERY_BROKER_URL must be a Redis URL in production (redis://...).",
        ),
        (
            "redis" not in settings.CACHES["default"]["BACKEND"].lower(),
            "portal.E008",
            "CACHE_URL must be a Redis URL in production: rate limits are shared through it.",
        ),
    ]
    return [(check_id, message) for failed, check_id, message in problems if failed]


@register(deploy=True)
def production_settings_check(app_configs, **kwargs):
    return [Error(message, id=check_id) for check_id, message in production_problems()]


def refuse_unsafe_production() -> None:
    """Raise ImproperlyConfigured, naming every problem, unless production is configured safely."""
    problems = production_problems()
    if problems:
        lines = "\n".join(f"- {message} ({check_id})" for check_id, message in problems)
        raise ImproperlyConfigured(f"Refusing to start: the production configuration is unsafe or incomplete.\n{lines}")

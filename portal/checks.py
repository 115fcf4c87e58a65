from django.conf import settings
from django.core.checks import Error, register


@register(deploy=True)
def production_settings_check(app_configs, **kwargs):
    errors = []
    if settings.PRODUCTION and settings.SYNC_ALLOW_PRIVATE_ADDRESSES:
        errors.append(Error("SYNC_ALLOW_PRIVATE_ADDRESSES must be off in production.", id="portal.E001"))
    if settings.PRODUCTION and not settings.CREDENTIALS_KEYS:
        errors.append(Error("CREDENTIALS_KEYS must be set in production.", id="portal.E002"))
    if settings.PRODUCTION and settings.DEMO_ENABLED:
        errors.append(Error("DEMO_ENABLED must be off in production.", id="portal.E003"))
    return errors

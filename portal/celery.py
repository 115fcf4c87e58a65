import logging
import os

from celery import Celery
from celery.signals import beat_init, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@beat_init.connect
def _refuse_unsafe_production(**kwargs) -> None:
    """A production worker or beat with an unsafe or incomplete configuration does not start.

    SystemExit, because Celery logs and swallows any Exception a signal handler raises.
    """
    from django.core.exceptions import ImproperlyConfigured

    from portal.checks import refuse_unsafe_production

    try:
        refuse_unsafe_production()
    except ImproperlyConfigured as error:
        logging.getLogger(__name__).critical("%s", error)
        raise SystemExit(str(error)) from None

"""Whether the Celery broker can take a message now, asked without waiting long."""

import logging

from celery import current_app
from django.conf import settings

logger = logging.getLogger(__name__)


def queue_available(*, timeout: float = 1.0) -> bool:
    """True if a connection to the broker opens within ``timeout`` seconds.

    A web request that enqueues work asks first, so that with the broker down it answers at once
    ("the queue is unavailable") instead of retrying to publish for seconds and failing with a 500.
    """
    try:
        with current_app.connection_for_write(settings.CELERY_BROKER_URL) as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout)
    except Exception as error:  # kombu raises the transport's own errors: any failure means "not now"
        logger.warning("the task queue is unavailable: %s", error)
        return False
    return True

"""Celery tasks of the providers app: thin wrappers around one service each."""

import logging

from celery import shared_task

from providers.services import certification_expiry_notify

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def certification_expiry_notify_task() -> int:
    """E-mail providers whose verified certifications expire within 30 days (beat runs it daily).

    Safe to run twice: each record is mailed once per validity date.
    """
    notified = certification_expiry_notify()
    logger.info("certification expiry: %s records notified", notified)
    return notified

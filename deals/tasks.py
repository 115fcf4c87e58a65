"""Periodic Celery tasks of the deals app (settings.CELERY_BEAT_SCHEDULE): expiry and alerts.

Thin: they call one service each and are safe to run twice. The e-mail tasks the services
enqueue are in deals/notifications.py (imported here, so that workers register them).
"""

import logging

from celery import shared_task
from django.utils import timezone

from deals import emails, notifications, services  # noqa: F401  (notifications: registers its tasks)

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def requests_expire_task() -> int:
    return services.requests_expire()


@shared_task(ignore_result=True)
def quotes_expire_task() -> int:
    return services.quotes_expire()


@shared_task(ignore_result=True)
def alerts_evaluate_task() -> int:
    """Record the saved-search matches of every change since the last run, then send what is due."""
    matched, read = 0, True
    while read:
        read, found = services.alerts_evaluate()
        matched += found
    if matched:
        alerts_send_task.delay()
    return matched


@shared_task(ignore_result=True, acks_late=True)
def alerts_send_task() -> int:
    """One digest e-mail per saved search that has new matches and no e-mail in the last hour.

    A match is marked sent in the same transaction that claims it, before the e-mail goes: a
    redelivered task sends nothing twice (a mail server failing then loses that digest; it is
    logged).
    """
    now, sent = timezone.now(), 0
    for search_id in services.alerts_due(now=now):
        claimed = services.alert_digest_claim(search_id=search_id, now=now)
        if claimed is None:
            continue
        search, matches = claimed
        try:
            sent += emails.alert_digest(search=search, matches=matches, user=search.user)
        except Exception:
            logger.exception("alert e-mail of saved search %s could not be sent", search_id)
    return sent

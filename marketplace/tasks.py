"""Celery tasks of the marketplace: thin wrappers around one service each."""

import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from marketplace.services import exchange_rates_refresh, offers_mark_stale
from portal.lib.http import GuardedClient

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def exchange_rates_refresh_task() -> int:
    """Fetch the ECB's daily reference rates and re-price offers (beat runs it in production).

    Safe to run twice: the same day's rates change nothing. A failure leaves the table as it was;
    the admin flags the rates as stale once they are older than FX_STALE_AFTER_DAYS.
    """
    with GuardedClient() as client:
        repriced = exchange_rates_refresh(client=client, url=settings.FX_RATES_URL, now=timezone.now())
    logger.info("exchange rates refreshed: %s offers re-priced", repriced)
    return repriced


@shared_task(ignore_result=True)
def offers_mark_stale_task() -> int:
    """Turn stale the offers whose verification expired (beat runs it every few seconds)."""
    marked = offers_mark_stale(now=timezone.now())
    if marked:
        logger.info("%s offers turned stale", marked)
    return marked

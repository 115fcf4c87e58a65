"""Reacting to offers changing: evaluate saved-search alerts soon after (deals/tasks.py)."""

from django.core.cache import cache
from django.db import transaction
from django.dispatch import receiver

from marketplace.signals import offers_changed

# Many syncs may end within seconds (every demo partner, every 30 s): one evaluation covers all
# the snapshots written so far, so at most one is queued per this many seconds.
ALERTS_DEBOUNCE_SECONDS = 10


@receiver(offers_changed, dispatch_uid="deals.alerts_soon")
def alerts_soon(sender, **kwargs):
    def enqueue():
        if cache.add("deals:alerts-queued", True, ALERTS_DEBOUNCE_SECONDS):
            from deals.tasks import alerts_evaluate_task  # tasks import the services: load lazily

            alerts_evaluate_task.delay()

    transaction.on_commit(enqueue, robust=True)

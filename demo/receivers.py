"""The demo reacts to requests being routed: its partners answer a few seconds later."""

from django.dispatch import receiver

from deals.signals import request_routed
from demo.quotes import AUTOMATIC
from demo.tasks import demo_quotes_task
from providers.models import Provider

# Long enough for a newcomer to see "no quote yet" first, short enough to wait for.
ANSWER_AFTER_SECONDS = 5


@receiver(request_routed, dispatch_uid="demo.partners_answer")
def partners_answer(sender, request_id: int, provider_ids: list[int], **kwargs):
    partners = Provider.objects.filter(pk__in=provider_ids, slug__in=AUTOMATIC).values_list("pk", flat=True)
    if partners := list(partners):
        demo_quotes_task.apply_async((request_id, partners), countdown=ANSWER_AFTER_SECONDS)

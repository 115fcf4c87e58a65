"""The demo reacts to requests being routed: its partners answer a few seconds later."""

from django.dispatch import receiver

from deals.signals import request_routed
from demo.partners import PARTNERS_BY_SLUG
from providers.models import Provider

# Long enough for a newcomer to see "no quote yet" first, short enough to wait for.
ANSWER_AFTER_SECONDS = 5


@receiver(request_routed, dispatch_uid="demo.partners_answer")
def partners_answer(sender, request_id: int, provider_ids: list[int], **kwargs):
    partners = list(
        Provider.objects.filter(pk__in=provider_ids, slug__in=PARTNERS_BY_SLUG).values_list("pk", flat=True)
    )
    if partners:
        from demo.tasks import demo_quotes_task

        demo_quotes_task.apply_async((request_id, partners), countdown=ANSWER_AFTER_SECONDS)

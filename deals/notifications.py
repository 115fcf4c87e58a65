"""The e-mail tasks the deals services enqueue on commit: each takes ids, re-fetches, e-mails.

A task whose object is gone does nothing; running one twice sends its e-mail twice (they tell
of a state change, which the pages show too).
"""

from celery import shared_task

from deals import emails
from deals.models import Agreement, CapacityRequest, Message, Quote, Recipient
from providers.models import Provider


@shared_task(ignore_result=True)
def request_routed_notify(request_id: int, provider_ids: list[int]) -> int:
    request = CapacityRequest.objects.filter(pk=request_id).first()
    if request is None:
        return 0
    return sum(
        emails.request_routed(request=request, provider=provider)
        for provider in Provider.objects.filter(pk__in=provider_ids)
    )


@shared_task(ignore_result=True)
def request_withdrawn_notify(request_id: int) -> int:
    request = CapacityRequest.objects.filter(pk=request_id).first()
    if request is None:
        return 0
    reached = request.recipients.exclude(status=Recipient.Status.DECLINED).select_related("provider")
    return sum(emails.request_withdrawn(request=request, provider=recipient.provider) for recipient in reached)


@shared_task(ignore_result=True)
def request_expired_notify(request_id: int) -> int:
    request = CapacityRequest.objects.filter(pk=request_id).select_related("developer").first()
    return emails.request_expired(request=request) if request else 0


@shared_task(ignore_result=True)
def recipient_declined_notify(recipient_id: int) -> int:
    recipient = Recipient.objects.filter(pk=recipient_id).select_related("request__developer", "provider").first()
    return emails.recipient_declined(recipient=recipient) if recipient else 0


@shared_task(ignore_result=True)
def quote_received_notify(quote_id: int) -> int:
    quote = Quote.objects.filter(pk=quote_id).select_related("request__developer", "provider").first()
    return emails.quote_received(quote=quote) if quote else 0


@shared_task(ignore_result=True)
def quote_accepted_notify(agreement_id: int) -> int:
    agreement = Agreement.objects.filter(pk=agreement_id).select_related("request__developer", "provider").first()
    return emails.quote_accepted(agreement=agreement) if agreement else 0


@shared_task(ignore_result=True)
def quote_declined_notify(quote_id: int) -> int:
    quote = Quote.objects.filter(pk=quote_id).select_related("request", "provider").first()
    return emails.quote_declined(quote=quote) if quote else 0


@shared_task(ignore_result=True)
def quote_expired_notify(quote_id: int) -> int:
    quote = Quote.objects.filter(pk=quote_id).select_related("request__developer", "provider").first()
    return emails.quote_expired(quote=quote) if quote else 0


@shared_task(ignore_result=True)
def message_notify(message_id: int) -> int:
    message = Message.objects.filter(pk=message_id).select_related("request__developer", "provider").first()
    return emails.message_posted(message=message) if message else 0

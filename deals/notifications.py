"""The e-mail task the deals services enqueue on commit: it takes a kind and an id, re-fetches,
and sends the e-mails of deals/emails.py.

An object that is gone sends nothing; running a notification twice sends its e-mail twice
(they tell of a state change, which the pages show too).
"""

from celery import shared_task

from deals import emails
from deals.models import Agreement, CapacityRequest, Message, Quote, Recipient

# kind -> (model, relations to read with it, the e-mails to send about it)
NOTIFICATIONS = {
    "request_routed": (CapacityRequest, ["developer"], emails.request_routed),
    "request_withdrawn": (CapacityRequest, ["developer"], emails.request_withdrawn),
    "request_expired": (CapacityRequest, ["developer"], emails.request_expired),
    "recipient_declined": (Recipient, ["request__developer", "provider"], emails.recipient_declined),
    "quote_received": (Quote, ["request__developer", "provider"], emails.quote_received),
    "quote_accepted": (Agreement, ["request__developer", "provider"], emails.quote_accepted),
    "quote_declined": (Quote, ["request", "provider"], emails.quote_declined),
    "quote_expired": (Quote, ["request__developer", "provider"], emails.quote_expired),
    "message": (Message, ["request__developer", "provider"], emails.message_posted),
}


@shared_task(ignore_result=True)
def notify(kind: str, pk: int, *args) -> int:
    """Send the ``kind`` e-mails about object ``pk``; returns how many messages went out."""
    model, related, send = NOTIFICATIONS[kind]
    obj = model.objects.select_related(*related).filter(pk=pk).first()
    return send(obj, *args) if obj is not None else 0

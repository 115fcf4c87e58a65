"""The e-mail task providers/services.py enqueues on commit: it takes a kind and a provider id,
re-fetches, and sends the e-mails of providers/emails.py.

A provider that is gone sends nothing; running a notification twice sends its e-mails twice
(they tell of a status change, which the dashboard and the admin show too).
"""

from celery import shared_task

from providers import emails
from providers.models import Provider

NOTIFICATIONS = {
    "application_received": emails.application_received,
    "provider_approved": emails.provider_approved,
    "provider_suspended": emails.provider_suspended,
}


@shared_task(ignore_result=True)
def notify(kind: str, provider_id: int) -> int:
    """Send the ``kind`` e-mails about provider ``provider_id``; returns how many messages went out."""
    provider = Provider.objects.filter(pk=provider_id).first()
    return NOTIFICATIONS[kind](provider) if provider is not None else 0

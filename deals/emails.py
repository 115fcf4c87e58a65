"""The e-mails of the deals app: who is told what when a request, quote or message changes.

Plain text, rendered from templates/emails/deals/*.txt; sent by the tasks in deals/tasks.py.
Each function returns the number of messages sent (0 when there is no one to write to).
"""

from django.contrib.auth.models import User
from django.core import signing
from django.core.mail import EmailMessage, send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from deals.models import Agreement, AlertMatch, CapacityRequest, Message, Quote, Recipient, SavedSearch
from portal.lib.urls import site_url
from providers.models import Provider
from providers.selectors import provider_contact_addresses

UNSUBSCRIBE_SALT = "deals.unsubscribe"


def _send(subject: str, template: str, context: dict, recipients: list[str]) -> int:
    if not recipients:
        return 0
    body = render_to_string(f"emails/deals/{template}.txt", context)
    return send_mail(subject, body, None, recipients)


def _developer(request: CapacityRequest) -> list[str]:
    return [request.developer.email] if request.developer.email and request.developer.is_active else []


def request_summary(request: CapacityRequest) -> str:
    """ "64 GPUs (H100 SXM 80GB) from 2027-03-01 to 2027-06-01" for subjects and bodies."""
    gpus = ", ".join(gpu.name for gpu in request.gpu_models.all()) or _("%(gb)s GB or more") % {
        "gb": request.min_gpu_memory_gb
    }
    return _("%(count)s GPUs (%(gpus)s) from %(start)s to %(end)s") % {
        "count": request.gpu_count,
        "gpus": gpus,
        "start": request.start_date.isoformat(),
        "end": request.end_date.isoformat(),
    }


def request_routed(request: CapacityRequest, provider_ids: list[int]) -> int:
    """Each provider the request just reached: what is asked, and where to answer."""
    sent = 0
    subject = _("New capacity request: %(summary)s") % {"summary": request_summary(request)}
    for provider in Provider.objects.filter(pk__in=provider_ids):
        link = site_url(reverse("dashboard:request_detail", args=[provider.slug, request.pk]))
        context = {"request": request, "summary": request_summary(request), "provider": provider, "link": link}
        sent += _send(subject, "request_routed", context, provider_contact_addresses(provider=provider))
    return sent


def request_withdrawn(request: CapacityRequest) -> int:
    """Every provider it reached and that did not decline."""
    sent = 0
    subject = _("Capacity request #%(id)s was withdrawn") % {"id": request.pk}
    for recipient in request.recipients.exclude(status=Recipient.Status.DECLINED).select_related("provider"):
        context = {"request": request, "summary": request_summary(request), "provider": recipient.provider}
        sent += _send(subject, "request_withdrawn", context, provider_contact_addresses(provider=recipient.provider))
    return sent


def request_expired(request: CapacityRequest) -> int:
    subject = _("Your capacity request #%(id)s has expired") % {"id": request.pk}
    link = site_url(request.get_absolute_url())
    return _send(subject, "request_expired", {"request": request, "link": link}, _developer(request))


def recipient_declined(recipient: Recipient) -> int:
    request = recipient.request
    subject = _("%(provider)s cannot serve your request #%(id)s") % {"provider": recipient.provider, "id": request.pk}
    context = {"request": request, "recipient": recipient, "link": site_url(request.get_absolute_url())}
    return _send(subject, "recipient_declined", context, _developer(request))


def quote_received(quote: Quote) -> int:
    request = quote.request
    subject = _("A quote from %(provider)s for your request #%(id)s") % {"provider": quote.provider, "id": request.pk}
    context = {"request": request, "quote": quote, "link": site_url(request.get_absolute_url())}
    return _send(subject, "quote_received", context, _developer(request))


def quote_accepted(agreement: Agreement) -> int:
    """Both sides, each with the other's contact: the contract is theirs from here."""
    request, provider = agreement.request, agreement.provider
    subject = _("Agreement #%(id)s: %(provider)s and %(organisation)s") % {
        "id": agreement.pk,
        "provider": provider.name,
        "organisation": agreement.developer_organisation,
    }
    to_provider = {
        "agreement": agreement,
        "request": request,
        "link": site_url(reverse("dashboard:agreement_detail", args=[provider.slug, agreement.pk])),
    }
    to_developer = {
        "agreement": agreement,
        "request": request,
        "link": site_url(reverse("deals:agreement_detail", args=[agreement.pk])),
    }
    sent = _send(subject, "quote_accepted_provider", to_provider, provider_contact_addresses(provider=provider))
    return sent + _send(subject, "quote_accepted_developer", to_developer, _developer(request))


def quote_declined(quote: Quote) -> int:
    subject = _("Your quote for request #%(id)s was declined") % {"id": quote.request_id}
    link = site_url(reverse("dashboard:request_detail", args=[quote.provider.slug, quote.request_id]))
    context = {"quote": quote, "request": quote.request, "link": link}
    return _send(subject, "quote_declined", context, provider_contact_addresses(provider=quote.provider))


def quote_expired(quote: Quote) -> int:
    subject = _("A quote for your request #%(id)s has expired") % {"id": quote.request_id}
    context = {"quote": quote, "request": quote.request, "link": site_url(quote.request.get_absolute_url())}
    return _send(subject, "quote_expired", context, _developer(quote.request))


def message_posted(message: Message) -> int:
    request, provider = message.request, message.provider
    subject = _("New message about capacity request #%(id)s") % {"id": request.pk}
    if message.from_provider:
        link, recipients = site_url(request.get_absolute_url()), _developer(request)
    else:
        link = site_url(reverse("dashboard:request_detail", args=[provider.slug, request.pk]))
        recipients = provider_contact_addresses(provider=provider)
    context = {"message": message, "request": request, "provider": provider, "link": link}
    return _send(subject, "message", context, recipients)


def unsubscribe_token(search: SavedSearch) -> str:
    return signing.dumps(search.pk, salt=UNSUBSCRIBE_SALT)


def unsubscribe_search(token: str) -> SavedSearch | None:
    try:
        return SavedSearch.objects.filter(pk=signing.loads(token, salt=UNSUBSCRIBE_SALT)).first()
    except signing.BadSignature:
        return None


def alert_digest(*, search: SavedSearch, matches: list[AlertMatch], user: User) -> int:
    """One e-mail with every new match of a saved search, and a link that stops its alerts."""
    unsubscribe = site_url(reverse("deals:search_unsubscribe", args=[unsubscribe_token(search)]))
    context = {
        "search": search,
        "matches": matches,
        "search_link": site_url(search.get_absolute_url()),
        "unsubscribe": unsubscribe,
        "site": site_url(),
    }
    subject = ngettext(
        "%(count)s new match for your search “%(name)s”",
        "%(count)s new matches for your search “%(name)s”",
        len(matches),
    ) % {"count": len(matches), "name": search.name}
    if not user.email:
        return 0
    message = EmailMessage(
        subject,
        render_to_string("emails/deals/alert_digest.txt", context),
        None,
        [user.email],
        # One-click unsubscribe for mail clients (RFC 8058): they POST to the link.
        headers={"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )
    return message.send()

"""Demo behaviour: demo partners answer capacity requests by themselves, from their listed price.

Marked as such everywhere (Quote.automatic, "demo: automatic" beside the quote, and its terms):
real providers answer by hand on their dashboard. Only installed with the demo app.
"""

from datetime import timedelta

from django.utils import timezone

from deals import services as deal_services
from deals.models import CapacityRequest, Quote, Recipient
from demo.partners import PARTNERS_BY_SLUG, PROVIDER_USER_PARTNER

# The partners that answer by themselves.
AUTOMATIC = frozenset(PARTNERS_BY_SLUG) - {PROVIDER_USER_PARTNER}
TERMS = (
    "Demo partner: an automatic quote from the listed price of the offer below, to show the flow. "
    "A real provider answers on its dashboard, with its own terms."
)


def demo_quote(*, recipient: Recipient) -> Quote | None:
    """The demo partner's quote for a request routed to it: its cheapest matching listed offer's
    price for the whole request; None if it does not answer by itself or lists no such offer."""
    capacity_request = recipient.request
    if recipient.provider.slug not in AUTOMATIC or not capacity_request.is_open:
        return None
    offer = (
        deal_services.matching_offers(capacity_request)
        .filter(provider_id=recipient.provider_id)
        .order_by("price_per_gpu_hour", "id")
        .first()
    )
    if offer is None:
        return None
    return deal_services.quote_submit(
        recipient=recipient,
        author=None,
        automatic=True,
        price_per_gpu_hour=offer.price_per_gpu_hour,
        currency=offer.currency,
        gpu_count=capacity_request.gpu_count,
        start_date=capacity_request.start_date,
        end_date=capacity_request.end_date,
        valid_until=min(capacity_request.start_date, timezone.localdate() + timedelta(days=7)),
        terms=TERMS,
        offer=offer,
    )


def demo_quotes(*, request_id: int, provider_ids: list[int] | None = None) -> list[Quote]:
    """Every demo partner the request reached answers (or those of ``provider_ids``)."""
    capacity_request = CapacityRequest.objects.filter(pk=request_id).first()
    if capacity_request is None:
        return []
    recipients = capacity_request.recipients.select_related("provider", "request").filter(
        status__in=[Recipient.Status.NEW, Recipient.Status.SEEN]
    )
    if provider_ids is not None:
        recipients = recipients.filter(provider_id__in=provider_ids)
    return [quote for recipient in recipients if (quote := demo_quote(recipient=recipient))]

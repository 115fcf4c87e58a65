"""Helpers for the deals tests: a verified developer, requests, quotes."""

from datetime import timedelta

from django.utils import timezone

from accounts.services import email_mark_verified
from deals import services
from deals.models import CapacityRequest, Quote, Recipient
from marketplace.models import GpuModel

TODAY = timezone.localdate()


def verified(user):
    email_mark_verified(user=user)
    return user


def request_values(**changes) -> dict:
    """A valid request: 64 H100 SXM in the EU from next month for three months."""
    start = TODAY + timedelta(days=30)
    values = {
        "organisation": "Dave's Lab",
        "gpu_models": [GpuModel.objects.get(slug="h100-sxm")],
        "gpu_count": 64,
        "country_groups": ["eu"],
        "start_date": start,
        "end_date": start + timedelta(days=90),
    }
    values.update(changes)
    return values


def file_request(developer, **changes) -> CapacityRequest:
    return services.request_file(developer=verified(developer), **request_values(**changes))


def quote_values(request: CapacityRequest, **changes) -> dict:
    values = {
        "price_per_gpu_hour": "2.10",
        "currency": "USD",
        "gpu_count": request.gpu_count,
        "start_date": request.start_date,
        "end_date": request.end_date,
        "valid_until": TODAY + timedelta(days=7),
        "terms": "Monthly invoicing.",
    }
    values.update(changes)
    return values


def send_quote(request: CapacityRequest, provider, author=None, **changes) -> Quote:
    recipient = Recipient.objects.get(request=request, provider=provider)
    return services.quote_submit(recipient=recipient, author=author, **quote_values(request, **changes))

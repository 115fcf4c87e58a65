from datetime import timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

from deals.selectors import inbox_new_count

register = template.Library()


@register.simple_tag
def new_requests(provider) -> int:
    """How many requests routed to ``provider`` it has not opened yet (the Requests tab's badge)."""
    return inbox_new_count(provider=provider)


@register.filter
def duration(delta: timedelta) -> str:
    """A timedelta in words, in the active language: "1 hour", "2 minutes"."""
    now = timezone.now()
    return timesince(now - delta, now)

from django import template

from deals.selectors import inbox_new_count

register = template.Library()


@register.simple_tag
def new_requests(provider) -> int:
    """How many requests routed to ``provider`` it has not opened yet (the Requests tab's badge)."""
    return inbox_new_count(provider=provider)

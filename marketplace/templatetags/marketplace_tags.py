from decimal import Decimal

from django import template
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def price(value: Decimal | None) -> str:
    """A price with two decimals, or up to four when they matter: 2.50, 0.0425."""
    if value is None:
        return ""
    cents = value.quantize(Decimal("0.01"))
    if cents == value:
        return f"{cents}"
    return f"{value.quantize(Decimal('0.0001')).normalize():f}"


@register.simple_tag
def offer_rows(offers) -> SafeString:
    """The rows of an offers table, one <tr> per offer (marketplace/offer_rows.py says why in Python)."""
    from marketplace.offer_rows import OfferRows  # not at the top: it uses the price filter above

    return OfferRows().render(offers)

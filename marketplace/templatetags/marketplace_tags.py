from decimal import Decimal

from django import template
from django.utils.safestring import SafeString

from marketplace.formats import price_text
from marketplace.offer_rows import OfferRows

register = template.Library()


@register.filter
def price(value: Decimal | None) -> str:
    """A price with two decimals, or up to four when they matter: 2.50, 0.0425."""
    return "" if value is None else price_text(value)


@register.simple_tag
def offer_rows(offers) -> SafeString:
    """The rows of an offers table, one <tr> per offer (marketplace/offer_rows.py says why in Python)."""
    return OfferRows().render(offers)

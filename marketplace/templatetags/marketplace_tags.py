from decimal import Decimal

from django import template

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

"""Plain formatting helpers shared by templates, the offer row renderer and the sync preview."""

from decimal import Decimal


def price_text(value: Decimal) -> str:
    """A price with two decimals, or up to four when they matter: "2.50", "3.00", "0.0425"."""
    cents = value.quantize(Decimal("0.01"))
    if cents == value:
        return f"{cents}"
    return f"{value.quantize(Decimal('0.0001')).normalize():f}"

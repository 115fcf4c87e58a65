from decimal import Decimal

from django import template
from django.utils import formats
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from marketplace.country_groups import EEA, EU
from marketplace.formats import price_text
from marketplace.fx import price_shown
from marketplace.offer_rows import OfferRows, TotalSpec

register = template.Library()


@register.filter
def price(value: Decimal | None) -> str:
    """A price with two decimals, or up to four when they matter: 2.50, 0.0425."""
    return "" if value is None else price_text(value)


@register.filter
def price_l10n(value: Decimal | None) -> str:
    """``price``, in the active language's number format: 1,234.50 in English, 1 234,50 in French."""
    if value is None:
        return ""
    text = price_text(value)
    places = len(text.partition(".")[2])
    return formats.number_format(Decimal(text), places, use_l10n=True, force_grouping=True)


@register.simple_tag
def offer_rows(offers, display=None, grouped: bool = False, total: TotalSpec | None = None) -> SafeString:
    """The rows of an offers table, one <tr> per offer (marketplace/offer_rows.py says why in Python),
    prices shown in ``display``'s currency (a PriceDisplay) when given, with the cost of ``total``."""
    return OfferRows(display, total).render(offers, grouped=grouped)


@register.simple_tag
def normalized_in(display, normalized: Decimal | None) -> str:
    """A price in the reference currency (e.g. a "from" price) in ``display``'s currency, as text."""
    return "" if normalized is None else price_text(price_shown(normalized, display.rate))


@register.simple_tag
def price_in(display, price: Decimal, currency: str, normalized: Decimal | None) -> str:
    """A price in ``display``'s currency (the listed price when it is in it), as text; "" when unknown."""
    if display is None:
        return price_text(price)
    shown = display.shown(price, currency, normalized)
    return "" if shown is None else price_text(shown)


@register.simple_tag
def operator_jurisdiction(provider) -> str:
    """A short badge for where the operator and its ultimate parent are both incorporated: "EU",
    "EEA", else "" (not both stated, or not both in either)."""
    if provider.operated_from(EU):
        return _("EU operator")
    if provider.operated_from(EEA):
        return _("EEA operator")
    return ""

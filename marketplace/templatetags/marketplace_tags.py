from decimal import Decimal

from django import template
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from marketplace.country_groups import EEA, EU
from marketplace.formats import count_text, price_l10n, size_text
from marketplace.fx import price_shown
from marketplace.offer_rows import OfferRows, TotalSpec

register = template.Library()


@register.filter
def price(value: Decimal | str | None) -> str:
    """A price with two decimals, or up to four when they matter, in the active language: 2.50,
    0.0425, 2,50 in French (marketplace.formats). A string is a price in its machine form."""
    if value is None or value == "":
        return ""
    return price_l10n(Decimal(value))


@register.simple_tag
def gpu_hour_price(value: Decimal | str | None, currency: str) -> str:
    """A price per GPU-hour with its currency and unit: "2.50 USD / GPU-hour"."""
    if value is None or value == "":
        return ""
    return _("%(price)s %(currency)s / GPU-hour") % {"price": price(value), "currency": currency}


@register.filter
def size(gb: int | None) -> str:
    """A size given in GB: "512 GB", "30 TB", "1.5 TB" (marketplace.formats.size_text)."""
    return "" if gb is None else size_text(gb)


@register.filter
def count(value: int | None) -> str:
    """A count grouped by thousands in the active language: 1,024 (1 024 in French)."""
    return "" if value is None else count_text(value)


@register.filter(name="price_l10n")
def price_l10n_filter(value: Decimal | None) -> str:
    """``price``, in the active language's number format (marketplace.formats.price_l10n)."""
    return "" if value is None else price_l10n(value)


@register.simple_tag
def offer_rows(offers, display=None, grouped: bool = False, total: TotalSpec | None = None) -> SafeString:
    """The rows of an offers table, one <tr> per offer (marketplace/offer_rows.py says why in Python),
    prices shown in ``display``'s currency (a PriceDisplay) when given, with the cost of ``total``."""
    return OfferRows(display, total).render(offers, grouped=grouped)


@register.simple_tag
def normalized_in(display, normalized: Decimal | None) -> str:
    """A price in the reference currency (e.g. a "from" price) in ``display``'s currency, as text."""
    return "" if normalized is None else price_l10n(price_shown(normalized, display.rate))


@register.simple_tag
def price_in(display, price: Decimal, currency: str, normalized: Decimal | None) -> str:
    """A price in ``display``'s currency (the listed price when it is in it), as text; "" when unknown."""
    if display is None:
        return price_l10n(price)
    shown = display.shown(price, currency, normalized)
    return "" if shown is None else price_l10n(shown)


@register.simple_tag
def operator_jurisdiction(provider) -> str:
    """A short badge for where the operator and its ultimate parent are both incorporated: "EU",
    "EEA", else "" (not both stated, or not both in either)."""
    if provider.operated_from(EU):
        return _("EU operator")
    if provider.operated_from(EEA):
        return _("EEA operator")
    return ""

"""Plain formatting helpers shared by templates, the offer row renderer and the sync preview.

One rule for numbers everywhere a person reads them, in the active language:
- prices: two decimals, or up to four when they matter (GPU-hours of small GPUs cost cents):
  "2.50", "0.0425"; in French "2,50";
- counts: grouped by thousands: "1,024" ("1 024" in French);
- sizes in GB (RAM, storage): "512 GB" below a thousand, else TB with at most one decimal:
  "30 TB", "1.5 TB" (see size_text for which TB).
``price_text`` stays the machine form (a "." always, no grouping) for JSON and parsing.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext


def price_text(value: Decimal) -> str:
    """A price with two decimals, or up to four when they matter: "2.50", "3.00", "0.0425"."""
    cents = value.quantize(Decimal("0.01"))
    if cents == value:
        return f"{cents}"
    return f"{value.quantize(Decimal('0.0001')).normalize():f}"


def price_l10n(value: Decimal) -> str:
    """``price_text``'s precision in the active language: "2.50" in English, "2,50" in French."""
    text = price_text(value)
    decimals = len(text.partition(".")[2])
    return number_format(Decimal(text), decimal_pos=decimals, use_l10n=True, force_grouping=True)


def count_text(value: int) -> str:
    """A count grouped by thousands in the active language: "1,024", "1 024"."""
    return number_format(value, use_l10n=True, force_grouping=True)


def size_parts(gb: int) -> tuple[str, str]:
    """A size given in GB as (number, "GB" or "TB"), in the active language.

    Providers state sizes in GB of either kind: 30720 GB is 30 binary TB, 16000 GB or 3840 GB
    (a drive) are 16 and 3.84 decimal TB. So a size that is a whole number of binary TB is
    divided by 1024, any other by 1000, and shown with one decimal at most: "30", "16", "3.8".
    """
    if gb < 1000:
        return count_text(gb), "GB"
    tb = (Decimal(gb) / (1024 if gb % 1024 == 0 else 1000)).quantize(Decimal("0.1"), ROUND_HALF_UP)
    decimals = 0 if tb == tb.to_integral_value() else 1
    return number_format(tb, decimal_pos=decimals, use_l10n=True, force_grouping=True), "TB"


def size_text(gb: int) -> str:
    """A size given in GB, as people read it: "512 GB", "2 TB", "1.5 TB" (French: "1,5 To")."""
    number, unit = size_parts(gb)
    if unit == "GB":
        return gettext("%(n)s GB") % {"n": number}
    return gettext("%(n)s TB") % {"n": number}

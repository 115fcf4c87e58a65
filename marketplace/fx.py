"""Exchange rates and the one conversion rule: every price compared in the reference currency.

Offers keep the price and currency their provider states; each also stores
``price_normalized``, the same price in EUR, the reference currency. The catalog filters, sorts,
counts and quotes "from" prices on that column, so 2.68 EUR and 2.68 USD are no longer equal.
EUR is the reference because the rates are the European Central Bank's daily reference rates,
published as "units of currency X per euro": converting into EUR is one division by a published
figure, with no cross rate.

The rules, here and nowhere else (the sync apply, the forms, the CSV import and the catalog use
these functions):

- normalized = price / rate, rounded half-up to 10 decimal places (NORMALIZED_PLACES);
- a normalized price shown in currency C = normalized x rate(C), rounded half-up to 4 places,
  the precision of an offer's own price. With 10 places in EUR, a price shown in its own
  currency comes back exactly as stated (the rounding error is below 1e-10 x 17,000, IDR's rate);
- ``max_price`` in currency C keeps exactly the offers whose price shown in C is at most it
  (normalized_bound()).

This module is pure: parsing the ECB's answer and the arithmetic. The rate table is
``ExchangeRate`` (marketplace/models.py); ``exchange_rates_apply`` (services.py) writes it.
"""

import re
import xml.etree.ElementTree as ET  # noqa: S405 (DOCTYPEs are refused before parsing: no entity can expand)
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from math import floor
from pathlib import Path

from marketplace.currencies import ISO_4217

REFERENCE_CURRENCY = "EUR"
NORMALIZED_PLACES = Decimal("1e-10")
SHOWN_PLACES = Decimal("0.0001")
# The ECB's daily reference rates (about 30 currencies, every working day around 16:00 CET).
ECB_DAILY_URL = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml"
# The answer the demo and the tests load instead of the network: the ECB's rates of 4 January 2024.
SNAPSHOT_PATH = Path(__file__).resolve().parent / "data" / "eurofxref-daily.xml"
ECB_NAMESPACE = "{http://www.ecb.int/vocabulary/2002-08-01/eurofxref}"


class RatesError(ValueError):
    """The answer is not the ECB's daily reference rates; the message says why."""


@dataclass(frozen=True)
class EcbRates:
    """One day of reference rates: units of each currency per euro (EUR itself not included)."""

    rate_date: date
    units_per_eur: dict[str, Decimal]


def ecb_rates_parse(payload: bytes) -> EcbRates:
    """Read the ECB's ``eurofxref-daily.xml``: ``<Cube time='2024-01-04'><Cube currency='USD'
    rate='1.0953'/>...``. Raises RatesError for anything else, or for a rate that is not a
    positive number of a known ISO 4217 currency."""
    if re.search(rb"<!(DOCTYPE|ENTITY)", payload[:4096], re.IGNORECASE):
        raise RatesError("The rates document declares a DOCTYPE, which the ECB's does not: refused.")
    try:
        root = ET.fromstring(payload)  # noqa: S314 (no DOCTYPE, see above)
    except ET.ParseError as exc:
        raise RatesError(f"The rates document is not XML ({exc}).") from None
    days = [cube for cube in root.iter(f"{ECB_NAMESPACE}Cube") if cube.get("time")]
    if len(days) != 1:
        raise RatesError(f"Expected the rates of one day, found {len(days)}: is this eurofxref-daily.xml?")
    day = days[0]
    try:
        rate_date = date.fromisoformat(day.get("time", ""))
    except ValueError:
        raise RatesError(f"The rates' date {day.get('time')!r} is not a date.") from None
    rates: dict[str, Decimal] = {}
    for cube in day.iter(f"{ECB_NAMESPACE}Cube"):
        code, text = cube.get("currency"), cube.get("rate")
        if code is None:
            continue
        if code not in ISO_4217 or code == REFERENCE_CURRENCY:
            raise RatesError(f"{code!r} is not a currency the rates can be for.")
        try:
            rate = Decimal(text or "")
        except InvalidOperation:
            raise RatesError(f"The rate of {code} ({text!r}) is not a number.") from None
        if not rate.is_finite() or rate <= 0:
            raise RatesError(f"The rate of {code} ({text}) is not a positive number.")
        rates[code] = rate
    if not rates:
        raise RatesError("The rates document lists no currency.")
    return EcbRates(rate_date=rate_date, units_per_eur=rates)


def price_normalize(price: Decimal, units_per_eur: Decimal) -> Decimal:
    """``price`` (in a currency worth ``units_per_eur`` per euro) in the reference currency."""
    return (price / units_per_eur).quantize(NORMALIZED_PLACES, rounding=ROUND_HALF_UP)


def price_shown(normalized: Decimal, units_per_eur: Decimal) -> Decimal:
    """A normalized price in a currency worth ``units_per_eur`` per euro, as the catalog shows it."""
    return (normalized * units_per_eur).quantize(SHOWN_PLACES, rounding=ROUND_HALF_UP)


def normalized_bound(max_price: Decimal, units_per_eur: Decimal) -> Decimal:
    """The largest normalized price whose shown price in that currency is at most ``max_price``.

    price_shown(v) <= max  <=>  v x rate < max + 0.00005 (half-up rounding)  <=>  v < y with
    y = (max + 0.00005) / rate. Normalized prices sit on a grid of 1e-10, so the bound is the
    last grid point below y, computed exactly (fractions), so that a filter on it keeps exactly
    the offers a reader would keep by comparing the shown prices.
    """
    limit = (Fraction(max_price) + Fraction(1, 20000)) / Fraction(units_per_eur)
    steps = limit * 10**10
    last = floor(steps) - 1 if steps.denominator == 1 else floor(steps)
    return Decimal(last).scaleb(-10)


def rates_stale(rate_date: date | None, *, today: date, max_age_days: int) -> bool:
    """Whether a table of rates of ``rate_date`` is too old to trust (None: no rates at all).

    The ECB publishes on working days only, so a few days without new rates are normal.
    """
    return rate_date is None or (today - rate_date).days > max_age_days


@dataclass(frozen=True)
class PriceDisplay:
    """The currency a page shows prices in, and its rate (units per unit of the reference currency)."""

    currency: str
    rate: Decimal
    rates_date: date | None = None

    def shown(self, price: Decimal, currency: str, normalized: Decimal | None) -> Decimal | None:
        """An offer's price in this currency: its own price when it is in it, else the converted
        one (None when it cannot be converted)."""
        if currency == self.currency:
            return price
        return None if normalized is None else price_shown(normalized, self.rate)

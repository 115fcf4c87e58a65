"""Small helpers the provider API adapters share for reading answers and wording warnings.

Everything here is pure. Checks on an answer's shape raise a permanent AdapterError naming the
field (the API changed or the URL points elsewhere: retrying will not help until someone looks);
warnings are plain sentences for the provider's staff, worded the same for every adapter.
"""

import json
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sync.adapters.base import AdapterError

PRICE_PLACES = Decimal("0.0001")


def to_price_places(price: Decimal) -> Decimal:
    """``price`` rounded half-up to the 4 decimal places an offer's price has."""
    return price.quantize(PRICE_PLACES, rounding=ROUND_HALF_UP)


def show(value) -> str:
    """``value`` as short JSON (at most 60 characters), to quote it in a message."""
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def whole_or_none(value) -> int | None:
    """``value`` when it is a whole number >= 0 (not a bool), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def load_json(payload: bytes, *, what: str, address: str = ""):
    """Decode a JSON answer, explaining in plain words why it is not JSON.

    ``what`` names the answer in the messages ("feed", "Lambda API response"); ``address``, the
    API's own base URL, is suggested when an HTML page comes instead. These errors are not
    permanent: a maintenance page or an answer cut short may be gone at the next attempt.
    """
    if not payload.strip():
        raise AdapterError(f"The {what} is empty.")
    if payload.lstrip()[:1] == b"<":
        advice = (
            f"check that the base URL is the API's address ({address}), not a web page"
            if address
            else "the URL may point at a web page, a login page or an error page rather than at the data itself"
        )
        raise AdapterError(f"The {what} is an HTML page instead of JSON: {advice}.")
    try:
        text = payload.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AdapterError(f"The {what} is not UTF-8 text (invalid byte at position {exc.start}).") from None

    def refuse_constant(name):
        raise AdapterError(f"The {what} contains {name}, which JSON does not allow; send a number or a string.")

    try:
        return json.loads(text, parse_constant=refuse_constant)
    except json.JSONDecodeError as exc:
        raise AdapterError(
            f"The {what} is not valid JSON at line {exc.lineno} column {exc.colno} ({exc.msg})."
        ) from None
    except RecursionError:
        raise AdapterError(f"The {what} is nested too deeply to be read.") from None


class BadEntry(ValueError):
    """One entry of a listing cannot be read; the message says why, for a warning."""


def read_cents(value, field: str) -> Decimal:
    """A finite price >= 0 from a number or a numeric string. Raises BadEntry naming ``field``."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise BadEntry(f'its "{field}" is missing or not a number')
    try:
        cents = Decimal(str(value))
    except InvalidOperation:
        raise BadEntry(f'its "{field}" {value!r} is not a number') from None
    if not cents.is_finite() or cents < 0:
        raise BadEntry(f'its "{field}" {cents} is not a price')
    return cents


def zero_price_warning(label: str) -> str:
    """The warning for an entry priced at 0, which is held back, never listed as free."""
    return f"{label} is listed at a price of 0 and is held back: a zero price is a placeholder, not an offer."


def none_readable(count: int, what: str, first_warning: str) -> AdapterError:
    """The permanent error when every one of ``count`` entries (``what``) was skipped as unreadable."""
    return AdapterError(f"None of the {count} {what} could be read: {first_warning}", permanent=True)


def unknown_region_warning(*, api: str, noun: str, code: str, count: int, name: str = "") -> str:
    """An unknown region code (``name``: what the API calls it): its ``count`` offers wait for the portal's table."""
    named = f" ({show(name)})" if name else ""
    return (
        f"{api} {noun} {show(code)}{named} is not in the portal's {api} {noun} table: its {count} offer(s) are held "
        "back until the portal's team adds it."
    )


def country_unknown_warning(*, api: str, noun: str, nouns: str, code: str, count: int) -> str:
    """A region with no known country, whose ``count`` offers wait until the provider adds it on the dashboard."""
    offers = "its offer is" if count == 1 else f"its {count} offers are"
    return (
        f'{api} {noun} "{code}" is not in the portal\'s table of {api} {nouns}, so its country is unknown: '
        f'{offers} held back until a region "{code}" is added on the dashboard.'
    )


class AnswerShape:
    """Checks on the shape of one provider's JSON answer, named in messages as ``source``'s answer."""

    def __init__(self, source: str):
        self.source = source

    def unexpected(self, where: str, expected: str, value) -> AdapterError:
        """The permanent error for a field that is not what the API documents."""
        return AdapterError(
            f"{self.source}'s answer is not as expected: {where} should be {expected}, not {show(value)}.",
            permanent=True,
        )

    def require_dict(self, value, where: str) -> dict:
        """``value`` when it is an object."""
        if not isinstance(value, dict):
            raise self.unexpected(where, "an object", value)
        return value

    def require_list(self, parent: dict, key: str, where: str, *, optional: bool = False) -> list:
        """``parent[key]`` when it is a list; [] for a missing one when ``optional``."""
        value = parent.get(key)
        if value is None and optional:
            return []
        if not isinstance(value, list):
            raise self.unexpected(f"{where}.{key}", "a list", value)
        return value

    def require_name(self, item: dict, key: str, where: str) -> str:
        """``item[key]`` when it is a non-blank string, returned as given (not stripped)."""
        value = item.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.unexpected(f"{where}.{key}", "a name", value)
        return value

    def number(self, item: dict, key: str, where: str, *, required: bool = False) -> float | None:
        """``item[key]`` when it is a number >= 0; None when missing and not ``required``."""
        value = item.get(key)
        if value is None and not required:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise self.unexpected(f"{where}.{key}", "a number", value)
        return value

    def price(self, value, where: str, *, required: bool = False) -> Decimal | None:
        """A finite Decimal >= 0 from a number or numeric string, unrounded; None when missing and not required."""
        if value is None and not required:
            return None
        try:
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise InvalidOperation
            price = Decimal(str(value).strip())  # str() of a float is its shortest form: 2.49 stays 2.49
            if not price.is_finite() or price < 0:
                raise InvalidOperation
        except InvalidOperation:
            raise self.unexpected(where, "a price", value) from None
        return price

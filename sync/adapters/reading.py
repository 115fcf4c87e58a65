"""What the adapters share for reading answers and wording what they find.

Everything here is pure. An answer unusable as a whole (not JSON, not the documented shape)
raises AdapterError; one entry of a listing that cannot be read raises BadEntry, which
``readable()`` turns into a warning naming the entry, so that the rest of the answer is kept.
Warnings are plain sentences for the provider's staff, worded the same for every adapter.
"""

import json
from collections.abc import Callable, Iterable, Iterator
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sync.adapters.base import AdapterError

PRICE_PLACES = Decimal("0.0001")
# Skipped entries are named one by one up to this many per listing, then counted: a format
# change can make thousands unreadable, and the sync run keeps its warnings.
MAX_SKIPPED_SHOWN = 10


def to_price_places(price: Decimal) -> Decimal:
    """``price`` rounded half-up to the 4 decimal places an offer's price has."""
    return price.quantize(PRICE_PLACES, rounding=ROUND_HALF_UP)


def show(value) -> str:
    """``value`` as short JSON (at most 60 characters), to quote it in a message."""
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def plural(count: int, noun: str) -> str:
    """The count and its noun: "1 offer", "2 offers"."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def some(items: list[str], limit: int = 5) -> str:
    """The first ``limit`` of ``items`` joined by commas, and how many more there are."""
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def interconnect_in(name: str) -> str:
    """The GPU interconnect a name states: "nvlink" for SXM or NVLink, "pcie" for PCIe, else ""."""
    name = name.lower()
    return "nvlink" if "sxm" in name or "nvlink" in name else "pcie" if "pcie" in name else ""


def json_type(value) -> str:
    """What kind of JSON value (not an object) ``value`` is, in words: "an array", "a string"..."""
    return {list: "an array", str: "a string", int: "a number", float: "a number", bool: "true or false"}.get(
        type(value), "null"
    )


def whole_or_none(value) -> int | None:
    """``value`` when it is a whole number >= 0 (not a bool), else None: for details an offer can do without."""
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


def load_object(payload: bytes, *, what: str, address: str = "") -> dict:
    """load_json() for an answer documented as a JSON object: anything else is refused for good."""
    document = load_json(payload, what=what, address=address)
    if not isinstance(document, dict):
        raise AdapterError(f"The {what} must be a JSON object, not {json_type(document)}.", permanent=True)
    return document


class BadEntry(ValueError):
    """One entry of a listing cannot be read; the message says why, for a warning."""


def readable[Entry](
    entries: Iterable[tuple[str, object]], read: Callable[[object], Entry | None], warnings: list[str], *, what: str
) -> Iterator[Entry]:
    """``read(item)`` for each ``(label, item)`` of a listing, leaving out the Nones (entries ignored on purpose).

    An entry that ``read`` refuses with BadEntry is skipped with a warning naming ``label``. When
    the listing had entries and none could be read, the answer is unusable: once every entry has
    been tried, a permanent AdapterError says so, quoting the first reason. ``what`` names the
    listing's entries ("instance types in the Lambda API response").
    """
    count, skipped = 0, []
    for label, item in entries:
        count += 1
        try:
            entry = read(item)
        except BadEntry as exc:
            skipped.append(f"{label} skipped: {exc}.")
            continue
        if entry is not None:
            yield entry
    if count and len(skipped) == count:
        raise AdapterError(f"None of the {count} {what} could be read: {skipped[0]}", permanent=True)
    warnings.extend(skipped[:MAX_SKIPPED_SHOWN])
    if len(skipped) > MAX_SKIPPED_SHOWN:
        warnings.append(f"{len(skipped) - MAX_SKIPPED_SHOWN} more of the {what} were skipped as unreadable.")


def _unreadable(field: str, value, expected: str) -> BadEntry:
    if value is None:
        return BadEntry(f'its "{field}" is missing')
    return BadEntry(f'its "{field}" {show(value)} is not {expected}')


def read_object(value, field: str = "") -> dict:
    """``value`` (the entry itself, or its ``field``) when it is an object."""
    if isinstance(value, dict):
        return value
    raise _unreadable(field, value, "an object") if field else BadEntry("it is not an object")


def read_list(value, field: str, *, optional: bool = False) -> list:
    """``value`` when it is a list; [] for a missing one when ``optional``."""
    if value is None and optional:
        return []
    if not isinstance(value, list):
        raise _unreadable(field, value, "a list")
    return value


def read_name(value, field: str) -> str:
    """``value`` when it is a non-blank string, as given (not stripped)."""
    if not isinstance(value, str) or not value.strip():
        raise _unreadable(field, value or None, "a name")
    return value


def read_whole(value, field: str) -> int:
    """``value`` when it is a whole number >= 0 (a GPU count, an id)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _unreadable(field, value, "a whole number")
    return value


def read_number(value, field: str) -> int | float | None:
    """``value`` when it is a number >= 0; None when it is missing."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or value < 0):
        raise _unreadable(field, value, "a number")
    return value


def read_price(value, field: str, *, optional: bool = False) -> Decimal | None:
    """A finite Decimal >= 0, unrounded, from a number or a numeric string; None for a missing one when ``optional``."""
    if value is None or value == "":
        if optional:
            return None
        raise _unreadable(field, None, "a price")
    try:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise InvalidOperation
        price = Decimal(str(value).strip())  # str() of a float is its shortest form: 2.49 stays 2.49
    except InvalidOperation:
        raise _unreadable(field, value, "a price") from None
    if not price.is_finite() or price < 0:
        raise _unreadable(field, value, "a price")
    return price


def zero_price_warning(labels: list[str]) -> str:
    """One warning for the entries with a price of 0 or none, which are held back, never listed as free."""
    return f"Held back, with a price of 0 or none (a GPU is never listed as free): {some(labels)}."


def unexpected(source: str, where: str, expected: str, value) -> AdapterError:
    """The permanent error for a part of ``source``'s answer that is not what the API documents."""
    return AdapterError(
        f"{source}'s answer is not as expected: {where} should be {expected}, not {show(value)}.", permanent=True
    )

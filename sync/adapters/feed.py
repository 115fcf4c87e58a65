"""Our open provider feed, versions 1 and 1.1 (docs/provider-feed.md, docs/provider-feed.schema.json).

Version 1.1 adds the optional "capacity_windows" (forward capacity); a version 1 feed is read as
before and leaves the provider's windows alone.
"""

import functools
import json
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django_countries import countries
from jsonschema import Draft202012Validator, ValidationError

from marketplace.inventory import NormalizedOffer, NormalizedRegion, NormalizedWindow, ParsedInventory
from sync.adapters.base import Adapter, AdapterError
from sync.adapters.reading import load_object, show, to_price_places

FORMAT = "gpu-marketplace-feed"
VERSIONS = (1, 1.1)
SCHEMA_PATH = Path(settings.BASE_DIR) / "docs" / "provider-feed.schema.json"
MAX_ERRORS_SHOWN = 5


@functools.cache
def feed_validator() -> Draft202012Validator:
    """The schema validator, loaded once per process."""
    schema = json.loads(SCHEMA_PATH.read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


class FeedAdapter(Adapter):
    kind = "feed"
    label = _("Open provider feed (JSON, v1 and v1.1)")
    base_url_example = "https://inventory.example.com/gpu-feed.json"
    base_url_help = _("The URL of your feed document (see the open provider feed format).")
    credentials_help = _("Optional: an API key, sent as “Authorization: Bearer <key>”.")
    demo_path = "feeds/"

    def fetch(self, *, base_url: str, credentials: str, client) -> bytes:
        return client.get(base_url, headers=self.headers(credentials)).content

    def parse(self, payload: bytes) -> ParsedInventory:
        document = load_object(payload, what="feed")
        if document.get("format") != FORMAT:
            raise AdapterError(f'This is not a provider feed: "format" must be "{FORMAT}".', permanent=True)
        version = document.get("version")
        if type(version) not in (int, float) or version not in VERSIONS:
            raise AdapterError(
                f"This portal reads feed versions 1 and 1.1; the feed says version {show(version)}.", permanent=True
            )
        # The schema is the authority, but running it over 100,000 offers takes seconds: offers
        # that a plain check finds valid are left out of it (the check is never more lenient).
        offers, most = document.get("offers"), feed_validator().schema["properties"]["offers"]["maxItems"]
        if isinstance(offers, list) and len(offers) > most:
            raise AdapterError(_summarize([f"offers: has more than {most} items"]), permanent=True)
        if isinstance(offers, list) and all(map(_offer_plainly_valid, offers)):
            document = {**document, "offers": []}
            errors = list(feed_validator().iter_errors(document))
            document["offers"] = offers
        else:
            errors = list(feed_validator().iter_errors(document))
        if errors:
            errors.sort(key=_error_order)
            raise AdapterError(_summarize([describe_error(error) for error in errors]), permanent=True)
        problems = _check_consistency(document)
        if problems:
            raise AdapterError(_summarize(problems), permanent=True)
        windows = document.get("capacity_windows")
        return ParsedInventory(
            offers=[_offer(item) for item in document["offers"]],
            regions=[_region(item) for item in document.get("regions", [])],
            windows=None if windows is None else [_window(item) for item in windows],
            withdraw_all=document.get("withdraw_all") is True,
        )


def _check_consistency(document: dict) -> list[str]:
    """What the schema cannot say: unique ids, real countries, available <= total."""
    problems = []
    seen_regions: dict[str, int] = {}
    for index, region in enumerate(document.get("regions", [])):
        where = f"regions[{index}]"
        if region["code"] in seen_regions:
            problems.append(
                f"{where}.code: {show(region['code'])} is already used by regions[{seen_regions[region['code']]}]"
            )
        seen_regions.setdefault(region["code"], index)
        if not countries.name(region["country"]):
            problems.append(f"{where}.country: {show(region['country'])} is not an ISO 3166 country code")
        spans = region.get("countries") or []
        problems += [
            f"{where}.countries: {show(code)} is not an ISO 3166 country code"
            for code in spans
            if not countries.name(code)
        ]
        if spans and region["country"] not in spans:
            problems.append(f"{where}.countries: must include the region's country {show(region['country'])}")
    seen_offers: dict[str, int] = {}
    for index, offer in enumerate(document["offers"]):
        where = f"offers[{index}]"
        if offer["id"] in seen_offers:
            problems.append(f"{where}.id: {show(offer['id'])} is already used by offers[{seen_offers[offer['id']]}]")
        seen_offers.setdefault(offer["id"], index)
        total = offer.get("nodes_total")
        if total is not None and offer["nodes_available"] is not None and offer["nodes_available"] > total:
            problems.append(f"{where}.nodes_available: {offer['nodes_available']} is more than nodes_total ({total})")
    seen_windows: dict[str, int] = {}
    for index, window in enumerate(document.get("capacity_windows") or []):
        where = f"capacity_windows[{index}]"
        if window["id"] in seen_windows:
            problems.append(
                f"{where}.id: {show(window['id'])} is already used by capacity_windows[{seen_windows[window['id']]}]"
            )
        seen_windows.setdefault(window["id"], index)
        dates = {}
        for name in ("from", "until"):
            try:
                dates[name] = date.fromisoformat(window[name])
            except ValueError:
                problems.append(f"{where}.{name}: {show(window[name])} is not a date like 2027-03-01")
        if len(dates) == 2 and dates["until"] <= dates["from"]:
            problems.append(f"{where}.until: {window['until']} is not after its start ({window['from']})")
        if window.get("price_per_gpu_hour") is not None and not window.get("currency"):
            problems.append(f'{where}: a window with a price needs its "currency"')
    generated_at = document.get("generated_at")
    if generated_at is not None:
        try:
            datetime.fromisoformat(generated_at)
        except ValueError:
            problems.append(f"generated_at: {show(generated_at)} is not a date-time like 2026-11-27T06:00:00Z")
    return problems


OFFER_REQUIRED = (  # the schema's "required" of an offer
    "id",
    "region",
    "gpu",
    "gpus_per_node",
    "pricing_type",
    "price_per_gpu_hour",
    "currency",
    "nodes_available",
)
PRICE_TEXT = re.compile(r"[0-9]{1,6}(\.[0-9]+)?")
CURRENCY = re.compile(r"[A-Z]{3}")
OPTIONAL_COUNTS = {  # optional integer or null: its bounds
    "gpu_memory_gb": (1, 4096),
    "vcpus": (0, 100_000),
    "ram_gb": (0, 100_000_000),
    "storage_gb": (0, 1_000_000_000),
    "min_term_months": (1, 120),
    "nodes_total": (0, 1_000_000),
}


def _offer_plainly_valid(item) -> bool:
    """True if the offer certainly satisfies the schema's "offer" definition.

    Stricter than the schema (1.0 is not taken for an integer, nor "2.49\n" for a price): an offer
    it refuses is checked by the schema itself, which words the errors.
    """
    if type(item) is not dict or any(name not in item for name in OFFER_REQUIRED):
        return False
    offer_id, region, gpu = item["id"], item["region"], item["gpu"]
    if not (type(offer_id) is str and 0 < len(offer_id) <= 200):
        return False
    if not (type(region) is str and 0 < len(region) <= 64 and type(gpu) is str and 0 < len(gpu) <= 120):
        return False
    if not _int_within(item["gpus_per_node"], 1, 1024):
        return False
    available = item["nodes_available"]
    if available is not None and not _int_within(available, 0, 1_000_000):
        return False
    for name, (low, high) in OPTIONAL_COUNTS.items():
        value = item.get(name)
        if value is not None and not _int_within(value, low, high):
            return False
    pricing_type = item["pricing_type"]
    if pricing_type not in ("on_demand", "spot", "reserved") or type(pricing_type) is not str:
        return False
    if pricing_type == "reserved" and type(item.get("min_term_months")) is not int:
        return False
    if item.get("gpu_interconnect") not in ("nvlink", "pcie", None):
        return False
    if item.get("network") not in ("infiniband", "roce", "ethernet", None):
        return False
    if item.get("gpu_form_factor") not in ("sxm", "pcie", "nvl", "superchip", "oam", None):
        return False
    instance_type = item.get("instance_type")
    if instance_type is not None and not (type(instance_type) is str and len(instance_type) <= 120):
        return False
    price, currency = item["price_per_gpu_hour"], item["currency"]
    if type(price) is str:
        if not PRICE_TEXT.fullmatch(price):
            return False
    elif type(price) not in (int, float) or not 0 <= price <= 999_999:
        return False
    return type(currency) is str and CURRENCY.fullmatch(currency) is not None


def _int_within(value, low: int, high: int) -> bool:
    return type(value) is int and low <= value <= high


def _offer(item: dict) -> NormalizedOffer:
    # str() of a float is its shortest round-trip form, so 2.49 stays exactly 2.49.
    price = to_price_places(Decimal(str(item["price_per_gpu_hour"])))
    return NormalizedOffer(
        external_id=item["id"],
        region=item["region"],
        gpu_model_raw=item["gpu"],
        gpus_per_node=item["gpus_per_node"],
        pricing_type=item["pricing_type"],
        price_per_gpu_hour=price,
        currency=item["currency"],
        nodes_available=item["nodes_available"],
        nodes_total=item.get("nodes_total"),
        min_term_months=item.get("min_term_months"),
        vcpus=item.get("vcpus"),
        ram_gb=item.get("ram_gb"),
        storage_gb=item.get("storage_gb"),
        gpu_interconnect=item.get("gpu_interconnect") or "",
        network=item.get("network") or "",
        gpu_memory_gb=item.get("gpu_memory_gb"),
        gpu_form_factor=item.get("gpu_form_factor") or "",
        instance_type=item.get("instance_type") or "",
    )


def _window(item: dict) -> NormalizedWindow:
    price = item.get("price_per_gpu_hour")
    return NormalizedWindow(
        external_id=item["id"],
        region=item["region"],
        gpu_model_raw=item["gpu"],
        gpus=item["gpus"],
        starts_on=date.fromisoformat(item["from"]),
        ends_on=date.fromisoformat(item["until"]),
        price_per_gpu_hour=None if price is None else to_price_places(Decimal(str(price))),
        currency=item.get("currency") or "",
    )


def _region(item: dict) -> NormalizedRegion:
    spans = tuple(code for code in dict.fromkeys(item.get("countries") or []) if code != item["country"])
    return NormalizedRegion(
        code=item["code"],
        country=item["country"],
        city=item.get("city") or "",
        name=item.get("name") or "",
        countries=spans,
    )


# --- Error messages a provider can act on ----------------------------------------------------


def json_path(path) -> str:
    """offers[4].price_per_gpu_hour"""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def describe_error(error: ValidationError) -> str:
    where = json_path(error.absolute_path)
    value, expected = error.instance, error.validator_value
    match error.validator:
        case "required":
            missing = [name for name in expected if name not in value]
            return f'{where}: the required field "{missing[0] if missing else expected}" is missing'
        case "type":
            types = " or ".join(expected) if isinstance(expected, list) else expected
            return f"{where}: {show(value)} is not of type {types}"
        case "minimum":
            return f"{where}: {show(value)} is less than the minimum of {expected}"
        case "maximum":
            return f"{where}: {show(value)} is more than the maximum of {expected}"
        case "enum":
            return f"{where}: {show(value)} is not one of {', '.join(show(option) for option in expected)}"
        case "const":
            return f"{where}: {show(value)} should be {show(expected)}"
        case "minLength" if expected == 1:
            return f"{where}: must not be empty"
        case "maxLength":
            return f"{where}: is longer than {expected} characters"
        case "maxItems":
            return f"{where}: has more than {expected} items"
        case "pattern" if "description" in error.schema:
            return f"{where}: {show(value)} is not {error.schema['description']}"
    return f"{where}: {error.message}"


def _error_order(error: ValidationError):
    return [(0, part, "") if isinstance(part, int) else (1, 0, str(part)) for part in error.absolute_path]


def _summarize(problems: list[str]) -> str:
    shown = "; ".join(problems[:MAX_ERRORS_SHOWN])
    if len(problems) > MAX_ERRORS_SHOWN:
        shown += f"; and {len(problems) - MAX_ERRORS_SHOWN} more problems"
    return f"The feed is not valid: {shown}."

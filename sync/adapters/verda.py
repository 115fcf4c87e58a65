"""Verda (formerly DataCrunch): instance types with on-demand and spot prices, and where each is free.

Based on Verda's public API (https://api.verda.com/v1/docs, formerly api.datacrunch.io/v1/docs)
as its official Python SDK uses it (github.com/verda-cloud/sdk-python: ``authentication``,
``instance_types``, ``instances.get_availabilities``, ``constants.Locations``), the OpenAPI
description of the DataCrunch public API (OAuth, Instance Types, Instance Availability), and
SkyPilot's ``sky/catalog/data_fetchers/fetch_verda.py``.

Requests, with the base URL ``https://api.verda.com``:

1. ``POST /v1/oauth2/token`` with the JSON body ``{"grant_type": "client_credentials",
   "client_id": ..., "client_secret": ...}`` -> ``{"access_token": ..., "token_type": "Bearer",
   "expires_in": 3600, ...}``. The connection's one credentials string holds both, as
   ``client_id:client_secret`` (split at the first colon).
2. ``GET /v1/instance-types?currency=usd`` -> ``[{"instance_type": "1H100.80S.30V",
   "name": "H100 SXM5 80GB", "model": "H100", "price_per_hour": "2.19", "spot_price": "1.10",
   "currency": "usd", "gpu": {"description": "1x H100 SXM5 80GB", "number_of_gpus": 1},
   "gpu_memory": {"size_in_gigabytes": 80}, "cpu": {"number_of_cores": 30},
   "memory": {"size_in_gigabytes": 120}, ...}]``; prices are per instance-hour.
3. ``GET /v1/instance-availability?is_spot=false`` and ``?is_spot=true`` ->
   ``[{"location_code": "FIN-01", "availabilities": ["1H100.80S.30V", ...]}]``: the types that
   can be deployed now, per location, for on-demand and for spot.

Each with ``Authorization: Bearer <access_token>``. Errors come as ``{"code": ..., "message": ...}``.

Since that is four requests, ``fetch()`` returns ONE combined JSON payload, which ``parse()``
reads and which ``parse_provider_payload --file`` takes for this adapter::

    {"instance_types": <GET /v1/instance-types>,
     "availability": <GET /v1/instance-availability?is_spot=false>,
     "spot_availability": <GET /v1/instance-availability?is_spot=true>}

What the adapter promises (docs/adapters/verda.md has the full mapping):

- per GPU type, one on-demand offer and (when it has a spot price) one spot offer per location
  where that kind is available now (count not published: nodes_available None); a type free
  nowhere is one sold-out offer (0) per plan with no location: none is invented;
- locations are Verda's codes; their country comes from the region mappings (data), not this module;
- price per GPU-hour = price per instance-hour / number_of_gpus, in the type's currency (USD);
- CPU-only types are ignored; a price of 0 is held back with a warning;
- one malformed type, or location of an availability list, is skipped with a warning; a payload
  of the wrong shape, an error body or a payload where every type (or every location of a list)
  is malformed raises AdapterError.
"""

import json
import re
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from marketplace.inventory import NormalizedOffer, NormalizedRegion, ParsedInventory
from sync.adapters.base import Adapter, AdapterError
from sync.adapters.reading import (
    BadEntry,
    interconnect_in,
    load_json,
    load_object,
    read_list,
    read_name,
    read_object,
    read_price,
    read_whole,
    readable,
    show,
    to_price_places,
    whole_or_none,
    zero_price_warning,
)

OAUTH_PATH = "/v1/oauth2/token"
TYPES_PATH = "/v1/instance-types"
AVAILABILITY_PATH = "/v1/instance-availability"

PLANS = (("on_demand", "price_per_hour", "availability"), ("spot", "spot_price", "spot_availability"))


class VerdaAdapter(Adapter):
    kind = "verda"
    label = "Verda (DataCrunch)"
    base_url_example = "https://api.verda.com"
    base_url_help = _("Verda's (DataCrunch's) API base URL, without /v1.")
    credentials_help = _("Your OAuth client id and secret, joined by a colon: “client_id:client_secret”.")
    demo_path = "api/verda"
    api_root = "/v1"

    def fetch(self, *, base_url: str, credentials: str, client) -> bytes:
        """Get a token with the client credentials, then the three lists; return them combined."""
        client_id, _colon, client_secret = credentials.partition(":")
        if not client_id or not client_secret:
            raise AdapterError(
                "Verda needs an OAuth client: enter the credentials as client_id:client_secret "
                "(both from the Verda dashboard).",
                permanent=True,
            )
        token = client.post(
            self.api_url(base_url, OAUTH_PATH),
            headers=self.headers(""),
            json={"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret},
        )
        answer = load_json(token.content, what="Verda token answer", address=self.base_url_example)
        access_token = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(access_token, str) or not access_token:
            raise _error_body(answer) or AdapterError(
                "The Verda token endpoint answered without an access token.", permanent=True
            )
        headers = self.headers(access_token)
        types_url, availability_url = self.api_url(base_url, TYPES_PATH), self.api_url(base_url, AVAILABILITY_PATH)
        combined = {
            "instance_types": client.get(types_url, headers=headers, params={"currency": "usd"}),
            "availability": client.get(availability_url, headers=headers, params={"is_spot": "false"}),
            "spot_availability": client.get(availability_url, headers=headers, params={"is_spot": "true"}),
        }
        return json.dumps(
            {
                part: load_json(response.content, what=f"Verda {part}", address=self.base_url_example)
                for part, response in combined.items()
            }
        ).encode()

    def parse(self, payload: bytes) -> ParsedInventory:
        """Normalize the combined payload (see the module docstring)."""
        document = load_object(payload, what="Verda payload", address=self.base_url_example)
        if error := _error_body(document):
            raise error
        missing = [part for part in ("instance_types", "availability", "spot_availability") if part not in document]
        if missing:
            raise AdapterError(
                f"The Verda payload lacks {', '.join(missing)}: it must be the combined object "
                '{"instance_types": [...], "availability": [...], "spot_availability": [...]} '
                "(see docs/adapters/verda.md).",
                permanent=True,
            )
        types = document["instance_types"]
        if not isinstance(types, list):
            raise _error_body(types) or AdapterError('The Verda "instance_types" is not a list.', permanent=True)
        warnings: list[str] = []
        free = {plan: _free_locations(document[part], part, warnings) for plan, _, part in PLANS}

        offers: list[NormalizedOffer] = []
        regions: dict[str, NormalizedRegion] = {}
        zero_priced: list[str] = []
        entries = ((_label(item, index), item) for index, item in enumerate(types))
        for entry in readable(entries, _Entry.read, warnings, what="instance types in the Verda payload"):
            for plan, price_field, _availability in PLANS:
                price = entry.prices[plan]
                where = [code for code, listed in free[plan].items() if entry.instance_type in listed]
                if price is None or (plan == "spot" and price == 0 and not where):
                    continue  # no such plan for this type
                if price == 0:
                    zero_priced.append(f"instance type {show(entry.instance_type)} ({price_field})")
                    continue
                if not where:
                    offers.append(entry.offer(plan, "", 0))  # free nowhere: sold out, location not stated
                for code in where:
                    regions.setdefault(code, NormalizedRegion(code, ""))
                    offers.append(entry.offer(plan, code, None))
        if zero_priced:
            warnings.append(zero_price_warning(zero_priced))
        return ParsedInventory(offers=offers, regions=list(regions.values()), warnings=warnings)


class _Entry:
    """One GPU instance type, read from the payload."""

    def __init__(self, item: dict, *, gpus: int, prices: dict[str, Decimal | None]):
        self.instance_type, self.gpus, self.prices = item["instance_type"], gpus, prices
        gpu = item.get("gpu") if isinstance(item.get("gpu"), dict) else {}
        description = re.sub(r"^\d+\s*x\s+", "", str(gpu.get("description") or "")).strip()
        # "name" is the most precise ("H100 SXM5 80GB"); "model" alone ("A100") can be ambiguous.
        self.gpu = next(
            (str(value).strip() for value in (item.get("name"), description, item.get("model")) if value), ""
        )
        self.currency = str(item.get("currency") or "usd").upper()
        vram = _size(item, "gpu_memory", "size_in_gigabytes")  # the whole machine's, not one GPU's
        self.specs = {  # the same in each of the type's offers
            "gpu_model_raw": self.gpu,
            "gpus_per_node": gpus,
            "vcpus": _size(item, "cpu", "number_of_cores"),
            "ram_gb": _size(item, "memory", "size_in_gigabytes"),
            "storage_gb": _size(item, "storage", "size_in_gigabytes"),
            "gpu_interconnect": interconnect_in(self.gpu),
            "gpu_memory_gb": vram // gpus if vram else None,
            "instance_type": self.instance_type,
        }

    @classmethod
    def read(cls, item) -> "_Entry | None":
        """Read one instance type; None for a CPU-only type. Raises BadEntry."""
        read_name(read_object(item).get("instance_type"), "instance_type")
        gpu = item.get("gpu") if isinstance(item.get("gpu"), dict) else {}
        gpus = read_whole(gpu.get("number_of_gpus"), "gpu.number_of_gpus")
        if gpus == 0:
            return None
        prices = {plan: read_price(item.get(field), field, optional=plan == "spot") for plan, field, _ in PLANS}
        entry = cls(item, gpus=gpus, prices=prices)
        if not entry.gpu:
            raise BadEntry('it names no GPU ("name", "gpu.description" or "model")')
        return entry

    def offer(self, plan: str, location: str, nodes_available: int | None) -> NormalizedOffer:
        return NormalizedOffer(
            external_id=f"{self.instance_type}:{location}:{plan}" if location else f"{self.instance_type}:{plan}",
            region=location,
            pricing_type=plan,
            price_per_gpu_hour=to_price_places(self.prices[plan] / self.gpus),
            currency=self.currency,
            nodes_available=nodes_available,
            **self.specs,
        )


def _size(item: dict, group: str, field: str) -> int | None:
    return whole_or_none(item.get(group).get(field) if isinstance(item.get(group), dict) else None)


def _free_locations(listing, part: str, warnings: list[str]) -> dict[str, set[str]]:
    """``{location_code: {instance types free there}}`` from an instance-availability answer."""
    if not isinstance(listing, list):
        raise _error_body(listing) or AdapterError(
            f'The Verda "{part}" must be the list GET /v1/instance-availability returns.', permanent=True
        )
    free: dict[str, set[str]] = {}
    entries = ((f"{part}[{index}]", location) for index, location in enumerate(listing))
    for code, names in readable(entries, _location, warnings, what=f'locations in the Verda "{part}"'):
        free.setdefault(code, set()).update(name for name in names if isinstance(name, str))
    return free


def _location(item) -> tuple[str, list]:
    """One location of an instance-availability answer: its code and the instance types free there."""
    location = read_object(item)
    code = read_name(location.get("location_code"), "location_code")
    return code, read_list(location.get("availabilities"), "availabilities")


def _error_body(document) -> AdapterError | None:
    """Verda's ``{"code": ..., "message": ...}`` error object, in words a provider can act on."""
    if not isinstance(document, dict) or not ("code" in document and "message" in document):
        return None
    code = str(document.get("code"))
    return AdapterError(
        f"The Verda API answered with an error: {str(document.get('message'))[:200]} ({code}).",
        permanent=code in {"unauthorized_request", "forbidden_action"},
    )


def _label(item, index: int) -> str:
    """How a skipped instance type is named: by its name when it has one."""
    name = item.get("instance_type") if isinstance(item, dict) else None
    return f"Instance type {show(name)}" if isinstance(name, str) and name else f"instance_types[{index}]"

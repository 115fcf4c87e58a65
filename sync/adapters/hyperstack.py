"""Hyperstack (NexGen Cloud Infrahub API): flavors, the pricebook and GPU stock.

Based on Hyperstack's public API reference (docs.hyperstack.cloud, "List Flavors"
``GET /core/flavors``, "Get the pricebook" ``GET /pricebook``, "Retrieve GPU stocks"
``GET /core/stocks``; schemas Flavor_Fields, PricebookModel, New_Stock_Retrive_Response) and on
public clients of it: NexGenCloud/hyperstack-sdk-python (``api_key`` header, host
``https://infrahub-api.nexgencloud.com/v1``), SkyPilot's ``fetch_hyperstack.py`` (pricebook entries
named after the flavor's ``gpu``, priced per GPU-hour) and CoCalc's Hyperstack pricing code
(``original_value`` as the public list price, stock ``configurations`` per flavor size).

What it sends: three GETs under the base URL ``https://infrahub-api.nexgencloud.com/v1``, each
with the header ``api_key: <API key>``: ``/core/flavors``, ``/pricebook`` and ``/core/stocks``.
``fetch()`` returns them as one JSON document, which is what ``parse()`` reads::

    {"flavors": <body of /core/flavors>, "pricebook": <body of /pricebook>, "stocks": <body of /core/stocks>}

How it is read (docs/adapters/hyperstack.md has the field table):

- One offer per GPU flavor and region: ``external_id`` ``<region>/<flavor name>``, on demand, USD.
  CPU-only flavors (``gpu`` empty or ``gpu_count`` 0) are ignored, and so are flavors whose name
  ends in ``-k8s``: Kubernetes worker variants of VM flavors, which would list the same capacity twice.
- Price per GPU-hour: the pricebook entry named like the flavor's ``gpu``. ``original_value`` (the
  price before any discount the API key's account has) is used, falling back to ``value``; the
  API sends these as numbers or as strings. A GPU with no pricebook entry, or a price of 0, is
  held back with a warning.
- Availability: the flavor's ``stock_available`` decides available or sold out. When available,
  the stock endpoint's count for that region, GPU and size (``configurations["<n>x"]``) is the
  number of nodes, if positive; otherwise the count is unknown (``nodes_available=None``).
- Country: from ``REGION_COUNTRIES`` (data). A region missing from it keeps its code as region, and
  the sync lists its offers only once the provider adds that region on the dashboard (warning).
- ``storage_gb`` is the root disk plus the ephemeral disk; ``gpu_interconnect`` is "nvlink" for
  SXM and "-NVLink" GPUs, "pcie" for other PCIe ones.
"""

import json
from collections import Counter
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from marketplace.inventory import NormalizedOffer, NormalizedRegion, ParsedInventory
from sync.adapters.base import Adapter, AdapterError
from sync.adapters.reading import AnswerShape, country_unknown_warning, load_json, to_price_places

ENDPOINTS = {"flavors": "/core/flavors", "pricebook": "/pricebook", "stocks": "/core/stocks"}
# Hyperstack region -> ISO 3166-1 country, from the regions Hyperstack documents.
REGION_COUNTRIES: dict[str, str] = {
    "CANADA-1": "CA",
    "NORWAY-1": "NO",
    "US-1": "US",
}

# Checks on the answer's shape; their errors say "Hyperstack's answer is not as expected: ...".
_shape = AnswerShape("Hyperstack")
_list, _require_dict, _number, _unexpected = _shape.require_list, _shape.require_dict, _shape.number, _shape.unexpected


class HyperstackAdapter(Adapter):
    kind = "hyperstack"
    label = "Hyperstack (Infrahub API)"
    base_url_example = "https://infrahub-api.nexgencloud.com/v1"
    base_url_help = _("Hyperstack's Infrahub API base URL, with /v1.")
    credentials_help = _("A Hyperstack API key, sent as the api_key header.")
    demo_path = "api/hyperstack"
    credentials_header, credentials_prefix = "api_key", ""

    def fetch(self, *, base_url: str, credentials: str, client) -> bytes:
        headers = self.headers(credentials)
        combined = {
            part: load_json(
                client.get(self.api_url(base_url, path), headers=headers).content,
                what=f"Hyperstack {path} response",
                address=self.base_url_example,
            )
            for part, path in ENDPOINTS.items()
        }
        return json.dumps(combined).encode()

    def parse(self, payload: bytes) -> ParsedInventory:
        document = load_json(payload, what="Hyperstack data", address=self.base_url_example)
        if not isinstance(document, dict) or not all(part in document for part in ENDPOINTS):
            raise AdapterError(
                'This is not the Hyperstack adapter\'s combined data: it needs "flavors", "pricebook" and "stocks".',
                permanent=True,
            )
        groups = _envelope(document["flavors"], "data", "/core/flavors")
        prices = _prices(document["pricebook"])
        stock = _stock(_envelope(document["stocks"], "stocks", "/core/stocks"))

        offers: list[NormalizedOffer] = []
        unpriced: Counter[str] = Counter()
        free: Counter[str] = Counter()
        for index, group in enumerate(groups):
            where = f"flavors.data[{index}]"
            _require_dict(group, where)
            for position, flavor in enumerate(_list(group, "flavors", where)):
                here = f"{where}.flavors[{position}]"
                _require_dict(flavor, here)
                gpu = flavor.get("gpu", group.get("gpu")) or ""
                gpu_count = _number(flavor, "gpu_count", here) or 0
                name = _text(flavor, "name", here)
                if not isinstance(gpu, str) or not gpu.strip() or gpu_count < 1 or name.lower().endswith("-k8s"):
                    continue
                region = _text(flavor if flavor.get("region_name") else group, "region_name", here)
                if gpu not in prices or prices[gpu][0] is None:
                    unpriced[gpu] += 1
                    continue
                price = _price(*prices[gpu])
                if not price:
                    free[gpu] += 1
                    continue
                nodes = 0
                if flavor.get("stock_available") is True:
                    count = stock.get((region, gpu), {}).get(f"{int(gpu_count)}x")
                    nodes = count if isinstance(count, int) and not isinstance(count, bool) and count > 0 else None
                disk, ephemeral = _number(flavor, "disk", here), _number(flavor, "ephemeral", here)
                cpu, ram = _number(flavor, "cpu", here), _number(flavor, "ram", here)
                offers.append(
                    NormalizedOffer(
                        external_id=f"{region}/{name}",
                        region=region,
                        gpu_model_raw=gpu,
                        gpus_per_node=int(gpu_count),
                        pricing_type="on_demand",
                        price_per_gpu_hour=price,
                        currency="USD",
                        nodes_available=nodes,
                        vcpus=round(cpu) if cpu else None,
                        ram_gb=round(ram) if ram else None,
                        storage_gb=round((disk or 0) + (ephemeral or 0)) or None,
                        gpu_interconnect=_interconnect(gpu),
                    )
                )

        used = list(dict.fromkeys(offer.region for offer in offers))
        regions = [
            NormalizedRegion(code=code, country=REGION_COUNTRIES[code]) for code in used if code in REGION_COUNTRIES
        ]
        warnings = []
        if unpriced:
            warnings.append(
                "Held back (no price in Hyperstack's pricebook): "
                + ", ".join(f"{gpu} ({_flavors(count)})" for gpu, count in sorted(unpriced.items()))
                + "."
            )
        if free:
            warnings.append(
                "Held back (priced at 0 in Hyperstack's pricebook, never listed as free): "
                + ", ".join(f"{gpu} ({_flavors(count)})" for gpu, count in sorted(free.items()))
                + "."
            )
        for code in used:
            if code not in REGION_COUNTRIES:
                count = sum(1 for offer in offers if offer.region == code)
                warnings.append(
                    country_unknown_warning(api="Hyperstack", noun="region", nouns="regions", code=code, count=count)
                )
        return ParsedInventory(offers=offers, regions=regions, warnings=warnings)


def _envelope(body, key: str, endpoint: str) -> list:
    """The list inside Hyperstack's ``{"status": true, "message": ..., key: [...]}`` envelope."""
    if isinstance(body, dict) and body.get("status") is False:
        raise AdapterError(f"Hyperstack's {endpoint} returned an error: {body.get('message') or 'no message'}")
    if not isinstance(body, dict) or not isinstance(body.get(key), list):
        raise _unexpected(f"the {endpoint} answer", f'an object with a "{key}" list', body)
    return body[key]


def _prices(body) -> dict[str, tuple[object, str]]:
    """GPU name -> (raw price per GPU-hour, where it is). The pricebook is a bare list (no envelope).

    Values are checked when a flavor uses them, so an odd entry for something else (public IPs,
    storage) does not fail the sync. Of several entries for a name, the first without an end
    time wins, else the first.
    """
    if isinstance(body, dict) and body.get("message"):
        raise AdapterError(f"Hyperstack's /pricebook returned an error: {body['message']}")
    if not isinstance(body, list):
        raise _unexpected("the /pricebook answer", "a list", body)
    chosen: dict[str, tuple[bool, object, str]] = {}
    for index, entry in enumerate(body):
        where = f"pricebook[{index}]"
        _require_dict(entry, where)
        name = _text(entry, "name", where)
        open_ended = entry.get("end_time") is None
        if name in chosen and (chosen[name][0] or not open_ended):
            continue
        field = "original_value" if entry.get("original_value") is not None else "value"
        chosen[name] = (open_ended, entry.get(field), f"{where}.{field}")
    return {name: (value, where) for name, (_, value, where) in chosen.items()}


def _stock(entries: list) -> dict[tuple[str, str], dict]:
    """(region, GPU model) -> {"1x": n, ...}."""
    stock = {}
    for index, entry in enumerate(entries):
        where = f"stocks[{index}]"
        _require_dict(entry, where)
        region = _text(entry, "region", where)
        for position, model in enumerate(_list(entry, "models", where)):
            _require_dict(model, f"{where}.models[{position}]")
            configurations = model.get("configurations") or {}
            _require_dict(configurations, f"{where}.models[{position}].configurations")
            stock[(region, _text(model, "model", f"{where}.models[{position}]"))] = configurations
    return stock


def _flavors(count: int) -> str:
    return f"{count} flavor{'s' if count != 1 else ''}"


def _interconnect(gpu: str) -> str:
    name = gpu.lower()
    if "nvlink" in name or "sxm" in name:
        return "nvlink"
    return "pcie" if "pcie" in name else ""


def _text(item: dict, key: str, where: str) -> str:
    return _shape.require_name(item, key, where).strip()


def _price(value, where: str) -> Decimal:
    return to_price_places(_shape.price(value, where, required=True))

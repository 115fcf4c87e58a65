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
- Country: Hyperstack's answer names regions but no countries; the region mappings (data,
  sync.RegionMapping) place them. A region no mapping places (and that the provider has not added
  on the dashboard) holds its offers back for the admin's review.
- ``storage_gb`` is the root disk plus the ephemeral disk; ``gpu_interconnect`` is "nvlink" for
  SXM and "-NVLink" GPUs, "pcie" for other PCIe ones.
- A flavor, a group of flavors, a pricebook entry or a region's stock that cannot be read (a
  field of the wrong type, no name, a price that is not one) is skipped with a warning naming
  it; without its stock entry a flavor's count is unknown. An answer of the wrong shape, an error
  envelope, or a listing none of whose entries can be read fails the sync.
"""

import functools
import json
from collections import Counter
from decimal import Decimal
from itertools import chain

from django.utils.translation import gettext_lazy as _

from marketplace.inventory import NormalizedOffer, NormalizedRegion, ParsedInventory
from sync.adapters.base import Adapter, AdapterError
from sync.adapters.reading import (
    interconnect_in,
    load_json,
    load_object,
    plural,
    read_list,
    read_name,
    read_number,
    read_object,
    read_price,
    read_whole,
    readable,
    to_price_places,
    unexpected,
    whole_or_none,
    zero_price_warning,
)

ENDPOINTS = {"flavors": "/core/flavors", "pricebook": "/pricebook", "stocks": "/core/stocks"}


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
        document = load_object(payload, what="Hyperstack data", address=self.base_url_example)
        if not all(part in document for part in ENDPOINTS):
            raise AdapterError(
                'This is not the Hyperstack adapter\'s combined data: it needs "flavors", "pricebook" and "stocks".',
                permanent=True,
            )
        warnings: list[str] = []
        prices = _prices(document["pricebook"], warnings)
        stock = _stock(_envelope(document["stocks"], "stocks", "/core/stocks"), warnings)
        groups = enumerate(_envelope(document["flavors"], "data", "/core/flavors"))
        entries = chain.from_iterable(
            readable(
                ((f"flavors.data[{index}]", (index, group)) for index, group in groups),
                _flavor_group,
                warnings,
                what="groups of flavors in Hyperstack's /core/flavors answer",
            )
        )
        read_flavor = functools.partial(_Flavor.read, prices=prices)

        offers: list[NormalizedOffer] = []
        unpriced: Counter[str] = Counter()
        free: Counter[str] = Counter()
        for flavor in readable(entries, read_flavor, warnings, what="flavors in Hyperstack's /core/flavors answer"):
            if flavor.price is None:
                unpriced[flavor.gpu] += 1
            elif not flavor.price:
                free[flavor.gpu] += 1
            else:
                offers.append(flavor.offer(stock.get((flavor.region, flavor.gpu), {})))

        # Hyperstack's answer names regions but no countries: the region mappings (data) place them.
        regions = [NormalizedRegion(code=code, country="") for code in dict.fromkeys(offer.region for offer in offers)]
        if unpriced:
            warnings.append(
                "Held back (no price in Hyperstack's pricebook): "
                + ", ".join(f"{gpu} ({plural(count, 'flavor')})" for gpu, count in sorted(unpriced.items()))
                + "."
            )
        if free:
            warnings.append(
                zero_price_warning([f"{gpu} ({plural(count, 'flavor')})" for gpu, count in sorted(free.items())])
            )
        return ParsedInventory(offers=offers, regions=regions, warnings=warnings)


class _Flavor:
    """One GPU flavor: a VM size in one region, and its price per GPU-hour."""

    def __init__(self, group: dict, flavor: dict, *, name: str, gpu: str, gpu_count: int, price: Decimal | None):
        self.name, self.gpu, self.gpu_count, self.price = name, gpu, gpu_count, price
        region_from = flavor if flavor.get("region_name") else group
        self.region = read_name(region_from.get("region_name"), "region_name").strip()
        self.stock_available = flavor.get("stock_available") is True
        disk, ephemeral, cpu, ram = (read_number(flavor.get(key), key) for key in ("disk", "ephemeral", "cpu", "ram"))
        self.vcpus = round(cpu) if cpu else None
        self.ram_gb = round(ram) if ram else None
        self.storage_gb = round((disk or 0) + (ephemeral or 0)) or None

    @classmethod
    def read(cls, group_and_flavor: tuple[dict, object], *, prices: dict) -> "_Flavor | None":
        """Read one flavor; None for one that is not listed (CPU only, a Kubernetes variant). Raises BadEntry.

        Its price comes from ``prices`` (see _prices); None when the pricebook has none for its GPU.
        """
        group, flavor = group_and_flavor
        flavor = read_object(flavor)
        gpu = flavor.get("gpu", group.get("gpu")) or ""
        gpu_count = read_whole(flavor.get("gpu_count") or 0, "gpu_count")
        name = read_name(flavor.get("name"), "name").strip()
        if not isinstance(gpu, str) or not gpu.strip() or gpu_count < 1 or name.lower().endswith("-k8s"):
            return None
        raw, where = prices.get(gpu, (None, ""))
        price = None if raw is None else to_price_places(read_price(raw, where))
        return cls(group, flavor, name=name, gpu=gpu, gpu_count=gpu_count, price=price)

    def offer(self, configurations: dict) -> NormalizedOffer:
        """The flavor's offer; ``configurations`` is the stock of its region and GPU, by size ("8x": 3)."""
        nodes = 0
        if self.stock_available:
            count = whole_or_none(configurations.get(f"{self.gpu_count}x"))
            nodes = count or None  # available, but no count above 0: count unknown
        return NormalizedOffer(
            external_id=f"{self.region}/{self.name}",
            region=self.region,
            gpu_model_raw=self.gpu,
            gpus_per_node=self.gpu_count,
            pricing_type="on_demand",
            price_per_gpu_hour=self.price,
            currency="USD",
            nodes_available=nodes,
            vcpus=self.vcpus,
            ram_gb=self.ram_gb,
            storage_gb=self.storage_gb,
            gpu_interconnect=interconnect_in(self.gpu),
            instance_type=self.name,
        )


def _flavor_group(indexed: tuple[int, object]) -> list[tuple[str, tuple[dict, object]]]:
    """The flavors of ``flavors.data[index]``, each with its place and its group (for defaults)."""
    index, group = indexed
    flavors = read_list(read_object(group).get("flavors"), "flavors")
    return [(f"flavors.data[{index}].flavors[{position}]", (group, flavor)) for position, flavor in enumerate(flavors)]


def _envelope(body, key: str, endpoint: str) -> list:
    """The list inside Hyperstack's ``{"status": true, "message": ..., key: [...]}`` envelope."""
    if isinstance(body, dict) and body.get("status") is False:
        raise AdapterError(f"Hyperstack's {endpoint} returned an error: {body.get('message') or 'no message'}")
    if not isinstance(body, dict) or not isinstance(body.get(key), list):
        raise unexpected("Hyperstack", f"the {endpoint} answer", f'an object with a "{key}" list', body)
    return body[key]


def _prices(body, warnings: list[str]) -> dict[str, tuple[object, str]]:
    """GPU name -> (raw price per GPU-hour, where it is). The pricebook is a bare list (no envelope).

    Values are checked when a flavor uses them, so an odd price for something else (public IPs,
    storage) is no concern here. Of several entries for a name, the first without an end time
    wins, else the first.
    """
    if isinstance(body, dict) and body.get("message"):
        raise AdapterError(f"Hyperstack's /pricebook returned an error: {body['message']}")
    if not isinstance(body, list):
        raise unexpected("Hyperstack", "the /pricebook answer", "a list", body)
    chosen: dict[str, tuple[bool, object, str]] = {}
    entries = ((f"pricebook[{index}]", (index, entry)) for index, entry in enumerate(body))
    for index, entry in readable(entries, _pricebook_entry, warnings, what="entries of Hyperstack's /pricebook"):
        name, open_ended = entry["name"].strip(), entry.get("end_time") is None
        if name in chosen and (chosen[name][0] or not open_ended):
            continue
        field = "original_value" if entry.get("original_value") is not None else "value"
        chosen[name] = (open_ended, entry.get(field), f"pricebook[{index}].{field}")
    return {name: (value, where) for name, (_, value, where) in chosen.items()}


def _pricebook_entry(indexed: tuple[int, object]) -> tuple[int, dict]:
    index, entry = indexed
    read_name(read_object(entry).get("name"), "name")
    return index, entry


def _stock(entries: list, warnings: list[str]) -> dict[tuple[str, str], dict]:
    """(region, GPU model) -> {"1x": n, ...}."""
    stock = {}
    listing = ((f"stocks[{index}]", entry) for index, entry in enumerate(entries))
    for region, models in readable(listing, _stock_entry, warnings, what="regions of Hyperstack's /core/stocks"):
        for model, configurations in models:
            stock[(region, model)] = configurations
    return stock


def _stock_entry(item) -> tuple[str, list[tuple[str, dict]]]:
    """One region's stock: its name, and each GPU model's free machines by size."""
    entry = read_object(item)
    models = []
    for model in read_list(entry.get("models"), "models"):
        name = read_name(read_object(model, "models[]").get("model"), "models[].model").strip()
        models.append((name, read_object(model.get("configurations") or {}, "models[].configurations")))
    return read_name(entry.get("region"), "region").strip(), models

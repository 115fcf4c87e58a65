"""Shadeform: GPU instance types of many underlying clouds, with per-region availability.

Based on Shadeform's API reference (https://docs.shadeform.ai/api-reference/instances/instances-types,
and the OpenAPI document of github.com/shadeform/docs: ``InstanceTypesResponse``,
``InstanceType``, ``Configuration``, ``Availability``, ``HourlyPrice`` "the hourly price of the
instance in cents", security scheme ``X-API-KEY`` header), its guide "Finding the most
affordable GPUs", and SkyPilot's ``sky/catalog/data_fetchers/fetch_shadeform.py``.

Request: ``GET {base_url}/v1/instances/types`` with ``X-API-KEY: <API key>``; no filter, so
unavailable types come back too (they are listed as sold out). The base URL is
``https://api.shadeform.ai``. Response::

    {"instance_types": [{
        "cloud": "hyperstack", "shade_instance_type": "A6000", "cloud_instance_type": "gpu_1x_a6000",
        "configuration": {"memory_in_gb": 48, "storage_in_gb": 256, "vcpus": 6, "num_gpus": 1,
                          "gpu_type": "A6000", "interconnect": "pcie", "nvlink": false,
                          "vram_per_gpu_in_gb": 48, "os_options": [...], "gpu_manufacturer": "nvidia"},
        "hourly_price": 57, "deployment_type": "vm",
        "availability": [{"region": "canada-1", "available": true, "display_name": "CA, Montreal"}],
        "boot_time": {"min_boot_in_sec": 180, "max_boot_in_sec": 300}}]}

What the adapter promises (docs/adapters/shadeform.md has the full mapping):

- one on-demand offer per (cloud, instance type, region listed in ``availability``): available
  (count not published, nodes_available None) or sold out (0) as ``available`` says;
- the external id keeps the underlying cloud: ``{cloud}:{cloud_instance_type}:{region}``;
- price per GPU-hour = hourly_price / 100 / num_gpus, in USD;
- the GPU name is ``gpu_type`` plus the interconnect and the VRAM per GPU when Shadeform gives
  them ("H100 pcie 80GB", "A100 sxm4 40GB"), since one gpu_type covers several catalogue models;
- the location is the one the answer states: ``display_name`` "FI, Helsinki" is Finland, Helsinki;
  a region whose display name does not place it is placed by the region mappings (data), or
  held back for review with its display name shown, never guessed;
- CPU-only types are ignored; a price of 0 is held back with a warning; availability entries
  with a ``rental_type`` other than on-demand are ignored (the reference documents no price
  for them); one malformed type is skipped with a warning; a payload of the wrong shape, an
  error body or a payload where every type is malformed raises AdapterError.
"""

import re
from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from django_countries import countries

from marketplace.inventory import NormalizedOffer, NormalizedRegion, ParsedInventory
from sync.adapters.base import Adapter, AdapterError
from sync.adapters.reading import (
    interconnect_in,
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

PATH = "/v1/instances/types"

# Shadeform's display names place a region: "FI, Helsinki" is Finland, Helsinki.
DISPLAY_NAME = re.compile(r"^\s*([A-Z]{2})\s*,\s*(.+?)\s*$")


class ShadeformAdapter(Adapter):
    kind = "shadeform"
    label = "Shadeform API"
    base_url_example = "https://api.shadeform.ai"
    base_url_help = _("Shadeform's API base URL, without /v1.")
    credentials_help = _("A Shadeform API key, sent as the X-API-KEY header.")
    demo_path = "api/shadeform"
    credentials_header, credentials_prefix = "X-API-KEY", ""
    api_root = "/v1"

    def fetch(self, *, base_url: str, credentials: str, client) -> bytes:
        """GET every instance type (available or not) with the API key in ``X-API-KEY``."""
        return client.get(self.api_url(base_url, PATH), headers=self.headers(credentials)).content

    def parse(self, payload: bytes) -> ParsedInventory:
        """Normalize a ``/v1/instances/types`` response (see the module docstring)."""
        document = load_object(payload, what="Shadeform API response", address=self.base_url_example)
        items = document.get("instance_types")
        if not isinstance(items, list):
            raise _error_body(document) or AdapterError(
                'The Shadeform API response has no "instance_types" list: is the base URL the Shadeform '
                "API (https://api.shadeform.ai)?",
                permanent=True,
            )

        offers: list[NormalizedOffer] = []
        warnings: list[str] = []
        regions: dict[str, NormalizedRegion] = {}
        free: list[str] = []
        no_region = 0
        entries = ((f"instance_types[{index}]", item) for index, item in enumerate(items))
        for entry in readable(entries, _Entry.read, warnings, what="instance types in the Shadeform API response"):
            if entry.price_cents == 0:
                free.append(entry.label)
                continue
            if not entry.availability:
                no_region += 1
            for code, available, display_name in entry.availability:
                regions.setdefault(code, located(code, display_name))
                offers.append(entry.offer(code, available))
        if free:
            warnings.append(zero_price_warning(free))
        if no_region:
            warnings.append(f"{no_region} instance type(s) list no region at all and give no offer.")
        return ParsedInventory(offers=offers, regions=list(regions.values()), warnings=warnings)


def located(code: str, display_name: str) -> NormalizedRegion:
    """The region as Shadeform's answer places it: "FI, Helsinki" states the country and the city.
    A display name that does not (or none) leaves the country to the region mappings (data)."""
    match = DISPLAY_NAME.match(display_name)
    if match and countries.name(match.group(1)):
        # What follows the country may be a city or a state ("US, Virginia"): kept as the region's
        # name, not claimed as a city.
        return NormalizedRegion(code, match.group(1), "", display_name)
    return NormalizedRegion(code, "", "", display_name)


class _Entry:
    """One GPU instance type of one underlying cloud, read from the payload."""

    def __init__(self, item: dict, config: dict, *, gpus: int, price_cents: Decimal):
        self.cloud = item["cloud"]
        self.instance_type = item.get("cloud_instance_type") or item["shade_instance_type"]
        self.label = f"instance type {show(f'{self.cloud}:{self.instance_type}')}"
        self.gpus, self.price_cents = gpus, price_cents
        form = str(_setting(item, config, "interconnect") or "").strip().lower()
        form = form if form.startswith("sxm") or form == "pcie" else ""
        gpu_memory_gb = whole_or_none(_setting(item, config, "vram_per_gpu_in_gb")) or None
        # One gpu_type covers several GPUs ("H100" is sold as PCIe and SXM, "A100" as 40 GB PCIe
        # and SXM): the name keeps the form and memory Shadeform states, so that the alias table
        # maps "A100 pcie 40GB" and "A100 sxm4 40GB" to different models instead of guessing.
        memory = f"{gpu_memory_gb}GB" if gpu_memory_gb else ""
        nvlink = _setting(item, config, "nvlink") is True
        self.specs = {  # the same in each of the type's offers
            "gpu_model_raw": " ".join(part for part in (_setting(item, config, "gpu_type"), form, memory) if part),
            "gpus_per_node": gpus,
            "vcpus": whole_or_none(_setting(item, config, "vcpus")),
            "ram_gb": whole_or_none(_setting(item, config, "memory_in_gb")),
            "storage_gb": whole_or_none(_setting(item, config, "storage_in_gb")),
            "gpu_interconnect": "nvlink" if nvlink else interconnect_in(form),
            "gpu_memory_gb": gpu_memory_gb,
            "instance_type": self.instance_type,
        }
        self.availability = _availability(item)

    @classmethod
    def read(cls, item) -> "_Entry | None":
        """Read one instance type; None for a CPU-only type. Raises BadEntry."""
        item = read_object(item)
        for name in ("cloud", "shade_instance_type"):
            read_name(item.get(name), name)
        config = item.get("configuration") if isinstance(item.get("configuration"), dict) else {}
        gpus = read_whole(_setting(item, config, "num_gpus"), "configuration.num_gpus")
        if gpus == 0:
            return None
        read_name(_setting(item, config, "gpu_type"), "configuration.gpu_type")
        cents = read_price(item.get("hourly_price"), "hourly_price")
        return cls(item, config, gpus=gpus, price_cents=cents)

    def offer(self, region: str, available: bool) -> NormalizedOffer:
        return NormalizedOffer(
            external_id=f"{self.cloud}:{self.instance_type}:{region}",
            region=region,
            pricing_type="on_demand",
            price_per_gpu_hour=to_price_places(self.price_cents / 100 / self.gpus),
            currency="USD",
            nodes_available=None if available else 0,
            **self.specs,
        )


def _setting(item: dict, config: dict, name: str):
    # The reference nests specs in "configuration"; newer responses repeat them at the top level.
    return config[name] if config.get(name) is not None else item.get(name)


def _availability(item: dict) -> list[tuple[str, bool, str]]:
    """``(region, available, display name)`` of the on-demand entries, first one per region."""
    seen: dict[str, tuple[str, bool, str]] = {}
    for entry in read_list(item.get("availability"), "availability", optional=True):
        read_name(entry.get("region") if isinstance(entry, dict) else None, "availability[].region")
        if entry.get("rental_type") not in (None, "on_demand"):
            continue  # spot entries: the reference documents no price for them
        display_name = entry.get("display_name") if isinstance(entry.get("display_name"), str) else ""
        seen.setdefault(entry["region"], (entry["region"], entry.get("available") is True, display_name))
    return list(seen.values())


def _error_body(document: dict) -> AdapterError | None:
    """An error object instead of instance types: ``{"error": ...}`` or ``{"message": ...}``."""
    error = document.get("error") or document.get("message")
    if not error:
        return None
    if isinstance(error, dict):
        error = error.get("message") or error.get("code") or error
    return AdapterError(f"The Shadeform API answered with an error: {str(error)[:200]}")

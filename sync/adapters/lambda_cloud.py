"""Lambda Cloud: on-demand instance types, their prices and the regions with capacity now.

Based on Lambda's Cloud API reference (https://docs-api.lambda.ai/api/cloud, "List available
instance types", operationId ``listInstanceTypes``, API version 1.10: the ``InstanceTypes``,
``InstanceTypesItem``, ``InstanceType``, ``InstanceTypeSpecs``, ``Region`` and ``ApiError*``
schemas), and on public clients of the same endpoint: SkyPilot's
``sky/catalog/data_fetchers/fetch_lambda_cloud.py`` (Bearer header, region list) and dstack's
gpuhunt Lambda provider.

Request: ``GET {base_url}/api/v1/instance-types`` with ``Authorization: Bearer <API key>`` (the
reference also accepts HTTP Basic with the key as user name; Bearer is what it documents first).
The base URL is ``https://cloud.lambda.ai`` (``https://cloud.lambdalabs.com`` is the deprecated
alias). Response::

    {"data": {"gpu_8x_h100_sxm5": {
        "instance_type": {"name": "gpu_8x_h100_sxm5", "description": "8x H100 (80 GB SXM5)",
                          "gpu_description": "H100 (80 GB SXM5)", "price_cents_per_hour": 2392,
                          "specs": {"vcpus": 208, "memory_gib": 1800, "storage_gib": 24780, "gpus": 8}},
        "regions_with_capacity_available": [{"name": "us-east-1", "description": "Virginia, USA"}]}}}

and on failure ``{"error": {"code": "global/invalid-api-key", "message": ..., "suggestion": ...}}``.

What the adapter promises (docs/adapters/lambda.md has the full mapping):

- one on-demand offer per (instance type, region with capacity); Lambda does not publish how
  many machines are free, so such an offer is "available, count unknown" (nodes_available None);
- a type with capacity nowhere is listed as sold out (0) in every region of ``sold_out_regions``
  (by default every region of REGIONS), never dropped;
- price per GPU-hour = price_cents_per_hour / 100 / gpus, in USD;
- CPU-only types (0 GPUs) are ignored; a price of 0 is held back with a warning (Lambda never
  gives GPUs away: a 0 is a placeholder, and listing it would top every "cheapest" sort);
- a region missing from REGIONS is held back with a warning naming it, never guessed;
- one malformed instance type is skipped with a warning; a payload of the wrong shape, an
  error object or a payload where every type is malformed raises AdapterError.
"""

import re
from decimal import Decimal
from typing import ClassVar

from django.utils.translation import gettext_lazy as _

from marketplace.inventory import NormalizedOffer, ParsedInventory
from sync.adapters.base import Adapter, AdapterError
from sync.adapters.reading import (
    RegionTable,
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

PATH = "/api/v1/instance-types"

# Lambda's region codes -> (country, city, the description Lambda gives). Sources: the region
# list of SkyPilot's fetcher and the descriptions Lambda's console and API return. City is empty
# where Lambda names only a state or a country.
REGIONS: dict[str, tuple[str, str, str]] = {
    "us-east-1": ("US", "", "Virginia, USA"),
    "us-east-2": ("US", "Washington, D.C.", "Washington DC, USA"),
    "us-east-3": ("US", "Washington, D.C.", "Washington DC, USA"),
    "us-midwest-1": ("US", "", "Illinois, USA"),
    "us-south-1": ("US", "", "Texas, USA"),
    "us-south-2": ("US", "", "North Texas, USA"),
    "us-south-3": ("US", "", "Central Texas, USA"),
    "us-west-1": ("US", "", "California, USA"),
    "us-west-2": ("US", "", "Arizona, USA"),
    "us-west-3": ("US", "", "Utah, USA"),
    "europe-central-1": ("DE", "", "Germany"),
    "europe-south-1": ("IT", "", "Italy"),
    "me-west-1": ("IL", "", "Israel"),
    "asia-south-1": ("IN", "", "India"),
    "asia-northeast-1": ("JP", "Osaka", "Osaka, Japan"),
    "asia-northeast-2": ("JP", "Tokyo", "Tokyo, Japan"),
    "australia-east-1": ("AU", "Sydney", "Sydney, Australia"),
}

# Error codes after which retrying cannot help until someone edits the connection or the account.
PERMANENT_ERRORS = frozenset({"global/invalid-api-key", "global/account-inactive", "global/forbidden"})


class LambdaCloudAdapter(Adapter):
    kind = "lambda"
    label = "Lambda Cloud API"
    base_url_example = "https://cloud.lambda.ai"
    base_url_help = _("Lambda's API base URL, without /api/v1.")
    credentials_help = _("A Lambda Cloud API key, sent as a bearer token.")
    demo_path = "api/lambda"
    api_root = "/api/v1"

    # Where a type with capacity nowhere is shown as sold out. Every known region by default;
    # narrow it (subclass, or set it in tests) to list sold-out types in fewer places.
    sold_out_regions: ClassVar[tuple[str, ...]] = tuple(REGIONS)

    def fetch(self, *, base_url: str, credentials: str, client) -> bytes:
        """GET the instance types with the connection's API key as a Bearer token."""
        return client.get(self.api_url(base_url, PATH), headers=self.headers(credentials)).content

    def parse(self, payload: bytes) -> ParsedInventory:
        """Normalize an ``/api/v1/instance-types`` response (see the module docstring)."""
        document = load_object(payload, what="Lambda API response", address=self.base_url_example)
        if "error" in document:
            raise _api_error(document["error"])
        data = document.get("data")
        if not isinstance(data, dict):
            raise AdapterError(
                'The Lambda API response has no "data" object of instance types: is the base URL '
                "the Lambda Cloud API (https://cloud.lambda.ai)?",
                permanent=True,
            )

        offers: list[NormalizedOffer] = []
        warnings: list[str] = []
        table = RegionTable(REGIONS, api="Lambda", noun="region")
        free: list[str] = []
        entries = ((f"Instance type {show(key)}", (key, item)) for key, item in data.items())
        for entry in readable(entries, _instance_type, warnings, what="instance types in the Lambda API response"):
            if entry.price_cents == 0:
                free.append(f"instance type {show(entry.name)}")
                continue
            capacity = entry.regions or [(code, "") for code in self.sold_out_regions]
            nodes_available = None if entry.regions else 0
            offers += [entry.offer(code, nodes_available) for code, name in capacity if table.admit(code, name)]
        if free:
            warnings.append(zero_price_warning(free))
        return ParsedInventory(offers=offers, regions=table.regions, warnings=warnings + table.warnings())


class _Entry:
    """One GPU instance type, read from the payload."""

    def __init__(self, *, name: str, gpu: str, gpus: int, price_cents: Decimal, specs: dict, regions: list):
        self.name, self.gpus, self.price_cents, self.regions = name, gpus, price_cents, regions
        memory = re.search(r"\((\d+)\s*GB", gpu, re.IGNORECASE)
        self.specs = {  # the same in each of the type's offers
            "gpu_model_raw": gpu,
            "gpus_per_node": gpus,
            "vcpus": whole_or_none(specs.get("vcpus")),
            "ram_gb": whole_or_none(specs.get("memory_gib")),
            "storage_gb": whole_or_none(specs.get("storage_gib")),
            "gpu_interconnect": interconnect_in(f"{name} {gpu}"),
            "gpu_memory_gb": int(memory.group(1)) if memory else None,
        }

    def offer(self, region: str, nodes_available: int | None) -> NormalizedOffer:
        return NormalizedOffer(
            external_id=f"{self.name}:{region}",
            region=region,
            pricing_type="on_demand",
            price_per_gpu_hour=to_price_places(self.price_cents / 100 / self.gpus),
            currency="USD",
            nodes_available=nodes_available,
            **self.specs,
        )


def _instance_type(key_and_item: tuple[str, object]) -> _Entry | None:
    """Read one entry of ``data``; None for a CPU-only type. Raises BadEntry."""
    key, item = key_and_item
    spec = read_object(read_object(item).get("instance_type"), "instance_type")
    name = read_name(spec.get("name") or key, "name")
    specs = spec.get("specs") if isinstance(spec.get("specs"), dict) else {}
    gpus = specs.get("gpus")
    if gpus is None:
        # Older responses and some clients rely on the name: gpu_{count}x_{model}.
        match = re.match(r"gpu_(\d+)x_", name)
        gpus = int(match.group(1)) if match else None
    if read_whole(gpus, "specs.gpus") == 0:
        return None
    cents = read_price(spec.get("price_cents_per_hour"), "price_cents_per_hour")
    gpu = spec.get("gpu_description") or re.sub(r"^\d+x\s+", "", spec.get("description") or "")
    gpu = read_name(gpu or None, "gpu_description")
    return _Entry(name=name, gpu=gpu.strip(), gpus=gpus, price_cents=cents, specs=specs, regions=_capacity(item))


def _capacity(item: dict) -> list[tuple[str, str]]:
    """``(code, description)`` of the regions with capacity; a missing list means none."""
    listed = read_list(item.get("regions_with_capacity_available"), "regions_with_capacity_available", optional=True)
    regions: dict[str, str] = {}
    for region in listed:
        code = read_name(
            region.get("name") if isinstance(region, dict) else region, "regions_with_capacity_available[].name"
        )
        description = region.get("description") if isinstance(region, dict) else ""
        regions.setdefault(code, description if isinstance(description, str) else "")
    return list(regions.items())


def _api_error(error) -> AdapterError:
    """Lambda's ``{"error": {"code", "message", "suggestion"}}`` in words a provider can act on."""
    if not isinstance(error, dict):
        return AdapterError(f"The Lambda API answered with an error: {str(error)[:200]}")
    code = str(error.get("code") or "unknown")
    message = str(error.get("message") or "no message").rstrip(".")
    text = f"The Lambda API answered with an error: {message} ({code})."
    if error.get("suggestion"):
        text += f" {str(error['suggestion'])[:200]}"
    return AdapterError(text, permanent=code in PERMANENT_ERRORS)

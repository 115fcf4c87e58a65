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
- a type with capacity nowhere is one sold-out offer (0) with no region: Lambda names no location
  for it, so none is invented (it is listed once, "location not stated");
- regions are Lambda's codes with Lambda's own description; their country comes from the region
  mappings (data, sync.RegionMapping), never from this module;
- price per GPU-hour = price_cents_per_hour / 100 / gpus, in USD;
- CPU-only types (0 GPUs) are ignored; a price of 0 is held back with a warning (Lambda never
  gives GPUs away: a 0 is a placeholder, and listing it would top every "cheapest" sort);
- one malformed instance type is skipped with a warning; a payload of the wrong shape, an
  error object or a payload where every type is malformed raises AdapterError.
"""

import re
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

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

PATH = "/api/v1/instance-types"

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
        regions: dict[str, NormalizedRegion] = {}
        free: list[str] = []
        entries = ((f"Instance type {show(key)}", (key, item)) for key, item in data.items())
        for entry in readable(entries, _instance_type, warnings, what="instance types in the Lambda API response"):
            if entry.price_cents == 0:
                free.append(f"instance type {show(entry.name)}")
                continue
            if not entry.regions:
                offers.append(entry.offer("", 0))  # capacity nowhere: sold out, location not stated
            for code, description in entry.regions:
                regions.setdefault(code, NormalizedRegion(code, "", "", description))
                offers.append(entry.offer(code, None))
        if free:
            warnings.append(zero_price_warning(free))
        return ParsedInventory(offers=offers, regions=list(regions.values()), warnings=warnings)


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
            "instance_type": name,
        }

    def offer(self, region: str, nodes_available: int | None) -> NormalizedOffer:
        return NormalizedOffer(
            external_id=f"{self.name}:{region}" if region else self.name,
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

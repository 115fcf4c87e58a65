"""RunPod: the GraphQL API's ``gpuTypes`` and ``dataCenters`` queries, in one request.

Based on RunPod's public GraphQL API as documented and used by RunPod's own clients:
docs.runpod.io (GPU types, ``runpodctl gpu list`` / ``runpodctl datacenter list``), the queries in
runpod/runpodctl ``internal/api/gpu.go`` (``gpuTypes { id displayName memoryInGb secureCloud
communityCloud securePrice communityPrice }`` and ``dataCenters { id name location gpuAvailability
{ gpuTypeId displayName stockStatus } }``), runpod-python ``api/queries/gpus.py`` (``secureSpotPrice``,
``communitySpotPrice``, ``lowestPrice(input: {gpuCount: N}) { minimumBidPrice uninterruptablePrice
minVcpu minMemory stockStatus }``) and SkyPilot's ``fetch_runpod.py`` (data-center ids per country).

What it sends: ``POST {base_url}/graphql`` with the JSON body ``{"query": QUERY}`` and
``Authorization: Bearer <API key>`` (RunPod also accepts ``?api_key=``; a header keeps the key out
of URLs and logs). Base URL: ``https://api.runpod.io``.

How the answer is read (docs/adapters/runpod.md has the field table):

- Prices are per GPU-hour in USD already. RunPod prices a GPU type the same in every data center,
  so ``securePrice`` / ``secureSpotPrice`` apply to each Secure Cloud data center listing it.
- Offers are for pods of ``GPU_COUNT`` (1) GPU: RunPod rents 1 to ``maxGpuCount`` GPUs of a type
  at the same per-GPU price, and stock is published per type, not per count.
- Secure Cloud: one offer per (data center, GPU type, on-demand | spot) from
  ``dataCenters[].gpuAvailability``. ``stockStatus`` High, Medium or Low means available without a
  count (``nodes_available=None``); null or empty means sold out there (0, listed as such).
  The country comes from the region mappings (data, sync.RegionMapping; not parsed from the id:
  RunPod's ``location`` is a continent or a country name). A data center no mapping places, and
  that the provider has not added on the dashboard, holds its offers back for the admin's review.
- Community Cloud: the API gives no location at all for it (``lowestPrice`` is one figure for the
  whole market), and an offer needs a country, so Community Cloud prices are held back with one
  warning rather than listed under an invented country.
- A price of 0 or null where the type is offered is held back with a warning, never listed as free.
  A missing spot price simply means no spot offer. The ``lowestPrice`` bid is not used as a spot
  price: it is not tied to one cloud, so it would misstate one of them.
- ``vcpus`` / ``ram_gb`` are ``lowestPrice.minVcpu`` / ``minMemory``: what a 1-GPU pod gets at least.
- The placeholder type ``unknown`` is skipped; RunPod lists no CPU-only types here.
- ``{"errors": [...]}`` (GraphQL answers errors with HTTP 200) fails the sync with RunPod's message.
- A GPU type or a data center that cannot be read (a price that is not one, no id, a field of
  the wrong type) is skipped with a warning naming it; an answer without both lists, or where
  none of the GPU types (or none of the data centers) can be read, fails the sync.
"""

from collections import defaultdict
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from marketplace.gpu_names import name_facts
from marketplace.inventory import NormalizedOffer, NormalizedRegion, ParsedInventory
from sync.adapters.base import Adapter, AdapterError
from sync.adapters.reading import (
    load_object,
    plural,
    read_list,
    read_name,
    read_number,
    read_object,
    read_price,
    readable,
    show,
    to_price_places,
    unexpected,
    zero_price_warning,
)

GPU_COUNT = 1
AVAILABLE_STOCK = frozenset({"high", "medium", "low"})
SOLD_OUT_STOCK = frozenset({"", "none", "unavailable", "out_of_stock"})

QUERY = f"""
query GpuInventory {{
  gpuTypes {{
    id
    displayName
    manufacturer
    memoryInGb
    secureCloud
    communityCloud
    securePrice
    communityPrice
    secureSpotPrice
    communitySpotPrice
    lowestPrice(input: {{gpuCount: {GPU_COUNT}}}) {{
      minimumBidPrice
      uninterruptablePrice
      minVcpu
      minMemory
      stockStatus
    }}
  }}
  dataCenters {{
    id
    name
    location
    gpuAvailability {{
      gpuTypeId
      displayName
      stockStatus
    }}
  }}
}}
""".strip()


class RunPodAdapter(Adapter):
    kind = "runpod"
    label = "RunPod (GraphQL API)"
    base_url_example = "https://api.runpod.io"
    base_url_help = _("RunPod's API base URL; the portal posts its GraphQL query to /graphql.")
    credentials_help = _("A RunPod API key, sent as a bearer token.")
    demo_path = "api/runpod"

    def fetch(self, *, base_url: str, credentials: str, client) -> bytes:
        return client.post(
            self.api_url(base_url, "/graphql"), headers=self.headers(credentials), json={"query": QUERY}
        ).content

    def parse(self, payload: bytes) -> ParsedInventory:
        data = _data(load_object(payload, what="RunPod API response", address=self.base_url_example))
        gpu_types, data_centers = (_listing(data, key) for key in ("gpuTypes", "dataCenters"))
        warnings: list[str] = []

        stock_by_gpu: dict[str, list[tuple[_DataCenter, object]]] = defaultdict(list)
        entries = ((f"dataCenters[{index}]", item) for index, item in enumerate(data_centers))
        for center in readable(entries, _DataCenter.read, warnings, what="data centers in RunPod's answer"):
            for gpu_id, status in center.stock:
                stock_by_gpu[gpu_id].append((center, status))

        notes = _Notes()
        offers: list[NormalizedOffer] = []
        used_centers: dict[str, _DataCenter] = {}
        entries = ((f"gpuTypes[{index}]", item) for index, item in enumerate(gpu_types))
        for gpu in readable(entries, _GpuType.read, warnings, what="GPU types in RunPod's answer"):
            if gpu.secure_cloud:
                offers += gpu.secure_offers(stock_by_gpu.get(gpu.id, []), used_centers, notes)
            notes.community += sum(1 for price in gpu.community_prices if price)

        # The country of each data center comes from the region mappings (data), not from the id.
        regions = [NormalizedRegion(code=code, country="", name=center.name) for code, center in used_centers.items()]
        return ParsedInventory(offers=offers, regions=regions, warnings=warnings + notes.warnings())


class _DataCenter:
    """One data center and the stock status of each GPU type it lists."""

    def __init__(self, item: dict):
        self.id = read_name(item.get("id"), "id")
        name = item.get("name")  # usually the id itself: then it says nothing more
        self.name = "" if name is None or name == self.id else read_name(name, "name")
        self.stock: list[tuple[str, object]] = []
        for entry in read_list(item.get("gpuAvailability"), "gpuAvailability", optional=True):
            gpu_id = read_object(entry, "gpuAvailability[]").get("gpuTypeId")
            self.stock.append((read_name(gpu_id, "gpuAvailability[].gpuTypeId"), entry.get("stockStatus")))

    @classmethod
    def read(cls, item) -> "_DataCenter":
        return cls(read_object(item))


class _GpuType:
    """One GPU type: its specs for a ``GPU_COUNT``-GPU pod and its prices per GPU-hour."""

    def __init__(self, item: dict):
        self.id = item["id"]
        lowest = read_object(item.get("lowestPrice") or {}, "lowestPrice")
        self.specs = {
            "gpu_model_raw": self.id,
            "gpus_per_node": GPU_COUNT,
            "gpu_memory_gb": _size(item.get("memoryInGb"), "memoryInGb"),
            # The id ("NVIDIA H200") may not say the form factor its displayName does ("H200 SXM").
            "gpu_form_factor": name_facts(str(item.get("displayName") or "")).form_factor,
            "vcpus": _size(lowest.get("minVcpu"), "lowestPrice.minVcpu"),
            "ram_gb": _size(lowest.get("minMemory"), "lowestPrice.minMemory"),
            "nodes_total": None,
        }
        self.secure_cloud = item.get("secureCloud") is True
        self.secure_prices = {
            "on_demand": _price(item.get("securePrice"), "securePrice"),
            "spot": _price(item.get("secureSpotPrice"), "secureSpotPrice"),
        }
        community = ("communityPrice", "communitySpotPrice") if item.get("communityCloud") is True else ()
        self.community_prices = [_price(item.get(name), name) for name in community]

    @classmethod
    def read(cls, item) -> "_GpuType | None":
        """Read one GPU type; None for RunPod's placeholder type ``unknown``. Raises BadEntry."""
        gpu_id = read_name(read_object(item).get("id"), "id")
        return None if gpu_id.lower() == "unknown" else cls(item)

    def secure_offers(self, stock, used_centers, notes) -> list[NormalizedOffer]:
        """One offer per data center listing this type and price it has there (on demand, spot)."""
        if not self.secure_prices["on_demand"]:
            notes.no_price.append(f"{self.id} (Secure Cloud on-demand)")
        if self.secure_prices["spot"] is not None and not self.secure_prices["spot"]:
            notes.no_price.append(f"{self.id} (Secure Cloud spot)")
        if not stock:
            notes.nowhere.append(self.id)
        offers = []
        for center, status in stock:
            nodes = _nodes(status, notes)
            for pricing_type, price in self.secure_prices.items():
                if not price:
                    continue
                used_centers.setdefault(center.id, center)
                offers.append(
                    NormalizedOffer(
                        external_id=f"{center.id}/{self.id}/{GPU_COUNT}x/{pricing_type}",
                        region=center.id,
                        pricing_type=pricing_type,
                        price_per_gpu_hour=price,
                        currency="USD",
                        nodes_available=nodes,
                        **self.specs,
                    )
                )
        return offers


class _Notes:
    """What the provider should hear about, gathered while parsing and said once each."""

    def __init__(self):
        self.no_price: list[str] = []
        self.nowhere: list[str] = []
        self.community = 0
        self.unknown_stock: set[str] = set()

    def warnings(self) -> list[str]:
        warnings = []
        if self.no_price:
            warnings.append(zero_price_warning(self.no_price))
        if self.nowhere:
            warnings.append(
                "On Secure Cloud but in no data center's availability, so not listed: " + ", ".join(self.nowhere) + "."
            )
        if self.community:
            warnings.append(
                f"Held back {plural(self.community, 'Community Cloud price')}: RunPod's API gives no location "
                "for Community Cloud, and the catalog lists an offer only with its country."
            )
        if self.unknown_stock:
            warnings.append(
                "Unknown RunPod stock statuses read as sold out: " + ", ".join(sorted(self.unknown_stock)) + "."
            )
        return warnings


def _data(document: dict) -> dict:
    errors = document.get("errors")
    if errors:
        messages = [
            str(error.get("message")) if isinstance(error, dict) and error.get("message") else show(error)
            for error in (errors if isinstance(errors, list) else [errors])
        ]
        raise AdapterError("RunPod's API returned an error: " + "; ".join(messages[:3]))
    data = document.get("data")
    if not isinstance(data, dict):
        raise AdapterError('RunPod\'s answer has no "data" object: this is not a GraphQL response.', permanent=True)
    return data


def _listing(data: dict, key: str) -> list:
    if not isinstance(data.get(key), list):
        raise unexpected("RunPod", f"data.{key}", "a list", data.get(key))
    return data[key]


def _price(value, field: str) -> Decimal | None:
    """A per-GPU-hour price; None when the API gives none."""
    price = read_price(value, field, optional=True)
    return None if price is None else to_price_places(price)


def _size(value, field: str) -> int | None:
    """A positive count (GB, vCPUs), or None when not given."""
    return round(value) if read_number(value, field) else None


def _nodes(status, notes: _Notes) -> int | None:
    """RunPod publishes a stock level, not a count: available (None) or sold out (0)."""
    if status is None:
        return 0
    text = str(status).strip().lower()
    if text in AVAILABLE_STOCK:
        return None
    if text not in SOLD_OUT_STOCK:
        notes.unknown_stock.add(str(status))
    return 0

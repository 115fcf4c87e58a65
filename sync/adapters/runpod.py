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
  The country comes from ``DATA_CENTER_COUNTRIES`` (data, not parsed from the id). A data center
  missing from it gets no country: its offers carry its id as region, which the sync only accepts
  once the provider adds that region (with its country) on the dashboard; a warning says so.
- Community Cloud: the API gives no location at all for it (``lowestPrice`` is one figure for the
  whole market), and an offer needs a country, so Community Cloud prices are held back with one
  warning rather than listed under an invented country.
- A price of 0 or null where the type is offered is held back with a warning, never listed as free.
  A missing spot price simply means no spot offer. The ``lowestPrice`` bid is not used as a spot
  price: it is not tied to one cloud, so it would misstate one of them.
- ``vcpus`` / ``ram_gb`` are ``lowestPrice.minVcpu`` / ``minMemory``: what a 1-GPU pod gets at least.
- The placeholder type ``unknown`` is skipped; RunPod lists no CPU-only types here.
- ``{"errors": [...]}`` (GraphQL answers errors with HTTP 200) fails the sync with RunPod's message.
"""

from collections import Counter, defaultdict
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from marketplace.inventory import NormalizedOffer, NormalizedRegion, ParsedInventory
from sync.adapters.base import Adapter, AdapterError
from sync.adapters.reading import AnswerShape, country_unknown_warning, load_json, show, to_price_places

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

# RunPod data-center id -> ISO 3166-1 country. From SkyPilot's REGION_ZONES table
# (sky/catalog/data_fetchers/fetch_runpod.py); RunPod's ``location`` field is a continent or a
# country name ("Europe", "United States"), so it cannot be used instead.
DATA_CENTER_COUNTRIES: dict[str, str] = {
    "OC-AU-1": "AU",
    **dict.fromkeys(["CA-MTL-1", "CA-MTL-2", "CA-MTL-3", "CA-MTL-4"], "CA"),
    "EU-CZ-1": "CZ",
    "EU-DK-1": "DK",
    "EU-FR-1": "FR",
    **dict.fromkeys(["AP-IN-1", "AP-IN-2"], "IN"),
    **dict.fromkeys(["EUR-IS-1", "EUR-IS-2", "EUR-IS-3", "EUR-IS-4", "EUR-IS-5"], "IS"),
    "AP-JP-1": "JP",
    "EU-NL-1": "NL",
    **dict.fromkeys(["EUR-NO-1", "EUR-NO-2"], "NO"),
    "EU-RO-1": "RO",
    **dict.fromkeys(["EU-SE-1", "EU-SE-2"], "SE"),
    "SEA-SG-1": "SG",
    **dict.fromkeys(
        [
            "US-CA-1",
            "US-CA-2",
            "US-DE-1",
            "US-GA-1",
            "US-GA-2",
            "US-IL-1",
            "US-KS-1",
            "US-KS-2",
            "US-KS-3",
            "US-MD-1",
            "US-MO-1",
            "US-MO-2",
            "US-NC-1",
            "US-NC-2",
            "US-NE-1",
            "US-OR-1",
            "US-OR-2",
            "US-PA-1",
            "US-TX-1",
            "US-TX-2",
            "US-TX-3",
            "US-TX-4",
            "US-TX-5",
            "US-TX-6",
            "US-WA-1",
        ],
        "US",
    ),
}


# Checks on the answer's shape; their errors say "RunPod's answer is not as expected: ...".
_shape = AnswerShape("RunPod")
_list, _require_dict, _require_str, _unexpected = (
    _shape.require_list,
    _shape.require_dict,
    _shape.require_name,
    _shape.unexpected,
)


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
        data = _data(load_json(payload, what="RunPod API response", address=self.base_url_example))
        gpu_types = _list(data, "gpuTypes", "data")
        data_centers = _list(data, "dataCenters", "data")

        stock_by_gpu: dict[str, list[tuple[dict, object]]] = defaultdict(list)
        for index, center in enumerate(data_centers):
            where = f"dataCenters[{index}]"
            _require_dict(center, where)
            _require_str(center, "id", where)
            if center.get("name") is not None:
                _require_str(center, "name", where)
            for position, entry in enumerate(_list(center, "gpuAvailability", where, optional=True)):
                _require_dict(entry, f"{where}.gpuAvailability[{position}]")
                gpu_id = _require_str(entry, "gpuTypeId", f"{where}.gpuAvailability[{position}]")
                stock_by_gpu[gpu_id].append((center, entry.get("stockStatus")))

        notes = _Notes()
        offers: list[NormalizedOffer] = []
        used_centers: dict[str, dict] = {}
        for index, gpu in enumerate(gpu_types):
            where = f"gpuTypes[{index}]"
            _require_dict(gpu, where)
            gpu_id = _require_str(gpu, "id", where)
            if gpu_id.lower() == "unknown":
                continue  # RunPod's placeholder type, not a GPU
            lowest = gpu.get("lowestPrice") or {}
            _require_dict(lowest, f"{where}.lowestPrice")
            specs = {
                "gpu_model_raw": gpu_id,
                "gpus_per_node": GPU_COUNT,
                "gpu_memory_gb": _whole(gpu.get("memoryInGb"), f"{where}.memoryInGb"),
                "vcpus": _whole(lowest.get("minVcpu"), f"{where}.lowestPrice.minVcpu"),
                "ram_gb": _whole(lowest.get("minMemory"), f"{where}.lowestPrice.minMemory"),
                "nodes_total": None,
            }
            if gpu.get("secureCloud") is True:
                offers += self._secure_offers(gpu, where, specs, stock_by_gpu.get(gpu_id, []), used_centers, notes)
            if gpu.get("communityCloud") is True:
                prices = [_price(gpu.get(name), f"{where}.{name}") for name in ("communityPrice", "communitySpotPrice")]
                notes.community += sum(1 for price in prices if price)

        regions = []
        for code, center in used_centers.items():
            country = DATA_CENTER_COUNTRIES.get(code)
            name = center.get("name")  # usually the id itself: then it says nothing more
            if country:
                regions.append(NormalizedRegion(code=code, country=country, name=name if name != code else ""))
            else:
                notes.unknown_centers[code] += sum(1 for offer in offers if offer.region == code)
        return ParsedInventory(offers=offers, regions=regions, warnings=notes.warnings())

    def _secure_offers(self, gpu, where, specs, stock, used_centers, notes) -> list[NormalizedOffer]:
        prices = {
            "on_demand": _price(gpu.get("securePrice"), f"{where}.securePrice"),
            "spot": _price(gpu.get("secureSpotPrice"), f"{where}.secureSpotPrice"),
        }
        if not prices["on_demand"]:
            notes.no_price.append(f"{gpu['id']} (Secure Cloud on-demand)")
        if prices["spot"] is not None and not prices["spot"]:
            notes.no_price.append(f"{gpu['id']} (Secure Cloud spot)")
        if not stock:
            notes.nowhere.append(gpu["id"])
        offers = []
        for center, status in stock:
            nodes = _nodes(status, notes)
            for pricing_type, price in prices.items():
                if not price:
                    continue
                used_centers.setdefault(center["id"], center)
                offers.append(
                    NormalizedOffer(
                        external_id=f"{center['id']}/{gpu['id']}/{GPU_COUNT}x/{pricing_type}",
                        region=center["id"],
                        pricing_type=pricing_type,
                        price_per_gpu_hour=price,
                        currency="USD",
                        nodes_available=nodes,
                        **specs,
                    )
                )
        return offers


class _Notes:
    """What the provider should hear about, gathered while parsing and said once each."""

    def __init__(self):
        self.no_price: list[str] = []
        self.nowhere: list[str] = []
        self.community = 0
        self.unknown_centers: Counter[str] = Counter()
        self.unknown_stock: set[str] = set()

    def warnings(self) -> list[str]:
        warnings = []
        if self.no_price:
            warnings.append(
                f"Held back {_count(len(self.no_price), 'RunPod price')} of 0 or missing "
                "(a GPU is never listed as free): " + ", ".join(self.no_price) + "."
            )
        if self.nowhere:
            warnings.append(
                "On Secure Cloud but in no data center's availability, so not listed: " + ", ".join(self.nowhere) + "."
            )
        for code, count in sorted(self.unknown_centers.items()):
            warnings.append(
                country_unknown_warning(api="RunPod", noun="data center", nouns="data centers", code=code, count=count)
            )
        if self.community:
            warnings.append(
                f"Held back {_count(self.community, 'Community Cloud price')}: RunPod's API gives no location "
                "for Community Cloud, and the catalog lists an offer only with its country."
            )
        if self.unknown_stock:
            warnings.append(
                "Unknown RunPod stock statuses read as sold out: " + ", ".join(sorted(self.unknown_stock)) + "."
            )
        return warnings


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


def _data(document) -> dict:
    if not isinstance(document, dict):
        raise AdapterError("RunPod's API answered with something other than a JSON object.", permanent=True)
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


def _price(value, where: str) -> Decimal | None:
    """A per-GPU-hour price; None when the API gives none."""
    price = _shape.price(value, where)
    return None if price is None else to_price_places(price)


def _whole(value, where: str) -> int | None:
    """A positive count (GB, vCPUs), or None when not given."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _unexpected(where, "a number", value)
    return round(value) if value > 0 else None


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

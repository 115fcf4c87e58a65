"""Vast.ai: the offers search, ``POST /api/v0/bundles/``.

Based on Vast.ai's public API as documented on vast.ai/developers/api and docs.vast.ai ("Search
offers": ``/api/v0/bundles/``, ``Authorization: Bearer <API key>``, answer ``{"offers": [...]}``)
and on the official CLI, vast-ai/vast-python ``vast.py`` ``search__offers``, whose request this
adapter repeats: a POST whose JSON body is the query, with the CLI's default filters (verified,
not external, rentable, not rented) and ``"type": "on-demand"``. Base URL: ``https://console.vast.ai``
(the CLI's default server; ``https://cloud.vast.ai`` serves the same API).

How an offer is read (docs/adapters/vastai.md has the field table):

- One Vast offer is one machine's bundle of ``num_gpus`` GPUs: ``gpus_per_node = num_gpus``, one
  node, available when ``rentable`` and not ``rented`` (1 node), else sold out (0).
- ``external_id`` is ``machine:<machine_id>:<num_gpus>x:<pricing>``, not the offer id: a host who
  re-lists a machine (a new price, a new end date) gets a new offer id, and keying on the machine
  keeps that as one offer whose price changed (with history) instead of a withdrawal and a new
  offer. Two offers for the same machine and GPU count in one answer: the cheaper is kept, with a
  warning.
- Price per GPU-hour: ``dph_total / num_gpus`` (on demand; ``dph_total`` includes the
  ``allocated_storage`` of the query) and ``min_bid / num_gpus`` (spot: Vast's interruptible
  instances, listed when a positive minimum bid is given). USD. A ``dph_total`` of 0 is held back
  with a warning; a ``min_bid`` of 0 or none means no spot offer.
- ``gpu_ram`` and ``cpu_ram`` are in MB (MiB) in answers, whatever the query language says;
  ``cpu_cores_effective`` (the share of vCPUs the offer gets) may be fractional and is rounded.
- Country: ``geolocation`` is free text the host's location produces, "City, CC", "Region, CC" or
  "CC" (older answers: a country name). The ISO code after the last comma is used when
  django-countries knows it; otherwise the text is tried as a country name. An offer without a
  known country is held back with a warning. Region code: ``vast-<cc>``, one region per country
  (hosts are individual machines; a city is not a property of the region).
- Some GPU names exist in two memory sizes on Vast (``A100 SXM4`` 40 or 80 GB, ...): for those the
  size from ``gpu_ram`` is appended ("A100 SXM4 80GB") so the alias table maps them correctly.
- Offers with no GPU (``num_gpus`` 0 or no ``gpu_name``) are ignored.
"""

from decimal import Decimal

from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from marketplace.inventory import NormalizedOffer, NormalizedRegion, ParsedInventory
from sync.adapters.base import Adapter, AdapterError
from sync.adapters.reading import AnswerShape, load_json, show, to_price_places

SEARCH_PATH = "/api/v0/bundles/"
# The request body: the query of ``vastai search offers`` with its defaults, cheapest first.
# ``limit`` is Vast's cap on the number of offers returned.
SEARCH_QUERY = {
    "verified": {"eq": True},
    "external": {"eq": False},
    "rentable": {"eq": True},
    "rented": {"eq": False},
    "type": "on-demand",
    "order": [["dph_total", "asc"]],
    "allocated_storage": 5.0,
    "limit": 5000,
}
# Vast GPU names that cover several memory sizes: the size is appended before alias lookup.
NAMES_WITH_MEMORY_SIZES = frozenset({"A100 SXM4", "A100 PCIE", "Tesla V100"})

# Checks on the answer's shape; their errors say "Vast.ai's answer is not as expected: ...".
_shape = AnswerShape("Vast.ai")
_number, _price, _unexpected = _shape.number, _shape.price, _shape.unexpected


class VastAiAdapter(Adapter):
    kind = "vastai"
    label = _("Vast.ai (offers search)")
    base_url_example = "https://console.vast.ai"
    base_url_help = _("Vast.ai's console URL, without /api/v0.")
    credentials_help = _("A Vast.ai API key, sent as a bearer token.")
    demo_path = "api/vastai"

    def fetch(self, *, base_url: str, credentials: str, client) -> bytes:
        url = self.api_url(base_url, SEARCH_PATH)
        return client.post(url, headers=self.headers(credentials), json=SEARCH_QUERY).content

    def parse(self, payload: bytes) -> ParsedInventory:
        document = load_json(payload, what="Vast.ai API response", address=self.base_url_example)
        if not isinstance(document, dict):
            raise AdapterError("Vast.ai's API answered with something other than a JSON object.", permanent=True)
        offers = document.get("offers")
        if not isinstance(offers, list):
            message = document.get("msg") or document.get("error")
            if isinstance(message, str) and message:
                raise AdapterError(f"Vast.ai's API returned an error: {message}")
            raise AdapterError('Vast.ai\'s answer has no "offers" list: this is not an offers search.', permanent=True)

        chosen: dict[tuple[int, int], tuple[Decimal, list[NormalizedOffer]]] = {}
        regions: dict[str, NormalizedRegion] = {}
        no_country: list[str] = []
        free: list[str] = []
        duplicates = 0
        for index, item in enumerate(offers):
            where = f"offers[{index}]"
            _shape.require_dict(item, where)
            num_gpus = int(_number(item, "num_gpus", where, required=True))
            gpu_name = item.get("gpu_name")
            if num_gpus < 1 or not isinstance(gpu_name, str) or not gpu_name.strip():
                continue  # no GPU: not something the catalog lists
            machine_id = _identifier(item, "machine_id", where)
            offer_id = _identifier(item, "id", where)
            total = _price(item.get("dph_total"), f"{where}.dph_total", required=True)
            if not total:
                free.append(f"offer {offer_id}")
                continue
            country = _country(item.get("geolocation"))
            if country is None:
                no_country.append(f"offer {offer_id} ({show(item.get('geolocation'))})")
                continue

            region = f"vast-{country.lower()}"
            if region not in regions:
                with translation.override("en"):  # parsing must not depend on the reader's language
                    regions[region] = NormalizedRegion(code=region, country=country, name=str(countries.name(country)))
            gpu_ram = _number(item, "gpu_ram", where)
            memory_gb = round(gpu_ram / 1024) if gpu_ram else None
            raw_name = gpu_name.strip()
            if raw_name in NAMES_WITH_MEMORY_SIZES and memory_gb:
                raw_name = f"{raw_name} {memory_gb}GB"
            vcpus, cpu_ram, disk = (
                _number(item, key, where) for key in ("cpu_cores_effective", "cpu_ram", "disk_space")
            )
            nvlink = _number(item, "bw_nvlink", where)
            available = item.get("rentable", True) is True and not item.get("rented")
            common = {
                "region": region,
                "gpu_model_raw": raw_name,
                "gpus_per_node": num_gpus,
                "currency": "USD",
                "nodes_available": 1 if available else 0,
                "nodes_total": 1,
                "vcpus": round(vcpus) if vcpus else None,
                "ram_gb": round(cpu_ram / 1024) if cpu_ram else None,
                "storage_gb": round(disk) if disk else None,
                "gpu_interconnect": "nvlink" if num_gpus > 1 and nvlink else "",
                "gpu_memory_gb": memory_gb,
            }
            key = f"machine:{machine_id}:{num_gpus}x"
            found = [
                NormalizedOffer(
                    external_id=f"{key}:on_demand",
                    pricing_type="on_demand",
                    price_per_gpu_hour=_per_gpu(total, num_gpus),
                    **common,
                )
            ]
            bid = _price(item.get("min_bid"), f"{where}.min_bid")
            if bid:
                found.append(
                    NormalizedOffer(
                        external_id=f"{key}:spot",
                        pricing_type="spot",
                        price_per_gpu_hour=_per_gpu(bid, num_gpus),
                        **common,
                    )
                )
            previous = chosen.get((machine_id, num_gpus))
            if previous is not None:
                duplicates += 1
                if previous[0] <= total:
                    continue
            chosen[(machine_id, num_gpus)] = (total, found)

        warnings = []
        if free:
            warnings.append(f"Held back {_count(free, 'offer')} priced at 0 (never listed as free): {_some(free)}.")
        if no_country:
            warnings.append(
                f"Held back {_count(no_country, 'offer')} whose geolocation gives no known country: "
                f"{_some(no_country)}."
            )
        if duplicates:
            warnings.append(
                f"{_count(range(duplicates), 'offer')} repeated a machine and GPU count already listed: "
                "the cheaper one was kept."
            )
        used = {offer.region for _, found in chosen.values() for offer in found}
        return ParsedInventory(
            offers=[offer for _, found in chosen.values() for offer in found],
            regions=[region for code, region in regions.items() if code in used],
            warnings=warnings,
        )


def _country(geolocation) -> str | None:
    """The ISO code in "City, CC" / "CC", or a country name; None when unknown."""
    if not isinstance(geolocation, str) or not geolocation.strip():
        return None
    code = geolocation.rsplit(",", 1)[-1].strip().upper()
    if len(code) == 2 and countries.name(code):
        return code
    return countries.by_name(geolocation.strip()) or None


def _identifier(item: dict, key: str, where: str) -> int:
    value = item.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _unexpected(f"{where}.{key}", "a whole number", value)
    return value


def _per_gpu(total: Decimal, num_gpus: int) -> Decimal:
    return to_price_places(total / num_gpus)


def _count(items, noun: str) -> str:
    return f"{len(items)} {noun}{'s' if len(items) != 1 else ''}"


def _some(items: list[str], limit: int = 5) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")

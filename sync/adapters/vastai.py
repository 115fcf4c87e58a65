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
- An offer that cannot be read (a price that is not one, no machine id, a field of the wrong
  type) is skipped with a warning naming it; an answer without an ``offers`` list, an error body,
  or one where no offer can be read fails the sync.
"""

from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from marketplace.inventory import NormalizedOffer, NormalizedRegion, ParsedInventory
from sync.adapters.base import Adapter, AdapterError
from sync.adapters.reading import (
    load_object,
    plural,
    read_number,
    read_object,
    read_price,
    read_whole,
    readable,
    show,
    some,
    to_price_places,
    zero_price_warning,
)

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
        document = load_object(payload, what="Vast.ai API response", address=self.base_url_example)
        listing = document.get("offers")
        if not isinstance(listing, list):
            message = document.get("msg") or document.get("error")
            if isinstance(message, str) and message:
                raise AdapterError(f"Vast.ai's API returned an error: {message}")
            raise AdapterError('Vast.ai\'s answer has no "offers" list: this is not an offers search.', permanent=True)

        chosen: dict[tuple[int, int], _Entry] = {}
        warnings: list[str] = []
        free: list[str] = []
        no_country: list[str] = []
        duplicates = 0
        entries = ((f"offers[{index}]", item) for index, item in enumerate(listing))
        for entry in readable(entries, _Entry.read, warnings, what="offers in the Vast.ai API response"):
            if not entry.total:
                free.append(f"offer {entry.offer_id}")
                continue
            if entry.country is None:
                no_country.append(f"offer {entry.offer_id} ({show(entry.geolocation)})")
                continue
            previous = chosen.get(entry.machine)
            if previous is not None:
                duplicates += 1
            if previous is None or entry.total < previous.total:
                chosen[entry.machine] = entry

        if free:
            warnings.append(zero_price_warning(free))
        if no_country:
            warnings.append(
                f"Held back {plural(len(no_country), 'offer')} whose geolocation gives no known country: "
                f"{some(no_country)}."
            )
        if duplicates:
            warnings.append(
                f"{plural(duplicates, 'offer')} repeated a machine and GPU count already listed: "
                "the cheaper one was kept."
            )
        countries_used = dict.fromkeys(entry.country for entry in chosen.values())
        with translation.override("en"):  # parsing must not depend on the reader's language
            regions = [
                NormalizedRegion(code=_region(code), country=code, name=str(countries.name(code)))
                for code in countries_used
            ]
        return ParsedInventory(
            offers=[offer for entry in chosen.values() for offer in entry.offers()],
            regions=regions,
            warnings=warnings,
        )


class _Entry:
    """One offer of the search: one machine's bundle of ``num_gpus`` GPUs."""

    def __init__(self, item: dict, *, num_gpus: int, gpu_name: str):
        self.machine = (read_whole(item.get("machine_id"), "machine_id"), num_gpus)
        self.offer_id = read_whole(item.get("id"), "id")
        self.total = read_price(item.get("dph_total"), "dph_total")
        self.bid = read_price(item.get("min_bid"), "min_bid", optional=True)
        self.geolocation = item.get("geolocation")
        self.country = _country(self.geolocation)
        gpu_ram, vcpus, cpu_ram, disk, nvlink = (
            read_number(item.get(key), key)
            for key in ("gpu_ram", "cpu_cores_effective", "cpu_ram", "disk_space", "bw_nvlink")
        )
        self.gpu_memory_gb = round(gpu_ram / 1024) if gpu_ram else None
        self.gpu = (
            f"{gpu_name} {self.gpu_memory_gb}GB"
            if gpu_name in NAMES_WITH_MEMORY_SIZES and self.gpu_memory_gb
            else gpu_name
        )
        self.vcpus = round(vcpus) if vcpus else None
        self.ram_gb = round(cpu_ram / 1024) if cpu_ram else None
        self.storage_gb = round(disk) if disk else None
        self.interconnect = "nvlink" if num_gpus > 1 and nvlink else ""
        self.available = item.get("rentable", True) is True and not item.get("rented")

    @classmethod
    def read(cls, item) -> "_Entry | None":
        """Read one offer; None for an offer with no GPU. Raises BadEntry."""
        item = read_object(item)
        num_gpus = read_whole(item.get("num_gpus"), "num_gpus")
        gpu_name = item.get("gpu_name")
        if num_gpus < 1 or not isinstance(gpu_name, str) or not gpu_name.strip():
            return None  # no GPU: not something the catalog lists
        return cls(item, num_gpus=num_gpus, gpu_name=gpu_name.strip())

    def offers(self) -> list[NormalizedOffer]:
        """The on-demand offer, and the spot one when there is a minimum bid."""
        machine_id, num_gpus = self.machine
        prices = {"on_demand": self.total, "spot": self.bid}
        return [
            NormalizedOffer(
                external_id=f"machine:{machine_id}:{num_gpus}x:{pricing_type}",
                region=_region(self.country),
                gpu_model_raw=self.gpu,
                gpus_per_node=num_gpus,
                pricing_type=pricing_type,
                price_per_gpu_hour=to_price_places(price / num_gpus),
                currency="USD",
                nodes_available=1 if self.available else 0,
                nodes_total=1,
                vcpus=self.vcpus,
                ram_gb=self.ram_gb,
                storage_gb=self.storage_gb,
                gpu_interconnect=self.interconnect,
                gpu_memory_gb=self.gpu_memory_gb,
            )
            for pricing_type, price in prices.items()
            if price
        ]


def _region(country: str) -> str:
    return f"vast-{country.lower()}"


def _country(geolocation) -> str | None:
    """The ISO code in "City, CC" / "CC", or a country name; None when unknown."""
    if not isinstance(geolocation, str) or not geolocation.strip():
        return None
    code = geolocation.rsplit(",", 1)[-1].strip().upper()
    if len(code) == 2 and countries.name(code):
        return code
    return countries.by_name(geolocation.strip()) or None

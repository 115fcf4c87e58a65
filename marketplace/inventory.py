"""A provider's inventory in the portal's terms: what adapters produce and the offer service applies.

The sync engine's adapters (sync/adapters/) turn each API's answer into these; the offer service
(marketplace/services.py) maps them onto the catalogue and writes offers. Neither side imports
the other's internals: this module is the hand-off.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from marketplace.gpu_names import GpuQuery


@dataclass(frozen=True, slots=True)
class NormalizedRegion:
    """A location as the provider names it. Empty city/name mean "not given".

    ``country`` is empty when the answer does not state it: the sync then looks the code up in
    the region mappings (data, edited in the admin), and holds the region's offers back for review
    when none knows it. ``name`` is the provider's own description ("Virginia, USA"), shown there.
    ``countries`` are the other countries a region spans, only when the provider says so.
    """

    code: str
    country: str  # ISO 3166-1 alpha-2, upper case; "" when not stated
    city: str = ""
    name: str = ""
    countries: tuple[str, ...] = ()


@dataclass(slots=True)  # not frozen: a frozen dataclass is built 3x slower (0.6 s per 100,000 offers)
class NormalizedOffer:
    """One rentable configuration, in the portal's units: per GPU-hour, whole nodes."""

    external_id: str  # the provider's own, stable id for it
    # A NormalizedRegion.code, or a region configured on the dashboard; "" only for a sold-out offer
    # whose API names no location at all (listed once, "location not stated", never in a country).
    region: str
    gpu_model_raw: str  # the provider's GPU name, mapped through the alias table later
    gpus_per_node: int
    pricing_type: str  # on_demand | spot | reserved
    price_per_gpu_hour: Decimal  # at most 4 decimal places
    currency: str = "USD"
    # Whole nodes rentable now. None: available, but the API does not say how many (e.g. Lambda's
    # "regions with capacity available"); 0: sold out (listed as such, never dropped).
    nodes_available: int | None = 0
    nodes_total: int | None = None
    min_term_months: int | None = None
    vcpus: int | None = None
    ram_gb: int | None = None
    storage_gb: int | None = None
    gpu_interconnect: str = ""  # nvlink | pcie | ""
    network: str = ""  # infiniband | roce | ethernet | ""
    gpu_memory_gb: int | None = None  # per GPU, when the API states it: a fact the GPU resolver uses
    gpu_form_factor: str = ""  # sxm | pcie | nvl | superchip | oam | "": when the API states it
    instance_type: str = ""  # the provider's instance type name, when it has one (a fact too)

    @property
    def gpu_query(self):
        """The GPU name and every fact stated about the GPUs, as the resolver takes them."""
        return GpuQuery(
            name=self.gpu_model_raw,
            memory_gb=self.gpu_memory_gb,
            form_factor=self.gpu_form_factor,
            interconnect=self.gpu_interconnect,
            instance_type=self.instance_type,
            gpus_per_node=self.gpus_per_node,
        )

    @property
    def available(self) -> bool:
        return self.nodes_available is None or self.nodes_available > 0

    @property
    def available_gpus(self) -> int | None:
        return None if self.nodes_available is None else self.nodes_available * self.gpus_per_node


@dataclass(frozen=True, slots=True)
class NormalizedWindow:
    """Forward capacity: ``gpus`` GPUs of a model in a region from ``starts_on`` until ``ends_on``."""

    external_id: str
    region: str
    gpu_model_raw: str
    gpus: int
    starts_on: date
    ends_on: date
    price_per_gpu_hour: Decimal | None = None  # None: not priced yet
    currency: str = ""


@dataclass(slots=True)
class ParsedInventory:
    offers: list[NormalizedOffer]
    regions: list[NormalizedRegion] = field(default_factory=list)
    # Things worth telling the provider that do not fail the sync.
    warnings: list[str] = field(default_factory=list)
    # None: the source does not publish capacity windows (those the provider has are left
    # alone); a list, even empty, is the provider's complete set of windows.
    windows: list[NormalizedWindow] | None = None
    # The provider confirms that offers missing from this inventory are gone, however many (the
    # feed's "withdraw_all": true); otherwise a sudden shrink is held back as suspicious.
    withdraw_all: bool = False

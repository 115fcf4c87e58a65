"""A provider's inventory in the portal's terms: what adapters produce and the offer service applies.

The sync engine's adapters (sync/adapters/) turn each API's answer into these; the offer service
(marketplace/services.py) maps them onto the catalogue and writes offers. Neither side imports
the other's internals: this module is the hand-off.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class NormalizedRegion:
    """A location as the provider names it. Empty city/name mean "not given"."""

    code: str
    country: str  # ISO 3166-1 alpha-2, upper case
    city: str = ""
    name: str = ""


@dataclass(slots=True)  # not frozen: a frozen dataclass is built 3x slower (0.6 s per 100,000 offers)
class NormalizedOffer:
    """One rentable configuration, in the portal's units: per GPU-hour, whole nodes."""

    external_id: str  # the provider's own, stable id for it
    region: str  # a NormalizedRegion.code, or a region configured on the dashboard
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
    gpu_memory_gb: int | None = None  # when the API states it; the catalogue is the reference

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

"""What a parsed inventory would become, without saving anything.

Shared by the dashboard's "test connection" and the ``parse_provider_payload`` command: each
normalized offer with the catalogue GPU model its name maps to (through the alias table) and
the country of its region.
"""

from dataclasses import dataclass, field

from marketplace.formats import price_text
from marketplace.inventory import NormalizedOffer, ParsedInventory
from marketplace.models import GpuAlias, GpuModel
from providers.models import Provider

# The catalogue's form factor, as the normalized "interconnect" a buyer compares offers on.
# A Grace superchip (GH200, GB200) is a board-mounted module whose GPU talks over NVLink, not a
# PCIe card nor a pair of NVL cards: for a buyer it is "sxm".
FORM_FACTOR_INTERCONNECT = {
    GpuModel.FormFactor.SXM: "sxm",
    GpuModel.FormFactor.PCIE: "pcie",
    GpuModel.FormFactor.NVL: "nvl",
    GpuModel.FormFactor.SUPERCHIP: "sxm",
}
# When the GPU is not in the catalogue: what the offer itself says of its GPUs' links.
OFFER_INTERCONNECT = {"nvlink": "sxm", "pcie": "pcie"}


@dataclass(frozen=True)
class PreviewRow:
    offer: NormalizedOffer
    gpu_model: GpuModel | None  # None: unknown name, held back for the admin review queue
    country: str | None  # ISO 3166-1 alpha-2; None when the region is unknown
    region_known: bool

    @property
    def held(self) -> bool:
        """A sync would hold this offer back rather than list it."""
        return self.gpu_model is None or not self.region_known

    @property
    def interconnect(self) -> str | None:
        return offer_interconnect(self.offer, self.gpu_model)


@dataclass
class InventoryPreview:
    rows: list[PreviewRow]
    warnings: list[str] = field(default_factory=list)

    @property
    def listed(self) -> int:
        return sum(1 for row in self.rows if not row.held)

    @property
    def held(self) -> int:
        return len(self.rows) - self.listed


def inventory_preview(*, inventory: ParsedInventory, provider: Provider | None = None) -> InventoryPreview:
    """Map ``inventory``'s offers onto the catalogue and their regions' countries, in two queries.

    A region is known when the inventory declares it or, given ``provider``, when the provider
    has it on the dashboard (as a sync would use it).
    """
    countries = {region.code: region.country for region in inventory.regions}
    if provider is not None:
        codes = {offer.region for offer in inventory.offers} - set(countries)
        for region in provider.regions.filter(code__in=codes):
            countries[region.code] = region.country.code
    gpu_models = GpuAlias.objects.resolve_many(offer.gpu_model_raw for offer in inventory.offers)
    rows = [
        PreviewRow(
            offer=offer,
            gpu_model=gpu_models[offer.gpu_model_raw],
            country=countries.get(offer.region),
            region_known=offer.region in countries,
        )
        for offer in inventory.offers
    ]
    return InventoryPreview(rows=rows, warnings=list(inventory.warnings))


def offer_interconnect(offer: NormalizedOffer, gpu_model: GpuModel | None) -> str | None:
    """sxm, pcie, nvl or None: the catalogue model's form factor, else the offer's GPU interconnect."""
    if gpu_model is not None:
        return FORM_FACTOR_INTERCONNECT.get(gpu_model.form_factor)
    return OFFER_INTERCONNECT.get(offer.gpu_interconnect)


def offer_json(row: PreviewRow) -> dict:
    """One offer as ``parse_provider_payload`` prints it (docs/adapters/README.md)."""
    offer, gpu_model = row.offer, row.gpu_model
    return {
        "external_id": offer.external_id,
        "gpu_model": gpu_model.name if gpu_model else None,
        "gpu_model_raw": offer.gpu_model_raw,
        "gpus_per_node": offer.gpus_per_node,
        # What the API states, else the catalogue's figure for the model.
        "gpu_memory_gb": offer.gpu_memory_gb
        if offer.gpu_memory_gb is not None
        else getattr(gpu_model, "memory_gb", None),
        "vcpus": offer.vcpus,
        "ram_gb": offer.ram_gb,
        "region": offer.region,
        "country": row.country,
        "pricing_type": offer.pricing_type,
        "price_per_gpu_hour": price_text(offer.price_per_gpu_hour),
        "currency": offer.currency,
        "available": offer.available,
        "available_gpus": offer.available_gpus,
        "interconnect": row.interconnect,
    }

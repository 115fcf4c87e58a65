"""What a parsed inventory would become, without saving anything.

Shared by the dashboard's "test connection" and the ``parse_provider_payload`` command: each
normalized offer with the catalogue GPU model its name maps to (through the alias table) and
the country of its region.
"""

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from marketplace.formats import price_text
from marketplace.inventory import NormalizedOffer, ParsedInventory
from marketplace.models import GpuAlias, GpuModel
from portal.lib.http import FetchError, GuardedClient
from providers.models import Provider
from sync.adapters.base import AdapterError
from sync.engine import connection_preview
from sync.models import ConnectionTest

logger = logging.getLogger(__name__)
PREVIEW_ROWS = 200  # a test connection keeps and shows this many offers, and counts the rest

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
    country: str | None  # ISO 3166-1 alpha-2; None when the region is unknown or not stated
    region_known: bool

    @property
    def location_stated(self) -> bool:
        """False for a sold-out offer whose API names no location: listed once, in no country."""
        return bool(self.offer.region)

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
    """Map ``inventory``'s offers onto the catalogue (by name and stated facts, as a sync would) and
    their regions' countries, in a few queries.

    A region is known when the inventory declares it or, given ``provider``, when the provider
    has it on the dashboard (as a sync would use it).
    """
    countries = {region.code: region.country for region in inventory.regions if region.country}
    if provider is not None:
        codes = {offer.region for offer in inventory.offers} - set(countries)
        for region in provider.regions.filter(code__in=codes):
            countries[region.code] = region.country.code
    resolutions = GpuAlias.objects.resolve_facts((offer.gpu_query for offer in inventory.offers), provider=provider)
    rows = [
        PreviewRow(
            offer=offer,
            gpu_model=resolutions[offer.gpu_query].gpu_model,
            country=countries.get(offer.region),
            region_known=offer.region in countries or (not offer.region and offer.nodes_available == 0),
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
        "region": offer.region or None,
        "country": row.country,
        "pricing_type": offer.pricing_type,
        "price_per_gpu_hour": price_text(offer.price_per_gpu_hour),
        "currency": offer.currency,
        "available": offer.available,
        "available_gpus": offer.available_gpus,
        "interconnect": row.interconnect,
    }


def preview_json(preview: InventoryPreview, *, limit: int = PREVIEW_ROWS) -> dict:
    """What a test connection shows, as JSON: counts, warnings and the first ``limit`` rows."""
    rows = [
        {
            "gpu_model_raw": row.offer.gpu_model_raw,
            "gpu_model": row.gpu_model.name if row.gpu_model else None,
            "region": row.offer.region,
            "region_known": row.region_known,
            "country": row.country,
            "gpus_per_node": row.offer.gpus_per_node,
            "price_per_gpu_hour": price_text(row.offer.price_per_gpu_hour),
            "currency": row.offer.currency,
            "pricing_type": row.offer.pricing_type,
            "nodes_available": row.offer.nodes_available,
            "available_gpus": row.offer.available_gpus,
            "held": row.held,
        }
        for row in preview.rows[:limit]
    ]
    return {
        "count": len(preview.rows),
        "listed": preview.listed,
        "held": preview.held,
        "more": max(len(preview.rows) - limit, 0),
        "warnings": preview.warnings,
        "rows": rows,
    }


def connection_test_run(*, test: ConnectionTest) -> ConnectionTest:
    """Fetch and parse the test's connection, save what would be listed on the test, nothing else.

    Someone is waiting: fewer and shorter retries than a scheduled sync, and an overall limit of
    CONNECTION_TEST_TIMEOUT_SECONDS. Never raises for the provider's fault: the test says it.
    """
    connection = test.connection
    limit = settings.CONNECTION_TEST_TIMEOUT_SECONDS
    client = GuardedClient(max_retries=1, max_retry_wait=3.0, total_timeout=limit, read_timeout=min(limit, 10))
    try:
        with client:
            inventory = connection_preview(connection=connection, client=client)
        test.result = preview_json(inventory_preview(inventory=inventory, provider=connection.provider))
        test.status = ConnectionTest.Status.DONE
    except (FetchError, AdapterError) as error:
        test.status, test.error = ConnectionTest.Status.FAILED, str(error)
    except Exception:
        logger.exception("test of connection %s failed unexpectedly", connection.pk)
        test.status = ConnectionTest.Status.FAILED
        test.error = "The test stopped on an internal error; the portal's team can see it in the logs."
    test.finished_at = timezone.now()
    test.save(update_fields=["status", "error", "result", "finished_at"])
    return test

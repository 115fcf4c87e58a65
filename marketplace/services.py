"""Writes on the marketplace side: applying a provider's synced inventory to its offers."""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from marketplace.models import GpuAlias, GpuModel, GpuNameReview, Offer, OfferSnapshot, normalize_gpu_name

if TYPE_CHECKING:
    from providers.adapters.base import NormalizedOffer
    from providers.models import Region, SyncConnection

# The columns a sync owns: a difference in any of them makes the offer "updated".
SYNCED_FIELDS = ("region_id", "country", "gpu_model_id", *Offer.SPEC_FIELDS)
UPDATE_FIELDS = [
    *(name.removesuffix("_id") for name in SYNCED_FIELDS),
    "status",
    "source",
    "sync_connection",
    "last_verified_at",
    "stale_at",
    "updated_at",
]
CHUNK = 2000  # ids per UPDATE ... WHERE id IN (...), well under SQLite's variable limit
MAX_WARNINGS = 50


@dataclass
class InventoryApplyResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    skipped: int = 0
    warnings: list[str] = field(default_factory=list)
    # GPU names the alias table does not know -> offers held back, for the review queue.
    unknown_gpus: dict[str, int] = field(default_factory=dict)


def gpu_models_by_raw_name(names: Iterable[str]) -> dict[str, GpuModel | None]:
    """Map provider GPU names onto the catalogue in one query (as GpuAlias.objects.resolve does)."""
    keys = {name: normalize_gpu_name(name) for name in set(names)}
    aliases = GpuAlias.objects.filter(normalized__in=set(keys.values())).select_related("gpu_model")
    by_key = {alias.normalized: alias.gpu_model for alias in aliases}
    return {name: by_key.get(key) for name, key in keys.items()}


@transaction.atomic
def offers_apply_inventory(
    *,
    connection: "SyncConnection",
    offers: Iterable["NormalizedOffer"],
    regions: Mapping[str, "Region"],
    now: datetime,
) -> InventoryApplyResult:
    """Make the connection's offers match ``offers``, the provider's complete inventory.

    Set-based, in one transaction, a bounded number of queries whatever the size: new ids are
    created; offers whose synced fields differ are updated (and reactivated if withdrawn);
    unchanged ones only get their verification time moved; this connection's active offers
    missing from the inventory are withdrawn, never deleted. Snapshots record the price and
    availability of new offers and of those whose price or availability changed.

    Offers are held back (counted as skipped, explained in warnings) when their GPU name is not
    in the alias table, their region is unknown (``regions`` maps the provider's codes), or their
    id belongs to an offer synced by another connection. An offer of the same provider entered
    by hand or by CSV with the same id is taken over by the sync.
    """
    offers = list(offers)
    result = InventoryApplyResult()
    stale_at = now + Offer(sync_connection=connection).stale_after()
    gpu_models = gpu_models_by_raw_name(item.gpu_model_raw for item in offers)
    existing = {
        offer.external_id: offer for offer in Offer.objects.filter(provider_id=connection.provider_id).order_by()
    }
    unknown_gpus: Counter[str] = Counter()
    unknown_regions: Counter[str] = Counter()
    foreign: list[str] = []
    duplicates: list[str] = []
    invalid: list[str] = []

    to_create: list[Offer] = []
    to_update: list[Offer] = []
    to_snapshot: list[Offer] = []
    unchanged_ids: list[int] = []
    seen: set[str] = set()
    for item in offers:
        gpu_model, region = gpu_models[item.gpu_model_raw], regions.get(item.region)
        offer = existing.get(item.external_id)
        if gpu_model is None:
            unknown_gpus[item.gpu_model_raw] += 1
            continue
        if region is None:
            unknown_regions[item.region] += 1
            continue
        if item.external_id in seen:
            duplicates.append(item.external_id)
            continue
        if problem := _offer_problem(item):
            invalid.append(f'Offer "{item.external_id[:80]}" skipped: {problem}.')
            continue
        if offer is not None and offer.sync_connection_id not in (None, connection.pk):
            foreign.append(item.external_id)
            continue
        seen.add(item.external_id)
        values = _synced_values(item, gpu_model=gpu_model, region=region)
        if offer is None:
            offer = Offer(
                provider_id=connection.provider_id,
                external_id=item.external_id,
                source=Offer.Source.SYNC,
                sync_connection=connection,
                last_verified_at=now,
                stale_at=stale_at,
                **values,
            )
            to_create.append(offer)
            to_snapshot.append(offer)
            continue
        before = (offer.price_per_gpu_hour, offer.nodes_available, offer.status)
        if _is_current(offer, values, connection):
            unchanged_ids.append(offer.pk)
            continue
        for name, value in values.items():
            setattr(offer, name, value)
        offer.status, offer.source, offer.sync_connection = Offer.Status.ACTIVE, Offer.Source.SYNC, connection
        offer.last_verified_at, offer.stale_at, offer.updated_at = now, stale_at, now
        to_update.append(offer)
        if before != (offer.price_per_gpu_hour, offer.nodes_available, offer.status):
            to_snapshot.append(offer)

    missing_ids = [
        offer.pk
        for offer in existing.values()
        if offer.sync_connection_id == connection.pk
        and offer.status == Offer.Status.ACTIVE
        and offer.external_id not in seen
    ]
    Offer.objects.bulk_create(to_create, batch_size=1000)
    Offer.objects.bulk_update(to_update, UPDATE_FIELDS, batch_size=500)
    for chunk in _chunks(unchanged_ids):
        # Verification only: no updated_at, no snapshot.
        Offer.objects.filter(pk__in=chunk).update(last_verified_at=now, stale_at=stale_at)
    for chunk in _chunks(missing_ids):
        Offer.objects.filter(pk__in=chunk).update(status=Offer.Status.WITHDRAWN, updated_at=now)
    OfferSnapshot.objects.bulk_create(
        [
            OfferSnapshot(
                offer=offer,
                recorded_at=now,
                price_per_gpu_hour=offer.price_per_gpu_hour,
                nodes_available=offer.nodes_available,
            )
            for offer in to_snapshot
        ],
        batch_size=1000,
    )

    result.created, result.updated = len(to_create), len(to_update)
    result.unchanged, result.withdrawn = len(unchanged_ids), len(missing_ids)
    result.skipped = (
        sum(unknown_gpus.values()) + sum(unknown_regions.values()) + len(foreign) + len(duplicates) + len(invalid)
    )
    result.unknown_gpus = dict(unknown_gpus)
    result.warnings = _warnings(unknown_gpus, unknown_regions, foreign, duplicates) + invalid
    if len(result.warnings) > MAX_WARNINGS:
        extra = len(result.warnings) - MAX_WARNINGS
        result.warnings = [*result.warnings[:MAX_WARNINGS], f"... and {extra} more."]
    return result


def _synced_values(item: "NormalizedOffer", *, gpu_model: GpuModel, region: "Region") -> dict:
    return {
        "region_id": region.pk,
        "country": region.country.code,
        "gpu_model_id": gpu_model.pk,
        "gpus_per_node": item.gpus_per_node,
        "vcpus": item.vcpus,
        "ram_gb": item.ram_gb,
        "storage_gb": item.storage_gb,
        "gpu_interconnect": item.gpu_interconnect,
        "network": item.network,
        "pricing_type": item.pricing_type,
        "min_term_months": item.min_term_months,
        "price_per_gpu_hour": item.price_per_gpu_hour,
        "currency": item.currency,
        "nodes_available": item.nodes_available,
        "nodes_total": item.nodes_total,
    }


def _offer_problem(item: "NormalizedOffer") -> str | None:
    """What the database would refuse. The feed's schema already rules these out; other
    adapters' payloads may not, and one bad offer must not fail the whole sync."""
    if not 0 < len(item.external_id) <= 200:
        return "its id must have 1 to 200 characters"
    if item.price_per_gpu_hour < 0 or item.price_per_gpu_hour >= 1_000_000:
        return f"price {item.price_per_gpu_hour} is out of range"
    if item.gpus_per_node < 1:
        return "it needs at least one GPU per node"
    available, total = item.nodes_available, item.nodes_total  # available None: "some, count unknown"
    if available is not None and (available < 0 or (total is not None and available > total)):
        return f"{available} nodes available out of {total} is not possible"
    if total is not None and total < 0:
        return f"{total} nodes in total is not possible"
    if item.pricing_type == Offer.PricingType.RESERVED and not item.min_term_months:
        return "a reserved price needs a minimum term"
    return None


def _is_current(offer: Offer, values: dict, connection: "SyncConnection") -> bool:
    if offer.status != Offer.Status.ACTIVE or offer.source != Offer.Source.SYNC:
        return False
    if offer.sync_connection_id != connection.pk:
        return False
    # CountryField gives a Country object; compare codes.
    return all(
        (getattr(offer, name).code if name == "country" else getattr(offer, name)) == value
        for name, value in values.items()
    )


def _chunks(ids: list[int]):
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _warnings(unknown_gpus: Counter, unknown_regions: Counter, foreign: list[str], duplicates: list[str]) -> list[str]:
    warnings = [
        f'Unknown GPU name "{name}" ({count} offer{"s" if count > 1 else ""}): held back until an admin '
        "maps it to a GPU model."
        for name, count in sorted(unknown_gpus.items())
    ]
    warnings += [
        f'Unknown region "{code}" ({count} offer{"s" if count > 1 else ""}): declare it in the feed\'s '
        '"regions" or add it on the dashboard.'
        for code, count in sorted(unknown_regions.items())
    ]
    warnings += [
        f'Offer "{external_id}" is synced by another connection of this provider: skipped.' for external_id in foreign
    ]
    warnings += [
        f'Offer id "{external_id}" appears more than once: only the first was used.' for external_id in duplicates
    ]
    return warnings


def gpu_names_unknown_record(*, provider, names: Mapping[str, int], now: datetime) -> None:
    """Put GPU names the alias table does not know into the admin review queue.

    ``names`` maps each raw name to the number of offers held back because of it. A name that
    was resolved once but is unknown again (its alias was deleted) goes back into the queue.
    """
    # Spellings that normalize alike ("H9 X", "h9-x") are one entry: their counts add up.
    held: Counter = Counter()
    spelling: dict[str, str] = {}
    for raw_name, count in names.items():
        key = normalize_gpu_name(raw_name)
        held[key] += count
        spelling.setdefault(key, raw_name)
    for key, count in held.items():
        review, _created = GpuNameReview.objects.get_or_create(
            normalized=key, defaults={"raw_name": spelling[key], "first_seen_at": now}
        )
        review.offers_held = count
        review.last_seen_at = now
        review.resolved_at = None
        review.save(update_fields=["offers_held", "last_seen_at", "resolved_at"])
        review.providers.add(provider)


@transaction.atomic
def gpu_name_review_resolve(*, review: GpuNameReview, gpu_model: GpuModel, now: datetime) -> int:
    """Map a GPU name from the review queue to ``gpu_model`` and let its held offers in.

    Creates the alias (unless the name already maps to ``gpu_model``), marks the review resolved,
    and makes the enabled sync connections of the providers that used the name due now, so the
    held offers are listed by their next sync. Returns how many connections were made due.
    Raises ValidationError when the name already maps to another GPU model.
    """
    # Imported here: marketplace reads providers' models only for this one write.
    from providers.models import SyncConnection

    alias = GpuAlias.objects.filter(normalized=review.normalized).select_related("gpu_model").first()
    if alias is None:
        alias = GpuAlias(name=review.raw_name, gpu_model=gpu_model, normalized=review.normalized)
        alias.full_clean()
        alias.save()
    elif alias.gpu_model_id != gpu_model.pk:
        raise ValidationError(
            _("“%(name)s” already maps to %(gpu)s (as the alias “%(alias)s”): change that alias instead."),
            params={"name": review.raw_name, "gpu": alias.gpu_model, "alias": alias.name},
        )
    review.gpu_model, review.resolved_at = gpu_model, now
    review.save(update_fields=["gpu_model", "resolved_at"])
    return SyncConnection.objects.filter(provider__in=review.providers.all(), enabled=True).update(next_sync_at=now)

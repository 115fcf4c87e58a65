"""Every write on offers: by hand, by CSV, by sync; and the GPU name review queue.

Every service validates with ``full_clean()`` before saving (or, for the set-based sync apply,
checks each row against the same rules), so a rule broken here fails the same way whether the
call comes from a form, a CSV import, a sync or a shell. Offers are never deleted.
"""

import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from typing import Any, Protocol

from django.core.exceptions import ValidationError
from django.db import connection as db_connection
from django.db import transaction
from django.utils.translation import gettext as _

from marketplace.inventory import NormalizedOffer, ParsedInventory
from marketplace.models import GpuAlias, GpuModel, GpuNameReview, Offer, OfferSnapshot, normalize_gpu_name
from portal.lib.bulk import adapted_rows, rows_insert, rows_update
from providers.models import Provider, Region
from providers.services import regions_upsert


class InventorySource(Protocol):
    """What the apply needs of a sync connection (sync.models.SyncConnection), which this layer
    does not import: its id, its provider and its interval (for the staleness rule)."""

    pk: int
    provider_id: int
    provider: Provider
    interval_seconds: int


# The columns a sync owns: a difference in any of them makes the offer "updated".
SYNCED_FIELDS = ("region_id", "country", "gpu_model_id", *Offer.SPEC_FIELDS)
# An existing offer as the apply reads it: a tuple, not a model instance (100,000 instances
# take 135 MB and seconds to build; their tuples 23 MB).
EXISTING_FIELDS = ("id", "external_id", "status", "source", "sync_connection_id", *SYNCED_FIELDS)
PRICE, AVAILABLE = EXISTING_FIELDS.index("price_per_gpu_hour"), EXISTING_FIELDS.index("nodes_available")
CREATE_FIELDS = (
    "provider_id",
    "external_id",
    "status",
    "source",
    "sync_connection_id",
    "last_verified_at",
    "stale_at",
    "created_at",
    "updated_at",
    *SYNCED_FIELDS,
)
UPDATE_FIELDS = ("status", "source", "sync_connection_id", "last_verified_at", "stale_at", "updated_at", *SYNCED_FIELDS)
SNAPSHOT_FIELDS = ("offer_id", "recorded_at", "price_per_gpu_hour", "nodes_available")
CHUNK = 2000  # ids per UPDATE ... WHERE id IN (...), well under SQLite's variable limit
MAX_WARNINGS = 50
# The fields a provider may set on an offer; everything else (status, provenance, freshness)
# is managed by the services.
OFFER_FIELDS = frozenset({"region", "gpu_model", "external_id", *Offer.SPEC_FIELDS})


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


# --- Offers a provider maintains (dashboard, admin) ------------------------------------------


def offer_external_id_new() -> str:
    """A stable id for an offer entered by hand, for later CSV updates."""
    return f"manual-{uuid.uuid4().hex[:12]}"


def offer_snapshot_record(*, offer: Offer) -> None:
    """Remember the offer's price and availability, for its history chart."""
    OfferSnapshot.objects.create(
        offer=offer, price_per_gpu_hour=offer.price_per_gpu_hour, nodes_available=offer.nodes_available
    )


def _offer_set(offer: Offer, fields: dict[str, Any]) -> None:
    unknown = set(fields) - OFFER_FIELDS
    if unknown:
        raise TypeError(f"not offer fields a provider may set: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(offer, name, value)
    if offer.region_id:
        offer.country = offer.region.country  # Offer.save() does it too, but full_clean() comes first


@transaction.atomic
def offer_create(*, provider: Provider, source: str = Offer.Source.MANUAL, **fields: Any) -> Offer:
    """Create an active offer of ``provider``, verified now.

    ``fields`` are among OFFER_FIELDS; a blank ``external_id`` gets a generated stable one.
    """
    offer = Offer(provider=provider, source=source)
    _offer_set(offer, fields)
    if not offer.external_id:
        offer.external_id = offer_external_id_new()
    offer.mark_verified()
    offer.full_clean()
    offer.save()
    offer_snapshot_record(offer=offer)
    return offer


@transaction.atomic
def offer_update(*, offer: Offer, **fields: Any) -> Offer:
    """Change an offer's fields (among OFFER_FIELDS).

    A hand-maintained offer counts as verified by the edit. A synced offer keeps its sync's
    verification time: the feed stays its source of truth and the next sync may undo the edit.
    """
    # From the database: a ModelForm has already changed the instance in memory.
    before = Offer.objects.filter(pk=offer.pk).values_list("price_per_gpu_hour", "nodes_available").first()
    _offer_set(offer, fields)
    if not offer.external_id:
        offer.external_id = offer_external_id_new()
    if offer.sync_connection_id is None:
        offer.mark_verified()
    offer.full_clean()
    offer.save()
    if before is None or (offer.price_per_gpu_hour, offer.nodes_available) != tuple(before):
        offer_snapshot_record(offer=offer)
    return offer


def offer_withdraw(*, offer: Offer) -> Offer:
    """Take an offer off the catalog; it stays in the database with its history."""
    offer.status = Offer.Status.WITHDRAWN
    offer.full_clean()
    offer.save()
    return offer


def offer_reactivate(*, offer: Offer) -> Offer:
    """List a withdrawn offer again; a hand-maintained one counts as verified now."""
    offer.status = Offer.Status.ACTIVE
    if offer.sync_connection_id is None:
        offer.mark_verified()
    offer.full_clean()
    offer.save()
    return offer


def offer_confirm_available(*, offer: Offer) -> Offer:
    """The provider vouches that a hand-maintained offer is still accurate: it is fresh again."""
    if offer.sync_connection_id is not None:
        raise ValidationError(_("This offer is verified by its sync connection, not by hand."))
    offer.mark_verified()
    offer.full_clean()
    offer.save()
    return offer


# --- Synced inventories ---------------------------------------------------------------------


def gpu_models_by_raw_name(names: Iterable[str]) -> dict[str, GpuModel | None]:
    """Map provider GPU names onto the catalogue in one query (as GpuAlias.objects.resolve does)."""
    keys = {name: normalize_gpu_name(name) for name in set(names)}
    aliases = GpuAlias.objects.filter(normalized__in=set(keys.values())).select_related("gpu_model")
    by_key = {alias.normalized: alias.gpu_model for alias in aliases}
    return {name: by_key.get(key) for name, key in keys.items()}


@transaction.atomic
def inventory_apply(*, connection: InventorySource, inventory: ParsedInventory, now: datetime) -> InventoryApplyResult:
    """Apply a connection's complete, parsed inventory: its regions, then its offers.

    The sync engine's one call into the marketplace. Regions the inventory declares are created
    or updated; offers follow offers_apply_inventory(); GPU names the catalogue does not know go
    to the admin review queue. The inventory's own warnings come first in the result's.
    """
    regions = regions_upsert(provider=connection.provider, regions=inventory.regions)
    result = offers_apply_inventory(connection=connection, offers=inventory.offers, regions=regions, now=now)
    if result.unknown_gpus:
        gpu_names_unknown_record(provider=connection.provider, names=result.unknown_gpus, now=now)
    result.warnings = inventory.warnings + result.warnings
    return result


@transaction.atomic
def offers_apply_inventory(
    *,
    connection: InventorySource,
    offers: Iterable[NormalizedOffer],
    regions: Mapping[str, Region],
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

    Rows are read as tuples and written in bulk (COPY on PostgreSQL) rather than through model
    instances: a 100,000-offer feed is applied in seconds (docs/performance.md).
    """
    offers = offers if isinstance(offers, list) else list(offers)
    result = InventoryApplyResult()
    stale_at = now + Offer(sync_connection=connection).stale_after()
    gpu_models = {
        raw_name: gpu_model and gpu_model.pk
        for raw_name, gpu_model in gpu_models_by_raw_name(item.gpu_model_raw for item in offers).items()
    }
    region_keys = {code: (region.pk, region.country.code) for code, region in regions.items()}
    existing = {
        row[1]: row
        for row in Offer.objects.filter(provider_id=connection.provider_id).order_by().values_list(*EXISTING_FIELDS)
    }
    unknown_gpus: Counter[str] = Counter()
    unknown_regions: Counter[str] = Counter()
    foreign: list[str] = []
    duplicates: list[str] = []
    invalid: list[str] = []

    to_create: list[tuple] = []
    to_update: list[tuple] = []
    to_snapshot: list[tuple] = []
    unchanged = 0
    seen: set[str] = set()
    spec_values = attrgetter(*Offer.SPEC_FIELDS)
    provider_id, current_state = connection.provider_id, (Offer.Status.ACTIVE, Offer.Source.SYNC, connection.pk)
    for item in offers:
        gpu_model_id, region_key = gpu_models[item.gpu_model_raw], region_keys.get(item.region)
        row = existing.get(item.external_id)
        if gpu_model_id is None:
            unknown_gpus[item.gpu_model_raw] += 1
            continue
        if region_key is None:
            unknown_regions[item.region] += 1
            continue
        if item.external_id in seen:
            duplicates.append(item.external_id)
            continue
        if problem := _offer_problem(item):
            invalid.append(f'Offer "{item.external_id[:80]}" skipped: {problem}.')
            continue
        if row is not None and row[4] not in (None, connection.pk):
            foreign.append(item.external_id)
            continue
        seen.add(item.external_id)
        values = (*region_key, gpu_model_id, *spec_values(item))
        if row is None:
            to_create.append((provider_id, item.external_id, *current_state, now, stale_at, now, now, *values))
            continue
        if row[2:5] == current_state and row[5:] == values:
            unchanged += 1
            continue
        to_update.append((*current_state, now, stale_at, now, *values, row[0]))
        if (row[2], row[PRICE], row[AVAILABLE]) != (Offer.Status.ACTIVE, item.price_per_gpu_hour, item.nodes_available):
            to_snapshot.append((row[0], now, item.price_per_gpu_hour, item.nodes_available))

    missing_ids = [
        row[0]
        for external_id, row in existing.items()
        if row[4] == connection.pk and row[2] == Offer.Status.ACTIVE and external_id not in seen
    ]
    del existing
    for chunk in _chunks(missing_ids):
        Offer.objects.filter(pk__in=chunk).update(status=Offer.Status.WITHDRAWN, updated_at=now)
    rows_update(Offer, UPDATE_FIELDS, to_update)
    rows_insert(Offer, CREATE_FIELDS, to_create)
    # Verification only, of every listed offer the inventory confirmed unchanged (the others were
    # just written with last_verified_at = now): no updated_at, no snapshot. No index holds these
    # two columns, so PostgreSQL rewrites the rows in place (HOT) without touching an index.
    Offer.objects.filter(sync_connection=connection, status=Offer.Status.ACTIVE, last_verified_at__lt=now).update(
        last_verified_at=now, stale_at=stale_at
    )
    rows_insert(OfferSnapshot, SNAPSHOT_FIELDS, to_snapshot)
    if to_create:
        _snapshots_of_created(connection=connection, now=now)

    result.created, result.updated = len(to_create), len(to_update)
    result.unchanged, result.withdrawn = unchanged, len(missing_ids)
    result.skipped = (
        sum(unknown_gpus.values()) + sum(unknown_regions.values()) + len(foreign) + len(duplicates) + len(invalid)
    )
    result.unknown_gpus = dict(unknown_gpus)
    result.warnings = _warnings(unknown_gpus, unknown_regions, foreign, duplicates) + invalid
    if len(result.warnings) > MAX_WARNINGS:
        extra = len(result.warnings) - MAX_WARNINGS
        result.warnings = [*result.warnings[:MAX_WARNINGS], f"... and {extra} more."]
    return result


def _snapshots_of_created(*, connection: InventorySource, now: datetime) -> None:
    """The first snapshot of the offers just created, read back by their creation time."""
    snapshot, offer = OfferSnapshot._meta.db_table, Offer._meta.db_table
    [(when,)] = adapted_rows(Offer, ["created_at"], [(now,)])
    with db_connection.cursor() as cursor:
        sql = (
            f"INSERT INTO {snapshot} (offer_id, recorded_at, price_per_gpu_hour, nodes_available) "  # noqa: S608
            f"SELECT id, %s, price_per_gpu_hour, nodes_available FROM {offer} "
            "WHERE provider_id = %s AND sync_connection_id = %s AND created_at = %s"
        )
        cursor.execute(
            sql,
            [when, connection.provider_id, connection.pk, when],
        )


def _offer_problem(item: NormalizedOffer) -> str | None:
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
    # Spellings that normalize alike ("H9 X", "h9-x") are one entry: their counts add up. In key
    # order, so that concurrent syncs lock the queue's rows in the same order.
    held: Counter = Counter()
    spelling: dict[str, str] = {}
    for raw_name, count in sorted(names.items()):
        key = normalize_gpu_name(raw_name)
        held[key] += count
        spelling.setdefault(key, raw_name)
    for key, count in sorted(held.items()):
        review, _created = GpuNameReview.objects.get_or_create(
            normalized=key, defaults={"raw_name": spelling[key], "first_seen_at": now}
        )
        review.offers_held = count
        review.last_seen_at = now
        review.resolved_at = None
        review.save(update_fields=["offers_held", "last_seen_at", "resolved_at"])
        review.providers.add(provider)


@transaction.atomic
def gpu_name_review_resolve(*, review: GpuNameReview, gpu_model: GpuModel, now: datetime) -> None:
    """Map a GPU name from the review queue to ``gpu_model``: create the alias (unless the name
    already maps to ``gpu_model``) and mark the review resolved.

    Raises ValidationError when the name already maps to another GPU model. The held offers are
    listed by the providers' next syncs (sync.services.gpu_name_review_map makes them due now).
    """
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

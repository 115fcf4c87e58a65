"""Every write on offers: by hand, by CSV, by sync; and the GPU name review queue.

Every service validates with ``full_clean()`` before saving (or, for the set-based sync apply,
checks each row against the same rules), so a rule broken here fails the same way whether the
call comes from a form, a CSV import, a sync or a shell. Offers are never deleted.
"""

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from operator import attrgetter
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db import connection as db_connection
from django.db.models import F, OuterRef
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace.currencies import ISO_4217
from marketplace.fx import EcbRates, ecb_rates_parse, price_normalize
from marketplace.gpu_names import GpuQuery
from marketplace.inventory import NormalizedOffer, NormalizedWindow, ParsedInventory
from marketplace.models import (
    CapacityWindow,
    ExchangeRate,
    GpuAlias,
    GpuModel,
    GpuNameReview,
    GpuResolution,
    Offer,
    OfferSnapshot,
    SearchDemand,
    alias_pins_a_variant,
    normalize_gpu_name,
    verification_lifetime,
)
from marketplace.signals import offers_changed
from portal.lib.bulk import adapted_rows, rows_insert, rows_update
from providers.models import Provider, Region
from providers.services import region_update, regions_upsert


class InventorySource(Protocol):
    """What the apply needs of a sync connection (sync.models.SyncConnection), which this layer
    does not import: its id, its provider and its interval (for the staleness rule)."""

    pk: int
    provider_id: int
    provider: Provider
    interval_seconds: int
    last_success_at: datetime | None


# The columns a sync owns: a difference in any of them makes the offer "updated".
SYNCED_FIELDS = ("region_id", "country", "gpu_model_id", *Offer.SPEC_FIELDS, "price_normalized")
# An existing offer as the apply reads it: a tuple, not a model instance (100,000 instances
# take 135 MB and seconds to build; their tuples 23 MB). Its normalized price is not read: with
# the same price and currency it is the same (a change of rates re-prices every offer at once).
EXISTING_FIELDS = ("id", "external_id", "status", "source", "sync_connection_id", *SYNCED_FIELDS[:-1])
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
# What an offer states of its GPU, in GpuQuery's order: one resolution per distinct key.
GPU_QUERY_KEY = attrgetter(
    "gpu_model_raw", "gpu_memory_gb", "gpu_form_factor", "gpu_interconnect", "instance_type", "gpus_per_node"
)
SNAPSHOT_FIELDS = ("offer_id", "recorded_at", "price_per_gpu_hour", "nodes_available")
CHUNK = 2000  # ids per UPDATE ... WHERE id IN (...), well under SQLite's variable limit
MAX_WARNINGS = 50
# The fields a provider may set on an offer; everything else (status, provenance, freshness)
# is managed by the services.
OFFER_FIELDS = frozenset({"region", "gpu_model", "external_id", *Offer.SPEC_FIELDS})


@dataclass
class UnresolvedGpu:
    """A GPU name the resolver could not map, as one sync saw it: for the review queue."""

    status: str  # unknown | ambiguous | contradiction
    offers: int = 0
    candidates: set = field(default_factory=set)  # GpuModel ids that fit the facts (ambiguous)
    facts: list[dict] = field(default_factory=list)  # the distinct facts stated, a few at most

    def add(self, resolution: GpuResolution, count: int) -> None:
        self.offers += count
        self.candidates |= {gpu.pk for gpu in resolution.candidates}
        if resolution.facts not in self.facts and len(self.facts) < MAX_FACTS_SHOWN:
            self.facts.append(resolution.facts)


MAX_FACTS_SHOWN = 10


@dataclass
class InventoryApplyResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    skipped: int = 0
    suspicious: bool = False  # withdrawals held back (withdrawals_suspicious)
    warnings: list[str] = field(default_factory=list)
    # GPU names the resolver could not map -> how, for the review queue (offers held back).
    unknown_gpus: dict[str, UnresolvedGpu] = field(default_factory=dict)
    # Region codes no region matched -> offers held back, for the sync's region review queue.
    unknown_regions: dict[str, int] = field(default_factory=dict)
    # Capacity windows the source lists after the apply; None: it publishes none (feed v1).
    windows: int | None = None


# --- Offers a provider maintains (dashboard, admin) ------------------------------------------


def offer_external_id_new() -> str:
    """A stable id for an offer entered by hand, for later CSV updates."""
    return f"manual-{uuid.uuid4().hex[:12]}"


def snapshots_record(rows: list[tuple]) -> None:
    """Remember offers' prices and availability, for their history charts: the one way snapshots
    are written. Each row is (offer id, recorded at, price per GPU-hour, nodes available).

    Snapshots are also the log of changes that saved-search alerts read (deals.services).
    """
    rows_insert(OfferSnapshot, SNAPSHOT_FIELDS, rows)


def _snapshot_row(offer: Offer, now: datetime) -> tuple:
    return (offer.pk, now, offer.price_per_gpu_hour, offer.nodes_available)


def _offer_set(offer: Offer, fields: dict[str, Any]) -> None:
    unknown = set(fields) - OFFER_FIELDS
    if unknown:
        raise TypeError(f"not offer fields a provider may set: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(offer, name, value)
    offer.country = offer.region.country if offer.region_id else ""  # as Offer.save(), before full_clean()


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
    offer.normalize_price()
    offer.full_clean()
    offer.save()
    snapshots_record([_snapshot_row(offer, offer.last_verified_at)])
    offers_changed.send(sender=Offer, provider=provider)
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
    offer.normalize_price()
    offer.full_clean()
    offer.save()
    if before is None or (offer.price_per_gpu_hour, offer.nodes_available) != tuple(before):
        snapshots_record([_snapshot_row(offer, timezone.now())])
        offers_changed.send(sender=Offer, provider=offer.provider)
    return offer


KEEP = object()  # a field left as it is


@transaction.atomic
def offer_availability_update(
    *, offer: Offer, nodes_available: int | None, now: datetime, nodes_total: Any = KEEP, price_per_gpu_hour: Any = KEEP
) -> Offer:
    """The provider states an offer's availability (and maybe its total and price) now, as a
    small push: the offer is verified now, and a change of price or availability is recorded."""
    before = (offer.price_per_gpu_hour, offer.nodes_available)
    offer.nodes_available = nodes_available
    if nodes_total is not KEEP:
        offer.nodes_total = nodes_total
    if price_per_gpu_hour is not KEEP:
        offer.price_per_gpu_hour = price_per_gpu_hour
        offer.normalize_price()
    offer.status = Offer.Status.ACTIVE
    offer.mark_verified(now)
    offer.full_clean()
    offer.save()
    if (offer.price_per_gpu_hour, offer.nodes_available) != before:
        snapshots_record([_snapshot_row(offer, now)])
        offers_changed.send(sender=Offer, provider=offer.provider)
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
    offer.normalize_price()
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


@transaction.atomic
def offers_region_update(*, region: Region, **fields: Any) -> Region:
    """Change a region (providers.services.region_update); its offers follow it to a new country.

    Offer.country is a copy of the region's, kept so the catalog filters without a join.
    """
    region_update(region=region, **fields)
    region.offers.exclude(country=region.country).update(country=region.country)
    return region


# --- Capacity windows: forward capacity a provider publishes ---------------------------------

WINDOW_FIELDS = frozenset({"region", "gpu_model", "external_id", *CapacityWindow.SPEC_FIELDS})


def _window_set(window: CapacityWindow, fields: dict[str, Any]) -> None:
    unknown = set(fields) - WINDOW_FIELDS
    if unknown:
        raise TypeError(f"not window fields a provider may set: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(window, name, value)
    window.currency = (window.currency or "").upper()
    if window.region_id:
        window.country = window.region.country


def window_create(*, provider: Provider, source: str = Offer.Source.MANUAL, **fields: Any) -> CapacityWindow:
    """Publish a capacity window of ``provider``; a blank ``external_id`` gets a generated one."""
    window = CapacityWindow(provider=provider, source=source)
    _window_set(window, fields)
    if not window.external_id:
        window.external_id = f"window-{uuid.uuid4().hex[:12]}"
    window.full_clean()
    window.save()
    return window


def window_update(*, window: CapacityWindow, **fields: Any) -> CapacityWindow:
    """Change a window by hand; a synced one belongs to its feed and is refused."""
    if window.sync_connection_id is not None:
        raise ValidationError(_("This window comes from a sync connection: change it at the source."))
    _window_set(window, fields)
    if not window.external_id:
        window.external_id = f"window-{uuid.uuid4().hex[:12]}"
    window.status = CapacityWindow.Status.ACTIVE
    window.full_clean()
    window.save()
    return window


def window_withdraw(*, window: CapacityWindow) -> CapacityWindow:
    """Take a window off the catalog; it stays in the database."""
    window.status = CapacityWindow.Status.WITHDRAWN
    window.save(update_fields=["status", "updated_at"])
    return window


def windows_import(*, provider: Provider, rows: list["ImportRow"]) -> tuple[int, list["RowError"]]:
    """Create or update ``provider``'s windows from import rows (by external_id), all or nothing.

    A window synced from a connection cannot be changed this way. Returns how many were saved
    (0 when there are errors) and the errors by row and field.
    """
    errors: list[RowError] = []
    try:
        with transaction.atomic():
            existing = {window.external_id: window for window in provider.capacity_windows.all()}
            for row in rows:
                window = existing.get(row.values["external_id"])
                try:
                    if window is None:
                        window = window_create(provider=provider, source=Offer.Source.CSV, **row.values)
                        existing[window.external_id] = window
                    else:
                        window_update(window=window, **row.values)
                except ValidationError as error:
                    messages = error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
                    errors += [
                        RowError(row=row.row, column="" if name == "__all__" else name, message=message)
                        for name, texts in messages.items()
                        for message in texts
                    ]
            if errors:
                raise _RollBack
    except _RollBack:
        return 0, errors
    return len(rows), errors


class _RollBack(Exception):
    """Leaves a transaction.atomic() block so that nothing of it is saved."""


def windows_apply(
    *, connection: InventorySource, windows: list[NormalizedWindow], regions: Mapping[str, Region]
) -> tuple[int, list[str]]:
    """Make the connection's capacity windows match ``windows``, its complete list.

    New ids are created, changed ones updated (and listed again if withdrawn), this
    connection's windows missing from the list withdrawn. A window with an unknown GPU name or
    region, or whose id another connection syncs, is skipped with a warning. Returns how many
    windows the connection lists now, and the warnings. Windows are few (forward capacity, not
    every node shape), so this works on model instances.
    """
    provider_id = connection.provider_id
    existing = {window.external_id: window for window in CapacityWindow.objects.filter(provider_id=provider_id)}
    gpu_models = GpuAlias.objects.resolve_many(item.gpu_model_raw for item in windows)
    warnings: list[str] = []
    seen: set[str] = set()
    for item in windows:
        gpu_model, region = gpu_models[item.gpu_model_raw], regions.get(item.region)
        window = existing.get(item.external_id)
        if gpu_model is None or region is None or item.external_id in seen:
            problem = "its GPU name is unknown" if gpu_model is None else "its region is unknown"
            if item.external_id in seen:
                problem = "its id appears more than once"
            warnings.append(f'Capacity window "{item.external_id[:80]}" skipped: {problem}.')
            continue
        if window is not None and window.sync_connection_id not in (None, connection.pk):
            warnings.append(f'Capacity window "{item.external_id[:80]}" is synced by another connection: skipped.')
            continue
        seen.add(item.external_id)
        values = {
            "region": region,
            "country": region.country,
            "gpu_model": gpu_model,
            "gpus": item.gpus,
            "starts_on": item.starts_on,
            "ends_on": item.ends_on,
            "price_per_gpu_hour": item.price_per_gpu_hour,
            "currency": item.currency,
            "status": CapacityWindow.Status.ACTIVE,
            "source": Offer.Source.SYNC,
            "sync_connection_id": connection.pk,
        }
        if window is None:
            CapacityWindow.objects.create(provider_id=provider_id, external_id=item.external_id, **values)
        elif any(getattr(window, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(window, name, value)
            window.save()
    CapacityWindow.objects.filter(sync_connection_id=connection.pk, status=CapacityWindow.Status.ACTIVE).exclude(
        external_id__in=seen
    ).update(status=CapacityWindow.Status.WITHDRAWN)
    return len(seen), warnings


# --- Imports: many offers at once, every row validated before any is saved (CSV) -------------


@dataclass
class ImportRow:
    """One row of an import, its cells read: ``values`` has external_id, region (a Region of the
    provider), gpu_model (a GpuModel) and every one of Offer.SPEC_FIELDS."""

    row: int
    values: dict[str, Any]


@dataclass
class RowError:
    row: int  # 0: the import as a whole
    column: str  # the field or column at fault; "" for the row as a whole
    message: str


@dataclass
class PlannedRow:
    row: int
    external_id: str
    action: str  # create, update or unchanged
    offer: Offer
    snapshot: bool = False  # price or capacity changes: record it for the history chart


@dataclass
class ImportPlan:
    rows: list[PlannedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return not self.errors

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    # For templates, which cannot pass arguments.
    count_create = property(lambda self: self.count("create"))
    count_update = property(lambda self: self.count("update"))
    count_unchanged = property(lambda self: self.count("unchanged"))


# The offer attributes a row sets, compared to tell an update from an unchanged row.
IMPORT_COMPARED = ["region_id", "gpu_model_id", *Offer.SPEC_FIELDS]
# What an update writes: the row's values, plus status and freshness.
IMPORT_SAVED_FIELDS = [
    "region",
    "country",
    "gpu_model",
    *Offer.SPEC_FIELDS,
    "price_normalized",
    "status",
    "last_verified_at",
    "stale_at",
    "updated_at",
]


def offers_import_plan(*, provider: Provider, rows: list[ImportRow], lock: bool = False) -> ImportPlan:
    """What importing ``rows`` would do to ``provider``'s offers, without saving anything.

    Keyed on external_id: a known id updates that offer (or leaves it unchanged), a new one
    creates an offer. Each row is validated as a save would (the model's rules); an offer synced
    from a connection may only appear unchanged. ``lock`` locks the existing offers (for the
    transaction of offers_import()).
    """
    existing = _offers_by_external_id(provider, [row.values["external_id"] for row in rows], lock=lock)
    rates = ExchangeRate.objects.units_per_eur()
    plan = ImportPlan()
    for row in rows:
        planned, errors = _import_row_plan(provider, row, existing.get(row.values["external_id"]), rates)
        if errors:
            plan.errors += [RowError(row=row.row, column=column, message=str(message)) for column, message in errors]
        else:
            plan.rows.append(planned)
    return plan


def offers_import(*, provider: Provider, rows: list[ImportRow]) -> ImportPlan:
    """Plan ``rows`` again and, when every one is valid, save all of them in one transaction.

    Imported rows count as verified now (the provider vouches for them) and withdrawn ones are
    listed again; synced offers are left to their sync. It never withdraws offers missing from
    the rows. Returns the plan; nothing is saved when it has errors.
    """
    try:
        with transaction.atomic():
            plan = offers_import_plan(provider=provider, rows=rows, lock=True)
            if plan.is_valid:
                _import_save(plan)
    except IntegrityError:
        # Another import or a sync created the same id meanwhile; the transaction saved nothing.
        message = _("Offers changed during the import: try again.")
        return ImportPlan(errors=[RowError(row=0, column="", message=message)])
    return plan


def _offers_by_external_id(provider: Provider, external_ids: list[str], *, lock: bool) -> dict[str, Offer]:
    external_ids = sorted(set(external_ids))
    offers: dict[str, Offer] = {}
    queryset = provider.offers.select_related("sync_connection")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    for start in range(0, len(external_ids), 1000):  # stay under SQLite's bound-parameter limit
        for offer in queryset.filter(external_id__in=external_ids[start : start + 1000]):
            offers[offer.external_id] = offer
    return offers


def _import_row_plan(
    provider: Provider, row: ImportRow, existing: Offer | None, rates: Mapping
) -> tuple[PlannedRow, list[tuple[str, str]]]:
    values = row.values
    offer = existing or Offer(provider=provider, external_id=values["external_id"], source=Offer.Source.CSV)
    before = [getattr(offer, name) for name in IMPORT_COMPARED]
    old_price_and_capacity = (offer.price_per_gpu_hour, offer.nodes_available)
    offer.region, offer.gpu_model = values["region"], values["gpu_model"]
    for name in Offer.SPEC_FIELDS:
        setattr(offer, name, values[name])
    offer.gpu_interconnect = offer.gpu_interconnect or ""
    offer.network = offer.network or ""
    offer.country = offer.region.country
    if existing is None:
        action = "create"
        offer.mark_verified()
    elif before != [getattr(offer, name) for name in IMPORT_COMPARED] or existing.status != Offer.Status.ACTIVE:
        action = "update"
    else:
        action = "unchanged"

    errors: list[tuple[str, str]] = []
    try:
        offer.normalize_price(rates)
    except ValidationError as error:
        errors += [(name, message) for name, messages in error.message_dict.items() for message in messages]
    if existing is not None and existing.sync_connection_id and action != "unchanged":
        errors.append(
            (
                "external_id",
                _("This offer is synced from “%(connection)s”: change it at the source, not by CSV.")
                % {"connection": existing.sync_connection.name},
            )
        )
    for name, messages in _model_errors(offer).items():
        errors += [("" if name == "__all__" else name, message) for message in messages]
    snapshot = old_price_and_capacity != (offer.price_per_gpu_hour, offer.nodes_available)
    return PlannedRow(
        row=row.row, external_id=values["external_id"], action=action, offer=offer, snapshot=snapshot
    ), errors


def _model_errors(offer: Offer) -> dict[str, list[str]]:
    try:
        # Regions and GPU models come from the provider's own lookups, and ids are checked against
        # the rows and the database by the callers: skip the per-row queries those checks cost.
        # The currency is checked by normalize_price(), with the rates at hand.
        offer.full_clean(
            exclude=["provider", "region", "gpu_model", "sync_connection", "external_id", "currency"],
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as exc:
        return exc.message_dict
    return {}


def _import_save(plan: ImportPlan) -> None:
    # In bulk: a 10,000-row file must import within a web request. The rows were validated with
    # full_clean() by offers_import_plan(); save() would only add the country and freshness set here.
    now = timezone.now()
    creates = [row.offer for row in plan.rows if row.action == "create"]
    updates = [row.offer for row in plan.rows if row.action == "update"]
    for offer in creates + updates:
        offer.status = Offer.Status.ACTIVE
        offer.updated_at = now
        offer.mark_verified(now)
    Offer.objects.bulk_create(creates, batch_size=500)
    # One UPDATE per changed row: measured faster than bulk_update()'s CASE expressions here.
    for offer in updates:
        offer.save(update_fields=IMPORT_SAVED_FIELDS)
    # Unchanged hand-maintained offers are verified again; synced ones belong to their sync.
    unchanged = [row.offer.pk for row in plan.rows if row.action == "unchanged" and not row.offer.sync_connection_id]
    stale_at = now + verification_lifetime(None)
    for start in range(0, len(unchanged), 1000):
        Offer.objects.filter(pk__in=unchanged[start : start + 1000]).update(
            last_verified_at=now, stale_at=stale_at, updated_at=now
        )
    snapshots = [_snapshot_row(row.offer, now) for row in plan.rows if row.snapshot]
    snapshots_record(snapshots)
    if snapshots:
        offers_changed.send(sender=Offer, provider=plan.rows[0].offer.provider)


# --- Synced inventories ---------------------------------------------------------------------


@transaction.atomic
def inventory_apply(*, connection: InventorySource, inventory: ParsedInventory, now: datetime) -> InventoryApplyResult:
    """Apply a connection's complete, parsed inventory: its regions, offers and capacity windows.

    The sync engine's one call into the marketplace. Regions the inventory declares are created
    or updated; offers follow offers_apply_inventory(), windows windows_apply(); GPU names the
    catalogue does not know go to the admin review queue. The inventory's own warnings come first
    in the result's.
    """
    regions = regions_upsert(provider=connection.provider, regions=inventory.regions)
    result = offers_apply_inventory(
        connection=connection, offers=inventory.offers, regions=regions, now=now, withdraw_all=inventory.withdraw_all
    )
    if inventory.windows is not None:
        result.windows, warnings = windows_apply(connection=connection, windows=inventory.windows, regions=regions)
        result.warnings += warnings
    if result.unknown_gpus:
        gpu_names_unknown_record(provider=connection.provider, names=result.unknown_gpus, now=now)
    result.warnings = inventory.warnings + result.warnings
    if result.created or result.updated:
        offers_changed.send(sender=Offer, provider=connection.provider)
    return result


def offers_mark_stale(*, now: datetime) -> int:
    """Turn stale the active offers whose verification has expired; return how many.

    A synced offer is verified by its connection's last success (Offer.verified_at): when that
    is older than the connection's verification lifetime (or the connection never succeeded),
    its active offers turn stale together, and keep that success as their own verification. An
    offer kept by hand turns stale at its own ``stale_at``. Run every few seconds with the sync
    dispatcher; a success or a confirmation makes them active again. Two UPDATEs, each on an
    index: the offers of the overdue connections, and hand-kept offers by ``stale_at``.
    """
    connections = Offer._meta.get_field("sync_connection").related_model.objects
    overdue = [
        pk
        for pk, interval, success in connections.values_list("pk", "interval_seconds", "last_success_at")
        if success is None or success + verification_lifetime(interval) <= now
    ]
    success = Coalesce(
        connections.filter(pk=OuterRef("sync_connection_id")).values("last_success_at"), F("last_verified_at")
    )
    with transaction.atomic():
        marked = Offer.objects.filter(sync_connection_id__in=overdue, status=Offer.Status.ACTIVE).update(
            status=Offer.Status.STALE, last_verified_at=Greatest(F("last_verified_at"), success)
        )
        marked += Offer.objects.filter(
            sync_connection__isnull=True, status=Offer.Status.ACTIVE, stale_at__lte=now
        ).update(status=Offer.Status.STALE)
    return marked


def withdrawals_suspicious(*, missing: int, active: int, confirmed: bool) -> bool:
    """Whether withdrawing ``missing`` of a connection's ``active`` offers at once looks like a
    broken inventory rather than real change: more than SYNC_WITHDRAW_GUARD_SHARE of them, unless
    the provider confirmed it. A valid but empty feed would otherwise withdraw everything."""
    return bool(missing) and not confirmed and missing > settings.SYNC_WITHDRAW_GUARD_SHARE * active


@transaction.atomic
def offers_apply_inventory(
    *,
    connection: InventorySource,
    offers: Iterable[NormalizedOffer],
    regions: Mapping[str, Region],
    now: datetime,
    withdraw_all: bool = False,
) -> InventoryApplyResult:
    """Make the connection's offers match ``offers``, the provider's complete inventory.

    Set-based, in one transaction, a bounded number of queries whatever the size: new ids are
    created; offers whose synced fields differ are updated (and reactivated if withdrawn);
    unchanged ones are left alone; this connection's listed offers missing from the inventory
    are withdrawn, never deleted. Snapshots record the price and
    availability of new offers and of those whose price or availability changed.

    Offers are held back (counted as skipped, explained in warnings) when their GPU name is not
    in the alias table, their region is unknown (``regions`` maps the provider's codes), or their
    id belongs to an offer synced by another connection. An offer of the same provider entered
    by hand or by CSV with the same id is taken over by the sync.

    A sudden shrink (withdrawals_suspicious) withdraws nothing: the missing offers are kept, as
    stale (they were not verified by this inventory); the result is ``suspicious``.

    Listed offers are verified by the connection's success, which the caller records with
    ``now`` (SyncConnection.last_success_at): unchanged offers are not written at all, and stale
    ones listed again unchanged are only made active again (counted as unchanged).

    Rows are read as tuples and written in bulk (COPY on PostgreSQL) rather than through model
    instances: a 100,000-offer feed is applied in seconds (docs/performance.md).
    """
    offers = offers if isinstance(offers, list) else list(offers)
    result = InventoryApplyResult()
    stale_at = now + verification_lifetime(connection.interval_seconds)
    # One resolution per distinct name and facts (a feed states the same few thousands of times).
    query_keys = list(map(GPU_QUERY_KEY, offers))
    queries = {key: GpuQuery(*key) for key in set(query_keys)}
    resolutions = GpuAlias.objects.resolve_facts(queries.values(), provider=connection.provider)
    gpu_models = {key: resolutions[query].gpu_model for key, query in queries.items()}
    gpu_models = {key: gpu_model and gpu_model.pk for key, gpu_model in gpu_models.items()}
    unresolved: dict[str, UnresolvedGpu] = {}
    region_keys = {code: (region.pk, region.country.code) for code, region in regions.items()}
    no_location = (None, "")  # a sold-out offer whose API names no location: no region, no country
    existing = {
        row[1]: row
        for row in Offer.objects.filter(provider_id=connection.provider_id).order_by().values_list(*EXISTING_FIELDS)
    }
    rates = ExchangeRate.objects.units_per_eur()
    normalized: dict[tuple, Decimal] = {}  # (price, currency) -> normalized: offers share prices
    no_rate: Counter[str] = Counter()
    unknown_gpus: Counter[tuple] = Counter()
    unknown_regions: Counter[str] = Counter()
    foreign: list[str] = []
    duplicates: list[str] = []
    invalid: list[str] = []

    to_create: list[tuple] = []
    to_update: list[tuple] = []
    to_snapshot: list[tuple] = []
    unchanged = 0
    relisted: list[int] = []
    seen: set[str] = set()
    spec_values = attrgetter(*Offer.SPEC_FIELDS)
    provider_id, current_state = connection.provider_id, (Offer.Status.ACTIVE, Offer.Source.SYNC, connection.pk)
    for item, query_key in zip(offers, query_keys, strict=True):
        gpu_model_id, region_key = gpu_models[query_key], region_keys.get(item.region)
        if region_key is None and not item.region and item.nodes_available == 0:
            region_key = no_location
        row = existing.get(item.external_id)
        if gpu_model_id is None:
            unknown_gpus[query_key] += 1
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
        values = (*region_key, gpu_model_id, *spec_values(item))
        if row is not None and row[3:5] == current_state[1:] and row[5:] == values and row[2] in Offer.LISTED:
            seen.add(item.external_id)
            unchanged += 1
            if row[2] == Offer.Status.STALE:
                relisted.append(row[0])  # verified again by this sync: fresh, nothing else changed
            continue
        price_key = (item.price_per_gpu_hour, item.currency)
        if (price := normalized.get(price_key)) is None:
            if (rate := rates.get(item.currency)) is None:
                no_rate[item.currency] += 1
                continue
            price = normalized[price_key] = price_normalize(item.price_per_gpu_hour, rate)
        seen.add(item.external_id)
        if row is None:
            to_create.append((provider_id, item.external_id, *current_state, now, stale_at, now, now, *values, price))
            continue
        to_update.append((*current_state, now, stale_at, now, *values, price, row[0]))
        if (row[2], row[PRICE], row[AVAILABLE]) != (Offer.Status.ACTIVE, item.price_per_gpu_hour, item.nodes_available):
            to_snapshot.append((row[0], now, item.price_per_gpu_hour, item.nodes_available))

    missing_ids = [
        row[0]
        for external_id, row in existing.items()
        if row[4] == connection.pk and row[2] in Offer.LISTED and external_id not in seen
    ]
    active = sum(1 for row in existing.values() if row[4] == connection.pk and row[2] in Offer.LISTED)
    del existing
    held = withdrawals_suspicious(missing=len(missing_ids), active=active, confirmed=withdraw_all)
    for chunk in [] if held else _chunks(missing_ids):
        Offer.objects.filter(pk__in=chunk).update(status=Offer.Status.WITHDRAWN, updated_at=now)
    for chunk in _chunks(relisted):
        Offer.objects.filter(pk__in=chunk).update(status=Offer.Status.ACTIVE)
    rows_update(Offer, UPDATE_FIELDS, to_update)
    rows_insert(Offer, CREATE_FIELDS, to_create)
    # Verification is the connection's (Offer.verified_at): an unchanged offer is not written.
    # Offers the inventory left out but a sudden shrink kept are not verified by this sync: they
    # turn stale now, with the connection's previous success as their own verification.
    if held:
        for chunk in _chunks(missing_ids):
            Offer.objects.filter(pk__in=chunk).update(
                status=Offer.Status.STALE, last_verified_at=connection.last_success_at or F("last_verified_at")
            )
    snapshots_record(to_snapshot)
    if to_create:
        _snapshots_of_created(connection=connection, now=now)

    result.created, result.updated = len(to_create), len(to_update)
    result.unchanged, result.withdrawn = unchanged, 0 if held else len(missing_ids)
    result.skipped = (
        sum(unknown_gpus.values())
        + sum(unknown_regions.values())
        + sum(no_rate.values())
        + len(foreign)
        + len(duplicates)
        + len(invalid)
    )
    for query_key, count in unknown_gpus.items():
        resolution = resolutions[queries[query_key]]
        unresolved.setdefault(query_key[0], UnresolvedGpu(status=resolution.status)).add(resolution, count)
    result.unknown_gpus = unresolved
    result.unknown_regions = dict(unknown_regions)
    result.warnings = _warnings(unresolved, unknown_regions, foreign, duplicates) + _no_rate_warnings(no_rate, rates)
    result.warnings += invalid
    if held:
        result.suspicious = True
        result.warnings.insert(
            0,
            f"Suspicious: this inventory lists {len(missing_ids)} of your {active} active offers no more; "
            "they were kept, not withdrawn, and marked stale until listed again. If they are really gone, "
            'withdraw them on the dashboard, or have the feed say "withdraw_all": true.',
        )
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
    if item.currency not in ISO_4217:
        return f'"{item.currency[:10]}" is not an ISO 4217 currency code'
    return None


def _chunks(ids: list[int]):
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _gpu_warning(name: str, gpu: UnresolvedGpu) -> str:
    offers = f"{gpu.offers} offer{'s' if gpu.offers > 1 else ''}"
    if gpu.status == "ambiguous":
        return (
            f'Ambiguous GPU name "{name}" ({offers}): several GPU models fit what the offers state; held back '
            "until an admin maps it, or state the GPU's memory and form factor (gpu_memory_gb, gpu_form_factor)."
        )
    if gpu.status == "contradiction":
        return (
            f'GPU name "{name}" ({offers}): the memory or form factor stated fits no model of that name; held back '
            "until an admin looks at it."
        )
    return f'Unknown GPU name "{name}" ({offers}): held back until an admin maps it to a GPU model.'


def _warnings(
    unknown_gpus: Mapping[str, UnresolvedGpu], unknown_regions: Counter, foreign: list[str], duplicates: list[str]
) -> list[str]:
    warnings = [_gpu_warning(name, gpu) for name, gpu in sorted(unknown_gpus.items())]
    warnings += [
        f'Unknown region "{code}" ({count} offer{"s" if count > 1 else ""}): held back until its country is known: '
        'declare it in the feed\'s "regions", add it on the dashboard, or wait for an admin to map it.'
        for code, count in sorted(unknown_regions.items())
        if code
    ]
    warnings += [
        f"{count} offer{'s' if count > 1 else ''} with no location and capacity: held back."
        for code, count in unknown_regions.items()
        if not code
    ]
    warnings += [
        f'Offer "{external_id}" is synced by another connection of this provider: skipped.' for external_id in foreign
    ]
    warnings += [
        f'Offer id "{external_id}" appears more than once: only the first was used.' for external_id in duplicates
    ]
    return warnings


def _no_rate_warnings(no_rate: Counter, rates: Mapping) -> list[str]:
    known = ", ".join(sorted(rates))
    return [
        f"No exchange rate for {code} ({count} offer{'s' if count > 1 else ''}): held back, since its prices could "
        f"not be compared with others. Currencies with a rate: {known}."
        for code, count in sorted(no_rate.items())
    ]


def gpu_names_unknown_record(*, provider, names: Mapping[str, "UnresolvedGpu | int"], now: datetime) -> None:
    """Put GPU names the resolver could not map into the admin review queue, with their facts.

    ``names`` maps each raw name to how it was unresolved (unknown, ambiguous with its candidates,
    or contradicting facts) and how many offers are held back because of it (or to that number
    alone, for an unknown name). A name resolved once
    but unresolved again (its alias was deleted, or new facts contradict it) goes back into the queue.
    """
    # Spellings that normalize alike ("H9 X", "h9-x") are one entry: their counts add up. In key
    # order, so that concurrent syncs lock the queue's rows in the same order.
    merged: dict[str, UnresolvedGpu] = {}
    spelling: dict[str, str] = {}
    for raw_name, gpu in sorted(names.items()):
        if isinstance(gpu, int):  # a bare count: an unknown name
            gpu = UnresolvedGpu(status="unknown", offers=gpu)
        key = normalize_gpu_name(raw_name)
        entry = merged.setdefault(key, UnresolvedGpu(status=gpu.status))
        entry.offers += gpu.offers
        entry.candidates |= gpu.candidates
        entry.facts += [facts for facts in gpu.facts if facts not in entry.facts][: MAX_FACTS_SHOWN - len(entry.facts)]
        spelling.setdefault(key, raw_name)
    for key, gpu in sorted(merged.items()):
        review, _created = GpuNameReview.objects.get_or_create(
            normalized=key, defaults={"raw_name": spelling[key], "first_seen_at": now}
        )
        review.offers_held, review.status, review.facts = gpu.offers, gpu.status, gpu.facts
        review.last_seen_at = now
        review.resolved_at = None
        review.save(update_fields=["offers_held", "status", "facts", "last_seen_at", "resolved_at"])
        review.providers.add(provider)
        review.candidates.set(sorted(gpu.candidates))


@transaction.atomic
def gpu_name_review_resolve(*, review: GpuNameReview, gpu_model: GpuModel, now: datetime) -> None:
    """Map a GPU name from the review queue to ``gpu_model``: create the alias (unless the name
    already maps to ``gpu_model``) and mark the review resolved.

    A name that says which model it is gets a global alias. A name that stands for a family of
    several models ("H100") gets one alias per provider that used it: each provider knows what it
    sells under it, and no other provider's offers are pinned to that variant.

    Raises ValidationError when the name already maps to another GPU model. The held offers are
    listed by the providers' next syncs (sync.services.gpu_name_review_map makes them due now).
    """
    global_alias = alias_pins_a_variant(review.raw_name, gpu_model) == []
    owners = [None] if global_alias else list(review.providers.all())
    for provider in owners:
        alias = (
            GpuAlias.objects.filter(normalized=review.normalized, provider=provider).select_related("gpu_model").first()
        )
        if alias is None:
            alias = GpuAlias(name=review.raw_name, gpu_model=gpu_model, provider=provider)
            alias.full_clean()
            alias.save()
        elif alias.gpu_model_id != gpu_model.pk:
            raise ValidationError(
                _("“%(name)s” already maps to %(gpu)s (as the alias “%(alias)s”): change that alias instead."),
                params={"name": review.raw_name, "gpu": alias.gpu_model, "alias": alias.name},
            )
    review.gpu_model, review.resolved_at = gpu_model, now
    review.save(update_fields=["gpu_model", "resolved_at"])


# --- Search demand: what developers look for, aggregated -------------------------------------

# Counts wait in the process and are written together: one catalog request costs no write.
# A process that dies loses at most DEMAND_FLUSH_SECONDS of counts (they are statistics).
_demand: Counter[tuple[date, str, str]] = Counter()
_demand_empty: Counter[tuple[date, str, str]] = Counter()
_demand_lock = threading.Lock()
_demand_flushed_at = time.monotonic()
DEMAND_MAX_PAIRS = 100  # per search: 10 GPU models in 10 countries


def search_demand_note(*, gpus: list[str], countries: list[str], empty: bool, day: date | None = None) -> None:
    """Count one catalog search for each (GPU model, country) it names ("" for none named).

    No person and no query is stored: only these counts per day. Written in bulk every
    DEMAND_FLUSH_SECONDS by search_demand_flush().
    """
    global _demand_flushed_at
    day = day or timezone.localdate()
    pairs = [(day, gpu, country) for gpu in (gpus or [""]) for country in (countries or [""])][:DEMAND_MAX_PAIRS]
    with _demand_lock:
        _demand.update(pairs)
        if empty:
            _demand_empty.update(pairs)
        due = time.monotonic() - _demand_flushed_at >= settings.DEMAND_FLUSH_SECONDS
    if due:
        search_demand_flush()


def search_demand_flush() -> int:
    """Write the counts waiting in this process; returns how many rows were touched."""
    global _demand_flushed_at
    with _demand_lock:
        counts, empties = dict(_demand), dict(_demand_empty)
        _demand.clear()
        _demand_empty.clear()
        _demand_flushed_at = time.monotonic()
    if not counts:
        return 0
    # One statement per 1,000 rows (an upsert adding to the counts), in key order: two processes
    # flushing at once lock the rows they share in the same order (in any order they deadlocked
    # under the benchmark's load), and the request that flushes pays one query, not one per row
    # (39 on a catalog page at 10k).
    rows = [(*key, searches, empties.get(key, 0)) for key, searches in sorted(counts.items())]
    table = SearchDemand._meta.db_table
    with db_connection.cursor() as cursor:
        for start in range(0, len(rows), 1000):
            chunk = rows[start : start + 1000]
            sql = (
                f"INSERT INTO {table} (day, gpu, country, searches, empty) "  # noqa: S608 (constants only)
                f"VALUES {', '.join(['(%s, %s, %s, %s, %s)'] * len(chunk))} ON CONFLICT (day, gpu, country) "
                f"DO UPDATE SET searches = {table}.searches + excluded.searches, empty = {table}.empty + excluded.empty"
            )
            cursor.execute(sql, [value for row in chunk for value in row])
    return len(counts)


# --- Exchange rates ---------------------------------------------------------------------------


@transaction.atomic
def exchange_rates_apply(*, rates: EcbRates, now: datetime) -> int:
    """Store a day of reference rates and re-price, in the reference currency, every offer whose
    currency's rate changed. Returns how many offers were re-priced.

    Rates older than those stored are ignored (a late or replayed answer never moves the table
    back in time). A currency missing from ``rates`` keeps its last rate. Set-based: the offers of
    a changed currency are read as tuples and written with one UPDATE over arrays.
    """
    stored = {row.currency: row for row in ExchangeRate.objects.select_for_update()}
    newest = max((row.rate_date for row in stored.values()), default=None)
    if newest is not None and rates.rate_date < newest:
        return 0
    changed: dict[str, Decimal] = {}
    for code, rate in sorted(rates.units_per_eur.items()):
        row = stored.get(code) or ExchangeRate(currency=code)
        if row.units_per_eur != rate:
            changed[code] = rate
        row.units_per_eur, row.rate_date, row.updated_at = rate, rates.rate_date, now
        row.full_clean()
        row.save()
    repriced = 0
    for code, rate in changed.items():
        offers = Offer.objects.filter(currency=code).order_by().values_list("price_per_gpu_hour", "id")
        rows = [(price_normalize(price, rate), pk) for price, pk in offers]
        rows_update(Offer, ["price_normalized"], rows)
        repriced += len(rows)
    return repriced


def exchange_rates_refresh(*, client, url: str, now: datetime) -> int:
    """Fetch the ECB's daily reference rates from ``url`` with ``client`` (the guarded HTTP
    client) and apply them (exchange_rates_apply). Raises FetchError or RatesError; the table is
    then left as it was."""
    return exchange_rates_apply(rates=ecb_rates_parse(client.get(url).content), now=now)

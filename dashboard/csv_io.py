"""Offers as CSV: export, and an import that validates every row before saving any.

The columns are the same both ways, so an exported file imports back unchanged. An import keys
on ``external_id``: a known id updates that offer, a new one creates an offer. It never withdraws
offers missing from the file (that is what syncs do); withdraw them on the dashboard.
"""

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from marketplace.models import GpuAlias, GpuModel, Offer, OfferSnapshot
from providers.models import Provider, Region

COLUMNS = ["external_id", "region", "gpu", *Offer.SPEC_FIELDS]
MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 10_000
# The offer attributes a row sets, compared to tell an update from an unchanged row.
COMPARED = ["region_id", "gpu_model_id", *Offer.SPEC_FIELDS]
# What an update writes: the row's values, plus status and freshness.
SAVED_FIELDS = [
    "region",
    "country",
    "gpu_model",
    *COMPARED[2:],
    "status",
    "last_verified_at",
    "stale_at",
    "updated_at",
]
# Spreadsheets run cells starting with these as formulas: exported text cells get a leading
# quote, which the import strips again.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class CsvFileError(Exception):
    """The file as a whole is unusable (too big, not UTF-8, wrong header): no row was read."""


@dataclass
class RowError:
    row: int
    column: str
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


# --- Export --------------------------------------------------------------------------------


def _text_cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def offer_csv_row(offer: Offer) -> list[str]:
    return [
        _text_cell(offer.external_id),
        _text_cell(offer.region.code),
        offer.gpu_model.slug,
        *(
            _cell(getattr(offer, name))
            for name in ["gpus_per_node", "vcpus", "ram_gb", "storage_gb", "gpu_interconnect", "network"]
        ),
        offer.pricing_type,
        _cell(offer.min_term_months),
        _cell(offer.price_per_gpu_hour),
        offer.currency,
        _cell(offer.nodes_available),
        _cell(offer.nodes_total),
    ]


class _Echo:
    def write(self, value: str) -> str:
        return value


def offers_csv_lines(offers: Iterable[Offer]) -> Iterator[str]:
    """The CSV text of ``offers``, line by line, for a streaming response."""
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    for offer in offers:
        yield writer.writerow(offer_csv_row(offer))


# --- Import --------------------------------------------------------------------------------


def csv_decode(data: bytes) -> str:
    """The upload's text, or CsvFileError when it is too big or not UTF-8."""
    if len(data) > MAX_BYTES:
        raise CsvFileError(_("The file is larger than %(mb)d MB: split it into several imports.") % {"mb": 2})
    try:
        return data.decode("utf-8-sig")  # Excel writes a byte-order mark
    except UnicodeDecodeError as exc:
        raise CsvFileError(
            _("The file is not UTF-8 text (byte %(pos)d). Save it as “CSV UTF-8” and try again.") % {"pos": exc.start}
        ) from None


# One form field per column: their messages name the problem, the column names the place.
# Used directly rather than through a Form, which would deep-copy them for every row.
ROW_FIELDS: dict[str, forms.Field] = {
    "external_id": forms.CharField(max_length=200),
    "region": forms.CharField(max_length=64),
    "gpu": forms.CharField(max_length=120),
    "gpus_per_node": forms.IntegerField(min_value=1, max_value=1024),
    "vcpus": forms.IntegerField(min_value=0, required=False),
    "ram_gb": forms.IntegerField(min_value=0, required=False),
    "storage_gb": forms.IntegerField(min_value=0, required=False),
    "gpu_interconnect": forms.ChoiceField(choices=[("", "")] + Offer.GpuInterconnect.choices, required=False),
    "network": forms.ChoiceField(choices=[("", "")] + Offer.Network.choices, required=False),
    "pricing_type": forms.ChoiceField(choices=Offer.PricingType.choices),
    "min_term_months": forms.IntegerField(min_value=1, max_value=600, required=False),
    "price_per_gpu_hour": forms.DecimalField(min_value=0, max_digits=10, decimal_places=4),
    "currency": forms.RegexField(
        regex=r"^[A-Za-z]{3}$", error_messages={"invalid": gettext_lazy("Use a three-letter code, e.g. USD.")}
    ),
    # Blank: available, but no count published ("0" is sold out).
    "nodes_available": forms.IntegerField(min_value=0, required=False),
    "nodes_total": forms.IntegerField(min_value=0, required=False),
}


def _clean_row(
    values: dict[str, str], regions: dict[str, Region], gpus: "GpuLookup"
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The row's typed values (region and gpu as objects), and its errors as (column, message)."""
    data: dict[str, Any] = {}
    errors: list[tuple[str, str]] = []
    for column, form_field in ROW_FIELDS.items():
        try:
            data[column] = form_field.clean(values[column])
        except ValidationError as error:
            errors += [(column, message) for message in error.messages]
    if "region" in data:
        code = data["region"]
        data["region"] = regions.get(code)
        if data["region"] is None:
            known = ", ".join(sorted(regions)[:10]) or _("none yet: add one on the Regions page")
            errors.append(
                ("region", _("Unknown region “%(code)s”. Your regions: %(known)s.") % {"code": code, "known": known})
            )
    if "gpu" in data:
        name = data["gpu"]
        data["gpu"] = gpus.resolve(name)
        if data["gpu"] is None:
            errors.append(
                (
                    "gpu",
                    _("Unknown GPU “%(name)s”: use a GPU model slug from the GPUs page, e.g. h100-sxm.")
                    % {"name": name},
                )
            )
    if "currency" in data:
        data["currency"] = data["currency"].upper()
    errors.sort(key=lambda error: COLUMNS.index(error[0]))  # in the file's reading order
    return data, errors


class GpuLookup:
    """GPU models by slug or by any alias, with one query per distinct name."""

    def __init__(self):
        self.by_slug = {gpu.slug: gpu for gpu in GpuModel.objects.all()}
        self.cache: dict[str, GpuModel | None] = {}

    def resolve(self, name: str) -> GpuModel | None:
        if name in self.by_slug:
            return self.by_slug[name]
        if name not in self.cache:
            self.cache[name] = GpuAlias.objects.resolve(name)
        return self.cache[name]


def _normalise(raw: dict[str, str]) -> dict[str, str]:
    row = {}
    for column in COLUMNS:
        value = raw.get(column, "").strip()
        if value.startswith("'") and value[1:].startswith(FORMULA_PREFIXES):
            value = value[1:]
        if column in {"gpu_interconnect", "network", "pricing_type"}:
            value = value.lower()
        row[column] = value
    return row


def _read_rows(text: str) -> list[tuple[int, dict[str, str], bool]]:
    """(row number, cells by column, has extra cells) for every non-blank row."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip().lower() for name in next(reader, [])]
        if not any(header):
            raise CsvFileError(_("The file is empty."))
        missing = [column for column in COLUMNS if column not in header]
        unknown = [column for column in header if column not in COLUMNS]
        if missing or unknown:
            problems = []
            if missing:
                problems.append(_("missing columns: %(columns)s") % {"columns": ", ".join(missing)})
            if unknown:
                problems.append(_("unknown columns: %(columns)s") % {"columns": ", ".join(unknown)})
            raise CsvFileError(
                _("The header row does not match (%(problems)s). Expected: %(expected)s.")
                % {"problems": "; ".join(problems), "expected": ", ".join(COLUMNS)}
            )
        rows = []
        # Numbered as a spreadsheet shows them: the header is row 1.
        for number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise CsvFileError(_("The file has more than %(max)d rows: split it.") % {"max": MAX_ROWS})
            rows.append((number, _normalise(dict(zip(header, cells, strict=False))), len(cells) > len(header)))
    except csv.Error as exc:
        raise CsvFileError(
            _("The file is not valid CSV (line %(line)d): %(error)s") % {"line": reader.line_num, "error": exc}
        ) from None
    if not rows:
        raise CsvFileError(_("The file has a header but no rows."))
    return rows


def _existing_offers(provider: Provider, external_ids: list[str], *, lock: bool) -> dict[str, Offer]:
    offers: dict[str, Offer] = {}
    queryset = provider.offers.select_related("sync_connection")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    for start in range(0, len(external_ids), 1000):  # stay under SQLite's bound-parameter limit
        for offer in queryset.filter(external_id__in=external_ids[start : start + 1000]):
            offers[offer.external_id] = offer
    return offers


def _model_errors(offer: Offer) -> dict[str, list[str]]:
    try:
        # Regions and GPU models come from this provider's lookups, and ids are checked against
        # the file and the database by the caller: skip the per-row queries those checks cost.
        offer.full_clean(
            exclude=["provider", "region", "gpu_model", "sync_connection", "external_id"],
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as exc:
        return exc.message_dict
    return {}


def offers_csv_plan(*, provider: Provider, text: str, lock: bool = False) -> ImportPlan:
    """Parse and validate a CSV of offers for ``provider`` without saving anything.

    Raises CsvFileError when the file cannot be read at all; otherwise returns each valid row's
    planned action (create, update, unchanged) and every error found, by row number as a
    spreadsheet shows it (the header is row 1) and column.
    """
    rows = _read_rows(text)
    regions = {region.code: region for region in provider.regions.all()}
    gpus = GpuLookup()
    existing = _existing_offers(provider, sorted({values["external_id"] for _n, values, _x in rows}), lock=lock)

    plan = ImportPlan()
    seen: dict[str, int] = {}
    for number, values, extra_cells in rows:
        errors: list[tuple[str, str]] = []
        if extra_cells:
            errors.append(("", _("This row has more cells than the header has columns.")))
        data, field_errors = _clean_row(values, regions, gpus)
        errors += field_errors
        valid = not errors
        external_id = values["external_id"]
        if external_id in seen:
            errors.append(("external_id", _("Duplicate of row %(row)d.") % {"row": seen[external_id]}))
            valid = False
        elif external_id:
            seen[external_id] = number
        if valid:
            planned, row_errors = _plan_row(provider, number, data, existing.get(external_id))
            errors += row_errors
            if not row_errors:
                plan.rows.append(planned)
        plan.errors += [RowError(row=number, column=column, message=str(message)) for column, message in errors]
    return plan


def _plan_row(
    provider: Provider, number: int, data: dict[str, Any], existing: Offer | None
) -> tuple[PlannedRow, list[tuple[str, str]]]:
    offer = existing or Offer(provider=provider, external_id=data["external_id"], source=Offer.Source.CSV)
    before = [getattr(offer, name) for name in COMPARED]
    old_price_and_capacity = (offer.price_per_gpu_hour, offer.nodes_available)
    offer.region, offer.gpu_model = data["region"], data["gpu"]
    for name in COMPARED[2:]:
        setattr(offer, name, data[name])
    offer.gpu_interconnect = offer.gpu_interconnect or ""
    offer.network = offer.network or ""
    offer.country = offer.region.country
    if existing is None:
        action = "create"
        offer.mark_verified()
    elif before != [getattr(offer, name) for name in COMPARED] or existing.status != Offer.Status.ACTIVE:
        action = "update"
    else:
        action = "unchanged"

    errors: list[tuple[str, str]] = []
    if existing is not None and existing.sync_connection_id and action != "unchanged":
        errors.append(
            (
                "external_id",
                _("This offer is synced from “%(connection)s”: change it at the source, not by CSV.")
                % {"connection": existing.sync_connection.name},
            )
        )
    column = {"gpu_model": "gpu", "__all__": ""}
    for name, messages in _model_errors(offer).items():
        errors += [(column.get(name, name), message) for message in messages]
    snapshot = old_price_and_capacity != (offer.price_per_gpu_hour, offer.nodes_available)
    planned = PlannedRow(row=number, external_id=data["external_id"], action=action, offer=offer, snapshot=snapshot)
    return planned, errors


def offers_csv_import(*, provider: Provider, text: str) -> ImportPlan:
    """Validate the CSV again and, when every row is valid, save all of it in one transaction.

    Imported rows count as verified now (the provider vouches for them) and withdrawn ones are
    listed again. Synced offers may only appear unchanged and are left to their sync. Returns the
    plan; nothing is saved when it has errors.
    """
    try:
        with transaction.atomic():
            plan = offers_csv_plan(provider=provider, text=text, lock=True)
            if plan.is_valid:
                _save(plan)
    except IntegrityError:
        # Another import or a sync created the same id meanwhile; the transaction saved nothing.
        message = _("Offers changed during the import: try again.")
        return ImportPlan(errors=[RowError(row=0, column="", message=message)])
    return plan


def _save(plan: ImportPlan) -> None:
    # In bulk: a 10,000-row file must import within a web request. The rows were validated with
    # full_clean() by offers_csv_plan(); save() would only add the country and freshness set here.
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
        offer.save(update_fields=SAVED_FIELDS)
    # Unchanged hand-maintained offers are verified again; synced ones belong to their sync.
    unchanged = [row.offer.pk for row in plan.rows if row.action == "unchanged" and not row.offer.sync_connection_id]
    stale_at = now + Offer().stale_after()
    for start in range(0, len(unchanged), 1000):
        Offer.objects.filter(pk__in=unchanged[start : start + 1000]).update(
            last_verified_at=now, stale_at=stale_at, updated_at=now
        )
    OfferSnapshot.objects.bulk_create(
        [
            OfferSnapshot(
                offer=row.offer,
                recorded_at=now,
                price_per_gpu_hour=row.offer.price_per_gpu_hour,
                nodes_available=row.offer.nodes_available,
            )
            for row in plan.rows
            if row.snapshot
        ],
        batch_size=500,
    )

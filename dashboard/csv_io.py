"""Offers as CSV: export, and an import that validates every row before saving any.

The columns are the same both ways, so an exported file imports back unchanged. This module
reads files (size, encoding, header, cells); what an import does to offers is the offer
service's (marketplace.services.offers_import): it keys on ``external_id``, a known id updates
that offer, a new one creates an offer, and it never withdraws offers missing from the file
(that is what syncs do); withdraw them on the dashboard.
"""

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from marketplace.gpu_names import GpuQuery
from marketplace.models import CapacityWindow, GpuAlias, GpuModel, GpuResolution, Offer
from marketplace.services import ImportPlan, ImportRow, RowError, offers_import, offers_import_plan, windows_import
from providers.models import Provider, Region

COLUMNS = ["external_id", "region", "gpu", *Offer.SPEC_FIELDS]
MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 10_000
# Spreadsheets run cells starting with these as formulas: exported text cells get a leading
# quote, which the import strips again.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class CsvFileError(Exception):
    """The file as a whole is unusable (too big, not UTF-8, wrong header): no row was read."""


# --- Export --------------------------------------------------------------------------------


def _text_cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def offer_csv_row(offer: Offer) -> list[str]:
    return [
        _text_cell(offer.external_id),
        _text_cell(offer.region.code if offer.region else ""),
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
    values: dict[str, str], regions: dict[str, Region], gpus: dict[str, GpuModel | GpuResolution]
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
        found = gpus.get(name)
        data["gpu"] = found.gpu_model if isinstance(found, GpuResolution) else found
        if data["gpu"] is None and isinstance(found, GpuResolution) and found.candidates:
            errors.append(
                (
                    "gpu",
                    _("“%(name)s” may be any of %(models)s: use the GPU model's slug, e.g. %(slug)s.")
                    % {
                        "name": name,
                        "models": ", ".join(gpu.name for gpu in found.candidates),
                        "slug": found.candidates[0].slug,
                    },
                )
            )
        elif data["gpu"] is None:
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


def _normalise(raw: dict[str, str], columns: list[str]) -> dict[str, str]:
    row = {}
    for column in columns:
        value = raw.get(column, "").strip()
        if value.startswith("'") and value[1:].startswith(FORMULA_PREFIXES):
            value = value[1:]
        if column in {"gpu_interconnect", "network", "pricing_type"}:
            value = value.lower()
        row[column] = value
    return row


def _read_rows(text: str, columns: list[str] = COLUMNS) -> list[tuple[int, dict[str, str], bool]]:
    """(row number, cells by column, has extra cells) for every non-blank row of a file whose
    header names exactly ``columns``."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip().lower() for name in next(reader, [])]
        if not any(header):
            raise CsvFileError(_("The file is empty."))
        missing = [column for column in columns if column not in header]
        unknown = [column for column in header if column not in columns]
        if missing or unknown:
            problems = []
            if missing:
                problems.append(_("missing columns: %(columns)s") % {"columns": ", ".join(missing)})
            if unknown:
                problems.append(_("unknown columns: %(columns)s") % {"columns": ", ".join(unknown)})
            raise CsvFileError(
                _("The header row does not match (%(problems)s). Expected: %(expected)s.")
                % {"problems": "; ".join(problems), "expected": ", ".join(columns)}
            )
        rows = []
        # Numbered as a spreadsheet shows them: the header is row 1.
        for number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise CsvFileError(_("The file has more than %(max)d rows: split it.") % {"max": MAX_ROWS})
            cells_by_column = _normalise(dict(zip(header, cells, strict=False)), columns)
            rows.append((number, cells_by_column, len(cells) > len(header)))
    except csv.Error as exc:
        raise CsvFileError(
            _("The file is not valid CSV (line %(line)d): %(error)s") % {"line": reader.line_num, "error": exc}
        ) from None
    if not rows:
        raise CsvFileError(_("The file has a header but no rows."))
    return rows


def _file_rows(provider: Provider, text: str) -> tuple[list[ImportRow], list[RowError]]:
    """Every row of the file that reads well, and the errors of those that do not (column names
    as in the file). Raises CsvFileError when the file cannot be read at all."""
    rows = _read_rows(text)
    regions = {region.code: region for region in provider.regions.all()}
    names = {values["gpu"] for _n, values, _x in rows if values["gpu"]}
    by_slug = {gpu.slug: gpu for gpu in GpuModel.objects.filter(slug__in=names)}
    resolutions = GpuAlias.objects.resolve_facts([GpuQuery(name) for name in names - set(by_slug)], provider=provider)
    gpus = {**{query.name: resolution for query, resolution in resolutions.items()}, **by_slug}
    valid: list[ImportRow] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for number, values, extra_cells in rows:
        row_errors: list[tuple[str, str]] = []
        if extra_cells:
            row_errors.append(("", _("This row has more cells than the header has columns.")))
        data, field_errors = _clean_row(values, regions, gpus)
        row_errors += field_errors
        external_id = values["external_id"]
        if external_id in seen:
            row_errors.append(("external_id", _("Duplicate of row %(row)d.") % {"row": seen[external_id]}))
        elif external_id:
            seen[external_id] = number
        if row_errors:
            errors += [RowError(row=number, column=column, message=str(message)) for column, message in row_errors]
        else:
            data["gpu_model"] = data.pop("gpu")
            valid.append(ImportRow(row=number, values=data))
    return valid, errors


def _merged(plan: ImportPlan, file_errors: list[RowError]) -> ImportPlan:
    """The service's plan, with the file's own errors, all in the file's row order."""
    for error in plan.errors:
        error.column = {"gpu_model": "gpu"}.get(error.column, error.column)
    plan.errors = sorted(file_errors + plan.errors, key=lambda error: error.row)
    return plan


def offers_csv_plan(*, provider: Provider, text: str) -> ImportPlan:
    """Parse and validate a CSV of offers for ``provider`` without saving anything.

    Raises CsvFileError when the file cannot be read at all; otherwise returns each valid row's
    planned action (create, update, unchanged) and every error found, by row number as a
    spreadsheet shows it (the header is row 1) and column.
    """
    rows, errors = _file_rows(provider, text)
    return _merged(offers_import_plan(provider=provider, rows=rows), errors)


def offers_csv_import(*, provider: Provider, text: str) -> ImportPlan:
    """Validate the CSV again and, when every row is valid, save all of it in one transaction
    (marketplace.services.offers_import). Returns the plan; nothing is saved when it has errors."""
    rows, errors = _file_rows(provider, text)
    if errors:
        return _merged(offers_import_plan(provider=provider, rows=rows), errors)
    return _merged(offers_import(provider=provider, rows=rows), [])


# --- Capacity windows ------------------------------------------------------------------------

WINDOW_COLUMNS = ["external_id", "region", "gpu", "gpus", "from", "until", "price_per_gpu_hour", "currency"]
WINDOW_ROW_FIELDS: dict[str, forms.Field] = {
    "external_id": forms.CharField(max_length=200),
    "region": forms.CharField(max_length=64),
    "gpu": forms.CharField(max_length=120),
    "gpus": forms.IntegerField(min_value=1, max_value=10_000_000),
    "from": forms.DateField(input_formats=["%Y-%m-%d"]),
    "until": forms.DateField(input_formats=["%Y-%m-%d"]),
    "price_per_gpu_hour": forms.DecimalField(min_value=0, max_digits=10, decimal_places=4, required=False),
    "currency": forms.RegexField(
        regex=r"^[A-Za-z]{3}$",
        required=False,
        error_messages={"invalid": gettext_lazy("Use a three-letter code, e.g. USD.")},
    ),
}
# The window's field each column sets (the others keep their names).
WINDOW_COLUMN_FIELD = {"gpu": "gpu_model", "from": "starts_on", "until": "ends_on"}


def windows_csv_lines(windows: Iterable[CapacityWindow]) -> Iterator[str]:
    """The CSV text of capacity windows, line by line; it imports back unchanged."""
    writer = csv.writer(_Echo())
    yield writer.writerow(WINDOW_COLUMNS)
    for window in windows:
        yield writer.writerow(
            [
                _text_cell(window.external_id),
                _text_cell(window.region.code),
                window.gpu_model.slug,
                window.gpus,
                window.starts_on.isoformat(),
                window.ends_on.isoformat(),
                _cell(window.price_per_gpu_hour),
                window.currency,
            ]
        )


def windows_csv_import(*, provider: Provider, text: str) -> tuple[int, list[RowError]]:
    """Read a CSV of capacity windows and, when every row is valid, save them all (created or
    updated by external_id; marketplace.services.windows_import). Returns how many were saved
    and the errors by row and column; nothing is saved when there is any. Raises CsvFileError
    when the file cannot be read at all."""
    rows = _read_rows(text, WINDOW_COLUMNS)
    regions = {region.code: region for region in provider.regions.all()}
    gpus = GpuAlias.objects.resolve_many({values["gpu"] for _n, values, _x in rows if values["gpu"]}, slugs=True)
    valid: list[ImportRow] = []
    errors: list[RowError] = []
    for number, values, extra_cells in rows:
        data, row_errors = {}, []
        if extra_cells:
            row_errors.append(("", _("This row has more cells than the header has columns.")))
        for column, form_field in WINDOW_ROW_FIELDS.items():
            try:
                data[WINDOW_COLUMN_FIELD.get(column, column)] = form_field.clean(values[column])
            except ValidationError as error:
                row_errors += [(column, message) for message in error.messages]
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] <= data["starts_on"]:
            row_errors.append(("until", _("The window must end after it starts.")))
        if values["region"] and regions.get(values["region"]) is None:
            row_errors.append(("region", _("Unknown region “%(code)s”.") % {"code": values["region"]}))
        if values["gpu"] and gpus.get(values["gpu"]) is None:
            row_errors.append(("gpu", _("Unknown GPU “%(name)s”.") % {"name": values["gpu"]}))
        if row_errors:
            errors += [RowError(row=number, column=column, message=str(message)) for column, message in row_errors]
            continue
        data["region"], data["gpu_model"] = regions[values["region"]], gpus[values["gpu"]]
        data["currency"] = (data["currency"] or "").upper()
        valid.append(ImportRow(row=number, values=data))
    if errors:
        return 0, errors
    saved, errors = windows_import(provider=provider, rows=valid)
    columns = {field: column for column, field in WINDOW_COLUMN_FIELD.items()}
    for error in errors:
        error.column = columns.get(error.column, error.column)
    return saved, errors

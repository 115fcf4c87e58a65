"""The catalog's active filters, each as a chip that removes it: labels and links, no query.

Every label comes from what the filters already hold in memory (the choices loaded by
``catalog_choices()``, the country names, the constant choice lists), so that the chips add
nothing to a page's query count. A chip's link is the same query string without that one value
(and without ``page``: another filter starts again on the first page).
"""

from dataclasses import dataclass
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from marketplace.filters import CatalogFilter

# Not filters, and kept by every chip and by "Clear all": how the results are shown.
KEPT = ("sort", "per_page", "currency")
# Settings of "What would it cost?": not filters, but chips too, so they are as easy to drop.
EXTRAS = {"total_gpus": _("Total for N GPUs"), "term_months": _("Over N months")}
# A date range is one chip: removing the start removes its length too.
TOGETHER = {"available_from": ("available_from", "for_weeks")}
SKIPPED = {"for_weeks"}


@dataclass(frozen=True)
class Chip:
    field: str  # the filter's label
    value: Any  # the chosen value's label, or the number or date (localized by the template); "" for a switch
    query: str  # the catalog's query string without it


def active_filters(*, filterset: CatalogFilter, params: QueryDict) -> list[Chip]:
    """One chip per value of each filter that validated, in the sidebar's order."""
    cleaned = filterset.cleaned
    chips = []
    for name, filter_ in filterset.filters.items():
        value = cleaned.get(name)
        if name in SKIPPED or value in (None, "", [], False):
            continue
        label = filter_.label
        if isinstance(value, list):
            labels = _choice_labels(filterset, name)
            for item in value:
                kept = [raw for raw in params.getlist(name) if _normalized(name, raw) != item]
                chips.append(Chip(label, labels.get(str(item), item), _without(params, {name: kept})))
        elif isinstance(value, bool):
            chips.append(Chip(label, "", _without(params, {name: []})))
        else:
            if name == "max_price":
                label = f"{label} ({filterset.currency})"
            chips.append(Chip(label, value, _without(params, dict.fromkeys(TOGETHER.get(name, (name,)), []))))
    for name, label in EXTRAS.items():
        if (value := cleaned.get(name)) is not None:
            chips.append(Chip(label, value, _without(params, {name: []})))
    return chips


def cleared_query(*, params: QueryDict) -> str:
    """The query string of "Clear all": only how the results are shown stays."""
    kept = QueryDict(mutable=True)
    for name in KEPT:
        if values := [value for value in params.getlist(name) if value]:
            kept.setlist(name, values)
    return kept.urlencode()


def _choice_labels(filterset: CatalogFilter, name: str) -> dict[str, str]:
    if name == "gpus_per_node":
        return {}
    return {str(value): str(label) for value, label in filterset.form.fields[name].choices}


def _normalized(name: str, raw: str) -> Any:
    """A raw URL value as the field cleans it, to find the values of one chip (?country=de is DE)."""
    raw = raw.strip()
    if name == "gpus_per_node":
        try:
            return int(raw)
        except ValueError:
            return raw
    if name in ("country", "hq_country", "operator_country"):
        return raw.upper()
    return raw


def _without(params: QueryDict, replaced: dict[str, list[str]]) -> str:
    query = params.copy()
    query.pop("page", None)
    for name, values in replaced.items():
        if values:
            query.setlist(name, values)
        else:
            query.pop(name, None)
    return query.urlencode()

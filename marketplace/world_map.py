"""The world map of GPU capacity: country shapes (vendored, static/vendor/world-map/) coloured by
the GPUs available in each, drawn server-side as inline SVG.

The shapes come from world-atlas (Natural Earth), turned into SVG paths once by
``marketplace/data/world_map_build.py``; they name countries by ISO 3166-1 numeric code, mapped
here to the alpha-2 codes offers carry with django-countries. The figures are never the map's
own: they are the rows of ``selectors.country_list_with_capacity``, the country list's table.
"""

import json
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django_countries import countries
from django_countries.fields import Country

MAP_DATA = settings.BASE_DIR / "static" / "vendor" / "world-map" / "countries.json"
# GPUs available now from which a country takes each shade (a log scale: capacity spans
# a few GPUs in one country to thousands in another).
SHADE_FLOORS = (1, 16, 128, 1024)


@dataclass(frozen=True)
class Shape:
    code: str  # ISO 3166-1 alpha-2; "" for a territory without one (Kosovo, N. Cyprus...)
    path: str  # SVG path data
    dot: tuple[int, int] | None  # the centre of a country too small to see or tap


@dataclass(frozen=True)
class MapCountry:
    code: str
    name: str
    path: str
    dot: tuple[int, int] | None
    gpus: int  # available now
    unknown: int  # offers available with no published count
    shade: int  # 0: no GPU available now, then 1 to len(SHADE_FLOORS)


@dataclass(frozen=True)
class LegendStep:
    shade: int
    low: int
    high: int | None  # None: and more


@dataclass(frozen=True)
class WorldMap:
    width: int
    height: float
    blank: list[Shape]  # countries without listed capacity: grey, no link
    listed: list[MapCountry]  # countries with listed offers: a link to the catalog on them
    legend: list[LegendStep]


@lru_cache(maxsize=1)
def _shapes() -> tuple[int, float, tuple[Shape, ...]]:
    data = json.loads(MAP_DATA.read_text())
    shapes = tuple(
        Shape(
            code=countries.alpha2(int(feature["numeric"])) if feature["numeric"] else "",
            path=feature["d"],
            dot=tuple(feature["dot"]) if "dot" in feature else None,
        )
        for feature in data["countries"]
    )
    return data["width"], data["height"], shapes


def shade_of(gpus: int, unknown: int = 0) -> int:
    """The shade of a country with ``gpus`` available now (an offer available with no published
    count counts as the lowest shade: there is capacity, how much is not said)."""
    shade = sum(1 for floor in SHADE_FLOORS if gpus >= floor)
    return shade or (1 if unknown else 0)


def world_map(*, rows: list[dict]) -> WorldMap:
    """The map for ``rows`` of ``country_list_with_capacity`` (country, gpus, unknown)."""
    width, height, shapes = _shapes()
    by_code = {row["country"].code: row for row in rows}
    blank, listed = [], []
    for shape in shapes:
        row = by_code.get(shape.code) if shape.code else None
        if row is None:
            blank.append(shape)
            continue
        gpus, unknown = row["gpus"] or 0, row.get("unknown") or 0
        name = str(Country(shape.code).name)
        listed.append(MapCountry(shape.code, name, shape.path, shape.dot, gpus, unknown, shade_of(gpus, unknown)))
    legend = [
        LegendStep(shade, floor, SHADE_FLOORS[shade] - 1 if shade < len(SHADE_FLOORS) else None)
        for shade, floor in enumerate(SHADE_FLOORS, start=1)
    ]
    return WorldMap(width, height, blank, listed, legend)

"""Turn world-atlas's TopoJSON (Natural Earth 1:50m countries) into the SVG paths of the world map.

Run once when the map data changes; the result is committed, so nothing is fetched at run time:

    npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    python marketplace/data/world_map_build.py package/ static/vendor/world-map/

It writes ``countries.json``: the map's size and, per country, its ISO 3166-1 numeric code (as
world-atlas names it; marketplace/world_map.py maps it to alpha-2 with django-countries), its
name in the data and its SVG path, in an equirectangular projection cropped to 58°S..84°N
(Antarctica left out: no data centre there). Coordinates are rounded to whole units of a
1000-unit-wide box. The shapes are the 1:110m ones (82 kB; the 1:50m ones are 275 kB even so,
too much for a page), plus the 1:50m shapes of the 47 small countries the 1:110m data leaves
out (Singapore, Hong Kong, Malta...). A country smaller than a few units also gets a ``dot``
(its centre), so that it can be drawn as a marker big enough to see and to tap.
"""

import json
import re
import sys
from pathlib import Path

WIDTH = 1000
NORTH, SOUTH = 84.0, -58.0
HEIGHT = round((NORTH - SOUTH) / 360 * WIDTH, 1)
LEFT_OUT = {"010"}  # Antarctica
SMALL = 6  # units: smaller countries get a dot


def decode_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    """Every arc as absolute (longitude, latitude) points (TopoJSON quantized, delta-encoded)."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def project(lon: float, lat: float) -> tuple[float, float]:
    return round((lon + 180) / 360 * WIDTH), round((NORTH - lat) / 360 * WIDTH)


def ring_path(ring: list[int], arcs: list) -> str:
    points: list[tuple[float, float]] = []
    for index in ring:
        arc = arcs[index] if index >= 0 else list(reversed(arcs[~index]))
        for point in arc[1:] if points else arc:
            xy = project(*point)
            if not points or xy != points[-1]:
                points.append(xy)
    if len(points) < 3:
        return ""
    if any(abs(x1 - x2) > WIDTH / 2 for (x1, _), (x2, _) in zip(points, points[1:], strict=False)):
        # A ring across the antimeridian (eastern Russia, Fiji): drawn whole past the right edge
        # (the view box clips it), not as a band across the whole map.
        points = [(x + WIDTH if x < WIDTH / 2 else x, y) for x, y in points]
    first, *rest = points
    return f"M{first[0]:g} {first[1]:g}" + "".join(f"L{x:g} {y:g}" for x, y in rest) + "Z"


def features_of(topology: dict) -> list[dict]:
    arcs = decode_arcs(topology)
    features = []
    for geometry in topology["objects"]["countries"]["geometries"]:
        code = geometry.get("id")
        if code in LEFT_OUT or geometry["type"] not in ("Polygon", "MultiPolygon"):
            continue
        polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        path = "".join(ring_path(ring, arcs) for polygon in polygons for ring in polygon)
        if path:
            feature = {"numeric": code, "name": geometry["properties"]["name"], "d": path}
            xs = [float(v) for v in re.findall(r"[ML](-?[\d.]+) ", path)]
            ys = [float(v) for v in re.findall(r" (-?[\d.]+)", path)]
            if max(xs) - min(xs) < SMALL and max(ys) - min(ys) < SMALL:
                feature["dot"] = [round((max(xs) + min(xs)) / 2), round((max(ys) + min(ys)) / 2)]
            features.append(feature)
    return features


def build(coarse: dict, fine: dict) -> dict:
    features = features_of(coarse)
    known = {feature["numeric"] for feature in features}
    features += [feature for feature in features_of(fine) if feature["numeric"] not in known]
    source = "world-atlas 2.0.2 (Natural Earth): countries-110m, and countries-50m for small countries"
    return {"width": WIDTH, "height": HEIGHT, "source": source, "countries": features}


if __name__ == "__main__":
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    data = build(
        json.loads((source / "countries-110m.json").read_text()),
        json.loads((source / "countries-50m.json").read_text()),
    )
    (target / "countries.json").write_text(json.dumps(data, separators=(",", ":")))

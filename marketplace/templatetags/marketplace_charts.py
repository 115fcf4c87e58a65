"""Server-rendered SVG charts: no JavaScript library, readable without JavaScript.

``{% step_chart points end=now label="..." %}`` draws a step line: a snapshot's value holds
until the next snapshot (snapshots are recorded when something changed).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django import template

register = template.Library()

WIDTH, HEIGHT = 640, 180
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 10, 26  # room for the axis labels


@dataclass
class Tick:
    position: float
    value: object  # a number on the y axis, a datetime on the x axis


@dataclass
class Chart:
    width: int
    height: int
    polyline: str
    area: str
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    left: int
    right: int
    top: int
    bottom: int


def step_chart_geometry(points: list[tuple[datetime, Decimal | int]], *, end: datetime) -> Chart | None:
    """Scale ``(time, value)`` points (oldest first) into the chart's box; None without points.

    The y axis starts at zero so that a small change does not look like a big one.
    """
    if not points:
        return None
    points = sorted((when, float(value)) for when, value in points)
    points.append((max(end, points[-1][0]), points[-1][1]))  # the last value holds until now
    start = points[0][0]
    span = max((points[-1][0] - start).total_seconds(), 1.0)
    high = max(value for _, value in points) * 1.1 or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(when: datetime) -> float:
        return round(LEFT + (when - start).total_seconds() / span * plot_w, 1)

    def y(value: float) -> float:
        return round(TOP + plot_h - value / high * plot_h, 1)

    coords: list[tuple[float, float]] = []
    previous = None
    for when, value in points:
        if previous is not None:
            coords.append((x(when), y(previous)))  # hold the old value until now
        coords.append((x(when), y(value)))
        previous = value
    polyline = " ".join(f"{px},{py}" for px, py in coords)
    baseline = TOP + plot_h
    area = f"{coords[0][0]},{baseline} {polyline} {coords[-1][0]},{baseline}"
    y_ticks = [Tick(y(high * share), high * share) for share in (0, 0.5, 1)]
    middle = start + timedelta(seconds=span / 2)
    x_ticks = [Tick(x(when), when) for when in (start, middle, points[-1][0])]
    return Chart(WIDTH, HEIGHT, polyline, area, y_ticks, x_ticks, LEFT, WIDTH - RIGHT, TOP, baseline)


@register.inclusion_tag("components/line_chart.html")
def step_chart(points, *, end, label, unit="", decimals=2):
    return {
        "chart": step_chart_geometry(list(points), end=end),
        "label": label,
        "unit": unit,
        "decimals": decimals,
    }

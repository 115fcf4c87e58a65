"""Server-rendered SVG charts: no JavaScript library, readable without JavaScript.

``{% step_chart points end=now label="..." %}`` draws a step line: a snapshot's value holds
until the next snapshot (snapshots are recorded when something changed). A value of None
("available, count not published") is not a number to draw: the line stops there and the
span is shaded instead, until the next known value.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django import template
from django.utils.translation import pgettext_lazy

register = template.Library()

WIDTH, HEIGHT = 640, 180
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 10, 26  # room for the axis labels


@dataclass
class Tick:
    position: float
    value: object  # a number on the y axis, a datetime on the x axis


@dataclass
class Line:
    """One unbroken run of known values: the step line and the area under it."""

    polyline: str
    area: str


@dataclass
class Gap:
    """A span with no known value (count not published), from x ``start`` to x ``end``."""

    start: float
    end: float

    @property
    def width(self) -> float:
        return round(self.end - self.start, 1)


@dataclass
class Chart:
    width: int
    height: int
    lines: list[Line]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    left: int
    right: int
    top: int
    bottom: int
    gaps: list[Gap] = field(default_factory=list)

    @property
    def polyline(self) -> str:
        """Every line's points, in order (one line unless there are gaps)."""
        return " ".join(line.polyline for line in self.lines)

    @property
    def plot_height(self) -> int:
        return self.bottom - self.top


def step_chart_geometry(points: list[tuple[datetime, Decimal | int | None]], *, end: datetime) -> Chart | None:
    """Scale ``(time, value)`` points (oldest first) into the chart's box; None without points.

    The y axis starts at zero so that a small change does not look like a big one. None values
    break the line into several and become shaded gaps.
    """
    if not points:
        return None
    points = sorted(
        ((when, None if value is None else float(value)) for when, value in points), key=lambda point: point[0]
    )
    points.append((max(end, points[-1][0]), points[-1][1]))  # the last value holds until now
    start = points[0][0]
    span = max((points[-1][0] - start).total_seconds(), 1.0)
    known = [value for _, value in points if value is not None]
    high = (max(known) if known else 0.0) * 1.1 or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(when: datetime) -> float:
        return round(LEFT + (when - start).total_seconds() / span * plot_w, 1)

    def y(value: float) -> float:
        return round(TOP + plot_h - value / high * plot_h, 1)

    runs: list[list[tuple[float, float]]] = []
    gaps: list[Gap] = []
    coords: list[tuple[float, float]] = []
    previous: float | None = None
    gap_start: datetime | None = None
    for when, value in points:
        if previous is not None:
            coords.append((x(when), y(previous)))  # hold the old value until now
        if value is None:
            if coords:
                runs.append(coords)
                coords = []
            gap_start = gap_start or when
        else:
            if gap_start is not None:
                gaps.append(Gap(x(gap_start), x(when)))
                gap_start = None
            coords.append((x(when), y(value)))
        previous = value
    if coords:
        runs.append(coords)
    if gap_start is not None:
        gaps.append(Gap(x(gap_start), x(points[-1][0])))

    baseline = TOP + plot_h
    lines = []
    for run in runs:
        polyline = " ".join(f"{px},{py}" for px, py in run)
        lines.append(Line(polyline, f"{run[0][0]},{baseline} {polyline} {run[-1][0]},{baseline}"))
    # Without a single known value there is no scale to show.
    y_ticks = [Tick(y(high * share), high * share) for share in (0, 0.5, 1)] if known else []
    middle = start + timedelta(seconds=span / 2)
    x_ticks = [Tick(x(when), when) for when in (start, middle, points[-1][0])]
    return Chart(WIDTH, HEIGHT, lines, y_ticks, x_ticks, LEFT, WIDTH - RIGHT, TOP, baseline, gaps)


# The time axis' date formats (Django's ``date`` filter), translated: "Dec 5" is "5 déc." in French.
X_FORMATS = {
    "datetime": pgettext_lazy("chart time axis, a date and time: Django date format", "M j H:i"),
    "date": pgettext_lazy("chart time axis, a day: Django date format", "M j"),
}


@register.inclusion_tag("components/line_chart.html")
def step_chart(points, *, end, label, unit="", decimals=2, gap_label="", x_format="datetime"):
    return {
        "x_format": X_FORMATS[x_format],
        "chart": step_chart_geometry(list(points), end=end),
        "label": label,
        "unit": unit,
        "decimals": decimals,
        "gap_label": gap_label,
    }

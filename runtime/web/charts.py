"""Bar charts drawn by the server as SVG (``templates/_chart.jinja``), for the statistics.

A chart is a list of bars, each with its label above it and its figure beside it in
words (no meaning by colour or length alone); the page shows the same figures as a
table too. Written here rather than with a chart library: a dozen lines of geometry,
no script in the browser (the pages' CSP allows only the site's own), and the text stays
real text for screen readers and search.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

WIDTH: Final = 300  # the drawing's own units; it scales to the column it is in
ROW: Final = 42  # a label line and a bar
BAR: Final = 14
VALUE_ROOM: Final = 48  # right of the longest bar, for its figure


@dataclass(frozen=True)
class Bar:
    label: str
    shown: str  # the figure as words: "12", "4.5 分"
    y: float  # the label's baseline; the bar lies below it
    width: float
    kind: str  # a class for the bar's colour (site.css), never its only meaning


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    desc: str
    bars: tuple[Bar, ...]
    width: int
    height: int
    bar_height: int
    track: int  # the longest bar's length: a pale track behind each bar shows the scale


def bar_chart(
    chart_id: str,
    title: str,
    desc: str,
    items: Sequence[tuple[str, float, str]],
    kinds: Sequence[str] | None = None,
) -> Chart:
    """A horizontal bar chart of ``items`` (label, value, the value as shown)."""
    top = max((value for _, value, _ in items), default=0) or 1
    room = WIDTH - VALUE_ROOM
    bars = tuple(
        Bar(
            label=label,
            shown=shown,
            y=n * ROW + 14,
            width=max(2.0, round(room * value / top, 1)) if value > 0 else 0,
            kind=(kinds[n] if kinds is not None else "plain"),
        )
        for n, (label, value, shown) in enumerate(items)
    )
    return Chart(chart_id, title, desc, bars, WIDTH, max(ROW, len(bars) * ROW), BAR, room)

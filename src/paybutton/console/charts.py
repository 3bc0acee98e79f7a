"""Bar charts drawn on the server as SVG (the console runs no scripts). A chart is geometry for the template
(console/templates/chart.html): bars scaled to the largest figure, a few axis labels, and the figures themselves,
which the template gives to screen readers as the SVG's title and description and as a table."""

from __future__ import annotations

from dataclasses import dataclass, field

WIDTH, HEIGHT, TOP, BOTTOM = 600, 150, 14, 22  # the viewBox; room above the bars and below them for labels


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int
    text: str  # the figure as shown (a count, or yuan)


@dataclass
class Chart:
    key: str
    title: str
    total_text: str
    max_text: str
    bars: list[Bar] = field(default_factory=list)
    ticks: list[tuple[float, str]] = field(default_factory=list)  # (x, label) under the bars
    width: int = WIDTH
    height: int = HEIGHT
    base: int = HEIGHT - BOTTOM


def chart(key: str, title: str, labels: list[str], values: list[int], show: object) -> Chart:
    """`show` turns a figure into its text (str(n), or yuan)."""
    fmt = show if callable(show) else str
    top = max(max(values, default=0), 1)
    slot = WIDTH / max(len(values), 1)
    usable = HEIGHT - TOP - BOTTOM
    c = Chart(key, title, total_text=str(fmt(sum(values))), max_text=str(fmt(max(values, default=0))))
    for i, (label, v) in enumerate(zip(labels, values, strict=True)):
        h = round(usable * max(v, 0) / top, 1)
        c.bars.append(Bar(round(i * slot + slot * 0.15, 1), round(HEIGHT - BOTTOM - h, 1), round(slot * 0.7, 1),
                          h, label, v, str(fmt(v))))
    step = max(1, len(values) // 6)
    c.ticks = [(round(i * slot + slot / 2, 1), labels[i]) for i in range(0, len(values), step)]
    return c

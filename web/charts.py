"""Small bar charts drawn on the server as inline SVG: no JavaScript, no external file, printable.

Each chart has a <title> for screen readers and its numbers written on the bars; the page puts
the same data in a table under it.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH = 360  # a phone's width: the text stays large there and grows on the station's screen
BAR = "#1f6f8b"
INK = "#1b1b1b"
MUTED = "#5a5a5a"
TEXT = 20  # type size in SVG units: about 18 px on a phone
COLUMN_AREA = 180  # the tallest column, in SVG units
ROW = 58  # one procedure's label and bar
LABEL_EVERY = 13  # more columns than this: name every few so the labels do not overlap

Bars = Sequence[tuple[str, int]]


def columns(title: str, bars: Bars, chart_id: str) -> Markup:
    """Vertical bars, one per label (a week), the count above each and the label under it.
    Narrow bars (a year of weeks) get their count written upwards, in smaller type."""
    top, bottom, side = 40, 34, 4
    height = top + COLUMN_AREA + bottom
    slot = (WIDTH - 2 * side) / max(1, len(bars))
    step = 1 + (len(bars) - 1) // LABEL_EVERY if bars else 1
    highest = max((count for _, count in bars), default=0) or 1
    shapes = []
    for index, (label, count) in enumerate(bars):
        x = side + index * slot
        tall = COLUMN_AREA * count / highest
        y = top + COLUMN_AREA - tall
        middle = x + slot / 2
        shapes.append(_rect(x + slot * 0.15, y, slot * 0.7, tall))
        if count:
            shapes.append(_count(middle, y, str(count), slot))
        if index % step == 0:
            shapes.append(_text(middle, height - 10, label, size=16, anchor="middle", colour=MUTED))
    baseline = f'<line x1="{side}" x2="{WIDTH - side}" y1="{top + COLUMN_AREA}" '
    baseline += f'y2="{top + COLUMN_AREA}" stroke="{MUTED}" stroke-width="1"/>'
    return _svg(title, chart_id, height, [*shapes, baseline])


def rows(title: str, bars: Bars, chart_id: str) -> Markup:
    """Horizontal bars, one per label (a procedure): the label above its bar, the count after it."""
    highest = max((count for _, count in bars), default=0) or 1
    room = WIDTH - 60  # what the longest bar may take, leaving space for its number
    shapes = []
    for index, (label, count) in enumerate(bars):
        y = 4 + index * ROW
        long = max(2.0, room * count / highest)
        shapes.append(_text(0, y + 20, label, size=TEXT, anchor="start"))
        shapes.append(_rect(0, y + 28, long, 22))
        shapes.append(_text(long + 6, y + 46, str(count), size=TEXT, anchor="start", kind="n"))
    return _svg(title, chart_id, 8 + max(1, len(bars)) * ROW, shapes)


def _count(middle: float, y: float, words: str, slot: float) -> str:
    """A column's number just above it: level when the column is wide enough, else upwards."""
    if slot >= 1.2 * TEXT:
        return _text(middle, y - 6, words, size=TEXT, anchor="middle", kind="n")
    size = max(9, min(TEXT, round(slot)))
    level = _text(middle, y - 4, words, size=size, anchor="start", kind="n")
    turn = f'<text transform="rotate(-90 {_n(middle)} {_n(y - 4)})" dy="0.35em" '
    return level.replace("<text ", turn, 1)


def _svg(title: str, chart_id: str, height: float, shapes: list[str]) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'aria-labelledby="{escape(chart_id)}" viewBox="0 0 {WIDTH} {_n(height)}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet">'
        f'<title id="{escape(chart_id)}">{escape(title)}</title>'
    )
    return Markup(head + "".join(shapes) + "</svg>")


def _rect(x: float, y: float, width: float, height: float) -> str:
    return f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(width)}" height="{_n(height)}" fill="{BAR}"/>'


def _text(
    x: float,
    y: float,
    words: str,
    *,
    size: int,
    anchor: str,
    colour: str = INK,
    kind: str = "label",
) -> str:
    """`kind`: "n" for a number written on a bar, "label" for what a bar is."""
    return (
        f'<text class="{kind}" x="{_n(x)}" y="{_n(y)}" font-size="{size}" '
        f'text-anchor="{anchor}" fill="{colour}" font-family="sans-serif">{escape(words)}</text>'
    )


def _n(value: float) -> str:
    """A coordinate with at most one decimal, as short as it can be."""
    return f"{value:.1f}".rstrip("0").rstrip(".")

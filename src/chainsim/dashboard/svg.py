"""Small SVG charts: lines with bands, grouped bars, a guess strip.

The dashboard draws its charts as SVG strings in Python: no JavaScript charting
library (none is available offline), a few milliseconds per chart, and text that
a browser test can read. Every element carries a ``data-*`` attribute naming what
it shows (``data-series``, ``data-bar``), and every text is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

PALETTE: tuple[str, ...] = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3",
                            "#937860", "#DA8BC3", "#8C8C8C", "#CCB974", "#64B5CD")
SOURCE_COLOR = "#C44E52"
FONT = "font-family:Roboto,Helvetica,Arial,sans-serif"


@dataclass(frozen=True)
class Line:
    """One line of a line chart.

    Attributes:
        name: Legend text.
        x: X values.
        y: Y values (NaN breaks the line).
        color: Stroke colour.
        dash: SVG dash pattern, e.g. ``"6 3"``.
        lo: Lower edge of a band (optional, same length as ``y``).
        hi: Upper edge of a band.
        width: Stroke width.
    """

    name: str
    x: Sequence[float]
    y: Sequence[float]
    color: str = PALETTE[0]
    dash: str | None = None
    lo: Sequence[float] | None = None
    hi: Sequence[float] | None = None
    width: float = 2.0


@dataclass(frozen=True)
class BarGroup:
    """One series of a grouped bar chart.

    Attributes:
        name: Legend text.
        values: One value per category (NaN: no bar).
        labels: Text above each bar (default: the value, rounded).
        color: Fill colour.
    """

    name: str
    values: Sequence[float]
    labels: Sequence[str] | None = None
    color: str = PALETTE[0]


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round tick values covering ``[lo, hi]``."""
    if not math.isfinite(lo) or not math.isfinite(hi):
        return [0.0, 1.0]
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / max(n, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.floor(lo / step)
    last = math.ceil(hi / step - 1e-9)
    return [round(k * step, 10) for k in range(first, max(last, first + 1) + 1)]


def _fmt(v: float) -> str:
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v - round(v)) < 1e-9:
        return f"{v:.0f}"
    return f"{v:.2f}".rstrip("0").rstrip(".")


CHAR_WIDTH = 0.58
"""Average glyph width in em of the chart font (Roboto/Helvetica), for wrapping."""


def wrap(text: str, width: float, font_size: float) -> list[str]:
    """Lines of ``text`` that fit ``width`` pixels at ``font_size``.

    Breaks at spaces, before a parenthesis, and inside a word longer than a line
    (with a hyphen), so long Dutch compounds such as ``reclasseringstoezicht`` never
    run into the next label.
    """
    per_line = max(4, int(width / (CHAR_WIDTH * font_size)))
    lines: list[str] = []
    line = ""
    for word in text.split():
        while len(word) > per_line:
            if line:
                lines.append(line)
                line = ""
            cut = _break_point(word, per_line - 1)
            lines.append(word[:cut] + ("" if word[cut - 1] == "-" else "-"))
            word = word[cut:]
        if not line:
            line = word
        elif len(line) + 1 + len(word) <= per_line and not word.startswith("("):
            line += " " + word
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines


def _break_point(word: str, most: int) -> int:
    """Where to break a long word (at most ``most`` characters on the line).

    After a hyphen if there is one; else after a linking ``s`` of a Dutch compound
    (``reclasserings|toezicht``); else between syllables (``dagvaar|ding``: VC|CV or
    V|CV); else at ``most``.
    """
    vowels = "aeiouyAEIOUY"
    if "-" in word[1:most]:
        return word.rindex("-", 1, most) + 1
    for j in range(most, 4, -1):  # not inside a double s: vrijheids|straf, not vrijheidss|traf
        if word[j - 1] == "s" and word[j] not in vowels + "-" and word[j - 2] != "s":
            return j
    for j in range(most, 2, -1):
        if j + 1 >= len(word) or not word[j].isalpha():
            continue
        cut_vc = (word[j - 2] in vowels and word[j - 1] not in vowels
                  and word[j] not in vowels and word[j + 1] in vowels)
        cut_v = word[j - 1] in vowels and word[j] not in vowels and word[j + 1] in vowels
        if (cut_vc or cut_v) and word[j - 1].isalpha():
            return j
    return most


def _finite(values: Sequence[float]) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(float(v))]


class _Frame:
    """Plot area with linear scales."""

    def __init__(self, width: int, height: int, x_range: tuple[float, float],
                 y_range: tuple[float, float], left: int = 56, right: int = 12, top: int = 34,
                 bottom: int = 46):
        self.w, self.h = width, height
        self.l, self.r, self.t, self.b = left, width - right, top, height - bottom
        self.x0, self.x1 = x_range
        self.y0, self.y1 = y_range

    def x(self, v: float) -> float:
        span = (self.x1 - self.x0) or 1.0
        return self.l + (v - self.x0) / span * (self.r - self.l)

    def y(self, v: float) -> float:
        span = (self.y1 - self.y0) or 1.0
        return self.b - (v - self.y0) / span * (self.b - self.t)


def _open(width: int, height: int, title: str, kind: str) -> list[str]:
    return [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'width="100%" style="max-width:{width}px;{FONT}" data-chart="{escape(kind)}" '
            f'role="img" aria-label="{escape(title)}">',
            f'<text x="{width / 2:.0f}" y="18" text-anchor="middle" font-size="15" '
            f'font-weight="600" class="chart-title">{escape(title)}</text>']


def _y_axis(parts: list[str], f: _Frame, ticks: list[float], label: str,
            fmt=_fmt) -> None:
    for v in ticks:
        y = f.y(v)
        parts.append(f'<line x1="{f.l}" x2="{f.r}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e5e5"/>')
        parts.append(f'<text x="{f.l - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="12" '
                     f'fill="#555">{escape(fmt(v))}</text>')
    if label:
        parts.append(f'<text transform="translate(13,{(f.t + f.b) / 2:.0f}) rotate(-90)" '
                     f'text-anchor="middle" font-size="12" fill="#333">{escape(label)}</text>')


def _legend_rows(names: Sequence[str], width: float) -> int:
    """How many rows :func:`_legend` takes for these names in ``width`` pixels."""
    cx, rows = 0.0, 1
    for name in names:
        est = 26 + 6.9 * len(name)
        if cx + est > width and cx > 0:
            cx, rows = 0.0, rows + 1
        cx += est
    return rows


def _legend(parts: list[str], items: list[tuple[str, str, str | None]], x: float, y: float,
            width: float) -> None:
    cx, cy = x, y
    for name, color, dash in items:
        est = 26 + 6.9 * len(name)
        if cx + est > x + width and cx > x:
            cx, cy = x, cy + 15
        style = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<line x1="{cx:.0f}" x2="{cx + 18:.0f}" y1="{cy:.0f}" y2="{cy:.0f}" '
                     f'stroke="{color}" stroke-width="3"{style}/>')
        parts.append(f'<text x="{cx + 22:.0f}" y="{cy + 4:.0f}" font-size="12" '
                     f'class="legend">{escape(name)}</text>')
        cx += est


def line_chart(lines: Sequence[Line], *, title: str, x_label: str = "", y_label: str = "",
               width: int = 640, height: int = 300, x_marker: float | None = None,
               y_min: float | None = 0.0, y_max: float | None = None,
               y_format=_fmt, x_format=_fmt, markers: Sequence[float] = (),
               legend: Sequence[tuple[str, str, str | None]] | None = None) -> str:
    """A line chart with optional bands (``lo``/``hi``) and a vertical marker.

    Args:
        lines: The lines, drawn in order (bands first).
        title: Chart title.
        x_label: X-axis label.
        y_label: Y-axis label.
        width: Width in pixels (the SVG scales down to its container).
        height: Height in pixels.
        x_marker: X position of a vertical marker (e.g. "now").
        y_min: Lower end of the y axis (``None``: from the data).
        y_max: Upper end of the y axis (``None``: from the data).
        y_format: Tick formatter for y.
        x_format: Tick formatter for x.
        markers: X positions of secondary markers (e.g. where the levers changed).
        legend: Legend entries (name, colour, dash) instead of one per line.

    Returns:
        The SVG document as a string.
    """
    xs = [v for line in lines for v in _finite(line.x)]
    ys = [v for line in lines for v in _finite(line.y)]
    for line in lines:
        ys += _finite(line.lo or []) + _finite(line.hi or [])
    x_range = (min(xs), max(xs)) if xs else (0.0, 1.0)
    lo = y_min if y_min is not None else (min(ys) if ys else 0.0)
    hi = y_max if y_max is not None else (max(ys) if ys else 1.0)
    yt = nice_ticks(lo, hi)
    items = list(legend) if legend is not None else [(line.name, line.color, line.dash)
                                                     for line in lines]
    rows = _legend_rows([name for name, _, _ in items], width - 68)
    height += 15 * (rows - 1)  # the legend gets room; the plot keeps its height
    f = _Frame(width, height, x_range, (min(yt[0], lo), max(yt[-1], hi)),
               bottom=40 + 15 * rows)
    parts = _open(width, height, title, "line")
    _y_axis(parts, f, yt, y_label, y_format)
    for v in nice_ticks(*x_range, n=6):
        if x_range[0] - 1e-9 <= v <= x_range[1] + 1e-9:
            x = f.x(v)
            parts.append(f'<text x="{x:.1f}" y="{f.b + 15}" text-anchor="middle" font-size="12" '
                         f'fill="#555">{escape(x_format(v))}</text>')
    if x_label:
        parts.append(f'<text x="{(f.l + f.r) / 2:.0f}" y="{f.b + 29}" text-anchor="middle" '
                     f'font-size="12" fill="#333">{escape(x_label)}</text>')
    for line in lines:
        if line.lo is None or line.hi is None:
            continue
        top = [(f.x(x), f.y(h)) for x, h in zip(line.x, line.hi, strict=True)
               if math.isfinite(h)]
        bottom = [(f.x(x), f.y(lv)) for x, lv in zip(line.x, line.lo, strict=True)
                  if math.isfinite(lv)]
        if top and bottom:
            pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in [*top, *bottom[::-1]])
            parts.append(f'<polygon points="{pts}" fill="{line.color}" fill-opacity="0.18" '
                         f'stroke="none" data-band="{escape(line.name)}"/>')
    for line in lines:
        d, pen = [], "M"
        for x, y in zip(line.x, line.y, strict=True):
            if y is None or not math.isfinite(float(y)):
                pen = "M"
                continue
            d.append(f"{pen}{f.x(x):.1f},{f.y(y):.1f}")
            pen = "L"
        dash = f' stroke-dasharray="{line.dash}"' if line.dash else ""
        parts.append(f'<path d="{" ".join(d)}" fill="none" stroke="{line.color}" '
                     f'stroke-width="{line.width}"{dash} data-series="{escape(line.name)}"/>')
    for m in markers:
        if x_range[0] <= m <= x_range[1]:
            parts.append(f'<line x1="{f.x(m):.1f}" x2="{f.x(m):.1f}" y1="{f.t}" y2="{f.b}" '
                         f'stroke="{PALETTE[4]}" stroke-width="2" data-marker="levers"/>')
    if x_marker is not None and x_range[0] <= x_marker <= x_range[1]:
        x = f.x(x_marker)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{f.t}" y2="{f.b}" stroke="#333" '
                     f'stroke-dasharray="2 3" data-marker="now"/>')
    parts.append(f'<line x1="{f.l}" x2="{f.r}" y1="{f.b}" y2="{f.b}" stroke="#888"/>')
    _legend(parts, items, f.l, f.b + 44 - 4,
            f.r - f.l)
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(categories: Sequence[str], groups: Sequence[BarGroup], *, title: str,
              y_label: str = "", width: int = 820, height: int = 340, y_format=_fmt) -> str:
    """A grouped bar chart with a text label above every bar.

    Args:
        categories: Category names along x.
        groups: One series per group (side by side within a category).
        title: Chart title.
        y_label: Y-axis label.
        width: Width in pixels.
        height: Height in pixels.
        y_format: Tick formatter for y.
    """
    values = [v for g in groups for v in _finite(g.values)]
    yt = nice_ticks(0.0, max(values) * 1.12 if values else 1.0)
    f = _Frame(width, height, (0, len(categories)), (0, yt[-1]), bottom=74)
    parts = _open(width, height, title, "bar")
    _y_axis(parts, f, yt, y_label, y_format)
    slot = (f.r - f.l) / max(len(categories), 1)
    bar_w = slot * 0.8 / max(len(groups), 1)
    for i, cat in enumerate(categories):
        cx = f.l + slot * (i + 0.5)
        previous: tuple[float, float, float] | None = None  # label centre, half width, y
        for j, g in enumerate(groups):
            v = g.values[i]
            if v is None or not math.isfinite(float(v)):
                continue
            x = f.l + slot * i + slot * 0.1 + j * bar_w
            y = f.y(v)
            label = g.labels[i] if g.labels is not None else _fmt(round(v))
            centre, half = x + bar_w / 2 - 1, CHAR_WIDTH * 11 * len(label) / 2 + 1
            label_y = y - 4
            if (previous is not None and centre - half < previous[0] + previous[1]
                    and abs(label_y - previous[2]) < 11):
                label_y = previous[2] - 11  # would touch its neighbour: lift it a line
            previous = (centre, half, label_y)
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 2:.1f}" '
                         f'height="{f.b - y:.1f}" fill="{g.color}" '
                         f'data-bar="{escape(g.name)}|{escape(cat)}"/>')
            parts.append(f'<text x="{centre:.1f}" y="{label_y:.1f}" '
                         f'text-anchor="middle" font-size="11" class="bar-label">'
                         f'{escape(label)}</text>')
        for k, text in enumerate(wrap(cat, slot, 12)[:3]):
            parts.append(f'<text x="{cx:.1f}" y="{f.b + 15 + 13 * k}" text-anchor="middle" '
                         f'font-size="12" class="category">{escape(text)}</text>')
    parts.append(f'<line x1="{f.l}" x2="{f.r}" y1="{f.b}" y2="{f.b}" stroke="#888"/>')
    _legend(parts, [(g.name, g.color, None) for g in groups], f.l, f.b + 50, f.r - f.l)
    parts.append("</svg>")
    return "".join(parts)


def guess_strip(guesses: Sequence[float], result: tuple[float, float, float],
                baseline: float | None, *, title: str, labels: tuple[str, str, str],
                width: int = 640, height: int = 130, fmt=_fmt) -> str:
    """Guesses as dots on one axis against the model's mean and 95 % interval.

    Args:
        guesses: The room's guesses.
        result: Model (mean, lo, hi).
        baseline: The baseline's mean (drawn as a grey tick), or ``None``.
        title: Chart title.
        labels: Legend texts (guess, model, baseline).
        width: Width in pixels.
        height: Height in pixels.
        fmt: Tick formatter.
    """
    mean, lo, hi = result
    values = _finite([*guesses, mean, lo, hi] + ([baseline] if baseline is not None else []))
    ticks = nice_ticks(min(values), max(values), n=6)
    f = _Frame(width, height, (ticks[0], ticks[-1]), (0, 1), left=20, right=20, bottom=50)
    parts = _open(width, height, title, "strip")
    mid = (f.t + f.b) / 2
    parts.append(f'<line x1="{f.l}" x2="{f.r}" y1="{mid:.0f}" y2="{mid:.0f}" stroke="#888"/>')
    for v in ticks:
        parts.append(f'<text x="{f.x(v):.1f}" y="{f.b + 14}" text-anchor="middle" '
                     f'font-size="12" fill="#555">{escape(fmt(v))}</text>')
    parts.append(f'<rect x="{f.x(lo):.1f}" y="{mid - 12:.0f}" '
                 f'width="{max(f.x(hi) - f.x(lo), 2):.1f}" height="24" fill="{PALETTE[1]}" '
                 f'fill-opacity="0.3" data-result="ci"/>')
    parts.append(f'<line x1="{f.x(mean):.1f}" x2="{f.x(mean):.1f}" y1="{mid - 16:.0f}" '
                 f'y2="{mid + 16:.0f}" stroke="{PALETTE[1]}" stroke-width="3" '
                 f'data-result="mean"/>')
    if baseline is not None:
        parts.append(f'<line x1="{f.x(baseline):.1f}" x2="{f.x(baseline):.1f}" '
                     f'y1="{mid - 10:.0f}" y2="{mid + 10:.0f}" stroke="#777" stroke-width="2" '
                     f'stroke-dasharray="3 2" data-result="baseline"/>')
    for g in guesses:
        parts.append(f'<circle cx="{f.x(g):.1f}" cy="{mid:.0f}" r="6" fill="{PALETTE[0]}" '
                     f'fill-opacity="0.75" data-guess="{_fmt(g)}"/>')
    _legend(parts, [(labels[0], PALETTE[0], None), (labels[1], PALETTE[1], None),
                    (labels[2], "#777", "3 2")], f.l, f.b + 34, f.r - f.l)
    parts.append("</svg>")
    return "".join(parts)


def agent_grid(columns: Sequence[tuple[str, Sequence[int], int, str, str]], *, title: str,
               selected: int | None = None, width: int = 900, per_row: int = 6,
               more_label: str = "+{n}", count_format=_fmt) -> str:
    """Offenders as clickable dots, one column per stage.

    Args:
        columns: Per stage: (label, offender ids shown, total in the stage, colour, stage key).
        title: Chart title.
        selected: The selected offender id (drawn with a ring).
        width: Width in pixels.
        per_row: Dots per row within a column.
        more_label: Text for the ones not shown (``{n}`` is replaced).
        count_format: Formatter of the counts.
    """
    col_w = width / max(len(columns), 1)
    cell = min(14.0, (col_w - 8) / per_row)
    rows = max((math.ceil(len(ids) / per_row) for _, ids, _, _, _ in columns), default=1)
    labels = [wrap(label, col_w - 4, 10)[:5] for label, *_ in columns]
    lines = max((len(lab) for lab in labels), default=1)
    count_y = 34 + 11 * lines + 3  # every column's label has room above its count
    dots_y = count_y + 10
    height = int(dots_y + rows * cell + 24)
    parts = _open(width, height, title, "agents")
    for i, (_label, ids, total, color, key) in enumerate(columns):
        x0 = i * col_w + 4
        for k, text in enumerate(labels[i]):
            parts.append(f'<text x="{x0 + col_w / 2 - 4:.1f}" y="{34 + 11 * k}" '
                         f'text-anchor="middle" font-size="10">{escape(text)}</text>')
        parts.append(f'<text x="{x0 + col_w / 2 - 4:.1f}" y="{count_y}" text-anchor="middle" '
                     f'font-size="12" font-weight="600" data-stage-total="{total}">'
                     f'{escape(count_format(total))}</text>')
        for k, oid in enumerate(ids):
            cx = x0 + (k % per_row + 0.5) * cell
            cy = dots_y + (k // per_row + 0.5) * cell
            ring = ' stroke="#000" stroke-width="2"' if oid == selected else ""
            parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{cell * 0.38:.1f}" '
                         f'fill="{color}"{ring} data-agent="{int(oid)}" data-stage="{escape(key)}" '
                         f'style="cursor:pointer">'
                         f'<title>{int(oid)}</title></circle>')
        if total > len(ids):
            y = dots_y + math.ceil(len(ids) / per_row) * cell + 12
            parts.append(f'<text x="{x0 + col_w / 2 - 4:.1f}" y="{y:.0f}" text-anchor="middle" '
                         f'font-size="11" fill="#555">'
                         f'{escape(more_label.format(n=count_format(total - len(ids))))}</text>')
    parts.append("</svg>")
    return "".join(parts)

"""The reveal's charts as SVG strings (no JavaScript, no external assets).

- :func:`prediction_chart`: the room's predictions as a dot plot on a number line, beside
  the simulated result (its 90 % replication band, the mean with its 95 % CI) and the
  baseline;
- :func:`direction_chart`: how many said down / no change / up, the simulated direction
  marked.

Colours are SVG presentation attributes (the pages' content security policy allows no
inline styles).
"""

from __future__ import annotations

import math
from html import escape

import numpy as np

from chainsim.chain.numbers import format_number
from chainsim.dashboard.room.catalogue import t
from chainsim.dashboard.room.compute import RoundResult

WIDTH, HEIGHT = 480, 250
MARGIN = 24
ROOM = "#1f77b4"
SIM = "#d62728"
BASE = "#555555"
YOU = "#ff7f0e"


def _nice_range(values: list[float]) -> tuple[float, float]:
    lo, hi = min(values), max(values)
    if hi - lo < 1e-9:
        pad = abs(hi) * 0.1 or 1.0
        return lo - pad, hi + pad
    pad = (hi - lo) * 0.08
    return lo - pad, hi + pad


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    span = hi - lo
    step = 10 ** math.floor(math.log10(span / n))
    for m in (1, 2, 5, 10):
        if span / (step * m) <= n:
            step *= m
            break
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step) + 1)]


def prediction_chart(values: list[float], result: RoundResult | None, lang: str,
                     mine: float | None = None) -> str:
    """A dot plot of predictions with the simulated band, mean and CI, and the baseline.

    Args:
        values: The room's predictions (in the units shown).
        result: The simulated result (``None``: predictions only).
        lang: ``en`` or ``nl``.
        mine: The reader's own prediction, drawn in another colour.
    """
    points = list(values)
    if result is not None:
        points += [result.band[0], result.band[1], result.baseline.mean, result.scenario.mean]
    if not points:
        points = [0.0, 1.0]
    lo, hi = _nice_range(points)

    def x(v: float) -> float:
        return MARGIN + (v - lo) / (hi - lo) * (WIDTH - 2 * MARGIN)

    axis_y = HEIGHT - 40
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(t("reveal", lang))}">']
    if result is not None:
        b0, b1 = x(result.band[0]), x(result.band[1])
        parts.append(f'<rect class="sim-band" data-band="scenario" x="{b0:.1f}" y="20" '
                     f'width="{max(b1 - b0, 2):.1f}" height="{axis_y - 20}" fill="{SIM}" '
                     f'fill-opacity="0.15"/>')
        m = x(result.scenario.mean)
        parts.append(f'<line x1="{m:.1f}" x2="{m:.1f}" y1="20" y2="{axis_y}" stroke="{SIM}" '
                     f'stroke-width="3"/>')
        c0, c1 = x(result.scenario.lo), x(result.scenario.hi)
        parts.append(f'<line class="sim-ci" x1="{c0:.1f}" x2="{c1:.1f}" y1="28" y2="28" '
                     f'stroke="{SIM}" stroke-width="5"/>')
        parts.append(f'<text x="{m:.1f}" y="14" text-anchor="middle" fill="{SIM}" '
                     f'font-size="15">{escape(t("simulated", lang))} '
                     f'{escape(format_number(result.scenario.mean, lang))}</text>')
        bx = x(result.baseline.mean)
        parts.append(f'<line x1="{bx:.1f}" x2="{bx:.1f}" y1="40" y2="{axis_y}" '
                     f'stroke="{BASE}" stroke-width="2" stroke-dasharray="5 4"/>')
        anchor = "end" if bx > m else "start"
        anchor = "start" if bx < MARGIN + 120 else ("end" if bx > WIDTH - MARGIN - 120 else anchor)
        parts.append(f'<text x="{bx + (4 if anchor == "start" else -4):.1f}" y="54" '
                     f'text-anchor="{anchor}" fill="{BASE}" font-size="14">'
                     f'{escape(t("baseline_short", lang))} '
                     f'{escape(format_number(result.baseline.mean, lang))}</text>')
    # dots: stacked per bin so equal guesses stay visible
    if values:
        bins: dict[int, int] = {}
        radius = 6
        for v in sorted(values):
            cx = x(v)
            b = int(cx // (2 * radius + 1))
            k = bins.get(b, 0)
            bins[b] = k + 1
            cy = axis_y - radius - 2 - k * (2 * radius + 1)
            cy = max(cy, 60)
            colour = YOU if mine is not None and v == mine else ROOM
            parts.append(f'<circle class="prediction" cx="{cx:.1f}" cy="{cy:.1f}" r="{radius}" '
                         f'fill="{colour}" fill-opacity="0.8"/>')
            if colour == YOU:
                mine = None  # mark one dot only
    parts.append(f'<line x1="{MARGIN}" x2="{WIDTH - MARGIN}" y1="{axis_y}" y2="{axis_y}" '
                 f'stroke="#333"/>')
    for tick in _ticks(lo, hi):
        tx = x(tick)
        parts.append(f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{axis_y}" y2="{axis_y + 5}" '
                     f'stroke="#333"/><text x="{tx:.1f}" y="{axis_y + 19}" '
                     f'text-anchor="middle" font-size="14" fill="#333">'
                     f'{escape(format_number(tick, lang))}</text>')
    legend_y = HEIGHT - 6
    parts.append(f'<circle cx="{MARGIN + 6}" cy="{legend_y - 4}" r="5" fill="{ROOM}"/>'
                 f'<text x="{MARGIN + 16}" y="{legend_y}" font-size="14" fill="#333">'
                 f'{escape(t("room_predictions", lang))} ({len(values)})</text>')
    if result is not None:
        parts.append(f'<rect x="{WIDTH / 2}" y="{legend_y - 10}" width="14" height="10" '
                     f'fill="{SIM}" fill-opacity="0.25"/><text x="{WIDTH / 2 + 18}" '
                     f'y="{legend_y}" font-size="14" fill="#333">'
                     f'{escape(t("simulated", lang))}: {escape(t("band", lang))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def direction_chart(directions: list[tuple[str, int]], result: RoundResult | None,
                    lang: str) -> str:
    """Bars of down / no change / up answers (with mean confidence); the simulation's marked.

    Args:
        directions: (direction, confidence) per answer.
        result: The simulated result (``None``: answers only).
        lang: ``en`` or ``nl``.
    """
    keys = ("down", "same", "up")
    counts = {k: [c for d, c in directions if d == k] for k in keys}
    top = max([len(v) for v in counts.values()] + [1])
    bar_w, gap = 120, 24
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(t("reveal", lang))}">']
    base_y = HEIGHT - 50
    for i, k in enumerate(keys):
        x0 = MARGIN + 20 + i * (bar_w + gap)
        h = (base_y - 62) * len(counts[k]) / top
        chosen = result is not None and result.direction == k
        parts.append(f'<rect class="bar-{k}" x="{x0}" y="{base_y - h:.1f}" width="{bar_w}" '
                     f'height="{h:.1f}" fill="{ROOM}" fill-opacity="0.8"/>')
        if chosen:
            parts.append(f'<rect class="sim-direction" x="{x0 - 5}" y="28" width="{bar_w + 10}" '
                         f'height="{base_y - 23}" fill="none" stroke="{SIM}" '
                         f'stroke-width="4"/>')
            parts.append(f'<text x="{x0 + bar_w / 2}" y="20" text-anchor="middle" fill="{SIM}" '
                         f'font-size="15">{escape(t("simulated", lang))}</text>')
        conf = counts[k]
        label = str(len(conf))
        if conf:
            label += f" · {round(float(np.mean(conf)))} %"
        parts.append(f'<text x="{x0 + bar_w / 2}" y="{base_y - h - 6:.1f}" text-anchor="middle" '
                     f'font-size="14" fill="#333">{label}</text>')
        parts.append(f'<text x="{x0 + bar_w / 2}" y="{base_y + 20}" text-anchor="middle" '
                     f'font-size="14" fill="#333">{escape(t(k, lang))}</text>')
    parts.append(f'<line x1="{MARGIN}" x2="{WIDTH - MARGIN}" y1="{base_y}" y2="{base_y}" '
                 f'stroke="#333"/><text x="{MARGIN}" y="{HEIGHT - 4}" font-size="13" fill="#555">'
                 f'{escape(t("bars_note", lang))}</text></svg>')
    return "".join(parts)

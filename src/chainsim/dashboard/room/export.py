"""The session's export (facilitator only): answers and results as CSV and as one HTML file.

The CSV has one row per answer (and one per round without answers), with the round's
simulated result repeated on each row, so it opens in a spreadsheet as it is. Text cells
that a spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``, ``@``) are
prefixed with ``'``. The HTML summary is self-contained (its style inline, charts as SVG):
it can be mailed or archived and opens offline.
"""

from __future__ import annotations

import csv
import io
import time
from html import escape

from chainsim.dashboard.room import package as pkg
from chainsim.dashboard.room.catalogue import t
from chainsim.dashboard.room.pages import question_text, reveal_block
from chainsim.dashboard.room.state import Room

COLUMNS: tuple[str, ...] = (
    "round", "question_id", "kind", "question", "proxy", "phase", "participant_id",
    "participant", "answered_at", "value", "direction", "confidence", "package",
    "package_estimated_cost", "simulated_mean", "simulated_ci_lo", "simulated_ci_hi",
    "band_lo", "band_hi", "baseline_mean", "delta_mean", "delta_ci_lo", "delta_ci_hi",
    "simulated_direction", "reps", "period")


def _cell(value: object) -> object:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(ts))


def csv_text(room: Room) -> str:
    """The session as CSV (UTF-8, comma-separated, header row)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    with room.lock:
        for r in room.rounds:
            q, res = r.question, r.result
            sim = ["", "", "", "", "", "", "", "", "", "", "", ""]
            if res is not None:
                sim = [res.scenario.mean, res.scenario.lo, res.scenario.hi, res.band[0],
                       res.band[1], res.baseline.mean, res.delta.mean, res.delta.lo,
                       res.delta.hi, res.direction, res.reps, res.period]
            head = [r.number, q.id, q.kind, question_text(q, "en"), q.proxy, r.phase]
            answers = room.counted(r)
            if not answers:
                writer.writerow([*head, *[""] * 8, *sim])
            for pid, a in answers.items():
                p = room.participants[pid]
                package = pkg.package_key(a.package) if a.package is not None else ""
                cost = (pkg.estimate(a.package, r.prices)
                        if a.package is not None and r.prices else "")
                writer.writerow([*head, pid, _cell(p.label()), _iso(a.at),
                                 "" if a.value is None else a.value, a.direction or "",
                                 "" if a.confidence is None else a.confidence, package, cost,
                                 *sim])
    return out.getvalue()


STYLE = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.5rem}h2{font-size:1.2rem}section{border-top:1px solid #ccc;margin-top:1.5rem}
svg.chart{width:100%;height:auto;max-width:640px}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}.note{color:#555;font-size:.9rem}
"""


def html_text(room: Room, lang: str = "en") -> str:
    """A self-contained HTML summary of every round: question, answers, reveal."""
    sections = []
    with room.lock:
        for r in room.rounds:
            answers = room.counted(r)
            rows = "".join(
                f"<tr><td>{escape(room.participants[pid].label(t('anonymous', lang)))}</td>"
                f"<td>{escape(_answer(r.question, a, lang))}</td></tr>"
                for pid, a in answers.items())
            sections.append(
                f"<section><h2>{escape(t('round', lang))} {r.number}: "
                f"{escape(question_text(r.question, lang))}</h2>"
                f"{reveal_block(room, r, lang)}"
                f"<details open><summary>{escape(t('individual', lang))} ({len(answers)})</summary>"
                f"<table>{rows}</table></details></section>")
        n = len(room.active())
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            f"<title>{escape(t('summary_title', lang))}</title><style>{STYLE}</style></head>"
            f"<body><h1>{escape(t('summary_title', lang))}</h1>"
            f"<p>{_iso(room.touch())} · {n} {escape(t('roster', lang).lower())}</p>"
            f"{''.join(sections)}</body></html>")


def _answer(q, a, lang: str) -> str:
    if q.kind == "number":
        from chainsim.dashboard.room.pages import fmt

        return fmt(a.value, lang)
    if q.kind == "direction":
        return f"{t(a.direction, lang)} ({a.confidence} %)"
    return pkg.describe(a.package, lang)

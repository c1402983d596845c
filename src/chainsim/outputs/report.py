"""A self-contained HTML report of a saved comparison, written for a policy reader.

``chainsim compare ... --out DIR`` saves the comparison's tables; :func:`build_report`
reads only those files (so ``chainsim report DIR`` can rebuild the report later)
and writes ``DIR/report.html`` with every figure embedded as a PNG data URI.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from chainsim import chain
from chainsim.analysis.proxies import HARM_PROXIES
from chainsim.analysis.targets import DEFAULT_TARGETS, load_targets
from chainsim.chain.config import Scenario
from chainsim.chain.errors import InputError
from chainsim.files import atomic_path

SAVED_FILES = ("comparison.json", "proxies.csv", "yearly.csv", "survival.csv", "scenarios.json")
"""Files of a saved comparison that the report reads."""

PROXY_LABELS: dict[str, str] = {
    "recid_observed_general_2y": "observed general recidivism, 2 years (share)",
    "recid_observed_general_5y": "observed general recidivism, 5 years (share)",
    "recid_observed_general_7y": "observed general recidivism, 7 years (share)",
    "recid_observed_specific_2y": "observed trafficking recidivism, 2 years (share)",
    "recid_observed_specific_5y": "observed trafficking recidivism, 5 years (share)",
    "recid_observed_specific_7y": "observed trafficking recidivism, 7 years (share)",
    "recid_true_2y": "true reoffending, 2 years (share; model only)",
    "recid_true_5y": "true reoffending, 5 years (share; model only)",
    "recid_true_7y": "true reoffending, 7 years (share; model only)",
    "active_offender_months": "offender-months of trafficking per year",
    "victim_months": "victim-months per year",
    "prison_months_served": "custody-months per year (prison, pre-trial, recall)",
    "probation_caseload": "probation caseload (mean under supervision)",
    "court_cases": "court cases (summonses) per year",
    "investigations": "police investigations started per year",
    "cost_per_year": "cost per year (user's unit costs)",
}
FOREST_PROXIES = ("recid_observed_general_2y", "recid_observed_specific_2y", "recid_true_2y",
                  *HARM_PROXIES)


def load_saved(directory: Path) -> dict:
    """Read a saved comparison (raises :class:`InputError` naming a missing file)."""
    directory = Path(directory)
    missing = [f for f in SAVED_FILES if not (directory / f).is_file()]
    if missing:
        raise InputError.single(str(directory), "(directory)", ", ".join(missing),
                                "a directory written by 'chainsim compare --out DIR' "
                                f"(needs {', '.join(SAVED_FILES)})")
    try:
        doc = json.loads((directory / "comparison.json").read_text(encoding="utf-8"))
        scen = json.loads((directory / "scenarios.json").read_text(encoding="utf-8"))
        scenarios = [Scenario.model_validate(s) for s in scen]
        return {
            "doc": doc,
            "scenarios": scenarios,
            "proxies": pd.read_csv(directory / "proxies.csv"),
            "yearly": pd.read_csv(directory / "yearly.csv"),
            "survival": pd.read_csv(directory / "survival.csv"),
        }
    except (ValueError, KeyError) as exc:
        raise InputError.single(str(directory), "(files)", type(exc).__name__,
                                f"files as written by 'chainsim compare' ({exc})") from None


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _setup():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook")
    return plt, sns


def funnel_png(yearly: pd.DataFrame, baseline: str) -> str:
    """The baseline's 2015-2019 chain beside the source's figures."""
    from chainsim.outputs.plots import funnel_figure

    base = yearly[(yearly["scenario"] == baseline) & yearly["year"].between(2015, 2019)]
    window = base.groupby("rep").mean(numeric_only=True)
    targets = load_targets(DEFAULT_TARGETS) if DEFAULT_TARGETS.exists() else None
    buf = io.BytesIO()
    funnel_figure(window, targets, buf, f"{baseline}: the chain, 2015-2019 yearly average")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def flows_png(yearly: pd.DataFrame, first_year: int) -> str:
    """Chain flows over time per arm: mean line and 5-95 % band over replications."""
    plt, sns = _setup()
    metrics = chain.funnel_metrics()
    data = yearly[yearly["year"] >= first_year]
    rows = math.ceil(len(metrics) / 4)
    fig, axes = plt.subplots(rows, 4, figsize=(16, 3.3 * rows), sharex=True, squeeze=False)
    for ax in axes.ravel()[len(metrics):]:
        ax.set_visible(False)
    palette = dict(zip(data["scenario"].unique(),
                       sns.color_palette("tab10", data["scenario"].nunique()), strict=True))
    for ax, metric in zip(axes.ravel(), metrics, strict=False):
        for name, group in data.groupby("scenario", sort=False):
            g = group.groupby("year")[metric]
            mean, lo, hi = g.mean(), g.quantile(0.05), g.quantile(0.95)
            ax.plot(mean.index, mean.values, color=palette[name], lw=1.6, label=name)
            ax.fill_between(mean.index, lo.values, hi.values, color=palette[name], alpha=0.15)
        ax.axvspan(2015, 2019, color="grey", alpha=0.08)
        ax.set_title(metric)
        ax.set_xlabel("")
    axes[0, 0].legend(fontsize=8, loc="upper left")
    fig.suptitle("Flows through the chain per year (line: mean; band: 90 % of replications; "
                 "grey: 2015-2019)", fontsize=11)
    fig.tight_layout()
    return _png(fig)


def forest_png(doc: dict) -> str:
    """Deltas (scenario - baseline) with 95 % confidence intervals, one panel per proxy."""
    plt, _ = _setup()
    names = list(doc["scenarios"])
    panel = 0.32 * len(names) + 0.75
    fig, axes = plt.subplots(len(FOREST_PROXIES), 1,
                             figsize=(9, panel * len(FOREST_PROXIES) + 0.8))
    for ax, proxy in zip(np.atleast_1d(axes), FOREST_PROXIES, strict=True):
        for y, name in enumerate(names):
            d = doc["scenarios"][name]["deltas"][proxy]
            if d["mean"] is None:
                continue
            lo = d["lo"] if d["lo"] is not None else d["mean"]
            hi = d["hi"] if d["hi"] is not None else d["mean"]
            color = "#4C72B0" if hi < 0 else "#C44E52" if lo > 0 else "#7F7F7F"
            ax.plot([lo, hi], [y, y], color=color, lw=3, solid_capstyle="round")
            ax.plot(d["mean"], y, "o", color=color, ms=7, mec="white")
        ax.axvline(0, color="black", lw=0.8)
        ax.set_yticks(range(len(names)), names, fontsize=8)
        ax.set_ylim(-0.6, len(names) - 0.4)
        ax.set_title(PROXY_LABELS[proxy], fontsize=9, loc="left")
    fig.suptitle("Scenario minus baseline, mean and 95 % CI of paired differences\n"
                 "(blue: lower than baseline; red: higher; grey: CI includes 0)", fontsize=10)
    fig.tight_layout()
    return _png(fig)


def survival_png(survival: pd.DataFrame) -> str:
    """Share of the release cohort without a new registered case, by months since release."""
    plt, sns = _setup()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    colors = sns.color_palette("tab10", survival["scenario"].nunique())
    for color, (name, group) in zip(colors, survival.groupby("scenario", sort=False),
                                    strict=True):
        g = group.groupby("month")["survival"]
        mean = g.mean()
        ax.plot(mean.index, mean.values, color=color, label=name)
        ax.fill_between(mean.index, g.quantile(0.05).values, g.quantile(0.95).values,
                        color=color, alpha=0.12)
    ax.set_xlabel("months since release or sanction")
    ax.set_ylabel("share without a new registered case")
    ax.set_title("Observed general recidivism: Kaplan-Meier survival by arm")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _png(fig)


def _fmt(x: float | None, proxy: str) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "-"
    return f"{100 * x:.1f} pp" if proxy.startswith("recid_") else f"{x:,.1f}"


def _level(x: float | None, proxy: str) -> str:
    if x is None:
        return "-"
    return f"{100 * x:.1f}%" if proxy.startswith("recid_") else f"{x:,.1f}"


def _summary_sentences(doc: dict) -> list[str]:
    base = doc["baseline_levels"]
    out = []
    for name, entry in doc["scenarios"].items():
        parts = []
        for proxy in ("active_offender_months", "recid_observed_general_2y", "recid_true_2y",
                      "prison_months_served", "probation_caseload"):
            d = entry["deltas"][proxy]
            if d["mean"] is None:
                continue
            sure = (d["lo"] is not None and (d["lo"] > 0 or d["hi"] < 0))
            direction = "raises" if d["mean"] > 0 else "lowers" if d["mean"] < 0 else "leaves"
            label = PROXY_LABELS[proxy].split(" (")[0]
            ci = (f" (95 % CI {_fmt(d['lo'], proxy)} to {_fmt(d['hi'], proxy)})"
                  if d["lo"] is not None else " (one replication: no confidence interval)")
            if direction == "leaves":
                parts.append(f"leaves {label} unchanged")
            else:
                unsure = "" if sure or d["lo"] is None else ", not distinguishable from no change"
                parts.append(f"{direction} {label} by {_fmt(abs(d['mean']), proxy)}{ci}"
                             f"{unsure} "
                             f"(baseline {_level(base[proxy]['mean'], proxy)})")
        out.append(f"<b>{html.escape(name)}</b> " + "; ".join(parts) + ".")
    return out


KEY_PROXIES = ("recid_true_2y", "recid_observed_general_2y", "active_offender_months",
               "victim_months", "prison_months_served", "probation_caseload")
"""The proxies of the report's table under parameter uncertainty."""


def _uncertainty_section(doc: dict) -> str:
    """The effects over the posterior (``compare --uncertainty``), or a line saying how."""
    if not doc.get("ensemble_repeats"):
        return ("<p>Run <code>chainsim compare ... --uncertainty</code> to see how large each "
                "effect may be over the parameter sets that reproduce the Dadermonitor's "
                "figures (the posterior ensemble), and how likely a reduction is.</p>")
    threshold = doc.get("min_effect") or 0.0
    caveat = (f"<div class=caveat><b>Provisional.</b> {html.escape(doc['ensemble_caveat'])}</div>"
              if doc.get("ensemble_caveat") else "")
    head = ("<tr><th>scenario</th><th>proxy</th><th>mean effect</th>"
            "<th>95 % CI of the mean</th><th>90 % of the effect over the posterior</th>"
            "<th>P(reduction)</th>"
            + (f"<th>P(reduction &gt; {threshold:.0%})</th>" if threshold else "")
            + "<th>from parameters</th></tr>")
    rows = []
    for name, entry in doc["scenarios"].items():
        for proxy in KEY_PROXIES:
            u = entry.get("under_uncertainty", {}).get(proxy)
            if not u or u["mean"] is None:
                continue
            lo, hi = u["prediction"]
            share = u["variance"]["parameter_share"]
            rows.append(
                f"<tr><td>{html.escape(name)}</td><td>{PROXY_LABELS[proxy]}</td>"
                f"<td>{_fmt(u['mean'], proxy)}</td>"
                f"<td>{_fmt(u['ci'][0], proxy)} to {_fmt(u['ci'][1], proxy)}</td>"
                f"<td>{_fmt(lo, proxy)} to {_fmt(hi, proxy)}</td>"
                f"<td>{u['p_reduction']:.0%}</td>"
                + (f"<td>{u['p_reduction_beyond_threshold']:.0%}</td>" if threshold else "")
                + f"<td>{'-' if share is None else f'{share:.0%}'}</td></tr>")
    return (f"""{caveat}<p>Replication <i>i</i> of every arm used member <i>i</i> of the posterior
ensemble: parameter sets (calibrated knobs and unknowns together) that reproduce the
Dadermonitor's figures. Two intervals answer two questions. The <b>95 % confidence interval of
the mean</b> says how precisely {doc['reps']} replications pin down the <i>average</i> effect
over the posterior. The <b>90 % interval over the posterior</b> says how large the effect may be
given what the data leave open (Monte Carlo noise removed, using {doc['ensemble_repeats']}
members run twice). <b>P(reduction)</b> is the share of that spread below zero.
<b>From parameters</b>: the share of the spread of single-replication effects that comes
from the parameters rather than Monte Carlo noise.</p>
<table>{head}{''.join(rows)}</table>""")


def _unknowns_table(scenarios: list[Scenario], doc: dict) -> str:
    rows = []
    influence = {name: e.get("unknown_influence", {}) for name, e in doc["scenarios"].items()}
    seen = set()
    for sc in scenarios:
        items = [(k, e.central, e.low, e.high, e.note) for k, e in sc.unknowns.items()]
        items += [(f"interventions.{iv.name}", iv.value, iv.low, iv.high, iv.note)
                  for iv in sc.interventions if iv.uncertain]
        for key, central, low, high, note in items:
            if key in seen:
                continue
            seen.add(key)
            moves = []
            posterior = bool(doc.get("ensemble_repeats"))
            for name, infl in influence.items():
                corr = infl.get(key, {})
                if posterior:  # first-order variance shares above the noise floor
                    best = max(((v["s1"], p) for p, v in corr.items() if v["influential"]),
                               default=None)
                    if best:
                        moves.append(f"{html.escape(name)}: {best[1]} "
                                     f"({best[0]:.0%} of its spread)")
                    continue
                best = max(((abs(v), p, v) for p, v in corr.items() if v is not None),
                           default=None)
                if best and best[0] >= 0.3:
                    moves.append(f"{html.escape(name)}: {best[1]} (ρ = {best[2]:+.2f})")
            moved = "<br>".join(moves) if moves else (
                "none above the noise floor" if posterior
                else "no strong influence (|ρ| &lt; 0.3)" if doc["uncertainty"]
                else "run with --uncertainty to measure")
            rows.append(f"<tr><td><code>{html.escape(key)}</code></td><td>{central:g}</td>"
                        f"<td>{low:g} – {high:g}</td><td>{moved}</td>"
                        f"<td class=note>{html.escape(note)}</td></tr>")
    return ("<table><tr><th>unknown</th><th>central</th><th>plausible range</th>"
            "<th>strongest influence on a delta (with --uncertainty: the share of the "
            "effect's spread over the posterior it explains, first order)</th>"
            "<th>basis</th></tr>" + "".join(rows) + "</table>")


def _delta_table(doc: dict) -> str:
    names = list(doc["scenarios"])
    head = "<tr><th>proxy</th><th>baseline</th>" + "".join(
        f"<th>{html.escape(n)}</th>" for n in names) + "</tr>"
    rows = []
    for proxy in doc["baseline_levels"]:
        cells = []
        for n in names:
            d = doc["scenarios"][n]["deltas"][proxy]
            if d["mean"] is None:
                cells.append("<td>-</td>")
                continue
            ci = (f"<br><small>[{_fmt(d['lo'], proxy)}, {_fmt(d['hi'], proxy)}]</small>"
                  if d["lo"] is not None else "")
            cells.append(f"<td>{_fmt(d['mean'], proxy)}{ci}</td>")
        rows.append(f"<tr><td>{PROXY_LABELS[proxy]}</td>"
                    f"<td>{_level(doc['baseline_levels'][proxy]['mean'], proxy)}</td>"
                    + "".join(cells) + "</tr>")
    return "<table>" + head + "".join(rows) + "</table>"


CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}h1{font-size:1.6em}h2{margin-top:1.8em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.88em;margin:1em 0}td,th{border:1px solid #ddd;
padding:.35em .5em;vertical-align:top}th{background:#f4f4f4}td.note{color:#555;max-width:30em}
img{max-width:100%}.caveat{background:#fff8e1;border-left:4px solid #f0b400;padding:.6em 1em}"""


def build_report(directory: Path) -> Path:
    """Write ``DIR/report.html`` from a saved comparison; returns its path."""
    saved = load_saved(directory)
    doc, scenarios = saved["doc"], saved["scenarios"]
    first_year = int(doc["period"][0][:4]) - 8
    figures = {
        "funnel": funnel_png(saved["yearly"], doc["baseline"]),
        "flows": flows_png(saved["yearly"], first_year),
        "forest": forest_png(doc),
        "survival": survival_png(saved["survival"]),
    }
    descriptions = "".join(
        f"<li><b>{html.escape(sc.name)}</b>: {html.escape(sc.scenario.description)}</li>"
        for sc in scenarios)
    sentences = "".join(f"<li>{s}</li>" for s in _summary_sentences(doc))
    title = f"chainsim: {', '.join(doc['scenarios'])} vs {doc['baseline']}"
    body = f"""<!doctype html><html lang=en><head><meta charset=utf-8>
<title>{html.escape(title)}</title>
<style>{CSS}</style></head><body>
<h1>What would these policies change? chainsim comparison with the baseline</h1>
<p>{doc['reps']} paired replications per arm (common random numbers), seed {doc['seed']},
analysis period {doc['period'][0]} to {doc['period'][1]}, parameters
{'from the posterior ensemble, one member per replication' if doc.get('ensemble_repeats')
 else 'sampled per replication' if doc['uncertainty']
 else 'at their calibrated and central values'}.
Engine: {doc['engine']}. chainsim {doc['versions'].get('chainsim', '?')}.</p>
<h2>In short</h2><ul>{sentences}</ul>
<div class=caveat><b>Read with care.</b> Observed recidivism is what registers: it rises when
detection effort rises, even if true reoffending falls, so a policy that finds more offenders can
look worse on observed recidivism. True reoffending and offender-months are model quantities that
nobody measures; they rest on the unknowns below. Differences between arms are more trustworthy
than levels: both arms share every random draw, so what separates them is the policy plus a
Monte Carlo error that the 95 % confidence intervals measure. Those intervals say nothing about
the parameters nobody knows: at fixed parameters an effect can be precise and still wrong.
How much the unknowns move it is the next section's question. Levels depend on hand-set or
calibrated parameters and on unknowns.</div>
<h2>The scenarios</h2><ul>{descriptions}</ul>
<h2>Differences from the baseline</h2>
<img src="{figures['forest']}" alt="forest plot of deltas">
{_delta_table(doc)}
<p><small>Recidivism: share of offenders first released from prison or given a non-custodial
sanction in the period with a new case whose <b>offence</b> falls within 2, 5 or 7 years and
which is registered within a year after that (WODC convention: the offence date, a 12-month
follow-up extension, a case not ending in acquittal or technical dismissal; full follow-up
required; see docs/recidivism.md); differences in percentage points (pp). Offender-months count
months offending, undetected or at liberty while investigated and prosecuted; prison-months count
every month in custody (pre-trial from the arrest, prison, a recall). Harm and workload per year
of the period.</small></p>
<h2>How sure? The effects under parameter uncertainty</h2>
{_uncertainty_section(doc)}
<h2>The chain over time</h2><img src="{figures['flows']}" alt="flows over time">
<h2>Recidivism by arm</h2><img src="{figures['survival']}" alt="survival curves">
<h2>The baseline beside the Dadermonitor</h2><img src="{figures['funnel']}" alt="funnel">
<h2>The unknowns, and how much each moves the conclusion</h2>
{_unknowns_table(scenarios, doc)}
<h2>Source</h2><p>Nationaal Rapporteur Mensenhandel en Seksueel Geweld tegen Kinderen (2021).
<i>Dadermonitor mensenhandel 2015-2019</i>. Den Haag: Nationaal Rapporteur. Public priors:
WODC recidivism monitor.</p></body></html>
"""
    path = Path(directory) / "report.html"
    with atomic_path(path) as tmp:
        tmp.write_text(body, encoding="utf-8")
    return path

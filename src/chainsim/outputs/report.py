"""A self-contained HTML report of a saved comparison, written for a policy reader.

``chainsim compare ... --out DIR`` saves the comparison's tables; :func:`build_report`
reads only those files (so ``chainsim report DIR`` can rebuild the report later)
and writes ``DIR/report.html`` with every figure embedded as a PNG data URI.

The report reads as a policy document: a one-sentence finding per scenario first, then
a summary table (baseline level, change in the measure's unit and relative to the
baseline, the 95 % interval, "no detectable change" where it includes zero), what each
scenario assumes (effect sizes and start dates, in words, from its interventions) and
from which year its effect shows, costs or a line saying they are not included, and
only then the figures. Words and units come from :mod:`chainsim.outputs.labels`, numbers
from :mod:`chainsim.chain.numbers`: shares in %, their differences in percentage points,
in the text, the tables and the figures alike.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from pathlib import Path

import pandas as pd

from chainsim import chain
from chainsim.analysis.proxies import paired_delta
from chainsim.analysis.targets import DEFAULT_TARGETS, load_targets
from chainsim.chain.config import Scenario
from chainsim.chain.errors import InputError
from chainsim.chain.numbers import (
    format_count,
    format_given,
    format_month,
    format_number,
    format_percent,
    format_signed,
)
from chainsim.chain.spec import PARAMETERS
from chainsim.files import atomic_path
from chainsim.outputs import labels
from chainsim.outputs.labels import scenario_title

SAVED_FILES = ("comparison.json", "proxies.csv", "yearly.csv", "survival.csv", "scenarios.json")
"""Files of a saved comparison that the report reads."""

KEY_PROXIES: tuple[str, ...] = (
    "recid_observed_general_2y", "recid_observed_specific_2y", "recid_true_2y",
    "active_offender_months", "victim_months", "prison_months_served", "probation_caseload",
    "court_cases", "investigations")
"""The measures of the summary table, the forest plot and the uncertainty table (and
``cost_per_year`` when a cost file was given)."""

HEADLINE_HARM = "active_offender_months"
HEADLINE_RECIDIVISM = "recid_observed_general_2y"
WORKLOAD = ("prison_months_served", "probation_caseload", "court_cases", "investigations")
"""The headline names the harm, the recidivism, the largest detectable workload change and,
with a cost file, the cost."""

NEGLIGIBLE_POINTS = 0.5
"""Changes of a share smaller than this many percentage points are drawn as negligible
(when they are also small against the share itself: :data:`NEGLIGIBLE_SHARE_RELATIVE`)."""
NEGLIGIBLE_SHARE_RELATIVE = 10.0
"""A share's change is negligible only if it is also under this percentage of the share's
baseline level: +0.2 points on a rare outcome of 0.6 % (a third more) is not negligible."""
LOG_BEYOND = 30.0
"""The relative panel turns logarithmic beyond the negligible band when its largest change
exceeds this many times the band (else it is linear)."""
NEGLIGIBLE_PERCENT = 1.0
"""Changes of a count smaller than this percentage of the baseline are drawn as negligible
(``--min-effect`` replaces it when given)."""

CI_EXPLAINED = ("<b>95 % interval</b>: the range in which the average difference lies, "
                "given the chance variation between the {reps}; it says nothing about "
                "parameters nobody knows (see &ldquo;How sure?&rdquo;). Where it includes "
                "zero the table says <b>no detectable change</b>.")


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


# ------------------------------------------------------------------------- figures

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


def _palette(names: list[str]) -> dict[str, tuple]:
    import seaborn as sns

    return dict(zip(names, sns.color_palette("tab10", len(names)), strict=True))


def _axis_number(value: float, _pos=None) -> str:
    """Tick labels with thousands separators and a typographic minus (no ``1e4``)."""
    return format_given(value, digits=3)


def funnel_png(yearly: pd.DataFrame, baseline: str) -> str:
    """The baseline's 2015-2019 chain beside the source's figures."""
    from chainsim.outputs.plots import funnel_figure

    base = yearly[(yearly["scenario"] == baseline) & yearly["year"].between(2015, 2019)]
    window = base.groupby("rep").mean(numeric_only=True)
    targets = load_targets(DEFAULT_TARGETS) if DEFAULT_TARGETS.exists() else None
    buf = io.BytesIO()
    who = "Baseline" + ("" if baseline == "baseline" else f" ({scenario_title(baseline)})")
    funnel_figure(window, targets, buf, f"{who}: the chain, 2015–2019 yearly average")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def flows_png(yearly: pd.DataFrame, first_year: int) -> str:
    """Chain flows over time per arm: mean line and 5-95 % band over replications."""
    from matplotlib.ticker import FuncFormatter

    plt, _ = _setup()
    metrics = chain.funnel_metrics()
    data = yearly[yearly["year"] >= first_year]
    rows = math.ceil(len(metrics) / 4)
    fig, axes = plt.subplots(rows, 4, figsize=(16, 3.3 * rows), sharex=True, squeeze=False)
    for ax in axes.ravel()[len(metrics):]:
        ax.set_visible(False)
    palette = _palette(list(data["scenario"].unique()))
    for ax, metric in zip(axes.ravel(), metrics, strict=False):
        for name, group in data.groupby("scenario", sort=False):
            g = group.groupby("year")[metric]
            mean, lo, hi = g.mean(), g.quantile(0.05), g.quantile(0.95)
            ax.plot(mean.index, mean.values, color=palette[name], lw=1.6,
                    label=scenario_title(name))
            ax.fill_between(mean.index, lo.values, hi.values, color=palette[name], alpha=0.15)
        ax.axvspan(2015, 2019, color="grey", alpha=0.08)
        ax.set_title(f"{labels.text(metric)}, {labels.unit(metric)}", fontsize=10)
        ax.yaxis.set_major_formatter(FuncFormatter(_axis_number))
        ax.set_xlabel("")
    axes[0, 0].legend(fontsize=8, loc="upper left")
    fig.suptitle("Offenders passing each stage of the chain per year (line: mean over the "
                 "replications; band: the middle 90 %; grey: 2015–2019, the Dadermonitor's "
                 "years)", fontsize=11)
    fig.tight_layout()
    return _png(fig)


def _negligible(key: str, min_effect: float) -> float:
    """Half-width of the negligible band of ``key``'s panel (points, or % of baseline)."""
    if labels.is_share(key):
        return NEGLIGIBLE_POINTS
    return 100.0 * min_effect if min_effect else NEGLIGIBLE_PERCENT


def forest_png(doc: dict, proxies: tuple[str, ...] = KEY_PROXIES) -> str:
    """Changes from the baseline on shared scales, with a band for negligible change.

    Two panels: recidivism shares in percentage points (one axis for all of them) and
    the other measures as a percentage of the baseline's level (one axis), so a reader
    compares sizes across measures. A filled marker: the 95 % interval excludes zero;
    hollow: no detectable change. The grey band marks changes below
    :data:`NEGLIGIBLE_POINTS` points or :data:`NEGLIGIBLE_PERCENT` % (``--min-effect``).
    """
    from matplotlib.ticker import FuncFormatter

    plt, _ = _setup()
    names = list(doc["scenarios"])
    palette = _palette(names)
    base = doc["baseline_levels"]
    min_effect = doc.get("min_effect") or 0.0
    panels = [("Recidivism: change in percentage points",
               [p for p in proxies if labels.is_share(p)], "percentage points"),
              ("Harm and workload: change as % of the baseline's level",
               [p for p in proxies if not labels.is_share(p)], "% of the baseline level")]
    panels = [p for p in panels if p[1]]
    heights = [len(p[1]) * (0.28 * len(names) + 0.35) + 0.6 for p in panels]
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, sum(heights) + 0.8),
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    for ax, (title, keys, unit) in zip(axes[:, 0], panels, strict=True):
        band = _negligible(keys[0], min_effect)
        ax.axvspan(-band, band, color="#DDDDDD", alpha=0.7, lw=0, zorder=0)
        ax.axvline(0, color="black", lw=0.8, zorder=1)
        ticks, tick_labels, extent = [], [], band * 1.5
        y = 0.0
        for key in keys:
            centre = y + (len(names) - 1) / 2 * 0.28
            ticks.append(centre)
            level = labels.level(key, base[key]["mean"])
            tick_labels.append(f"{labels.short(key)}\n(baseline {level})")
            for name in names:
                d = doc["scenarios"][name]["deltas"][key]
                scale = _scale(key, base[key]["mean"])
                if d["mean"] is None or scale is None:
                    y += 0.28
                    continue
                mean = d["mean"] * scale
                lo = d["lo"] * scale if d["lo"] is not None else mean
                hi = d["hi"] * scale if d["hi"] is not None else mean
                sure = labels.excludes_zero(d["lo"], d["hi"])
                ax.plot([lo, hi], [y, y], color=palette[name], lw=2.5, solid_capstyle="round",
                        zorder=2)
                ax.plot(mean, y, "o", ms=7, zorder=3, color=palette[name],
                        mfc=palette[name] if sure else "white", mew=1.6)
                extent = max(extent, abs(lo), abs(hi))
                ax.annotate(labels.change(key, d["mean"]) if labels.is_share(key)
                            else labels.relative(d["mean"], base[key]["mean"]),
                            (hi, y), xytext=(6, -3), textcoords="offset points", fontsize=7.5,
                            color="#333333")
                y += 0.28
            y += 0.35
            ax.axhline(y - 0.35 / 2 - 0.14, color="#EEEEEE", lw=0.8)
        ax.set_yticks(ticks, tick_labels, fontsize=8.5)
        ax.set_ylim(y - 0.35, -0.35)
        if not labels.is_share(keys[0]) and extent > LOG_BEYOND * band:
            # one change dwarfs the rest: linear within the negligible band, logarithmic
            # beyond it, so a −3 % change stays visible beside a +200 % one
            ax.set_xscale("symlog", linthresh=band, linscale=1.0)
            top = extent * 4.0  # room for the label right of the largest
            ax.set_xlim(-top, top)
            ax.set_xticks([t for t in (-1000, -100, -10, -1, 0, 1, 10, 100, 1000)
                           if abs(t) <= top and (abs(t) >= band or t == 0)])
            unit += f" (logarithmic beyond ±{format_given(band)} %)"
        else:
            ax.set_xlim(-extent * 1.25, extent * 1.25)
        suffix = " pp" if labels.is_share(keys[0]) else " %"
        ax.xaxis.set_major_formatter(FuncFormatter(
            lambda v, _p, s=suffix: (format_given(v, digits=2) if v <= 0
                                     else "+" + format_given(v, digits=2)) + s))
        ax.set_xlabel(unit, fontsize=9)
        ax.set_title(title, fontsize=10, loc="left")
        ax.grid(axis="y", visible=False)
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=palette[n], marker="o", lw=2.5, label=scenario_title(n))
               for n in names]
    handles += [Line2D([], [], color="grey", marker="o", mfc="white", lw=0,
                       label="hollow: no detectable change (interval includes 0)"),
                Line2D([], [], color="#DDDDDD", lw=8,
                       label=f"grey band: negligible (under {format_given(NEGLIGIBLE_POINTS)} "
                             f"pp and {format_given(NEGLIGIBLE_SHARE_RELATIVE)} % of a share; "
                             f"{format_given(_negligible('victim_months', min_effect))} "
                             "% of other baselines)")]
    fig.legend(handles=handles, loc="lower center", ncol=2, fontsize=8, frameon=False,
               bbox_to_anchor=(0.5, -0.02 - 0.02 * len(names)))
    fig.suptitle("Scenario minus baseline: mean and 95 % interval of the paired differences",
                 fontsize=11)
    fig.tight_layout()
    return _png(fig)


def _scale(key: str, base: float | None) -> float | None:
    """Factor from a difference of ``key`` to the forest plot's unit (pp, or % of base)."""
    if labels.is_share(key):
        return 100.0
    if base is None or base == 0:
        return None
    return 100.0 / abs(base)


def survival_png(survival: pd.DataFrame) -> str:
    """Share of the release cohort without a new registered case, by months since release."""
    from matplotlib.ticker import FuncFormatter

    plt, _ = _setup()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    palette = _palette(list(survival["scenario"].unique()))
    for name, group in survival.groupby("scenario", sort=False):
        g = group.groupby("month")["survival"]
        mean = g.mean()
        ax.plot(mean.index, 100 * mean.values, color=palette[name], label=scenario_title(name))
        ax.fill_between(mean.index, 100 * g.quantile(0.05).values,
                        100 * g.quantile(0.95).values, color=palette[name], alpha=0.12)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{format_number(v, digits=2)} %"))
    ax.set_xlabel("months since release from prison or a non-custodial sanction")
    ax.set_ylabel("% without a new registered case")
    ax.set_title("Offenders without a new registered case (observed general recidivism)",
                 fontsize=11)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _png(fig)


# ------------------------------------------------------------------------- words

def _baseline_words(name: str) -> str:
    """``the baseline``, or ``the baseline (NAME)`` when it has another name."""
    return "the baseline" + ("" if name == "baseline" else f" ({_esc(scenario_title(name))})")


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def _scenario_words(name: str) -> str:
    return f"<b>{_esc(scenario_title(name))}</b>"


def negligible(key: str, change: float | None, base: float | None,
               min_effect: float = 0.0) -> bool:
    """Whether a change is inside the forest plot's negligible band.

    Under :data:`NEGLIGIBLE_POINTS` percentage points and under
    :data:`NEGLIGIBLE_SHARE_RELATIVE` % of its baseline level for a share; under
    :data:`NEGLIGIBLE_PERCENT` % of the baseline (or ``min_effect``) for anything else.
    """
    if change is None:
        return False
    if labels.is_share(key):
        small_against_level = bool(base) and abs(100.0 * change / base) < \
            NEGLIGIBLE_SHARE_RELATIVE
        return abs(100.0 * change) < NEGLIGIBLE_POINTS and small_against_level
    if not base:
        return False
    return abs(100.0 * change / base) < _negligible(key, min_effect)


def _effect_phrase(key: str, d: dict, base: float | None, min_effect: float = 0.0) -> str:
    """One clause about one measure: ``1,167 fewer offender-months ... per year (−2.8 %)``."""
    label = labels.text(key)
    if d["mean"] is None:
        return f"{label} could not be computed"
    if d["lo"] is not None and not labels.excludes_zero(d["lo"], d["hi"]):
        return f"no detectable change in {label}"
    one = " (one replication: no interval)" if d["lo"] is None else ""
    if negligible(key, d["mean"], base, min_effect):
        one += " – a negligible change"
    if labels.is_share(key):
        points = format_number(abs(100 * d["mean"]), decimals=labels.row_decimals(key, [d["mean"]]))
        direction = "down" if d["mean"] < 0 else "up"
        new = None if base is None else base + d["mean"]
        return (f"{label} {direction} {points} percentage points "
                f"({labels.level(key, base)} → {labels.level(key, new)}){one}")
    amount = format_number(abs(d["mean"]), digits=3, most=1)
    more = "fewer" if d["mean"] < 0 else "more"
    rel = labels.relative(d["mean"], base)
    return f"{amount} {more} {label} {labels.unit(key)} ({rel}){one}"


def _workload_key(entry: dict, doc: dict) -> str | None:
    """The workload measure with the largest detectable relative change (if any)."""
    best, size = None, 0.0
    for key in WORKLOAD:
        d = entry["deltas"].get(key)
        base = doc["baseline_levels"].get(key, {}).get("mean")
        if not d or d["mean"] is None or not base:
            continue
        if d["lo"] is not None and not labels.excludes_zero(d["lo"], d["hi"]):
            continue
        if abs(d["mean"] / base) > size:
            best, size = key, abs(d["mean"] / base)
    return best


def headline(name: str, entry: dict, doc: dict) -> str:
    """The one-sentence finding of one scenario (HTML), from its measured changes."""
    base = doc["baseline_levels"]
    small = doc.get("min_effect") or 0.0
    parts = [_effect_phrase(k, entry["deltas"][k], base[k]["mean"], small)
             for k in (HEADLINE_HARM, HEADLINE_RECIDIVISM)]
    work = _workload_key(entry, doc)
    parts.append(_effect_phrase(work, entry["deltas"][work], base[work]["mean"], small) if work
                 else "no detectable change in the chain's workload")
    cost = entry["deltas"].get("cost_per_year")
    if cost is not None and cost["mean"] is not None:
        parts.append(_cost_phrase(cost, base["cost_per_year"]["mean"]))
    period = f"{doc['period'][0][:4]}–{doc['period'][1][:4]}"
    return (f"{_scenario_words(name)}: {_esc(', '.join(parts[:-1]))}, and {_esc(parts[-1])} "
            f"({period}, compared with the baseline).")


def _cost_phrase(d: dict, base: float | None) -> str:
    """The headline's cost clause: ``costs 582,941 a year more (+3.2 %)``."""
    if d["lo"] is not None and not labels.excludes_zero(d["lo"], d["hi"]):
        return "no detectable change in costs"
    amount = format_number(abs(d["mean"]), digits=3, most=0)
    return (f"costs {amount} a year {'less' if d['mean'] < 0 else 'more'} "
            f"({labels.relative(d['mean'], base)}, at the cost file's unit costs)")


def _value_words(kind: str, value: float) -> str:
    """A parameter value in words for its kind (a probability as a percentage)."""
    if kind == "probability":
        return format_percent(value, decimals=0 if round(100 * value, 6).is_integer() else 1)
    from chainsim.outputs.parameters import UNITS

    unit = {"rate": "a year", "factor": "×"}.get(kind, UNITS.get(kind, ""))
    number = format_given(value)
    if kind == "factor":
        return f"×{number}"
    return f"{number} {unit}".strip()


def _baseline_value(baseline: Scenario, parameter: str) -> str | None:
    """The baseline's value of a parameter in words (a per-form value as its range)."""
    name = parameter.split("@", 1)[0]
    spec = PARAMETERS.get(name)
    try:
        entry = baseline.entry(name)
    except (KeyError, ValueError):
        return None
    if spec is None or entry is None:
        return None
    value = getattr(entry, "value", None)
    if value is None:
        value = getattr(entry, "central", None)
    by_form = getattr(entry, "by_form", None)
    if by_form:
        lo, hi = min(by_form.values()), max(by_form.values())
        if lo != hi:
            return f"{_value_words(spec.kind, lo)}–{_value_words(spec.kind, hi)} by form"
        value = lo
    return None if value is None else _value_words(spec.kind, value)


def _multiplier_words(value: float) -> str:
    change = 100.0 * (value - 1.0)
    if round(change, 6) == 0:
        return "unchanged"
    return (f"{format_given(abs(change), digits=2)} % "
            f"{'lower' if change < 0 else 'higher'}")


def _range_words(iv) -> str:
    """An uncertain effect's plausible range in words (``plausible range 5–40 % lower``)."""
    if not iv.uncertain:
        return ""
    if iv.operation == "multiply":
        lo, hi = 100.0 * (iv.low - 1.0), 100.0 * (iv.high - 1.0)
        if hi <= 0:
            return (f"; plausible range {format_given(-hi, digits=2)}–"
                    f"{format_given(-lo, digits=2)} % lower")
        if lo >= 0:
            return (f"; plausible range {format_given(lo, digits=2)}–"
                    f"{format_given(hi, digits=2)} % higher")
        return (f"; plausible range from {_multiplier_words(iv.low)} to "
                f"{_multiplier_words(iv.high)}")
    kind = PARAMETERS[iv.parameter.split("@", 1)[0]].kind \
        if iv.parameter.split("@", 1)[0] in PARAMETERS else "factor"
    return f"; plausible range {_value_words(kind, iv.low)} to {_value_words(kind, iv.high)}"


def _target_words(target) -> str:
    """Whom an intervention reaches, in words (``""``: everyone)."""
    parts = []
    if target.form:
        parts.append(" or ".join(labels.FORM_LABELS[f].en for f in target.form))
    for attr in ("age_group", "sex"):
        groups = getattr(target, attr)
        if groups:
            parts.append(" or ".join(labels.GROUP_LABELS[g].en for g in groups))
    if target.probation:
        parts.append(labels.GROUP_LABELS[target.probation].en)
    return "; ".join(parts)


def _added_words(kind: str, value: float) -> str:
    """An ``add`` intervention's change in words (a probability's in percentage points)."""
    if kind == "probability":
        return f"{'+' if value > 0 else ''}{format_given(100 * value, digits=3)} percentage points"
    sign = "+" if value > 0 else ""
    words = _value_words(kind, value)
    return f"{sign}{words}" if kind != "factor" else f"{sign}{format_given(value)} (added)"


def intervention_words(iv, baseline: Scenario) -> str:
    """What an intervention assumes, in plain words (HTML), from its fields.

    For example: *new offenders starting to offend per year: 25 % lower (plausible range
    5–40 % lower); reaching domestic sexual exploitation, offenders under 23; from
    January 2021, phased in over 36 months.*
    """
    name = iv.parameter.split("@", 1)[0]
    spec = PARAMETERS.get(name)
    what = spec.description if spec is not None else iv.parameter
    if "@" in iv.parameter:
        what += f" ({iv.parameter.split('@', 1)[1]} offenders)"
    kind = spec.kind if spec is not None else "factor"
    if iv.operation == "multiply":
        effect = _multiplier_words(iv.value)
    elif iv.operation == "set":
        before = _baseline_value(baseline, iv.parameter)
        effect = f"set to {_value_words(kind, iv.value)}" + (
            f" (baseline {before})" if before else "")
    else:
        effect = _added_words(kind, iv.value)
    whom = _target_words(iv.target)
    when = f"from {format_month(iv.start)}"
    if iv.ramp_months:
        when += f", phased in over {format_count(iv.ramp_months, 'month', 'months')}"
    if iv.end:
        when += f", until {format_month(iv.end)}"
    text = (f"<b>{_esc(iv.name)}</b>: {_esc(what)}: <b>{_esc(effect)}</b>"
            f"{_esc(_range_words(iv))}{'; reaching ' + _esc(whom) if whom else ''}; "
            f"{_esc(when)}.")
    return text + f" <span class=note>Basis: {_esc(iv.note)}</span>"


def first_detectable(yearly: pd.DataFrame, arm: int, from_year: int
                     ) -> dict[str, tuple[int, float, float] | None]:
    """Per yearly chain flow, the first year its change is detectable, and its sign.

    A year counts when the 95 % interval of the paired yearly differences excludes zero
    in that year and, with the same sign, in the next one: with many years and flows, a
    single year can exclude zero by chance (so the last year alone never counts).

    Args:
        yearly: ``yearly.csv`` of a saved comparison (arm, rep, year, flows).
        arm: The scenario's arm (1, 2, ...; 0 is the baseline).
        from_year: The first year looked at (the scenario's first intervention).

    Returns:
        ``{flow: (year, mean difference that year, baseline mean that year) or None}``
        for every flow.
    """
    from chainsim.analysis.flows import METRICS

    data = yearly[yearly["year"] >= from_year]
    base = data[data["arm"] == 0].set_index(["rep", "year"]).sort_index()
    mine = data[data["arm"] == arm].set_index(["rep", "year"]).sort_index()
    out: dict[str, tuple[int, float, float] | None] = {}
    years = sorted(data["year"].unique())
    for metric in METRICS:
        if metric not in base or base.empty or mine.empty:
            continue
        diff = (mine[metric] - base[metric]).unstack("year")
        signs = []
        for year in years:
            d = paired_delta(diff[year].to_numpy()) if year in diff else {"lo": None}
            sign = 0
            if labels.excludes_zero(d.get("lo"), d.get("hi")):
                sign = 1 if d["lo"] > 0 else -1
            signs.append((year, sign, d.get("mean")))
        found = None
        for i, (year, sign, mean) in enumerate(signs):
            if sign and i + 1 < len(signs) and signs[i + 1][1] == sign:
                level = float(base[metric].xs(year, level="year").mean())
                found = (int(year), float(mean), level)
                break
        out[metric] = found
    return out


def _detectable_words(yearly: pd.DataFrame, arm: int, sc: Scenario, end_year: int) -> str:
    """When the scenario's change first shows in the yearly flows, in words (HTML)."""
    if not sc.interventions:
        return "<p>No interventions: nothing to detect.</p>"
    if yearly["rep"].nunique() < 2:
        return ("<p>When the change shows: needs two or more replications (one replication "
                "has no interval).</p>")
    start = min(int(iv.start[:4]) for iv in sc.interventions)
    found = first_detectable(yearly, arm, start)
    shown = sorted(((*v, k) for k, v in found.items() if v), key=lambda t: t[0])
    if not shown:
        return (f"<p>When the change shows: no yearly chain flow changes detectably between "
                f"{start} and {end_year}.</p>")
    items = "".join(
        f"<li>{_esc(labels.text(k))}: from <b>{year}</b> ({'lower' if mean < 0 else 'higher'}"
        f"; that year {_esc(labels.change(k, mean))}"
        + ("" if labels.is_share(k) else f", {_esc(labels.relative(mean, level))} of the "
           "baseline") + ")</li>"
        for year, mean, level, k in shown)
    quiet = [labels.text(k) for k, v in found.items() if v is None]
    rest = (f"<p class=note>No detectable change by {end_year} in: {_esc(', '.join(quiet))}.</p>"
            if quiet else "")
    return (f"<p>When the change shows in the chain's yearly flows (first year from {start} "
            "whose 95 % interval excludes zero, that year and the next):</p>"
            f"<ul>{items}</ul>{rest}")


# ------------------------------------------------------------------------- tables

def verdict(d: dict, key: str, base: float | None, min_effect: float = 0.0,
            short: bool = False) -> str:
    """The verdict on a difference ``d`` (mean, lo, hi) of ``key`` against its baseline level.

    ``short``: "lower"/"higher" instead of "lower/higher than baseline" (the CLI's tables).
    """
    if d["mean"] is None:
        return "–"
    if d["lo"] is None:
        return "one replication: no interval"
    if not labels.excludes_zero(d["lo"], d["hi"]):
        return "no detectable change"
    side = "lower" if d["hi"] < 0 else "higher"
    side += "" if short else " than baseline"
    return side + (" (negligible)" if negligible(key, d["mean"], base, min_effect) else "")


def _key_proxies(doc: dict) -> tuple[str, ...]:
    return (*KEY_PROXIES, "cost_per_year") if doc.get("unit_costs") else KEY_PROXIES


def summary_table(doc: dict) -> str:
    """Scenario × key measures: baseline, change, relative change, interval, verdict (HTML)."""
    rows = []
    keys = _key_proxies(doc)
    for name, entry in doc["scenarios"].items():
        for i, key in enumerate(keys):
            d = entry["deltas"][key]
            base = doc["baseline_levels"][key]["mean"]
            places = labels.row_decimals(key, [d["mean"], d["lo"], d["hi"]])
            said = verdict(d, key, base, doc.get("min_effect") or 0.0)
            quiet = " class=quiet" if said == "no detectable change" else ""
            head = (f"<th rowspan={len(keys)} class=scen>{_esc(scenario_title(name))}</th>"
                    if i == 0 else "")
            rows.append(
                f"<tr{quiet}>{head}<td>{_esc(labels.text(key))}"
                f"<br><small>{_esc(labels.unit(key))}</small></td>"
                f"<td class=num>{_esc(labels.level(key, base))}</td>"
                f"<td class=num>{_esc(labels.change(key, d['mean'], decimals=places))}</td>"
                f"<td class=num>{_esc(labels.relative(d['mean'], base))}</td>"
                f"<td class=num>{_esc(labels.interval(key, d['lo'], d['hi'], decimals=places))}"
                f"</td><td>{_esc(said)}</td></tr>")
    return ("<table class=summary><tr><th>scenario</th><th>measure</th><th>baseline</th>"
            "<th>change</th><th>relative change</th><th>95 % interval of the change</th>"
            "<th>verdict</th></tr>" + "".join(rows) + "</table>")


def all_measures_table(doc: dict) -> str:
    """Every measure: baseline level and each scenario's change with its interval (HTML)."""
    names = list(doc["scenarios"])
    head = "<tr><th>measure</th><th>baseline</th>" + "".join(
        f"<th>{_esc(scenario_title(n))}</th>" for n in names) + "</tr>"
    rows = []
    for key in doc["baseline_levels"]:
        cells = []
        for n in names:
            d = doc["scenarios"][n]["deltas"][key]
            places = labels.row_decimals(key, [d["mean"], d["lo"], d["hi"]])
            ci = (f"<br><small>{_esc(labels.interval(key, d['lo'], d['hi'], decimals=places))}"
                  "</small>" if d["lo"] is not None else "")
            cells.append(f"<td class=num>{_esc(labels.change(key, d['mean'], decimals=places))}"
                         f"{ci}</td>")
        rows.append(f"<tr><td>{_esc(labels.text(key))} <small>({_esc(labels.unit(key))})"
                    f"</small></td><td class=num>"
                    f"{_esc(labels.level(key, doc['baseline_levels'][key]['mean']))}</td>"
                    + "".join(cells) + "</tr>")
    return "<table>" + head + "".join(rows) + "</table>"


def costs_section(doc: dict) -> str:
    """Costs if a cost file was given, otherwise one line saying they are not included."""
    costs = doc.get("unit_costs")
    if not costs:
        return ("<p class=costs><b>Costs are not included</b>: no cost file was given "
                "(<code>chainsim compare ... --costs FILE</code> adds the yearly cost of the "
                "chain's work at the unit costs you supply).</p>")
    parts = [f"{what} {format_given(costs.get(key, 0.0), digits=6)}"
             for key, what in (("prison_month", "a month in custody"),
                               ("probation_month", "a month of supervision"),
                               ("court_case", "a court case"),
                               ("investigation", "an investigation"))]
    return (f"<p class=costs><b>Costs</b> (the summary's last row per scenario) use the unit "
            f"costs of the cost file: {_esc('; '.join(parts))}. "
            f"<span class=note>Basis: {_esc(costs.get('note', ''))}</span></p>")


def split_caution(repeats: int) -> str:
    """How firm the split of an effect's spread into parameters and chance is, in words.

    The chance part is estimated from the ``repeats`` members run twice, and the 90 %
    interval over the posterior and the probabilities shrink the members' effects by it
    (:func:`chainsim.analysis.effects.effect_summary`). With fewer repeats than
    :data:`chainsim.experiments.compare.FIRM_SPLIT_REPS` replications give, the sentence
    says to read all three as rough and how many replications to run.
    """
    from chainsim.experiments.compare import (
        FIRM_SPLIT_REPS,
        monte_carlo_precision,
        monte_carlo_repeats,
    )

    text = (f"Chance variation is measured on {format_count(repeats, 'member', 'members')} "
            f"run twice (relative standard error about "
            f"{format_percent(monte_carlo_precision(repeats), decimals=0)})")
    if repeats < monte_carlo_repeats(FIRM_SPLIT_REPS):
        return (text + ": with so few, the share from parameters, and with it the interval "
                "over the posterior and the probabilities, are rough. Run at least "
                f"{FIRM_SPLIT_REPS} replications before saying how large the effect may be "
                "or which uncertainty dominates.")
    return text + "."


def _uncertainty_section(doc: dict) -> str:
    """The effects over the posterior (``compare --uncertainty``), or a line saying how."""
    if not doc.get("ensemble_repeats"):
        return ("<p>Not measured in this comparison. Run <code>chainsim compare ... "
                "--uncertainty</code> to see how large each effect may be over the parameter "
                "sets that reproduce the Dadermonitor's figures (the posterior ensemble), and "
                "how likely a reduction is.</p>")
    threshold = doc.get("min_effect") or 0.0
    text = (doc.get("ensemble_caveat") or "").removeprefix("provisional ").strip()
    caveat = f"<div class=caveat><b>Provisional.</b> {_esc(text)}</div>" if text else ""
    beyond = f"P(reduction &gt; {format_percent(threshold, decimals=0)})"
    head = ("<tr><th>scenario</th><th>measure</th><th>mean change</th>"
            "<th>95 % interval of the mean</th><th>90 % of the effect over the posterior</th>"
            "<th>P(reduction)</th>"
            + (f"<th>{beyond}</th>" if threshold else "")
            + "<th>from parameters</th></tr>")
    rows = []
    for name, entry in doc["scenarios"].items():
        for key in _key_proxies(doc):
            u = entry.get("under_uncertainty", {}).get(key)
            if not u or u["mean"] is None:
                continue
            lo, hi = u["prediction"]
            share = u["variance"]["parameter_share"]
            places = labels.row_decimals(key, [u["mean"], *u["ci"], lo, hi])
            rows.append(
                f"<tr><td>{_esc(scenario_title(name))}</td><td>{_esc(labels.titled(key))}</td>"
                f"<td class=num>{_esc(labels.change(key, u['mean'], decimals=places))}</td>"
                f"<td class=num>{_esc(labels.interval(key, *u['ci'], decimals=places))}</td>"
                f"<td class=num>{_esc(labels.interval(key, lo, hi, decimals=places))}</td>"
                f"<td class=num>{format_percent(u['p_reduction'], decimals=0)}</td>"
                + (f"<td class=num>{format_percent(u['p_reduction_beyond_threshold'], decimals=0)}"
                   "</td>" if threshold else "")
                + f"<td class=num>{'–' if share is None else format_percent(share, decimals=0)}"
                  "</td></tr>")
    return (f"""{caveat}<p>Replication <i>i</i> of every scenario used member <i>i</i> of the
posterior ensemble: parameter sets (calibrated values and unknowns together) that reproduce the
Dadermonitor's figures. Two intervals answer two questions. The <b>95 % interval of
the mean</b> says how precisely {format_count(doc['reps'], 'replication', 'replications')} pin
down the <i>average</i> effect over the posterior. The <b>90 % interval over the posterior</b>
says how large the effect may be given what the data leave open (chance variation removed; what
the replications leave open about the average kept in). <b>P(reduction)</b> is the share of
that spread below zero; where the members' effects do not differ beyond chance, it is the
confidence that the average effect is a reduction. <b>From parameters</b>: the share of the
spread of single-replication effects that comes from the parameters rather than chance.
{_esc(split_caution(doc['ensemble_repeats']))}</p>
<table>{head}{''.join(rows)}</table>""")


def _unknown_words(key: str) -> str:
    """An unknown's name in words, with the name scenario files use."""
    if key.startswith("interventions."):
        return f"effect size of the intervention &ldquo;{_esc(key.split('.', 1)[1])}&rdquo;"
    spec = PARAMETERS.get(key.split("@", 1)[0])
    words = spec.description if spec is not None else key.replace("_", " ")
    return f"{_esc(words)}<br><small>in scenario files: <code>{_esc(key)}</code></small>"


def _unknowns_table(scenarios: list[Scenario], doc: dict) -> str:
    rows = []
    influence = {name: e.get("unknown_influence", {}) for name, e in doc["scenarios"].items()}
    seen = set()
    posterior = bool(doc.get("ensemble_repeats"))
    for sc in scenarios:
        items = [(k, e.central, e.low, e.high, e.note) for k, e in sc.unknowns.items()]
        items += [(f"interventions.{iv.name}", iv.value, iv.low, iv.high, iv.note)
                  for iv in sc.interventions if iv.uncertain]
        for key, central, low, high, note in items:
            if key in seen:
                continue
            seen.add(key)
            moves = []
            for name, infl in influence.items():
                corr = infl.get(key, {})
                if posterior:  # first-order variance shares above the noise floor
                    best = max(((v["s1"], p) for p, v in corr.items() if v["influential"]),
                               default=None)
                    if best:
                        moves.append(f"{_esc(scenario_title(name))}: "
                                     f"{_esc(labels.short(best[1]))} "
                                     f"({format_percent(best[0], decimals=0)} of its spread)")
                    continue
                best = max(((abs(v), p, v) for p, v in corr.items() if v is not None),
                           default=None)
                if best and best[0] >= 0.3:
                    moves.append(f"{_esc(scenario_title(name))}: "
                                 f"{_esc(labels.short(best[1]))} (rank correlation "
                                 f"{format_signed(best[2], decimals=2)})")
            moved = "<br>".join(moves) if moves else (
                "none above the noise floor" if posterior
                else "no strong influence (rank correlation below 0.3 either way)"
                if doc["uncertainty"] else "not measured (run with --uncertainty)")
            rows.append(f"<tr><td>{_unknown_words(key)}</td>"
                        f"<td class=num>{format_given(central)}</td>"
                        f"<td class=num>{format_given(low)} to "
                        f"{format_given(high)}</td><td>{moved}</td>"
                        f"<td class=note>{_esc(note)}</td></tr>")
    explain = ("The share of an effect's spread over the posterior that the unknown explains "
               "on its own (first-order variance share)." if posterior else
               "Rank correlation (Spearman): from −1 to +1, how consistently the change moves "
               "with the unknown over the replications; near 0, the conclusion does not "
               "hinge on it.")
    return ("<table><tr><th>unknown</th><th>central value</th><th>plausible range</th>"
            "<th>the change it moves most</th><th>basis</th></tr>" + "".join(rows)
            + f"</table><p class=note>{explain}</p>")


CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}h1{font-size:1.55em;margin-bottom:.2em}
h2{margin-top:1.8em;border-bottom:1px solid #ddd}.meta{color:#555;margin-top:0}
ul.findings{padding-left:1.2em}ul.findings li{font-size:1.12em;margin:.5em 0}
table{border-collapse:collapse;font-size:.88em;margin:1em 0}td,th{border:1px solid #ddd;
padding:.35em .5em;vertical-align:top;text-align:left}th{background:#f4f4f4}
td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
th.scen{background:#fafafa;vertical-align:middle}tr.quiet td{color:#777}
.note{color:#555;font-size:.92em}td.note{max-width:30em}small{color:#666}
img{max-width:100%}.caveat{background:#fff8e1;border-left:4px solid #f0b400;padding:.6em 1em}
.costs{background:#f3f7fb;border-left:4px solid #4C72B0;padding:.5em 1em}
@media (max-width:700px){body{margin:1em auto}table{display:block;overflow-x:auto}}"""


def build_report(directory: Path) -> Path:
    """Write ``DIR/report.html`` from a saved comparison; returns its path."""
    saved = load_saved(directory)
    doc, scenarios = saved["doc"], saved["scenarios"]
    baseline = scenarios[0]
    first_year = int(doc["period"][0][:4]) - 8
    end_year = int(doc["period"][1][:4])
    figures = {
        "funnel": funnel_png(saved["yearly"], doc["baseline"]),
        "flows": flows_png(saved["yearly"], first_year),
        "forest": forest_png(doc, _key_proxies(doc)),
        "survival": survival_png(saved["survival"]),
    }
    reps = format_count(doc["reps"], "paired replication", "paired replications")
    findings = "".join(f"<li>{headline(name, entry, doc)}</li>"
                       for name, entry in doc["scenarios"].items())
    assumptions = []
    for arm, sc in enumerate(scenarios[1:], start=1):
        ivs = "".join(f"<li>{intervention_words(iv, baseline)}</li>" for iv in sc.interventions)
        assumptions.append(
            f"<h3>{_esc(scenario_title(sc.name))}</h3><p>{_esc(sc.scenario.description)}</p>"
            + (f"<p>What it assumes:</p><ul>{ivs}</ul>" if ivs else
               "<p>No interventions: it is the baseline's chain.</p>")
            + _detectable_words(saved["yearly"], arm, sc, end_year))
    titles = [scenario_title(n) for n in doc["scenarios"]]
    names = titles[0] if len(titles) == 1 else f"{', '.join(titles[:-1])} and {titles[-1]}"
    years = f"{doc['period'][0][:4]}–{doc['period'][1][:4]}"
    title = f"{names[:1].upper()}{names[1:]} compared with the baseline, {years}"
    params = ("from the posterior ensemble, one member per replication"
              if doc.get("ensemble_repeats") else "unknowns sampled per replication"
              if doc["uncertainty"] else "at their calibrated and central values")
    period = f"{format_month(doc['period'][0])} to {format_month(doc['period'][1])}"
    body = f"""<!doctype html><html lang=en><head><meta charset=utf-8>
<meta name=viewport content="width=device-width,initial-scale=1">
<title>{_esc(title)}</title>
<style>{CSS}</style></head><body>
<h1>{_esc(title)}</h1>
<p class=meta>Human-trafficking offenders in the Dutch criminal-justice chain, simulated
{period}: {reps} per scenario on common random numbers (seed {doc['seed']}), parameters
{params}; {doc['engine']} engine, chainsim {_esc(str(doc['versions'].get('chainsim', '?')))}.</p>
<h2>Findings</h2><ul class=findings>{findings}</ul>
<h2>Summary</h2>
<p>Averages over {period}, compared with {_baseline_words(doc['baseline'])}.
Shares are in %, their changes in <b>percentage points</b> (pp); the relative change is the
change as a percentage of the baseline's level.</p>
{summary_table(doc)}
<p class=note>{CI_EXPLAINED.format(reps=reps)}</p>
{costs_section(doc)}
<div class=caveat><b>Read with care.</b> Observed recidivism is what registers: it rises when
detection effort rises, even if true reoffending falls, so a policy that finds more offenders can
look worse on observed recidivism. True reoffending and offender-months are model quantities that
nobody measures; they rest on the unknowns below. Differences between scenarios are more
trustworthy than levels: both share every random draw, so what separates them is the policy plus
chance variation that the 95 % intervals measure. At fixed parameters an effect can be precise
and still wrong: how much the unknowns move it is the question of &ldquo;How sure?&rdquo;
below.</div>
<h2>What each scenario assumes, and when its effect shows</h2>
<p>Effect sizes are assumptions stated in the scenario files; the dates are when each change
starts.</p>
{''.join(assumptions)}
<h2>Size of the changes</h2>
<img src="{figures['forest']}" alt="Changes from the baseline with 95 % intervals: recidivism
in percentage points, other measures as a percentage of the baseline level">
<p class=note>Each line is a scenario's 95 % interval, the dot its mean change; one axis per
unit, so sizes compare across measures. The grey band marks changes we call negligible.</p>
<h2>All measures</h2>
{all_measures_table(doc)}
<p class=note>Recidivism: share of offenders first released from prison or given a
non-custodial sanction in the period with a new case whose <b>offence</b> falls within 2, 5 or 7
years and which is registered within a year after that (the WODC's convention: dated at the
offence, a 12-month extension, a case not ending in acquittal or technical dismissal; full
follow-up required; see docs/recidivism.md). Offender-months count months offending, undetected
or at liberty while investigated and prosecuted; months in custody count every month in
custody (pre-trial from the arrest, prison, a recall).</p>
<h2>How sure? The effects under parameter uncertainty</h2>
{_uncertainty_section(doc)}
<h2>The chain over time</h2><img src="{figures['flows']}" alt="flows through the chain per year">
<h2>Recidivism by scenario</h2><img src="{figures['survival']}"
alt="share without a new registered case by months since release">
<p class=note>The share of offenders without a new registered case, month by month after their
release or sanction (a survival curve, Kaplan–Meier: it accounts for offenders not yet followed
for the whole period).</p>
<h2>The baseline beside the Dadermonitor</h2><img src="{figures['funnel']}"
alt="the chain's stages, model and source">
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

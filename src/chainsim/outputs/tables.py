"""Readable tables for the terminal (rich): aligned columns, human labels, units.

Every number goes through :mod:`chainsim.chain.numbers` (thousands separators, sensible
digits, no scientific notation, never ``-0``) and every key through
:mod:`chainsim.outputs.labels` (words and units instead of internal names). Shares are
percentages and their differences percentage points, as in the HTML report. The
functions return the rendered text, so the command line prints it and tests read it.
"""

from __future__ import annotations

import io
import shutil
import sys

from chainsim.analysis.flows import METRICS, SHARES
from chainsim.analysis.targets import DEFAULT_TARGETS, load_targets
from chainsim.chain.numbers import format_count, format_given, format_number, format_percent
from chainsim.outputs import labels

WIDTH = 160
"""Width of the tables when the output is not a terminal (a pipe, a file, a test)."""
NARROWEST = 120
"""Narrowest width the tables are laid out for (a narrower terminal wraps the lines)."""

WORDS = ("measure", "unit", "figure", "outcome", "verdict", "group (target)", "status")
"""Columns of words, which may wrap on a narrow terminal (numbers never do)."""

MIN_WIDTHS = {"measure": 30, "figure": 30, "outcome": 30, "verdict": 13, "unit": 8}
"""Narrowest a column of words gets on a narrow terminal."""

CI_LINE = ("95 % interval: where the average difference lies, given the simulation's "
           "chance variation (it says nothing about parameters nobody knows). "
           "'no detectable change': the interval includes zero.")
"""The line that explains the comparison's interval where it appears."""


def render(*items, width: int | None = None) -> str:
    """Render rich tables and texts to a string (no colour codes).

    Args:
        items: Rich renderables or strings, printed one after the other.
        width: Line width (default: the terminal's, or :data:`WIDTH` off a terminal).
    """
    from rich.console import Console

    if width is None:  # never so narrow that a column of numbers would be cut
        width = (max(shutil.get_terminal_size((WIDTH, 24)).columns, NARROWEST)
                 if sys.stdout.isatty() else WIDTH)
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, force_terminal=False,
                      highlight=False, emoji=False)
    for item in items:
        console.print(item)
    return "\n".join(line.rstrip() for line in buffer.getvalue().rstrip().splitlines())


def _table(title: str | None, columns: list[tuple[str, str]]):
    """A rich table with the given (header, justify) columns; only :data:`WORDS` wrap."""
    from rich import box
    from rich.table import Table

    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for header, justify in columns:
        # words wrap on a narrow terminal; numbers stay on one line
        table.add_column(header, justify=justify, no_wrap=header not in WORDS,
                         min_width=MIN_WIDTHS.get(header))
    return table


def _value(key: str, value: float | None) -> str:
    """A figure of the run table: a share as a percentage, a count with its digits."""
    if value is None:
        return "–"
    if labels.is_share(key):
        return format_percent(value)
    return format_number(value, digits=3, most=1)


def _figure(x: float) -> str:
    """A figure as given (a whole number without decimals: ``95``, ``0.167`` as given)."""
    return format_given(round(float(x), 6))


def _observed(key: str, target) -> str:
    """The source's figure for ``key``, in the same unit as the model's."""
    if target is None:
        return ""
    if target.kind == "range":
        if labels.is_share(key):
            return f"{_figure(100 * target.low)}–{_figure(100 * target.high)} %"
        return f"{_figure(target.low)}–{_figure(target.high)}"
    text = (f"{_figure(100 * target.value)} %" if labels.is_share(key)
            else _figure(target.value))
    return f"> {text}" if target.kind == "lower_bound" else text


def source_check(mean: float | None, target, tolerance_sd: float = 1.0) -> str:
    """Whether a model figure lies inside the source's range (and if not, where).

    Ranges and lower bounds are checked strictly (``0.81`` is above ``0.6–0.8``); a
    single figure counts as met within ``tolerance_sd`` of its stated uncertainty.

    Returns:
        ``""`` without a source figure, ``"inside"``, or a marked ``"⚠ above the range"``,
        ``"⚠ below the range"``, ``"⚠ below the lower bound"``, ``"⚠ 2.2 sd above"``.
    """
    if target is None or mean is None:
        return ""
    if target.kind == "range":
        if mean > target.high:
            return "⚠ above the range"
        if mean < target.low:
            return "⚠ below the range"
        return "inside"
    if target.kind == "lower_bound":
        return "⚠ below the lower bound" if mean < target.value else "inside"
    off = (mean - target.value) / target.sd
    if abs(off) <= tolerance_sd:
        return "inside"
    return f"⚠ {format_number(abs(off), decimals=1)} sd {'above' if off > 0 else 'below'}"


def run_table(doc: dict) -> str:
    """The 2015-2019 window of a summary document, beside the source's figures.

    Figures outside the source's range are marked (see :func:`source_check`).
    """
    targets = load_targets(DEFAULT_TARGETS) if DEFAULT_TARGETS.exists() else {}
    window_t = {t.metric: t for t in targets.values()
                if t.scope == "window_mean" and t.form is None}
    share_t = {t.metric: t for t in targets.values() if t.scope == "shares"}
    fitted = doc.get("targets") or {}
    tolerance = fitted.get("tolerance_sd", 1.0)
    reps = doc["reps"]
    spread = reps > 1
    head = (f"Scenario {doc['scenario']} (configuration {doc['config_hash']}) · "
            f"{format_count(reps, 'replication', 'replications')} · seed {doc['seed']} · "
            f"{doc['engine']} engine")
    columns = [("model (mean)", "right")] + ([("90 % of replications", "right")]
                                              if spread else []) + [
        ("Dadermonitor", "right"), ("model vs source", "left")]
    items: list = [head]
    marked = 0
    for title, names, block, tmap in (
            ("The chain, 2015–2019 yearly average", METRICS, "window_mean", window_t),
            ("Offender mix at the OM, 2015–2019", SHARES, "shares", share_t)):
        table = _table(title, [("figure", "left"), ("unit", "left"), *columns])
        for name in names:
            s = doc[block][name]
            target = tmap.get(name)
            check = source_check(s["mean"], target, tolerance)
            marked += check.startswith("⚠")
            row = [labels.text(name), labels.unit(name), _value(name, s["mean"])]
            if spread:
                row.append(f"{_value(name, s['lo'])} to {_value(name, s['hi'])}")
            row += [_observed(name, target), check]
            table.add_row(*row)
        items.append(table)
    years = [(name, t) for name, t in targets.items() if t.scope == "by_year"]
    by_target = fitted.get("by_target") or {}
    if years and by_target:
        table = _table("Single years of the source", [
            ("figure", "left"), ("year", "left"), *columns])
        for name, t in years:
            r = by_target.get(name)
            if r is None:
                continue
            check = source_check(r["mean"], t, tolerance)
            marked += check.startswith("⚠")
            row = [labels.text(t.metric), t.years, _value(t.metric, r["mean"])]
            if spread:
                row.append(f"{_value(t.metric, r['lo'])} to {_value(t.metric, r['hi'])}")
            row += [_observed(t.metric, t), check]
            table.add_row(*row)
        items.append(table)
    notes = [("90 % of replications: the middle 90 % of the runs' values (each run one "
              "member of the posterior ensemble: parameter uncertainty and chance)."
              if doc.get("uncertainty") else
              "90 % of replications: the middle 90 % of the runs' values (chance variation "
              "at these parameters).") if spread else
             "One replication: no spread between runs is shown (use --reps 20 or more)."]
    notes.append(f"⚠: outside the source's range or lower bound, or more than "
                 f"{_figure(tolerance)} sd from a single figure "
                 f"({format_count(marked, 'figure', 'figures')} marked).")
    if fitted:
        notes.append(f"Calibration targets: {fitted['met']} of {fitted['total']} met "
                     f"(within {_figure(tolerance)} sd, the calibration's tolerance).")
    items += notes
    validation = validation_table(doc.get("validation") or {})
    text = render(*items)
    return text + (("\n\n" + validation) if validation else "")


def _bounds(low: float, high: float, difference: bool) -> str:
    """Published bounds as given: ``40–56 %``, or ``+5 to +100 pp`` for a difference."""
    lo, hi = _figure(100 * low), _figure(100 * high)
    if difference:
        sign = {True: "+", False: ""}
        return f"{sign[low > 0]}{lo} to {sign[high > 0]}{hi} pp"
    return f"{lo}–{hi} %"


def validation_table(block: dict) -> str:
    """The validation targets of a summary (``validation`` block), rendered; ``""`` if none."""
    if not block or not block.get("by_target"):
        return ""
    if "cohort" in block:
        head = (f"{block['label']}: WODC recidivism, offenders released or sanctioned "
                f"{block['cohort'][0]} to {block['cohort'][1]}, counted from the offence "
                f"date with {block['extension_months']} months for registration; "
                f"{block['inside']} of {block['total']} inside the published bounds")
    else:  # listed, not evaluated
        head = f"{block['label']}: {block['total']} WODC recidivism figures, {block['note']}"
    table = _table(None, [("group (target)", "left"), ("measure", "left"),
                          ("model", "right"), ("standard error", "right"),
                          ("published bounds", "right"), ("inside", "left")])
    for name, r in block["by_target"].items():
        inside = "–" if r.get("inside") is None else ("yes" if r["inside"] else "⚠ no")
        difference = r.get("minus") is not None

        def pct(x, diff=difference):
            if x is None:
                return "–"
            return (labels.change("observed_general_2y", x) if diff
                    else format_percent(x))

        se = "–" if r.get("se") is None else f"{format_number(100 * r['se'], decimals=1)} pp"
        group = name.removesuffix("_" + r["proxy"].removeprefix("observed_"))
        table.add_row(group.replace("_", " "),
                      labels.text(r["proxy"]) + (" (difference)" if difference else ""),
                      pct(r["value"]), se, _bounds(r["low"], r["high"], difference), inside)
    return render(head, table, "Standard error: the chance variation of the model's mean "
                               "over its replications.")


def validation_lines(block: dict) -> list[str]:
    """:func:`validation_table` as lines (for callers that join lines)."""
    text = validation_table(block)
    return ["", *text.rstrip("\n").splitlines()] if text else []


def _verdict(d: dict, key: str, base: float | None, min_effect: float = 0.0) -> str:
    from chainsim.outputs.report import verdict

    return verdict(d, key, base, min_effect, short=True)


def compare_table(doc: dict) -> str:
    """Differences (scenario − baseline) with 95 % intervals, one table per scenario.

    Levels and differences in the measure's unit (shares in %, their differences in
    percentage points), the difference relative to the baseline, and a verdict. With a
    posterior ensemble also the 90 % interval of the effect over the posterior, the
    probability of a reduction and the share of the spread from the parameters, with a
    line saying which interval is which.
    """
    from chainsim.outputs.report import split_caution

    posterior = bool(doc.get("ensemble_repeats"))
    how = (", one posterior member per replication" if posterior
           else ", unknowns sampled" if doc["uncertainty"] else "")
    items: list = [
        f"Baseline scenario: {doc['baseline']} · "
        f"{format_count(doc['reps'], 'paired replication', 'paired replications')} per "
        f"scenario{how} · seed {doc['seed']} · period {doc['period'][0]} to "
        f"{doc['period'][1]}"]
    if doc.get("ensemble_caveat"):
        items.append(f"CAUTION: {doc['ensemble_caveat']}")
    for name, entry in doc["scenarios"].items():
        table = _table(f"{name} compared with {doc['baseline']}", [
            ("measure", "left"), ("unit", "left"), ("baseline", "right"), ("change", "right"),
            ("relative", "right"), ("95 % interval", "right"), ("verdict", "left")])
        spread = _table(f"{name}: the effect under parameter uncertainty", [
            ("measure", "left"), ("mean change", "right"), ("90 % over posterior", "right"),
            ("P(lower)", "right"), ("from parameters", "right")])
        for proxy, d in entry["deltas"].items():
            base = doc["baseline_levels"][proxy]["mean"]
            places = labels.row_decimals(proxy, [d["mean"], d["lo"], d["hi"]])
            unit = "%" if labels.is_share(proxy) else labels.unit(proxy)
            table.add_row(labels.text(proxy), unit, labels.level(proxy, base),
                          labels.change(proxy, d["mean"], decimals=places),
                          labels.relative(d["mean"], base),
                          labels.interval(proxy, d["lo"], d["hi"], decimals=places),
                          _verdict(d, proxy, base, doc.get("min_effect") or 0.0))
            u = (entry.get("under_uncertainty") or {}).get(proxy)
            if posterior and u and u["prediction"] is not None:
                p = format_percent(u["p_reduction"], decimals=0)
                if doc.get("min_effect"):
                    p += f" / {format_percent(u['p_reduction_beyond_threshold'], decimals=0)}"
                share = u["variance"]["parameter_share"]
                lo, hi = u["prediction"]
                digits = labels.row_decimals(proxy, [d["mean"], lo, hi])
                spread.add_row(labels.text(proxy), labels.change(proxy, d["mean"], decimals=digits),
                               labels.interval(proxy, lo, hi, decimals=digits), p,
                               "–" if share is None else format_percent(share, decimals=0))
        items.append(table)
        if posterior:
            items.append(spread)
    items.append("Recidivism and reoffending: % of the offenders released from prison or "
                 "given a non-custodial sanction in the period; their changes in percentage "
                 "points (pp). Relative: the change as a percentage of the baseline's level. "
                 + CI_LINE + " 'negligible': a share's change under 0.5 pp and under 10 % of its "
                 "level; any other change under 1 % of the baseline (or --min-effect).")
    if posterior:
        items.append(
            "90 % over posterior: the range of the effect over parameter sets that reproduce "
            "the Dadermonitor's figures (chance variation removed, the uncertainty of the "
            "average kept in). P(lower): the probability that the effect is a reduction"
            + (f" (after '/': by more than {format_percent(doc['min_effect'], decimals=0)} of "
               "the baseline level)" if doc.get("min_effect") else "")
            + ". From parameters: the share of the effect's spread that comes from the "
              "parameters rather than chance. " + split_caution(doc["ensemble_repeats"]))
    return render(*items)


def _outcome_words(outcome: str) -> str:
    """A sweep outcome in words: ``delta:more_probation:recid_true_2y`` → the change's label."""
    if outcome.startswith("delta:"):
        _, arm, key = outcome.split(":", 2)
        return f"change with {labels.scenario_title(arm)}: {_key_words(key)}"
    return _key_words(outcome)


def _key_words(key: str) -> str:
    try:
        return labels.text(key)  # indices have no unit
    except KeyError:
        return key


def _index(value: float | None, lo: float | None, hi: float | None) -> str:
    if value is None:
        return "–"
    return (f"{format_number(value, decimals=2)} ({format_number(lo, decimals=2)} to "
            f"{format_number(hi, decimals=2)})")


def sensitivity_table(doc: dict) -> str:
    """Sobol indices and the ranking reversals of ``chainsim sensitivity``, rendered."""
    level = format_percent(doc["confidence"], decimals=0)
    head = (f"Sweep {doc['sweep']}: "
            f"{format_count(doc['points'], 'point', 'points')} × "
            f"{format_count(doc['reps'], 'replication', 'replications')}; Sobol indices with "
            f"{level} intervals")
    table = _table(None, [("outcome", "left"), ("factor", "left"),
                          ("first order (S1)", "right"), ("total (ST)", "right"),
                          ("noise share", "right")])
    for r in doc["indices"]:
        if r.get("S1") is None:
            table.add_row(_outcome_words(r["outcome"]), r["factor"], r.get("note", ""), "", "")
            continue
        noise = ("" if r.get("noise_share") is None
                 else format_percent(r["noise_share"], decimals=0))
        table.add_row(_outcome_words(r["outcome"]), r["factor"],
                      _index(r["S1"], r["S1_lo"], r["S1_hi"]),
                      _index(r["ST"], r["ST_lo"], r["ST_hi"]), noise)
    items: list = [head, table,
                   "First order (S1): the share of the outcome's variance a factor explains "
                   "on its own; total (ST): with all its interactions. Noise share: the part "
                   "of the variance that is chance variation between replications."]
    if doc.get("ranking"):
        lines = ["What would change the answer (scenarios ranked by their change, lowest "
                 "first):"]
        for r in doc["ranking"]:
            if r["factor"] == "(all factors)":
                lines.append(f"  {_outcome_words(r['outcome'])}: {r['reference_ranking']} over "
                             f"the design (centre: {r['centre_ranking']}); another scenario "
                             f"lowest at {format_percent(r['other_best_low_end'], decimals=0)} "
                             "of the points")
                continue
            for end in ("low", "high"):
                if r[f"reversed_{end}_end"]:
                    lines.append(f"    {r['factor']} at the {end} end of its range: "
                                 f"{r[f'reversed_{end}_end']}")
        items.append("\n".join(lines))
    items.append(f"files: {doc['directory']}/sensitivity.csv, ranking.csv, sensitivity.png")
    return render(*items)


def calibration_table(fit) -> str:
    """The calibration's fit table (``fit.csv``) with words, units and aligned numbers.

    Columns missing from ``fit`` (an older file, the agent model's when not verified) are
    left out.
    """
    has = set(fit.columns)
    interval = {"model_lo", "model_hi"} <= has
    agents = "agent_mean" in has
    columns = [("figure", "left"), ("years", "left"), ("Dadermonitor", "right"),
               ("model", "right")]
    columns += [("model, 90 %", "right")] if interval else []
    columns += [("agent model", "right")] if agents else []
    columns += [("residual (sd)", "right"), ("met", "left")]
    table = _table(None, columns)
    for r in fit.to_dict("records"):
        key = r.get("metric") if isinstance(r.get("metric"), str) else r["target"]
        known = key in labels.LABELS
        name = labels.text(key) if known else str(key).replace("_", " ")
        form = r.get("form")
        if isinstance(form, str) and form:
            name += f", {labels.FORM_LABELS[form].en}" if form in labels.FORM_LABELS else form
        share = labels.is_share(key) if known else False

        def value(x, share=share):
            if x is None or x != x:
                return "–"
            return format_percent(x) if share else format_number(x, digits=3, most=1)

        observed = str(r["observed"])
        try:
            parts = [float(p) for p in observed.removeprefix("> ").split("-")]
            scale = 100 if share else 1
            observed = (("> " if observed.startswith(">") else "")
                        + "–".join(_figure(scale * p) for p in parts) + (" %" if share else ""))
        except ValueError:
            pass
        row = [name, str(r.get("years", "")).replace("-", "–"), observed, value(r["model"])]
        if interval:
            row.append(f"{value(r['model_lo'])} to {value(r['model_hi'])}")
        if agents:
            row.append(value(r.get("agent_mean")))
        row += [format_signed_plain(r["residual"]), "yes" if r["met"] else "⚠ no"]
        table.add_row(*row)
    return render(table, "Residual: how far the model is from the figure, in the figure's "
                         "stated uncertainty (sd; 0 inside a range or above a lower bound).")


def format_signed_plain(x: float | None) -> str:
    """A residual with a sign and two decimals (``+0.65``, ``−2.20``, ``0.00``)."""
    from chainsim.chain.numbers import format_signed

    if x is None or x != x:
        return "–"
    return format_signed(float(x), decimals=2)


def posterior_table(table) -> str:
    """The posterior's diagnostics (``posterior_diagnostics.csv``), rendered."""
    out = _table(None, [("parameter", "left"), ("prior range", "right"),
                        ("posterior mean", "right"), ("posterior, 90 %", "right"),
                        ("R-hat", "right"), ("bulk ESS", "right"), ("status", "left")])

    def num(x):
        return "–" if x is None or x != x else format_given(float(x), digits=3)

    for r in table.to_dict("records"):
        r_hat = r.get("r_hat")
        mark = "" if r_hat is None or r_hat != r_hat or r_hat <= 1.1 else " ⚠"
        out.add_row(str(r["parameter"]), f"{num(r['prior_low'])} to {num(r['prior_high'])}",
                    num(r["posterior_mean"]),
                    f"{num(r['posterior_5'])} to {num(r['posterior_95'])}",
                    ("–" if r_hat is None or r_hat != r_hat
                     else format_number(r_hat, decimals=2)) + mark,
                    "–" if r.get("ess_bulk") != r.get("ess_bulk") else
                    format_number(r["ess_bulk"], decimals=0), str(r.get("status", "")))
    return render(out, "R-hat: agreement between the sampler's chains (near 1 = converged; "
                       "⚠ above 1.1). Bulk ESS: the effective number of independent draws.")


def calibration_summary(summary: dict, out) -> str:
    """The lines under ``chainsim calibrate``'s fit table: targets met, time, where."""
    return (f"{summary['targets_met']} of {summary['targets']} targets met; "
            f"{format_number(summary['seconds'], digits=3, most=1)} s, "
            f"{format_count(summary['twin_evaluations'], 'twin evaluation', 'twin evaluations')}"
            f"; results in {out}/")


def posterior_summary(doc: dict, out) -> str:
    """The lines under ``chainsim calibrate --posterior``'s diagnostics."""
    lines = [f"{format_count(doc['members'], 'member', 'members')}; max R-hat "
             f"{format_number(doc['max_r_hat'], decimals=2)}, min bulk ESS "
             f"{format_number(doc['min_ess_bulk'], decimals=0)}, acceptance "
             f"{format_percent(doc['acceptance'], decimals=0)}; "
             f"{format_number(doc['seconds'], digits=3, most=1)} s, "
             f"{format_count(doc['twin_evaluations'], 'twin evaluation', 'twin evaluations')}; "
             f"results in {out}/"]
    rw = (doc.get("settings") or {}).get("reweighting")
    if rw:
        m = rw.get("draws_per_candidate", 1)
        draws = "" if m == 1 else f", {m} draws of the after-chain unknowns each"
        lines.append(
            f"Reweighted to the joint posterior with the after-chain unknowns (each of "
            f"{format_count(rw['candidates'], 'chain point', 'chain points')} run with the "
            f"full twin{draws}): Pareto k "
            f"{'-' if rw['pareto_k'] is None else format_number(rw['pareto_k'], decimals=2)}"
            f"{'' if rw['reliable'] else ' (above 0.7: not reliable)'}, effective sample size "
            f"{format_number(rw['ess'], decimals=0)}; "
            f"{format_number(rw['unique_members'], decimals=0)} distinct members.")
    if "predictive_check" in doc:
        ppc = doc["predictive_check"]
        lines.append(
            f"Predictive check: {format_percent(ppc['share_meeting_all'], decimals=0)} of "
            f"{format_count(ppc['members'], 'member', 'members')} meet every figure within "
            f"{_figure(ppc['tolerance_sd'])} sd (agent model, "
            f"{format_count(ppc['reps_per_member'], 'replication', 'replications')} each); "
            f"{format_percent(ppc['share_meeting_all_observation'], decimals=0)} within 2 sd of "
            "the likelihood's observation model (the figure's sd, 5 % discrepancy, register "
            "noise)" + ("." if "share_meeting_all_jointly" not in ppc else
                        f"; {format_percent(ppc['share_meeting_all_jointly'], decimals=0)} by "
                        f"the joint criterion (each within "
                        f"{format_number(ppc['joint_tolerance_sd'], decimals=2)} sd, all "
                        "together 90 % for a model true to the data; goal 90 %)."))
    if "backtest" in doc:
        bt = doc["backtest"]
        lines.append(
            f"Back-test: fitted to {format_count(len(bt['fitted']), 'figure', 'figures')} up to "
            f"2017, {format_percent(bt['coverage_90'], decimals=0)} of the "
            f"{format_number(bt['held_out'], decimals=0)} others inside their 90 % predictive "
            f"intervals (importance sampling: effective sample size "
            f"{format_number(bt['ess'], decimals=0)} of "
            f"{format_number(bt['valid_draws'], decimals=0)} prior draws, Pareto k "
            f"{'-' if bt['pareto_k'] is None else format_number(bt['pareto_k'], decimals=2)}"
            f"{'' if bt['reliable'] else ', above 0.7: not reliable'}).")
    return "\n".join(lines)


def sweep_summary(name: str, points: int, reps: int, arms: int, runs: int, rows: int,
                  out) -> str:
    """The line ``chainsim sweep`` prints: the design's size and where the results are."""
    return (f"Sweep {name}: {format_count(points, 'point', 'points')} × "
            f"{format_count(reps, 'replication', 'replications')} × "
            f"{format_count(arms, 'scenario', 'scenarios')} = "
            f"{format_count(runs, 'run', 'runs')} ({format_count(rows, 'row', 'rows')})\n"
            f"results written to {out}/results.parquet")

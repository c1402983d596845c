"""Chart and table builders of the dashboard's views (pure functions, no UI).

Each builder takes model output (a :class:`~chainsim.dashboard.projection.Projection`,
a :class:`~chainsim.dashboard.live.LiveRun` or :class:`~chainsim.dashboard.bands.Bands`)
and the language, and returns an SVG string or table rows. Counts shown beside
the source's figures go through :func:`chainsim.dashboard.i18n.count_label`
(``<10`` below 10).
"""

from __future__ import annotations

import math
import re
from functools import partial

from chainsim import chain
from chainsim.analysis import flows
from chainsim.analysis.targets import Target
from chainsim.chain import numbers
from chainsim.chain.spec import Stage
from chainsim.dashboard.bands import Bands
from chainsim.dashboard.i18n import count_label, num, pct, signed, t
from chainsim.dashboard.live import AGENT_VIEW_STAGES, CHAIN_STAGES, LiveRun, OffenderHistory
from chainsim.dashboard.projection import Projection
from chainsim.dashboard.svg import (
    PALETTE,
    SOURCE_COLOR,
    BarGroup,
    Line,
    agent_grid,
    bar_chart,
    line_chart,
)

FUNNEL: tuple[str, ...] = chain.funnel_metrics()
"""Funnel stages (metrics of :mod:`chainsim.analysis.flows`), in chain order (the chain table)."""

FLOW_METRICS: tuple[str, ...] = (*FUNNEL, "technical_dismissals", "probation_refused")
"""Metrics offered in the flows-over-time chart."""

DELTA_PROXIES: tuple[str, ...] = (
    "recid_observed_general_2y", "recid_observed_specific_5y", "recid_true_2y",
    "recid_true_5y", "active_offender_months", "victim_months", "prison_months_served",
    "probation_caseload", "court_cases", "investigations",
)
"""Proxies in the comparison's delta read-out."""

PREDICT_PROXIES: tuple[str, ...] = (
    "recid_observed_general_2y", "recid_true_2y", "recid_observed_specific_5y",
    "active_offender_months", "probation_caseload", "court_cases",
)
"""Proxies offered in the predict-then-run exercise."""

STAGE_COLORS: dict[Stage, str] = {Stage[s.name.upper()]: s.color for s in chain.STAGES}
"""Each stage's colour (declared in the chain table)."""


def is_share(proxy: str) -> bool:
    """Whether a proxy is a share (shown in %)."""
    return proxy.startswith("recid_")


def proxy_value(proxy: str, value: float | None) -> float | None:
    """A proxy in display units (shares in %)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return 100.0 * value if is_share(proxy) else float(value)


def fmt_value(value: float | None, digits: int = 1, lang: str = "en") -> str:
    """A number for display in the reader's language ("–" when missing)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return num(value, lang, decimals=digits)


def axis_format(lang: str):
    """Tick labels of a chart's value axis in the reader's language."""
    return partial(_tick, lang=lang)


def _tick(value: float, lang: str) -> str:
    return num(value, lang, digits=3, most=2)


def year_format(value: float) -> str:
    """A year on a time axis (no thousands separator: ``2015``)."""
    return f"{value:.0f}"


def proxy_text(proxy: str, value: float | None, lang: str) -> str:
    """A proxy's level with its unit: ``47.9 %`` for shares, ``34,165.8`` for counts."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if is_share(proxy):
        return pct(value, lang, decimals=1)
    return num(value, lang, decimals=1 if abs(value) < 1000 else 0)


def proxy_change(proxy: str, value: float | None, lang: str) -> str:
    """A change of a proxy with its unit: points for shares (``−0.4 pp``), else signed."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if is_share(proxy):
        return numbers.format_points(value, lang, decimals=1)
    return signed(value, lang, decimals=1 if abs(value) < 1000 else 0)


# --------------------------------------------------------------------------- chain


def later_years(start_year: int, end_year: int) -> tuple[int, int]:
    """The later window shown beside 2015-2019: five years from two years after the levers."""
    first = min(start_year + 2, end_year)
    return first, min(first + 4, end_year)


def _source_value(target: Target | None, lang: str = "en") -> tuple[float, str]:
    if target is None:
        return float("nan"), "–"
    if target.kind == "range":
        return ((target.low + target.high) / 2,
                f"{num(target.low, lang)}–{num(target.high, lang)}")
    if target.kind == "lower_bound":
        return float(target.value), f">{num(target.value, lang)}"
    return float(target.value), num(target.value, lang)


def window_targets(targets: dict[str, Target]) -> dict[str, Target]:
    """The source's all-forms 2015-2019 figures by metric."""
    return {tg.metric: tg for tg in targets.values()
            if tg.scope == "window_mean" and tg.form is None}


def funnel_svg(base: Projection, current: Projection, targets: dict[str, Target],
               later: tuple[int, int], lang: str) -> str:
    """The chain as a funnel: source, model 2015-2019, baseline and levers later on."""
    by_metric = window_targets(targets)
    source = [_source_value(by_metric.get(m), lang) for m in FUNNEL]
    years = f"{later[0]}-{later[1]}"
    base_later = base.years_mean(*later)
    cur_later = current.years_mean(*later)

    def group(name: str, values: list[float], color: str) -> BarGroup:
        return BarGroup(name, values, [count_label(v, lang=lang) for v in values], color)

    groups = [
        BarGroup(t("source", lang), [v for v, _ in source], [s for _, s in source],
                 SOURCE_COLOR),
        group(t("model_window", lang), [base.window[m] for m in FUNNEL], PALETTE[0]),
        group(t("baseline_later", lang, years=years), [base_later[m] for m in FUNNEL],
              "#8C8C8C"),
        group(t("current_later", lang, years=years), [cur_later[m] for m in FUNNEL],
              PALETTE[2]),
    ]
    return bar_chart([t(m, lang) for m in FUNNEL], groups, title=t("funnel_title", lang),
                     y_label=t("offenders", lang) + " " + t("per_year", lang),
                     y_format=axis_format(lang))


def source_rows(base: Projection, targets: dict[str, Target], lang: str) -> list[list[str]]:
    """Source figure beside the model's 2015-2019 value, counts below 10 as ``<10``."""
    rows = []
    for tg in targets.values():
        if tg.scope != "window_mean" or tg.metric not in flows.COUNT_METRICS:
            continue
        if tg.form is None:
            label, model = t(tg.metric, lang), base.window.get(tg.metric)
        elif tg.form == "labour":
            label, model = t(f"labour_{tg.metric}", lang), base.labour_window.get(tg.metric)
        else:
            continue
        rows.append([label, _source_value(tg, lang)[1], count_label(model, lang=lang)])
    return rows


# ----------------------------------------------------------------------- over time


def stages_svg(live: LiveRun, lang: str, every: int = 1) -> str:
    """Offenders per chain stage over the months simulated so far (live run)."""
    counts = live.counts[::every]
    months = live.months[::every]
    x = (months / 12.0).tolist()
    lines = [Line(t(f"stage_{stage.name.lower()}", lang), x, counts[:, stage].tolist(),
                  STAGE_COLORS[stage], width=1.6) for stage in CHAIN_STAGES]
    return line_chart(lines, title=t("stages_title", lang), y_label=t("offenders", lang),
                      x_marker=live.month / 12.0, x_format=year_format,
                      y_format=axis_format(lang), markers=_changes(live))


def _changes(live: LiveRun) -> list[float]:
    """Where the live run went on with other levers (years, for the chart's markers)."""
    return [m / 12.0 for m in getattr(live, "changes", ())]


def live_yearly(live: LiveRun) -> dict[int, dict[str, float]]:
    """Flows per full or partial year of the live run so far."""
    records = live.model.records.to_frame()
    years = range(int(live.months[0] // 12), int(live.month // 12) + 1)
    table = flows.annual_metrics(records, years)
    return {int(y): row.to_dict() for y, row in table.iterrows()}


def flows_svg(metric: str, base: Projection, current: Projection, live: LiveRun | None,
              lang: str) -> str:
    """Flows per year of one metric: baseline and levers projections, the live run so far."""
    years = base.yearly.index.to_numpy(dtype=float)
    lines = [
        Line(t("baseline", lang), years.tolist(), base.yearly[metric].tolist(), "#8C8C8C",
             dash="5 3"),
        Line(t("current", lang), current.yearly.index.to_numpy(dtype=float).tolist(),
             current.yearly[metric].tolist(), PALETTE[2]),
    ]
    marker = None
    if live is not None:
        so_far = live_yearly(live)
        done = [y for y in so_far if (y + 1) * 12 - 1 <= live.month]
        lines.append(Line(t("live", lang), [float(y) for y in done],
                          [so_far[y][metric] for y in done], PALETTE[0], width=3))
        marker = live.month / 12.0
    return line_chart(lines, title=t("flows_title", lang, metric=t(metric, lang)),
                      y_label=t("offenders", lang) + " " + t("per_year", lang),
                      x_marker=marker, x_format=year_format, y_format=axis_format(lang))


# ------------------------------------------------------------------------ recidivism


def recidivism_svg(base: Projection, current: Projection, lang: str) -> str:
    """Cumulative recidivism by years since release or sanction, per kind, both arms."""
    lines = []
    for i, kind in enumerate(("observed_general", "observed_specific", "true")):
        color = PALETTE[(0, 1, 3)[i]]
        for proj, dash, arm in ((base, "5 3", "baseline"), (current, None, "current")):
            curve = proj.survival[kind]
            x = (curve["month"] / 12.0).tolist()
            y = (100.0 * (1.0 - curve["survival"])).tolist()
            lines.append(Line(f"{t(kind, lang)} — {t(arm, lang)}", x, y, color, dash=dash))
    start = f"{base.period[0] // 12}"
    legend = [(t(kind, lang), PALETTE[(0, 1, 3)[i]], None)
              for i, kind in enumerate(("observed_general", "observed_specific", "true"))]
    legend += [(t("baseline", lang), "#555", "5 3"), (t("current", lang), "#555", None)]
    return line_chart(lines, title=t("recid_title", lang, start=start), legend=legend,
                      x_label=t("years_since", lang), y_label="%", y_max=100.0,
                      height=340, y_format=axis_format(lang), x_format=axis_format(lang))


def recidivism_rows(base: Projection, current: Projection, lang: str) -> list[list[str]]:
    """2-, 5- and 7-year prevalence per kind, baseline and levers (single run)."""
    rows = []
    for kind in ("observed_general", "observed_specific", "true"):
        for years in (2, 5, 7):
            key = f"{kind}_{years}y"
            rows.append([t("after_years", lang, kind=t(kind, lang), n=years),
                         fmt_value(proxy_value("recid_", base.recidivism[key]), lang=lang),
                         fmt_value(proxy_value("recid_", current.recidivism[key]), lang=lang)])
    return rows


# -------------------------------------------------------------------------- agents


def agents_svg(live: LiveRun, selected: int | None, lang: str, per_stage: int = 60) -> str:
    """Offenders per stage now as clickable dots (at most ``per_stage`` per stage)."""
    shown = live.agents_by_stage(limit=0)
    columns = []
    for stage in AGENT_VIEW_STAGES:
        ids = shown[stage]
        columns.append((t(f"stage_{stage.name.lower()}", lang), ids[:per_stage], len(ids),
                        STAGE_COLORS[stage], stage.name.lower()))
    return agent_grid(columns, title=t("agents_title", lang), selected=selected,
                      more_label=t("more", lang, n="{n}"), count_format=axis_format(lang))


def history_rows(history: OffenderHistory, lang: str) -> list[list[str]]:
    """An offender's life history as table rows: date, event, stage, detail."""
    rows = []
    for r in history.rows:
        detail = ""
        if r.value is not None:
            key = {"prison": "sentence_months", "released": "served_months",
                   "probation_start": "supervision_months",
                   "probation_refused": "supervision_refused"}.get(r.event)
            if key:
                detail = t(key, lang, n=num(r.value, lang, decimals=0))
        if r.probation and not detail:
            detail = t("under_supervision", lang)
        rows.append([r.date, t(f"event_{r.event}", lang), t(f"stage_{r.stage}", lang),
                     str(r.age), detail])
    return rows


def history_heading(history: OffenderHistory, lang: str) -> str:
    """The life history's heading: the offender, form, sex and age group in words."""
    return (f"{t('history_title', lang, id=history.offender_id)} — "
            f"{t('form', lang)}: {t(f'form_{history.form}', lang)}, "
            f"{t('sex', lang)}: {t(f'sex_{history.sex}', lang)}, "
            f"{t('age_group', lang)}: {t(f'age_{history.age_group}', lang)}")


# ------------------------------------------------------------------------- compare


def bands_svg(bands: Bands, metric: str, lang: str) -> str:
    """A chain metric per year: mean and 90 % band over replications, both arms."""
    base = bands.yearly_band("baseline", metric)
    cur = bands.yearly_band("current", metric)
    lines = [
        Line(t("baseline", lang), base["year"].astype(float).tolist(), base["mean"].tolist(),
             "#8C8C8C", dash="5 3", lo=base["lo"].tolist(), hi=base["hi"].tolist()),
        Line(t("current", lang), cur["year"].astype(float).tolist(), cur["mean"].tolist(),
             PALETTE[2], lo=cur["lo"].tolist(), hi=cur["hi"].tolist()),
    ]
    return line_chart(lines, title=t("bands_title", lang, metric=t(metric, lang)),
                      y_label=t("offenders", lang) + " " + t("per_year", lang),
                      x_marker=bands.period[0] / 12.0, x_format=year_format,
                      y_format=axis_format(lang))


def _interval(proxy: str, lo: float | None, hi: float | None, lang: str = "en") -> str:
    """``lo to hi`` of a change, in the change's unit ("–" when missing)."""
    if lo is None or hi is None:
        return "–"
    return f"{proxy_change(proxy, lo, lang)} … {proxy_change(proxy, hi, lang)}"


def delta_header(bands: Bands, lang: str) -> list[str]:
    """The delta table's columns: with parameter uncertainty also the effect's spread."""
    header = [t("proxy", lang), t("baseline", lang), t("current", lang),
              t("difference", lang) + " (" + t("current", lang) + " − " + t("baseline", lang)
              + ")", t("ci", lang)]
    return [*header, t("prediction", lang)] if bands.uncertainty else header


def delta_rows(bands: Bands, lang: str) -> list[list[str]]:
    """Proxy, baseline level, levers level, difference and its 95 % CI.

    With parameter uncertainty a last column gives the 90 % interval of the effect over
    the posterior members (:meth:`chainsim.dashboard.bands.Bands.effects`, the CLI's and
    the report's ``prediction``); :func:`prediction_note` says in words what it is.
    """
    deltas = bands.deltas(DELTA_PROXIES)
    effects = bands.effects(DELTA_PROXIES)
    rows = []
    for proxy in DELTA_PROXIES:
        d = deltas[proxy]
        base = bands.level("baseline", proxy)["mean"]
        cur = bands.level("current", proxy)["mean"]
        ci = _interval(proxy, d["lo"], d["hi"], lang)
        row = [t(proxy, lang), proxy_text(proxy, base, lang), proxy_text(proxy, cur, lang),
               proxy_change(proxy, d["mean"], lang), ci]
        if effects is not None:
            spread = effects[proxy]["prediction"] or [None, None]
            row.append(_interval(proxy, *spread, lang))
        rows.append(row)
    return rows


def prediction_note(bands: Bands, lang: str) -> str | None:
    """One plain line on which interval the last column shows (with uncertainty only)."""
    return t("prediction_note", lang) if bands.uncertainty else None


def parse_guesses(text: str, lang: str = "en") -> tuple[list[float], list[str]]:
    """Numbers typed by the room, read in the reader's language.

    Guesses are separated by semicolons, spaces or a comma followed by a space; each
    is read with :func:`chainsim.chain.numbers.parse_number`, so in Dutch ``34.000`` is
    thirty-four thousand and ``30,5`` thirty and a half, in English ``34,000`` is
    thirty-four thousand. A trailing ``%`` is ignored.

    Returns:
        The numbers, and the pieces that are not numbers (to be named, not plotted).
    """
    good, bad = [], []
    for piece in re.split(r"[;\s]+|,(?=\s)|,$", text):
        piece = piece.strip().rstrip("%").strip()
        if not piece:
            continue
        try:
            good.append(numbers.parse_number(piece, lang if lang in ("en", "nl") else "en"))
        except ValueError:
            bad.append(piece)
    return good, bad


def guess_example(proxy: str, lang: str) -> str:
    """An example of how to type guesses for ``proxy`` in ``lang``."""
    values = (25.5, 30.0) if is_share(proxy) else (34000.0, 36500.0)
    return "; ".join(num(v, lang, decimals=1 if v < 100 else 0) for v in values)


# ------------------------------------------------------------------------ workshop


def _parameter_value(parameter: str, operation: str, value: float, lang: str) -> str:
    kinds = chain.spec.PARAMETERS
    if operation != "multiply" and parameter in kinds and kinds[parameter].kind in (
            "probability", "hazard"):
        return pct(value, lang, decimals=0 if value >= 0.1 else 1)
    if parameter == "probation_capacity" and operation == "set" and value <= 0:
        return t("no_limit", lang)
    return num(value, lang)


def describe_intervention(iv, lang: str) -> str:
    """An intervention in words: what changes, by how much, from when, for whom."""
    what = t(f"param_{iv.parameter}", lang)
    text = t(f"iv_{iv.operation}", lang, what=what,
             value=_parameter_value(iv.parameter, iv.operation, iv.value, lang),
             start=iv.start)
    extra = []
    if iv.low is not None and iv.high is not None:
        extra.append(t("iv_range", lang,
                       lo=_parameter_value(iv.parameter, iv.operation, iv.low, lang),
                       hi=_parameter_value(iv.parameter, iv.operation, iv.high, lang)))
    if iv.ramp_months:
        extra.append(t("iv_ramp", lang, n=iv.ramp_months))
    if iv.end:
        extra.append(t("iv_until", lang, end=iv.end))
    target = iv.target
    if target is not None:
        who = [t(f"form_{f}", lang) for f in target.form or ()]
        who += [t(f"age_{a}", lang) for a in target.age_group or ()]
        who += [t(f"sex_{x}", lang) for x in target.sex or ()]
        if target.probation:
            who.append(t(f"target_{target.probation}", lang))
        if who:
            extra.append(t("iv_only", lang, who=", ".join(who)))
    return text + (f" ({'; '.join(extra)})" if extra else "")


def scenario_description(scenario, lang: str) -> str:
    """A scenario's description in the reader's language (English if no Dutch is given)."""
    meta = scenario.scenario
    return (meta.description_nl or meta.description) if lang == "nl" else meta.description

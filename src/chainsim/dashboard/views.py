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

from chainsim import chain
from chainsim.analysis import flows
from chainsim.analysis.targets import Target
from chainsim.chain.spec import Stage
from chainsim.dashboard.bands import Bands
from chainsim.dashboard.i18n import count_label, t
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


def fmt_value(value: float | None, digits: int = 1) -> str:
    """A number for display ("–" when missing)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.{digits}f}"


# --------------------------------------------------------------------------- chain


def later_years(start_year: int, end_year: int) -> tuple[int, int]:
    """The later window shown beside 2015-2019: five years from two years after the levers."""
    first = min(start_year + 2, end_year)
    return first, min(first + 4, end_year)


def _source_value(target: Target | None) -> tuple[float, str]:
    if target is None:
        return float("nan"), "–"
    if target.kind == "range":
        return (target.low + target.high) / 2, f"{target.low:g}–{target.high:g}"
    if target.kind == "lower_bound":
        return float(target.value), f">{target.value:g}"
    return float(target.value), f"{target.value:g}"


def window_targets(targets: dict[str, Target]) -> dict[str, Target]:
    """The source's all-forms 2015-2019 figures by metric."""
    return {tg.metric: tg for tg in targets.values()
            if tg.scope == "window_mean" and tg.form is None}


def funnel_svg(base: Projection, current: Projection, targets: dict[str, Target],
               later: tuple[int, int], lang: str) -> str:
    """The chain as a funnel: source, model 2015-2019, baseline and levers later on."""
    by_metric = window_targets(targets)
    source = [_source_value(by_metric.get(m)) for m in FUNNEL]
    years = f"{later[0]}-{later[1]}"
    base_later = base.years_mean(*later)
    cur_later = current.years_mean(*later)

    def group(name: str, values: list[float], color: str) -> BarGroup:
        return BarGroup(name, values, [count_label(v) for v in values], color)

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
                     y_label=t("per_year", lang))


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
        rows.append([label, _source_value(tg)[1], count_label(model)])
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
                      x_marker=live.month / 12.0, x_format=lambda v: f"{v:.0f}")


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
                      y_label=t("per_year", lang), x_marker=marker,
                      x_format=lambda v: f"{v:.0f}")


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
    return line_chart(lines, title=t("recid_title", lang, start=start),
                      x_label=t("years_since", lang), y_label="%", y_max=100.0,
                      height=340)


def recidivism_rows(base: Projection, current: Projection, lang: str) -> list[list[str]]:
    """2-, 5- and 7-year prevalence per kind, baseline and levers (single run)."""
    rows = []
    for kind in ("observed_general", "observed_specific", "true"):
        for years in (2, 5, 7):
            key = f"{kind}_{years}y"
            rows.append([f"{t(kind, lang)}, {years}",
                         fmt_value(proxy_value("recid_", base.recidivism[key])),
                         fmt_value(proxy_value("recid_", current.recidivism[key]))])
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
                      more_label=t("more", lang, n="{n}"))


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
                detail = t(key, lang, n=f"{r.value:.0f}")
        if r.probation and not detail:
            detail = t("probation", lang)
        rows.append([r.date, r.event.replace("_", " "), t(f"stage_{r.stage}", lang)
                     if f"stage_{r.stage}" in _STAGE_KEYS else r.stage, str(r.age), detail])
    return rows


_STAGE_KEYS = {f"stage_{s.name.lower()}" for s in AGENT_VIEW_STAGES}


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
                      y_label=t("per_year", lang), x_marker=bands.period[0] / 12.0,
                      x_format=lambda v: f"{v:.0f}")


def _interval(proxy: str, lo: float | None, hi: float | None) -> str:
    """``lo … hi`` in display units ("–" when missing)."""
    if lo is None or hi is None:
        return "–"
    return f"{fmt_value(proxy_value(proxy, lo))} … {fmt_value(proxy_value(proxy, hi))}"


def delta_header(bands: Bands, lang: str) -> list[str]:
    """The delta table's columns: with parameter uncertainty also the effect's spread."""
    header = [t("proxy", lang), t("baseline", lang), t("current", lang), t("difference", lang),
              t("ci", lang)]
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
        ci = _interval(proxy, d["lo"], d["hi"])
        mean = proxy_value(proxy, d["mean"])
        sign = "+" if mean is not None and mean > 0 else ""
        row = [t(proxy, lang), fmt_value(proxy_value(proxy, base)),
               fmt_value(proxy_value(proxy, cur)), sign + fmt_value(mean), ci]
        if effects is not None:
            spread = effects[proxy]["prediction"] or [None, None]
            row.append(_interval(proxy, *spread))
        rows.append(row)
    return rows


def prediction_note(bands: Bands, lang: str) -> str | None:
    """One plain line on which interval the last column shows (with uncertainty only)."""
    return t("prediction_note", lang) if bands.uncertainty else None


def parse_guesses(text: str) -> tuple[list[float], list[str]]:
    """Numbers from a list separated by semicolons, spaces or ", ".

    A comma between digits is a decimal comma (Dutch), so ``"25, 30,5; 22"`` gives
    ``[25.0, 30.5, 22.0]``; a trailing ``%`` is ignored.

    Returns:
        The numbers and the pieces that were not numbers.
    """
    good, bad = [], []
    for piece in re.split(r"[;\s]+|,(?=\s)|,$", text):
        piece = piece.strip().rstrip("%").strip()
        if not piece:
            continue
        try:
            value = float(piece.replace(",", "."))
        except ValueError:
            bad.append(piece)
            continue
        if math.isfinite(value):
            good.append(value)
        else:
            bad.append(piece)
    return good, bad

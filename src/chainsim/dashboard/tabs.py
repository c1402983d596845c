"""The six views: chain, over time, recidivism, offenders, compare, workshop."""

from __future__ import annotations

from html import escape

import solara

from chainsim.analysis.targets import load_targets
from chainsim.chain.months import format_month
from chainsim.dashboard import views
from chainsim.dashboard.controls import preset_name
from chainsim.dashboard.html import table
from chainsim.dashboard.i18n import num, t
from chainsim.dashboard.levers import (
    Levers,
    Settings,
    load_preset,
    shipped_presets,
)
from chainsim.dashboard.state import RUN_COUNT, DashboardState
from chainsim.dashboard.svg import guess_strip
from chainsim.dashboard.widgets import ClickableSvg
from chainsim.experiments.compare import monte_carlo_repeats

NOTE = {"font-size": "13px", "color": "#555"}


def _svg(svg: str, css_class: str) -> None:
    solara.HTML(tag="div", unsafe_innerHTML=svg, classes=[css_class, "chart"])


def show_band(state: DashboardState, reps: int = 20) -> None:
    """Open Compare and run it with ``reps`` runs per side (the band a single run lacks)."""
    state.reps.set(reps)
    state.view.set("compare")
    if state.progress.value[1] == 0:
        state.compare_request.set(state.compare_request.value + 1)


@solara.component
def OneRunNote(state: DashboardState):
    """Says a view shows one run, and offers the range over many runs."""
    lang = state.lang.value
    with solara.Row(classes=["one-run"], style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.Text(t("one_run", lang, seed=state.seed.value), style=NOTE,
                    classes=["one-run-text"])
        solara.Button(t("show_band", lang), text=True, color="primary",
                      classes=["btn-show-band"], on_click=lambda: show_band(state))


@solara.component
def MetricToggle(metric: solara.Reactive[str], lang: str, css_class: str):
    """Buttons choosing a chain metric (labels in the chosen language)."""
    labels = {t(name, lang): name for name in views.FLOW_METRICS}
    solara.Select(t("metric", lang), value=t(metric.value, lang), values=list(labels),
                  on_value=lambda label: metric.set(labels[label]), classes=[css_class],
                  style={"max-width": "360px"})


@solara.component
def ChainView(state: DashboardState):
    """The funnel beside the source, and the source's figures in a table."""
    lang = state.lang.value
    targets = solara.use_memo(load_targets, [])
    end_year = state.period[1] // 12
    later = views.later_years(state.settings.value.levers.start_year, end_year)
    _svg(views.funnel_svg(state.base_projection, state.projection, targets, later, lang),
         "chart-funnel")
    OneRunNote(state)
    solara.HTML(tag="div", unsafe_innerHTML=table(
        ["", t("source_column", lang), t("model_column", lang)],
        views.source_rows(state.base_projection, targets, lang), "source-table"))
    solara.Text(t("small_counts", lang), style=NOTE)
    solara.Text(t("projection_note", lang), style=NOTE)


@solara.component
def TimeView(state: DashboardState):
    """Stage counts of the live run and flows per year."""
    lang = state.lang.value
    _ = state.tick.value
    live = state.live
    metric = state.flow_metric.value
    with live.lock:
        stages = views.stages_svg(live, lang)
        # the live line shows completed years only: redraw when a year completes
        flows = solara.use_memo(
            lambda: views.flows_svg(metric, state.base_projection, state.projection, live,
                                    lang),
            [metric, lang, id(live), live.month // 12, id(state.projection)])
    _svg(stages, "chart-stages")
    MetricToggle(state.flow_metric, lang, "flow-metric")
    _svg(flows, "chart-flows")
    OneRunNote(state)


@solara.component
def RecidivismView(state: DashboardState):
    """Recidivism curves and the 2-, 5- and 7-year proxies, baseline and levers."""
    lang = state.lang.value
    _svg(views.recidivism_svg(state.base_projection, state.projection, lang), "chart-recid")
    OneRunNote(state)
    solara.HTML(tag="div", unsafe_innerHTML=table(
        ["", t("share_pct", lang, arm=t("baseline", lang)),
         t("share_pct", lang, arm=t("current", lang))],
        views.recidivism_rows(state.base_projection, state.projection, lang), "recid-table"))
    solara.Text(t("recid_note", lang), style=NOTE)
    solara.Text(t("window_note", lang), style=NOTE)
    solara.Text(t("curve_note", lang), style=NOTE)


@solara.component
def AgentView(state: DashboardState):
    """Offenders by stage (clickable) and the selected one's life history."""
    lang = state.lang.value
    _ = state.tick.value
    live = state.live
    selected = state.selected.value

    def select(value: str) -> None:
        try:
            state.selected.set(int(value))
        except ValueError:
            return

    with live.lock:
        svg = views.agents_svg(live, selected, lang)
        history = live.history(selected) if selected is not None else None
    ClickableSvg(svg=svg, on_select=select)
    if history is None:
        solara.Text(t("no_selection", lang), style=NOTE)
        return
    with solara.Div(classes=["agent-history"]):
        solara.HTML(tag="div", unsafe_innerHTML="<b>" + escape(views.history_heading(
            history, lang)) + "</b>", classes=["history-heading"])
        solara.HTML(tag="div", unsafe_innerHTML=table(
            [t("date", lang), t("event", lang), t("stage", lang), t("age", lang),
             t("detail", lang)],
            views.history_rows(history, lang), "history-table"))


@solara.component
def CompareView(state: DashboardState):
    """Baseline and levers with replication bands and paired deltas."""
    lang = state.lang.value
    bands = state.bands.value
    running = state.progress.value[1] != 0
    with solara.Row(classes=["compare-controls"], style={"flex-wrap": "wrap",
                                                         "align-items": "center"}):
        with solara.Div(classes=["reps-slider"], style={"min-width": "260px", "flex": "1 1 260px"}):
            solara.Text(t("reps", lang, n=state.reps.value), style={"font-size": "13px"},
                        classes=["label-reps"])
            solara.SliderInt("", value=state.reps.value, min=5, max=50,
                             on_value=state.reps.set, thumb_label=False)
        solara.Checkbox(label=t("uncertainty", lang), value=state.uncertainty.value,
                        on_value=state.uncertainty.set)
        solara.Button(t("run_compare", lang), color="primary", disabled=running,
                      classes=["btn-compare"],
                      on_click=lambda: state.compare_request.set(
                          state.compare_request.value + 1))
    if running:
        ProgressLine(state)
    if state.error.value:
        solara.Error(t("error", lang, msg=state.error.value))
    if bands is None:
        solara.Text(t("not_run", lang), style=NOTE)
        return
    if bands.current_hash != state.current.config_hash():
        solara.Warning(t("stale", lang))
    MetricToggle(state.band_metric, lang, "band-metric")
    _svg(views.bands_svg(bands, state.band_metric.value, lang), "chart-bands")
    period = " – ".join(format_month(m) for m in bands.period)
    solara.HTML(tag="p", unsafe_innerHTML="<b>" + escape(t("deltas_title", lang, period=period))
                + "</b>", classes=["deltas-title"])
    solara.Text(t("uncertainty_note" if bands.uncertainty else "fixed_note", lang), style=NOTE)
    solara.Text(t("ci_note", lang), style=NOTE, classes=["ci-note"])
    if bands.caveat:
        solara.Warning(t("provisional", lang) + " " + t("provisional_detail", lang)
                       + (" (" + bands.caveat + ")" if lang == "en" else ""))
    solara.HTML(tag="div", unsafe_innerHTML=table(
        views.delta_header(bands, lang), views.delta_rows(bands, lang), "delta-table"))
    note = views.prediction_note(bands, lang)
    if note:
        solara.Text(note, style=NOTE, classes=["prediction-note"])
    solara.Text(t("computed_in", lang, s=num(bands.seconds, lang, decimals=1), reps=bands.reps),
                style=NOTE, classes=["computed-in"])


@solara.component
def ProgressLine(state: DashboardState):
    """A running comparison's progress, counted in runs (never "0 of 1")."""
    lang = state.lang.value
    done, total = RUN_COUNT.value
    if total <= 0:
        solara.ProgressLinear(value=True)
        solara.Text(t("running_start", lang), classes=["compare-progress"])
        return
    runs = state.reps.value + (monte_carlo_repeats(state.reps.value)
                               if state.uncertainty.value else 0)
    what = t("running_levers" if total <= runs else "running_both", lang)
    solara.ProgressLinear(value=100 * done / max(total, 1))
    solara.Text(t("running", lang, done=max(done, 1) if done < total else done, total=total,
                  what=what), classes=["compare-progress"])


@solara.component
def WorkshopView(state: DashboardState):
    """Facilitator presets and the predict-then-run exercise."""
    lang = state.lang.value
    settings = state.settings.value

    def load(label: str) -> None:
        name = presets[label]
        if name == state.settings.value.preset:
            return
        changed = state.settings.value.levers != Levers()
        state.settings.set(Settings(name, Levers(), state.settings.value.unknowns))
        state.revealed.set(False)
        if changed:
            state.notice.set(("preset_loaded", name))

    presets = {preset_name(name, lang): name for name in shipped_presets()}
    solara.Select(t("preset", lang), value=preset_name(settings.preset, lang),
                  values=list(presets), on_value=load, classes=["preset-select"])
    preset = load_preset(settings.preset)
    solara.HTML(tag="p", unsafe_innerHTML="<i>" + escape(views.scenario_description(
        preset, lang)) + "</i>", classes=["preset-description"])
    items = [views.describe_intervention(iv, lang) for iv in preset.interventions]
    solara.HTML(tag="div", unsafe_innerHTML=(
        f"<b>{escape(t('preset_interventions', lang))}:</b> "
        + (("<ul>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>") if items
           else escape(t("no_interventions", lang)))), classes=["preset-interventions"])
    solara.HTML(tag="h3", unsafe_innerHTML=escape(t("predict_title", lang)))
    solara.Text(t("predict_help", lang), style=NOTE)
    labels = {t(name, lang): name for name in views.PREDICT_PROXIES}
    solara.Select(t("proxy", lang), value=t(state.predict_proxy.value, lang),
                  values=list(labels),
                  on_value=lambda label: state.predict_proxy.set(labels[label]))
    proxy = state.predict_proxy.value
    unit = t("unit_percent" if views.is_share(proxy) else "unit_number", lang)
    solara.InputText(t("guesses", lang, unit=unit, example=views.guess_example(proxy, lang)),
                     value=state.guesses.value, on_value=state.guesses.set,
                     continuous_update=True, classes=["guess-input"])

    def reveal() -> None:
        state.bands.set(None)  # never show a result computed for other settings
        state.revealed.set(True)
        state.compare_request.set(state.compare_request.value + 1)

    solara.Button(t("run_predict", lang), color="primary", on_click=reveal,
                  classes=["btn-reveal"])
    guesses, bad = views.parse_guesses(state.guesses.value, lang)
    if bad:
        solara.Warning(t("bad_guess", lang, text="; ".join(bad),
                         example=views.guess_example(proxy, lang)), classes=["bad-guess"])
    bands = state.bands.value
    if (not state.revealed.value or bands is None or state.progress.value[1] > 0
            or bands.current_hash != state.current.config_hash()):
        return
    level = bands.level("current", proxy)
    base_level = bands.level("baseline", proxy)
    if level["mean"] is None:
        return
    mean, lo, hi = (views.proxy_value(proxy, level[k]) for k in ("mean", "lo", "hi"))
    base_mean = views.proxy_value(proxy, base_level["mean"])
    solara.HTML(tag="p", unsafe_innerHTML="<b>" + escape(t(
        "result", lang, mean=views.fmt_value(mean, lang=lang),
        lo=views.fmt_value(lo, lang=lang), hi=views.fmt_value(hi, lang=lang),
        base=views.fmt_value(base_mean, lang=lang))) + "</b>", classes=["predict-result"])
    _svg(guess_strip(guesses, (mean, lo, hi), base_mean,
                     title=f"{t('guess_vs_result', lang)}: {t(proxy, lang)}",
                     labels=(t("guess", lang), t("current", lang), t("baseline", lang)),
                     fmt=views.axis_format(lang)),
         "chart-guesses")

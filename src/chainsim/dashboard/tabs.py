"""The six views: chain, over time, recidivism, offenders, compare, workshop."""

from __future__ import annotations

import solara

from chainsim.analysis.targets import load_targets
from chainsim.dashboard import views
from chainsim.dashboard.html import table
from chainsim.dashboard.i18n import t
from chainsim.dashboard.levers import (
    Levers,
    Settings,
    describe_period,
    load_preset,
    shipped_presets,
)
from chainsim.dashboard.state import DashboardState
from chainsim.dashboard.svg import guess_strip
from chainsim.dashboard.widgets import ClickableSvg

NOTE = {"font-size": "12px", "color": "#555"}


def _svg(svg: str, css_class: str) -> None:
    solara.HTML(tag="div", unsafe_innerHTML=svg, classes=[css_class])


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
    solara.HTML(tag="div", unsafe_innerHTML=table(
        ["", t("source", lang), t("model_window", lang)],
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


@solara.component
def RecidivismView(state: DashboardState):
    """Recidivism curves and the 2-, 5- and 7-year proxies, baseline and levers."""
    lang = state.lang.value
    _svg(views.recidivism_svg(state.base_projection, state.projection, lang), "chart-recid")
    solara.HTML(tag="div", unsafe_innerHTML=table(
        ["", t("baseline", lang) + " %", t("current", lang) + " %"],
        views.recidivism_rows(state.base_projection, state.projection, lang), "recid-table"))
    solara.Text(t("recid_note", lang), style=NOTE)


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
        solara.Markdown(f"**{t('history_title', lang, id=history.offender_id)}** — "
                        f"{t('form', lang)}: {history.form}, {t('sex', lang)}: {history.sex}, "
                        f"{t('age_group', lang)}: {history.age_group}")
        solara.HTML(tag="div", unsafe_innerHTML=table(
            [t("date", lang), t("event", lang), t("stage", lang), "age", t("detail", lang)],
            views.history_rows(history, lang), "history-table"))


@solara.component
def CompareView(state: DashboardState):
    """Baseline and levers with replication bands and paired deltas."""
    lang = state.lang.value
    bands = state.bands.value
    done, total = state.progress.value
    running = total > 0
    with solara.Row():
        with solara.Div(classes=["reps-slider"], style={"min-width": "260px"}):
            solara.SliderInt(t("reps", lang), value=state.reps.value, min=5, max=50,
                             on_value=state.reps.set)
        solara.Checkbox(label=t("uncertainty", lang), value=state.uncertainty.value,
                        on_value=state.uncertainty.set)
        solara.Button(t("run_compare", lang), color="primary", disabled=running,
                      classes=["btn-compare"],
                      on_click=lambda: state.compare_request.set(
                          state.compare_request.value + 1))
    if running:
        solara.ProgressLinear(value=100 * done / max(total, 1))
        solara.Text(t("running", lang, done=done, total=total), classes=["compare-progress"])
    if state.error.value:
        solara.Error(t("error", lang, msg=state.error.value))
    if bands is None:
        solara.Text(t("not_run", lang), style=NOTE)
        return
    if bands.current_hash != state.current.config_hash():
        solara.Warning(t("stale", lang))
    MetricToggle(state.band_metric, lang, "band-metric")
    _svg(views.bands_svg(bands, state.band_metric.value, lang), "chart-bands")
    solara.Markdown("**" + t("deltas_title", lang, period=describe_period(bands.period)) + "**")
    solara.Markdown(t("uncertainty_note" if bands.uncertainty else "fixed_note", lang))
    if bands.caveat:
        solara.Warning(t("provisional", lang) + " " + bands.caveat)
    solara.HTML(tag="div", unsafe_innerHTML=table(
        views.delta_header(bands, lang), views.delta_rows(bands, lang), "delta-table"))
    note = views.prediction_note(bands, lang)
    if note:
        solara.Text(note, style=NOTE, classes=["prediction-note"])
    solara.Text(t("computed_in", lang, s=bands.seconds, reps=bands.reps), style=NOTE)


@solara.component
def WorkshopView(state: DashboardState):
    """Facilitator presets and the predict-then-run exercise."""
    lang = state.lang.value
    settings = state.settings.value

    def load(name: str) -> None:
        state.settings.set(Settings(name, Levers(), state.settings.value.unknowns))
        state.revealed.set(False)

    solara.Select(t("preset", lang), value=settings.preset, values=shipped_presets(),
                  on_value=load)
    preset = load_preset(settings.preset)
    solara.Markdown(f"*{preset.scenario.description}*")
    names = [iv.name for iv in preset.interventions] or [t("no_interventions", lang)]
    solara.Markdown(f"**{t('preset_interventions', lang)}:** " + "; ".join(names))
    solara.Markdown(f"### {t('predict_title', lang)}")
    solara.Text(t("predict_help", lang), style=NOTE)
    labels = {t(name, lang): name for name in views.PREDICT_PROXIES}
    solara.Select(t("proxy", lang), value=t(state.predict_proxy.value, lang),
                  values=list(labels),
                  on_value=lambda label: state.predict_proxy.set(labels[label]))
    solara.InputText(t("guesses", lang), value=state.guesses.value,
                     on_value=state.guesses.set, continuous_update=True,
                     classes=["guess-input"])

    def reveal() -> None:
        state.bands.set(None)  # never show a result computed for other settings
        state.revealed.set(True)
        state.compare_request.set(state.compare_request.value + 1)

    solara.Button(t("run_predict", lang), color="primary", on_click=reveal,
                  classes=["btn-reveal"])
    guesses, bad = views.parse_guesses(state.guesses.value)
    if bad:
        solara.Warning(t("bad_guess", lang, text=", ".join(bad)))
    bands = state.bands.value
    if (not state.revealed.value or bands is None or state.progress.value[1] > 0
            or bands.current_hash != state.current.config_hash()):
        return
    proxy = state.predict_proxy.value
    level = bands.level("current", proxy)
    base_level = bands.level("baseline", proxy)
    if level["mean"] is None:
        return
    mean, lo, hi = (views.proxy_value(proxy, level[k]) for k in ("mean", "lo", "hi"))
    base_mean = views.proxy_value(proxy, base_level["mean"])
    solara.Markdown("**" + t("result", lang, mean=views.fmt_value(mean),
                               lo=views.fmt_value(lo), hi=views.fmt_value(hi),
                               base=views.fmt_value(base_mean)) + "**",
                    style={"font-size": "15px"})
    _svg(guess_strip(guesses, (mean, lo, hi), base_mean,
                     title=f"{t('guess_vs_result', lang)}: {t(proxy, lang)}",
                     labels=(t("guess", lang), t("current", lang), t("baseline", lang))),
         "chart-guesses")

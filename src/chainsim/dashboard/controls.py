"""The left-hand panel: run controls, levers and the unknowns."""

from __future__ import annotations

import solara

from chainsim.chain.months import format_month
from chainsim.dashboard.i18n import t
from chainsim.dashboard.levers import (
    LEVERS,
    SOURCE_PRISON_MONTHS,
    SOURCE_TECHNICAL_2019,
    Levers,
    load_preset,
    unknown_ranges,
)
from chainsim.dashboard.state import DashboardState

LABEL = {"font-size": "13px", "color": "#333", "margin-top": "4px"}


def places_text(value: float, lang: str) -> str:
    """A number of probation places (unit ``places``): ``0`` reads "no limit"."""
    if round(value) <= 0:
        return t("no_limit", lang)
    return f"{value:.0f} {t('places', lang)}"


def lever_label(key: str, value: float, neutral: dict[str, float], lang: str) -> str:
    """A lever's label with its value in readable units."""
    name = t(f"lever_{key}", lang)
    if key == "probation":
        text = f"{value:.0%} ({t('now', lang)} {neutral['probation']:.0%})"
    elif key == "places":
        text = (f"{places_text(value, lang)} "
                f"({t('now', lang)} {places_text(neutral['places'], lang)})")
    elif key == "prevention":
        text = f"{value:.0%} {t('fewer', lang)}"
    elif key == "capacity":
        text = f"{value:.0f} {t('per_year', lang)} ({t('now', lang)} {neutral['capacity']:.0f})"
    elif key == "evidence":
        text = (f"×{value:.2f} ≈ {SOURCE_TECHNICAL_2019 * value:.0%} "
                f"{t('of_decisions', lang)}")
    elif key == "sentence":
        text = f"×{value:.2f} ≈ {SOURCE_PRISON_MONTHS * value:.0f} {t('months', lang)}"
    else:
        text = f"×{value:.2f}"
    return f"{name}: {text}"


@solara.component
def RunControls(state: DashboardState):
    """Seed, reset, play/pause, step, speed and the live run's month."""
    lang = state.lang.value
    live = state.live
    _ = state.tick.value  # re-render when the live run advances

    def reset() -> None:
        state.playing.set(False)
        state.selected.set(None)
        state.reset_count.set(state.reset_count.value + 1)

    def toggle_play() -> None:
        state.playing.set(not state.playing.value)

    with solara.Card(t("live_run", lang), margin=0, classes=["run-controls"]):
        with solara.Row():
            solara.InputInt(t("seed", lang), value=state.seed.value,
                            on_value=lambda v: state.seed.set(max(0, int(v))),
                            classes=["seed-input"])
        with solara.Row():
            solara.Button(t("reset", lang), on_click=reset, classes=["btn-reset"])
            solara.Button(t("pause", lang) if state.playing.value else t("play", lang),
                          on_click=toggle_play, color="primary", classes=["btn-play"],
                          disabled=live is None or live.done)
            solara.Button(t("step", lang), on_click=lambda: state.step(),
                          classes=["btn-step"], disabled=live is None or live.done)
        solara.Button(t("skip_burn_in", lang), on_click=state.skip_burn_in, text=True,
                      classes=["btn-skip"],
                      disabled=live is None or live.month >= live.window_start)
        solara.SliderInt(t("speed", lang), value=state.speed.value, min=1, max=24,
                         on_value=state.speed.set)
        month = format_month(live.month) if live is not None else "–"
        solara.HTML(tag="div", unsafe_innerHTML=(
            f'<span class="live-month" data-month="{month}">{t("month", lang)}: '
            f"<b>{month}</b></span>"))


@solara.component
def LeverPanel(state: DashboardState):
    """The levers and the year they take effect."""
    lang = state.lang.value
    settings = state.settings.value
    levers = settings.levers
    neutral = state.neutral or {}

    def set_lever(key: str, value: float | int | None) -> None:
        current = state.settings.value
        new = current.levers.with_value(key, value)
        state.settings.set(type(current)(current.preset, new, current.unknowns))

    with solara.Card(t("levers", lang), margin=0, classes=["lever-panel"]):
        for spec in LEVERS:
            value = getattr(levers, spec.key)
            if value is None:
                value = neutral[spec.key]
            solara.Text(lever_label(spec.key, value, neutral, lang), style=LABEL,
                        classes=[f"label-{spec.key}"])
            with solara.Div(classes=[f"lever-{spec.key}"]):
                solara.SliderFloat("", value=value, min=spec.low, max=spec.high,
                                   step=spec.step, thumb_label=False,
                                   on_value=lambda v, k=spec.key: set_lever(k, float(v)))
        solara.Text(f"{t('start_year', lang)}: {levers.start_year}", style=LABEL)
        with solara.Div(classes=["lever-start-year"]):
            solara.SliderInt("", value=levers.start_year, min=2016, max=2030,
                             on_value=lambda v: set_lever("start_year", int(v)),
                             thumb_label=False)
        solara.Button(t("reset_levers", lang), text=True, classes=["btn-neutral"],
                      on_click=lambda: state.settings.set(
                          type(settings)(state.settings.value.preset, Levers(),
                                         state.settings.value.unknowns)))
        if state.scenario_error:
            solara.Error(t("error", lang, msg=state.scenario_error))


@solara.component
def UnknownsPanel(state: DashboardState):
    """The unknowns with their plausible ranges (an "advanced" panel)."""
    lang = state.lang.value
    settings = state.settings.value
    chosen = settings.unknown_values()
    ranges = unknown_ranges(load_preset("baseline.toml"))

    def set_unknown(name: str, value: float) -> None:
        state.settings.set(state.settings.value.with_unknown(name, value))

    opened = state.advanced.value
    with solara.Card(margin=0, classes=["unknowns-panel"]):
        solara.Button(("▾ " if opened else "▸ ") + t("advanced", lang), text=True,
                      classes=["btn-advanced"],
                      on_click=lambda: state.advanced.set(not state.advanced.value))
        if not opened:
            return
        solara.Text(t("advanced_help", lang), style={"font-size": "12px", "color": "#555"})
        for name, (central, low, high) in ranges.items():
            value = chosen.get(name, central)
            solara.Text(f"{name}: {value:.4g}  [{low:g} – {high:g}]", style=LABEL)
            with solara.Div(classes=[f"unknown-{name}"]):
                solara.SliderFloat("", value=value, min=low, max=high, step=(high - low) / 200,
                                   on_value=lambda v, n=name: set_unknown(n, float(v)),
                                   thumb_label=False)

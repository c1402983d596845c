"""The left-hand panel: run controls, levers and the unknowns; the status line over the views."""

from __future__ import annotations

import solara

from chainsim.chain.months import format_month
from chainsim.dashboard.i18n import has, num, pct, t, unknown_value
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
    return f"{num(value, lang, decimals=0)} {t('places', lang)}"


def lever_value(key: str, value: float, lang: str) -> str:
    """A lever's position in readable units (``80 %``, ``250 per year``, ``0.80 × now ≈ 33 %``)."""
    if key == "probation":
        return pct(value, lang)
    if key == "places":
        return places_text(value, lang)
    if key == "prevention":
        return f"{pct(value, lang)} {t('fewer', lang)}"
    if key == "capacity":
        return f"{num(value, lang, decimals=0)} {t('per_year', lang)}"
    factor = t("times_now", lang, factor=num(value, lang, decimals=2))
    if key == "evidence":
        return f"{factor} ≈ {pct(SOURCE_TECHNICAL_2019 * value, lang)} {t('of_decisions', lang)}"
    if key == "sentence":
        months = num(SOURCE_PRISON_MONTHS * value, lang, decimals=0)
        return f"{factor} ≈ {months} {t('months', lang)}"
    return factor


def lever_label(key: str, value: float, neutral: dict[str, float], lang: str) -> str:
    """A lever's label with its value in readable units, and the scenario's own value."""
    text = lever_value(key, value, lang)
    if key in ("probation", "places", "capacity") and key in neutral:
        text += f" ({t('was', lang, value=lever_value(key, neutral[key], lang))})"
    return f"{t(f'lever_{key}', lang)}: {text}"


def changed_levers(levers: Levers, neutral: dict[str, float]) -> list[str]:
    """Keys of the levers away from their neutral position."""
    out = []
    for spec in LEVERS:
        value = getattr(levers, spec.key)
        base = neutral.get(spec.key) if spec.key in ("probation", "places", "capacity") else (
            0.0 if spec.key == "prevention" else 1.0)
        if value is not None and base is not None and abs(value - base) > 1e-9:
            out.append(spec.key)
    return out


def preset_name(preset: str, lang: str) -> str:
    """A preset's name in words (its file name if the catalogue has none)."""
    stem = preset.removesuffix(".toml")
    return t(f"preset_{stem}", lang) if has(f"preset_{stem}") else stem


def status_text(state: DashboardState, lang: str) -> tuple[str, str]:
    """The status line: the scenario in use, and what the levers and unknowns change."""
    settings = state.settings.value
    levers = settings.levers
    scenario = f"{t('status_scenario', lang)}: {preset_name(settings.preset, lang)}"
    changed = changed_levers(levers, state.neutral or {})
    if changed:
        items = [f"{t(f'short_{k}', lang)} {lever_value(k, getattr(levers, k), lang)}"
                 for k in changed]
        detail = t("status_levers_changed", lang, year=levers.start_year) + " " + "; ".join(items)
    else:
        detail = t("status_levers_neutral", lang)
    if settings.unknowns:
        detail += " · " + t("status_unknowns", lang, n=len(settings.unknowns))
    return scenario, detail


def notice_text(notice: tuple, lang: str) -> str:
    """The last change worth saying (the live run went on or restarted, a preset loaded)."""
    if not notice:
        return ""
    key, arg = notice
    if key == "live_continued":
        return t(key, lang, months=format_month(int(arg)))
    if key == "live_restarted":
        return t(key, lang, reason=t(str(arg), lang))
    if key == "preset_loaded":
        return t(key, lang, name=preset_name(str(arg), lang))
    return ""


@solara.component
def StatusBar(state: DashboardState):
    """Which scenario is active and which levers are moved: shown above every view."""
    lang = state.lang.value
    scenario, detail = status_text(state, lang)
    with solara.Div(classes=["status-bar"]):
        solara.HTML(tag="span", unsafe_innerHTML=f"<b>{_esc(scenario)}</b> · {_esc(detail)}",
                    classes=["status-text"])
        note = notice_text(state.notice.value, lang)
        if note:
            solara.HTML(tag="div", unsafe_innerHTML=_esc(note), classes=["status-notice"])


def _esc(text: str) -> str:
    from html import escape

    return escape(text, quote=False)


@solara.component
def RunControls(state: DashboardState):
    """Seed, restart, play/pause, step, speed and the live run's month."""
    lang = state.lang.value
    live = state.live
    _ = state.tick.value  # re-render when the live run advances

    def reset() -> None:
        state.playing.set(False)
        state.selected.set(None)
        state.notice.set(())
        state.reset_count.set(state.reset_count.value + 1)

    def toggle_play() -> None:
        state.playing.set(not state.playing.value)

    with solara.Card(t("live_run", lang), margin=0, classes=["run-controls"]):
        with solara.Row(classes=["run-buttons"]):
            solara.Button(t("reset", lang), on_click=reset, classes=["btn-reset"])
            solara.Button(t("pause", lang) if state.playing.value else t("play", lang),
                          on_click=toggle_play, color="primary", classes=["btn-play"],
                          disabled=live is None or live.done)
            solara.Button(t("step", lang), on_click=lambda: state.step(),
                          classes=["btn-step"], disabled=live is None or live.done)
        solara.Button(t("skip_burn_in", lang), on_click=state.skip_burn_in, text=True,
                      classes=["btn-skip"],
                      disabled=live is None or live.month >= live.window_start)
        speed = state.speed.value
        speed_text = t("speed_one", lang) if speed == 1 else t("speed", lang, n=speed)
        solara.HTML(tag="div", unsafe_innerHTML=_esc(speed_text),
                    style="font-size:13px;color:#333;margin-top:4px", classes=["label-speed"])
        with solara.Div(classes=["speed-slider"]):
            solara.SliderInt("", value=state.speed.value, min=1, max=24,
                             on_value=state.speed.set, thumb_label=False)
        month = format_month(live.month) if live is not None else "–"
        solara.HTML(tag="div", unsafe_innerHTML=(
            f'<span class="live-month" data-month="{month}">{t("month", lang)}: '
            f"<b>{month}</b></span>"))
        solara.InputInt(t("seed", lang), value=state.seed.value,
                        on_value=lambda v: state.seed.set(max(0, int(v))),
                        classes=["seed-input"])


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
        solara.Text(f"{t('start_year', lang)}: {levers.start_year}", style=LABEL,
                    classes=["label-start-year"])
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
        solara.Text(t("advanced_help", lang), style={"font-size": "13px", "color": "#555"})
        for name, (central, low, high) in ranges.items():
            value = chosen.get(name, central)
            label = (f"{t(f'unknown_{name}', lang)}: {unknown_value(name, value, lang)} ("
                     + t("plausible", lang, range=unknown_value(name, low, lang, high)) + ")")
            solara.Text(label, style=LABEL, classes=[f"label-unknown-{name}"])
            with solara.Div(classes=[f"unknown-{name}"]):
                solara.SliderFloat("", value=value, min=low, max=high, step=(high - low) / 200,
                                   on_value=lambda v, n=name: set_unknown(n, float(v)),
                                   thumb_label=False)

"""The dashboard's session state: reactive values and what is derived from them.

:func:`use_state` is a Solara hook: each browser session (and each
``solara.render`` in a test) gets its own state. Derived objects (scenarios,
projections) are memoised on the settings they depend on. The live run is kept for
the session: a lever move hands it the new parameters (:meth:`LiveRun.switch`) and it
goes on from the current month; only Restart, another random seed, or a scenario
covering other months starts it again (and the page says so).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import solara

from chainsim.chain.config import Scenario
from chainsim.chain.errors import InputError
from chainsim.chain.parameters import resolve
from chainsim.dashboard.bands import Bands
from chainsim.dashboard.levers import (
    Settings,
    baseline_scenario,
    current_scenario,
    lever_period,
    neutral_values,
)
from chainsim.dashboard.live import LiveRun
from chainsim.dashboard.projection import Projection, project

PROGRESS_EVERY = 0.25
"""Seconds between progress updates of a running comparison."""

RUN_COUNT: solara.Reactive[tuple[int, int]] = solara.reactive((0, 0))
"""(runs done, runs in all) of the running comparison, per browser session.

Apart from the page's own state so that a count re-renders only the progress line,
not the page (a page render holds the interpreter for ~0.1 s, time the comparison
would lose)."""

VIEWS: tuple[str, ...] = ("chain", "time", "recid", "agents", "compare", "workshop")
"""The views (tabs), in order; labels are ``tab_<view>``."""

PLAY_INTERVAL = 0.2
"""Seconds between ticks while playing."""


@dataclass
class DashboardState:
    """Everything a session shows and changes.

    Attributes:
        lang: ``en`` or ``nl``.
        settings: Preset, levers and unknowns.
        seed: Seed of the live run and the projections (and of comparisons).
        view: The selected view.
        speed: Months per tick while playing (and per step).
        playing: Whether the live run plays.
        tick: Bumped after the live run advances (re-renders its views).
        selected: Offender selected in the agent view.
        flow_metric: Metric of the flows-over-time chart.
        band_metric: Metric of the comparison's band chart.
        reps: Replications per arm in comparison mode.
        uncertainty: Propagate the unknowns in comparison mode.
        bands: The last comparison (or ``None``).
        progress: ``(0, -1)`` while a comparison runs, ``(0, 0)`` otherwise (the count
            of runs is in :data:`RUN_COUNT`).
        compare_request: Bumped to start a comparison.
        guesses: The room's guesses (text).
        predict_proxy: Proxy of the predict-then-run exercise.
        revealed: Whether the exercise's result is shown.
        error: A message to show (a failed comparison).
        advanced: Whether the unknowns panel is open.
        notice: A message about what just changed (``(key, format arguments)``): the
            live run went on with new levers, restarted, or a preset was loaded.
    """

    lang: solara.Reactive[str]
    settings: solara.Reactive[Settings]
    seed: solara.Reactive[int]
    view: solara.Reactive[str]
    speed: solara.Reactive[int]
    playing: solara.Reactive[bool]
    tick: solara.Reactive[int]
    selected: solara.Reactive[int | None]
    flow_metric: solara.Reactive[str]
    band_metric: solara.Reactive[str]
    reps: solara.Reactive[int]
    uncertainty: solara.Reactive[bool]
    bands: solara.Reactive[Bands | None]
    progress: solara.Reactive[tuple[int, int]]
    compare_request: solara.Reactive[int]
    guesses: solara.Reactive[str]
    predict_proxy: solara.Reactive[str]
    revealed: solara.Reactive[bool]
    error: solara.Reactive[str]
    reset_count: solara.Reactive[int]
    advanced: solara.Reactive[bool]
    notice: solara.Reactive[tuple]
    # derived (set by use_state)
    baseline: Scenario | None = None
    current: Scenario | None = None
    period: tuple[int, int] = (0, 0)
    base_projection: Projection | None = None
    projection: Projection | None = None
    live: LiveRun | None = None
    neutral: dict[str, float] | None = None
    scenario_error: str = ""

    def step(self, months: int | None = None) -> None:
        """Advance the live run by ``months`` (default: the speed) and re-render."""
        if self.live is None:
            return
        self.live.step(self.speed.value if months is None else months)
        self.tick.set(self.tick.value + 1)

    def skip_burn_in(self) -> None:
        """Run the live run to the start of the source's window (January 2015)."""
        if self.live is not None:
            self.step(max(0, self.live.window_start - self.live.month))


def use_state() -> DashboardState:
    """The session's state (a Solara hook: call it at the top of the page)."""
    state = DashboardState(
        lang=solara.use_reactive("en"),
        settings=solara.use_reactive(Settings()),
        seed=solara.use_reactive(1),
        view=solara.use_reactive("chain"),
        speed=solara.use_reactive(1),
        playing=solara.use_reactive(False),
        tick=solara.use_reactive(0),
        selected=solara.use_reactive(None),
        flow_metric=solara.use_reactive("traced"),
        band_metric=solara.use_reactive("probation"),
        reps=solara.use_reactive(20),
        uncertainty=solara.use_reactive(False),
        bands=solara.use_reactive(None),
        progress=solara.use_reactive((0, 0)),
        compare_request=solara.use_reactive(0),
        guesses=solara.use_reactive(""),
        predict_proxy=solara.use_reactive("recid_observed_general_2y"),
        revealed=solara.use_reactive(False),
        error=solara.use_reactive(""),
        reset_count=solara.use_reactive(0),
        advanced=solara.use_reactive(False),
        notice=solara.use_reactive(()),
    )
    settings = state.settings.value

    def scenarios() -> tuple[Scenario, Scenario, str]:
        base = baseline_scenario(settings)
        try:
            return base, current_scenario(settings), ""
        except InputError as exc:
            return base, base, str(exc)

    state.baseline, state.current, state.scenario_error = solara.use_memo(scenarios, [settings])
    state.period = lever_period(settings.levers, state.current)
    state.neutral = neutral_values(settings.preset, settings.levers.start_year)
    seed = state.seed.value
    state.base_projection = project(state.baseline, seed, state.period)
    state.projection = project(state.current, seed, state.period)
    state.live = _use_live(state, seed)
    _use_play_loop(state)
    _use_comparison(state)
    return state


def _use_live(state: DashboardState, seed: int) -> LiveRun:
    """The session's live run: kept across lever moves, which it continues with."""
    ref = solara.use_ref(None)
    key = (seed, state.reset_count.value)
    current = state.current
    params = state.projection.params if state.projection is not None else resolve(current)
    current_hash = f"{current.config_hash()}:{current.name}"
    held = ref.current
    if held is None or held[0] != key:
        live = LiveRun(params, seed, current_hash)
        ref.current = (key, live)
        return live
    live = held[1]
    if live.key != current_hash:
        changed = live.month if live.t > 0 else None
        if live.switch(params, current_hash):
            if changed is not None:
                state.notice.set(("live_continued", live.changes[-1]))
        else:
            live = LiveRun(params, seed, current_hash)
            ref.current = (key, live)
            state.notice.set(("live_restarted", "reason_horizon"))
    return live


def warm_up(seed: int = 1) -> None:
    """Compute what a new session shows first (cached), so the first page loads fast."""
    settings = Settings()
    base = baseline_scenario(settings)
    period = lever_period(settings.levers, base)
    neutral_values(settings.preset, settings.levers.start_year)
    project(base, seed, period)


def warm_baseline(seed: int = 1, reps: int = 20) -> None:
    """Run the default comparison's baseline arm once, so a first Compare runs only the levers.

    Call it in a background thread at server start: the result is cached by
    :func:`chainsim.dashboard.bands.run_bands` (the same key a session's first
    comparison uses: the baseline, ``reps`` runs, ``seed``, the default lever period).
    """
    from chainsim.dashboard.bands import run_bands

    settings = Settings()
    base = baseline_scenario(settings)
    run_bands(base, base, reps, seed, lever_period(settings.levers, base))


def _use_play_loop(state: DashboardState) -> None:
    live = state.live

    def loop(cancel: threading.Event | None = None) -> None:
        while state.playing.value and live is not None and not live.done:
            state.step()
            time.sleep(PLAY_INTERVAL)
            if cancel is not None and cancel.is_set():
                return
        if live is not None and live.done:
            state.playing.set(False)

    # not intrusive: Solara would otherwise trace every line of the thread to cancel
    # it, which makes stepping the model (and a comparison) two to four times slower;
    # the loop checks ``cancel`` itself
    solara.use_thread(loop, dependencies=[state.playing.value, id(live)],
                      intrusive_cancel=False)


def _use_comparison(state: DashboardState) -> None:
    request = state.compare_request.value
    baseline, current, period = state.baseline, state.current, state.period
    reps, seed, uncertainty = state.reps.value, state.seed.value, state.uncertainty.value

    def run() -> None:
        if request == 0 or baseline is None or current is None:
            return
        from chainsim.dashboard.bands import run_bands

        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if done in (0, total) or now - last[0] >= PROGRESS_EVERY:
                last[0] = now
                RUN_COUNT.set((done, max(total, 1)))

        RUN_COUNT.set((0, -1))  # starting: the number of runs is not known yet
        state.progress.set((0, -1))
        try:
            result = run_bands(baseline, current, reps, seed, period, uncertainty,
                               progress=progress)
        except InputError as exc:
            state.error.set(str(exc))
            state.progress.set((0, 0))
            return
        state.progress.set((0, 0))
        state.bands.set(result)

    solara.use_thread(run, dependencies=[request], intrusive_cancel=False)  # see the loop

"""Server-side timings of the dashboard, without a browser (``solara.render``).

Usage: ``python benchmarks/bench_dashboard.py [--steps N] [--reps R] [--quick]``

Prints: a new session's first render; one model step (one month) with its
re-render of the "over time" view, early in the run and after the burn-in; a lever
move (a new fast-engine projection); and a comparison with R replications per arm
(baseline arm first run, then cached). The browser-side numbers (page interactive,
click-to-update of a step) are measured by ``tests/dashboard/test_browser.py`` and
written to ``test-output/dashboard-timings.json``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import ipyvuetify as v
import solara

from chainsim.dashboard.app import Page
from chainsim.dashboard.bands import run_bands
from chainsim.dashboard.levers import (
    Levers,
    Settings,
    baseline_scenario,
    current_scenario,
    lever_period,
)
from chainsim.dashboard.state import warm_up


def _ms(times: list[float]) -> str:
    return f"median {1000 * statistics.median(times):.0f} ms, max {1000 * max(times):.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12, help="timed steps per phase")
    parser.add_argument("--reps", type=int, default=20, help="replications per arm")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 3 steps per phase, 4 replications per arm")
    args = parser.parse_args()
    if args.quick:
        args.steps, args.reps = 3, 4

    started = time.perf_counter()
    warm_up()
    print(f"server warm-up (baseline projection): {time.perf_counter() - started:.2f} s")
    started = time.perf_counter()
    _box, rc = solara.render(Page(), handle_error=False)
    print(f"first render of a new session: {1000 * (time.perf_counter() - started):.0f} ms")
    rc.find(v.BtnToggle, class_="view-tabs").widget.v_model = "time"
    step = rc.find(v.Btn, class_="btn-step").widget
    for phase in ("2005 (start)", "2015 (after burn-in)"):
        if phase.startswith("2015"):
            rc.find(v.Btn, class_="btn-skip").widget.click()
        times = []
        for _ in range(args.steps):
            t0 = time.perf_counter()
            step.click()
            times.append(time.perf_counter() - t0)
        print(f"one step + re-render, {phase}: {_ms(times)}")
    rc.find(v.BtnToggle, class_="view-tabs").widget.v_model = "chain"
    slider = rc.find(v.Html, class_="lever-probation").find(v.Slider).widget
    times = []
    for value in (0.5, 0.6, 0.7):
        t0 = time.perf_counter()
        slider.v_model = value
        times.append(time.perf_counter() - t0)
    print(f"lever move (new projection, funnel re-render): {_ms(times)}")
    rc.close()

    settings = Settings(levers=Levers(probation=0.8))
    base, cur = baseline_scenario(settings), current_scenario(settings)
    period = lever_period(settings.levers, cur)
    for label in ("both arms", "baseline cached"):
        t0 = time.perf_counter()
        run_bands(base, cur, args.reps, 1, period)
        print(f"comparison, {args.reps} replications per arm, {label}: "
              f"{time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()

"""Timings of the dashboard: server side (``solara.render``) and in a real browser.

Usage: ``python benchmarks/bench_dashboard.py [--steps N] [--reps R] [--loads L] [--quick]
[--no-browser]``

Server side it prints: a new session's first render; one model step (one month) with
its re-render of the "over time" view, early in the run and after the burn-in; a lever
move (a new fast-engine projection); and a comparison with R runs per side (both
arms, then with the baseline cached: what a first Compare costs after the server has
warmed the baseline).

In the browser (Debian's Chromium through Playwright, if it is installed) it starts
``chainsim dashboard`` and prints: the first paint of the first visitor (cold: the
server has just started) and the median and maximum over L further visitors (warm),
each from ``goto`` until the chain chart is drawn and Step is enabled; and Compare
with 20 runs per side from the click to the bands, levers moved first (the baseline
comes from the server's warm-up; 20 runs per side is the page's default). The targets
are a warm first paint of at most 3 s and a Compare of at most 5 s with 20 runs per
side on the project's 2-core machine; the machine's load average is printed beside.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

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
    parser.add_argument("--loads", type=int, default=5, help="warm page loads in the browser")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 3 steps per phase, 4 replications per arm")
    parser.add_argument("--no-browser", action="store_true", help="server-side numbers only")
    args = parser.parse_args()
    if args.quick:
        args.steps, args.reps, args.loads = 3, 4, 2
    if not args.no_browser and Path(CHROMIUM).exists():
        browser_timings(args.loads)

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
    for label in ("both arms", "levers only, baseline cached"):
        t0, cpu0 = time.perf_counter(), time.process_time()
        run_bands(base, cur, args.reps, 1, period)
        print(f"comparison, {args.reps} runs per side, {label}: "
              f"{time.perf_counter() - t0:.1f} s (CPU {time.process_time() - cpu0:.1f} s; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


CHROMIUM = "/usr/bin/chromium"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def browser_timings(loads: int) -> None:
    """First paint (cold and warm) and Compare, measured in Chromium against a real server."""
    from playwright.sync_api import expect, sync_playwright

    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    server = subprocess.Popen([sys.executable, "-m", "chainsim", "dashboard", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        started = time.perf_counter()
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.perf_counter() - started > 120:
                    raise RuntimeError("the dashboard server did not start") from None
                time.sleep(0.2)
        print(f"browser: server up in {time.perf_counter() - started:.1f} s (load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=["--no-sandbox", "--disable-gpu"])

            def load():
                page = browser.new_page(viewport={"width": 1440, "height": 900})
                t0 = time.perf_counter()
                page.goto(url)
                page.locator(".chart-funnel svg").wait_for(timeout=60_000)
                page.locator(".btn-step:not([disabled])").wait_for(timeout=60_000)
                return page, time.perf_counter() - t0

            page, cold = load()
            page.close()
            print(f"browser: first paint, first visitor (cold): {cold:.2f} s")
            time.sleep(1.0)
            warm = []
            for _ in range(loads):
                page, seconds = load()
                warm.append(seconds)
                page.close()
            print(f"browser: first paint, warm ({loads} visitors): median "
                  f"{statistics.median(warm):.2f} s, max {max(warm):.2f} s")
            page, _ = load()
            time.sleep(1.0)  # the baseline arm was warmed before the server took visitors
            track = page.locator(".lever-probation .v-slider__slider, .lever-probation "
                                 ".v-slider-track").first
            box = track.bounding_box()
            track.click(position={"x": box["width"] * 0.8, "y": box["height"] / 2})
            page.wait_for_function("() => document.querySelector('.status-text')"
                                   ".innerText.includes('probation coverage')")
            page.locator(".tab-compare").click()
            page.locator(".btn-compare").wait_for()
            t0 = time.perf_counter()
            page.locator(".btn-compare").click()
            expect(page.locator(".chart-bands svg polygon[data-band]")).to_have_count(
                2, timeout=180_000)
            print(f"browser: Compare, 20 runs per side, levers moved, click to bands: "
                  f"{time.perf_counter() - t0:.2f} s")
            browser.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()

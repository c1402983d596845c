"""Real-browser tests: Playwright drives Debian's Chromium against ``chainsim dashboard``.

Skipped only when Chromium is missing and the ``CI`` variable is unset; in CI a
missing browser fails. Screenshots go to ``test-output/screenshots/`` (with
``CHAINSIM_UPDATE_DOCS_IMG=1`` also to ``docs/img/dashboard_*.png``) and the measured
timings to ``test-output/dashboard-timings.json``. Timings are reported, and only
checked against generous bounds (the machine is shared).
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

pytestmark = pytest.mark.slow  # a real browser: full suite only

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "test-output"
SHOTS = OUT / "screenshots"
DOCS_IMG = ROOT / "docs" / "img"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMINGS: dict[str, object] = {}


def _require_browser() -> None:
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {CHROMIUM} is missing (.ci/install-browser installs it)")
    pytest.skip(f"{CHROMIUM} is missing (run .ci/install-browser)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    _require_browser()
    from chainsim.dashboard.assets import ensure_assets

    missing = ensure_assets()
    assert not missing, f"Solara's browser assets are not available: {missing}"
    port = _free_port()
    OUT.mkdir(exist_ok=True)
    log = open(OUT / "dashboard-server.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "chainsim", "dashboard", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    started = time.perf_counter()
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.perf_counter() - started > 90:
            proc.kill()
            log.close()
            pytest.fail("the dashboard server did not start:\n"
                        + (OUT / "dashboard-server.log").read_text())
        time.sleep(0.3)
    TIMINGS["server_start_s"] = round(time.perf_counter() - started, 2)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()
    (OUT / "dashboard-timings.json").write_text(json.dumps(TIMINGS, indent=2))
    print("\ndashboard timings:", json.dumps(TIMINGS))


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


def _load(browser, url):
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    started = time.perf_counter()
    page.goto(url)
    page.locator(".chart-funnel svg").wait_for(timeout=60_000)
    page.locator(".btn-step:not([disabled])").wait_for(timeout=60_000)
    return page, time.perf_counter() - started


@pytest.fixture(scope="module")
def page(browser, server):
    page, first = _load(browser, server)
    TIMINGS["first_page_interactive_s"] = round(first, 2)
    yield page
    page.close()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"dashboard-{name}.png"
    page.screenshot(path=str(path), full_page=True)


def month(page) -> str:
    return page.locator(".live-month").get_attribute("data-month")


def view(page, name: str) -> None:
    page.locator(f".tab-{name}").click()


def test_page_loads_and_is_interactive(browser, server, page):
    # a second, warm load: what every participant after the first one sees
    other, warm = _load(browser, server)
    other.close()
    TIMINGS["page_interactive_s"] = round(warm, 2)
    assert page.locator(".source-table").is_visible()
    assert page.get_by_text("Dadermonitor 2015-2019").first.is_visible()
    shot(page, "chain")
    assert warm < 30  # generous: the target is < 3 s, measured and reported


def test_step_rerenders_the_live_view(page):
    view(page, "time")
    page.locator(".chart-stages svg").wait_for()
    times = []
    for _ in range(8):
        before = month(page)
        started = time.perf_counter()
        page.locator(".btn-step").click()
        page.wait_for_function(
            "m => document.querySelector('.live-month').dataset.month !== m", arg=before)
        times.append(time.perf_counter() - started)
    TIMINGS["step_rerender_ms"] = {"median": round(1000 * statistics.median(times)),
                                   "max": round(1000 * max(times)), "n": len(times)}
    assert month(page) == "2005-09"  # 8 steps of 1 month from 2005-01
    page.locator(".btn-skip").click()
    page.wait_for_function("() => document.querySelector('.live-month').dataset.month "
                           "=== '2015-01'", timeout=60_000)
    later = []
    for _ in range(6):
        before = month(page)
        started = time.perf_counter()
        page.locator(".btn-step").click()
        page.wait_for_function(
            "m => document.querySelector('.live-month').dataset.month !== m", arg=before)
        later.append(time.perf_counter() - started)
    TIMINGS["step_rerender_2015_ms"] = {"median": round(1000 * statistics.median(later)),
                                        "max": round(1000 * max(later)), "n": len(later)}
    shot(page, "time")
    assert statistics.median(times) < 5  # generous: the target is < 200 ms


def test_moving_a_slider_changes_the_chart(page):
    view(page, "chain")
    funnel = page.locator(".chart-funnel svg")
    before = funnel.inner_html()
    track = page.locator(".lever-probation .v-slider-track").first
    box = track.bounding_box()
    track.click(position={"x": box["width"] * 0.95, "y": box["height"] / 2})
    page.wait_for_function(
        "b => document.querySelector('.chart-funnel svg').innerHTML !== b", arg=before,
        timeout=30_000)
    assert "9" in page.locator(".label-probation").inner_text()
    assert funnel.inner_html() != before


def test_comparison_mode_shows_bands(page):
    view(page, "compare")
    thumb = page.locator(".reps-slider .v-slider-thumb").first
    thumb.focus()
    thumb.press("Home")  # 5 replications per arm keeps the test short
    expect(page.locator(".label-reps")).to_contain_text("Runs per side: 5")
    started = time.perf_counter()
    page.locator(".btn-compare").click()
    expect(page.locator(".chart-bands svg polygon[data-band]")).to_have_count(2, timeout=120_000)
    TIMINGS["comparison_5_reps_s"] = round(time.perf_counter() - started, 2)
    expect(page.locator(".compare-progress")).to_have_count(0)
    assert page.locator(".delta-table tr").count() > 5
    shot(page, "compare")


def test_language_toggle_switches_labels(page):
    view(page, "chain")
    assert page.locator(".tab-chain").inner_text().strip().lower() == "chain"
    page.locator(".btn-language").click()
    expect(page.locator(".tab-chain")).to_have_text("Keten", ignore_case=True)
    svg = page.locator(".chart-funnel svg").inner_html()
    assert "signalering" in svg and "dagvaarding" in svg and "veroordeling" in svg
    shot(page, "chain-nl")
    page.locator(".btn-language").click()
    expect(page.locator(".tab-chain")).to_have_text("Chain", ignore_case=True)


def test_clicking_an_agent_opens_its_history(page):
    page.locator(".btn-reset").click()  # the lever test kept the run going: start again
    expect(page.locator(".live-month")).to_have_attribute("data-month", "2005-01")
    page.locator(".btn-skip").click()
    expect(page.locator(".live-month")).to_have_attribute("data-month", "2015-01",
                                                          timeout=60_000)
    view(page, "agents")
    dots = page.locator(".chainsim-clickable-svg circle[data-stage='prison']")
    dots.first.wait_for()
    assert page.locator(".history-table").count() == 0
    target = dots.nth(dots.count() - 1)
    oid = target.get_attribute("data-agent")
    target.click()
    expect(page.locator(".agent-history")).to_contain_text(oid, timeout=30_000)
    expect(page.locator(".history-table")).to_be_visible()
    shot(page, "agents")


def test_predict_then_run(page):
    view(page, "workshop")
    page.locator(".guess-input input").fill("20; 25; 30.5")
    page.locator(".btn-reveal").click()
    expect(page.locator(".chart-guesses svg circle")).to_have_count(3, timeout=120_000)
    shot(page, "workshop")


# ------------------------------------------------------------ sizes and languages

SIZES = {(1440, 900): ("chain", "time", "recid", "compare", "workshop"),
         (1280, 720): ("chain", "agents"),
         (390, 844): ("chain", "workshop")}
"""Window sizes and the views photographed at each (docs/img/dashboard_<lang>_<size>_<view>)."""


def docs_shot(page, name: str) -> None:
    """A screenshot of the window as it is (not the whole page): what a reader sees."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"dashboard_{name}.png"
    page.screenshot(path=str(path))
    if os.environ.get("CHAINSIM_UPDATE_DOCS_IMG"):
        shutil.copy(path, DOCS_IMG / path.name)


def _open(browser, url, size, lang):
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
    page.goto(url)
    page.locator(".chart-funnel svg").wait_for(timeout=60_000)
    if lang == "nl":
        page.locator(".btn-language").click()
        expect(page.locator(".tab-chain")).to_have_text("Keten", ignore_case=True)
    return page


def _settled_page_width(page, width: int) -> int:
    """The page's scroll width once its layout has settled (at most 15 s).

    On a loaded machine a chart's first render can be momentarily wider than the viewport
    before its container is measured (CI of stop 29: 9,939 px at 390 px, passing alone): the
    test is of the layout a reader sees, so it waits for the width to fit and reports the
    width it ends with; a layout that stays too wide still fails.
    """
    try:
        page.wait_for_function(
            f"document.documentElement.scrollWidth <= {width + 1}", timeout=15_000)
    except PlaywrightTimeout:
        pass
    return page.evaluate("document.documentElement.scrollWidth")


def _widest(page) -> str:
    """The widest element's tag and class, for a failure's message."""
    return page.evaluate("""() => {
        let best = null, most = 0;
        for (const el of document.querySelectorAll('body *')) {
            const w = el.getBoundingClientRect().right;
            if (w > most) { most = w; best = el; }
        }
        return best ? `${best.tagName}.${best.className} right=${Math.round(most)}` : '';
    }""")


def _smallest_font(page, selector: str) -> float:
    return page.evaluate("""sel => {
        let least = 99;
        for (const el of document.querySelectorAll(sel)) {
            const r = el.getBoundingClientRect();
            if (!r.width || !r.height || !el.innerText || !el.innerText.trim()) continue;
            least = Math.min(least, parseFloat(getComputedStyle(el).fontSize));
        }
        return least;
    }""", selector)


def _smallest_field_label(page) -> float:
    """The smallest rendered size (px) of a field's label, floating labels scaled."""
    return page.evaluate("""() => Math.min(99, ...[...document.querySelectorAll(
        '.v-text-field .v-label')].map(el => {
            if (!el.getBoundingClientRect().height) return 99;
            const m = new DOMMatrix(getComputedStyle(el).transform);
            return parseFloat(getComputedStyle(el).fontSize) * Math.hypot(m.a, m.b);
        }))""")


def _overlaps(page, first: str, second: str) -> bool:
    return page.evaluate("""([a, b]) => {
        const x = document.querySelector(a).getBoundingClientRect();
        const y = document.querySelector(b).getBoundingClientRect();
        return !(x.right <= y.left || y.right <= x.left || x.bottom <= y.top
                 || y.bottom <= x.top);
    }""", [first, second])


@pytest.mark.parametrize("lang", ["en", "nl"])
@pytest.mark.parametrize("size", list(SIZES), ids=lambda s: f"{s[0]}x{s[1]}")
def test_layout_at_every_size_in_both_languages(browser, server, size, lang):
    page = _open(browser, server, size, lang)
    try:
        width, height = size
        # no sideways scrolling of the page itself, no Solara banner, no heading under
        # the language button
        assert _settled_page_width(page, width) <= width + 1, _widest(page)
        assert page.get_by_text("runs on Solara").count() == 0
        assert not _overlaps(page, ".cs-title", ".btn-language")
        # the labels a room reads are at least 12 px
        assert _smallest_font(page, ".cs-side .v-card div, .status-bar, .view-tabs .v-btn") >= 12
        assert _smallest_field_label(page) >= 11.9
        tabs = page.locator(".view-tabs .v-btn")
        boxes = [tabs.nth(i).bounding_box() for i in range(tabs.count())]
        for a, b in itertools.pairwise(boxes):  # tab labels never overlap
            assert a["x"] + a["width"] <= b["x"] + 1 or a["y"] + a["height"] <= b["y"] + 1
        if width >= 1000:
            # two columns; the levers scroll on their own when the window is low
            side = page.locator(".cs-side").bounding_box()
            content = page.locator(".cs-content").bounding_box()
            assert side["x"] + side["width"] <= content["x"]
            page.locator(".btn-neutral").scroll_into_view_if_needed()
            assert page.locator(".btn-neutral").is_visible()
            assert page.locator(".btn-neutral").bounding_box()["y"] < height
            assert page.evaluate("window.scrollY") == 0  # the panel scrolled, not the page
            page.evaluate("document.querySelector('.cs-side').scrollTop = 0")
        else:
            # one column: the run's controls, the views, then the levers
            run = page.locator(".run-controls").bounding_box()
            content = page.locator(".cs-content").bounding_box()
            levers = page.locator(".lever-panel").bounding_box()
            assert run["y"] < content["y"] < levers["y"]
            assert content["width"] > width * 0.9 and levers["width"] > width * 0.9
            assert page.locator(".btn-play").bounding_box()["x"] + 10 < width
        for name in SIZES[size]:
            view(page, name)
            if name == "compare":
                thumb = page.locator(".lever-prevention .v-slider__thumb-container, "
                                     ".lever-prevention .v-slider-thumb").first
                thumb.focus()
                for _ in range(25):  # 25 % fewer young starters from 2021
                    thumb.press("ArrowRight")
                expect(page.locator(".status-text")).to_contain_text("25")
                page.locator(".btn-compare").click()
                expect(page.locator(".chart-bands svg polygon[data-band]")).to_have_count(
                    2, timeout=180_000)
                expect(page.locator(".delta-table")).to_be_visible()
            elif name == "agents":
                page.locator(".btn-skip").click()
                expect(page.locator(".live-month")).to_have_attribute(
                    "data-month", "2015-01", timeout=90_000)
                dots = page.locator(".chainsim-clickable-svg circle[data-stage='prison']")
                dots.first.wait_for(timeout=30_000)
                dots.first.click()
                expect(page.locator(".history-table")).to_be_visible(timeout=30_000)
            elif name == "workshop":
                guess = page.locator(".guess-input input")
                guess.fill("34.000; 45,5; veel" if lang == "nl" else "34,000; 45.5; lots")
                expect(page.locator(".bad-guess")).to_be_visible()
            elif name == "time":
                page.locator(".btn-skip").click()  # a run that has got somewhere
                expect(page.locator(".live-month")).to_have_attribute(
                    "data-month", "2015-01", timeout=90_000)
                page.locator(".chart-stages svg path[data-series]").first.wait_for()
            else:
                chart = {"chain": "funnel", "recid": "recid"}[name]
                page.locator(f".chart-{chart} svg").wait_for()
            assert _settled_page_width(page, width) <= width + 1, (name, _widest(page))
            time.sleep(0.3)  # field labels float in a short transition
            assert _smallest_field_label(page) >= 11.9, name
            docs_shot(page, f"{lang}_{width}x{height}_{name}")
    finally:
        page.close()

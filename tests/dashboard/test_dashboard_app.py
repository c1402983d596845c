"""Headless smoke tests of the page with ``solara.render`` (no browser)."""

from __future__ import annotations

import time

import ipyvuetify as v
import pytest
import solara
import solara.widgets

from chainsim.dashboard.app import Page
from chainsim.dashboard.state import VIEWS
from chainsim.dashboard.widgets import ClickableSvgWidget


@pytest.fixture
def page():
    _box, rc = solara.render(Page(), handle_error=False)
    yield rc
    rc.close()


def html(rc, css_class: str) -> str:
    """The inner HTML of the solara.HTML widget with this class ('' if absent)."""
    for w in rc.find(solara.widgets.HTML).widgets:
        if (css_class in (w.attributes or {}).get("class", "").split()
                or f'class="{css_class}"' in w.unsafe_innerHTML):
            return w.unsafe_innerHTML
    return ""


def show(rc, view: str) -> None:
    rc.find(v.BtnToggle, class_="view-tabs").widget.v_model = view


def slider(rc, key: str):
    return rc.find(v.Html, class_=f"lever-{key}").find(v.Slider).widget


def month(rc) -> str:
    return html(rc, "live-month").split('data-month="')[1][:7]


def test_every_view_renders(page):
    for view in VIEWS:
        show(page, view)
    show(page, "chain")
    assert "<svg" in html(page, "chart-funnel")
    assert "<table" in html(page, "source-table")


def test_moving_a_lever_changes_the_funnel(page):
    before = html(page, "chart-funnel")
    slider(page, "probation").v_model = 0.9
    after = html(page, "chart-funnel")
    assert after != before
    assert "90 %" in page.find(v.Html, class_="label-probation").widget.children[0]


def test_places_lever_shows_its_limit(page):
    label = page.find(v.Html, class_="label-places")
    assert "no limit" in label.widget.children[0]  # the baseline: 0 = no limit
    slider(page, "places").v_model = 10.0
    assert "10 places (scenario: no limit)" in label.widget.children[0]
    page.find(v.Btn, class_="btn-language").widget.click()
    assert "10 plaatsen (scenario: geen limiet)" in label.widget.children[0]


def test_step_advances_the_live_run(page):
    show(page, "time")
    assert month(page) == "2005-01"
    page.find(v.Btn, class_="btn-step").widget.click()
    assert month(page) == "2005-02"  # default speed: 1 month per step
    assert "data-series" in html(page, "chart-stages")


def test_language_toggle_switches_labels(page):
    assert page.find(v.Btn, class_="tab-chain").widget.children == ["Chain"]
    page.find(v.Btn, class_="btn-language").widget.click()
    assert page.find(v.Btn, class_="tab-chain").widget.children == ["Keten"]
    assert "signalering" in html(page, "chart-funnel")
    assert "dagvaarding" in html(page, "chart-funnel")


@pytest.mark.slow
def test_clicking_an_offender_shows_its_history(page):
    page.find(v.Btn, class_="btn-skip").widget.click()
    assert month(page) == "2015-01"
    show(page, "agents")
    widget = page.find(ClickableSvgWidget).widget
    dots = widget.svg.split('data-agent="')
    assert len(dots) > 10
    oid = dots[-1].split('"')[0]  # the last column shown: offenders free after the chain
    assert html(page, "history-table") == ""
    widget.vue_select(oid)
    table = html(page, "history-table")
    assert table.count("<tr>") >= 4  # header, inflow, signal or inspection, ..., free
    assert "free after the chain" in table
    assert f'stroke="#000" stroke-width="2" data-agent="{oid}"' in widget.svg  # ringed now


@pytest.mark.slow
def test_comparison_runs_and_shows_bands(page):
    slider(page, "capacity").v_model = 250.0
    show(page, "compare")
    page.find(v.Html, class_="reps-slider").find(v.Slider).widget.v_model = 5
    page.find(v.Btn, class_="btn-compare").widget.click()
    deadline = time.monotonic() + 60
    while "data-band" not in html(page, "chart-bands") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "data-band" in html(page, "chart-bands")
    assert "<table" in html(page, "delta-table")


def status(rc) -> str:
    return html(rc, "status-text")


def test_a_lever_move_keeps_the_live_run_and_says_so(page):
    show(page, "time")
    for _ in range(3):
        page.find(v.Btn, class_="btn-step").widget.click()
    assert month(page) == "2005-04"
    slider(page, "capacity").v_model = 250.0
    assert month(page) == "2005-04"  # not back to 2005-01
    notice = html(page, "status-notice")
    assert "2005-04" in notice and "went on" in notice
    page.find(v.Btn, class_="btn-step").widget.click()
    assert month(page) == "2005-05"
    assert 'data-marker="levers"' in html(page, "chart-stages")  # where the levers changed
    page.find(v.Btn, class_="btn-reset").widget.click()  # only Restart starts again
    assert month(page) == "2005-01" and html(page, "status-notice") == ""


def test_the_scenario_and_moved_levers_show_on_every_view(page):
    slider(page, "probation").v_model = 0.8
    for view in VIEWS:
        show(page, view)
        text = status(page)
        assert "Status quo (baseline)" in text and "probation coverage 80 %" in text, view
    show(page, "workshop")
    select = page.find(v.Select, label="Scenario to start from (facilitator)").widget
    select.v_model = "Detection to the target of 190"
    notice = html(page, "status-notice")
    assert "Loaded 'Detection to the target of 190'" in notice and "neutral" in notice
    for view in VIEWS:
        show(page, view)
        assert "Detection to the target of 190" in status(page), view
        assert "levers as in the scenario" in status(page), view
    # the capacity lever reads what the preset sets (200), not its ramp's first month
    label = page.find(v.Html, class_="label-capacity").widget.children[0]
    assert "200 per year (scenario: 200 per year)" in label


def test_every_slider_shows_its_value(page):
    page.find(v.Html, class_="speed-slider").find(v.Slider).widget.v_model = 6
    assert html(page, "label-speed") == "Speed: 6 months per step"
    show(page, "compare")
    page.find(v.Html, class_="reps-slider").find(v.Slider).widget.v_model = 12
    assert "Runs per side: 12" in page.find(v.Html, class_="label-reps").widget.children[0]
    for key in ("probation", "places", "prevention", "capacity", "evidence", "sentence",
                "inspection"):
        assert ": " in page.find(v.Html, class_=f"label-{key}").widget.children[0]
    assert page.find(v.Html, class_="label-start-year").widget.children[0].endswith("2021")


def test_single_run_views_say_one_run_and_offer_the_band(page):
    for view in ("chain", "time", "recid"):
        show(page, view)
        text = page.find(v.Html, class_="one-run-text").widget.children[0]
        assert text.startswith("One run (random seed 1)"), view
        page.find(v.Btn, class_="btn-show-band").assert_single()
    page.find(v.Btn, class_="btn-show-band").widget.click()
    assert page.find(v.BtnToggle, class_="view-tabs").widget.v_model == "compare"
    deadline = time.monotonic() + 90
    while "data-band" not in html(page, "chart-bands") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "data-band" in html(page, "chart-bands")
    assert "20 runs per side" in page.find(v.Html, class_="computed-in").widget.children[0]

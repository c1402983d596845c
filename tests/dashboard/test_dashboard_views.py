"""SVG charts and view builders (chainsim.dashboard.svg, chainsim.dashboard.views)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from chainsim.analysis.targets import load_targets
from chainsim.dashboard import views
from chainsim.dashboard.html import table
from chainsim.dashboard.levers import (
    Levers,
    Settings,
    baseline_scenario,
    current_scenario,
    lever_period,
)
from chainsim.dashboard.live import HistoryRow, OffenderHistory
from chainsim.dashboard.projection import project
from chainsim.dashboard.svg import (
    BarGroup,
    Line,
    agent_grid,
    bar_chart,
    guess_strip,
    line_chart,
    nice_ticks,
)

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_line_chart_is_valid_svg_with_bands_and_escaped_text():
    svg = line_chart([Line("a <b> & c", [0, 1, 2], [1, float("nan"), 3], lo=[0, 0, 2],
                           hi=[2, 2, 4])], title="t & <x>", x_marker=1.0)
    root = parse(svg)
    assert root.find(f"{SVG}path[@data-series='a <b> & c']") is not None
    assert root.find(f"{SVG}polygon[@data-band='a <b> & c']") is not None
    assert root.find(f"{SVG}line[@data-marker='now']") is not None
    # NaN breaks the line: two moves, no line-to into the gap
    d = root.find(f"{SVG}path").get("d")
    assert d.count("M") == 2


def test_bar_chart_labels_every_bar():
    svg = bar_chart(["x", "y (z)"], [BarGroup("g1", [1, 2], ["<10", "<10"]),
                                     BarGroup("g2", [30, float("nan")])], title="T")
    root = parse(svg)
    assert len(root.findall(f"{SVG}rect")) == 3
    labels = [e.text for e in root.iter(f"{SVG}text") if e.get("class") == "bar-label"]
    assert labels == ["<10", "30", "<10"]


def test_agent_grid_and_guess_strip():
    root = parse(agent_grid([("prison (vrijheidsstraf)", [3, 5], 9, "#000", "prison")], title="A",
                            selected=5, more_label="+{n} more"))
    circles = root.findall(f"{SVG}circle")
    assert [c.get("data-agent") for c in circles] == ["3", "5"]
    assert circles[1].get("stroke") == "#000"
    assert any(e.text == "+7 more" for e in root.iter(f"{SVG}text"))
    root = parse(guess_strip([20, 30], (25, 22, 28), 24, title="G", labels=("g", "m", "b")))
    assert len(root.findall(f"{SVG}circle")) == 2


@pytest.mark.parametrize(("lo", "hi"), [(3, 287), (20, 30.5), (0, 1), (0.2, 0.21), (-5, 5)])
def test_nice_ticks_cover_the_range(lo, hi):
    ticks = nice_ticks(lo, hi)
    assert ticks[0] <= lo and ticks[-1] >= hi and 2 <= len(ticks) <= 9


def test_table_escapes_cells():
    assert "&lt;10" in table(["a"], [["<10"]])
    assert "<script>" not in table(["<script>"], [["x"]])


@pytest.mark.parametrize(("lang", "text", "good", "bad"), [
    ("nl", "25, 30,5; 22", [25.0, 30.5, 22.0], []),
    ("en", "40% 12 x", [40.0, 12.0], ["x"]),
    ("en", "", [], []),
    ("en", "nan, 5", [5.0], ["nan"]),
    ("nl", "34.000; 36.500", [34000.0, 36500.0], []),  # Dutch thousands, not 34 and 36.5
    ("nl", "1.234,5", [1234.5], []),
    ("en", "34,000; 12.5", [34000.0, 12.5], []),
    ("en", "30,5", [], ["30,5"]),  # not an English number: named, never plotted as 0
    ("nl", "veel", [], ["veel"]),
])
def test_parse_guesses(lang, text, good, bad):
    assert views.parse_guesses(text, lang) == (good, bad)


@pytest.fixture(scope="module")
def projections():
    settings = Settings(levers=Levers(probation=0.9))
    base, cur = baseline_scenario(settings), current_scenario(settings)
    period = lever_period(settings.levers, cur)
    return project(base, 1, period), project(cur, 1, period)


def test_funnel_puts_the_source_beside_the_model(projections):
    base, cur = projections
    targets = load_targets()
    root = parse(views.funnel_svg(base, cur, targets, (2023, 2027), "nl"))
    texts = [e.text for e in root.iter(f"{SVG}text")]
    assert ">200" in texts and "95–105" in texts  # the source's own figures
    assert "signalering" in texts and "veroordeling" in texts  # Dutch chain terms
    # probation lever at 0.9: far more supervisions later on than in the baseline
    later_base = base.years_mean(2023, 2027)["probation"]
    later_cur = cur.years_mean(2023, 2027)["probation"]
    assert later_cur > 2 * later_base


def test_source_table_hides_small_counts(projections):
    base, _ = projections
    rows = {r[0]: r for r in views.source_rows(base, load_targets(), "en")}
    labour = rows["labour exploitation: convicted"]
    assert labour[1] == "7"  # the source's figure as published
    assert base.labour_window["convicted"] < 10
    assert labour[2] == "<10"


def test_recidivism_rows_in_percent(projections):
    base, cur = projections
    rows = views.recidivism_rows(base, cur, "en")
    assert len(rows) == 9
    value = float(rows[0][1])
    assert value == pytest.approx(100 * base.recidivism["observed_general_2y"], abs=0.05)


def test_flows_chart_offers_refused_supervisions(projections):
    base, cur = projections
    assert "probation_refused" in views.FLOW_METRICS
    svg = views.flows_svg("probation_refused", base, cur, None, "nl")
    parse(svg)
    assert "geen plaats in toezicht" in svg


def test_history_explains_a_refused_supervision():
    row = HistoryRow(month=2021 * 12 + 3, event="probation_refused", stage="after_chain",
                     value=24.0, age=30, probation=False)
    history = OffenderHistory(1, "domestic_sexual", "male", "23plus", (row,))
    assert views.history_rows(history, "en")[0][4] == "supervision 24 months ordered, no place"
    assert views.history_rows(history, "nl")[0][4] == "toezicht 24 maanden opgelegd, geen plaats"


@pytest.mark.parametrize(("text", "width", "lines"), [
    ("reclasseringstoezicht", 96, ["reclasserings-", "toezicht"]),
    ("vrijheidsstraf", 60, ["vrijheids-", "straf"]),
    ("supervision (reclasseringstoezicht)", 108, ["supervision", "(reclasserings-",
                                                   "toezicht)"]),
    ("signalled (signalering)", 108, ["signalled", "(signalering)"]),
])
def test_long_dutch_words_wrap_inside_their_column(text, width, lines):
    from chainsim.dashboard.svg import CHAR_WIDTH, wrap

    size = 11 if width == 96 else 10 if width == 60 else 12
    assert wrap(text, width, size) == lines
    assert all(len(line) * CHAR_WIDTH * size <= width + 1 for line in lines)
    assert "".join(line.rstrip("-") for line in lines).replace(" ", "") == text.replace(" ", "")

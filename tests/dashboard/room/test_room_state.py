"""The room without a server: state, questions, charts, export, QR, texts."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

import pytest

from chainsim.dashboard.room import catalogue, package
from chainsim.dashboard.room.chart import direction_chart, prediction_chart
from chainsim.dashboard.room.compute import Estimate, RoundResult, Simulator
from chainsim.dashboard.room.export import csv_text, html_text
from chainsim.dashboard.room.pages import facilitator_page, participant_page
from chainsim.dashboard.room.qr import qr_svg
from chainsim.dashboard.room.questions import (
    QUESTIONS_FILE,
    check,
    custom_question,
    load_questions,
)
from chainsim.dashboard.room.state import (
    CODE_ALPHABET,
    Answer,
    Room,
    RoomError,
    clean_name,
    normalise_code,
)

QUESTIONS = load_questions()
NUMBER = next(q for q in QUESTIONS if q.kind == "number")
DIRECTION = next(q for q in QUESTIONS if q.kind == "direction")


def result(mean=47.0, direction="down") -> RoundResult:
    return RoundResult(proxy=NUMBER.proxy, scenario=Estimate(mean, mean - 1, mean + 1),
                       band=(mean - 3, mean + 3), baseline=Estimate(51.0, 50.0, 52.0),
                       baseline_band=(48.0, 54.0), delta=Estimate(-4.0, -5.0, -3.0),
                       direction=direction, reps=3, seed=1, period="2021-01..2035-12",
                       seconds=1.0)


def test_shipped_questions_are_valid_and_cover_every_kind():
    assert {q.kind for q in QUESTIONS} == {"number", "direction", "package"}
    assert len({q.id for q in QUESTIONS}) == len(QUESTIONS)
    for q in QUESTIONS:
        assert q.en.strip() and q.nl.strip()
        q.settings()  # the lever model accepts it


def test_a_bad_question_is_refused_with_its_name():
    with pytest.raises(ValueError, match="not a proxy"):
        check(replace(NUMBER, proxy="happiness"))
    with pytest.raises(ValueError, match="not a shipped scenario"):
        check(replace(NUMBER, preset="../../etc/passwd"))
    with pytest.raises(ValueError, match="outside"):
        check(replace(NUMBER, levers=(("prevention", 5.0),)))
    with pytest.raises(ValueError, match="is not a lever"):
        check(replace(NUMBER, levers=(("magic", 1.0),)))


def test_questions_file_with_duplicate_ids_is_refused(tmp_path):
    text = QUESTIONS_FILE.read_text()
    bad = tmp_path / "q.toml"
    bad.write_text(text + text)
    with pytest.raises(ValueError, match="unique"):
        load_questions(bad)


def test_custom_question_from_scenario_and_proxy():
    q = custom_question("better_evidence.toml", "court_cases", "direction", 3)
    assert q.id == "custom_3" and q.kind == "direction" and q.preset == "better_evidence.toml"
    with pytest.raises(ValueError):
        custom_question("nope.toml", "court_cases", "number", 1)
    package = custom_question("baseline.toml", "court_cases", "package", 2, budget=1e6)
    assert package.rank == ("court_cases", "victim_months", "recid_observed_general_2y")
    assert package.budget == 1e6
    with pytest.raises(ValueError, match="budget"):
        custom_question("baseline.toml", "court_cases", "package", 1, budget=float("nan"))
    with pytest.raises(ValueError):
        custom_question("baseline.toml", "court_cases", "poll", 1)


def test_codes_are_random_readable_and_compared_loosely():
    room = Room()
    assert len(room.code) == 6 and set(room.code) <= set(CODE_ALPHABET)
    assert Room().code != room.code or Room().code != room.code
    assert room.check_code(room.code.lower()[:3] + " - " + room.code[3:])
    assert not room.check_code(room.code[:-1])
    assert not room.check_code("")
    assert normalise_code(" ab-cd ef ") == "ABCDEF"
    assert len(room.secret) >= 32 and room.secret != room.code


def test_display_names_are_cleaned():
    assert clean_name("  Ann\u0000\n  de   Vries ") == "Ann de Vries"
    assert len(clean_name("x" * 500)) == 40


def test_answers_count_and_rounds_only_move_forward():
    room = Room()
    a, b, c = (room.join(n, "en") for n in ("a", "b", ""))
    assert c.label() == "Anonymous 3"
    with pytest.raises(RoomError, match="not_open"):
        room.answer(a, Answer(value=1.0))
    stage = room.stage
    r = room.start(NUMBER)
    assert room.stage == stage + 1  # every participant's page must change
    v0, stage = room.version, room.stage
    room.answer(a, Answer(value=40.0))
    room.answer(b, Answer(value=45.0))
    room.answer(a, Answer(value=42.0))  # changed, still one answer
    assert room.version > v0 and room.stage == stage  # answers wake the facilitator only
    assert room.answered() == (2, 3)
    with pytest.raises(RoomError, match="bad_answer"):
        room.answer(c, Answer(value=float("nan")))
    with pytest.raises(RoomError, match="bad_answer"):
        room.answer(c, Answer(direction="up", confidence=80))
    room.remove(b.pid)
    assert room.answered() == (1, 2)  # a removed participant's answer no longer counts
    assert room.by_token(b.token) is None and room.was_removed(b.token)
    room.set_phase(r.number, "locked")
    with pytest.raises(RoomError, match="not_open"):
        room.answer(c, Answer(value=3.0))
    with pytest.raises(RoomError, match="bad_phase"):
        room.set_phase(r.number, "open")
    with pytest.raises(RoomError, match="bad_phase"):
        room.set_phase(r.number + 1, "revealed")
    room.set_phase(r.number, "revealed")
    r2 = room.start(DIRECTION)
    with pytest.raises(RoomError, match="bad_answer"):
        room.answer(c, Answer(direction="up", confidence=120))
    room.answer(c, Answer(direction="up", confidence=80))
    assert room.answered() == (1, 2) and r2.number == 2


def test_package_answers_respect_the_budget():
    room = Room()
    p = room.join("p", "en")
    q = next(q for q in QUESTIONS if q.kind == "package")
    r = room.start(q)
    with pytest.raises(RoomError, match="bad_answer"):  # prices not known yet
        room.answer(p, Answer(package=()))
    room.set_prices(r.number, {"prevention=0.25": 1.5e6, "evidence=0.66": 1.9e6}, None)
    with pytest.raises(RoomError, match="over_budget"):
        room.answer(p, Answer(package=(("evidence", 0.66), ("prevention", 0.25))))
    room.answer(p, Answer(package=(("prevention", 0.25),)))
    assert room.answered() == (1, 1)
    form = {"probation": "0", "prevention": "2", "capacity": "0", "evidence": "0",
            "inspection": "0"}
    assert package.parse_form(form, True) == (("prevention", 0.25),)
    assert package.parse_form({**form, "evidence": "9"}, True) is None
    assert package.parse_form({**form, "evidence": "-1"}, True) is None


def test_prediction_chart_shows_band_mean_baseline_and_every_prediction():
    svg = prediction_chart([40.0, 45.0, 45.0, 60.0], result(), "en", mine=45.0)
    assert svg.count('class="prediction"') == 4
    assert 'data-band="scenario"' in svg and "Baseline" in svg
    assert svg.count("#ff7f0e") == 1  # the reader's own dot, once
    assert "47" in svg
    assert "<script" not in svg and "style=" not in svg
    nl = prediction_chart([1234.5], result(), "nl")
    assert "Gesimuleerd" in nl


def test_direction_chart_marks_the_simulated_direction():
    svg = direction_chart([("up", 80), ("up", 60), ("down", 90)], result(direction="up"), "en")
    assert 'class="sim-direction"' in svg and "2 · 70 %" in svg


def test_pages_escape_names_and_carry_no_inline_code():
    room = Room()
    evil = room.join('<script>alert(1)</script>"', "en")
    room.start(NUMBER)
    room.answer(evil, Answer(value=3.0))
    html = facilitator_page(room, "/host", QUESTIONS, "http://x/join?code=A", "")
    assert room.secret not in html
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    mine = participant_page(room, evil)
    assert "<script>alert" not in mine
    for page in (html, mine):
        assert page.count("<script") == 1 and 'src="/static/room.js"' in page
        assert "style=" not in page and "http://" not in page.replace("http://x/join", "")


def test_participant_page_in_dutch():
    room = Room()
    p = room.join("Ans", "nl")
    assert "Wachten tot de begeleider" in participant_page(room, p)
    room.start(NUMBER)
    assert NUMBER.nl[:30] in participant_page(room, p)


def test_export_has_every_answer_and_defuses_formulas():
    room = Room()
    a = room.join("=HYPERLINK(\"http://x\")", "en")
    b = room.join("Bob", "en")
    r = room.start(NUMBER)
    room.answer(a, Answer(value=40.0))
    room.answer(b, Answer(value=50.0))
    room.set_phase(r.number, "locked")
    room.set_result(r.number, result(), None)
    room.set_phase(r.number, "revealed")
    rows = list(csv.DictReader(io.StringIO(csv_text(room))))
    assert len(rows) == 2
    assert rows[0]["participant"].startswith("'=")
    assert {float(row["value"]) for row in rows} == {40.0, 50.0}
    assert float(rows[0]["simulated_mean"]) == 47.0 and rows[0]["reps"] == "3"
    html = html_text(room)
    assert html.startswith("<!doctype html>") and "<svg" in html
    assert "src=" not in html and "href=" not in html  # self-contained


def test_qr_code_is_local_svg():
    svg = qr_svg("http://192.168.1.5:8770/join?code=ABCDEF")
    assert svg.startswith("<svg") and "<path" in svg and "http://www.w3.org/2000/svg" in svg


def test_catalogue_has_both_languages():
    for key, (en, nl) in catalogue.TEXTS.items():
        assert en.strip() and nl.strip(), key
        assert en.count("{") == nl.count("{"), key
    assert catalogue.best_lang("nl-NL,nl;q=0.9,en;q=0.8") == "nl"
    assert catalogue.best_lang("en-GB,nl;q=0.5") == "en"
    assert catalogue.best_lang(None) == "en"


def test_a_round_is_computed_once_and_shared():
    sim = Simulator(reps=2, in_process=True)
    try:
        first = sim.submit(NUMBER)
        again = sim.submit(replace(NUMBER, id="other_id"))  # same scenario and proxy
        other = sim.submit(replace(NUMBER, proxy="court_cases"))
        assert first is again and other is not first
        res = first.result(timeout=120)
        assert res.reps == 2 and res.band[0] <= res.scenario.mean <= res.band[1]
        assert sim.submit(NUMBER) is first  # a later round reuses the finished result
    finally:
        sim.shutdown()


@pytest.mark.slow
def test_simulated_result_matches_the_dashboard_comparison():
    from chainsim.dashboard import bands, levers
    from chainsim.dashboard.room.compute import simulate

    res = simulate(NUMBER, reps=3, seed=1)
    settings = NUMBER.settings()
    cur = levers.current_scenario(settings)
    run = bands.run_bands(levers.baseline_scenario(settings), cur, reps=3, seed=1,
                          period=levers.lever_period(settings.levers, cur))
    level = run.level("current", NUMBER.proxy)
    assert res.scenario.mean == pytest.approx(100 * level["mean"])
    assert res.band[0] <= res.scenario.mean <= res.band[1]
    assert res.delta.mean == pytest.approx(
        100 * run.deltas((NUMBER.proxy,))[NUMBER.proxy]["mean"])
    assert res.direction in ("up", "down", "same")

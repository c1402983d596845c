"""The HTML report of a saved comparison (one replication per arm on the short horizon)."""

from __future__ import annotations

import base64
import json
import re
import shutil

import pandas as pd
import pytest

from chainsim import cli
from chainsim.analysis.flows import METRICS, SHARES
from chainsim.analysis.proxies import PROXIES
from chainsim.chain.config import Scenario, scenario_from_dict
from chainsim.chain.numbers import parse_number
from chainsim.experiments.compare import compare, comparison_document
from chainsim.outputs.folders import save_comparison
from chainsim.outputs.report import KEY_PROXIES, SAVED_FILES, build_report, first_detectable
from conftest import short_doc

DATA_URI = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def scenario(name: str, description: str, interventions: list[dict]) -> Scenario:
    doc = short_doc()
    doc["scenario"].update(name=name, description=description)
    doc["interventions"] = interventions
    return scenario_from_dict(doc, f"{name}.toml")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A saved comparison directory with its report built (three paired replications)."""
    base = scenario("status_quo", "Nothing changes.", [])
    supervised = scenario("supervise_more", "Most prison releases supervised from 2014.", [
        {"name": "supervision", "parameter": "probation_share_prison", "operation": "set",
         "value": 0.9, "start": "2014-01", "note": "a lever for the test"},
        {"name": "fewer young starters", "parameter": "inflow_rate", "operation": "multiply",
         "value": 0.75, "low": 0.6, "high": 0.95, "start": "2014-01", "ramp_months": 12,
         "target": {"form": ["domestic_sexual"], "age_group": ["under23"]},
         "note": "an assumed effect for the test"}])
    cmp = compare(base, [supervised], reps=3, seed=4, workers=1)
    out = tmp_path_factory.mktemp("report") / "cmp"
    save_comparison(cmp, comparison_document(cmp), out)
    saved_files = {p.name for p in out.iterdir()}
    path = build_report(out)
    return out, path, saved_files


def test_save_comparison_writes_what_the_report_reads(saved):
    _, _, saved_files = saved
    assert set(SAVED_FILES) <= saved_files
    assert saved_files == {*SAVED_FILES, "draws.csv"}  # and no temporary files


def test_report_embeds_four_png_figures(saved):
    out, path, _ = saved
    assert path == out / "report.html"
    text = path.read_text(encoding="utf-8")
    uris = DATA_URI.findall(text)
    assert len(uris) == 4
    assert text.count("data:image/") == 4
    assert "<script" not in text and "http://" not in text.split("</style>")[1].split(
        "Nationaal Rapporteur")[0]  # self-contained: nothing fetched
    for uri in uris:
        assert base64.b64decode(uri)[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(set(uris)) == 4  # four different figures


def _section(text: str, heading: str) -> str:
    return text.split(f"<h2>{heading}</h2>", 1)[1].split("<h2>", 1)[0]


def test_the_headline_is_one_finding_sentence_per_scenario(saved):
    _, path, _ = saved
    text = path.read_text(encoding="utf-8")
    h1 = re.search(r"<h1>(.*?)</h1>", text, flags=re.S).group(1)
    assert "?" not in h1  # a finding, not a question
    assert "Supervise more compared with the baseline" in h1
    findings = _section(text, "Findings")
    (sentence,) = re.findall(r"<li>(.*?)</li>", findings, flags=re.S)
    assert sentence.startswith("<b>supervise more</b>: ")
    assert sentence.rstrip().endswith(".") and sentence.count(". ") == 0
    assert "offender-months of trafficking" in sentence
    assert "observed general recidivism within 2 years" in sentence
    assert text.index("<h2>Findings</h2>") < text.index("<table")


def test_a_summary_table_comes_before_any_figure(saved):
    _, path, _ = saved
    text = path.read_text(encoding="utf-8")
    assert text.index("<table class=summary>") < text.index("<img")
    summary = text.split("<table class=summary>", 1)[1].split("</table>", 1)[0]
    for head in ("baseline", "change", "relative change", "95 % interval of the change",
                 "verdict"):
        assert f"<th>{head}</th>" in summary
    rows = re.findall(r"<tr.*?</tr>", summary, flags=re.S)[1:]
    assert len(rows) == len(KEY_PROXIES)
    for row in rows:  # every verdict agrees with its interval
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
        interval, verdict = cells[-2], cells[-1]
        lo, hi = (parse_number(x.replace(" pp", "")) for x in interval.split(" to "))
        assert (verdict == "no detectable change") == (lo <= 0 <= hi)
    assert "percentage points" in text and "% of released or sanctioned offenders" in summary


def test_no_minus_zero_and_no_internal_identifiers(saved):
    _, path, _ = saved
    text = path.read_text(encoding="utf-8")
    visible = re.sub(r"<[^>]+>", " ", re.sub(r"data:image/png;base64,[^\"]+", "",
                                             text.split("</style>", 1)[1]))
    assert not re.search(r"[−-]0(?:[.,]0+)?(?![\d.,])", visible), "a negative zero"
    assert not re.search(r"\d[eE][+-]?\d", visible), "scientific notation"
    identifiers = [k for k in (*PROXIES, *METRICS, *SHARES) if "_" in k]  # not 'prison'
    assert "recid_observed_specific_5y" in identifiers
    for key in (*identifiers, "status_quo", "supervise_more", "probation_share_prison"):
        hits = [m.start() for m in re.finditer(rf"\b{re.escape(key)}\b", visible)]
        # a parameter's name may appear only where scenario files are meant
        assert all("in scenario files" in visible[max(0, i - 40):i] for i in hits), key


def test_assumed_effects_and_dates_in_plain_words(saved):
    _, path, _ = saved
    text = path.read_text(encoding="utf-8")
    part = _section(text, "What each scenario assumes, and when its effect shows")
    assert "probability of supervision on release from prison" in part
    assert "set to 90 %" in part and "(baseline" in part
    assert "25 % lower" in part and "plausible range 5–40 % lower" in part
    assert "domestic sexual exploitation" in part and "offenders under 23" in part
    assert "from January 2014" in part and "phased in over 12 months" in part
    assert "When the change shows" in part


def test_costs_are_said_to_be_missing_without_a_cost_file(saved):
    _, path, _ = saved
    text = path.read_text(encoding="utf-8")
    assert "Costs are not included" in text
    assert text.index("Costs are not included") < text.index("<img")


def test_first_detectable_year_needs_two_years_in_a_row():
    rows = []
    for arm, bump in ((0, 0.0), (1, 1.0)):
        for rep in range(4):
            for year, extra in ((2020, 0.0), (2021, 0.0), (2022, 5.0), (2023, 5.0),
                                (2024, 5.0)):
                noise = 0.1 * rep
                value = 100 + noise + (extra * bump if year >= 2022 else 0.0)
                if year == 2021 and arm == 1:
                    value -= 3.0  # one year the other way: chance, not an effect
                rows.append({"arm": arm, "rep": rep, "year": year, **{m: value for m in METRICS}})
    found = first_detectable(pd.DataFrame(rows), 1, 2020)
    assert found["signalled"][:2] == (2022, pytest.approx(5.0))  # not the 2021 blip
    assert found["signalled"][2] == pytest.approx(100.15)  # the baseline that year
    flat = pd.DataFrame([{**r, "signalled": 100.0 + 0.1 * r["rep"]} for r in rows])
    assert first_detectable(flat, 1, 2020)["signalled"] is None


def test_costs_appear_when_a_cost_file_was_given(saved, tmp_path):
    out, _, _ = saved
    copy = tmp_path / "with_costs"
    shutil.copytree(out, copy)
    doc = json.loads((copy / "comparison.json").read_text(encoding="utf-8"))
    doc["unit_costs"] = {"prison_month": 8000, "probation_month": 400, "court_case": 12000,
                         "investigation": 30000, "note": "test costs"}
    level = {"mean": 1.0e7, "lo": 9.0e6, "hi": 1.1e7}
    doc["baseline_levels"]["cost_per_year"] = level
    for entry in doc["scenarios"].values():
        entry["deltas"]["cost_per_year"] = {"mean": 2.5e5, "lo": 1.0e5, "hi": 4.0e5, "n": 3}
        entry["levels"]["cost_per_year"] = level
    (copy / "comparison.json").write_text(json.dumps(doc), encoding="utf-8")
    text = build_report(copy).read_text(encoding="utf-8")
    summary = text.split("<table class=summary>", 1)[1].split("</table>", 1)[0]
    assert "cost of the chain" in summary and "+250,000" in summary and "+2.5 %" in summary
    assert "Costs are not included" not in text and "test costs" in text
    findings = _section(text, "Findings")
    assert "costs 250,000 a year more (+2.5 %" in findings


@pytest.mark.slow
def test_report_command_rebuilds_from_the_saved_files_only(saved, tmp_path, capsys):
    out, _, _ = saved
    copy = tmp_path / "moved"
    shutil.copytree(out, copy)
    (copy / "report.html").unlink()
    assert cli.main(["report", str(copy)]) == 0
    assert str(copy / "report.html") in capsys.readouterr().out
    assert len(DATA_URI.findall((copy / "report.html").read_text(encoding="utf-8"))) == 4


@pytest.mark.parametrize("missing", ["comparison.json", "survival.csv"])
def test_report_on_an_incomplete_directory_exits_2(saved, tmp_path, capsys, missing):
    out, _, _ = saved
    broken = tmp_path / "broken"
    shutil.copytree(out, broken)
    (broken / "report.html").unlink()
    (broken / missing).unlink()
    assert cli.main(["report", str(broken)]) == 2
    captured = capsys.readouterr()
    assert missing in captured.err
    assert str(broken) in captured.err
    assert "Traceback" not in captured.err
    assert captured.out == ""
    assert not (broken / "report.html").exists()


def test_report_on_a_directory_that_does_not_exist_exits_2(tmp_path, capsys):
    assert cli.main(["report", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "comparison.json" in err
    assert "Traceback" not in err


def test_intervention_words_for_each_operation():
    from chainsim.chain.config import Intervention, load_scenario
    from chainsim.outputs.report import intervention_words

    baseline = load_scenario("chainsim:baseline")

    def words(**fields):
        iv = Intervention.model_validate({"name": "x", "start": "2021-01", "note": "why",
                                          **fields})
        return re.sub(r"<[^>]+>", "", intervention_words(iv, baseline))

    capacity = words(parameter="investigation_capacity", operation="set", value=200,
                     ramp_months=12)
    assert "set to 200 a year (baseline " in capacity and "phased in over 12 months" in capacity
    assert "from January 2021" in capacity and "Basis: why" in capacity
    more = words(parameter="probation_share_other", operation="add", value=0.1, end="2025-12")
    assert "+10 percentage points" in more and "until December 2025" in more
    higher = words(parameter="signal_hazard", operation="multiply", value=1.3, low=1.0,
                   high=1.6, target={"form": ["labour"]})
    assert "30 % higher; plausible range 0–60 % higher" in higher
    assert "reaching labour exploitation" in higher
    mixed = words(parameter="reoffend_hazard", operation="multiply", value=0.9, low=0.8,
                  high=1.1, target={"probation": "supervised"})
    assert "from 20 % lower to 10 % higher" in mixed and "offenders under supervision" in mixed


def test_a_detectable_but_tiny_change_is_called_negligible(saved, tmp_path):
    from chainsim.outputs.report import negligible

    assert negligible("recid_true_2y", -0.004, 0.7) and not negligible("recid_true_2y", -0.006, 0.7)
    # a rare outcome: +0.2 points on 0.6 % is a third more, not negligible
    assert not negligible("recid_observed_specific_2y", 0.002, 0.006)
    assert negligible("recid_observed_specific_2y", 0.0002, 0.006)
    assert negligible("victim_months", -10, 41000) and not negligible("victim_months", -500, 41000)
    assert not negligible("victim_months", -10, 41000, min_effect=0.0001)
    out, _, _ = saved
    copy = tmp_path / "tiny"
    shutil.copytree(out, copy)
    doc = json.loads((copy / "comparison.json").read_text(encoding="utf-8"))
    doc["baseline_levels"]["active_offender_months"]["mean"] = 41000.0
    entry = next(iter(doc["scenarios"].values()))
    entry["deltas"]["active_offender_months"] = {"mean": -10.0, "lo": -12.0, "hi": -8.0, "n": 3}
    (copy / "comparison.json").write_text(json.dumps(doc), encoding="utf-8")
    text = build_report(copy).read_text(encoding="utf-8")
    assert "10.0 fewer offender-months of trafficking per year (−0.02 %) – a negligible" in text
    assert "lower than baseline (negligible)" in text


def test_a_report_of_one_replication_says_there_is_no_interval(tmp_path):
    base = scenario("status_quo", "Nothing changes.", [])
    other = scenario("longer_terms", "Longer prison terms from 2014.", [
        {"name": "longer", "parameter": "prison_months_mean", "operation": "multiply",
         "value": 1.3, "start": "2014-01", "note": "a lever for the test"}])
    cmp = compare(base, [other], reps=1, seed=2, workers=1)
    save_comparison(cmp, comparison_document(cmp), tmp_path / "one")
    text = build_report(tmp_path / "one").read_text(encoding="utf-8")
    assert "one replication: no interval" in _section(text, "Summary")
    assert "needs two or more replications" in text
    assert len(DATA_URI.findall(text)) == 4


def test_the_split_of_the_spread_says_how_firm_it_is():
    """50 repeated members (200 replications) are rough; 100 (400 replications) are firm."""
    from chainsim.experiments.compare import FIRM_SPLIT_REPS, monte_carlo_repeats
    from chainsim.outputs.report import split_caution

    rough = split_caution(monte_carlo_repeats(200))
    assert "50 members run twice" in rough and "about 20 %" in rough
    assert "the interval over the posterior and the probabilities, are rough" in rough
    assert f"Run at least {FIRM_SPLIT_REPS} replications" in rough
    firm = split_caution(monte_carlo_repeats(FIRM_SPLIT_REPS))
    assert "100 members run twice" in firm and "about 14 %" in firm
    assert "rough" not in firm

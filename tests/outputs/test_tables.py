"""The command line's tables: human labels, units, aligned numbers, marks outside the source."""

import re

import pytest

from chainsim.analysis.flows import METRICS, SHARES
from chainsim.analysis.proxies import PROXIES
from chainsim.outputs import labels
from chainsim.outputs.tables import WIDTH, compare_table, run_table, source_check

SCIENTIFIC = re.compile(r"\d[eE][+-]?\d")
MINUS_ZERO = re.compile(r"[−-]0(?:[.,]0+)?(?![\d.,])")


def _doc(reps: int = 2, **window) -> dict:
    entry = {"mean": 1.0, "lo": 0.5, "hi": 1.5}
    doc = {"scenario": "x", "config_hash": "h", "seed": 1, "reps": reps, "engine": "agents",
           "window_mean": dict.fromkeys(METRICS, entry), "shares": dict.fromkeys(SHARES, entry)}
    for name, mean in window.items():
        doc["window_mean"][name] = {"mean": mean, "lo": mean, "hi": mean}
    return doc


def _row(text: str, label: str) -> str:
    (line,) = [line for line in text.splitlines() if line.strip().startswith(label)]
    return line


def test_run_table_shows_the_all_forms_figure_not_a_per_form_target():
    # calibration/targets.toml also has per-form targets for summoned (labour: 15) and
    # convicted (labour: 7); the table must show the all-forms figures 145 and 95-105
    text = run_table(_doc())
    assert " 145 " in _row(text, labels.text("summoned"))
    assert " 95–105 " in _row(text, labels.text("convicted"))
    assert " > 200 " in _row(text, labels.text("signalled"))


def test_run_table_marks_a_figure_outside_the_sources_range():
    before_judge = labels.text("before_judge_share")
    outside = _row(run_table(_doc(before_judge_share=0.81)), before_judge)
    assert "81.0 %" in outside and "60–80 %" in outside and "⚠ above the range" in outside
    inside = _row(run_table(_doc(before_judge_share=0.7)), before_judge)
    assert "70.0 %" in inside and "⚠" not in inside and "inside" in inside


def test_source_check_by_kind_of_figure():
    class T:
        def __init__(self, kind, value=None, low=None, high=None, sd=1.0):
            self.kind, self.value, self.low, self.high, self.sd = kind, value, low, high, sd

    assert source_check(0.81, T("range", low=0.6, high=0.8)) == "⚠ above the range"
    assert source_check(0.59, T("range", low=0.6, high=0.8)) == "⚠ below the range"
    assert source_check(190, T("lower_bound", value=200)) == "⚠ below the lower bound"
    assert source_check(178, T("point", value=180, sd=10)) == "inside"
    assert source_check(202, T("point", value=180, sd=10)) == "⚠ 2.2 sd above"
    assert source_check(None, T("point", value=180)) == ""


def test_run_table_speaks_of_one_replication_in_the_singular():
    text = run_table(_doc(reps=1))
    assert "1 replication " in text and "1 replications" not in text
    assert "90 % of replications" not in text  # no spread with one run


def test_run_table_has_no_internal_names():
    text = run_table(_doc())
    for key in (*METRICS, *SHARES):
        if "_" in key:
            assert key not in text


def _compare_doc(posterior: bool = False) -> dict:
    """A comparison document with the awkward numbers the issue quotes."""
    levels = {p: {"mean": 0.5071 if p.startswith("recid_") else 34172.7} for p in PROXIES}
    deltas = {p: ({"mean": -0.0001374, "lo": -0.0002554, "hi": -1.949e-05, "n": 20}
                  if p.startswith("recid_") else
                  {"mean": -1082.1, "lo": -1092.7, "hi": -1071.5, "n": 20}) for p in PROXIES}
    deltas["court_cases"] = {"mean": 0.05667, "lo": -0.05202, "hi": 0.1654, "n": 20}
    deltas["investigations"] = {"mean": -0.0, "lo": -0.0, "hi": 0.0, "n": 20}
    entry = {"deltas": deltas}
    doc = {"baseline": "baseline", "reps": 20, "seed": 1, "uncertainty": posterior,
           "period": ["2021-01", "2035-12"], "baseline_levels": levels,
           "scenarios": {"youth_prevention": entry}}
    if posterior:
        doc["ensemble_repeats"] = 10
        doc["min_effect"] = 0.01
        entry["under_uncertainty"] = {p: {
            "prediction": [-3.407e04, 1.2e-05], "p_reduction": 0.8312,
            "p_reduction_beyond_threshold": 0.41, "variance": {"parameter_share": 0.734}}
            for p in PROXIES}
    return doc


@pytest.mark.parametrize("posterior", [False, True])
def test_compare_table_is_readable(posterior):
    text = compare_table(_compare_doc(posterior))
    assert not SCIENTIFIC.search(text), text
    assert not MINUS_ZERO.search(text), text
    assert "baseline baseline" not in text
    assert "20 paired replications" in text
    assert max(len(line) for line in text.splitlines()) <= WIDTH
    for key in PROXIES:
        if "_" in key:  # 'investigations' is a word too
            assert key not in text
    main = text.split("under parameter uncertainty", 1)[0]
    offender = _row(main, labels.text("active_offender_months"))
    assert "34,173" in offender and "−1,082" in offender and "−3.2 %" in offender
    assert "−1,093 to −1,072" in offender
    recid = _row(main, labels.text("recid_observed_general_2y"))
    assert "50.7 %" in recid and "−0.01 pp" in recid  # points, not fractions
    court = _row(main, labels.text("court_cases"))
    assert "no detectable change" in court
    # columns never run together: numbers are separated by at least two spaces
    assert not re.search(r"\d\[", text)
    assert re.search(r"−1,082\s{2,}−3.2 %", offender)
    if posterior:
        spread = text.split("under parameter uncertainty", 1)[1]
        offender = _row(spread, labels.text("active_offender_months"))
        assert "83 % / 41 %" in offender and "73 %" in offender
        assert "−34,070 to 0" in offender


def test_every_proxy_and_flow_has_a_label_with_a_unit():
    for key in (*PROXIES, "cost_per_year", *METRICS, *SHARES):
        assert labels.text(key) and labels.unit(key)
        assert "_" not in labels.text(key)
    assert labels.is_share("recid_true_2y") and not labels.is_share("victim_months")
    with pytest.raises(KeyError, match=r"chainsim\.outputs\.labels"):
        labels.text("no_such_key")


def test_labels_have_a_place_for_dutch_and_fall_back_to_english():
    # flows take their Dutch words from the chain table
    assert labels.text("summoned", "nl") == "dagvaarding"
    assert labels.text("active_offender_months", "nl") == "dadermaanden mensenhandel"
    assert labels.untranslated() == []  # a new label needs its Dutch words too
    assert labels.text("under23_criminal", "nl").startswith("jonger dan 23")
    assert labels.unit("recid_true_2y", "nl").startswith("% van de")
    # a label without Dutch falls back to English (and is listed)
    labels.LABELS["test_only"] = labels.Label("an English name", "per year")
    try:
        assert labels.text("test_only", "nl") == "an English name"
        assert labels.untranslated() == ["test_only"]
    finally:
        del labels.LABELS["test_only"]


def test_calibration_and_posterior_tables_are_readable():
    import pandas as pd

    from chainsim.outputs.tables import calibration_table, posterior_table
    from conftest import ROOT

    fit = calibration_table(pd.read_csv(ROOT / "calibration" / "fit.csv"))
    assert not SCIENTIFIC.search(fit) and not MINUS_ZERO.search(fit)
    row = _row(fit, labels.text("before_judge_share"))
    assert "60–80 %" in row and "2015–2019" in row
    assert "summoned (dagvaarding), labour exploitation" in fit
    assert "before_judge_share" not in fit and "form_criminal" not in fit
    diag = posterior_table(pd.read_csv(ROOT / "calibration" / "posterior_diagnostics.csv"))
    assert not SCIENTIFIC.search(diag) and "R-hat" in diag


def test_sensitivity_table_speaks_of_changes_not_columns():
    from chainsim.outputs.tables import sensitivity_table

    doc = {"sweep": "s", "points": 64, "reps": 1, "confidence": 0.95, "directory": "out",
           "indices": [{"outcome": "delta:more_probation:recid_true_2y",
                        "factor": "probation_hazard_ratio", "S1": 0.41234, "S1_lo": 0.2,
                        "S1_hi": 0.6, "ST": 0.5, "ST_lo": 0.3, "ST_hi": 0.7,
                        "noise_share": 0.12}],
           "ranking": []}
    text = sensitivity_table(doc)
    assert "95 % intervals" in text and "%%" not in text and "1 replication;" in text
    assert "change with more probation: true reoffending" in text
    assert "delta:" not in text and "recid_true_2y" not in text
    assert "0.41 (0.20 to 0.60)" in text and "12 %" in text


def test_summary_lines_use_the_singular_and_percent_signs():
    from chainsim.outputs.tables import posterior_summary, sweep_summary

    line = sweep_summary("s", 1, 1, 2, 2, 2, "out")
    assert "1 point × 1 replication × 2 scenarios = 2 runs (2 rows)" in line
    text = posterior_summary({"members": 1000, "max_r_hat": 1.678, "min_ess_bulk": 151.2,
                              "acceptance": 0.2345, "seconds": 4740.4,
                              "twin_evaluations": 123456,
                              "predictive_check": {"share_meeting_all": 0.065, "members": 200,
                                                   "tolerance_sd": 2.0, "reps_per_member": 1,
                                                   "share_meeting_all_observation": 0.175,
                                                   "share_meeting_all_jointly": 0.915,
                                                   "joint_tolerance_sd": 2.8207},
                              "backtest": {"fitted": [1, 2], "coverage_90": 1.0,
                                           "held_out": 18, "ess": 812.4,
                                           "valid_draws": 4000, "pareto_k": 0.31,
                                           "reliable": True}}, "cal")
    assert "1,000 members; max R-hat 1.68, min bulk ESS 151, acceptance 23 %" in text
    assert "123,456 twin evaluations" in text and "4,740 s" in text
    assert "1 replication each" in text and "6 % of 200 members" in text
    assert "100 % of the 18 others inside their 90 % predictive intervals" in text
    assert "92 % by the joint criterion (each within 2.82 sd" in text
    assert "effective sample size 812 of 4,000 prior draws, Pareto k 0.31)" in text
    assert not SCIENTIFIC.search(text)


def test_the_summary_says_how_many_after_chain_draws_each_candidate_had():
    from chainsim.outputs.folders import posterior_status
    from chainsim.outputs.tables import posterior_summary

    base = {"members": 1000, "max_r_hat": 1.2, "min_ess_bulk": 300.0, "acceptance": 0.08,
            "seconds": 100.0, "twin_evaluations": 10}
    rw = {"candidates": 2444, "pareto_k": 0.61, "reliable": True, "ess": 420.4,
          "unique_members": 801}
    settings = {"steps": 7500, "burn": 3750, "walkers": 94}
    one = posterior_summary(base | {"settings": {"reweighting": rw}}, "cal")
    two = posterior_summary(base | {"settings": {"reweighting": rw | {
        "draws_per_candidate": 2}}}, "cal")
    assert "each of 2,444 chain points run with the full twin): Pareto k 0.61" in one
    assert ("run with the full twin, 2 draws of the after-chain unknowns each): Pareto k 0.61"
            in two)
    note = posterior_status(base | {"settings": settings | {"reweighting": rw | {
        "draws_per_candidate": 2}}})["note"]
    assert "2444 candidates x 2 after-chain draws, Pareto k 0.61" in note
    assert "2444 candidates, Pareto k" in posterior_status(
        base | {"settings": settings | {"reweighting": rw}})["note"]

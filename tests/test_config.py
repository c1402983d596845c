"""Scenario files: loading, validation and error messages that name file, field, value, allowed."""

from __future__ import annotations

import tomllib

import pytest

from chainsim.config import Scenario, load_scenario, scenario_from_dict
from chainsim.errors import InputError, Problem
from chainsim.parameters import resolve
from chainsim.spec import FORMS, PARAMETERS
from conftest import BASELINE, SHORT, set_param, short_doc

FILE = "test.toml"


def problems_of(doc: dict, file: str = FILE, with_resolve: bool = False) -> list[Problem]:
    """The problems of a scenario document (validation, optionally also resolution)."""
    with pytest.raises(InputError) as info:
        sc = scenario_from_dict(doc, file)
        if with_resolve:
            resolve(sc, file)
    problems = info.value.problems
    assert problems, "an InputError must carry at least one problem"
    return problems


def the_problem(problems: list[Problem], field: str) -> Problem:
    """The one problem about ``field``; checks that all four parts are present."""
    found = [p for p in problems if p.field == field]
    assert len(found) == 1, f"expected one problem at {field!r}, got {problems}"
    p = found[0]
    assert p.file and p.field and p.allowed
    assert p.value is not None and p.value != ""
    text = str(p)
    assert p.file in text and p.field in text and p.allowed in text
    return p


def write(tmp_path, text: str | bytes, name: str = "scenario.toml"):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------ valid files


def test_baseline_and_short_scenarios_load():
    base = load_scenario(BASELINE)
    short = load_scenario(SHORT)
    assert isinstance(base, Scenario)
    assert base.name == "baseline"
    assert (base.scenario.start, base.scenario.end) == ("2005-01", "2035-12")
    assert (short.scenario.start, short.scenario.end) == ("2012-01", "2017-12")
    assert set(base.parameters) | set(base.unknowns) == set(PARAMETERS)
    raw = tomllib.loads(BASELINE.read_text(encoding="utf-8"))
    assert base.entry("inflow_rate").value == raw["unknowns"]["inflow_rate"]["central"]
    assert base.entry("conviction_prob").by_form == raw["parameters"]["conviction_prob"]["by_form"]
    # the short scenario is the baseline on another horizon: same parameters and notes
    for name in PARAMETERS:
        assert short.entry(name) == base.entry(name), name


def test_trend_knots_are_sorted_by_month():
    doc = short_doc()
    doc["parameters"]["signal_hazard"]["trend"] = {"2019-06": 0.5, "2015-01": 1.0,
                                                   "2016-06": 2.0}
    entry = scenario_from_dict(doc).entry("signal_hazard")
    assert list(entry.trend) == ["2015-01", "2016-06", "2019-06"]


def test_config_hash_ignores_notes_and_description_but_not_values():
    h = scenario_from_dict(short_doc()).config_hash()
    assert len(h) == 16 and int(h, 16) >= 0
    assert scenario_from_dict(short_doc()).config_hash() == h
    doc = short_doc()
    doc["parameters"]["trial_months"]["note"] = "another note entirely"
    doc["scenario"]["description"] = "changed"
    assert scenario_from_dict(doc).config_hash() == h
    doc["parameters"]["trial_months"]["value"] = 9
    assert scenario_from_dict(doc).config_hash() != h
    doc = short_doc()
    doc["scenario"]["end"] = "2017-11"
    assert scenario_from_dict(doc).config_hash() != h


# ------------------------------------------------------------------ the list


def test_unknown_parameter_is_named():
    doc = short_doc()
    doc["parameters"]["singal_hazard"] = {"value": 0.1, "note": "typo of signal_hazard"}
    p = the_problem(problems_of(doc), "parameters.singal_hazard")
    assert p.file == FILE
    assert p.value == "singal_hazard"
    assert "unknown parameter" in p.allowed
    assert "signal_hazard" in p.allowed  # the allowed names are listed


def test_unknown_key_inside_an_entry():
    doc = short_doc()
    doc["parameters"]["signal_hazard"]["valeu"] = 0.2
    p = the_problem(problems_of(doc), "parameters.signal_hazard.valeu")
    assert p.value == 0.2
    assert "unknown key" in p.allowed


def test_unknown_table_at_top_level():
    doc = short_doc()
    doc["extras"] = {"x": 1}
    p = the_problem(problems_of(doc), "extras")
    assert "unknown key" in p.allowed


def test_missing_parameter():
    doc = short_doc()
    del doc["parameters"]["trial_months"]
    del doc["unknowns"]["reoffend_hazard"]
    problems = problems_of(doc)
    p = the_problem(problems, "parameters.trial_months")
    assert p.value == "missing"
    assert "[parameters.trial_months]" in p.allowed
    q = the_problem(problems, "unknowns.reoffend_hazard")
    assert "[unknowns.reoffend_hazard]" in q.allowed


def test_entry_without_value():
    doc = short_doc()
    del doc["parameters"]["trial_months"]["value"]
    p = the_problem(problems_of(doc), "parameters.trial_months")
    assert "value" in p.allowed


def test_entry_without_note():
    doc = short_doc()
    del doc["parameters"]["trial_months"]["note"]
    p = the_problem(problems_of(doc), "parameters.trial_months.note")
    assert p.allowed


@pytest.mark.parametrize(
    ("name", "key", "value", "allowed"),
    [
        ("conviction_prob", "value", 1.2, "[0, 1]"),
        ("signal_hazard", "value", -0.1, "[0, 1]"),
        ("trial_months", "value", 0.5, "[1, 600]"),
        ("conviction_prob", "by_form.labour", 1.5, "[0, 1]"),
    ],
)
def test_value_out_of_range(name, key, value, allowed):
    doc = short_doc()
    entry = doc["parameters"][name]
    if key.startswith("by_form."):
        entry["by_form"][key.split(".")[1]] = value
    else:
        entry[key] = value
    p = the_problem(problems_of(doc), f"parameters.{name}.{key}")
    assert p.value == value
    assert allowed in p.allowed


def test_unknown_out_of_range():
    doc = short_doc()
    doc["unknowns"]["reoffend_hazard"].update(central=1.5, high=2.0)
    problems = problems_of(doc)
    assert the_problem(problems, "unknowns.reoffend_hazard.central").value == 1.5
    assert the_problem(problems, "unknowns.reoffend_hazard.high").value == 2.0


def test_by_form_on_a_parameter_that_does_not_vary_by_form():
    doc = short_doc()
    doc["parameters"]["trial_months"]["by_form"] = {"labour": 12}
    p = the_problem(problems_of(doc), "parameters.trial_months.by_form")
    assert p.value == {"labour": 12}
    assert "does not vary by form" in p.allowed


def test_factors_on_parameters_without_those_strata():
    doc = short_doc()
    doc["parameters"]["trial_months"]["young_factor"] = 1.5
    doc["parameters"]["conviction_prob"]["female_factor"] = 0.5
    problems = problems_of(doc)
    assert the_problem(problems, "parameters.trial_months.young_factor").value == 1.5
    assert the_problem(problems, "parameters.conviction_prob.female_factor").value == 0.5


def test_unknown_form_in_by_form():
    doc = short_doc()
    doc["parameters"]["conviction_prob"]["by_form"]["martian"] = 0.3
    problems = problems_of(doc)
    assert len(problems) == 1
    p = problems[0]
    assert p.field.startswith("parameters.conviction_prob.by_form")
    assert p.value == "martian"
    for form in FORMS:
        assert form in p.allowed


def test_by_form_without_value_must_list_every_form():
    doc = short_doc()
    del doc["parameters"]["inflow_form_share"]["by_form"]["other"]
    p = the_problem(problems_of(doc), "parameters.inflow_form_share")
    assert "other" in p.allowed


def test_unknown_declared_under_parameters():
    doc = short_doc()
    entry = doc["unknowns"].pop("inflow_rate")
    doc["parameters"]["inflow_rate"] = {"value": entry["central"], "note": entry["note"]}
    p = the_problem(problems_of(doc), "parameters.inflow_rate")
    assert p.value == "in [parameters]"
    assert "[unknowns.inflow_rate]" in p.allowed


def test_calibrated_parameter_declared_under_unknowns():
    doc = short_doc()
    entry = doc["parameters"].pop("trial_months")
    doc["unknowns"]["trial_months"] = {"central": 8, "low": 6, "high": 10,
                                       "note": entry["note"]}
    p = the_problem(problems_of(doc), "unknowns.trial_months")
    assert p.value == "in [unknowns]"
    assert "[parameters.trial_months]" in p.allowed


def test_parameter_declared_twice():
    doc = short_doc()
    doc["parameters"]["reoffend_hazard"] = {"value": 0.01, "note": "also here"}
    problems = problems_of(doc)
    assert any(p.field == "unknowns.reoffend_hazard" and p.value == "declared twice"
               for p in problems)


def test_low_greater_than_central():
    doc = short_doc()
    doc["unknowns"]["inflow_rate"]["low"] = 700
    problems = problems_of(doc)
    assert len(problems) == 1
    p = problems[0]
    assert p.file == FILE
    assert p.field.startswith("unknowns.inflow_rate")
    assert "700" in str(p.value)
    assert "low <= central <= high" in p.allowed


@pytest.mark.parametrize("month", ["2015-1", "2015-13", "15-01", "2015/01"])
def test_malformed_month_in_trend(month):
    doc = short_doc()
    doc["parameters"]["signal_hazard"]["trend"] = {"2014-01": 1.0, month: 1.2}
    p = the_problem(problems_of(doc), "parameters.signal_hazard.trend")
    assert month in str(p.value)
    assert month in p.allowed
    assert "YYYY-MM" in p.allowed or "01..12" in p.allowed


def test_negative_trend_multiplier():
    doc = short_doc()
    doc["parameters"]["signal_hazard"]["trend"] = {"2015-01": -1.0}
    p = the_problem(problems_of(doc), "parameters.signal_hazard.trend")
    assert ">= 0" in p.allowed


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [("2012-13", "2017-12", "scenario.start"), ("2012-01", "2017", "scenario.end"),
     ("2017-12", "2012-01", "scenario")],
)
def test_bad_horizon(start, end, field):
    doc = short_doc()
    doc["scenario"].update(start=start, end=end)
    the_problem(problems_of(doc), field)


def test_nan_value_is_reported_as_text():
    doc = short_doc()
    doc["parameters"]["trial_months"]["value"] = float("nan")
    p = the_problem(problems_of(doc), "parameters.trial_months.value")
    assert p.value == "nan"


def test_form_shares_not_summing_to_one():
    doc = short_doc()
    doc["parameters"]["inflow_form_share"]["by_form"]["labour"] += 0.14
    p = the_problem(problems_of(doc, with_resolve=True), "parameters.inflow_form_share.by_form")
    assert p.value == pytest.approx(1.14)
    assert "sum to 1" in p.allowed


def test_om_shares_summing_above_one():
    doc = short_doc()
    for name, value in (("technical_dismissal_share", 0.6), ("policy_dismissal_share", 0.3),
                        ("other_disposal_share", 0.2)):
        doc["parameters"][name] = {"value": value, "note": "too much in total"}
    p = the_problem(problems_of(doc, with_resolve=True), "parameters.technical_dismissal_share")
    assert p.value == pytest.approx(1.1)
    assert "must not exceed 1" in p.allowed


def test_trend_pushing_a_probability_above_one():
    doc = set_param(short_doc(), "conviction_prob", 0.72,
                    trend={"2015-01": 1.0, "2016-01": 1.5})
    p = the_problem(problems_of(doc, with_resolve=True), "parameters.conviction_prob")
    assert p.value == pytest.approx(1.08)
    assert "[0, 1]" in p.allowed


def test_zero_inflow_is_rejected():
    doc = short_doc()
    doc["unknowns"]["inflow_rate"].update(central=0, low=0, high=0)
    p = the_problem(problems_of(doc, with_resolve=True), "unknowns.inflow_rate")
    assert "positive" in p.allowed


# ------------------------------------------------------------------ files


def test_valid_file_roundtrip(tmp_path):
    path = write(tmp_path, SHORT.read_text(encoding="utf-8"))
    assert load_scenario(path) == load_scenario(SHORT)


def test_empty_file(tmp_path):
    path = write(tmp_path, "")
    with pytest.raises(InputError) as info:
        load_scenario(path)
    (p,) = info.value.problems
    assert p.file == str(path)
    assert p.field == "(file)"
    assert p.value == "empty"
    assert "[scenario]" in p.allowed


def test_non_utf8_bytes(tmp_path):
    bad = b"# caf\xe9 (latin-1, not UTF-8)\n" + SHORT.read_bytes()
    path = write(tmp_path, bad)
    with pytest.raises(InputError) as info:
        load_scenario(path)
    (p,) = info.value.problems
    assert p.file == str(path)
    assert p.field == "(file)"
    assert p.value == f"byte {bad.index(b'\xe9')}"
    assert "UTF-8" in p.allowed


def test_invalid_toml(tmp_path):
    path = write(tmp_path, '[scenario]\nname = "x"\nstart = 2012-\n')
    with pytest.raises(InputError) as info:
        load_scenario(path)
    (p,) = info.value.problems
    assert p.file == str(path)
    assert p.field == "(syntax)"
    assert "line 3" in str(p.value)
    assert p.allowed == "valid TOML"


def test_missing_file(tmp_path):
    path = tmp_path / "nope.toml"
    with pytest.raises(InputError) as info:
        load_scenario(path)
    (p,) = info.value.problems
    assert p.file == str(path)
    assert p.allowed == "no such file"


def test_problems_are_all_reported_at_once(tmp_path):
    doc = short_doc()
    doc["parameters"]["conviction_prob"]["value"] = 2.0
    doc["parameters"]["trial_months"]["by_form"] = {"labour": 12}
    del doc["parameters"]["om_decision_cv"]
    fields = {p.field for p in problems_of(doc)}
    assert {"parameters.conviction_prob.value", "parameters.trial_months.by_form",
            "parameters.om_decision_cv"} <= fields


def test_error_message_lists_each_problem():
    err = InputError([Problem("a.toml", "x.y", 3, "an int below 3"),
                      Problem("a.toml", "x.z", "q" * 200, "short")])
    lines = str(err).splitlines()
    assert lines[0] == "a.toml: x.y = 3: an int below 3"
    assert lines[1].startswith("a.toml: x.z = 'qqq") and lines[1].endswith("...: short")
    assert len(lines[1]) < 120


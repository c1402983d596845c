"""Scenario files: loading, validation and error messages that name file, field, value, allowed."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from chainsim.chain.config import Scenario, load_scenario, scenario_from_dict
from chainsim.chain.errors import InputError, Problem
from chainsim.chain.parameters import resolve
from chainsim.chain.spec import FORMS, PARAMETERS
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
    # the hand-set baseline (calibration not applied); the short scenario copies it
    base = load_scenario(BASELINE, calibrated=False)
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
    doc["parameters"]["recall_cv"]["note"] = "another note entirely"
    doc["scenario"]["description"] = "changed"
    assert scenario_from_dict(doc).config_hash() == h
    doc["parameters"]["recall_cv"]["value"] = 0.7
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
    del doc["parameters"]["recall_cv"]
    del doc["unknowns"]["reoffend_hazard"]
    problems = problems_of(doc)
    p = the_problem(problems, "parameters.recall_cv")
    assert p.value == "missing"
    assert "[parameters.recall_cv]" in p.allowed
    q = the_problem(problems, "unknowns.reoffend_hazard")
    assert "[unknowns.reoffend_hazard]" in q.allowed


def test_entry_without_value():
    doc = short_doc()
    del doc["parameters"]["recall_cv"]["value"]
    p = the_problem(problems_of(doc), "parameters.recall_cv")
    assert "value" in p.allowed


def test_entry_without_note():
    doc = short_doc()
    del doc["parameters"]["recall_cv"]["note"]
    p = the_problem(problems_of(doc), "parameters.recall_cv.note")
    assert p.allowed


@pytest.mark.parametrize(
    ("name", "key", "value", "allowed"),
    [
        ("conviction_prob", "value", 1.2, "[0, 1]"),
        ("signal_hazard", "value", -0.1, "[0, 1]"),
        ("recall_cv", "value", 0.001, "[0.01, 5]"),
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
    doc["parameters"]["recall_cv"]["by_form"] = {"labour": 12}
    p = the_problem(problems_of(doc), "parameters.recall_cv.by_form")
    assert p.value == {"labour": 12}
    assert "does not vary by form" in p.allowed


def test_factors_on_parameters_without_those_strata():
    doc = short_doc()
    doc["parameters"]["recall_cv"]["young_factor"] = 1.5
    doc["parameters"]["conviction_prob"]["female_factor"] = 0.5
    problems = problems_of(doc)
    assert the_problem(problems, "parameters.recall_cv.young_factor").value == 1.5
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
    entry = doc["parameters"].pop("recall_cv")
    doc["unknowns"]["recall_cv"] = {"central": 0.6, "low": 0.4, "high": 0.8,
                                       "note": entry["note"]}
    p = the_problem(problems_of(doc), "unknowns.recall_cv")
    assert p.value == "in [unknowns]"
    assert "[parameters.recall_cv]" in p.allowed


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
    doc["parameters"]["recall_cv"]["value"] = float("nan")
    p = the_problem(problems_of(doc), "parameters.recall_cv.value")
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
        set_param(doc, name, value)
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
    doc["parameters"]["recall_cv"]["by_form"] = {"labour": 12}
    del doc["parameters"]["om_decision_cv"]
    fields = {p.field for p in problems_of(doc)}
    assert {"parameters.conviction_prob.value", "parameters.recall_cv.by_form",
            "parameters.om_decision_cv"} <= fields


def test_error_message_lists_each_problem():
    err = InputError([Problem("a.toml", "x.y", 3, "an int below 3"),
                      Problem("a.toml", "x.z", "q" * 200, "short")])
    lines = str(err).splitlines()
    assert lines[0] == "a.toml: x.y = 3: an int below 3"
    assert lines[1].startswith("a.toml: x.z = 'qqq") and lines[1].endswith("...: short")
    assert len(lines[1]) < 120



# ------------------------------------------------------------------ inheritance


BASE_TEXT = SHORT.read_text(encoding="utf-8")
"""A complete scenario (the short baseline) to inherit from."""


def child_text(base: str | list[str], name: str | None = "child", body: str = "") -> str:
    """A scenario file that inherits from ``base`` (TOML text)."""
    bases = f'"{base}"' if isinstance(base, str) else "[" + ", ".join(f'"{b}"' for b in base) + "]"
    meta = f'[scenario]\nname = "{name}"\n' if name is not None else ""
    return f"base = {bases}\n\n{meta}{body}"


def iv_toml(name: str, parameter: str = "recall_cv", value: float = 1.1) -> str:
    return (f'\n[[interventions]]\nname = "{name}"\nparameter = "{parameter}"\n'
            f'operation = "multiply"\nvalue = {value}\nstart = "2014-01"\n'
            f'note = "intervention {name}"\n')


def load_problem(path, confined: bool = False) -> Problem:
    """The single problem of loading ``path``."""
    with pytest.raises(InputError) as info:
        load_scenario(path, confined=confined)
    (p,) = info.value.problems
    return p


def test_child_inherits_every_parameter(tmp_path):
    write(tmp_path, BASE_TEXT, "baseline.toml")
    path = write(tmp_path, child_text("baseline.toml"), "child.toml")
    child, base = load_scenario(path), load_scenario(SHORT)
    assert child.name == "child"
    assert child.parameters == base.parameters
    assert child.unknowns == base.unknowns
    assert child.interventions == []
    resolve(child, str(path))  # a complete, usable scenario


def test_child_entry_replaces_the_whole_base_entry(tmp_path):
    write(tmp_path, BASE_TEXT, "baseline.toml")
    body = ('[parameters.prison_prob]\nvalue = 0.5\nnote = "child value"\n\n'
            "[unknowns.reoffend_hazard]\ncentral = 0.01\nlow = 0.005\nhigh = 0.02\n"
            'note = "child range"\n')
    child = load_scenario(write(tmp_path, child_text("baseline.toml", body=body), "c.toml"))
    base = load_scenario(SHORT)
    assert base.parameters["prison_prob"].by_form is not None  # the base has more keys ...
    assert base.parameters["prison_prob"].young_factor != 1.0
    prison = child.parameters["prison_prob"]
    assert prison.value == 0.5
    assert prison.by_form is None  # ... and none of them survive into the child
    assert prison.young_factor == 1.0
    assert prison.note == "child value"
    reoffend = child.unknowns["reoffend_hazard"]
    assert (reoffend.central, reoffend.low, reoffend.high) == (0.01, 0.005, 0.02)
    assert reoffend.note == "child range"
    # everything else is the base's
    for name in PARAMETERS:
        if name not in ("prison_prob", "reoffend_hazard"):
            assert child.entry(name) == base.entry(name), name


def test_scenario_name_and_description_are_not_inherited_but_the_horizon_is(tmp_path):
    write(tmp_path, BASE_TEXT, "baseline.toml")
    base = load_scenario(SHORT)
    assert base.scenario.description  # the base has a description to (not) inherit
    child = load_scenario(write(tmp_path, child_text("baseline.toml"), "child.toml"))
    assert child.name == "child"
    assert child.scenario.description == ""
    assert (child.scenario.start, child.scenario.end) == ("2012-01", "2017-12")
    # the child may override the horizon
    text = child_text("baseline.toml", body='end = "2016-12"\ndescription = "mine"\n')
    child = load_scenario(write(tmp_path, text, "child2.toml"))
    assert (child.scenario.start, child.scenario.end) == ("2012-01", "2016-12")
    assert child.scenario.description == "mine"


def test_a_list_of_bases_merges_in_order_and_appends_interventions(tmp_path):
    write(tmp_path, BASE_TEXT, "baseline.toml")
    # fragments: bases need not be complete scenarios on their own
    write(tmp_path, '[parameters.recall_cv]\nvalue = 0.9\nnote = "from two"\n'
          + iv_toml("B"), "two.toml")
    write(tmp_path, '[parameters.recall_cv]\nvalue = 1.1\nnote = "from three"\n'
          + iv_toml("C"), "three.toml")
    forward = load_scenario(write(
        tmp_path, child_text(["baseline.toml", "two.toml", "three.toml"], body=iv_toml("D")),
        "forward.toml"))
    assert forward.parameters["recall_cv"].value == 1.1  # the later base wins
    assert [iv.name for iv in forward.interventions] == ["B", "C", "D"]
    backward = load_scenario(write(
        tmp_path, child_text(["baseline.toml", "three.toml", "two.toml"], body=iv_toml("D")),
        "backward.toml"))
    assert backward.parameters["recall_cv"].value == 0.9
    assert [iv.name for iv in backward.interventions] == ["C", "B", "D"]
    assert forward.parameters["conviction_prob"] == load_scenario(SHORT).parameters[
        "conviction_prob"]


def test_a_chain_of_bases_is_followed(tmp_path):
    write(tmp_path, BASE_TEXT, "c.toml")
    write(tmp_path, child_text("c.toml", "b", '[parameters.recall_cv]\nvalue = 0.9\n'
                               'note = "from b"\n' + iv_toml("from b")), "b.toml")
    a = load_scenario(write(tmp_path, child_text("b.toml", "a", iv_toml("from a", value=1.2)),
                            "a.toml"))
    assert a.name == "a"
    assert a.parameters["recall_cv"].value == 0.9
    assert [(iv.name, iv.value) for iv in a.interventions] == [("from b", 1.1), ("from a", 1.2)]
    assert a.entry("conviction_prob") == load_scenario(SHORT).entry("conviction_prob")


def test_inheritance_may_use_subdirectories_inside_the_named_files_directory(tmp_path):
    write(tmp_path, BASE_TEXT, "baseline.toml")
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", child_text("../baseline.toml", "mid", iv_toml("mid")), "mid.toml")
    top = load_scenario(write(tmp_path, child_text("sub/mid.toml", "top"), "top.toml"))
    assert [iv.name for iv in top.interventions] == ["mid"]


@pytest.mark.parametrize("files", [
    {"a.toml": ("b.toml", "a"), "b.toml": ("a.toml", "b")},
    {"a.toml": ("a.toml", "a")},
    {"a.toml": ("b.toml", "a"), "b.toml": ("c.toml", "b"), "c.toml": ("b.toml", "c")},
], ids=["two-cycle", "self", "three-cycle"])
def test_cycles_are_rejected(tmp_path, files):
    for name, (base, scenario_name) in files.items():
        write(tmp_path, child_text(base, scenario_name), name)
    p = load_problem(tmp_path / "a.toml")
    assert p.field == "base"
    assert "cycle" in p.allowed
    assert p.value in files


def test_missing_base_file(tmp_path):
    path = write(tmp_path, child_text("nowhere.toml"), "child.toml")
    p = load_problem(path)
    assert "nowhere.toml" in f"{p.file} {p.value}"
    assert "no such file" in p.allowed


def test_absolute_base_path_is_followed_unless_confined(tmp_path):
    base = write(tmp_path, BASE_TEXT, "baseline.toml")
    child = write(tmp_path, child_text(str(base)), "child.toml")
    assert load_scenario(child).name == "child"  # the command line reads what it is given
    p = load_problem(child, confined=True)  # the dashboard's rule
    assert p.field == "base"
    assert p.value == str(base)
    assert "absolute" in p.allowed


@pytest.mark.parametrize("base", ["../outside.toml", "sub/../../outside.toml", "link.toml"])
def test_confined_base_outside_the_named_files_directory_is_rejected_unread(tmp_path, monkeypatch,
                                                                     base):
    import chainsim.chain.config

    inside = tmp_path / "inside"
    (inside / "sub").mkdir(parents=True)
    outside = write(tmp_path, BASE_TEXT, "outside.toml")
    (inside / "link.toml").symlink_to(outside)
    path = write(inside, child_text(base), "child.toml")
    read = []
    original = chainsim.chain.config.read_toml

    def recording(p, file=None):
        read.append(Path(p).resolve())
        return original(p, file)

    monkeypatch.setattr(chainsim.chain.config, "read_toml", recording)
    p = load_problem(path, confined=True)
    assert p.field == "base"
    assert p.value == base
    assert "inside" in p.allowed
    assert read == [path.resolve()]  # only the named file was read
    # the same file next to the scenario is accepted (so it is the location that fails)
    write(inside, BASE_TEXT, "near.toml")
    ok = write(inside, child_text("near.toml"), "ok.toml")
    assert load_scenario(ok, confined=True).name == "child"
    # unconfined (the command line, the API), the outside file is read
    assert load_scenario(path).name == "child"


def test_a_child_must_name_itself(tmp_path):
    write(tmp_path, BASE_TEXT, "baseline.toml")
    p = load_problem(write(tmp_path, child_text("baseline.toml", name=None), "child.toml"))
    assert p.field == "scenario.name"
    assert "name" in p.allowed


# ------------------------------------------------------------------ interventions


def iv(**changes) -> dict:
    """An intervention table (valid on the short scenario unless changed)."""
    entry = {"name": "test", "parameter": "conviction_prob", "operation": "multiply",
             "value": 1.1, "start": "2014-01", "note": "a test intervention"}
    entry.update(changes)
    return entry


def iv_problems(*interventions: dict, with_resolve: bool = False) -> list[Problem]:
    doc = short_doc()
    doc["interventions"] = list(interventions)
    return problems_of(doc, with_resolve=with_resolve)


def iv_field(field: str) -> str:
    """``interventions.0.x`` (pydantic's spelling) as ``interventions[0].x``."""
    import re

    return re.sub(r"^interventions\.(\d+)", r"interventions[\1]", field)


def iv_problem(problems: list[Problem], i: int, key: str | None) -> Problem:
    """The one problem about intervention ``i`` (its ``key``, or the whole intervention)."""
    want = {f"interventions[{i}]"} if key is None else {f"interventions[{i}].{key}"}
    if key is None:
        want |= {f"interventions[{i}].{k}" for k in ("low", "high", "value", "end", "start")}
    found = [p for p in problems if iv_field(p.field) in want]
    assert len(found) == 1, f"expected one problem about {want}, got {problems}"
    assert found[0].file == FILE and found[0].allowed
    return found[0]


def test_valid_interventions_load():
    doc = short_doc()
    doc["interventions"] = [iv(), iv(name="x", parameter="inflow_rate", value=0.5,
                                     target={"form": ["labour"], "sex": ["female"]})]
    sc = scenario_from_dict(doc, FILE)
    assert [i.name for i in sc.interventions] == ["test", "x"]
    assert sc.interventions[0].ramp_months == 0 and sc.interventions[0].end is None
    resolve(sc, FILE)


def test_intervention_on_an_unknown_parameter():
    p = iv_problem(iv_problems(iv(), iv(parameter="singal_hazard")), 1, "parameter")
    assert p.value == "singal_hazard"
    assert "unknown parameter" in p.allowed and "signal_hazard" in p.allowed


@pytest.mark.parametrize("name", ["inflow_form_share", "young_share", "female_share"])
def test_intervention_on_a_parameter_that_is_not_intervenable(name):
    from chainsim.chain.spec import NOT_INTERVENABLE

    assert name in NOT_INTERVENABLE
    p = iv_problem(iv_problems(iv(parameter=name)), 0, "parameter")
    assert p.value == name
    assert "inflow_rate" in p.allowed  # the alternative is named


@pytest.mark.parametrize("operation", ["set", "add"])
def test_inflow_rate_can_only_be_multiplied(operation):
    p = iv_problem(iv_problems(iv(parameter="inflow_rate", operation=operation, value=1)), 0,
                   "operation")
    assert p.value == operation
    assert "multipl" in p.allowed


def test_unknown_operation_lists_the_operations():
    p = iv_problem(iv_problems(iv(operation="divide")), 0, "operation")
    assert p.value == "divide"
    for op in ("set", "multiply", "add"):
        assert op in p.allowed


@pytest.mark.parametrize(("target", "key", "bad", "word"), [
    ({"age_group": ["young"]}, "target.age_group", "young", "under23"),
    ({"sex": ["unknown"]}, "target.sex", "unknown", "female"),
    ({"probation": "yes"}, "target.probation", "yes", "unsupervised"),
])
def test_unknown_target_group_lists_the_groups(target, key, bad, word):
    doc = short_doc()
    doc["interventions"] = [iv(parameter="inflow_rate", value=0.9, target=target)]
    problems = problems_of(doc)
    assert len(problems) == 1
    p = problems[0]
    assert iv_field(p.field).startswith(f"interventions[0].{key}")
    assert p.value == bad
    assert word in p.allowed  # what is allowed here, not the forms of exploitation


def test_target_form_on_a_parameter_without_by_form():
    assert not PARAMETERS["recall_cv"].by_form
    p = iv_problem(iv_problems(iv(parameter="recall_cv", target={"form": ["labour"]})), 0,
                   "target.form")
    assert p.value == ["labour"]
    assert "form" in p.allowed


def test_target_age_or_sex_on_a_parameter_without_those_strata():
    problems = iv_problems(iv(target={"age_group": ["under23"]}),
                           iv(parameter="signal_hazard", target={"sex": ["female"]}))
    assert iv_problem(problems, 0, "target.age_group").value == ["under23"]
    assert iv_problem(problems, 1, "target.sex").value == ["female"]


def test_target_probation_on_a_parameter_without_a_supervised_variant():
    from chainsim.chain.spec import BY_PROBATION

    assert "conviction_prob" not in BY_PROBATION
    p = iv_problem(iv_problems(iv(target={"probation": "supervised"})), 0, "target.probation")
    assert p.value == "supervised"
    assert "reoffend_hazard" in p.allowed


@pytest.mark.parametrize(("key", "month"), [("start", "2011-12"), ("start", "2018-01"),
                                            ("end", "2018-01")])
def test_intervention_months_outside_the_horizon(key, month):
    p = iv_problem(iv_problems(iv(**{key: month})), 0, key)
    assert p.value == month
    assert "2012-01" in p.allowed and "2017-12" in p.allowed


def test_intervention_months_at_the_horizon_edges_are_allowed():
    doc = short_doc()
    doc["interventions"] = [iv(start="2012-01", end="2017-12"),
                            iv(name="one month", start="2017-12", end="2017-12")]
    assert len(scenario_from_dict(doc).interventions) == 2


def test_intervention_ending_before_it_starts():
    p = iv_problem(iv_problems(iv(start="2015-01", end="2014-12")), 0, None)
    assert "2014-12" in str(p) and "2015-01" in str(p)
    assert "before" in p.allowed


@pytest.mark.parametrize("month", ["2014-1", "2014-13", "14-01", "2014/01", ""])
def test_malformed_intervention_month(month):
    p = iv_problem(iv_problems(iv(start=month)), 0, "start")
    assert p.value == month
    assert "YYYY-MM" in p.allowed or "01..12" in p.allowed


@pytest.mark.parametrize(("low", "high", "word"), [
    (1.0, None, "both"), (None, 1.3, "both"), (1.2, 1.3, "low <= value <= high"),
    (0.9, 1.05, "low <= value <= high"),
])
def test_inconsistent_low_and_high(low, high, word):
    changes = {k: v for k, v in (("low", low), ("high", high)) if v is not None}
    p = iv_problem(iv_problems(iv(**changes)), 0, None)
    assert word in p.allowed


def test_negative_multiplier_is_rejected():
    p = iv_problem(iv_problems(iv(value=-0.5)), 0, "value")
    assert p.value == -0.5
    assert ">= 0" in p.allowed


def test_intervention_pushing_a_probability_above_one():
    # conviction_prob is 0.72 for most forms: x1.1 is fine, x1.5 takes it to 1.08
    problems = iv_problems(iv(), iv(name="too much", value=1.5), with_resolve=True)
    assert len(problems) == 1
    p = problems[0]
    assert p.field.startswith("interventions[1]")
    assert p.value == 1.5
    assert "conviction_prob" in p.allowed and "[0, 1]" in p.allowed


def test_adding_below_zero_is_rejected():
    p, = iv_problems(iv(operation="add", value=-0.9), with_resolve=True)
    assert p.field.startswith("interventions[0]")
    assert p.value == -0.9
    assert "[0, 1]" in p.allowed


def test_uncertain_range_pushing_a_probability_above_one_is_rejected():
    # the central effect (x1.1 -> 0.79) is fine, but the declared range reaches x1.5 -> 1.08;
    # a replication with --uncertainty may draw it, so the scenario must fail up front
    # (validate or resolve), not in the middle of a comparison
    problems = iv_problems(iv(low=1.0, high=1.5), with_resolve=True)
    assert [iv_field(p.field).split(" ")[0].split(".")[0] for p in problems] == [
        "interventions[0]"]
    assert "1.5" in str(problems[0]) or "[0, 1]" in problems[0].allowed


def test_inflow_multiplier_above_the_headroom():
    from chainsim.chain.spec import INFLOW_HEADROOM

    ok = short_doc()
    ok["interventions"] = [iv(parameter="inflow_rate", value=INFLOW_HEADROOM)]
    resolve(scenario_from_dict(ok, FILE), FILE)
    value = INFLOW_HEADROOM + 0.01
    p, = iv_problems(iv(parameter="inflow_rate", value=value,
                        target={"form": ["labour"]}), with_resolve=True)
    assert p.field.startswith("interventions[0]")
    assert p.value == value
    assert f"{INFLOW_HEADROOM:g}" in p.allowed


# ------------------------------------------------------- scenarios anywhere, one round


def test_a_scenario_anywhere_inherits_a_shipped_one_by_name_with_its_calibration(tmp_path):
    folder = tmp_path / "my" / "own"
    folder.mkdir(parents=True)
    path = write(folder, child_text("chainsim:baseline", "mine", iv_toml("mine")), "mine.toml")
    mine = load_scenario(path)
    shipped = load_scenario(BASELINE)  # calibrated through ../calibration/parameters.toml
    assert mine.name == "mine"
    assert [iv.name for iv in mine.interventions] == ["mine"]
    for name in PARAMETERS:
        assert mine.entry(name) == shipped.entry(name), name
    assert "[calibrated:" in mine.entry("signal_hazard").note  # the shipped calibration
    # the hand-set values are there too (calibration starts from them)
    assert load_scenario(path, calibrated=False).entry("signal_hazard") == load_scenario(
        BASELINE, calibrated=False).entry("signal_hazard")
    # a shipped scenario that inherits itself (more_probation -> baseline.toml) works too
    path = write(folder, child_text("chainsim:more_probation", "more"), "more.toml")
    assert len(load_scenario(path).interventions) == len(
        load_scenario(BASELINE.parent / "more_probation.toml").interventions)


def test_a_shipped_scenario_also_loads_by_name_and_a_wrong_name_gets_suggestions(tmp_path):
    assert load_scenario("chainsim:baseline") == load_scenario(BASELINE)
    p = load_problem(write(tmp_path, child_text("chainsim:baselin"), "child.toml"))
    assert p.field == "base" and p.value == "chainsim:baselin"
    assert "did you mean 'baseline'" in p.allowed
    assert "chainsim:more_probation" in p.allowed  # the shipped ones are listed


def test_relative_bases_may_leave_the_named_files_directory(tmp_path):
    write(tmp_path, BASE_TEXT, "common.toml")
    (tmp_path / "deep" / "er").mkdir(parents=True)
    path = write(tmp_path / "deep" / "er", child_text("../../common.toml"), "child.toml")
    assert load_scenario(path).name == "child"


def test_a_missing_calibration_file_says_how_to_get_the_shipped_one(tmp_path):
    text = BASELINE.read_text(encoding="utf-8")
    path = write(tmp_path, text, "copy.toml")  # the baseline copied without calibration/
    p = load_problem(path)
    assert p.field == "calibration"
    assert "chainsim:baseline" in p.allowed and "no such file" in p.allowed


def test_misspelt_names_get_a_did_you_mean():
    doc = short_doc()
    doc["parameters"]["singal_hazard"] = doc["parameters"].pop("signal_hazard")
    doc["interventions"] = [iv(parameter="conviction_prb")]
    problems = problems_of(doc)
    p = the_problem(problems, "parameters.singal_hazard")
    assert "did you mean 'signal_hazard'?" in p.allowed
    assert "chainsim parameters" in p.allowed  # where the whole list is
    assert "did you mean 'conviction_prob'?" in the_problem(
        problems, "interventions[0].parameter").allowed
    # a misspelt key and a misspelt choice too
    doc = short_doc()
    doc["parameters"]["recall_cv"]["vaule"] = doc["parameters"]["recall_cv"].pop("value")
    doc["interventions"] = [iv(operation="multipy")]
    problems = problems_of(doc)
    assert "did you mean 'value'?" in the_problem(problems, "parameters.recall_cv.vaule").allowed
    assert "did you mean 'multiply'?" in the_problem(
        problems, "interventions[0].operation").allowed


def test_schema_and_semantic_problems_come_in_one_round():
    """The issue's case: a misspelt name was reported only after a too-short note was fixed."""
    doc = short_doc()
    doc["parameters"]["recall_cv"]["note"] = "x"  # schema: too short
    doc["parameters"]["singal_hazard"] = doc["parameters"].pop("signal_hazard")  # a name
    doc["parameters"]["investigation_cv"]["value"] = 9.0  # range of its kind (cv <= 5)
    doc["interventions"] = [iv(operation="divide"),  # schema
                            iv(name="b", parameter="recall_cv", start="1990-01")]  # horizon
    problems = problems_of(doc)
    fields = {p.field for p in problems}
    assert {"parameters.recall_cv.note", "parameters.singal_hazard",
            "parameters.investigation_cv.value", "interventions[0].operation",
            "interventions[1].start"} <= fields, problems
    # and the valid parameter the misspelt one stands for is not reported twice
    assert "parameters.signal_hazard" in fields  # missing (the typo is not it)
    assert len(fields) == len(problems)


def test_every_field_path_uses_one_notation():
    doc = short_doc()
    doc["interventions"] = [iv(), iv(name="x", operation="divide", ramp_months=-1,
                                     target={"form": ["labor"]})]
    problems = problems_of(doc)
    assert problems
    for p in problems:
        assert not re.search(r"\.\d", p.field), p  # never interventions.1.operation
        assert p.field.startswith("interventions[1]"), p
    assert "did you mean 'labour'" in the_problem(
        problems, "interventions[1].target.form[0]").allowed


def test_a_missing_base_named_like_a_shipped_one_points_to_it(tmp_path):
    """The issue's first attempt: ``base = "baseline.toml"`` in one's own folder."""
    p = load_problem(write(tmp_path, child_text("baseline.toml"), "child.toml"))
    assert p.field == "base" and "no such file" in p.allowed
    assert 'base = "chainsim:baseline"' in p.allowed

"""Lever settings -> scenario (chainsim.dashboard.levers)."""

from __future__ import annotations

import numpy as np
import pytest

from chainsim.chain.months import parse_month
from chainsim.chain.parameters import resolve
from chainsim.chain.spec import FORMS
from chainsim.dashboard.levers import (
    LEVERS,
    Levers,
    Settings,
    baseline_scenario,
    current_scenario,
    lever_interventions,
    lever_period,
    load_preset,
    neutral_values,
    shipped_presets,
    unknown_ranges,
)
from chainsim.engines.fast import run_fast


def test_neutral_levers_give_the_baseline():
    base = load_preset("baseline.toml")
    sc = current_scenario(Settings())
    assert sc.config_hash() == base.config_hash()
    assert sc.interventions == []
    assert lever_interventions(Levers()) == []


def test_neutral_values_read_the_calibrated_baseline():
    neutral = neutral_values("baseline.toml", 2021)
    params = resolve(load_preset("baseline.toml"))
    t = parse_month("2021-01") - params.start
    assert neutral["probation"] == pytest.approx(params.at("probation_share_prison", t))
    assert neutral["capacity"] == pytest.approx(params.at("investigation_capacity", t))
    assert neutral["places"] == pytest.approx(params.at("probation_capacity", t)) == 0.0
    # a lever set to its neutral value adds nothing
    assert lever_interventions(Levers(probation=neutral["probation"], places=neutral["places"],
                                      capacity=neutral["capacity"])) == []


@pytest.mark.parametrize(("key", "value", "parameter", "form", "age"), [
    ("probation", 0.8, "probation_share_prison", 0, 1),
    ("places", 10.0, "probation_capacity", 0, 1),
    ("capacity", 250.0, "investigation_capacity", 0, 1),
    ("evidence", 0.5, "technical_dismissal_share", 0, 1),
    ("sentence", 1.5, "prison_months_mean", 0, 1),
    ("inspection", 2.0, "inspection_hazard", FORMS.index("labour"), 1),
])
def test_each_lever_changes_its_parameter_after_the_start_only(key, value, parameter, form,
                                                               age):
    base = resolve(load_preset("baseline.toml"))
    sc = current_scenario(Settings(levers=Levers().with_value(key, value)))
    assert [iv.parameter for iv in sc.interventions] == [parameter]
    params = resolve(sc)
    before = parse_month("2020-12") - params.start
    after = parse_month("2023-01") - params.start  # past the ramp
    assert params.at(parameter, before, form, age) == base.at(parameter, before, form, age)
    changed = params.at(parameter, after, form, age)
    was = base.at(parameter, after, form, age)
    expected = value if key in ("probation", "places", "capacity") else was * value
    assert changed == pytest.approx(expected)


def test_places_lever_adds_one_capacity_setting_only_when_moved():
    assert LEVERS[[spec.key for spec in LEVERS].index("probation") + 1].key == "places"
    assert lever_interventions(Levers(places=0.0)) == []  # the baseline has no limit
    added = lever_interventions(Levers(places=40.0, start_year=2024))
    assert len(added) == 1
    iv = added[0]
    assert (iv["parameter"], iv["operation"], iv["value"]) == ("probation_capacity", "set", 40.0)
    assert iv["start"] == "2024-01" and "0 = no limit" in iv["note"]
    # no ramp: ramping up from 0 (no limit) would pass through tighter limits than 40
    params = resolve(current_scenario(Settings(levers=Levers(places=40.0, start_year=2024))))
    t = parse_month("2024-01") - params.start
    assert params.at("probation_capacity", t - 1) == 0.0
    assert params.at("probation_capacity", t) == 40.0


def test_places_lever_reads_the_capped_preset():
    preset = "more_probation_capped.toml"
    assert preset in shipped_presets()
    assert neutral_values(preset, 2021)["places"] == 50.0
    assert neutral_values(preset, 2025)["places"] == 50.0
    # levers from 2020: the preset's limit (from 2021) is what the scenario settles at
    assert neutral_values(preset, 2020)["places"] == 50.0
    assert lever_interventions(Levers(places=50.0), preset) == []
    # moving it to 0 lifts the preset's limit
    lifted = lever_interventions(Levers(places=0.0), preset)
    assert [(iv["parameter"], iv["value"]) for iv in lifted] == [("probation_capacity", 0.0)]
    sc = current_scenario(Settings(preset, Levers(places=0.0)))
    params = resolve(sc)
    assert params.at("probation_capacity", parse_month("2030-01") - params.start) == 0.0


def test_places_below_the_caseload_refuse_supervisions():
    settings = Settings(levers=Levers(places=10.0))
    sc = current_scenario(settings)  # validates
    params = resolve(sc)
    events = run_fast(params, 3).records
    refused = events[events["event"].astype(str) == "probation_refused"]
    assert len(refused) > 0
    assert (refused["month"] >= parse_month("2021-01")).all()  # absolute months
    baseline = run_fast(resolve(baseline_scenario(settings)), 3).records
    assert (baseline["event"].astype(str) == "probation_refused").sum() == 0


def test_inspection_lever_reaches_labour_only():
    base = resolve(load_preset("baseline.toml"))
    params = resolve(current_scenario(Settings(levers=Levers(inspection=2.0))))
    other = FORMS.index("domestic_sexual")
    hazard = params["inspection_hazard"]
    assert np.array_equal(hazard[:, other], base["inspection_hazard"][:, other])


def test_prevention_lever_thins_the_inflow_of_the_young():
    base = resolve(load_preset("baseline.toml"))
    params = resolve(current_scenario(Settings(levers=Levers(prevention=0.3))))
    t = parse_month("2025-01") - params.start
    young, old = 0, 1
    ratio = params["inflow_stratum_rate"][t] / base["inflow_stratum_rate"][t]
    assert np.allclose(ratio[:, young], 0.7)
    assert np.allclose(ratio[:, old], 1.0)


def test_unknowns_change_baseline_and_levers_alike():
    settings = Settings(levers=Levers(probation=0.8)).with_unknown("reoffend_hazard", 0.01)
    assert baseline_scenario(settings).unknowns["reoffend_hazard"].central == 0.01
    assert current_scenario(settings).unknowns["reoffend_hazard"].central == 0.01
    assert baseline_scenario(settings).config_hash() != load_preset("baseline.toml").config_hash()


def test_unknown_ranges_are_the_baselines():
    ranges = unknown_ranges(load_preset("baseline.toml"))
    assert ranges["inflow_rate"] == (600, 300, 1300)
    assert all(low <= central <= high for central, low, high in ranges.values())


def test_presets_are_the_shipped_scenarios_and_levers_add_on_top():
    presets = shipped_presets()
    assert presets[0] == "baseline.toml" and "more_probation.toml" in presets
    assert not any(name.startswith("stress_") for name in presets)
    preset = load_preset("more_probation.toml")
    sc = current_scenario(Settings("more_probation.toml", Levers(sentence=1.2)))
    assert len(sc.interventions) == len(preset.interventions) + 1
    assert sc.name == "more_probation_levers"
    with pytest.raises(ValueError):
        load_preset("../calibration/parameters.toml")


def test_every_lever_range_is_valid_at_its_extremes():
    for spec in LEVERS:
        for value in (spec.low, spec.high):
            resolve(current_scenario(Settings(levers=Levers().with_value(spec.key, value))))


def test_lever_period_starts_with_the_levers():
    sc = current_scenario(Settings(levers=Levers(start_year=2024)))
    assert lever_period(Levers(start_year=2024), sc) == (parse_month("2024-01"),
                                                          parse_month("2035-12"))


def test_the_dashboard_keeps_its_scenarios_confined(tmp_path):
    """It serves others: a preset's base may not leave the presets' folder (the CLI's may)."""
    from chainsim.chain.errors import InputError
    from conftest import SHORT

    presets = tmp_path / "presets"
    presets.mkdir()
    (tmp_path / "outside.toml").write_text(SHORT.read_text(encoding="utf-8"), encoding="utf-8")
    (presets / "p.toml").write_text('base = "../outside.toml"\n[scenario]\nname = "p"\n',
                                    encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_preset("p.toml", presets)
    (p,) = info.value.problems
    assert p.field == "base" and "inside" in p.allowed
    assert load_preset("baseline.toml").name == "baseline"  # the shipped presets load


def test_neutral_values_read_a_preset_after_its_ramp():
    # detection_target_190 raises capacity to 200 from 2021-01 over 12 months: the lever
    # reads 200 (what the scenario sets), not the 2021-01 value at the ramp's start
    neutral = neutral_values("detection_target_190.toml", 2021)
    assert neutral["capacity"] == pytest.approx(200.0)
    assert lever_interventions(Levers(capacity=neutral["capacity"]),
                               "detection_target_190.toml") == []


def test_a_users_folder_adds_presets_that_inherit_from_the_shipped_baseline(tmp_path, monkeypatch):
    """``dashboard --scenarios DIR``: the user's files are presets beside the shipped ones."""
    from chainsim.dashboard.levers import (
        USER_SCENARIOS_ENV,
        check_user_scenarios,
        load_preset,
        shipped_presets,
    )

    (tmp_path / "my_probation.toml").write_text(
        'base = "chainsim:more_probation"\n[scenario]\nname = "my_probation"\n'
        'description = "More probation, as I would set it up for my own office."\n')
    assert check_user_scenarios(tmp_path) == ["my_probation.toml"]
    monkeypatch.setenv(USER_SCENARIOS_ENV, str(tmp_path))
    load_preset.cache_clear()
    names = shipped_presets()
    assert names[0] == "baseline.toml" and names[-1] == "my_probation.toml"
    assert load_preset("my_probation.toml").interventions
    load_preset.cache_clear()


@pytest.mark.parametrize("case", ["missing", "empty", "clash", "broken"])
def test_a_users_folder_with_a_problem_is_refused_before_the_start(tmp_path, case):
    from chainsim.chain.errors import InputError
    from chainsim.dashboard.levers import check_user_scenarios

    folder = tmp_path / "mine"
    if case != "missing":
        folder.mkdir()
    if case == "clash":
        (folder / "baseline.toml").write_text('base = "chainsim:baseline"\n')
    if case == "broken":
        (folder / "mine.toml").write_text(
            'base = "chainsim:baseline"\n[parameters.signal_hazrd]\nvalue = 1\n')
    with pytest.raises(InputError) as err:
        check_user_scenarios(folder)
    text = str(err.value)
    assert {"missing": "a folder of scenario files", "empty": "at least one scenario file",
            "clash": "a name no shipped scenario has", "broken": "signal_hazrd"}[case] in text
    if case == "broken":  # in the same round as the misspelt parameter
        assert "must give its own name" in text

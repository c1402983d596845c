"""The shipped scenarios in scenarios/: they load, resolve and say what they change and why."""

from __future__ import annotations

import tomllib

import numpy as np
import pytest

from chainsim.chain.config import load_scenario
from chainsim.chain.parameters import resolve, unknown_keys
from chainsim.chain.spec import PARAMETERS
from conftest import ROOT

SCENARIOS = ROOT / "scenarios"
FILES = sorted(SCENARIOS.glob("*.toml"))
SINGLE = ["better_evidence", "detection_target_190", "labour_sector_inventory",
          "more_probation", "youth_prevention", "youth_resocialisation"]
VARIANTS = ["more_probation_capped"]
"""Variants of a single-intervention scenario (``base`` = that scenario)."""
STRESS = "stress_million"
"""The engine's stress case (about a million offenders): only loaded and resolved here,
never simulated by the suite (tests/engines/test_scale.py runs a scaled-down copy)."""


@pytest.fixture(scope="module")
def loaded():
    return {path.stem: load_scenario(path) for path in FILES}


def test_the_expected_scenarios_are_shipped():
    assert {p.stem for p in FILES} == {"baseline", "combined", *SINGLE, *VARIANTS, STRESS}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_shipped_scenario_loads_and_resolves(path):
    sc = load_scenario(path)
    assert sc.name == path.stem  # the file is named after its scenario
    params = resolve(sc, str(path))
    assert set(PARAMETERS) <= set(params.values)
    for name, arr in params.values.items():
        assert np.all(np.isfinite(arr)), name


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_shipped_scenario_resolves_at_the_ends_of_its_ranges(path):
    # with --uncertainty any value in a declared range may be drawn
    sc = load_scenario(path)
    keys = unknown_keys(sc)
    for end in (1, 2):
        resolve(sc, str(path), draws={k: v[end] for k, v in keys.items()})


@pytest.mark.parametrize("name", [*SINGLE, *VARIANTS, "combined"])
def test_policy_scenarios_describe_and_explain_their_interventions(loaded, name):
    sc = loaded[name]
    assert len(sc.scenario.description) > 20
    assert sc.interventions
    for iv in sc.interventions:
        assert len(iv.note.strip()) > 10, iv.name
    names = [iv.name for iv in sc.interventions]
    assert len(set(names)) == len(names)  # names key uncertain effects: keep them unique


@pytest.mark.parametrize("name", [*SINGLE, "combined"])
def test_policy_scenarios_keep_the_baselines_parameters_and_horizon(loaded, name):
    # interventions (levers, effects) are the only difference, so the arms can be compared
    sc, base = loaded[name], loaded["baseline"]
    assert (sc.scenario.start, sc.scenario.end) == (base.scenario.start, base.scenario.end)
    assert sc.parameters == base.parameters
    assert sc.unknowns == base.unknowns
    raw = tomllib.loads((SCENARIOS / f"{name}.toml").read_text(encoding="utf-8"))
    assert raw["base"] == "baseline.toml" or name == "combined"


def test_combined_holds_the_interventions_of_all_six_others(loaded):
    combined = loaded["combined"].interventions
    raw = tomllib.loads((SCENARIOS / "combined.toml").read_text(encoding="utf-8"))
    assert sorted(raw["base"]) == sorted(f"{name}.toml" for name in SINGLE)
    expected = [iv for base in raw["base"] for iv in loaded[base.removesuffix(".toml")]
                .interventions]
    assert combined == expected  # every one, in the order of the bases, nothing else
    for name in SINGLE:
        for iv in loaded[name].interventions:
            assert iv in combined, (name, iv.name)


def test_the_stress_case_says_what_it_is_and_scales_the_baseline(loaded):
    sc, base = loaded[STRESS], loaded["baseline"]
    raw = tomllib.loads((SCENARIOS / f"{STRESS}.toml").read_text(encoding="utf-8"))
    assert raw["base"] == "baseline.toml"
    assert "stress" in sc.scenario.description.lower()
    assert "not policy" in sc.scenario.description.lower()
    assert not sc.interventions
    assert (sc.scenario.start, sc.scenario.end) == (base.scenario.start, base.scenario.end)
    params, ref = resolve(sc), resolve(base)
    scale = params["inflow_stratum_rate"].sum() / ref["inflow_stratum_rate"].sum()
    capacity = params["investigation_capacity"] / ref["investigation_capacity"]
    assert 40 <= scale <= 50
    np.testing.assert_allclose(capacity, scale, rtol=0.01)  # capacity scaled alike
    # about a million offenders: the starting pool plus the inflow over the horizon
    expected = params.initial_pool_rates().sum() + params["inflow_stratum_rate"][1:].sum() / 12
    assert 0.9e6 <= expected <= 1.1e6


def test_the_capped_variant_adds_probation_places_to_more_probation(loaded):
    capped, plain = loaded["more_probation_capped"], loaded["more_probation"]
    assert capped.interventions[:len(plain.interventions)] == plain.interventions
    (extra,) = capped.interventions[len(plain.interventions):]
    assert (extra.parameter, extra.operation, extra.value) == ("probation_capacity", "set", 50)
    assert loaded["baseline"].parameters["probation_capacity"].value == 0  # off: no limit

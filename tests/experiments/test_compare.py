"""Paired comparison on common random numbers: exact zeros, untouched streams, CIs, documents.

Every model run here is on the short horizon (2012-2017) with interventions from 2014-01
and at most two replications per arm.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import chainsim.experiments.compare
from chainsim.analysis.proxies import CONFIDENCE, PROXIES, default_period, paired_delta
from chainsim.chain.config import Scenario, scenario_from_dict
from chainsim.chain.errors import InputError
from chainsim.chain.months import parse_month
from chainsim.chain.parameters import resolve
from chainsim.chain.streams import replication_seeds
from chainsim.chain.uncertainty import declared_unknowns, sample_unknowns
from chainsim.engines.model import ChainModel
from chainsim.experiments.compare import ArmReplication, compare, comparison_document
from conftest import SEED, short_doc

START = "2014-01"
START_MONTH = parse_month(START)
END_MONTH = parse_month("2017-12")


def scenario(name: str, *interventions: dict) -> Scenario:
    """The short scenario under another name, with interventions (start 2014-01 by default)."""
    doc = short_doc()
    doc["scenario"]["name"] = name
    doc["interventions"] = [{"name": f"{name} {i}", "start": START, "note": "a test",
                             **entry} for i, entry in enumerate(interventions)]
    return scenario_from_dict(doc, f"{name}.toml")


TOUGHER = (
    {"parameter": "prison_months_mean", "operation": "multiply", "value": 1.3, "low": 1.1,
     "high": 1.6},
    {"parameter": "probation_share_prison", "operation": "set", "value": 0.8,
     "ramp_months": 6},
)
BROAD = (
    {"parameter": "inflow_rate", "operation": "multiply", "value": 0.6,
     "target": {"form": ["domestic_sexual"], "age_group": ["under23"]}},
    {"parameter": "signal_hazard", "operation": "multiply", "value": 1.5},
    {"parameter": "investigation_capacity", "operation": "set", "value": 400},
    {"parameter": "technical_dismissal_share", "operation": "multiply", "value": 0.6},
    {"parameter": "prison_months_mean", "operation": "multiply", "value": 1.3},
    {"parameter": "probation_share_prison", "operation": "set", "value": 0.8},
    {"parameter": "reoffend_hazard", "operation": "multiply", "value": 0.5},
)


def records_of(sc: Scenario, seed=SEED) -> pd.DataFrame:
    return ChainModel(resolve(sc), seed).run().records.to_frame()


# ------------------------------------------------------------------ common random numbers


def test_a_scenario_compared_with_itself_gives_exactly_zero():
    sc = scenario("tougher", *TOUGHER)
    cmp = compare(sc, [sc], reps=2, seed=5, workers=1, uncertainty=True)
    doc = comparison_document(cmp)
    deltas = doc["scenarios"]["tougher"]["deltas"]
    assert set(deltas) == set(PROXIES)
    defined = [p for p, d in deltas.items() if d["mean"] is not None]
    # harm and workload proxies are defined on any period; 2-year recidivism has follow-up
    assert {"active_offender_months", "prison_months_served", "court_cases",
            "recid_observed_general_2y"} <= set(defined)
    for proxy in defined:
        d = deltas[proxy]
        assert (d["mean"], d["lo"], d["hi"], d["n"]) == (0.0, 0.0, 0.0, 2), proxy
    table = cmp.proxies()
    base = table[table["arm"] == 0].drop(columns=["arm"]).reset_index(drop=True)
    same = table[table["arm"] == 1].drop(columns=["arm"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(base, same)


def test_records_before_the_interventions_start_are_identical(baseline_records):
    records = records_of(scenario("broad", *BROAD))
    before_base = baseline_records[baseline_records["month"] < START_MONTH]
    before = records[records["month"] < START_MONTH]
    assert len(before_base) > 1000
    pd.testing.assert_frame_equal(before.reset_index(drop=True),
                                  before_base.reset_index(drop=True))
    # ... and the interventions do change what happens afterwards
    after_base = baseline_records[baseline_records["month"] >= START_MONTH]
    after = records[records["month"] >= START_MONTH]
    assert len(after) != len(after_base) or not after.reset_index(drop=True).equals(
        after_base.reset_index(drop=True))


@pytest.mark.slow
def test_a_sentencing_intervention_leaves_every_inflow_record_identical(baseline_records):
    records = records_of(scenario("longer", {"parameter": "prison_months_mean",
                                             "operation": "multiply", "value": 1.5}))

    def inflow(r: pd.DataFrame) -> pd.DataFrame:
        return r[r["event"].astype(str).isin(("inflow", "pool"))].reset_index(drop=True)

    assert len(inflow(baseline_records)) > 1000
    pd.testing.assert_frame_equal(inflow(records), inflow(baseline_records))

    # the intervention did take effect: longer prison terms imposed from 2014
    def terms(r: pd.DataFrame) -> pd.Series:
        prison = r[(r["event"].astype(str) == "prison") & (r["month"] >= START_MONTH)]
        return prison["value"]

    assert terms(records).mean() > 1.2 * terms(baseline_records).mean()


# ------------------------------------------------------------------ paired deltas


def test_paired_delta_matches_a_hand_computed_t_interval():
    d = np.array([1.0, 2.5, -0.5, 3.0, 0.25])
    out = paired_delta(d)
    mean = d.sum() / 5
    sd = np.sqrt(((d - mean) ** 2).sum() / 4)
    half = stats.t.ppf(0.975, df=4) * sd / np.sqrt(5)
    assert CONFIDENCE == 0.95
    assert out["n"] == 5
    assert out["mean"] == pytest.approx(mean)
    assert out["lo"] == pytest.approx(mean - half)
    assert out["hi"] == pytest.approx(mean + half)
    assert half == pytest.approx(2.776445 * sd / np.sqrt(5), rel=1e-6)  # t(0.975, 4)


def test_paired_delta_leaves_out_nan_and_handles_small_samples():
    with_nan = paired_delta(np.array([1.0, np.nan, 3.0]))
    assert with_nan["n"] == 2 and with_nan["mean"] == 2.0
    half = stats.t.ppf(0.975, df=1) * np.std([1.0, 3.0], ddof=1) / np.sqrt(2)
    assert with_nan["lo"] == pytest.approx(2.0 - half)
    assert paired_delta(np.array([4.0])) == {"mean": 4.0, "lo": None, "hi": None, "n": 1}
    assert paired_delta(np.array([np.nan, np.nan])) == {"mean": None, "lo": None, "hi": None,
                                                         "n": 0}
    assert paired_delta(np.zeros(3)) == {"mean": 0.0, "lo": 0.0, "hi": 0.0, "n": 3}
    assert paired_delta(np.full(4, -2.5)) == {"mean": -2.5, "lo": -2.5, "hi": -2.5, "n": 4}


# ------------------------------------------------------------------ periods and horizons


def test_default_period_runs_from_the_first_intervention_to_the_end():
    base = scenario("base")
    assert default_period([base, scenario("tougher", *TOUGHER)]) == (START_MONTH, END_MONTH)
    later = scenario("later", {"parameter": "trial_months", "operation": "add", "value": 1,
                               "start": "2015-06"})
    assert default_period([base, later, scenario("tougher", *TOUGHER)])[0] == START_MONTH


def test_default_period_stays_inside_a_horizon_that_ends_before_2021():
    # no interventions (e.g. two parameter variants) on a horizon ending in 2017: the period
    # must still be a stretch of simulated months, not 2021-01..2017-12
    start, end = default_period([scenario("base"), scenario("other")])
    assert parse_month("2012-01") <= start <= end <= END_MONTH


def test_compare_rejects_scenarios_with_another_horizon():
    doc = short_doc()
    doc["scenario"]["end"] = "2016-12"
    other = scenario_from_dict(doc)
    with pytest.raises(InputError) as info:
        compare(scenario("base"), [other], reps=1, workers=1)
    (p,) = info.value.problems
    assert "horizon" in p.allowed


def test_same_named_interventions_of_different_arms_get_draws_from_their_own_range(
        monkeypatch):
    # two scenarios that happen to name their uncertain intervention alike, with different
    # parameters and ranges: each arm must draw its effect from its own declared range
    grow = scenario("grow", {"name": "effect", "parameter": "signal_hazard",
                             "operation": "multiply", "value": 1.5, "low": 1.2, "high": 2.0})
    shrink = scenario("shrink", {"name": "effect", "parameter": "conviction_prob",
                                 "operation": "multiply", "value": 0.5, "low": 0.3,
                                 "high": 0.7})
    seen = []

    def fake_task(task):  # no model run: record what each arm would use
        arms, numbers, rep, _seed, draws, *_ = task
        seen.extend((sc, draws) for sc in arms)
        return [ArmReplication(arm, rep, {}, pd.DataFrame(), {}, pd.DataFrame(), draws)
                for arm in numbers]

    monkeypatch.setattr(chainsim.experiments.compare, "_replication_task", fake_task)
    try:
        compare(scenario("base"), [grow, shrink], reps=6, seed=2, workers=1, uncertainty=True)
    except InputError:
        return  # refusing the ambiguous names is fine too
    for sc, draws in seen:
        for iv in sc.interventions:
            value = draws[f"interventions.{iv.name}"]
            assert iv.low <= value <= iv.high, (sc.name, iv.name, value)


# ------------------------------------------------------------------ uncertainty and documents


@pytest.fixture(scope="module")
def arms():
    return scenario("base"), scenario("tougher", *TOUGHER)


@pytest.fixture(scope="module")
def uncertain(arms):
    base, tougher = arms
    return compare(base, [tougher], reps=2, seed=3, workers=1, uncertainty=True)


def test_every_arm_shares_each_replications_draws(uncertain, arms):
    expected_keys = set(declared_unknowns(list(arms)))
    assert "interventions.tougher 0" in expected_keys
    assert "inflow_rate" in expected_keys
    seeds = replication_seeds(3, 2)
    by_rep = {}
    for r in uncertain.results:
        by_rep.setdefault(r.rep, []).append(r.draws)
    assert sorted(by_rep) == [0, 1]
    for rep, draws in by_rep.items():
        assert len(draws) == 2
        assert draws[0] == draws[1]  # baseline and scenario see the same unknowns
        assert set(draws[0]) == expected_keys
        assert draws[0] == sample_unknowns(declared_unknowns(list(arms)), seeds[rep])
    assert by_rep[0][0]["inflow_rate"] != by_rep[1][0]["inflow_rate"]
    table = uncertain.draws()
    assert list(table["rep"]) == [0, 1]
    assert table.loc[1, "inflow_rate"] == by_rep[1][0]["inflow_rate"]


def test_comparison_document_keys(uncertain):
    doc = comparison_document(uncertain)
    assert {"baseline", "seed", "reps", "engine", "uncertainty", "period", "confidence",
            "baseline_levels", "scenarios"} <= set(doc)
    assert doc["baseline"] == "base"
    assert (doc["seed"], doc["reps"], doc["engine"]) == (3, 2, "fast")
    assert doc["uncertainty"] is True
    assert doc["period"] == [START, "2017-12"]
    assert doc["confidence"] == CONFIDENCE
    assert list(doc["baseline_levels"]) == list(PROXIES)
    assert list(doc["scenarios"]) == ["tougher"]
    entry = doc["scenarios"]["tougher"]
    assert list(entry["deltas"]) == list(PROXIES)
    assert list(entry["levels"]) == list(PROXIES)
    for proxy in PROXIES:
        assert set(entry["deltas"][proxy]) == {"mean", "lo", "hi", "n"}
        assert set(entry["levels"][proxy]) == {"mean", "lo", "hi"}
        assert set(doc["baseline_levels"][proxy]) == {"mean", "lo", "hi"}
    # the deltas are the paired differences of the proxies
    table = uncertain.proxies()
    diff = (table[table["arm"] == 1].set_index("rep")["court_cases"]
            - table[table["arm"] == 0].set_index("rep")["court_cases"])
    assert entry["deltas"]["court_cases"] == paired_delta(diff.to_numpy())
    # longer terms and more supervision: more prison-months and a larger caseload
    assert entry["deltas"]["probation_caseload"]["mean"] > 0
    json.dumps(doc, allow_nan=False)  # what --json prints


def test_results_do_not_depend_on_the_number_of_workers(uncertain, arms):
    base, tougher = arms
    parallel = compare(base, [tougher], reps=2, seed=3, workers=2, uncertainty=True)
    pd.testing.assert_frame_equal(parallel.proxies(), uncertain.proxies())
    pd.testing.assert_frame_equal(parallel.draws(), uncertain.draws())
    assert comparison_document(parallel) == comparison_document(uncertain)


def test_arms_together_or_one_per_task_give_the_same_comparison(arms):
    # with the fast engine, 3 replications on 1 or 2 workers run every arm of a
    # replication in one task (sharing the engine's start); on 4 workers one arm each
    base, tougher = arms
    assert chainsim.experiments.compare.arms_together("fast", 3, 2)
    assert not chainsim.experiments.compare.arms_together("fast", 3, 4)
    assert not chainsim.experiments.compare.arms_together("agents", 3, 1)
    together = compare(base, [tougher], reps=3, seed=4, workers=2, engine="fast")
    apart = compare(base, [tougher], reps=3, seed=4, workers=4, engine="fast")
    assert [(r.arm, r.rep) for r in together.results] == [(a, i) for a in (0, 1)
                                                          for i in range(3)]
    pd.testing.assert_frame_equal(together.proxies(), apart.proxies())
    pd.testing.assert_frame_equal(together.yearly(), apart.yearly())
    assert comparison_document(together) == comparison_document(apart)

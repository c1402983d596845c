"""The vectorised engine reproduces the agent model exactly.

Same parameters and seed: the same records (compared after a stable sort by
offender and month, so within one offender and month the order of events must be
the agent model's too), the same dtypes and the same stage counts at the end. Runs
are on the short horizon (2012-2017) unless marked slow.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from chainsim.chain.config import scenario_from_dict
from chainsim.chain.parameters import ParameterSet, resolve
from chainsim.chain.streams import replication_seeds
from chainsim.chain.uncertainty import declared_unknowns, sample_unknowns
from chainsim.engines import fast
from chainsim.engines.fast import FastResult, run_fast
from chainsim.engines.model import ChainModel
from conftest import (
    BASELINE,
    NON_BINDING_CAPACITY,
    SEED,
    capped_params,
    make_params,
    set_param,
    short_doc,
)

INTERVENTION_START = "2014-01"


def by_offender(records: pd.DataFrame) -> pd.DataFrame:
    """Records in offender, month order; within those, the order the engine logged them."""
    return records.sort_values(["agent_id", "month"], kind="stable").reset_index(drop=True)


def assert_engines_agree(params: ParameterSet, seed=SEED) -> tuple[ChainModel, FastResult]:
    model = ChainModel(params, seed, keep_history=False).run()
    result = run_fast(params, seed)
    pd.testing.assert_frame_equal(by_offender(result.records),
                                  by_offender(model.records.to_frame()), check_exact=True)
    np.testing.assert_array_equal(result.stage_counts, model.stage_counts)
    return model, result


def with_interventions(*entries: dict) -> ParameterSet:
    doc = short_doc()
    doc["interventions"] = [{"name": f"test {i}", "start": INTERVENTION_START, "note": "a test",
                             **entry} for i, entry in enumerate(entries)]
    return resolve(scenario_from_dict(doc, "interventions.toml"))


# ------------------------------------------------------------------ exact equality


@pytest.mark.parametrize("seed", [SEED, 2, 3])
def test_short_baseline_gives_the_agent_models_records(short_params, seed):
    _, result = assert_engines_agree(short_params, seed)
    events = set(result.records["event"].astype(str))
    # the run exercises every path of the chain
    assert events >= {"pool", "inflow", "signalled", "dropped", "investigation_started",
                      "inspected", "registered_other", "traced", "summoned",
                      "summoned_detained", "technical_dismissal", "policy_dismissal",
                      "other_disposal", "acquitted", "convicted", "prison", "non_custodial",
                      "released", "probation_start", "probation_end", "reoffended",
                      "general_offence", "general_case", "desisted"}


@pytest.mark.slow
def test_a_seed_sequence_and_its_spawned_replications_agree(short_params):
    for seed in replication_seeds(7, 2):
        assert_engines_agree(short_params, seed)


@pytest.mark.slow
def test_unlimited_capacity_gives_the_agent_models_records():
    params = make_params({"investigation_capacity": NON_BINDING_CAPACITY})
    _, result = assert_engines_agree(params, 4)
    assert (result.records["event"] == "dropped").sum() == 0


def test_no_capacity_leaves_every_signal_waiting_or_dropped():
    params = make_params({"investigation_capacity": 0.0})
    _, result = assert_engines_agree(params, 5)
    assert (result.records["event"] == "investigation_started").sum() == 0
    assert (result.records["event"] == "dropped").sum() > 100


@pytest.mark.slow
def test_high_pretrial_detention_and_probation_shares():
    params = make_params({"pretrial_detention_share": 0.95, "probation_share_prison": 0.9,
                          "probation_share_other": 0.9})
    _, result = assert_engines_agree(params, 6)
    events = result.records["event"].astype(str)
    assert (events == "summoned_detained").sum() > 5 * (events == "summoned").sum()
    # release straight after judgment when pre-trial detention covers the term
    released = result.records[events == "released"]
    judged = result.records[events == "prison"]
    same_month = released.merge(judged, on=["agent_id", "month"])
    assert len(same_month) > 0


@pytest.mark.slow
def test_many_reoffenders_juveniles_and_long_supervision():
    """Several chain passes per offender: reoffending, other offences, long probation."""
    doc = short_doc()
    for name, value in {"reoffend_hazard": 0.04, "general_offence_hazard": 0.08,
                        "probation_share_prison": 0.7, "probation_share_other": 0.7,
                        "probation_months": 60, "signal_hazard": 0.03,
                        "investigation_capacity": 600, "young_share": 0.6,
                        "adolescent_law_share": 0.5, "desistance_hazard": 0.004,
                        "post_desistance_hazard": 0.004, "revocation_hazard": 0.002}.items():
        set_param(doc, name, value)
    params = make_params(doc=doc)
    _, result = assert_engines_agree(params, 8)
    records = result.records
    again = records["event"].isin(["reoffended", "resumed"])  # a new spell after a case
    assert records[again].groupby("agent_id").size().max() >= 3
    assert (records["priors"] >= 3).any()
    assert ((records["event"] == "general_offence") & records["probation"]).any()


@pytest.mark.slow
def test_many_other_offences_per_spell_after_the_chain():
    # other offences are drawn a few draws at a time per offender (fast.GENERAL_LOOKAHEAD):
    # with many per spell, and several spells per offender, the lookahead runs out often
    params = make_params({"general_offence_hazard": 0.6, "post_desistance_hazard": 0.002,
                          "reoffend_hazard": 0.03, "signal_hazard": 0.05,
                          "investigation_capacity": NON_BINDING_CAPACITY})
    _, result = assert_engines_agree(params, 5)
    records = result.records
    per_offender = records[records["event"] == "general_offence"].groupby("agent_id").size()
    assert per_offender.max() > 4 * fast.GENERAL_LOOKAHEAD
    assert (records["event"] == "general_case").any()


@pytest.mark.parametrize("changes", [
    # every signal dropped the next month unless served; reoffending at once
    {"queue_drop_hazard": 1.0, "inspection_hazard": 0.0, "desistance_hazard": 0.0,
     "reoffend_hazard": 1.0},
    # desistance at once after the chain; certain other offences (none happen)
    {"signal_hazard": 0.3, "post_desistance_hazard": 1.0, "general_offence_hazard": 1.0,
     "investigation_capacity": NON_BINDING_CAPACITY},
], ids=["certain-drops-and-reoffending", "certain-desistance"])
@pytest.mark.slow
def test_certain_and_impossible_events(changes):
    assert_engines_agree(make_params(changes), 3)


@pytest.mark.slow
def test_the_shortest_chains_and_quick_reoffending():
    """Every duration one month and high hazards: new signals follow an investigation fast."""
    params = make_params({"trial_months": 1, "trial_cv": 0.01, "investigation_months": 1,
                          "investigation_cv": 0.01, "om_decision_months": 1,
                          "om_decision_cv": 0.01, "reoffend_hazard": 0.5, "signal_hazard": 0.5,
                          "investigation_capacity": NON_BINDING_CAPACITY})
    _, result = assert_engines_agree(params, 3)
    assert (result.records["event"] == "reoffended").sum() > 1000


@pytest.mark.slow
def test_interventions_give_the_agent_models_records():
    params = with_interventions(
        {"parameter": "inflow_rate", "operation": "multiply", "value": 0.6,
         "target": {"form": ["domestic_sexual"], "age_group": ["under23"]}},
        {"parameter": "signal_hazard", "operation": "multiply", "value": 1.5},
        {"parameter": "investigation_capacity", "operation": "set", "value": 400},
        {"parameter": "technical_dismissal_share", "operation": "multiply", "value": 0.6},
        {"parameter": "prison_months_mean", "operation": "multiply", "value": 1.3},
        {"parameter": "probation_share_prison", "operation": "set", "value": 0.8,
         "ramp_months": 6},
        {"parameter": "reoffend_hazard", "operation": "multiply", "value": 0.5,
         "target": {"probation": "supervised"}},
        {"parameter": "investigation_months", "operation": "multiply", "value": 0.7,
         "ramp_months": 12},
    )
    assert_engines_agree(params, 9)


@pytest.mark.parametrize(("places", "start", "seed"), [(8, "2015-01", 11), (3, "2012-01", 4),
                                                   (20, "2014-07", 5)])
def test_probation_capacity_gives_the_agent_models_records(places, start, seed):
    """Supervisions decided at the month's end in id order, in both engines alike: a
    capacity from the start, and one that begins mid-run (supervisions before it start at
    once and fill places)."""
    _, result = assert_engines_agree(capped_params(places, start), seed)
    events = result.records["event"].astype(str)
    assert (events == "probation_refused").sum() > 0
    assert (events == "probation_start").sum() > 0


# ------------------------------------------------------------------ arms sharing their start


def arm_params(short_params) -> list[ParameterSet]:
    """A baseline and arms that differ after the police (sharing the start) or before."""
    return [short_params,
            with_interventions({"parameter": "probation_share_prison", "operation": "set",
                                "value": 0.8, "ramp_months": 6},
                               {"parameter": "conviction_prob", "operation": "multiply",
                                "value": 1.2}),
            with_interventions({"parameter": "reoffend_hazard", "operation": "multiply",
                                "value": 0.5, "target": {"probation": "supervised"}}),
            with_interventions({"parameter": "reoffend_hazard", "operation": "multiply",
                                "value": 3.0}),
            with_interventions({"parameter": "signal_hazard", "operation": "multiply",
                                "value": 1.5}),
            with_interventions({"parameter": "inflow_rate", "operation": "multiply",
                                "value": 0.6}),
            with_interventions({"parameter": "investigation_months", "operation": "multiply",
                                "value": 0.7})]


def test_which_arms_begin_alike(short_params):
    params = arm_params(short_params)
    # a lower reoffending hazard under supervision changes no highest hazard (the lower
    # bounds on due months read those); a higher reoffending hazard does
    assert [fast._same_start(params[0], p) for p in params] == [
        True, True, True, False, False, False, False]


@pytest.mark.parametrize("seed", [SEED, 4])
def test_arms_run_together_give_the_separate_runs(short_params, seed):
    params = arm_params(short_params)
    together = fast.run_fast_arms(params, seed)
    for p, result in zip(params, together, strict=True):
        alone = run_fast(p, seed)
        pd.testing.assert_frame_equal(result.records, alone.records, check_exact=True)
        np.testing.assert_array_equal(result.stage_counts, alone.stage_counts)
        np.testing.assert_array_equal(result.by_agent, alone.by_agent)


def test_a_branch_refuses_state_it_does_not_know(short_params):
    engine = fast._Engine(short_params, SEED)
    engine.begin()
    engine.something_new = []
    with pytest.raises(RuntimeError, match="something_new"):
        engine.branch(short_params)


@pytest.mark.slow
def test_sampled_unknowns_give_the_agent_models_records(short_scenario):
    seed = replication_seeds(11, 1)[0]
    draws = sample_unknowns(declared_unknowns([short_scenario]), seed)
    assert draws
    assert_engines_agree(resolve(short_scenario, draws=draws), seed)


@pytest.mark.slow
def test_full_baseline_gives_the_agent_models_records():
    from chainsim.chain.config import load_scenario

    params = resolve(load_scenario(BASELINE), str(BASELINE))
    _, result = assert_engines_agree(params, replication_seeds(2024, 1)[0])
    assert len(result.records) > 50_000


# ------------------------------------------------------------------ the result itself


def test_records_have_the_record_logs_columns_and_dtypes(short_params):
    records = run_fast(short_params, SEED).records
    expected = ChainModel(short_params, SEED).records.to_frame().iloc[:0]
    pd.testing.assert_frame_equal(records.iloc[:0], expected)


def test_records_are_chronological_and_the_run_is_reproducible(short_params):
    a = run_fast(short_params, np.random.SeedSequence(SEED))
    b = run_fast(short_params, SEED)
    pd.testing.assert_frame_equal(a.records, b.records)
    np.testing.assert_array_equal(a.stage_counts, b.stage_counts)
    assert a.records["month"].is_monotonic_increasing
    assert a.stage_counts.sum() == a.records["agent_id"].nunique()


@pytest.mark.slow
def test_the_record_arrays_need_no_dataframe_and_match_the_tables(short_params):
    # FastResult.arrays() (what compare and sweeps analyse) holds the same arrays as
    # RecordArrays of the DataFrame, and the engine's offender order is the sorted one
    from chainsim.engines.records import CATEGORIES, DTYPES, RecordArrays, stable_argsort

    result = run_fast(short_params, SEED)
    fast_arrays = result.arrays()
    assert fast_arrays._frame is None
    from_frame = RecordArrays(result.records)
    for name in ("agent", "month", "event"):
        a, b = getattr(fast_arrays, name), getattr(from_frame, name)
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype
    assert fast_arrays.event_names == from_frame.event_names
    for name in CATEGORIES:
        codes, cats = fast_arrays.column_codes(name)
        expected_codes, expected_cats = from_frame.column_codes(name)
        np.testing.assert_array_equal(codes, expected_codes)
        assert cats == expected_cats
    for name in DTYPES:
        np.testing.assert_array_equal(fast_arrays.values(name), from_frame.values(name))
    np.testing.assert_array_equal(fast_arrays.by_agent,
                                  stable_argsort(result.records["agent_id"].to_numpy()))
    pd.testing.assert_frame_equal(fast_arrays.frame, result.records)


def test_counting_order_is_a_stable_sort():
    rng = np.random.default_rng(1)
    keys = rng.integers(0, 7, 1000)
    start = rng.permutation(1000)
    order = fast._counting_order(keys, 7, start)
    np.testing.assert_array_equal(order, start[np.argsort(keys[start], kind="stable")])


def test_id_bases_come_from_the_spec():
    # one definition for both engines: the pool's ids and the inflow-count keys
    from chainsim.chain import spec

    assert (fast.POOL_ID_BASE, fast.COUNT_ID_BASE) == (spec.POOL_ID_BASE, spec.COUNT_ID_BASE)
    assert spec.POOL_ID_BASE < spec.COUNT_ID_BASE


def test_compiled_draws_are_the_streams_draws():
    # the engine's compiled draws (fast._uniforms) restate chainsim.chain.streams.uniform_array
    from chainsim.chain.streams import Streams, uniform_array

    rng = np.random.default_rng(0)
    keys = np.array(list(Streams(SEED).keys.values()), dtype=np.uint64)
    ids = np.concatenate([rng.integers(0, 1 << 20, 500), fast.POOL_ID_BASE + np.arange(50),
                          [0, fast.COUNT_ID_BASE + 400]]).astype(np.int64)
    counters = rng.integers(0, 1 << 24, (len(ids), len(keys))).astype(np.int64)
    counters[:3] = 0
    np.testing.assert_array_equal(fast._uniforms(keys, ids, counters),
                                  uniform_array(keys, ids[:, None], counters))


def test_parameter_tables_are_freed_with_their_parameter_set(short_params):
    """The engine's per-parameter-set tables must not outlive the parameter set (a sweep
    resolves a new one per point: keeping them leaked ~6 MB per run)."""
    import copy
    import gc
    import weakref

    params = copy.deepcopy(short_params)
    fast.run_fast(params, 1)
    assert id(params) in fast._TABLES
    ref = weakref.ref(params)
    key = id(params)
    del params
    gc.collect()
    assert ref() is None
    assert key not in fast._TABLES

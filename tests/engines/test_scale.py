"""The fast engine at scale: a scaled-down copy of the stress case (scenarios/stress_million.toml).

The stress case itself (about a million offenders, a few seconds and ~1.5 GB) is run
by ``benchmarks/bench_scale.py``, not here. This copy keeps its shape (the baseline
with inflow and investigation capacity scaled alike) at 1/20 of its size, about
50,000 offenders, and checks that the run conserves offenders, that every
offender's transitions chain up, that the flows scale with the inflow, and that the
record table stays compact.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from chainsim.analysis import flows
from chainsim.chain.config import Scenario, load_scenario
from chainsim.chain.parameters import resolve
from chainsim.chain.spec import STAGE_NAMES, Stage
from chainsim.chain.streams import replication_seeds
from chainsim.engines.fast import run_fast
from conftest import ROOT

STRESS = ROOT / "scenarios" / "stress_million.toml"
SHRINK = 20


def scaled(scenario: Scenario, factor: float) -> Scenario:
    """``scenario`` with inflow (the unknown's range too) and capacity multiplied by ``factor``."""
    inflow = scenario.unknowns["inflow_rate"]
    capacity = scenario.parameters["investigation_capacity"]
    return scenario.model_copy(update={
        "unknowns": {**scenario.unknowns, "inflow_rate": inflow.model_copy(update={
            "central": inflow.central * factor, "low": inflow.low * factor,
            "high": inflow.high * factor})},
        "parameters": {**scenario.parameters, "investigation_capacity": capacity.model_copy(
            update={"value": capacity.value * factor})},
    })


@pytest.fixture(scope="module")
def stress_scenario() -> Scenario:
    return load_scenario(STRESS)


@pytest.fixture(scope="module")
def small_run(stress_scenario):
    params = resolve(scaled(stress_scenario, 1 / SHRINK))
    return params, run_fast(params, replication_seeds(5, 1)[0])


@pytest.fixture(scope="module")
def baseline_run():
    params = resolve(load_scenario(ROOT / "scenarios" / "baseline.toml"))
    return params, run_fast(params, replication_seeds(5, 1)[0])


def test_the_copy_has_about_fifty_thousand_offenders(small_run):
    _, result = small_run
    offenders = result.records["agent_id"].nunique()
    assert 40_000 <= offenders <= 60_000
    assert result.stage_counts.sum() == offenders  # every offender is in exactly one stage


def test_final_stages_follow_from_the_records(small_run):
    _, result = small_run
    records = result.records
    moved = records[records["from_stage"] != records["to_stage"]]
    last = moved.groupby("agent_id", sort=False)["to_stage"].last()
    counts = last.value_counts().reindex(list(STAGE_NAMES), fill_value=0).to_numpy()
    np.testing.assert_array_equal(counts, result.stage_counts)
    assert result.stage_counts[Stage.NONE] == 0


def test_every_offenders_transitions_chain_up(small_run):
    params, result = small_run
    records = result.records
    assert records["month"].is_monotonic_increasing  # chronological
    assert records["month"].min() >= params.start
    assert records["month"].max() <= params.start + params.n_months
    moved = records[records["from_stage"] != records["to_stage"]]
    moved = moved.sort_values("agent_id", kind="stable")
    agent = moved["agent_id"].to_numpy()
    frm = moved["from_stage"].cat.codes.to_numpy()
    to = moved["to_stage"].cat.codes.to_numpy()
    first = np.r_[True, agent[1:] != agent[:-1]]
    assert (frm[first] == Stage.NONE).all()  # entering from outside the chain
    assert (frm[~first] == to[np.flatnonzero(~first) - 1]).all()  # from the stage last entered


def test_flows_scale_with_inflow_and_capacity(small_run, baseline_run):
    (params, result), (base_params, base) = small_run, baseline_run
    scale = params["inflow_stratum_rate"].sum() / base_params["inflow_stratum_rate"].sum()
    assert scale == pytest.approx(47.5 / SHRINK)
    window = flows.window_metrics(result.records)
    reference = flows.window_metrics(base.records)
    for metric in ("signalled", "traced", "summoned", "convicted", "prison"):
        assert window[metric] / reference[metric] == pytest.approx(scale, rel=0.15), metric
    for share in ("technical_dismissal_share", "before_judge_share", "prison_months"):
        assert window[share] == pytest.approx(reference[share], rel=0.15), share


def test_the_record_table_is_compact(small_run):
    _, result = small_run
    records = result.records
    assert isinstance(records, pd.DataFrame)
    per_record = records.memory_usage(deep=True, index=False).sum() / len(records)
    assert per_record <= 32  # bytes: categorical codes, narrow integers, float32 values
    for column in ("from_stage", "to_stage", "event", "form", "age_group", "sex"):
        assert isinstance(records[column].dtype, pd.CategoricalDtype), column

"""Replications: seeds per replication, results independent of the number of workers."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from chainsim import chain
from chainsim.analysis import flows
from chainsim.chain.streams import replication_seeds
from chainsim.engines.model import ChainModel
from chainsim.experiments import replications
from chainsim.experiments.summary import summary_document
from conftest import SEED

REPS = 2


def run_collecting(scenario, params, workers):
    records = []
    result = replications.run(scenario, reps=REPS, seed=SEED, workers=workers, params=params,
                            on_replication=lambda rep: records.append((rep.rep, rep.records)),
                            engine="agents")
    return result, records


@pytest.fixture(scope="module")
def by_workers(short_scenario, short_params):
    return {w: run_collecting(short_scenario, short_params, w) for w in (1, 2)}


@pytest.mark.slow
def test_one_and_two_workers_give_identical_summaries(by_workers):
    doc1 = summary_document(by_workers[1][0])
    doc2 = summary_document(by_workers[2][0])
    assert doc1 == doc2
    assert json.dumps(doc1, sort_keys=True) == json.dumps(doc2, sort_keys=True)
    assert doc1["reps"] == REPS


@pytest.mark.slow
def test_one_and_two_workers_give_identical_records(by_workers):
    recs1, recs2 = by_workers[1][1], by_workers[2][1]
    assert [r for r, _ in recs1] == [r for r, _ in recs2] == list(range(REPS))
    for (_, a), (_, b) in zip(recs1, recs2, strict=True):
        pd.testing.assert_frame_equal(a, b)
    assert not recs1[0][1].equals(recs1[1][1])  # replications differ from each other


@pytest.mark.slow
def test_replication_i_is_the_model_run_with_the_i_th_spawned_seed(by_workers, short_params):
    result, recs = by_workers[1]
    seed1 = replication_seeds(SEED, REPS)[1]
    direct = ChainModel(short_params, seed1, keep_history=False).run().records.to_frame()
    pd.testing.assert_frame_equal(recs[1][1], direct)
    years = range(2012, 2018)
    pd.testing.assert_frame_equal(result.reps[1].yearly, flows.annual_metrics(direct, years))
    assert result.reps[1].window == pytest.approx(
        flows.window_metrics(direct, simulated=(2012, 2017)), nan_ok=True)
    assert result.reps[1].shares == pytest.approx(flows.mix_shares(direct), nan_ok=True)


@pytest.mark.slow
def test_run_result_tables(by_workers):
    result = by_workers[1][0]
    assert [r.rep for r in result.reps] == list(range(REPS))
    assert all(r.records is None for r in result.reps)  # dropped once handed over
    yearly = result.yearly()
    assert list(yearly.columns) == ["year", *flows.METRICS, "rep"]
    assert sorted(yearly["year"].unique()) == list(range(2012, 2018))
    assert len(yearly) == REPS * 6
    fl = result.flows()
    assert {"year", "event", "form", "age_group", "count", "rep"} <= set(fl.columns)
    assert set(fl["rep"]) == set(range(REPS))
    # flows add up to the yearly counts (the metric counts police signals and exposing arrests)
    events = chain.metric_events("signalled")
    assert events == ("signalled", "exposed")
    for rep in range(REPS):
        sub = (fl[(fl["rep"] == rep) & fl["event"].isin(events)]
               .groupby("year")["count"].sum())
        y = yearly[yearly["rep"] == rep].set_index("year")["signalled"]
        pd.testing.assert_series_equal(sub.astype(float), y.loc[sub.index], check_names=False,
                                       check_index_type=False)


def test_default_workers():
    assert replications.default_workers(1) == 1
    assert 1 <= replications.default_workers(100) <= 100


@pytest.mark.slow
def test_window_means_average_only_the_simulated_years(by_workers):
    # The short scenario ends in 2017, so it simulates 2015-2017 of the 2015-2019 window.
    # A "per-year average over 2015-2019" can only average the years the run simulated;
    # counting 2018 and 2019 as zero years would report ~3/5 of every yearly flow.
    result = by_workers[1][0]
    for rep in result.reps:
        covered = rep.yearly.loc[2015:2017]
        assert len(covered) == 3
        for name in flows.COUNT_METRICS:
            assert rep.window[name] == pytest.approx(covered[name].mean()), name


@pytest.mark.slow
def test_fast_engine_gives_the_same_summary_as_the_agent_model(short_scenario):
    agents = summary_document(replications.run(short_scenario, reps=2, seed=5, workers=1,
                                             engine="agents"))
    fast = summary_document(replications.run(short_scenario, reps=2, seed=5, workers=1,
                                           engine="fast"))
    assert (agents.pop("engine"), fast.pop("engine")) == ("agents", "fast")
    assert agents == fast

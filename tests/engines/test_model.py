"""The chain model: conservation of offenders, reproducibility, common random numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from chainsim.chain.spec import STAGE_NAMES, Stage
from chainsim.chain.streams import replication_seeds
from chainsim.engines.model import ChainModel
from conftest import NON_BINDING_CAPACITY, SEED, is_point, run_model, with_order

N_STAGES = len(Stage)


def stock_changes(records: pd.DataFrame) -> pd.DataFrame:
    """Net change of each stage's stock per month from the records (rows: months).

    A transition adds one to its to-stage and takes one from its from-stage (nothing
    is taken from ``none``, where offenders come from); point events change nothing.
    """
    moves = records[~is_point(records)]
    codes = {name: i for i, name in enumerate(STAGE_NAMES)}
    to = moves["to_stage"].astype(str).map(codes).to_numpy()
    fr = moves["from_stage"].astype(str).map(codes).to_numpy()
    month = moves["month"].to_numpy()
    inc = pd.crosstab(month, to).reindex(columns=range(N_STAGES), fill_value=0)
    keep = fr != Stage.NONE
    dec = pd.crosstab(month[keep], fr[keep]).reindex(columns=range(N_STAGES), fill_value=0)
    return inc.sub(dec, fill_value=0).fillna(0).astype(np.int64)


def stocks_from_records(records: pd.DataFrame, months: np.ndarray) -> np.ndarray:
    """Offenders per stage at the end of each of ``months`` (rows), from the records."""
    cum = stock_changes(records).reindex(months, fill_value=0).cumsum()
    return cum.to_numpy()


# ------------------------------------------------------------------ conservation


def test_stage_counts_match_the_records_at_the_end(baseline_run):
    model, records = baseline_run
    stocks = stocks_from_records(records, model.params.months)[-1]
    np.testing.assert_array_equal(stocks, model.stage_counts)
    assert model.stage_counts[Stage.NONE] == 0
    entries = int(records["event"].isin(["pool", "inflow"]).sum())
    assert model.stage_counts.sum() == entries
    # every offender still in the model is in the stage its last record says
    last = records[~is_point(records)].groupby("agent_id")["to_stage"].last().astype(str)
    stages = pd.Series({a.offender_id: a.stage.name.lower() for a in model.agents})
    pd.testing.assert_series_equal(stages.sort_index(), last.loc[stages.index].sort_index(),
                                   check_names=False)
    counts = stages.value_counts()
    for stage in Stage:
        expected = 0 if stage in (Stage.NONE, Stage.DESISTED) else model.stage_counts[stage]
        assert counts.get(stage.name.lower(), 0) == expected
    assert model.stage_counts[Stage.DESISTED] == (records["event"] == "desisted").sum()


@pytest.mark.slow
def test_stage_counts_match_the_records_month_by_month(short_params):
    model = ChainModel(short_params, SEED)
    n = short_params.n_months
    snapshots = [model.stage_counts.copy()]
    lengths = [len(model.records)]
    for t in range(1, n + 1):
        model.run_until(t)
        assert model.t == t
        snapshots.append(model.stage_counts.copy())
        lengths.append(len(model.records))
    records = model.records.to_frame()
    months = short_params.months
    stocks = stocks_from_records(records, months)
    np.testing.assert_array_equal(np.array(snapshots), stocks)
    assert np.all(np.array(snapshots) >= 0)
    # at each month the log holds exactly the records dated up to that month
    recorded_by = np.searchsorted(records["month"].to_numpy(), months, side="right")
    np.testing.assert_array_equal(lengths, recorded_by)
    assert records["month"].is_monotonic_increasing
    # before the first step only the initial pool is there, all active
    assert snapshots[0].sum() == snapshots[0][Stage.ACTIVE] == (records["event"] == "pool").sum()
    # stepping gives the same records as one run to the end
    pd.testing.assert_frame_equal(records, ChainModel(short_params, SEED).run().records.to_frame())


def test_each_offender_s_records_chain(baseline_records):
    rec = with_order(baseline_records)
    moves = rec[~is_point(rec)]
    prev_to = moves.groupby("agent_id")["to_stage"].shift(1)
    first = prev_to.isna()
    assert (moves.loc[first, "from_stage"].astype(str) == "none").all()
    assert (moves.loc[~first, "from_stage"].astype(str)
            == prev_to[~first].astype(str)).all()
    assert (moves.loc[~first, "from_stage"].astype(str) != "none").all()
    # point events happen in the stage the offender is in
    points = rec[is_point(rec)]
    assert len(points) > 0
    last_stage = (moves.set_index("pos")["to_stage"].astype(str)
                  .reindex(range(len(rec))).groupby(rec["agent_id"].to_numpy()).ffill())
    assert (points["from_stage"].astype(str).to_numpy()
            == last_stage.loc[points["pos"]].to_numpy()).all()
    # time never runs backwards for an offender
    assert (rec.groupby("agent_id")["month"].diff().dropna() >= 0).all()


def test_records_have_the_documented_columns(baseline_records, short_params):
    from chainsim.engines.records import COLUMNS

    assert tuple(baseline_records.columns) == COLUMNS
    assert baseline_records["month"].between(short_params.months[0],
                                             short_params.months[-1]).all()
    values = baseline_records["value"]
    has_value = baseline_records["event"].isin(["prison", "released", "probation_start",
                                                "revoked"])
    assert values[has_value].notna().all() and (values[has_value] >= 0).all()
    assert values[~has_value].isna().all()


# ------------------------------------------------------------------ reproducibility


@pytest.mark.slow
def test_same_seed_gives_identical_records(baseline_records, short_params):
    again = ChainModel(short_params, SEED).run().records.to_frame()
    pd.testing.assert_frame_equal(baseline_records, again)


@pytest.mark.slow
def test_seed_sequence_and_int_seed(short_params):
    ss = replication_seeds(SEED, 2)[1]
    a = ChainModel(short_params, ss).run().records.to_frame()
    b = ChainModel(short_params, replication_seeds(SEED, 5)[1]).run().records.to_frame()
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.slow
def test_different_seeds_give_different_records(baseline_records, short_params):
    other = ChainModel(short_params, SEED + 1).run().records.to_frame()
    assert not baseline_records.equals(other)
    inflow_a = baseline_records[baseline_records["event"] == "inflow"]
    inflow_b = other[other["event"] == "inflow"]
    assert not inflow_a[["agent_id", "month"]].reset_index(drop=True).equals(
        inflow_b[["agent_id", "month"]].reset_index(drop=True))


# ------------------------------------------------------------------ common random numbers

INFLOW_COLUMNS = ["agent_id", "month", "form", "age", "sex", "priors"]


def inflow_of(records: pd.DataFrame) -> pd.DataFrame:
    rec = records[records["event"].isin(["pool", "inflow"])]
    return rec[INFLOW_COLUMNS].reset_index(drop=True)


def prefix(records: pd.DataFrame, events: tuple[str, ...], inclusive: bool) -> pd.DataFrame:
    """Each offender's records up to its first of ``events`` (all, for those without one)."""
    rec = with_order(records)
    hit = rec[rec["event"].isin(events)].groupby("agent_id")["i"].min()
    limit = rec["agent_id"].map(hit)
    keep = limit.isna() | ((rec["i"] <= limit) if inclusive else (rec["i"] < limit))
    out = rec[keep].sort_values(["agent_id", "i"]).drop(columns="pos")
    return out.reset_index(drop=True)


@pytest.fixture(scope="module")
def crn_runs():
    """Runs whose capacity never binds, so offenders do not interact; only one
    mechanism's parameter differs between ``base`` and each variant."""
    cap = {"investigation_capacity": NON_BINDING_CAPACITY}
    return {
        "base": run_model(cap)[1],
        "longer_sentences": run_model({**cap, "prison_months_mean": 40.0})[1],
        "fewer_convictions": run_model({**cap, "conviction_prob": 0.4})[1],
    }


@pytest.mark.slow
def test_sentencing_change_leaves_inflow_identical(baseline_records):
    # with the baseline's binding capacity too: inflow draws come from their own stream
    _, longer = run_model({"prison_months_mean": 40.0})
    pd.testing.assert_frame_equal(inflow_of(baseline_records), inflow_of(longer))
    assert len(inflow_of(longer)) > 1000


@pytest.mark.slow
def test_sentencing_change_leaves_everything_before_the_sentence(crn_runs):
    base, longer = crn_runs["base"], crn_runs["longer_sentences"]
    pd.testing.assert_frame_equal(inflow_of(base), inflow_of(longer))
    a = prefix(base, ("prison",), inclusive=True)
    b = prefix(longer, ("prison",), inclusive=True)
    # the first sentence itself is the same event at the same time; only its length moves
    pd.testing.assert_frame_equal(a.drop(columns="value"), b.drop(columns="value"))
    is_prison = a["event"] == "prison"
    assert is_prison.sum() > 100
    nonprison = ~is_prison
    pd.testing.assert_series_equal(a.loc[nonprison, "value"], b.loc[nonprison, "value"])
    assert b.loc[is_prison, "value"].mean() > a.loc[is_prison, "value"].mean() + 5
    # and the change did change what comes after
    assert not base.equals(longer)


@pytest.mark.slow
def test_conviction_change_leaves_inflow_and_pretrial_records(crn_runs):
    base, fewer = crn_runs["base"], crn_runs["fewer_convictions"]
    pd.testing.assert_frame_equal(inflow_of(base), inflow_of(fewer))
    judgments = ("convicted", "acquitted", "appealed", "appealed_detained")  # first instance
    pd.testing.assert_frame_equal(prefix(base, judgments, inclusive=False),
                                  prefix(fewer, judgments, inclusive=False))
    # the first judgment falls in the same month (trial length is drawn before the verdict)
    a = prefix(base, judgments, inclusive=True)
    b = prefix(fewer, judgments, inclusive=True)
    ja, jb = a[a["event"].isin(judgments)], b[b["event"].isin(judgments)]
    assert len(ja) > 200
    np.testing.assert_array_equal(ja[["agent_id", "month"]], jb[["agent_id", "month"]])
    # fewer convictions, and only convictions turn into acquittals (monotone coupling)
    guilty = ["convicted", "appealed", "appealed_detained"]
    conv_a = set(ja.loc[ja["event"].isin(guilty), "agent_id"])
    conv_b = set(jb.loc[jb["event"].isin(guilty), "agent_id"])
    assert conv_b < conv_a


@pytest.mark.slow
def test_conviction_change_leaves_the_sentences_of_those_still_convicted(crn_runs):
    # the sentencing stream is untouched: an offender convicted in both runs gets the
    # same sentence at its first conviction
    base, fewer = crn_runs["base"], crn_runs["fewer_convictions"]
    cols = ["agent_id", "month", "event", "value"]

    def first_sentence(rec):
        p = prefix(rec, ("prison", "non_custodial"), inclusive=True)
        return p[p["event"].isin(["prison", "non_custodial"])][cols].set_index("agent_id")

    sa, sb = first_sentence(base), first_sentence(fewer)
    both = sa.index.intersection(sb.index)
    # the same case: convicted in the same month; otherwise the first case was acquitted
    # in the run with fewer convictions and the first sentence came with a later case
    same = both[sa.loc[both, "month"].to_numpy() == sb.loc[both, "month"].to_numpy()]
    assert len(same) > 100
    pd.testing.assert_frame_equal(sa.loc[same], sb.loc[same])
    later = both.difference(same)
    acquitted = fewer[fewer["event"] == "acquitted"].groupby("agent_id")["month"].min()
    assert (acquitted.reindex(later).to_numpy() < sb.loc[later, "month"].to_numpy()).all()


def test_changing_parameters_mid_run_keeps_what_happened_and_refuses_other_months():
    """ChainModel.change_parameters: the records so far stay; a different horizon is refused."""
    import dataclasses

    from chainsim.chain.parameters import resolve
    from chainsim.engines.model import ChainModel
    from conftest import make_scenario

    params = resolve(make_scenario())
    model = ChainModel(params, 1)
    for _ in range(6):
        model.step()
    before = len(model.records)
    model.change_parameters(params)
    assert len(model.records) == before and model.t == 6
    model.step()
    assert model.t == 7
    with pytest.raises(ValueError, match="other months"):
        model.change_parameters(dataclasses.replace(params, n_months=params.n_months - 1))

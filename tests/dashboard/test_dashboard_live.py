"""The live run (chainsim.dashboard.live): the agent model stepped month by month."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from chainsim.chain.spec import Stage
from chainsim.dashboard.live import AGENT_VIEW_STAGES, LiveRun
from chainsim.engines.fast import run_fast


@pytest.fixture(scope="module")
def live(short_params) -> LiveRun:
    run = LiveRun(short_params, seed=3)
    assert run.t == 0 and run.month == short_params.start
    assert run.step(30) == 30
    return run


@pytest.mark.slow
def test_steps_never_pass_the_end(short_params):
    run = LiveRun(short_params, seed=3)
    run.step(short_params.n_months - 2)
    assert run.step(10) == 2
    assert run.done and run.step(1) == 0
    assert run.counts.shape == (short_params.n_months + 1, len(Stage))


def test_live_records_are_the_fast_engines_so_far(live, short_params):
    ours = live.model.records.to_frame()
    fast = run_fast(short_params, 3).records
    fast = fast.loc[fast["month"] <= live.month, list(ours.columns)]
    key = ["month", "agent_id"]

    def norm(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.sort_values(key, kind="stable").reset_index(drop=True)

    pd.testing.assert_frame_equal(norm(ours), norm(fast), check_categorical=False)


def test_counts_follow_the_model(live):
    assert np.array_equal(live.counts[-1], live.model.stage_counts)
    assert len(live.counts) == live.t + 1
    by_stage = live.agents_by_stage()
    for stage in AGENT_VIEW_STAGES:
        assert len(by_stage[stage]) == live.model.stage_counts[stage]
    assert all(len(ids) <= 5 for ids in live.agents_by_stage(limit=5).values())


def test_history_of_an_offender(live):
    by_stage = live.agents_by_stage()
    stage = next(s for s in (Stage.PRISON, Stage.TRIAL, Stage.PROSECUTION) if by_stage[s])
    oid = by_stage[stage][0]
    history = live.history(oid)
    assert history is not None and history.offender_id == oid
    months = [r.month for r in history.rows]
    assert months == sorted(months)
    assert history.rows[-1].stage == stage.name.lower()
    assert history.rows[0].event in ("inflow", "pool")
    assert live.history(-1) is None


def _with_intervention(scenario, parameter: str, value: float, start: str):
    from chainsim.chain.config import scenario_from_dict
    from chainsim.chain.parameters import resolve

    doc = scenario.model_dump(mode="json", exclude_none=True)
    doc.pop("base", None)
    doc.pop("calibration", None)
    doc["interventions"] = [*doc.get("interventions", []), {
        "name": "test", "parameter": parameter, "operation": "set", "value": value,
        "start": start, "note": "test intervention"}]
    return resolve(scenario_from_dict(doc, "<test>"))


def test_a_lever_move_continues_the_run_from_the_current_month(short_scenario, short_params):
    from chainsim.chain.months import format_month

    run = LiveRun(short_params, seed=3)
    run.step(24)
    switched_at = run.month
    before = run.model.records.to_frame().copy()
    started = before[before["event"] == "investigation_started"]
    assert len(started) > 0  # investigations do start in the first two years
    # no investigations from now on: capacity 0 from the current month
    closed = _with_intervention(short_scenario, "investigation_capacity", 0.0,
                                format_month(switched_at))
    assert run.switch(closed, "closed")
    assert run.month == switched_at and run.changes == [switched_at]  # not reset
    assert run.params is closed and run.key == "closed"
    run.step(12)
    after = run.model.records.to_frame()
    # what happened stays exactly as it was ...
    pd.testing.assert_frame_equal(after.iloc[:len(before)].reset_index(drop=True),
                                  before.reset_index(drop=True))
    assert run.month == switched_at + 12 and len(run.counts) == 24 + 12 + 1
    # ... and the new levers act from the switch on
    new = after.iloc[len(before):]
    assert (new["event"] == "investigation_started").sum() == 0
    assert (new["event"] == "inflow").sum() > 0  # the run did go on


def test_a_switch_before_the_first_month_just_takes_the_parameters(short_scenario,
                                                                   short_params):
    run = LiveRun(short_params, seed=3)
    other = _with_intervention(short_scenario, "investigation_capacity", 0.0, "2012-01")
    assert run.switch(other, "other") and run.changes == [] and run.params is other


def test_a_scenario_over_other_months_cannot_be_continued(short_params):
    import dataclasses

    run = LiveRun(short_params, seed=3)
    run.step(3)
    longer = dataclasses.replace(short_params, n_months=short_params.n_months + 12)
    assert not run.switch(longer, "longer")
    assert run.params is short_params and run.t == 3 and run.changes == []

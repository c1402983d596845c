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

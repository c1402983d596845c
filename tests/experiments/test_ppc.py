"""The posterior predictive check on the agent model's records."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from chainsim.analysis.targets import load_targets
from chainsim.experiments.ensemble import load_ensemble
from chainsim.experiments.ppc import (
    TOLERANCE_SD,
    joint_tolerance,
    monte_carlo_variance,
    predictive_check,
)
from conftest import ENSEMBLE_PRIORS, make_scenario, write_ensemble


def test_members_are_checked_against_every_figure(tmp_path):
    frame = pd.DataFrame({"member": range(3), "signal_hazard.scale": [0.5, 1.0, 3.0],
                          "conviction_prob.scale": [1.0, 1.0, 1.0],
                          "resume_share": [0.5, 0.5, 0.5]})
    write_ensemble(tmp_path / "posterior.parquet", frame, {"priors": ENSEMBLE_PRIORS})
    targets = load_targets()
    ensemble = load_ensemble(tmp_path / "posterior.parquet")
    check = predictive_check(make_scenario(), targets, ensemble, members=3, reps=2, seed=1,
                             workers=1)
    assert len(check.draws) == 3 * 2 * len(targets)
    assert len(check.table) == 3 * len(targets)
    assert 0.0 <= check.share_all_met <= 1.0
    by = check.by_target().set_index("target")
    assert set(by.index) == set(targets)
    assert (by["p5"] <= by["p95"]).all()
    # tripling the signal hazard signals far more suspects than the figure: that member misses
    signalled = check.table[check.table["target"] == "signalled_2015"].set_index("member")
    assert signalled.loc[2, "value"] > signalled.loc[0, "value"]
    assert not signalled.loc[2, "met"]
    assert (signalled["met"] == (signalled["residual"].abs() <= TOLERANCE_SD)).all()
    assert np.isfinite(by.loc["traced", "p50"])
    # the observation model's sd is wider than the figure's: whoever meets one meets the other
    assert (check.table["met_observation"] >= check.table["met"]).all()
    assert check.share_all_met_observation >= check.share_all_met
    assert (by["members_meeting_observation"] >= by["members_meeting"]).all()
    # the joint criterion is wider still (2.8 sds for 21 figures)
    assert (check.table["met_jointly"] >= check.table["met_observation"]).all()
    assert check.share_all_met_jointly >= check.share_all_met_observation
    assert (check.table["monte_carlo_sd"] >= 0).all()
    # a share's observation sd holds its binomial noise, from the member's number of cases
    from chainsim.analysis.likelihood import observation_sd

    share = check.table[check.table["target"] == "under23_criminal"]
    assert (share["trials"] > 0).all()
    for _, row in share.iterrows():
        assert row["observation_sd"] == pytest.approx(
            observation_sd(targets["under23_criminal"], row["trials"]))
        assert row["observation_sd"] > observation_sd(targets["under23_criminal"])
    counts = check.table[check.table["target"] == "traced"]
    assert counts["trials"].isna().all()
    assert (counts["observation_sd"] == observation_sd(targets["traced"])).all()
    from chainsim.outputs.plots import predictive_figure

    predictive_figure(check.by_target(), tmp_path / "predictive.png", "a test")
    assert (tmp_path / "predictive.png").stat().st_size > 10_000


def test_the_joint_criterion_holds_all_figures_together_90_percent_of_the_time():
    """Members of a model true to the data: each figure off by its observation noise.

    21 independent standard normal residuals per member, 20,000 members (seed 3): the
    share meeting all 21 within joint_tolerance(21) is (1 - 0.1/21)^21 = 0.9047 exactly in
    expectation; the Monte Carlo sd of the share is sqrt(0.9 x 0.1 / 20000) = 0.0021, so 4 sds
    is 0.009. Within 2 sds instead, only 0.9545^21 = 0.376 of them would.
    """
    z = joint_tolerance(21)
    assert 2.80 < z < 2.84
    assert (1 - 0.1 / 21) ** 21 >= 0.90
    residuals = np.random.default_rng(3).standard_normal((20_000, 21))
    share = float((np.abs(residuals) <= z).all(axis=1).mean())
    assert abs(share - (1 - 0.1 / 21) ** 21) < 0.009
    assert float((np.abs(residuals) <= TOLERANCE_SD).all(axis=1).mean()) < 0.40


def test_the_monte_carlo_variance_of_a_member_mean_is_pooled_within_members():
    """Two members, three replications: within-member variances 1 and 4, pooled 2.5, / 3."""
    draws = pd.DataFrame({"member": [0, 0, 0, 1, 1, 1] * 2,
                          "target": ["a"] * 6 + ["b"] * 6,
                          "value": [1.0, 2.0, 3.0, 10.0, 12.0, 14.0] + [5.0] * 6})
    mc = monte_carlo_variance(draws, reps=3)
    assert mc["a"] == pytest.approx(2.5 / 3)
    assert mc["b"] == 0.0
    assert (monte_carlo_variance(draws, reps=1) == 0.0).all()  # nothing to estimate it from

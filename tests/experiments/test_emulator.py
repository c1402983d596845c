"""The twin's emulator (chainsim.experiments.emulator)."""

from __future__ import annotations

import numpy as np
import pytest

from chainsim.experiments.emulator import Design, Emulator, Scale, held_out_error

COUNT = ("window_mean", "signalled", None, None)
SHARE = ("shares", "female", None, None)
RATIO = ("window_mean", "before_judge_share", None, None)


def synthetic(n: int, seed: int) -> Design:
    """A smooth known function of 4 inputs: a count, a share of cases, a ratio above 1."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, 4))
    count = 200 * np.exp(0.5 * x[:, 0] - 0.3 * x[:, 1] * x[:, 2])
    share = 1 / (1 + np.exp(-(0.8 * x[:, 1] + 0.4 * x[:, 3] ** 2 - 1.0)))
    ratio = 1.2 * np.exp(0.2 * x[:, 2])
    cases = 500 * np.exp(0.1 * x[:, 3])
    return Design(x, np.stack([count, share, ratio], axis=1),
                  np.stack([cases, cases], axis=1), [COUNT, SHARE, RATIO], [SHARE, RATIO])


@pytest.mark.parametrize("logit", [False, True])
def test_scales_invert(logit):
    v = np.array([0.01, 0.3, 0.99])
    s = Scale(SHARE, logit)
    np.testing.assert_allclose(s.inverse(s.forward(v)), v, rtol=1e-12)


def test_a_design_keeps_the_valid_positive_runs_and_joins_only_alike():
    pts = np.arange(8.0).reshape(4, 2)
    metrics = [{COUNT: 5.0, SHARE: 0.2}, None, {COUNT: 0.0, SHARE: 0.2},
               {COUNT: 7.0, SHARE: 0.4}]
    trials = [{SHARE: 10.0}, None, {SHARE: 10.0}, {SHARE: 12.0}]
    d = Design.from_runs(pts, metrics, trials, [COUNT, SHARE])
    assert len(d) == 2 and d.trial_keys == [SHARE]
    np.testing.assert_array_equal(d.points, pts[[0, 3]])
    assert len(d + d) == 4
    with pytest.raises(ValueError, match="different quantities"):
        d + Design(d.points, d.metrics[:, :1], d.trials, [COUNT], [SHARE])


def test_the_emulator_learns_a_smooth_function_and_is_reproducible():
    """Deterministic (seeded fit, no Monte Carlo): on a held-out design the emulator's median
    error on the regression scale is under 2 % (a constant predictor's is about 25 %), the
    share stays a share, and the same seed gives the same predictions bit for bit."""
    train, test = synthetic(600, 0), synthetic(200, 1)
    emu = Emulator(seed=4, networks=2).fit(train)
    assert [s.logit for s in emu.scales] == [False, True, False]  # the ratio exceeds 1
    metrics, trials = emu.predict(test.points)
    assert set(metrics) == {COUNT, SHARE, RATIO} and set(trials) == {SHARE, RATIO}
    assert np.all((metrics[SHARE] > 0) & (metrics[SHARE] < 1))
    rel = np.abs(metrics[COUNT] / test.metrics[:, 0] - 1)
    assert np.median(rel) < 0.02

    def gaussian_ll(m, t):
        return -0.5 * ((np.log(m[COUNT]) - np.log(200)) / 0.1) ** 2

    error = held_out_error(emu, test, gaussian_ll)
    assert error.points == 200 and error.metric_error < 0.02 and error.sd < 0.5
    again, _ = Emulator(seed=4, networks=2).fit(train).predict(test.points)
    np.testing.assert_array_equal(again[COUNT], metrics[COUNT])
    # an input by its log: the function of x + 2 learnt through log(x + 2) as well
    shifted = Design(train.points + 2, train.metrics, train.trials, train.metric_keys,
                     train.trial_keys)
    logged = Emulator(seed=4, networks=2, log_inputs=(True, False, True, False)).fit(shifted)
    m_log, _ = logged.predict(test.points + 2)
    assert np.median(np.abs(m_log[COUNT] / test.metrics[:, 0] - 1)) < 0.02


def test_the_emulator_refuses_too_small_designs_and_predicting_unfitted():
    with pytest.raises(ValueError, match="more runs than dimensions"):
        Emulator().fit(synthetic(4, 0))
    with pytest.raises(ValueError, match="log_inputs has 1 entries for 4 inputs"):
        Emulator(log_inputs=(True,)).fit(synthetic(50, 0))
    with pytest.raises(RuntimeError, match="not been fitted"):
        Emulator().predict(np.zeros((1, 4)))

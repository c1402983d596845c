"""Importance weights and the reweighting of the chain to the joint posterior."""

from __future__ import annotations

import numpy as np
import pytest

from chainsim.analysis.targets import load_targets
from chainsim.experiments.calibrate import DEFAULT_KNOBS
from chainsim.experiments.posterior import LogPosterior, ParameterSpace
from chainsim.experiments.reweight import (
    PARETO_K_LIMIT,
    average_log_ratio,
    choose_draws,
    importance_weights,
    own_log_likelihoods,
    reweight,
    systematic_resample,
)
from conftest import make_scenario


def test_importance_weights_recover_a_known_posterior():
    """Prior N(0, 1), likelihood N(1, 0.5^2): the posterior is N(0.8, 0.2).

    Seeded; the tolerance is 4 Monte Carlo standard errors of a weighted mean,
    sqrt(0.2 / ESS) with the weights' own effective sample size.
    """
    rng = np.random.default_rng(11)
    x = rng.standard_normal(4000)
    ll = -0.5 * ((x - 1.0) / 0.5) ** 2
    w, k = importance_weights(ll)
    assert w.sum() == pytest.approx(1.0)
    assert k <= PARETO_K_LIMIT
    ess = 1.0 / np.sum(w**2)
    assert 400 < ess < 4000
    assert np.dot(w, x) == pytest.approx(0.8, abs=4 * np.sqrt(0.2 / ess))
    assert np.dot(w, (x - np.dot(w, x)) ** 2) == pytest.approx(0.2, rel=0.15)
    assert w[np.argmax(ll)] == w.max()  # the likeliest draw weighs most


def test_heavy_tailed_weights_are_flagged():
    """Prior N(0, 1) against a likelihood far in its tail: k above the limit."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal(4000)
    _, k = importance_weights(-0.5 * ((x - 4.0) / 0.3) ** 2)
    assert k > PARETO_K_LIMIT


def test_too_few_draws_give_raw_weights_marked_unreliable():
    """Below the size ArviZ can fit a tail to (it fails with ValueError or IndexError)."""
    for n in (3, 10):
        ll = np.linspace(-2.0, 0.0, n)
        w, k = importance_weights(ll)
        assert np.isnan(k)
        assert w.sum() == pytest.approx(1.0)
        assert w == pytest.approx(np.exp(ll) / np.exp(ll).sum())


def test_systematic_resampling_keeps_each_candidate_near_its_expected_count():
    """Each index appears floor(n w) or ceil(n w) times, whatever the seed."""
    w = np.array([0.5, 0.25, 0.125, 0.0625, 0.0625, 0.0])
    for seed in range(20):
        idx = systematic_resample(w, 40, np.random.default_rng(seed))
        counts = np.bincount(idx, minlength=len(w))
        assert counts.sum() == 40
        assert (counts >= np.floor(40 * w)).all() and (counts <= np.ceil(40 * w)).all()
        assert counts[-1] == 0  # no weight, never drawn
    again = systematic_resample(w, 40, np.random.default_rng(3))
    assert (again == systematic_resample(w, 40, np.random.default_rng(3))).all()


def test_the_average_over_draws_is_the_log_of_the_mean_likelihood_ratio():
    """log mean exp over the draws, minus the chain's; an invalid draw counts as 0."""
    own = np.array([[-1.0, -3.0], [-2.0, -np.inf], [-np.inf, -np.inf], [-800.0, -801.0]])
    chain = np.array([0.5, -1.0, 0.0, -2.0])
    out = average_log_ratio(own, chain)
    assert out[0] == pytest.approx(np.log((np.exp(-1.0) + np.exp(-3.0)) / 2) - 0.5)
    assert out[1] == pytest.approx(-2.0 - np.log(2) + 1.0)
    assert out[2] == -np.inf
    assert out[3] == pytest.approx(-800.0 + np.log((1 + np.exp(-1.0)) / 2) + 2.0)  # no underflow
    assert average_log_ratio(own[:, :1], chain)[0] == pytest.approx(-1.5)  # one draw: plain


def test_members_take_each_draw_with_probability_proportional_to_its_likelihood():
    """Seeded; 20,000 members at one candidate with likelihoods 1 : 2 : 5 (0 for an invalid
    draw): each share within 4 binomial standard errors of 1/8, 2/8, 5/8."""
    own = np.array([[0.0, np.log(2.0), np.log(5.0), -np.inf]])
    drawn = choose_draws(own, np.zeros(20_000, dtype=np.int64), np.random.default_rng(2))
    share = np.bincount(drawn, minlength=4) / 20_000
    expected = np.array([1, 2, 5, 0]) / 8
    assert share == pytest.approx(expected, abs=4 * np.sqrt(0.25 / 20_000))
    assert share[3] == 0.0
    single = choose_draws(own[:, :1], np.zeros(5, dtype=np.int64), np.random.default_rng(2))
    assert (single == 0).all()


def _toy_members(draws: int, seed: int, n: int = 4000) -> tuple[np.ndarray, float, float]:
    """The reweighting's steps on a model with a known posterior (see the test below)."""
    rng = np.random.default_rng(seed)
    theta = rng.standard_normal(n)               # the chain's points: here the prior
    phi = rng.standard_normal((n, draws))        # after-chain draws from their prior
    own = -0.5 * ((1.5 - theta[:, None] - phi) / 0.5) ** 2
    log_w = average_log_ratio(own, np.zeros(n))  # the chain scored no likelihood
    w, k = importance_weights(log_w)
    chosen = systematic_resample(w, n, rng)
    drawn = choose_draws(own, chosen, rng)
    return np.column_stack([theta[chosen], phi[chosen, drawn]]), 1.0 / np.sum(w**2), k


def test_several_draws_per_candidate_sample_the_joint_posterior_with_steadier_weights():
    """theta, phi ~ N(0, 1), y = theta + phi + N(0, 0.5^2), y = 1.5: the posterior of each
    has mean y / 2.25 = 0.667 and variance 1 - 1 / 2.25 = 0.556, their correlation is
    -0.8. The chain proposes theta from its prior, each candidate gets 1 or 4 draws of
    phi. Seeded; the means' tolerance is 4 Monte Carlo standard errors with the weights'
    effective sample size, sqrt(0.556 / ESS). With 4 draws the weights are steadier: a
    larger effective sample size from the same candidates."""
    one, ess_one, _ = _toy_members(1, seed=8)
    four, ess_four, k_four = _toy_members(4, seed=8)
    assert ess_four > 1.5 * ess_one
    assert k_four <= PARETO_K_LIMIT
    for members, ess in ((one, ess_one), (four, ess_four)):
        assert members.mean(axis=0) == pytest.approx([2 / 3, 2 / 3],
                                                     abs=4 * np.sqrt(0.556 / ess))
    assert np.corrcoef(four.T)[0, 1] == pytest.approx(-0.8, abs=0.1)
    assert four.var(axis=0) == pytest.approx([0.556, 0.556], rel=0.2)


@pytest.fixture(scope="module")
def small():
    """A 2-knob space with one chain unknown and every after-chain unknown free."""
    sc = make_scenario()
    space = ParameterSpace(sc, knobs=DEFAULT_KNOBS[:2], unknowns=(
        "resume_share", "reoffend_hazard", "post_desistance_hazard", "probation_hazard_ratio"))
    return space, load_targets()


def test_at_the_calibrated_values_the_chain_and_the_full_twin_agree(small):
    """The chain scores with the re-entries of a full run at the start: a candidate at the
    start with the scenario's after-chain values has the same likelihood both ways
    (log weight 0 up to round-off, when the chain is scored with the stated likelihood),
    one with a higher reoffending hazard does not."""
    space, targets = small
    post = LogPosterior(space, targets, robust_everywhere=False)
    chain_ll = post.score(space.start[None, :])[1]
    modes = np.array([[d.mode for d in space.free]])
    own = own_log_likelihoods(space, targets, space.start[None, :], modes)
    assert own == pytest.approx(chain_ll, abs=1e-8)
    higher = modes.copy()
    higher[0, [d.name for d in space.free].index("reoffend_hazard")] = space.free[
        [d.name for d in space.free].index("reoffend_hazard")].high
    assert abs(own_log_likelihoods(space, targets, space.start[None, :], higher)[0]
               - chain_ll[0]) > 1e-3


def test_reweighting_weighs_candidates_by_their_own_likelihood_ratio(small):
    """Few candidates (no tail to smooth): weights are exp(own - chain), normalised; the
    members are drawn from the valid candidates, as many as asked; workers do not matter."""
    space, targets = small
    rng = np.random.default_rng(4)
    points = space.start + rng.normal(0, 0.05, (6, len(space.start)))
    free = space.draw_free(rng, 6)
    chain_ll = LogPosterior(space, targets).score(points)[1]
    out = reweight(space, targets, points, free, chain_ll, 10, np.random.default_rng(1))
    raw = np.exp(out.log_weights - out.log_weights.max())
    assert out.weights == pytest.approx(raw / raw.sum())
    assert np.isnan(out.pareto_k) and not out.reliable
    assert len(out.chosen) == 10 and set(out.chosen) <= set(range(6))
    assert 1.0 <= out.ess <= 6.0
    summary = out.summary()
    assert summary["candidates"] == 6 and summary["reliable"] is False
    twice = reweight(space, targets, points, free, chain_ll, 10, np.random.default_rng(1),
                     workers=2)
    assert (twice.chosen == out.chosen).all()
    assert twice.own_log_likelihood == pytest.approx(out.own_log_likelihood, rel=0, abs=0)


def test_with_two_draws_a_candidate_weighs_the_average_of_its_two_runs(small):
    """Two after-chain draws per candidate: two full-twin runs each (the first the same
    as with one draw), the weight is their average ratio, every member takes one of its
    candidate's draws."""
    space, targets = small
    rng = np.random.default_rng(4)
    points = space.start + rng.normal(0, 0.05, (4, len(space.start)))
    free = space.draw_free(rng, 8).reshape(4, 2, -1)
    chain_ll = LogPosterior(space, targets).score(points)[1]
    out = reweight(space, targets, points, free, chain_ll, 8, np.random.default_rng(1))
    assert out.own_log_likelihood.shape == (4, 2) and out.draws == 2
    first = own_log_likelihoods(space, targets, points, free[:, 0])
    assert out.own_log_likelihood[:, 0] == pytest.approx(first, rel=0, abs=0)
    assert out.log_weights == pytest.approx(average_log_ratio(out.own_log_likelihood, chain_ll))
    assert set(out.chosen_draw) <= {0, 1} and len(out.chosen_draw) == 8
    summary = out.summary()
    assert summary["draws_per_candidate"] == 2 and summary["full_twin_runs"] == 8


@pytest.mark.slow
def test_a_reweighted_posterior_run_resamples_its_members_from_the_candidates(tmp_path):
    """run_posterior(reweight=True): every thinned chain point a candidate, members
    resampled from them with their own likelihoods; the file loads as an ensemble whose
    parameters are the space's (the reweighting's columns are not parameters)."""
    from chainsim.analysis.targets import DEFAULT_TARGETS
    from chainsim.experiments.ensemble import load_ensemble
    from chainsim.experiments.posterior_run import run_posterior
    from chainsim.outputs.folders import write_posterior

    sc = make_scenario()
    targets = load_targets()
    space = ParameterSpace(sc, knobs=DEFAULT_KNOBS[:1], unknowns=("resume_share",
                                                                  "reoffend_hazard"))
    result = run_posterior(sc, targets, members=12, walkers=6, steps=4, burn=1, wave_size=0,
                           seed=5, space=space, reweight=True)
    frame = result.members
    info = result.settings["reweighting"]
    assert info["candidates"] == 18  # 3 kept steps x 6 walkers, thin 1
    assert len(frame) == 12 and frame["candidate"].between(0, 17).all()
    assert info["unique_members"] == frame["candidate"].nunique()
    assert (frame["draw"] == 0).all()  # one draw per candidate
    two = run_posterior(sc, targets, members=6, walkers=6, steps=4, burn=1, wave_size=0,
                        seed=5, space=space, reweight=True, draws=2, thin=2)
    info2, frame2 = two.settings["reweighting"], two.members
    assert info2["candidates"] == 12 and info2["full_twin_runs"] == 24  # steps 3 and 1
    assert frame2["draw"].isin([0, 1]).all() and frame2["step"].isin([3, 1]).all()
    assert (two.chain.points == result.chain.points).all()  # the chain does not change
    assert np.allclose(frame["log_weight"],
                       frame["log_likelihood"] - frame["chain_log_likelihood"])
    x = np.column_stack([d.to_sample(frame[d.name].to_numpy()) for d in space.dimensions])
    assert np.allclose(frame["log_posterior"] - frame["log_likelihood"], space.log_prior(x))
    write_posterior(result, "short.toml", DEFAULT_TARGETS, targets, tmp_path)
    ensemble = load_ensemble(tmp_path / "posterior.parquet")
    assert set(ensemble.knobs + ensemble.unknowns) == {"signal_hazard.scale", "resume_share",
                                                       "reoffend_hazard", *(
                                                           d.name for d in space.free)}

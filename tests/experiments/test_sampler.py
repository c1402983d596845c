"""The ensemble sampler and its diagnostics (chainsim.experiments.sampler)."""

from __future__ import annotations

import numpy as np
import pytest

from chainsim.analysis.targets import load_targets
from chainsim.experiments.calibrate import DEFAULT_KNOBS
from chainsim.experiments.posterior import LogPosterior, ParameterSpace
from chainsim.experiments.sampler import diagnostics, initial_walkers, sample
from conftest import make_scenario


@pytest.mark.slow
def test_the_sampler_is_reproducible_and_reports_its_diagnostics():
    """A small chain (2 dimensions, 6 walkers, 5 steps): shapes, seeds, ArviZ's figures."""
    space = ParameterSpace(make_scenario(), knobs=DEFAULT_KNOBS[:1], unknowns=("resume_share",))
    post = LogPosterior(space, load_targets())
    start = initial_walkers(space, space.start, 6, np.random.default_rng(0))
    first = sample(post, start, steps=5, burn=1, seed=3)
    again = sample(post, start, steps=5, burn=1, seed=3)
    np.testing.assert_array_equal(first.points, again.points)
    assert first.points.shape == (4, 6, 2) and first.log_likelihood.shape == (4, 6)
    assert np.isfinite(first.log_posterior).all()
    assert 0 < first.acceptance <= 1
    stats = diagnostics(first, space.names)
    assert set(stats) == set(space.names)
    assert all(v["ess_bulk"] > 0 and np.isfinite(v["r_hat"]) for v in stats.values())


class _Gaussian:
    """A vectorised log posterior (rows of log posterior and log likelihood) on a box."""

    def __call__(self, xs):
        ll = -0.5 * np.sum((xs / np.arange(1, xs.shape[1] + 1)) ** 2, axis=1)
        lp = ll + np.where(np.all(np.abs(xs) < 3, axis=1), 0.0, -np.inf)
        return np.stack([lp, ll], axis=1)


def test_the_chain_and_its_acceptance_are_emcees_own():
    """sample() keeps the chain itself (emcee's store off): the points, log posteriors and
    the acceptance it counts (a walker that moved) are those emcee stores with the same
    seed and moves."""
    import emcee

    start = np.random.default_rng(1).normal(size=(12, 5)) * 0.1
    chain = sample(_Gaussian(), start, 300, 100, seed=3)
    ref = emcee.EnsembleSampler(12, 5, _Gaussian(), vectorize=True, blobs_dtype=float,
                                moves=[(emcee.moves.DEMove(), 0.8),
                                       (emcee.moves.DESnookerMove(), 0.2)])
    ref.random_state = np.random.RandomState(3).get_state()
    ref.run_mcmc(start, 300)
    np.testing.assert_array_equal(chain.points, ref.get_chain(discard=100))
    np.testing.assert_array_equal(chain.log_posterior, ref.get_log_prob(discard=100))
    np.testing.assert_array_equal(chain.log_likelihood, ref.get_blobs(discard=100))
    assert chain.acceptance == pytest.approx(float(np.mean(ref.acceptance_fraction)), abs=1e-15)


@pytest.mark.parametrize("steps, burn, keep", [(300, 100, 3), (301, 100, 4), (300, 0, 7)])
def test_a_chain_keeping_one_step_in_k_is_the_full_chains_rows(steps, burn, keep):
    """keep_every k holds the steps counted back from the last (the last always), those
    at or after the burn-in, exactly as the full chain has them; the acceptance counts
    every step and the autocorrelation time stays in steps."""
    start = np.random.default_rng(1).normal(size=(12, 5)) * 0.1
    full = sample(_Gaussian(), start, steps, burn, seed=3)
    kept = sample(_Gaussian(), start, steps, burn, seed=3, keep_every=keep)
    which = np.arange(steps - 1, burn - 1, -keep)[::-1] - burn  # rows of the full chain
    np.testing.assert_array_equal(kept.points, full.points[which])
    np.testing.assert_array_equal(kept.log_posterior, full.log_posterior[which])
    np.testing.assert_array_equal(kept.log_likelihood, full.log_likelihood[which])
    assert kept.every == keep and full.every == 1
    assert kept.acceptance == full.acceptance
    # emcee's estimate on every k-th step, times k: the same time within its own noise
    assert np.allclose(kept.autocorrelation, full.autocorrelation, rtol=0.5)


def test_keeping_one_step_in_k_refuses_checkpoints():
    start = np.random.default_rng(1).normal(size=(12, 5)) * 0.1
    with pytest.raises(ValueError, match="keep_every"):
        sample(_Gaussian(), start, 10, 0, seed=3, keep_every=2, on_checkpoint=lambda s: None)

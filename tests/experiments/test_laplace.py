"""The Laplace approximation and draws from it (chainsim.experiments.laplace)."""

from __future__ import annotations

import numpy as np

from chainsim.analysis.targets import load_targets
from chainsim.experiments.calibrate import DEFAULT_KNOBS
from chainsim.experiments.laplace import laplace, laplace_walkers
from chainsim.experiments.posterior import LogPosterior, ParameterSpace
from conftest import make_scenario


def test_the_laplace_start_finds_the_mode_and_draws_walkers_inside_the_support():
    """On 2 dimensions: the optimiser does not lose posterior, the covariance is positive
    definite and no wider than the prior, every walker has a finite log posterior."""
    space = ParameterSpace(make_scenario(), knobs=DEFAULT_KNOBS[:1], unknowns=("resume_share",))
    post = LogPosterior(space, load_targets())
    start_lp = post.score(space.start[None])[0][0]
    approx = laplace(post, space.start, max_iter=5)
    assert approx.log_posterior >= start_lp - 1e-9
    values = np.linalg.eigvalsh(approx.covariance)
    assert (values > 0).all()
    width = np.array([hi - lo for lo, hi in (d.bounds for d in space.dimensions)])
    assert (np.sqrt(np.diag(approx.covariance)) <= width / np.sqrt(12) + 1e-12).all()
    walkers = laplace_walkers(post, approx, 8, np.random.default_rng(2))
    assert walkers.shape == (8, 2)
    assert np.isfinite(post.score(walkers)[0]).all()

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

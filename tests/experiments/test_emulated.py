"""Sampling on the twin's emulator (chainsim.experiments.emulated)."""

from __future__ import annotations

import numpy as np
import pytest

import chainsim.experiments.emulated as emulated
from chainsim.analysis.targets import load_targets
from chainsim.experiments.calibrate import DEFAULT_KNOBS
from chainsim.experiments.emulated import EmulatedLogPosterior, design_runs
from chainsim.experiments.emulator import Design
from chainsim.experiments.posterior import LogPosterior, ParameterSpace
from chainsim.experiments.posterior_run import run_posterior
from conftest import make_scenario


class _Lookup:
    """An emulator that knows the twin's quantities at given points (exact there)."""

    def __init__(self, design: Design):
        self.design = design

    def predict(self, points):
        rows = [int(np.flatnonzero((self.design.points == p).all(axis=1))[0]) for p in points]
        d = self.design
        return ({k: d.metrics[rows, j] for j, k in enumerate(d.metric_keys)},
                {k: d.trials[rows, j] for j, k in enumerate(d.trial_keys)})


def test_the_emulated_posterior_scores_as_the_twin_where_the_emulator_is_exact():
    """Same prior, same (defensive) likelihood: with the twin's own quantities the emulated
    log posterior equals the twin's, point by point; outside the prior it is -inf."""
    space = ParameterSpace(make_scenario(), knobs=DEFAULT_KNOBS[:1],
                           unknowns=("resume_share",))
    targets = load_targets()
    post = LogPosterior(space, targets)
    pts = space.start + np.array([[0.0, 0.0], [0.1, -0.05], [-0.2, 0.1]])
    runs = design_runs(post, pts)
    assert len(runs) == 3
    emulator = EmulatedLogPosterior(space, targets, _Lookup(runs))
    lp, ll = emulator.score(pts)
    lp_twin, ll_twin = post.score(pts)
    np.testing.assert_allclose(ll, ll_twin, rtol=1e-12)
    np.testing.assert_allclose(lp, lp_twin, rtol=1e-12)
    outside = np.array([[50.0, 0.5]])
    assert emulator.score(outside)[0][0] == -np.inf


@pytest.mark.slow
def test_a_posterior_run_on_an_emulator_is_reproducible_and_says_how_it_was_made(monkeypatch):
    """run_posterior with an emulator (2 dimensions, 2 waves of 20 twin runs, short chains):
    the provenance holds the design and the held-out error, the candidates' chain
    log-likelihood is the emulated one, and the same seed gives the same members."""
    monkeypatch.setattr(emulated, "EMULATOR_PILOT_STEPS", 30)
    sc = make_scenario()
    targets = load_targets()

    def once():
        space = ParameterSpace(sc, knobs=DEFAULT_KNOBS[:1], unknowns=("resume_share",))
        return run_posterior(sc, targets, members=12, walkers=6, steps=40, burn=10,
                             wave_size=0, seed=5, space=space, design=40, design_waves=2,
                             candidates=24)

    run = once()
    doc = run.settings["emulator"]
    assert run.settings["sampler"] == "emulator"
    assert [w["wave"] for w in doc["waves"]] == [1, 2]
    assert doc["design_runs"] == sum(w["runs"] for w in doc["waves"]) <= 40
    assert doc["waves"][1]["held_out"]["points"] == doc["waves"][1]["runs"]
    assert np.isfinite(doc["waves"][1]["held_out"]["log_likelihood_error_sd"])
    assert len(run.members) == 12
    assert run.settings["thin"] >= int(np.ceil(30 * 6 / 24))  # at most 24 candidates
    again = once()
    np.testing.assert_array_equal(run.members.to_numpy(float), again.members.to_numpy(float))

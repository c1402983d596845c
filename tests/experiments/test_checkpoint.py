"""Checkpoints of a posterior run: a resumed chain is the uninterrupted one, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from chainsim.analysis.targets import load_targets
from chainsim.chain.errors import InputError
from chainsim.experiments.calibrate import DEFAULT_KNOBS
from chainsim.experiments.checkpoint import (
    SamplerCheckpoint,
    load_checkpoint,
    save_checkpoint,
)
from chainsim.experiments.posterior import LogPosterior, ParameterSpace
from chainsim.experiments.posterior_run import run_posterior
from chainsim.experiments.sampler import initial_walkers, sample
from conftest import make_scenario


def small_space() -> ParameterSpace:
    return ParameterSpace(make_scenario(), knobs=DEFAULT_KNOBS[:1], unknowns=("resume_share",))


def test_a_chain_resumed_from_a_checkpoint_is_the_uninterrupted_chain(tmp_path):
    """Sample 6 steps at once; sample 4, save, load, go on to 6: the same numbers."""
    space = small_space()
    post = LogPosterior(space, load_targets())
    start = initial_walkers(space, space.start, 6, np.random.default_rng(0))
    whole = sample(post, start, steps=6, burn=2, seed=3)
    saved: list[SamplerCheckpoint] = []
    sample(post, start, steps=4, burn=0, seed=3, on_checkpoint=saved.append, every=2)
    assert [c.steps for c in saved] == [2, 4]
    saved[-1].fingerprint = "run"
    path = tmp_path / "c.npz"
    save_checkpoint(path, saved[-1])
    resumed = sample(post, start * 0 + 99, steps=6, burn=2, seed=3,  # start is not used
                     resume=load_checkpoint(path, "run"))
    np.testing.assert_array_equal(resumed.points, whole.points)
    np.testing.assert_array_equal(resumed.log_likelihood, whole.log_likelihood)
    assert resumed.acceptance == whole.acceptance


def test_another_runs_checkpoint_is_refused_and_a_missing_one_is_none(tmp_path):
    path = tmp_path / "c.npz"
    assert load_checkpoint(path, "run") is None
    state = SamplerCheckpoint("run", np.zeros((1, 2, 1)), np.zeros((1, 2)), np.zeros((1, 2)),
                              np.zeros(2), np.random.RandomState(1).get_state(), {}, 3, ["x"])
    save_checkpoint(path, state)
    assert load_checkpoint(path, "run").evaluations == 3
    assert load_checkpoint(path, "run").seconds == 0.0
    state.seconds = 12.5
    save_checkpoint(path, state)
    assert load_checkpoint(path, "run").seconds == 12.5
    with np.load(path) as f:  # a checkpoint from before the field: no time known, 0
        old = {k: f[k] for k in f.files if k != "seconds"}
    np.savez(path, **old)
    assert load_checkpoint(path, "run").seconds == 0.0
    with pytest.raises(InputError, match="another run"):
        load_checkpoint(path, "other run")
    path.write_text("not a checkpoint")
    with pytest.raises(InputError, match="checkpoint"):
        load_checkpoint(path, "run")


@pytest.mark.slow
def test_run_posterior_goes_on_from_its_checkpoint(tmp_path):
    """run_posterior for 4 steps, then for 6 from its checkpoint: the 6-step run's members."""
    sc, targets = make_scenario(), load_targets()

    def run(steps, checkpoint=None):
        return run_posterior(sc, targets, members=12, walkers=6, steps=steps, burn=1,
                             wave_size=4, seed=5, space=small_space(), checkpoint=checkpoint)

    path = tmp_path / "c.npz"
    first = run(4, path)
    first_sitting = load_checkpoint(path, resumed_fingerprint(path)).seconds
    assert 0.0 < first_sitting <= first.seconds
    with np.load(path) as f:  # as if the first sitting had taken a day
        data = {k: f[k] for k in f.files} | {"seconds": np.array(86400.0)}
    np.savez(path, **data)
    resumed = run(6, path)
    whole = run(6)
    assert load_checkpoint(path, resumed_fingerprint(path)).steps == 6
    np.testing.assert_array_equal(resumed.chain.points, whole.chain.points)
    assert resumed.members.equals(whole.members)
    assert resumed.evaluations == whole.evaluations
    assert resumed.seconds > 86400.0  # the earlier sitting's time is counted


def resumed_fingerprint(path) -> str:
    with np.load(path) as f:
        return str(f["fingerprint"])

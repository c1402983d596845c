"""Sampling on the twin's emulator (chainsim.experiments.emulated)."""

from __future__ import annotations

import numpy as np
import pytest

import chainsim.experiments.emulated as emulated
from chainsim.analysis.fit import target_key
from chainsim.analysis.likelihood import log_likelihood
from chainsim.analysis.targets import load_targets
from chainsim.experiments.calibrate import DEFAULT_KNOBS
from chainsim.experiments.emulated import EmulatedLogPosterior, design_runs, full_design_runs
from chainsim.experiments.emulator import Design
from chainsim.experiments.posterior import LogPosterior, ParameterSpace, full_twin_quantities
from chainsim.experiments.posterior_run import run_posterior
from chainsim.experiments.reweight import own_log_likelihoods
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
def test_a_long_emulated_chain_kept_one_step_in_k_gives_the_same_candidates(monkeypatch):
    """A final chain longer than MAX_KEPT_STEPS keeps one step in k; thinned to the same
    steps, its members are those of the chain kept whole (the candidates are the same
    points, at the same steps)."""
    monkeypatch.setattr(emulated, "EMULATOR_PILOT_STEPS", 30)
    sc = make_scenario()
    targets = load_targets()

    def run(max_kept):
        monkeypatch.setattr(emulated, "MAX_KEPT_STEPS", max_kept)
        space = ParameterSpace(sc, knobs=DEFAULT_KNOBS[:1], unknowns=("resume_share",))
        return run_posterior(sc, targets, members=12, walkers=6, steps=40, burn=10,
                             wave_size=0, seed=5, space=space, design=40, design_waves=2,
                             thin=4, reweight=False)

    whole, kept = run(1000), run(35)  # the pilot chains (30 steps) are whole in both
    assert emulated.kept_every(40) == 2 and kept.settings["thin"] == whole.settings["thin"] == 4
    np.testing.assert_array_equal(kept.members.to_numpy(float), whole.members.to_numpy(float))


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


def _joint_space():
    """Three dimensions: a knob, a chain unknown and an after-chain one."""
    return ParameterSpace(make_scenario(), knobs=DEFAULT_KNOBS[:1],
                          unknowns=("resume_share", "reoffend_hazard"), joint=True)


def test_the_joint_space_samples_the_after_chain_unknowns_last():
    """joint=True: the after-chain unknowns become the last dimensions, none is free, and a
    point's parameters are those of its chain part with its after-chain part as free values."""
    chain_space = ParameterSpace(make_scenario(), knobs=DEFAULT_KNOBS[:1],
                                 unknowns=("resume_share", "reoffend_hazard"))
    joint = chain_space.joint_space()
    assert joint.names == ["signal_hazard.scale", "resume_share", "reoffend_hazard"]
    assert joint.free == [] and [d.name for d in chain_space.free] == ["reoffend_hazard"]
    x = np.array([0.1, 0.4, 0.01])
    a, b = joint.params(x), chain_space.params(x[:2], x[2:])
    assert a.values.keys() == b.values.keys()
    for name in a.values:
        np.testing.assert_array_equal(a.values[name], b.values[name])
    assert not np.array_equal(a.values["reoffend_hazard"],
                              chain_space.params(x[:2]).values["reoffend_hazard"])
    assert joint.log_prior(x)[0] == pytest.approx(
        chain_space.log_prior(x[:2])[0] + chain_space.free[0].log_prior(x[2:])[0], rel=1e-12)


@pytest.mark.parametrize("robust", [False, True])
def test_the_joint_emulated_likelihood_is_the_full_twins_where_the_emulator_is_exact(robust):
    """With the full twin's own quantities (own re-entries) the emulated joint
    log-likelihood equals the full twin's as the reweighting computes it (the stated
    likelihood; and the defensive one where both use it), point by point."""
    space = _joint_space()
    targets = load_targets()
    keys = [target_key(t) for t in targets.values()]
    pts = space.start + np.array([[0.0, 0.0, 0.0], [0.1, -0.05, 0.004], [-0.2, 0.1, -0.003]])
    runs = full_design_runs(space, keys, pts)
    assert len(runs) == 3
    emulated_ll = EmulatedLogPosterior(space, targets, _Lookup(runs),
                                       robust_everywhere=robust).likelihood_at(pts)
    chain_space = ParameterSpace(make_scenario(), knobs=DEFAULT_KNOBS[:1],
                                 unknowns=("resume_share", "reoffend_hazard"))
    if robust:  # the reweighting's full-twin runs (chain part, after-chain values), defensive
        twin = [float(log_likelihood(targets, *full_twin_quantities(chain_space, keys, x[:2],
                                                                    x[2:]), True)[0])
                for x in pts]
    else:  # exactly as the reweighting scores a candidate
        twin = own_log_likelihoods(chain_space, targets, pts[:, :2], pts[:, 2:])
    np.testing.assert_allclose(emulated_ll, twin, rtol=1e-12)
    assert np.ptp(emulated_ll) > 0  # the after-chain unknown moves the figures


def test_full_design_runs_do_not_depend_on_the_workers():
    """The same design over 1 or 2 processes, bit for bit; an invalid point is dropped."""
    space = _joint_space()
    keys = [target_key(t) for t in load_targets().values()]
    pts = space.start + np.array([[0.0, 0.0, 0.0], [0.1, -0.05, 0.004], [0.0, 5.0, 0.0]])
    one, two = full_design_runs(space, keys, pts), full_design_runs(space, keys, pts, workers=2)
    assert len(one) == 2
    np.testing.assert_array_equal(one.points, two.points)
    np.testing.assert_array_equal(one.metrics, two.metrics)
    np.testing.assert_array_equal(one.trials, two.trials)


@pytest.mark.slow
def test_a_joint_posterior_run_is_reproducible_and_its_members_carry_the_chains_values(
        monkeypatch, tmp_path):
    """run_posterior(joint=True) on 3 dimensions (2 waves of 16 full-twin runs, short
    chains): the provenance says joint, every member's after-chain value is its
    candidate's own from the chain, one draw each, the files say every dimension was
    sampled, and the same seed gives the same members."""
    import json

    from chainsim.analysis.targets import DEFAULT_TARGETS
    from chainsim.outputs.folders import write_posterior

    monkeypatch.setattr(emulated, "EMULATOR_PILOT_STEPS", 20)
    sc = make_scenario()
    targets = load_targets()

    def once():
        space = ParameterSpace(sc, knobs=DEFAULT_KNOBS[:1],
                               unknowns=("resume_share", "reoffend_hazard"))
        return run_posterior(sc, targets, members=8, walkers=8, steps=30, burn=10,
                             wave_size=0, seed=3, space=space, design=32, design_waves=2,
                             candidates=16, reweight=True, joint=True)

    run = once()
    assert run.settings["sampler"] == "emulator (joint)"
    assert "full twin" in run.settings["twin"] and "own re-entries" in run.settings["twin"]
    assert run.settings["emulator"]["twin"].startswith("full")
    assert run.settings["reweighting"]["draws_per_candidate"] == 1
    assert run.space.names == ["signal_hazard.scale", "resume_share", "reoffend_hazard"]
    assert set(run.diagnostics) == set(run.space.names)
    members = run.members
    assert (members["draw"] == 0).all()
    pts = run.chain.points[::-1][::run.settings["thin"]].reshape(-1, 3)
    np.testing.assert_array_equal(members["reoffend_hazard"].to_numpy(),
                                  pts[members["candidate"].to_numpy(), 2])
    np.testing.assert_array_equal(members["resume_share"].to_numpy(),
                                  pts[members["candidate"].to_numpy(), 1])
    x = np.column_stack([d.to_sample(members[d.name].to_numpy()) for d in run.space.dimensions])
    np.testing.assert_allclose(members["log_posterior"] - members["log_likelihood"],
                               run.space.log_prior(x), rtol=1e-9)
    write_posterior(run, "short.toml", DEFAULT_TARGETS, targets, tmp_path)
    doc = json.loads((tmp_path / "posterior.json").read_text(encoding="utf-8"))
    assert doc["settings"]["sampler"] == "emulator (joint)"
    assert all(p["sampled"] for p in doc["priors"].values())
    again = once()
    np.testing.assert_array_equal(members.to_numpy(float), again.members.to_numpy(float))


@pytest.mark.parametrize(("design", "draws", "message"),
                         [(0, 1, "needs a design"), (20, 2, "draws = 2")])
def test_the_joint_mode_needs_a_design_and_one_draw(design, draws, message):
    sc = make_scenario()
    with pytest.raises(ValueError, match=message):
        run_posterior(sc, load_targets(), design=design, draws=draws, reweight=True,
                      joint=True)

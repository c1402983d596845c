"""The posterior's parameter space, log posterior and sampler (chainsim.experiments.posterior)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate

from chainsim.analysis.targets import load_targets
from chainsim.chain.parameters import resolve
from chainsim.experiments.calibrate import CALIBRATION_END, DEFAULT_KNOBS
from chainsim.experiments.posterior import (
    AFTER_CHAIN_ONLY,
    Dimension,
    LogPosterior,
    ParameterSpace,
)
from conftest import make_scenario, short_doc

KNOB = Dimension("signal_hazard.scale", "knob", 0.2, 5.0, 1.0, True)
UNKNOWN = Dimension("resume_share", "unknown", 0.2, 0.8, 0.5, False)
SKEWED = Dimension("exposure_share", "unknown", 0.01, 0.2, 0.05, False)


@pytest.mark.parametrize("dim", [KNOB, UNKNOWN, SKEWED], ids=lambda d: d.name)
def test_priors_are_densities_and_their_inverse_cdfs_match(dim):
    lo, hi = dim.bounds
    mass, _ = integrate.quad(lambda x: float(np.exp(dim.log_prior(np.array(x)))), lo, hi,
                             points=[float(dim.to_sample(dim.mode))])
    assert mass == pytest.approx(1.0, abs=1e-6)
    assert dim.log_prior(np.array([lo - 1e-3, hi + 1e-3])).tolist() == [-np.inf, -np.inf]
    # the inverse CDF at u gives the point with prior mass u below it
    for u in (0.1, 0.5, 0.9):
        x = float(dim.from_uniform(np.array(u)))
        below, _ = integrate.quad(lambda y: float(np.exp(dim.log_prior(np.array(y)))), lo, x)
        assert below == pytest.approx(u, abs=1e-6)


def test_the_space_samples_knobs_and_chain_unknowns_and_draws_the_rest_from_the_prior():
    sc = make_scenario()
    space = ParameterSpace(sc)
    names = space.names
    assert names[:len(DEFAULT_KNOBS)] == [k.name for k in DEFAULT_KNOBS]
    assert {d.name for d in space.free} == AFTER_CHAIN_ONLY & set(sc.unknowns)
    assert set(names[len(DEFAULT_KNOBS):]) | {d.name for d in space.free} == set(sc.unknowns)
    draws = space.draw_free(np.random.default_rng(1), 500)
    for i, d in enumerate(space.free):
        assert (draws[:, i] >= d.low).all() and (draws[:, i] <= d.high).all()


def test_the_start_is_the_scenario_itself():
    """The prior modes map back to the scenario's own parameters (cut to 2019, no
    interventions): knobs at their values (scale knobs 1), unknowns at their central."""
    sc = make_scenario()
    space = ParameterSpace(sc)
    params = space.params(space.start)
    doc = short_doc()
    doc["scenario"]["end"] = CALIBRATION_END
    reference = resolve(make_scenario(doc=doc))
    for name in ("signal_hazard", "investigation_capacity", "conviction_prob",
                 "inflow_stratum_rate", "resume_share", "known_signal_factor"):
        np.testing.assert_allclose(params[name], reference[name], rtol=1e-12, err_msg=name)


def test_points_outside_the_prior_or_the_allowed_ranges_are_impossible():
    space = ParameterSpace(make_scenario(), knobs=DEFAULT_KNOBS[:1], unknowns=("resume_share",))
    post = LogPosterior(space, load_targets())
    outside = space.start + np.array([10.0, 0.0])  # signal scale e^10: beyond its bound
    lp, _ = post.score(outside[None])
    assert lp[0] == -np.inf and post.evaluations == 0


def test_scale_knobs_keep_their_prior_on_the_hand_set_values():
    """A scale knob samples relative to the calibrated value; its bounds, times the
    calibration's own scale, are the knob's bounds on the hand-set value."""
    from chainsim.chain.config import load_scenario
    from conftest import BASELINE

    calibrated = load_scenario(BASELINE)
    hand_set = load_scenario(BASELINE, calibrated=False)
    space = ParameterSpace(calibrated, hand_set=hand_set)
    plain = ParameterSpace(calibrated)
    now = calibrated.model_dump(mode="json", exclude_none=True)["parameters"]
    before = hand_set.model_dump(mode="json", exclude_none=True)["parameters"]
    for knob, dim, raw in zip(DEFAULT_KNOBS, space.dimensions, plain.dimensions, strict=False):
        if knob.field != "scale":
            assert (dim.low, dim.high) == (knob.low, knob.high) == (raw.low, raw.high)
            continue
        entry, base = now[knob.parameter], before[knob.parameter]
        c = (entry["value"] / base["value"] if base.get("value")
             else next(entry["by_form"][f] / v for f, v in base["by_form"].items()))
        assert dim.mode == 1.0
        assert dim.low * c == pytest.approx(knob.low) and dim.high * c == pytest.approx(knob.high)
    signal = space.dimensions[0]
    assert signal.name == "signal_hazard.scale" and signal.high > 5.0  # fitted at ~0.53


def test_scores_do_not_depend_on_the_number_of_worker_processes():
    """Points are scored in fixed groups of the twin's passes, whatever the workers: the
    same log posterior bit for bit with one process and with two."""
    space = ParameterSpace(make_scenario(), knobs=DEFAULT_KNOBS[:2],
                           unknowns=("resume_share", "trial_months"))
    rng = np.random.default_rng(4)
    points = space.start + 0.05 * rng.standard_normal((20, len(space.start)))
    serial = LogPosterior(space, load_targets())
    parallel = LogPosterior(space, load_targets(), workers=2)
    try:
        np.testing.assert_array_equal(parallel.score(points)[0], serial.score(points)[0])
    finally:
        parallel.close()


def test_the_status_says_converged_only_within_the_thresholds():
    """R-hat <= 1.01, bulk ESS >= 400 (Vehtari et al. 2021), reliable weights; else provisional."""
    from chainsim.outputs.folders import posterior_status

    settings = {"steps": 1000, "burn": 300, "walkers": 94}
    good = posterior_status({"max_r_hat": 1.008, "min_ess_bulk": 650, "settings": settings})
    assert good["converged"] and good["note"].startswith("converged")
    for r_hat, ess in ((1.02, 650), (1.008, 300), (None, 650)):
        bad = posterior_status({"max_r_hat": r_hat, "min_ess_bulk": ess, "settings": settings})
        assert not bad["converged"] and "provisional" in bad["note"]
    rw = {"candidates": 2500, "pareto_k": 0.74, "reliable": False, "ess": 300,
          "unique_members": 600}
    weights = posterior_status({"max_r_hat": 1.008, "min_ess_bulk": 650,
                                "settings": settings | {"reweighting": rw}})
    assert not weights["converged"] and "Pareto k above 0.7" in weights["note"]
    rw |= {"pareto_k": 0.55, "reliable": True}
    assert posterior_status({"max_r_hat": 1.008, "min_ess_bulk": 650,
                             "settings": settings | {"reweighting": rw}})["converged"]

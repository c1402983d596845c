"""The likelihood of the source's figures: proper distributions, robust to known conflicts."""

from __future__ import annotations

import numpy as np
import pytest

from chainsim.analysis import likelihood
from chainsim.analysis.fit import target_key, twin_metrics, twin_trials
from chainsim.analysis.likelihood import (
    DISCREPANCY_CV,
    ROBUST_INFLATION,
    ROBUST_WEIGHT,
    log_likelihood,
    target_log_likelihood,
)
from chainsim.analysis.targets import Target, load_targets


def target(**fields) -> Target:
    base = {"scope": "window_mean", "years": "2015-2019", "source": "a test figure"}
    return Target(**(base | fields))


TRACED = target(metric="traced", kind="point", value=180, sd=10)
CONVICTED = target(metric="convicted", kind="range", low=95, high=105, sd=5)
SIGNALLED = target(metric="signalled", kind="lower_bound", value=200, sd=20)
TERM = target(metric="prison_months", kind="point", value=20, sd=2)
TECHNICAL = target(metric="technical_dismissal_share", scope="by_year", years="2016",
                   kind="share", value=0.27, sd=0.04)


def test_the_negative_binomial_is_a_distribution_with_its_mean_and_overdispersion():
    y = np.arange(0, 4000, dtype=float)
    mean, inv = 900.0, 0.01
    p = np.exp(likelihood._negative_binomial(y, mean, inv))
    assert p.sum() == pytest.approx(1.0, abs=1e-9)
    assert (y * p).sum() == pytest.approx(mean, rel=1e-9)
    var = ((y - mean) ** 2 * p).sum()
    assert var == pytest.approx(mean + mean**2 * inv, rel=1e-6)


def test_the_beta_binomial_is_a_distribution_with_its_mean_and_spread():
    n, p, sd = 200.0, 0.3, 0.04
    x = np.arange(0, 201, dtype=float)
    pmf = np.exp(likelihood._beta_binomial(x, n, p, sd))
    assert pmf.sum() == pytest.approx(1.0, abs=1e-9)
    assert (x * pmf).sum() == pytest.approx(n * p, rel=1e-9)
    # share variance: binomial part plus the beta's, (n - 1) / n of sd^2 for large n ...
    var = ((x / n - p) ** 2 * pmf).sum()
    conc = p * (1 - p) / sd**2 - 1
    assert var == pytest.approx(p * (1 - p) / n * (1 + (n - 1) / (conc + 1)), rel=1e-6)
    assert var > sd**2  # ... so the stated sd is a floor of the spread


def test_a_count_is_most_likely_near_its_figure_and_less_likely_away_from_it():
    mu = np.linspace(120, 240, 241)
    ll = target_log_likelihood(TRACED, mu)
    assert abs(mu[np.argmax(ll)] - 180) <= 2  # the mode of the mean: within 1 %
    best = int(np.argmax(ll))
    assert np.all(np.diff(ll[:best]) > 0) and np.all(np.diff(ll[best + 1:]) < 0)


def test_ranges_are_flat_inside_and_fall_outside():
    inside = target_log_likelihood(CONVICTED, np.array([97.5, 100.0, 102.5]))
    assert np.ptp(inside) < 0.25
    outside = target_log_likelihood(CONVICTED, np.array([105.0, 115.0, 125.0]))
    assert np.all(np.diff(outside) < 0) and outside[-1] < inside.min() - 2
    below = target_log_likelihood(CONVICTED, np.array([95.0, 85.0, 75.0]))
    assert np.all(np.diff(below) < 0)


def test_a_lower_bound_rewards_being_above_it_and_no_more():
    ll = target_log_likelihood(SIGNALLED, np.array([150.0, 200.0, 260.0, 400.0, 800.0]))
    assert np.all(np.diff(ll) > 0)
    assert ll[-1] == pytest.approx(0.0, abs=1e-3) and ll[-2] == pytest.approx(0.0, abs=0.01)


def test_a_conflicting_figure_costs_a_bounded_amount_not_a_quadratic_one():
    """Ten spreads off: a Gaussian would cost 50 log units; the mixture about log(1/0.05)
    plus the broad component's own (10 / 5)^2 / 2 = 2 and the width log(5)."""
    term = target(metric="prison_months", kind="point", value=20, sd=2,
                  conflict="a test figure counted another way")
    s = np.sqrt(term.sd**2 + (DISCREPANCY_CV * term.value) ** 2)
    at, far = target_log_likelihood(term, np.array([20.0, 20.0 + 10 * s]))
    cost = at - far
    expected = (-np.log(ROBUST_WEIGHT) + np.log(ROBUST_INFLATION)
                + 0.5 * (10 / ROBUST_INFLATION) ** 2)
    assert cost == pytest.approx(expected, abs=0.1)
    assert cost < 10


def test_a_figure_without_a_known_conflict_is_taken_as_stated():
    """Without ``conflict`` the figure's likelihood is the core alone: ten spreads off cost
    the Gaussian's 50 log units."""
    s = np.sqrt(TERM.sd**2 + (DISCREPANCY_CV * TERM.value) ** 2)
    at, far = target_log_likelihood(TERM, np.array([20.0, 20.0 + 10 * s]))
    assert at - far == pytest.approx(50.0, rel=1e-9)


def test_the_samplers_defensive_likelihood_gives_every_figure_the_mixture():
    """``robust_everywhere``: the same figure without a conflict now costs the mixture's
    bounded amount ten spreads off, as in the test above."""
    s = np.sqrt(TERM.sd**2 + (DISCREPANCY_CV * TERM.value) ** 2)
    at, far = target_log_likelihood(TERM, np.array([20.0, 20.0 + 10 * s]),
                                    robust_everywhere=True)
    expected = (-np.log(ROBUST_WEIGHT) + np.log(ROBUST_INFLATION)
                + 0.5 * (10 / ROBUST_INFLATION) ** 2)
    assert at - far == pytest.approx(expected, abs=0.1)
    stated, _ = log_likelihood({"term": TERM}, {target_key(TERM): np.array([20.0 + 10 * s])})
    defensive, _ = log_likelihood({"term": TERM}, {target_key(TERM): np.array([20.0 + 10 * s])},
                                  robust_everywhere=True)
    assert defensive[0] - stated[0] > 35


def test_only_the_unreconcilable_pair_is_declared_in_conflict():
    conflicting = {name for name, t in load_targets().items() if t.conflict is not None}
    assert conflicting == {"summoned", "before_judge_share"}


def test_a_conflict_note_leaves_the_chains_fingerprint_alone():
    """The chain samples the defensive likelihood, which does not read ``conflict``; the
    fingerprint of its checkpoint is built from the targets' repr, which leaves it out."""
    summoned = load_targets()["summoned"]
    assert summoned.conflict and "conflict" not in repr(summoned)
    assert repr(summoned) == repr(summoned.model_copy(update={"conflict": None}))


def test_shares_need_their_trials_and_are_most_likely_at_the_figure():
    with pytest.raises(ValueError, match="trials"):
        target_log_likelihood(TECHNICAL, 0.3)
    mu = np.linspace(0.1, 0.5, 401)
    ll = target_log_likelihood(TECHNICAL, mu, np.full_like(mu, 230.0))
    assert abs(mu[np.argmax(ll)] - 0.27) < 0.01


def test_vectorised_over_parameter_sets_and_minus_infinity_where_the_model_fails():
    mu = np.array([150.0, 180.0, np.nan, 210.0])
    batch = target_log_likelihood(TRACED, mu)
    single = [float(target_log_likelihood(TRACED, m)) for m in mu]
    np.testing.assert_allclose(batch, single)
    assert batch[2] == -np.inf
    # far tails stay finite (no log of zero)
    assert np.isfinite(target_log_likelihood(CONVICTED, np.array([1e-3, 1e5]))).all()


def test_a_detuned_chain_is_less_likely(short_params):
    """On the short scenario's twin: convicting 40 % fewer summoned suspects loses likelihood
    through the convictions and prison sentences (7 and 6 spreads below their figures)."""
    from dataclasses import replace

    from chainsim.engines.twin import expected_flows

    targets = {n: t for n, t in load_targets().items() if t.scope != "by_year"
               or int(t.years) <= 2017}
    keys = [target_key(t) for t in targets.values()]

    def total(params):
        ef = expected_flows(params)
        return log_likelihood(targets, twin_metrics(ef, keys), twin_trials(ef, keys))

    base, parts = total(short_params)
    values = dict(short_params.values)
    values["conviction_prob"] = values["conviction_prob"] * 0.6
    detuned, detuned_parts = total(replace(short_params, values=values))
    assert set(parts) == set(targets)
    assert float(base) > float(detuned) + 5
    for name in ("convicted", "prison"):
        assert float(detuned_parts[name]) < float(parts[name]) - 3


def test_a_share_is_scored_as_a_density_of_the_observed_share():
    """The Jacobian N: a share from more cases is a sharper density at the figure (without
    it the pmf of the count would favour parameter sets with fewer cases), and over the
    observed share it integrates to 1 whatever N."""
    at = [float(target_log_likelihood(TECHNICAL, 0.27, n)) for n in (100.0, 400.0)]
    assert at[1] > at[0]
    for n in (60.0, 300.0):
        s = np.arange(0, n + 1) / n
        dens = np.exp(likelihood._beta_binomial(s * n, n, 0.27, 0.04) + np.log(n))
        assert (dens / n).sum() == pytest.approx(1.0, abs=1e-9)


def test_the_observation_sd_adds_discrepancy_and_register_noise():
    from chainsim.analysis.likelihood import observation_sd

    assert observation_sd(TRACED) == pytest.approx(
        np.sqrt(TRACED.sd**2 + (DISCREPANCY_CV * 180) ** 2 + 180 / 5))
    assert observation_sd(TECHNICAL) == pytest.approx(np.hypot(0.04, DISCREPANCY_CV * 0.27))


def test_a_share_s_observation_sd_with_its_cases_is_the_beta_binomial_s():
    """With its number of cases, a share's spread is the one its likelihood scores.

    The share x / N of the beta-binomial at the figure (the likelihood's core): its sd from
    the pmf, exactly (a sum over every x, no sampling), for few and many cases.
    """
    from chainsim.analysis.likelihood import observation_sd

    sd = np.hypot(TECHNICAL.sd, DISCREPANCY_CV * TECHNICAL.value)
    for n in (40.0, 150.0, 2000.0):
        x = np.arange(0, n + 1)
        pmf = np.exp(likelihood._beta_binomial(x, n, TECHNICAL.value, sd))
        spread = np.sqrt(((x / n - TECHNICAL.value) ** 2 * pmf).sum())
        assert observation_sd(TECHNICAL, trials=n) == pytest.approx(spread, rel=1e-6)
        assert observation_sd(TECHNICAL, trials=n) > observation_sd(TECHNICAL)
    # few cases widen it most; counts ignore trials
    assert observation_sd(TECHNICAL, trials=40.0) > observation_sd(TECHNICAL, trials=2000.0)
    assert observation_sd(TRACED, trials=40.0) == observation_sd(TRACED)

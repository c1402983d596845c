"""The effect under parameter uncertainty: variance split, prediction interval, probability."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from chainsim.analysis.effects import effect_summary, monte_carlo_variance

N, M = 4000, 1000
"""Members, and members replicated twice."""
EFFECT_MEAN, EFFECT_SD, NOISE_SD = -2.0, 1.0, 0.5


@pytest.fixture(scope="module")
def synthetic():
    """Effects that vary over members (sd 1) plus Monte Carlo noise (sd 0.5); seed fixed."""
    rng = np.random.default_rng(20261202)
    effect = rng.normal(EFFECT_MEAN, EFFECT_SD, N)
    d = effect + rng.normal(0, NOISE_SD, N)
    repeat = effect[:M] + rng.normal(0, NOISE_SD, M)
    return d, repeat


def test_the_monte_carlo_variance_comes_from_the_repeated_members(synthetic):
    d, repeat = synthetic
    mc = monte_carlo_variance(d[:M], repeat)
    # (d - r)^2 / 2 has mean NOISE_SD^2 and sd NOISE_SD^2 * sqrt(2) (chi-square, 1 df):
    # the estimate's se over M pairs is NOISE_SD^2 * sqrt(2 / M); 4 se allowed
    assert mc == pytest.approx(NOISE_SD**2, abs=4 * NOISE_SD**2 * np.sqrt(2 / M))


def test_the_split_the_interval_and_the_probability_match_the_truth(synthetic):
    d, repeat = synthetic
    out = effect_summary(d, d[:M], repeat, baseline_level=50.0, threshold=0.02)
    var = out["variance"]
    # total variance 1.25 (se of a sample variance: 1.25 * sqrt(2 / N)); 4 se allowed
    assert var["total"] == pytest.approx(EFFECT_SD**2 + NOISE_SD**2,
                                         abs=4 * 1.25 * np.sqrt(2 / N))
    assert var["parameter_share"] == pytest.approx(0.8, abs=0.04)
    # the 90 % prediction interval of the effect itself, not widened by the noise:
    # -2 -+ 1.645 (the percentiles' se at N = 4000 is about 0.03; 0.12 allowed)
    lo, hi = out["prediction"]
    z = stats.norm.ppf(0.95)
    assert lo == pytest.approx(EFFECT_MEAN - z * EFFECT_SD, abs=0.12)
    assert hi == pytest.approx(EFFECT_MEAN + z * EFFECT_SD, abs=0.12)
    # P(effect < 0) = Phi(2) = 0.977; beyond 2 % of a level of 50 (a reduction > 1):
    # Phi(1) = 0.841 (binomial se at N = 4000 below 0.006; 0.025 allowed)
    assert out["p_reduction"] == pytest.approx(stats.norm.cdf(2.0), abs=0.025)
    assert out["threshold"] == pytest.approx(1.0)
    assert out["p_reduction_beyond_threshold"] == pytest.approx(stats.norm.cdf(1.0), abs=0.025)
    # the confidence interval of the mean is far narrower than the prediction interval
    assert out["ci"][1] - out["ci"][0] < (hi - lo) / 20


def test_pure_noise_has_no_parameter_part_and_a_coin_flip_probability():
    rng = np.random.default_rng(7)
    d = rng.normal(0, 1, 2000)
    repeat = rng.normal(0, 1, 500)  # the same member gives unrelated noise
    out = effect_summary(d, d[:500], repeat, baseline_level=10.0)
    assert out["variance"]["parameter_share"] < 0.1
    lo, hi = out["prediction"]
    assert hi - lo < 0.8  # shrunk to (almost) the mean: the members do not differ
    assert out["n"] == 2000


def test_an_effect_the_replications_cannot_resolve_keeps_the_mean_s_uncertainty():
    """Parameter part 0 (Monte Carlo variance above the total): no collapse to 0 or 1.

    Every member's effect is shrunk onto the mean, so what is left is the mean's own
    uncertainty: the probability of a reduction is the one-sided t probability of the
    average effect, and agrees with the 95 % confidence interval.
    """
    rng = np.random.default_rng(5)
    d = rng.normal(0.05, 1.0, 200)
    repeat = d[:50] + rng.normal(0, 3.0, 50)  # repeats disagree more than members differ
    out = effect_summary(d, d[:50], repeat, baseline_level=10.0, threshold=0.01)
    assert out["variance"]["parameters"] == 0.0
    se = d.std(ddof=1) / np.sqrt(len(d))
    assert out["p_reduction"] == pytest.approx(stats.t.cdf(-d.mean() / se, len(d) - 1),
                                               rel=1e-9)
    assert out["p_reduction_beyond_threshold"] == pytest.approx(
        stats.t.cdf((-0.1 - d.mean()) / se, len(d) - 1), rel=1e-9)
    lo, hi = out["ci"]
    assert lo < 0 < hi and 0.025 < out["p_reduction"] < 0.975
    # the 90 % interval is the mean's: its t interval at 90 %
    half = stats.t.ppf(0.95, len(d) - 1) * se
    assert out["prediction"] == pytest.approx([d.mean() - half, d.mean() + half], abs=1e-9)


def test_the_probability_and_the_interval_agree():
    """The interval's ends are the 5 % and 95 % points of the same distribution."""
    rng = np.random.default_rng(9)
    effect = rng.normal(-1.0, 0.5, 60)
    d = effect + rng.normal(0, 0.3, 60)
    repeat = effect[:15] + rng.normal(0, 0.3, 15)
    lo, hi = effect_summary(d, d[:15], repeat, baseline_level=20.0)["prediction"]
    for end, share in ((lo, 0.05), (hi, 0.95)):
        cut = -end / 20.0  # a threshold at the interval's end
        out = effect_summary(d, d[:15], repeat, baseline_level=20.0, threshold=cut)
        assert out["p_reduction_beyond_threshold"] == pytest.approx(share, abs=1e-9)


def test_too_few_replications_give_no_summary():
    out = effect_summary(np.array([1.0, np.nan]), np.array([]), np.array([]), 1.0)
    assert out["mean"] is None and out["n"] == 1


def test_influence_is_found_where_it_is_and_not_read_into_noise():
    """200 members, 30 parameters; the effect depends on two of them plus noise."""
    from chainsim.analysis.effects import posterior_influence

    rng = np.random.default_rng(11)
    n = 200
    draws = {f"p{i}": rng.random(n) for i in range(30)}
    draws["constant"] = np.full(n, 0.5)
    effect = 3 * draws["p0"] + 1.5 * draws["p1"] + rng.normal(0, 0.4, n)
    out = posterior_influence({"victim_months": effect}, draws, seed=1)
    assert "constant" not in out
    assert out["p0"]["victim_months"]["influential"]
    assert out["p0"]["victim_months"]["s1"] > out["p1"]["victim_months"]["s1"] > 0.05
    spurious = [k for k, v in out.items() if k not in ("p0", "p1")
                and v["victim_months"]["influential"]]
    assert not spurious

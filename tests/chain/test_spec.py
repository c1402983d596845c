"""The chain specification: catalogue, rule functions, the conditional-release rule."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from chainsim.chain import spec
from chainsim.chain.spec import (
    EVENT_NAMES,
    MECHANISMS,
    OM_OUTCOMES,
    PARAMETERS,
    STAGE_NAMES,
    Event,
    Stage,
)
from conftest import BASELINE, short_doc

# --------------------------------------------------------------------------- catalogue


def test_stage_and_event_names_follow_the_enums():
    assert STAGE_NAMES == tuple(s.name.lower() for s in sorted(Stage))
    assert EVENT_NAMES == tuple(e.name.lower() for e in sorted(Event))
    assert [s.value for s in Stage] == list(range(len(Stage)))
    assert [e.value for e in Event] == list(range(len(Event)))


def test_om_outcomes_start_with_summons():
    assert OM_OUTCOMES[0] is Event.SUMMONED
    assert set(OM_OUTCOMES) == {Event.SUMMONED, Event.TECHNICAL_DISMISSAL,
                                Event.POLICY_DISMISSAL, Event.OTHER_DISPOSAL}


def test_mechanisms_are_distinct_and_cover_the_design():
    assert len(set(MECHANISMS)) == len(MECHANISMS)
    for name in ("inflow", "detection", "prosecution", "sentencing", "reoffending"):
        assert name in MECHANISMS


def test_baseline_sets_every_parameter_in_the_right_table():
    import tomllib

    doc = tomllib.loads(BASELINE.read_text(encoding="utf-8"))
    declared = {**{n: "parameters" for n in doc["parameters"]},
                **{n: "unknowns" for n in doc["unknowns"]}}
    assert set(declared) == set(PARAMETERS)
    for name, table in declared.items():
        assert (table == "unknowns") == (PARAMETERS[name].role == "unknown"), name
    assert short_doc()["parameters"].keys() == doc["parameters"].keys()


def test_parameter_bounds_come_from_the_kind():
    assert PARAMETERS["conviction_prob"].bounds == (0.0, 1.0)
    assert PARAMETERS["trial_months"].bounds == spec.KIND_BOUNDS["months"]
    for p in PARAMETERS.values():
        lo, hi = p.bounds
        assert lo < hi


# ------------------------------------------------------------------ conditional release


@pytest.mark.parametrize(
    ("sentence", "served"),
    [
        (1, 1),
        (10, 10),  # up to one year: no conditional release
        (12, 12),
        (13, 12),  # 12 + 1/3 = 12.33 -> 12
        (14, 13),  # 12 + 2/3 = 12.67 -> 13
        (20, 15),  # 12 + 8/3 = 14.67 -> 15
        (24, 16),  # 12 + 12/3
        (25, 17),  # above two years: two thirds, 16.67 -> 17
        (36, 24),
        (100, 67),  # 66.67 -> 67
    ],
)
def test_time_served_worked_examples(sentence, served):
    out = spec.time_served(sentence)
    assert out == served
    assert isinstance(out, int)


def test_time_served_juvenile_has_no_conditional_release():
    assert spec.time_served(36, juvenile=True) == 36
    assert spec.time_served(20, True) == 20
    assert spec.time_served(36, juvenile=False) == 24


def test_time_served_vectorised():
    sentences = np.array([10, 20, 36, 12, 24])
    np.testing.assert_array_equal(spec.time_served(sentences), [10, 15, 24, 12, 16])
    juvenile = np.array([False, True, True, False, False])
    np.testing.assert_array_equal(spec.time_served(sentences, juvenile), [10, 20, 36, 12, 16])
    assert spec.time_served(sentences).dtype.kind == "i"


def test_time_served_is_monotone_and_never_longer_than_the_sentence():
    s = np.arange(1, 241)
    served = spec.time_served(s)
    assert np.all(np.diff(served) >= 0)
    assert np.all(served <= s)
    assert np.all(served >= np.minimum(s, 12))


# ------------------------------------------------------------------ hazards and passage


def test_hazard_to_cumulative():
    h = spec.hazard_to_cumulative(np.array([0.5, 0.5, 0.0]))
    np.testing.assert_allclose(h, [math.log(2), 2 * math.log(2), 2 * math.log(2)])
    # a certain month counts a finite hazard larger than any draw's -log(u) (< 37)
    certain = spec.hazard_to_cumulative(np.array([0.2, 1.0]))[-1]
    assert np.isfinite(certain) and certain >= spec.MAX_MONTHLY_HAZARD > -math.log(2.0**-53)


@pytest.mark.parametrize(
    ("u", "month"),
    [
        (0.6, 0),  # -log 0.6 = 0.51 <= log 2
        (0.3, 1),  # -log 0.3 = 1.20 in (log 2, 2 log 2]
        (0.2, 2),  # -log 0.2 = 1.61 in (2 log 2, 3 log 2]
        (0.01, -1),  # 4.6 > 5 log 2 = 3.47: beyond the horizon
    ],
)
def test_first_passage_inverse_transform(u, month):
    assert spec.first_passage(np.full(5, 0.5), u) == month


def test_first_passage_edge_cases():
    assert spec.first_passage(np.array([]), 0.5) == -1
    assert spec.first_passage(np.zeros(50), 1e-9) == -1
    # a certain event happens at the latest in the month its probability is 1
    assert spec.first_passage(np.array([0.0, 0.0, 1.0, 0.0]), 1e-12) == 2
    assert spec.first_passage(np.array([0.0, 0.0, 1.0, 0.0]), 0.999) == 2


def test_first_passage_is_monotone_in_u():
    p = np.linspace(0.01, 0.2, 60)
    months = [spec.first_passage(p, u) for u in np.linspace(0.001, 0.999, 200)]
    months = [m if m >= 0 else 10**6 for m in months]
    assert all(a >= b for a, b in itertools.pairwise(months))


def test_first_passage_has_the_geometric_distribution():
    # With a constant monthly probability p the month index is geometric (mean (1-p)/p).
    # The u are a fine midpoint grid (a quasi-random sample), so the tolerance is the
    # discretisation error, far below one Monte Carlo standard error of n=20000 draws
    # (sd/sqrt(n) = 0.14 here); we allow 4 of those.
    p, n = 0.1, 20_000
    u = (np.arange(n) + 0.5) / n
    months = np.array([spec.first_passage(np.full(400, p), x) for x in u])
    assert np.all(months >= 0)
    sd = math.sqrt(1 - p) / p
    assert abs(months.mean() - (1 - p) / p) < 4 * sd / math.sqrt(n)
    assert abs((months == 0).mean() - p) < 1e-3


def test_first_passage_cumulative_equals_first_passage_on_the_future():
    # the cached-cumulative form must give the same month as integrating the future only
    rng = np.random.default_rng(11)
    for _ in range(300):
        n = int(rng.integers(2, 120))
        p = rng.uniform(0, 0.2, n) * (rng.uniform(size=n) < 0.8)
        cum = spec.hazard_to_cumulative(p)
        t = int(rng.integers(0, n - 1))
        u = float(rng.uniform(1e-6, 1 - 1e-6))
        k = spec.first_passage(p[t + 1:], u)
        assert spec.first_passage_cumulative(cum, t, u) == k
        assert spec.next_passage(cum, t + 1, u) == (t + 1 + k if k >= 0 else -1)


@pytest.mark.parametrize("u", [0.9, 0.5, 0.01])
def test_first_passage_cumulative_after_a_certain_month(u):
    # A monthly probability of 1 in the past (e.g. a trend that ends a mechanism) makes
    # the cumulative hazard infinite from then on; an offender entering afterwards is
    # exposed only to the future probabilities, here 0: the event never happens.
    p = np.array([0.0, 1.0, 0.0, 0.0, 0.0, 0.0])
    cum = spec.hazard_to_cumulative(p)
    assert spec.first_passage(p[3:], u) == -1
    assert spec.next_passage(cum, 3, u) == -1
    assert spec.first_passage_cumulative(cum, 2, u) == -1


def test_desistance_probability_and_age():
    assert spec.age_factor(30.0, 1.4) == pytest.approx(1.0)
    assert spec.age_factor(40.0, 1.4) == pytest.approx(1.4)
    base = np.array([0.012, 0.012, 0.012])
    ages = np.array([20.0, 30.0, 50.0])
    p = spec.desistance_probability(base, ages, 1.4)
    assert p[1] == pytest.approx(0.012)
    assert p[0] < p[1] < p[2] < 1
    # on the integrated-hazard scale: 1 - (1 - base) ** (1.4 ** 2) at 50
    assert p[2] == pytest.approx(1 - (1 - 0.012) ** (1.4**2))


def test_reoffending_probability_priors_capped_and_supervision():
    base = np.full(4, 0.01)
    sup = np.array([True, True, False, False])
    ratio = np.full(4, 0.5)
    p0 = spec.reoffending_probability(base, 0, 1.1, np.zeros(4, bool), ratio)
    np.testing.assert_allclose(p0, base)
    p3 = spec.reoffending_probability(base, 3, 1.1, np.zeros(4, bool), ratio)
    p9 = spec.reoffending_probability(base, 9, 1.1, np.zeros(4, bool), ratio)
    np.testing.assert_allclose(p3, p9)
    np.testing.assert_allclose(p3, 1 - (1 - 0.01) ** (1.1**3))
    ps = spec.reoffending_probability(base, 0, 1.1, sup, ratio)
    np.testing.assert_allclose(ps[:2], 1 - (1 - 0.01) ** 0.5)
    np.testing.assert_allclose(ps[2:], 0.01)


# ------------------------------------------------------------------ branching


def test_om_decision_probabilities():
    p = spec.om_decision_probabilities(0.3, 0.05, 0.02)
    np.testing.assert_allclose(p, [0.63, 0.3, 0.05, 0.02])
    np.testing.assert_allclose(spec.om_decision_probabilities(1.0, 0, 0), [0, 1, 0, 0])


@pytest.mark.parametrize(("u", "index"), [(0.1, 0), (0.2, 1), (0.25, 1), (0.6, 2), (0.9999, 2)])
def test_categorical_inverse_transform(u, index):
    assert spec.categorical(np.array([0.2, 0.3, 0.5]), u) == index


def test_categorical_never_picks_a_zero_weight_and_normalises():
    for u in (1e-12, 0.3, 0.999999):
        assert spec.categorical(np.array([0.0, 1.0, 0.0, 0.0]), u) == 1
    # unnormalised weights [2, 6] behave like [0.25, 0.75]
    assert spec.categorical(np.array([2.0, 6.0]), 0.24) == 0
    assert spec.categorical(np.array([2.0, 6.0]), 0.26) == 1


# ------------------------------------------------------------------ durations


@pytest.mark.parametrize(("mean", "cv"), [(6, 0.6), (3, 0.8), (8, 0.7), (24, 0.5)])
def test_duration_pmf(mean, cv):
    pmf = spec.duration_pmf(mean, cv, 240)
    k = np.arange(241)
    assert pmf.shape == (241,)
    assert pmf[0] == 0
    assert np.all(pmf >= 0)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-12)
    # discretising to whole months (month 1 takes [0, 1.5)) moves the mean by < 0.1
    assert abs((pmf * k).sum() - mean) < 0.1
    sd = math.sqrt((pmf * k * k).sum() - (pmf * k).sum() ** 2)
    assert abs(sd / mean - cv) < 0.05


@pytest.mark.parametrize(("mean", "cv"), [(21, 0.9), (15, 0.9), (10.5, 0.5)])
def test_sentence_pmf(mean, cv):
    pmf = spec.sentence_pmf(mean, cv, 240)
    k = np.arange(241)
    assert pmf[0] == 0
    assert pmf.sum() == pytest.approx(1.0, abs=1e-12)
    assert abs((pmf * k).sum() - mean) < 0.1
    # right-skewed: the median is below the mean
    assert np.searchsorted(np.cumsum(pmf), 0.5) < mean


def test_sentence_pmf_cap_conditions_on_the_legal_maximum():
    free = spec.sentence_pmf(20.0, 0.9, 240)
    capped = spec.sentence_pmf(20.0, 0.9, 240, cap=spec.JUVENILE_MAX_MONTHS)
    cap = spec.JUVENILE_MAX_MONTHS
    assert capped.sum() == pytest.approx(1.0)
    assert np.all(capped[cap + 1:] == 0)
    assert capped[cap] > 0
    # renormalised, not clipped: the shape below the cap is kept
    np.testing.assert_allclose(capped[1:cap + 1], free[1:cap + 1] / free[1:cap + 1].sum())


def test_duration_pmf_puts_the_tail_on_the_last_month():
    pmf = spec.duration_pmf(30, 1.0, 40)
    assert pmf.sum() == pytest.approx(1.0)
    assert pmf[40] > pmf[39]


def test_draw_from_pmf():
    pmf = np.array([0.0, 0.5, 0.25, 0.25])
    assert spec.draw_from_pmf(pmf, 1e-12) == 1
    assert spec.draw_from_pmf(pmf, 0.49) == 1
    assert spec.draw_from_pmf(pmf, 0.5) == 2
    assert spec.draw_from_pmf(pmf, 0.8) == 3
    assert spec.draw_from_pmf(pmf, 1 - 1e-12) == 3
    # a midpoint grid of u reproduces the pmf's mean
    full = spec.duration_pmf(6, 0.6, 240)
    n = 10_000
    draws = np.array([spec.draw_from_pmf(full, (i + 0.5) / n) for i in range(n)])
    assert draws.min() >= 1
    assert abs(draws.mean() - (full * np.arange(241)).sum()) < 0.01


# ------------------------------------------------------------------ offender attributes


def test_onset_age_young_is_uniform_over_16_to_22():
    ages = [spec.onset_age(True, (i + 0.5) / 700, 10.0) for i in range(700)]
    assert all(isinstance(a, int) for a in ages)
    assert sorted(set(ages)) == list(range(16, 23))
    assert all(ages.count(a) == 100 for a in range(16, 23))
    assert spec.onset_age(True, 0.5, 10.0) == 19


def test_onset_age_adult_is_a_truncated_exponential_in_whole_years():
    excess, n = 10.0, 20_000
    ages = np.array([spec.onset_age(False, (i + 0.5) / n, excess) for i in range(n)])
    assert ages.min() == spec.YOUNG_AGE_LIMIT
    assert ages.max() < spec.MAX_ONSET_AGE
    assert spec.onset_age(False, 1 - 1e-12, excess) == spec.MAX_ONSET_AGE - 1
    # E[floor X] = sum_k P(X >= k) for X exponential(mean 10) truncated at 47 years
    span = spec.MAX_ONSET_AGE - spec.YOUNG_AGE_LIMIT
    k = np.arange(1, span)
    tail = (np.exp(-k / excess) - np.exp(-span / excess)) / (1 - np.exp(-span / excess))
    # midpoint grid of u: discretisation error only (well below 0.01 years here)
    assert abs(ages.mean() - spec.YOUNG_AGE_LIMIT - tail.sum()) < 0.01


def test_prior_convictions():
    assert spec.prior_convictions(False, 0.01) == 0
    assert spec.prior_convictions(True, 0.6) == 1  # log 0.6 / log 0.5 = 0.74
    assert spec.prior_convictions(True, 0.3) == 2  # 1.74
    assert spec.prior_convictions(True, 0.1) == 4  # 3.32
    # 1 + geometric: mean 2 (midpoint grid of u; discretisation error only)
    n = 100_000
    draws = [spec.prior_convictions(True, (i + 0.5) / n) for i in range(n)]
    assert abs(np.mean(draws) - 2.0) < 0.01


# ------------------------------------------------------------ distributions without scipy.stats


def test_distributions_equal_scipy_stats_exactly():
    """spec writes the gamma and lognormal cdfs and the Poisson quantile with scipy.special
    (scipy.stats takes half a second to import): the numbers must be scipy.stats' own."""
    from scipy import stats

    from chainsim.chain import spec

    rng = np.random.default_rng(3)
    for mean, cv in [(1.0, 0.01), (2.5, 0.5), (6.0, 0.8), (14.0, 1.2), (40.0, 0.3),
                     *zip(rng.uniform(0.5, 60, 40), rng.uniform(0.05, 2.0, 40), strict=True)]:
        edges = np.arange(241) + 0.5
        shape = 1.0 / cv**2
        gamma = stats.gamma(a=shape, scale=mean / shape).cdf(edges)
        sigma2 = np.log1p(cv**2)
        lognorm = stats.lognorm(s=np.sqrt(sigma2), scale=mean / np.exp(sigma2 / 2)).cdf(edges)
        pmf = spec.duration_pmf(mean, cv, 240)
        assert pmf[1] == gamma[0] + (gamma[1] - gamma[0])
        np.testing.assert_array_equal(pmf[2:-1], np.diff(gamma[1:])[:-1])
        np.testing.assert_array_equal(spec.sentence_pmf(mean, cv, 240)[2:-1],
                                      np.diff(lognorm[1:])[:-1])
    u = rng.uniform(size=20000)
    u[:4] = [1e-16, 0.5, 1 - 1e-16, 0.999999]
    mean = np.exp(rng.uniform(np.log(1e-3), np.log(5e4), 20000))
    np.testing.assert_array_equal(spec.poisson_quantile(u, mean), stats.poisson.ppf(u, mean))
    assert spec.poisson_quantile(0.3, 12.5) == stats.poisson.ppf(0.3, 12.5)

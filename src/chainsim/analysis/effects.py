"""A policy effect under parameter uncertainty: its spread, its probability, its sources.

With ``compare --uncertainty`` replication ``i`` of every arm uses posterior member ``i``
(:mod:`chainsim.experiments.ensemble`), so the paired difference ``d_i`` of a proxy is
the effect under member ``i`` plus Monte Carlo noise. A few members are replicated
twice, on other seeds (``d_j`` and ``r_j``): the half mean squared difference of such
pairs estimates the Monte Carlo variance, and the law of total variance splits the
spread of the effect::

    var(d) = var_members(E[d | member]) + E[var(d | member)]
           =      parameter part        +    Monte Carlo part

:func:`effect_summary` reports the mean effect with its confidence interval (how well
the replications pin down the *average* effect), a **prediction interval** of the
effect over the posterior (how large the effect may be, given what the data leave
open) and the **probability of a reduction** (and of a reduction by more than a
threshold), and the two variance parts. Both the interval and the probabilities are
those of the effect under a member drawn from the posterior: the members' deviations
from the mean, shrunk by ``sqrt(parameter part / var(d))`` so that Monte Carlo noise
does not widen them (the usual moment-matching deconvolution), around a mean that is
itself only known to the replications' precision (Student t with ``n - 1`` degrees of
freedom and the confidence interval's standard error). Without that last part a
proxy whose Monte Carlo variance swamps the members' differences (parameter part 0)
would have every member's effect shrunk onto the mean: an interval of zero width and a
probability of exactly 0 or 1, even where the confidence interval straddles zero. With
it, such a proxy's probability is the one-sided confidence that the average effect is
a reduction, and it agrees with the confidence interval (a 95 % interval that contains
zero gives a probability between 2.5 % and 97.5 %).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq
from scipy.special import stdtr, stdtrit

PREDICTION = 0.90
"""Coverage of the prediction interval of the effect over the posterior."""


def monte_carlo_variance(first: np.ndarray, repeat: np.ndarray) -> float:
    """Monte Carlo variance of a paired difference from pairs at the same member.

    ``first[j]`` and ``repeat[j]``: the difference under member ``j`` on two seeds;
    ``E[(first - repeat)^2] / 2`` is the variance of one replication's difference.
    """
    ok = np.isfinite(first) & np.isfinite(repeat)
    if ok.sum() < 2:
        return float("nan")
    return float(np.mean((first[ok] - repeat[ok]) ** 2) / 2.0)


def effect_summary(d: np.ndarray, first: np.ndarray, repeat: np.ndarray,
                   baseline_level: float, threshold: float = 0.0) -> dict:
    """The effect of one scenario on one proxy under parameter uncertainty.

    Args:
        d: Paired differences, one per member (replication ``i``: member ``i``).
        first: ``d`` of the members that were replicated again (``d[:m]``).
        repeat: Their differences on the other seeds.
        baseline_level: The baseline's mean level of the proxy (for the threshold).
        threshold: A reduction counts as "by more than the threshold" if it exceeds this
            fraction of the baseline level (0.01: more than 1 %).

    Returns:
        ``mean``, ``ci`` (95 % t interval of the mean), ``prediction`` (``lo``, ``hi``:
        the 90 % interval of the effect over the posterior, Monte Carlo noise removed,
        the mean's own uncertainty included), ``p_reduction`` (probability that the
        effect is below 0), ``p_reduction_beyond_threshold`` (below ``-threshold``
        times the level), ``threshold`` (absolute),
        ``variance`` (``total``, ``monte_carlo``, ``parameters``, ``parameter_share``)
        and ``n``; ``None`` values where there are too few finite differences.
    """
    d = np.asarray(d, dtype=float)
    d = d[np.isfinite(d)]
    n = len(d)
    if n < 3:
        return {"mean": None, "ci": None, "prediction": None, "p_reduction": None,
                "p_reduction_beyond_threshold": None, "threshold": None, "variance": None,
                "n": n}
    mean = float(d.mean())
    total = float(d.var(ddof=1))
    half = stdtrit(n - 1, 0.975) * np.sqrt(total / n)  # Student t quantile
    mc = monte_carlo_variance(np.asarray(first, float), np.asarray(repeat, float))
    mc_used = min(mc, total) if np.isfinite(mc) else 0.0
    param = max(total - mc_used, 0.0)
    shrink = np.sqrt(param / total) if total > 0 else 0.0
    effects = mean + (d - mean) * shrink  # each member's effect, Monte Carlo noise shrunk out
    predictive = _Predictive(effects, float(np.sqrt(total / n)), n - 1)
    lo, hi = (predictive.quantile(q) for q in (0.5 * (1 - PREDICTION),
                                                0.5 * (1 + PREDICTION)))
    cut = abs(threshold * baseline_level) if np.isfinite(baseline_level) else 0.0
    return {
        "mean": mean,
        "ci": [mean - half, mean + half],
        "prediction": [float(lo), float(hi)],
        "p_reduction": predictive.cdf(0.0),
        "p_reduction_beyond_threshold": predictive.cdf(-cut),
        "threshold": cut,
        "variance": {"total": total, "monte_carlo": mc if np.isfinite(mc) else None,
                     "parameters": param,
                     "parameter_share": param / total if total > 0 else None},
        "n": n,
    }


class _Predictive:
    """The effect under a posterior member: a shrunk member effect plus the mean's error.

    The members' effects ``e_i`` (around the sample mean) shifted by ``se * T`` with
    ``T`` Student t on ``df`` degrees of freedom: the distribution function is the mean
    over members of the t distribution function at ``(x - e_i) / se``.
    """

    def __init__(self, effects: np.ndarray, se: float, df: int):
        self.effects, self.se, self.df = effects, se, df

    def cdf(self, x: float) -> float:
        """Probability that the effect is below ``x``."""
        if not self.se > 0:  # every replication gave the same difference
            return float(np.mean(self.effects < x))
        return float(np.mean(stdtr(self.df, (x - self.effects) / self.se)))

    def quantile(self, q: float) -> float:
        """The effect below which a share ``q`` of the distribution lies."""
        if not self.se > 0:
            return float(np.percentile(self.effects, 100 * q))
        width = self.se * max(float(stdtrit(self.df, 1 - 1e-9)), 1.0)
        return float(brentq(lambda x: self.cdf(x) - q, self.effects.min() - width,
                            self.effects.max() + width, xtol=1e-12 * (1 + self.se)))


def posterior_influence(effects: dict[str, np.ndarray], draws: dict[str, np.ndarray],
                        seed: int = 0) -> dict[str, dict[str, dict[str, float | bool]]]:
    """How much of each effect's spread over the members each parameter explains.

    The first-order Sobol index ``S1`` of each parameter, estimated from the members
    as they are (given data: SALib's ``delta`` analyser, ``method="sobol"``) with its
    bootstrap half-width; with correlated posterior parameters ``S1`` also carries what
    a parameter's correlates explain. ``influential`` only where ``S1`` minus its
    half-width exceeds the noise floor: the largest ``S1`` of the same parameters with
    their values shuffled over the members (no influence by construction), so that
    Monte Carlo noise is not read as influence.

    Args:
        effects: Proxy -> paired differences, one per member.
        draws: Parameter -> its value per member (constant ones are left out).
        seed: Seed of the bootstrap and the shuffle.

    Returns:
        ``{parameter: {proxy: {"s1", "s1_conf", "noise_floor", "influential"}}}``.
    """
    from SALib.analyze import delta

    names = [k for k, v in draws.items() if np.ptp(np.asarray(v, float)) > 0]
    if not names:
        return {}
    x = np.column_stack([np.asarray(draws[k], float) for k in names])
    rng = np.random.default_rng(seed)
    shuffled = np.column_stack([rng.permutation(col) for col in x.T])
    problem = {"num_vars": len(names), "names": names,
               "bounds": [[float(c.min()), float(c.max())] for c in x.T]}
    out: dict[str, dict[str, dict[str, float | bool]]] = {k: {} for k in names}
    # SALib seeds NumPy's global generator, and only with a non-zero seed: give it one
    # derived from ``seed`` and put the global state back afterwards
    salib_seed = int(np.random.SeedSequence(seed).generate_state(1)[0] % (2**31 - 2)) + 1
    state = np.random.get_state()  # noqa: NPY002 - SALib uses the legacy global generator
    try:
        _influence(out, effects, problem, names, x, shuffled, salib_seed, delta)
    finally:
        np.random.set_state(state)  # noqa: NPY002
    return out


def _influence(out, effects, problem, names, x, shuffled, seed, delta) -> None:
    for proxy, y in effects.items():
        y = np.asarray(y, float)
        ok = np.isfinite(y)
        if ok.sum() < 20 or np.ptp(y[ok]) == 0:
            continue
        real = delta.analyze(problem, x[ok], y[ok], num_resamples=20, seed=seed,
                             method="sobol")
        noise = delta.analyze(problem, shuffled[ok], y[ok], num_resamples=2, seed=seed,
                              method="sobol")
        floor = float(np.max(noise["S1"]))
        for i, k in enumerate(names):
            s1, conf = float(real["S1"][i]), float(real["S1_conf"][i])
            out[k][proxy] = {"s1": round(s1, 4), "s1_conf": round(conf, 4),
                             "noise_floor": round(floor, 4),
                             "influential": bool(s1 - conf > floor)}

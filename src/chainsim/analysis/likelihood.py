"""The likelihood of the source's figures given the model's expected flows.

Each figure of ``calibration/targets.toml`` (:class:`chainsim.analysis.targets.Target`) is
an observation; the twin's expected value ``mu`` of its quantity (and, for a share, the
expected number of cases it is a share of) gives it a probability. Per kind:

- **Counts** (``point`` on a count metric: signalled, traced, summoned, ... per year, one
  year's or averaged over the window's ``n`` years): the total ``Y = n * value`` is negative
  binomial (a gamma-Poisson) with mean ``n * mu`` and shape ``k``,
  ``1 / k = (sd / value)**2 + DISCREPANCY_CV**2``: Poisson noise of the register, the
  figure's stated imprecision (``sd``, relative) and the model's discrepancy, all as
  over-dispersion.
- **Shares** (``share``: technical dismissals among OM decisions, the mix of registered
  suspects): the successes ``x = value * N`` of ``N`` cases (the model's expected number
  of cases the share is of, over the target's years) are beta-binomial with mean ``mu``
  and the beta's sd ``sqrt(sd**2 + (DISCREPANCY_CV * value)**2)`` (concentration
  ``mu (1 - mu) / sd**2 - 1``). What is observed is the share ``x / N``, so its density is
  the pmf times ``N`` (the Jacobian; ``N`` moves with the parameters).
- **Means** (``point`` on ``prison_months``): normal, variance ``sd**2 +
  (DISCREPANCY_CV * value)**2``.
- **Ranges** (``low``-``high``) and **lower bounds** as soft constraints: the probability
  that the true value, the model's plus normal error of sd ``s``, lies in the range
  (``Phi((high - mu) / s) - Phi((low - mu) / s)``) or above the bound (``Phi((mu - value) /
  s)``); ``s**2 = sd**2 + (DISCREPANCY_CV * centre)**2``, plus the Poisson variance of a
  yearly count (``centre / n``) for counts. Flat inside, Gaussian tails outside.

**Model discrepancy, robustly where a conflict is known.** Beyond ``DISCREPANCY_CV`` for
every figure, a target whose ``conflict`` says why it may not fit the model (a definition
that differs, a figure the source's others contradict) has a mixture likelihood (Box &
Tiao's contaminated model): with probability ``1 - ROBUST_WEIGHT`` the figure is as
stated, with probability ``ROBUST_WEIGHT`` it is in conflict with the model and its spread
is ``ROBUST_INFLATION`` times larger. Such a target far from the model costs about
``-log(ROBUST_WEIGHT) + log(ROBUST_INFLATION)`` plus a slowly growing term instead of a
quadratic penalty: the one unreconcilable pair of the source (145 of 180 traced suspects
summoned, against "60 % before a judge") cannot pull every other parameter to split the
difference. The other figures are taken as stated: a mixture on every figure would let
the posterior keep members with any one figure far off (a 5 % weight on each of 21
figures did: a third of the members of that posterior missed one figure by 3 to 7 of its
sds), and those members no longer reproduce the data.

**The sampler's defensive likelihood.** The chain (:mod:`chainsim.experiments.posterior`)
samples with the mixture on *every* figure (``robust_everywhere``): a heavier-tailed
version of the posterior whose walkers can cross regions where one figure is off, and a
proposal that covers the stated posterior. The reweighting
(:mod:`chainsim.experiments.reweight`) then corrects it to the stated likelihood, with the
full twin. ``docs/calibration.md`` states the choices.

Every function is vectorised over ``mu`` (and ``trials``): one call scores many parameter
sets (a batch of the twin).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy.special import betaln, gammaln, log_ndtr

from chainsim.analysis.fit import Key, target_key
from chainsim.analysis.flows import COUNT_METRICS, WINDOW
from chainsim.analysis.targets import Target

DISCREPANCY_CV = 0.05
"""Relative model discrepancy of every figure (5 %: the twin reproduces a detailed chain but
not every register's counting rules)."""
ROBUST_WEIGHT = 0.05
"""Prior probability that a figure with a known ``conflict`` is in conflict with the model
(the mixture's weight)."""
ROBUST_INFLATION = 5.0
"""Spread of the conflict component relative to the figure's own."""
MIN_CONCENTRATION = 0.5
"""Smallest beta concentration of a share (a beta sd too wide for its mean is capped here)."""


def span_years(target: Target) -> int:
    """Years a target's figure covers: 1 for ``by_year``, the window's for the others."""
    return 1 if target.scope == "by_year" else WINDOW[1] - WINDOW[0] + 1


def is_count(target: Target) -> bool:
    """Whether the target's figure is a yearly count of offenders."""
    return target.scope != "shares" and target.metric in COUNT_METRICS


def _log_between(mu, low, high, s):
    """``log(Phi((high - mu) / s) - Phi((low - mu) / s))``, stable in both tails."""
    a, b = (high - mu) / s, (low - mu) / s
    flip = b > 0  # both arguments positive: use 1 - Phi(x) = Phi(-x)
    upper = np.where(flip, -b, a)
    lower = np.where(flip, -a, b)
    top, bottom = log_ndtr(upper), log_ndtr(lower)
    return top + np.log1p(-np.exp(np.minimum(bottom - top, 0.0)))


def _negative_binomial(y, mean, inv_shape):
    """Log pmf of a negative binomial (real ``y``) with ``mean`` and ``1 / shape``."""
    k = 1.0 / inv_shape
    return (gammaln(y + k) - gammaln(k) - gammaln(y + 1.0) + k * np.log(k / (k + mean))
            + y * np.log(mean / (k + mean)))


def _beta_binomial(x, n, p, sd):
    """Log pmf of a beta-binomial (real ``x``): ``n`` trials, beta mean ``p`` and sd ``sd``."""
    conc = np.maximum(p * (1.0 - p) / sd**2 - 1.0, MIN_CONCENTRATION)
    a, b = p * conc, (1.0 - p) * conc
    return (gammaln(n + 1.0) - gammaln(x + 1.0) - gammaln(n - x + 1.0)
            + betaln(x + a, n - x + b) - betaln(a, b))


def _core(target: Target, mu, trials, widen: float):
    """The log-likelihood of one figure, its spreads multiplied by ``widen``."""
    n = span_years(target)
    if target.kind == "share":
        p = np.clip(mu, 1e-9, 1.0 - 1e-9)
        size = np.maximum(trials, 1.0)
        sd = widen * np.hypot(target.sd, DISCREPANCY_CV * target.value)
        return _beta_binomial(target.value * size, size, p, sd) + np.log(size)
    if target.kind == "point" and is_count(target):
        mean = np.maximum(n * mu, 1e-9)
        inv = ((target.sd / target.value) ** 2 + DISCREPANCY_CV**2) * widen**2
        return _negative_binomial(n * target.value, mean, inv)
    centre = (target.value if target.kind in ("point", "lower_bound")
              else 0.5 * (target.low + target.high))
    var = target.sd**2 + (DISCREPANCY_CV * centre) ** 2
    if is_count(target):
        var = var + centre / n
    s = widen * np.sqrt(var)
    if target.kind == "point":
        return -0.5 * ((mu - target.value) / s) ** 2 - np.log(s * np.sqrt(2.0 * np.pi))
    if target.kind == "range":
        return _log_between(mu, target.low, target.high, s)
    return log_ndtr((mu - target.value) / s)  # lower bound


def observation_sd(target: Target, trials: float | None = None) -> float:
    """The spread of a figure around the model's value under the likelihood's core.

    The figure's ``sd``, the model discrepancy (``DISCREPANCY_CV`` of the figure) and, for a
    count, the register's Poisson noise (the figure over its years); a range's or lower
    bound's around its centre or bound. A share's binomial noise needs its number of cases:
    given ``trials``, the spread is the beta-binomial's of the share at the figure
    (``p (1 - p) / N + s**2 (N - 1) / N``, with ``s`` the beta's sd), the one the likelihood
    scores; without, only the beta's sd (the smaller spread).

    Args:
        target: The figure.
        trials: For a share: the number of cases it is a share of (the model's, over the
            target's years: :func:`chainsim.analysis.fit.twin_trials`).
    """
    centre = 0.5 * (target.low + target.high) if target.kind == "range" else target.value
    var = target.sd**2 + (DISCREPANCY_CV * centre) ** 2
    if target.kind == "share" and trials is not None and trials >= 1.0:
        var = centre * (1.0 - centre) / trials + var * (trials - 1.0) / trials
    elif target.kind != "share" and is_count(target):
        var += centre / span_years(target)
    return float(np.sqrt(var))


def target_log_likelihood(target: Target, mu, trials=None, robust_everywhere: bool = False):
    """Log-likelihood of one figure at model values ``mu`` (an array: one per parameter set).

    Args:
        target: The figure.
        mu: The model's expected value of its quantity (count per year, share, mean).
        trials: For a ``share``: the model's expected number of cases it is a share of,
            over the target's years (:func:`chainsim.analysis.fit.twin_trials`).
        robust_everywhere: Give the figure the robust mixture even without a ``conflict``
            (the sampler's defensive likelihood, see the module).

    Returns:
        The log-likelihood (the robust mixture's for a target with a ``conflict``),
        ``-inf`` where ``mu`` is not finite.
    """
    mu = np.asarray(mu, dtype=float)
    if target.kind == "share" and trials is None:
        raise ValueError(f"a share target ({target.metric}) needs its number of trials")
    trials = None if trials is None else np.asarray(trials, dtype=float)
    safe = np.where(np.isfinite(mu), mu, 0.5 if target.kind == "share" else 1.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = _core(target, safe, trials, 1.0)
        if robust_everywhere or target.conflict is not None:
            broad = _core(target, safe, trials, ROBUST_INFLATION)
            out = np.logaddexp(np.log1p(-ROBUST_WEIGHT) + out, np.log(ROBUST_WEIGHT) + broad)
    return np.where(np.isfinite(mu), out, -np.inf)


def log_likelihood(targets: Mapping[str, Target], metrics: Mapping[Key, np.ndarray],
                   trials: Mapping[Key, np.ndarray] | None = None,
                   robust_everywhere: bool = False
                   ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The log-likelihood of every figure, and their sum.

    Args:
        targets: Target name -> target.
        metrics: The model's values by target key (:func:`chainsim.analysis.fit.target_key`),
            scalars or one per parameter set.
        trials: The shares' numbers of cases by target key.
        robust_everywhere: Every figure gets the robust mixture (the sampler's defensive
            likelihood); default: only the figures with a ``conflict``.

    Returns:
        ``(total, by target name)``.
    """
    trials = trials or {}
    parts = {}
    for name, t in targets.items():
        key = target_key(t)
        parts[name] = target_log_likelihood(t, metrics[key], trials.get(key),
                                            robust_everywhere)
    total = sum(parts.values()) if parts else np.zeros(())
    return np.asarray(total), parts

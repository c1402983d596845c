"""From the chain's approximate posterior to the joint one: importance reweighting.

The sampler (:mod:`chainsim.experiments.posterior`) scores every point with the twin in
chain mode and the re-entries into offending of one full run at the calibrated values;
the unknowns that act only after the chain (reoffending, desistance after the chain,
supervision's effect, ...) never enter its likelihood and are drawn from their priors.
But they do reach the 2015-2019 figures: whoever reoffends after a sanction can be
signalled again. So the chain samples ``q(theta) phi_prior(phi)`` with
``q(theta) ~ prior(theta) L(theta; R0)`` (``R0`` the calibrated re-entries), while the
joint posterior is ``p(theta, phi) ~ prior(theta) prior(phi) L(theta, phi)``, the
likelihood of a full twin run with all of the point's values. The chain's ``L`` is also
the sampler's defensive likelihood (the robust mixture on every figure), the joint
posterior's the stated one (the mixture only where a ``conflict`` is known:
:mod:`chainsim.analysis.likelihood`). The ratio is

    w(theta, phi) = L(theta, phi) / L_defensive(theta; R0),

so each candidate (a thinned chain point with draws of the after-chain unknowns from
their prior) is run with the full twin, its log weight is its own log-likelihood minus
the one the chain scored, and the ensemble is a systematic resample of the candidates by
their Pareto-smoothed weights (ArviZ's ``psislw``). The Pareto ``k`` says whether the
weights can be trusted (below 0.7), the effective sample size how many independent draws
the resample is worth; both go into the provenance. This is sampling importance
resampling (Rubin 1988; Vehtari et al. 2024 for the smoothing and ``k``): it corrects the
approximation exactly as the number of candidates grows, and with it the after-chain
unknowns are learnt from the data where the re-entries carry information.

Several draws per candidate. Most of the weights' spread comes from the after-chain
draw, not from the chain's point (on the twin chain committed until e587895, within a point the log
weights of different draws spread by 1.6, between points' averages by 1.2), and a lucky
draw makes a heavy candidate. With ``M`` draws ``phi_1..phi_M`` per point the point's
weight is their average,

    w(theta) = (1/M) sum_m L(theta, phi_m) / L_defensive(theta; R0),

an unbiased estimate of the point's weight with the after-chain unknowns integrated
out, and each member drawn at the point takes draw ``m`` with probability proportional
to ``L(theta, phi_m)``. On the space of the point, its draws and the index this is
importance sampling exactly (the draws not taken keep their prior): the members are
draws of the joint posterior as the candidates grow, for any ``M`` (importance sampling
with random weights; Tran et al. 2014, "Importance sampling squared"). ``M = 1`` is the
plain scheme above.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from chainsim.analysis.fit import target_key
from chainsim.analysis.likelihood import log_likelihood
from chainsim.analysis.targets import Target
from chainsim.experiments.journal import Journal
from chainsim.experiments.posterior import full_twin_quantities

PARETO_K_LIMIT = 0.7
"""Largest Pareto ``k`` of reliable importance weights (Vehtari et al. 2024, for a few
thousand draws)."""


def importance_weights(log_ratio: np.ndarray) -> tuple[np.ndarray, float]:
    """Pareto-smoothed, normalised importance weights, and the tail's shape ``k``.

    ``log_ratio``: each draw's log ratio of target to proposal density up to a constant
    (from the prior to the posterior: the log likelihood), all finite. Where the tail
    cannot be smoothed (fewer than about 25 draws, or a tail of equal values) the raw
    weights are returned with ``k`` NaN (not reliable).
    """
    from arviz_stats.base import array_stats

    ratio = np.asarray(log_ratio, dtype=float)
    try:
        # psislw smooths the largest ratios of exp(-ary): it is given the negated log ratios
        log_weights, k = array_stats.psislw(-ratio)
    except (ValueError, IndexError):  # too few draws for a tail (arviz needs 5), a flat one
        log_weights, k = ratio, np.nan
    weights = np.exp(log_weights - log_weights.max())
    return weights / weights.sum(), float(k)


@dataclass
class Reweighting:
    """The reweighting of a chain's candidates to the joint posterior.

    Attributes:
        candidates: Candidates (chain points) run with the full twin.
        own_log_likelihood: Each candidate's log-likelihood with all its values, per
            after-chain draw ``(candidates, draws)``.
        log_weights: Each candidate's log weight: the log of the average over its draws
            of the likelihood ratio, ``own_log_likelihood`` minus the chain's (``-inf``:
            invalid).
        weights: Pareto-smoothed, normalised weights (0 for invalid candidates).
        pareto_k: The smoothing's shape ``k`` (NaN: too few candidates to tell).
        ess: Effective sample size of the weights, ``1 / sum(w^2)``.
        chosen: Indices of the candidates resampled as members, in member order.
        chosen_draw: The after-chain draw each member takes (by its own likelihood).
        seconds: Wall time of the full-twin runs and the resampling.
    """

    candidates: int
    own_log_likelihood: np.ndarray
    log_weights: np.ndarray
    weights: np.ndarray
    pareto_k: float
    ess: float
    chosen: np.ndarray
    chosen_draw: np.ndarray
    seconds: float

    @property
    def draws(self) -> int:
        """After-chain draws per candidate."""
        return self.own_log_likelihood.shape[1]

    @property
    def reliable(self) -> bool:
        """Whether the weights can be trusted (Pareto k at most :data:`PARETO_K_LIMIT`)."""
        return bool(np.isfinite(self.pareto_k) and self.pareto_k <= PARETO_K_LIMIT)

    @property
    def unique(self) -> int:
        """Distinct members (candidate and draw)."""
        return len(set(zip(self.chosen.tolist(), self.chosen_draw.tolist(), strict=True)))

    def summary(self) -> dict:
        """The figures for the provenance (``posterior.json``'s ``reweighting``)."""
        valid = np.isfinite(self.log_weights)
        return {"method": "sampling importance resampling: full twin per candidate and "
                          "after-chain draw, the candidate's weight the average over its "
                          "draws, Pareto-smoothed (ArviZ psislw), systematic resampling, "
                          "each member's draw by its likelihood",
                "candidates": self.candidates, "draws_per_candidate": self.draws,
                "full_twin_runs": int(self.own_log_likelihood.size),
                "valid_candidates": int(valid.sum()),
                "pareto_k": None if not np.isfinite(self.pareto_k)
                else round(float(self.pareto_k), 3),
                "reliable": self.reliable, "ess": round(float(self.ess), 1),
                "unique_members": self.unique,
                "log_weight_sd": round(float(np.std(self.log_weights[valid])), 3)
                if valid.any() else None,
                "seconds": round(self.seconds, 1)}


def _own_log_likelihood(shared: tuple, task: tuple) -> float:
    """One candidate's log-likelihood with the full twin (``-inf`` if its values are invalid)."""
    space, targets, keys = shared
    x, free = task
    metrics, trials = full_twin_quantities(space, keys, x, free)
    if metrics is None:
        return -np.inf
    total, _ = log_likelihood(targets, metrics, trials)
    return float(total)


def own_log_likelihoods(space, targets: dict[str, Target], points: np.ndarray,
                        free: np.ndarray, workers: int = 1,
                        progress: Callable[[], None] | None = None,
                        journal: Journal | None = None) -> np.ndarray:
    """Each point's log-likelihood with the full twin and its after-chain values.

    Args:
        space: The parameter space (:class:`chainsim.experiments.posterior.ParameterSpace`).
        targets: The figures.
        points: Points on the sampling scale ``(n, d)``.
        free: Their after-chain unknowns ``(n, len(space.free))``.
        workers: Processes (the results do not depend on it).
        progress: Called after every run.
        journal: Keeps the runs as they finish (:class:`chainsim.experiments.journal.
            Journal`), so an interrupted reweighting goes on from them.
    """
    keys = [target_key(t) for t in targets.values()]
    tasks = [(points[i], free[i]) for i in range(len(points))]
    results = (journal or Journal(None)).mapped(
        "reweighting", (), _own_log_likelihood, tasks, workers=workers,
        shared=(space, targets, keys),
        on_result=(lambda _ll: progress()) if progress is not None else None)
    return np.array(results, dtype=float).reshape(len(points))


def systematic_resample(weights: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` indices drawn by systematic resampling (one uniform, ``n`` even steps).

    Each index appears ``floor(n w)`` or ``ceil(n w)`` times: the least added noise of the
    usual schemes (Douc, Cappé & Moulines 2005). The indices are returned in a random order,
    so that the first members are not the heaviest candidates.
    """
    cumulative = np.cumsum(weights / weights.sum())
    cumulative[-1] = 1.0
    positions = (rng.random() + np.arange(n)) / n
    return rng.permutation(np.searchsorted(cumulative, positions, side="right"))


def average_log_ratio(own: np.ndarray, chain_log_likelihood: np.ndarray) -> np.ndarray:
    """Each candidate's log weight: ``log mean_m exp(own[:, m]) - chain`` (``-inf``: none valid).

    ``own`` ``(n, M)``: the full twin's log-likelihood per draw (``-inf`` where the draw's
    values are invalid: it counts as a likelihood of 0 in the average).
    """
    from scipy.special import logsumexp

    own = np.asarray(own, dtype=float)
    with np.errstate(divide="ignore"):  # a row of -inf only: -inf
        log_mean = logsumexp(own, axis=1) - np.log(own.shape[1])
    return log_mean - np.asarray(chain_log_likelihood, dtype=float)


def choose_draws(own: np.ndarray, chosen: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each member's after-chain draw at its candidate, with probability ~ its likelihood.

    With one draw per candidate every member takes it (no random numbers are used).
    """
    if own.shape[1] == 1:
        return np.zeros(len(chosen), dtype=np.int64)
    rows = own[chosen]
    p = np.exp(rows - rows.max(axis=1, keepdims=True))
    cumulative = np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
    cumulative[:, -1] = 1.0
    u = rng.random(len(chosen))
    return (cumulative < u[:, None]).sum(axis=1)


def reweight(space, targets: dict[str, Target], points: np.ndarray, free: np.ndarray,
             chain_log_likelihood: np.ndarray, members: int, rng: np.random.Generator,
             workers: int = 1, progress: Callable[[], None] | None = None,
             journal: Journal | None = None) -> Reweighting:
    """Reweight the chain's candidates to the joint posterior and resample ``members``.

    Args:
        space: The parameter space.
        targets: The figures.
        points: Candidates on the sampling scale ``(n, d)`` (thinned chain points).
        free: Their draws of the after-chain unknowns from the prior: ``(n, M, f)`` for
            ``M`` draws per candidate, or ``(n, f)`` for one.
        chain_log_likelihood: The log-likelihood the chain scored them with.
        members: Members to resample.
        rng: Random numbers of the resampling and of the members' draws.
        workers: Processes running the full twin.
        progress: Called after every full-twin run.
        journal: Keeps the full-twin runs as they finish (see :func:`own_log_likelihoods`).

    Raises:
        ValueError: If no candidate has a finite weight.
    """
    t0 = time.perf_counter()
    free = np.asarray(free, dtype=float)
    if free.ndim == 2:
        free = free[:, None, :]
    n, m = free.shape[:2]
    own = own_log_likelihoods(space, targets, np.repeat(points, m, axis=0),
                              free.reshape(n * m, -1), workers, progress,
                              journal).reshape(n, m)
    log_w = average_log_ratio(own, chain_log_likelihood)
    valid = np.isfinite(log_w)
    if not valid.any():
        raise ValueError("no candidate has a finite likelihood with the full twin")
    smoothed, k = importance_weights(log_w[valid])
    weights = np.zeros(len(log_w))
    weights[valid] = smoothed
    log_w = np.where(valid, log_w, -np.inf)
    chosen = systematic_resample(weights, members, rng)
    drawn = choose_draws(own, chosen, rng)
    return Reweighting(len(points), own, log_w, weights, float(k),
                       float(1.0 / np.sum(smoothed**2)), chosen, drawn,
                       time.perf_counter() - t0)

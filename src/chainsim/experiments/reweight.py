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

so each candidate (a thinned chain point with a draw of the after-chain unknowns from
their prior) is run once with the full twin, its log weight is its own log-likelihood
minus the one the chain scored, and the ensemble is a systematic resample of the
candidates by their Pareto-smoothed weights (ArviZ's ``psislw``). The Pareto ``k`` says
whether the weights can be trusted (below 0.7), the effective sample size how many
independent draws the resample is worth; both go into the provenance. This is sampling
importance resampling (Rubin 1988; Vehtari et al. 2024 for the smoothing and ``k``): it
corrects the approximation exactly as the number of candidates grows, and with it the
after-chain unknowns are learnt from the data where the re-entries carry information.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from chainsim.analysis.fit import target_key, twin_metrics, twin_trials
from chainsim.analysis.likelihood import log_likelihood
from chainsim.analysis.targets import Target
from chainsim.chain.errors import InputError
from chainsim.engines.twin import expected_flows
from chainsim.experiments.pool import map_ordered

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
        candidates: Candidates run with the full twin.
        own_log_likelihood: Each candidate's log-likelihood with all its values.
        log_weights: ``own_log_likelihood`` minus the chain's (``-inf``: invalid).
        weights: Pareto-smoothed, normalised weights (0 for invalid candidates).
        pareto_k: The smoothing's shape ``k`` (NaN: too few candidates to tell).
        ess: Effective sample size of the weights, ``1 / sum(w^2)``.
        chosen: Indices of the candidates resampled as members, in member order.
        seconds: Wall time of the full-twin runs and the resampling.
    """

    candidates: int
    own_log_likelihood: np.ndarray
    log_weights: np.ndarray
    weights: np.ndarray
    pareto_k: float
    ess: float
    chosen: np.ndarray
    seconds: float

    @property
    def reliable(self) -> bool:
        """Whether the weights can be trusted (Pareto k at most :data:`PARETO_K_LIMIT`)."""
        return bool(np.isfinite(self.pareto_k) and self.pareto_k <= PARETO_K_LIMIT)

    @property
    def unique(self) -> int:
        """Distinct candidates among the members."""
        return len(np.unique(self.chosen))

    def summary(self) -> dict:
        """The figures for the provenance (``posterior.json``'s ``reweighting``)."""
        valid = np.isfinite(self.log_weights)
        return {"method": "sampling importance resampling: full twin per candidate, "
                          "Pareto-smoothed weights (ArviZ psislw), systematic resampling",
                "candidates": self.candidates, "valid_candidates": int(valid.sum()),
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
    try:
        params = space.params(x, free)
    except InputError:
        return -np.inf
    ef = expected_flows(params)
    total, _ = log_likelihood(targets, twin_metrics(ef, keys), twin_trials(ef, keys))
    return float(total)


def own_log_likelihoods(space, targets: dict[str, Target], points: np.ndarray,
                        free: np.ndarray, workers: int = 1,
                        progress: Callable[[], None] | None = None) -> np.ndarray:
    """Each point's log-likelihood with the full twin and its after-chain values.

    Args:
        space: The parameter space (:class:`chainsim.experiments.posterior.ParameterSpace`).
        targets: The figures.
        points: Points on the sampling scale ``(n, d)``.
        free: Their after-chain unknowns ``(n, len(space.free))``.
        workers: Processes (the results do not depend on it).
        progress: Called after every candidate.
    """
    out = np.empty(len(points))
    keys = [target_key(t) for t in targets.values()]
    tasks = [(points[i], free[i]) for i in range(len(points))]
    for i, ll in enumerate(map_ordered(_own_log_likelihood, tasks, workers=workers,
                                       shared=(space, targets, keys))):
        out[i] = ll
        if progress is not None:
            progress()
    return out


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


def reweight(space, targets: dict[str, Target], points: np.ndarray, free: np.ndarray,
             chain_log_likelihood: np.ndarray, members: int, rng: np.random.Generator,
             workers: int = 1, progress: Callable[[], None] | None = None) -> Reweighting:
    """Reweight the chain's candidates to the joint posterior and resample ``members``.

    Args:
        space: The parameter space.
        targets: The figures.
        points: Candidates on the sampling scale ``(n, d)`` (thinned chain points).
        free: Their draws of the after-chain unknowns from the prior.
        chain_log_likelihood: The log-likelihood the chain scored them with.
        members: Members to resample.
        rng: Random numbers of the resampling.
        workers: Processes running the full twin.
        progress: Called after every candidate.

    Raises:
        ValueError: If no candidate has a finite weight.
    """
    t0 = time.perf_counter()
    own = own_log_likelihoods(space, targets, points, free, workers, progress)
    log_w = own - np.asarray(chain_log_likelihood, dtype=float)
    valid = np.isfinite(log_w)
    if not valid.any():
        raise ValueError("no candidate has a finite likelihood with the full twin")
    smoothed, k = importance_weights(log_w[valid])
    weights = np.zeros(len(log_w))
    weights[valid] = smoothed
    log_w = np.where(valid, log_w, -np.inf)
    chosen = systematic_resample(weights, members, rng)
    return Reweighting(len(points), own, log_w, weights, float(k),
                       float(1.0 / np.sum(smoothed**2)), chosen, time.perf_counter() - t0)

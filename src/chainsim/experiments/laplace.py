"""A Gaussian (Laplace) approximation of the posterior at its mode, and draws from it.

The walkers of the sampler start from it (:func:`laplace_walkers`) and the first wave of an
emulator's design is drawn from it widened (:func:`laplace_design`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from chainsim.experiments.sampler import initial_walkers

if TYPE_CHECKING:
    from chainsim.experiments.posterior import LogPosterior, ParameterSpace


@dataclass
class Laplace:
    """A Gaussian approximation of the posterior at its mode.

    Attributes:
        mode: The mode found (sampling scale).
        log_posterior: The log posterior there.
        covariance: The inverse of the negative Hessian of the log posterior, with every
            direction no wider than the prior (eigenvalues floored in units of the prior
            widths).
        iterations: Optimiser iterations.
        evaluations: Twin evaluations used.
    """

    mode: np.ndarray
    log_posterior: float
    covariance: np.ndarray
    iterations: int
    evaluations: int


def _steps(space: ParameterSpace, x: np.ndarray, relative: float) -> np.ndarray:
    """Finite-difference steps: ``relative`` of each prior's width, pointing inwards."""
    lo, hi = np.array([d.bounds for d in space.dimensions]).T
    h = relative * (hi - lo)
    return np.where(x + 2 * h <= hi, h, -h)


def _prior_curvature(space: ParameterSpace, x: np.ndarray) -> np.ndarray:
    """Second derivative of each dimension's log prior at ``x``.

    Triangular: the side's ``-1/(x - low)^2`` or ``-1/(high - x)^2``, their mean at the
    mode; log-uniform: 0.
    """
    out = np.zeros(len(x))
    for i, d in enumerate(space.dimensions):
        if d.log:
            continue
        up = -1.0 / max(x[i] - d.low, 1e-12) ** 2 if d.mode > d.low else 0.0
        down = -1.0 / max(d.high - x[i], 1e-12) ** 2 if d.high > d.mode else 0.0
        width = d.high - d.low
        if abs(x[i] - d.mode) < 1e-9 * width:
            out[i] = 0.5 * (up + down)
        else:
            out[i] = up if x[i] < d.mode else down
    return out


def laplace(post: LogPosterior, x0: np.ndarray, max_iter: int = 20,
            relative_step: float = 0.005) -> Laplace:
    """The posterior's mode near ``x0`` and a Gaussian fitted there.

    The mode: L-BFGS-B within the prior's support from ``x0``, with forward differences
    scored as one batch, at most ``max_iter`` iterations.

    The Hessian of the log likelihood comes from second differences of the batched twin
    (``d (d + 1) / 2 + d + 1`` points); the log prior's curvature is added exactly. In the
    coordinates of the prior widths every eigenvalue of the negative Hessian is floored at
    12 (a uniform prior's precision), so no direction of the approximation is wider than
    the prior, and directions the data do not inform take the prior's width.
    """
    from scipy.optimize import minimize

    space = post.space
    bounds = [d.bounds for d in space.dimensions]
    lo, hi = np.array(bounds).T
    width = hi - lo
    used = post.evaluations
    d = len(x0)

    seen: dict[bytes, tuple[float, np.ndarray]] = {}

    def negative(x: np.ndarray) -> tuple[float, np.ndarray]:
        key = np.asarray(x, dtype=float).tobytes()
        if key not in seen:
            seen[key] = _negative(x)
        return seen[key]

    def _negative(x: np.ndarray) -> tuple[float, np.ndarray]:
        h = _steps(space, x, relative_step / 10)
        points = np.vstack([x, x + np.diag(h)])
        lp, _ = post.score(points)
        if not np.isfinite(lp[0]):
            return 1e300, np.zeros(d)
        grad = np.where(np.isfinite(lp[1:]), (lp[1:] - lp[0]) / h, 0.0)
        return -float(lp[0]), -grad

    x0 = np.clip(x0, lo + 1e-6 * width, hi - 1e-6 * width)
    found = minimize(negative, x0, jac=True, method="L-BFGS-B", bounds=bounds,
                     options={"maxiter": max_iter})
    mode = found.x if found.fun < negative(x0)[0] else x0  # x0 was scored first: cached
    h = _steps(space, mode, relative_step)
    pairs = [(i, j) for i in range(d) for j in range(i, d)]
    points = np.vstack([mode[None], mode + np.diag(h)]
                       + [(mode + h * (np.arange(d) == i) + h * (np.arange(d) == j))[None]
                          for i, j in pairs])
    lp, ll = post.score(points)
    f0, fi, fij = ll[0], ll[1:d + 1], ll[d + 1:]
    hess = np.zeros((d, d))
    for (i, j), f in zip(pairs, fij, strict=True):
        hess[i, j] = hess[j, i] = (f - fi[i] - fi[j] + f0) / (h[i] * h[j])
    hess = np.nan_to_num(hess, nan=0.0, posinf=0.0, neginf=0.0)
    hess[np.diag_indices(d)] += _prior_curvature(space, mode)
    scaled = -hess * np.outer(width, width)
    values, vectors = np.linalg.eigh(0.5 * (scaled + scaled.T))
    values = np.maximum(values, 12.0)
    cov = (vectors / values) @ vectors.T * np.outer(width, width)
    return Laplace(mode, float(lp[0]), cov, int(found.nit), post.evaluations - used)


def laplace_walkers(post: LogPosterior, approx: Laplace, walkers: int,
                    rng: np.random.Generator, tries: int = 20) -> np.ndarray:
    """Walkers drawn from the Laplace approximation, each inside the posterior's support.

    Points where the log posterior is ``-inf`` are redrawn; after ``tries`` rounds the rest
    start in a small ball around the mode.
    """
    chol = np.linalg.cholesky(approx.covariance + 1e-12 * np.eye(len(approx.mode)))
    kept: list[np.ndarray] = []
    for _ in range(tries):
        need = walkers - len(kept)
        if need <= 0:
            break
        pts = approx.mode + rng.standard_normal((need, len(approx.mode))) @ chol.T
        lp = post.space.log_prior(pts)
        pts = pts[np.isfinite(lp)]
        if len(pts):
            lp, _ = post.score(pts)
            kept.extend(pts[np.isfinite(lp)])
    if len(kept) < walkers:
        kept.extend(initial_walkers(post.space, approx.mode, walkers - len(kept), rng))
    return np.array(kept[:walkers])


def laplace_design(space: ParameterSpace, approx: Laplace, n: int, widen: float,
                   rng: np.random.Generator) -> np.ndarray:
    """``n`` points of the Laplace approximation widened ``widen`` times, inside the prior.

    Points outside the prior's support are redrawn (at most 50 rounds; what is then still
    missing is clipped into the support).
    """
    lo, hi = np.array([d.bounds for d in space.dimensions]).T
    chol = np.linalg.cholesky(approx.covariance + 1e-12 * np.eye(len(approx.mode)))
    kept: list[np.ndarray] = []
    for _ in range(50):
        need = n - len(kept)
        if need <= 0:
            break
        pts = approx.mode + widen * rng.standard_normal((need, len(approx.mode))) @ chol.T
        kept.extend(pts[np.isfinite(space.log_prior(pts))])
    if len(kept) < n:
        pts = approx.mode + widen * rng.standard_normal((n - len(kept), len(approx.mode))) @ chol.T
        kept.extend(np.clip(pts, lo, hi))
    return np.array(kept[:n])

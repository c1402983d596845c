"""Joint posterior of the calibrated knobs and the declared unknowns, on the twin.

The parameter space (:class:`ParameterSpace`) has one dimension per calibration knob
(:data:`chainsim.experiments.calibrate.DEFAULT_KNOBS`, sampled on the log scale with a
log-uniform prior over the knob's bounds: flat, independent of the data) and one per
declared unknown of the scenario that acts on the chain before 2020 (its triangular prior
from ``[unknowns]``: low, central as the mode, high). Unknowns that only act after the
chain (reoffending, desistance after the chain, supervision's effect, revocation, recall,
victims per offender, the registration of other offences) are not seen by the twin's
chain mode, which the likelihood is computed on, except through the re-entries into
offending, which are taken from one full run at the calibrated values: the chain does not
sample them, and each of its thinned points draws them from their priors
(:meth:`ParameterSpace.draw_free`). That alone would be an approximation — a member with a
high reoffending hazard sends more re-entries into the 2015-2019 chain than were scored —
so :func:`run_posterior` with ``reweight`` runs every thinned point once with the full twin
and all its values and resamples the members by their importance weights to the joint
posterior (:mod:`chainsim.experiments.reweight`); the posterior predictive check, which runs
members with all their values, measures what is left.

The log posterior (:class:`LogPosterior`) is the log prior plus the likelihood of the
source's figures (:mod:`chainsim.analysis.likelihood`) at the twin's expected flows, in
chain mode to the end of 2019 with the re-entries into offending of a full twin run at the
calibrated values. The chain samples with the likelihood's robust mixture on every figure
(its defensive form: heavier tails, so that the walkers cross regions where one figure is
off); the reweighting corrects to the stated likelihood, the mixture only on the figures
with a known conflict. The chain's fingerprint therefore does not include the targets'
``conflict`` notes.

Sampling: a history-matching wave over a Sobol sample of the prior rules out the
implausible space (implausibility: the second-largest scaled target residual above 3; it
is reported, not used to start the walkers); the walkers of an affine-invariant ensemble
sampler (``emcee``, vectorised: every step scores all walkers in one batch) start in a small
ball around the calibrated values; ArviZ reports R-hat and the effective sample size,
emcee the autocorrelation time.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.stats import qmc

from chainsim.analysis.fit import residual, target_key, twin_metrics, twin_trials
from chainsim.analysis.likelihood import log_likelihood
from chainsim.analysis.targets import Target
from chainsim.chain.config import Scenario, scenario_from_dict
from chainsim.chain.errors import InputError
from chainsim.chain.parameters import ParameterSet, resolve
from chainsim.engines.twin import (
    ExpectedFlows,
    expected_flows,
    expected_flows_batch,
)
from chainsim.experiments.calibrate import CALIBRATION_END, DEFAULT_KNOBS, Knob, apply_knobs
from chainsim.experiments.checkpoint import (
    SamplerCheckpoint,
    fingerprint,
    load_checkpoint,
    save_checkpoint,
)

AFTER_CHAIN_ONLY: frozenset[str] = frozenset({
    "reoffend_hazard", "post_desistance_hazard", "probation_hazard_ratio",
    "revocation_hazard", "recall_months", "victims_per_offender",
    "general_registration_prob", "probation_months"})
"""Unknowns that act only after the chain, where the chain mode does not look."""

SCORING_GROUP = 8
"""Points per vectorised twin pass when scoring: a sampler step's batch (half the walkers,
47 for 94) makes six groups, three per worker on two cores (groups of 16 left one worker
idle a third of the time); the twin's throughput is flat from about 8 members a pass."""

IMPLAUSIBILITY_CUT = 3.0
"""History matching keeps points whose second-largest |scaled residual| is at most this."""


@dataclass(frozen=True)
class Dimension:
    """One sampled parameter.

    Attributes:
        name: ``parameter.field`` for a knob, the parameter for an unknown.
        kind: ``knob`` or ``unknown``.
        low: Smallest value.
        high: Largest value.
        mode: The prior's mode (an unknown's central value; a knob's starting value).
        log: Sampled on the log scale (knobs).
    """

    name: str
    kind: str
    low: float
    high: float
    mode: float
    log: bool

    def to_sample(self, value):
        """The value on the sampling scale."""
        return np.log(value) if self.log else np.asarray(value, dtype=float)

    def to_value(self, x):
        """The value of a point on the sampling scale."""
        return np.exp(x) if self.log else np.asarray(x, dtype=float)

    @property
    def bounds(self) -> tuple[float, float]:
        """The support on the sampling scale."""
        return float(self.to_sample(self.low)), float(self.to_sample(self.high))

    def log_prior(self, x: np.ndarray) -> np.ndarray:
        """Log density on the sampling scale; ``-inf`` outside the support."""
        lo, hi = self.bounds
        inside = (x >= lo) & (x <= hi)
        if self.log:  # uniform on the log scale
            dens = np.full(np.shape(x), -np.log(hi - lo))
        else:  # triangular on [low, high] with its mode
            a, b, c = self.low, self.high, self.mode
            with np.errstate(divide="ignore", invalid="ignore"):
                up = 2 * (x - a) / ((b - a) * (c - a)) if c > a else np.full(np.shape(x), np.inf)
                down = 2 * (b - x) / ((b - a) * (b - c)) if b > c else np.full(np.shape(x), np.inf)
                dens = np.log(np.where(x < c, up, down))
        return np.where(inside, dens, -np.inf)

    def from_uniform(self, u: np.ndarray) -> np.ndarray:
        """Inverse CDF of the prior (on the sampling scale)."""
        lo, hi = self.bounds
        if self.log:
            return lo + u * (hi - lo)
        a, b, c = self.low, self.high, self.mode
        cut = (c - a) / (b - a)
        return np.where(u < cut, a + np.sqrt(u * (b - a) * (c - a)),
                        b - np.sqrt((1 - u) * (b - a) * (b - c)))


@dataclass
class ParameterSpace:
    """The sampled dimensions and how a point becomes a parameter set.

    Args:
        scenario: The baseline (calibrated) scenario.
        knobs: The calibration knobs.
        unknowns: The scenario's unknowns to include (default: all of them).
        hand_set: The same scenario before calibration. A ``scale`` knob's bounds are
            relative to the hand-set values (:data:`DEFAULT_KNOBS`); the space's scale
            knobs are relative to ``scenario``'s (calibrated) values, so their bounds are
            divided by the calibration's own scale (the prior stays the same). Without
            it ``scenario``'s values are taken as the hand-set ones.

    Attributes:
        dimensions: Sampled dimensions (knobs, then unknowns).
        free: Unknowns drawn from their prior (they act only after the chain).
    """

    scenario: Scenario
    knobs: tuple[Knob, ...] = DEFAULT_KNOBS
    unknowns: tuple[str, ...] | None = None
    hand_set: Scenario | None = None
    dimensions: list[Dimension] = field(init=False)
    free: list[Dimension] = field(init=False)

    def __post_init__(self):
        doc = self.scenario.model_dump(mode="json", exclude_none=True)
        doc.pop("base", None)
        doc["scenario"]["end"] = CALIBRATION_END
        doc["interventions"] = []
        self._doc = doc
        from chainsim.experiments.calibrate import knob_values

        start = knob_values(doc, self.knobs)
        self.dimensions = []
        for k, v in zip(self.knobs, start, strict=True):
            c = _calibrated_scale(doc, self.hand_set, k) if k.field == "scale" else 1.0
            low, high = k.low / c, k.high / c
            self.dimensions.append(Dimension(k.name, "knob", low, high,
                                             float(np.clip(v, low, high)), True))
        self.free = []
        for name, e in self.scenario.unknowns.items():
            if self.unknowns is not None and name not in self.unknowns:
                continue
            dim = Dimension(name, "unknown", e.low, e.high, e.central, False)
            (self.free if name in AFTER_CHAIN_ONLY else self.dimensions).append(dim)

    @property
    def names(self) -> list[str]:
        """The sampled dimensions' names."""
        return [d.name for d in self.dimensions]

    @property
    def start(self) -> np.ndarray:
        """The prior modes (the scenario's values) on the sampling scale."""
        return np.array([float(d.to_sample(d.mode)) for d in self.dimensions])

    def log_prior(self, x: np.ndarray) -> np.ndarray:
        """Log prior of points ``(K, d)`` on the sampling scale."""
        x = np.atleast_2d(x)
        return sum(d.log_prior(x[:, i]) for i, d in enumerate(self.dimensions))

    def from_uniform(self, u: np.ndarray) -> np.ndarray:
        """Points ``(K, d)`` with prior marginals from uniforms ``(K, d)``."""
        return np.stack([d.from_uniform(u[:, i]) for i, d in enumerate(self.dimensions)],
                        axis=1)

    def draw_free(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` draws of the free unknowns from their priors ``(n, len(free))``."""
        u = rng.random((n, len(self.free)))
        return np.stack([d.from_uniform(u[:, i]) for i, d in enumerate(self.free)], axis=1
                        ) if self.free else np.zeros((n, 0))

    def values(self, x: np.ndarray) -> dict[str, float]:
        """A point's parameter values by dimension name (natural scale)."""
        return {d.name: float(d.to_value(v)) for d, v in zip(self.dimensions, x, strict=True)}

    def params(self, x: np.ndarray, free: np.ndarray | None = None) -> ParameterSet:
        """The parameter set of a point (horizon to the end of 2019, no interventions).

        Args:
            x: The point on the sampling scale.
            free: Values of the free (after-chain) unknowns, in :attr:`free`'s order;
                without them those unknowns keep the scenario's values.

        Raises:
            chainsim.chain.errors.InputError: If the point leaves a parameter's allowed
                range after trends and factors (e.g. a share above 1).
        """
        knob_x = np.exp(x[:len(self.knobs)])
        doc = apply_knobs(self._doc, self.knobs, knob_x)
        draws = {d.name: float(v) for d, v in zip(self.dimensions[len(self.knobs):],
                                                  x[len(self.knobs):], strict=True)}
        if free is not None:
            draws |= {d.name: float(v) for d, v in zip(self.free, free, strict=True)}
        sc = scenario_from_dict(copy.deepcopy(doc), "<posterior>")
        return resolve(sc, "<posterior>", draws=draws)


def _calibrated_scale(doc: dict, hand_set: Scenario | None, knob: Knob) -> float:
    """How far the calibration scaled a parameter: its value over the hand-set one."""
    if hand_set is None:
        return 1.0
    now = doc["parameters"][knob.parameter]
    before = hand_set.model_dump(mode="json", exclude_none=True)["parameters"][knob.parameter]
    if now.get("value") and before.get("value"):
        return float(now["value"]) / float(before["value"])
    form = next(iter(before["by_form"]))
    return float(now["by_form"][form]) / float(before["by_form"][form])


class LogPosterior:
    """Log prior + log likelihood of the source's figures, for batches of points.

    Args:
        space: The parameter space.
        targets: The figures (``calibration/targets.toml``'s ``[targets.*]``).
        evaluate: Twin evaluation of a batch of parameter sets in chain mode (given the
            re-entries); default: the batched twin (:func:`~chainsim.engines.twin.
            expected_flows_batch`).
        on_batch: Called with the batch size after every batch (a progress bar).
        robust_everywhere: Every figure gets the likelihood's robust mixture (default: the
            sampler's defensive likelihood, :mod:`chainsim.analysis.likelihood`); False:
            the stated likelihood, the mixture only on figures with a known ``conflict``.
    """

    def __init__(self, space: ParameterSpace, targets: dict[str, Target],
                 evaluate: Callable[[Sequence[ParameterSet], np.ndarray],
                                    list[ExpectedFlows]] | None = None,
                 on_batch: Callable[[int], None] | None = None, workers: int = 1,
                 robust_everywhere: bool = True):
        self.space = space
        self.targets = targets
        self.robust_everywhere = robust_everywhere
        self.keys = [target_key(t) for t in targets.values()]
        self.evaluate = evaluate or _batched
        self.on_batch = on_batch
        self.workers = max(1, workers) if evaluate is None else 1
        self.evaluations = 0
        self.reentries: np.ndarray | None = None
        self._pool = None

    def refresh(self, x: np.ndarray) -> None:
        """Take the re-entries into offending from a full twin run at point ``x``."""
        self.reentries = expected_flows(self.space.params(x)).reentries
        self.close()  # the workers hold the old re-entries

    def close(self) -> None:
        """Stop the worker processes (if any); they start again when needed."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def metrics(self, xs: np.ndarray) -> tuple[list[dict | None], list[dict | None]]:
        """The twin's target quantities and share denominators of each point (None: invalid).

        The points are scored in groups of :data:`SCORING_GROUP` (one vectorised pass
        each), spread over ``workers`` processes. The groups do not
        depend on the number of workers, so neither do the results (bit for bit).
        """
        if self.reentries is None:
            self.refresh(self.space.start)
        groups = [xs[i:i + SCORING_GROUP] for i in range(0, len(xs), SCORING_GROUP)]
        if self.workers > 1 and len(groups) > 1:
            if self._pool is None:
                import multiprocessing
                from concurrent.futures import ProcessPoolExecutor

                self._pool = ProcessPoolExecutor(
                    self.workers, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_init_worker, initargs=(self.space, self.keys, self.reentries))
            scored = list(self._pool.map(_score_group_in_worker, groups))
        else:
            scored = [_score_group(self.space, self.keys, self.reentries, g, self.evaluate)
                      for g in groups]
        metrics: list[dict | None] = [m for group in scored for m, _ in group]
        trials: list[dict | None] = [tr for group in scored for _, tr in group]
        self.evaluations += sum(m is not None for m in metrics)
        if self.on_batch is not None:
            self.on_batch(len(xs))
        return metrics, trials

    def log_likelihood(self, metrics: list[dict | None], trials: list[dict | None]
                       ) -> np.ndarray:
        """The log likelihood of each point's metrics (``-inf`` where invalid)."""
        out = np.full(len(metrics), -np.inf)
        for i, (m, tr) in enumerate(zip(metrics, trials, strict=True)):
            if m is not None:
                total, _ = log_likelihood(self.targets, m, tr, self.robust_everywhere)
                out[i] = float(total)
        return out

    def likelihood_at(self, xs: np.ndarray) -> np.ndarray:
        """The log likelihood of points inside the prior (the twin's runs)."""
        return self.log_likelihood(*self.metrics(xs))

    def score(self, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(log posterior, log likelihood)`` of points ``(K, d)``."""
        return score_points(self, xs)

    def __call__(self, xs: np.ndarray) -> np.ndarray:
        """Rows ``(log posterior, log likelihood)``: emcee's vectorised form, with a blob."""
        return np.stack(self.score(xs), axis=1)

    def implausibility(self, metrics: list[dict | None]) -> np.ndarray:
        """Second-largest |scaled residual| over the targets (``inf`` where invalid)."""
        out = np.full(len(metrics), np.inf)
        for i, m in enumerate(metrics):
            if m is None:
                continue
            r = np.abs(np.nan_to_num([residual(t, m[k]) for t, k in
                                      zip(self.targets.values(), self.keys, strict=True)],
                                     nan=np.inf))
            out[i] = np.sort(r)[-2] if len(r) > 1 else r.max()
        return out


def score_points(post, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(log posterior, log likelihood)`` of points ``(K, d)`` for either log posterior.

    The prior, and ``post.likelihood_at`` for the points inside it (``-inf`` elsewhere).
    """
    xs = np.atleast_2d(xs)
    prior = post.space.log_prior(xs)
    ll = np.full(len(xs), -np.inf)
    ok = np.isfinite(prior)
    if ok.any():
        ll[ok] = post.likelihood_at(xs[ok])
    return prior + ll, ll


def _batched(params: Sequence[ParameterSet], reentries: np.ndarray) -> list[ExpectedFlows]:
    """The twin's chain mode for a batch of parameter sets in vectorised passes."""
    return expected_flows_batch(params, full=False, reentries=reentries)


def _score_group(space: ParameterSpace, keys: list, reentries: np.ndarray, xs: np.ndarray,
                 evaluate: Callable = _batched) -> list[tuple[dict | None, dict | None]]:
    """``(metrics, trials)`` of each point of a group (``(None, None)`` where invalid)."""
    params, where = [], []
    for i, x in enumerate(xs):
        try:
            params.append(space.params(x))
            where.append(i)
        except InputError:
            pass
    out: list[tuple[dict | None, dict | None]] = [(None, None)] * len(xs)
    for i, ef in zip(where, evaluate(params, reentries) if params else [], strict=True):
        out[i] = (twin_metrics(ef, keys), twin_trials(ef, keys))
    return out


_WORKER: dict = {}
"""A scoring process's space, target keys and re-entries (set once by :func:`_init_worker`)."""


def _init_worker(space: ParameterSpace, keys: list, reentries: np.ndarray) -> None:
    from chainsim.experiments.worker_setup import exit_with_parent

    exit_with_parent()  # no orphans if the sampling process is killed on its own
    _WORKER.update(space=space, keys=keys, reentries=reentries)


def _score_group_in_worker(xs: np.ndarray) -> list[tuple[dict | None, dict | None]]:
    return _score_group(_WORKER["space"], _WORKER["keys"], _WORKER["reentries"], xs)


@dataclass
class Wave:
    """One history-matching wave.

    Attributes:
        points: The Sobol points (sampling scale), ``(n, d)``.
        log_posterior: Their log posterior.
        implausibility: Their implausibility (:meth:`LogPosterior.implausibility`).
    """

    points: np.ndarray
    log_posterior: np.ndarray
    implausibility: np.ndarray

    @property
    def plausible(self) -> np.ndarray:
        """Whether each point is not ruled out."""
        return self.implausibility <= IMPLAUSIBILITY_CUT


def history_match(post: LogPosterior, n: int, seed: int) -> Wave:
    """A wave over a scrambled Sobol sample of the prior (``n`` rounded up to a power of 2)."""
    sobol = qmc.Sobol(len(post.space.dimensions), scramble=True, seed=seed)
    points = post.space.from_uniform(sobol.random_base2(int(np.ceil(np.log2(max(n, 2))))))
    prior = post.space.log_prior(points)
    metrics, trials = post.metrics(points)
    lp = prior + post.log_likelihood(metrics, trials)
    return Wave(points, lp, post.implausibility(metrics))


@dataclass
class Chain:
    """An ensemble sampler's chain after burn-in.

    Attributes:
        points: ``(steps, walkers, d)`` on the sampling scale.
        log_posterior: ``(steps, walkers)``.
        log_likelihood: ``(steps, walkers)``.
        acceptance: Mean acceptance fraction of the walkers.
        autocorrelation: Integrated autocorrelation time per dimension (steps; emcee's
            estimate, ``nan`` where the chain is too short to estimate it).
    """

    points: np.ndarray
    log_posterior: np.ndarray
    log_likelihood: np.ndarray
    acceptance: float
    autocorrelation: np.ndarray


def initial_walkers(space: ParameterSpace, centre: np.ndarray, walkers: int,
                    rng: np.random.Generator, spread: float = 0.02) -> np.ndarray:
    """Walkers in a small ball around ``centre``: ``spread`` of each prior's width, inside it."""
    lo, hi = np.array([d.bounds for d in space.dimensions]).T
    width = hi - lo
    pts = centre + spread * width * rng.standard_normal((walkers, len(centre)))
    return np.clip(pts, lo + 1e-6 * width, hi - 1e-6 * width)


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


def sample(post: LogPosterior, start: np.ndarray, steps: int, burn: int, seed: int,
           progress: bool = False, resume: SamplerCheckpoint | None = None,
           on_checkpoint: Callable[[SamplerCheckpoint], None] | None = None,
           every: int = 20) -> Chain:
    """Run emcee's ensemble sampler from walkers ``start`` ``(walkers, d)``.

    Differential-evolution moves (80 %, with 20 % snooker moves) suit correlated,
    moderately high-dimensional posteriors better than the default stretch move. Every
    step scores all walkers in one batch of the twin. Seeded: the same seed and start
    give the same chain.

    Args:
        post: The log posterior.
        start: The walkers' start (ignored when resuming).
        steps: Steps in all (burn-in included; a resumed run's steps count).
        burn: Steps discarded.
        seed: Seed of the sampler's random state.
        progress: emcee's own progress bar.
        resume: A checkpoint of this run to go on from (at most ``steps`` steps): its
            steps are kept and the sampler continues from its last state and random
            state, so the chain is the uninterrupted run's, bit for bit.
        on_checkpoint: Called with the run's state every ``every`` steps and at the end
            (``start``, ``fingerprint``, ``evaluations`` and ``commits`` are the caller's
            to fill in).
        every: Steps between checkpoints.
    """
    import emcee

    walkers, d = start.shape
    sampler = emcee.EnsembleSampler(
        walkers, d, post, vectorize=True, blobs_dtype=float,
        moves=[(emcee.moves.DEMove(), 0.8), (emcee.moves.DESnookerMove(), 0.2)])
    if resume is not None and resume.steps > 0:
        if resume.steps > steps:
            raise ValueError(f"the checkpoint holds {resume.steps} steps, more than the "
                             f"{steps} asked for: ask for at least {resume.steps}")
        points, lp, ll = resume.points, resume.log_posterior, resume.log_likelihood
        accepted = resume.accepted.copy()
        state = emcee.State(points[-1], log_prob=lp[-1], blobs=ll[-1],
                            random_state=resume.random_state)
    else:
        points = np.empty((0, walkers, d))
        lp = ll = np.empty((0, walkers))
        accepted = np.zeros(walkers)
        sampler.random_state = np.random.RandomState(seed).get_state()
        state = emcee.State(start)
    todo = steps - len(points)
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def snapshot() -> SamplerCheckpoint:
        nonlocal points, lp, ll, parts
        if parts:
            points = np.concatenate([points, np.stack([p for p, _, _ in parts])])
            lp = np.concatenate([lp, np.stack([q for _, q, _ in parts])])
            ll = np.concatenate([ll, np.stack([b for _, _, b in parts])])
            parts = []
        return SamplerCheckpoint("", points, lp, ll, accepted + sampler.backend.accepted,
                                 sampler.random_state, {}, 0, [])

    if todo > 0:
        for done, current in enumerate(sampler.sample(state, iterations=todo,
                                                      progress=progress), start=1):
            parts.append((current.coords.copy(), current.log_prob.copy(),
                          np.asarray(current.blobs, dtype=float).copy()))
            if on_checkpoint is not None and (done % every == 0 or done == todo):
                on_checkpoint(snapshot())
    final = snapshot()
    kept = final.points[burn:]
    tau = emcee.autocorr.integrated_time(kept, quiet=True, tol=0) if len(kept) else \
        np.full(d, np.nan)
    return Chain(points=kept, log_posterior=final.log_posterior[burn:],
                 log_likelihood=final.log_likelihood[burn:],
                 acceptance=float(np.mean(final.accepted / max(len(final.points), 1))),
                 autocorrelation=np.asarray(tau, dtype=float))


def diagnostics(chain: Chain, names: list[str]) -> dict[str, dict[str, float]]:
    """Per dimension: ArviZ's R-hat, bulk and tail ESS, and emcee's autocorrelation time.

    R-hat is the rank-normalised split R-hat with the walkers as chains (walkers of an
    ensemble sampler are not independent, so it is a check, not a proof, of mixing).
    """
    import arviz as az

    draws = {name: chain.points[:, :, i].T for i, name in enumerate(names)}  # (chains, draws)
    rhat = az.rhat(draws)
    bulk = az.ess(draws, method="bulk")
    tail = az.ess(draws, method="tail")
    return {name: {"r_hat": float(np.asarray(rhat[name])),
                   "ess_bulk": float(np.asarray(bulk[name])),
                   "ess_tail": float(np.asarray(tail[name])),
                   "autocorrelation_steps": float(chain.autocorrelation[i])}
            for i, name in enumerate(names)}


class EmulatedLogPosterior:
    """Log prior + the figures' log-likelihood at an emulator's predictions (vectorised).

    The sampler's stand-in for :class:`LogPosterior` (:mod:`chainsim.experiments.emulator`):
    the same prior and likelihood (its defensive form by default), the twin's quantities
    replaced by the emulator's.

    Args:
        space: The parameter space.
        targets: The figures.
        emulator: A fitted emulator of the targets' quantities.
        robust_everywhere: As for :class:`LogPosterior`.
    """

    def __init__(self, space: ParameterSpace, targets: dict[str, Target], emulator,
                 robust_everywhere: bool = True):
        self.space = space
        self.targets = targets
        self.emulator = emulator
        self.robust_everywhere = robust_everywhere
        self.evaluations = 0

    def log_likelihood(self, metrics: dict, trials: dict) -> np.ndarray:
        """The figures' log-likelihood of quantities by key (arrays, one per point)."""
        with np.errstate(all="ignore"):
            total, _ = log_likelihood(self.targets, metrics, trials, self.robust_everywhere)
        total = np.asarray(total, dtype=float)
        return np.where(np.isnan(total), -np.inf, total)

    def likelihood_at(self, xs: np.ndarray) -> np.ndarray:
        """The log likelihood of points inside the prior (the emulator's predictions)."""
        self.evaluations += len(xs)
        return self.log_likelihood(*self.emulator.predict(xs))

    score = LogPosterior.score
    __call__ = LogPosterior.__call__


def design_runs(post: LogPosterior, points: np.ndarray):
    """The twin's runs at ``points`` as an emulator's design (the valid ones)."""
    from chainsim.experiments.emulator import Design

    metrics, trials = post.metrics(points)
    return Design.from_runs(points, metrics, trials, post.keys)


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


EMULATOR_PILOT_STEPS = 3000
"""Steps of each pilot chain on the emulator (the first half discarded) that draws the
next design wave."""

LAPLACE_WIDENING = 1.5
"""How much wider than the Laplace approximation the first design wave is drawn."""


def emulated_sampling(post: LogPosterior, approx: Laplace, start: np.ndarray, design: int,
                      waves: int, steps: int, burn: int, seed: int,
                      rng: np.random.Generator, emulator_seed: int | None = None,
                      progress: Callable[[str], None] | None = None
                      ) -> tuple[Chain, EmulatedLogPosterior, dict]:
    """The chain on an emulator of the twin, fitted in ``waves`` design waves.

    Wave 1: ``design // waves`` points of the Laplace approximation widened
    :data:`LAPLACE_WIDENING` times, run with the twin; the emulator is fitted on them.
    Each further wave: a pilot chain of :data:`EMULATOR_PILOT_STEPS` steps on the
    emulator from ``start``, as many of its later points (drawn at random) run with the
    twin, predicted by the emulator first (the held-out error) and then added to the
    design, and the emulator fitted again. The final chain: ``steps`` steps from
    ``start`` on the last emulator, ``burn`` of them discarded.

    Returns:
        The chain, the emulated log posterior it sampled (the candidates' chain
        log-likelihood is its), and the provenance (design sizes, held-out errors, times).
    """
    import time

    from chainsim.experiments.emulator import Emulator, held_out_error

    seed_e = seed if emulator_seed is None else emulator_seed
    log_inputs = tuple(not dim.log and dim.low > 0 for dim in post.space.dimensions)

    def fitted(design_so_far) -> Emulator:
        return Emulator(seed=seed_e, log_inputs=log_inputs).fit(design_so_far)

    per_wave = max(1, design // max(1, waves))
    say = progress or (lambda _text: None)
    t0 = time.perf_counter()
    say(f"emulator design wave 1: {per_wave} twin runs")
    runs = design_runs(post, laplace_design(post.space, approx, per_wave, LAPLACE_WIDENING,
                                            rng))
    twin_seconds = time.perf_counter() - t0
    t1 = time.perf_counter()
    emulator = fitted(runs)
    fit_seconds = time.perf_counter() - t1
    waves_doc = [{"wave": 1, "from": f"Laplace approximation x {LAPLACE_WIDENING}",
                  "runs": len(runs)}]
    d = start.shape[1]
    for w in range(2, waves + 1):
        epost = EmulatedLogPosterior(post.space, post.targets, emulator)
        say(f"emulator pilot chain {w - 1}: {EMULATOR_PILOT_STEPS} steps")
        pilot = sample(epost, start, EMULATOR_PILOT_STEPS, EMULATOR_PILOT_STEPS // 2,
                       seed + w)
        pool = pilot.points.reshape(-1, d)
        pick = rng.choice(len(pool), size=min(per_wave, len(pool)), replace=False)
        say(f"emulator design wave {w}: {len(pick)} twin runs")
        t = time.perf_counter()
        new = design_runs(post, pool[np.sort(pick)])
        twin_seconds += time.perf_counter() - t
        error = held_out_error(emulator, new, epost.log_likelihood)
        waves_doc.append({"wave": w, "from": "the emulated posterior (pilot chain)",
                          "runs": len(new), "held_out": error.summary()})
        runs = runs + new
        t = time.perf_counter()
        emulator = fitted(runs)
        fit_seconds += time.perf_counter() - t
    epost = EmulatedLogPosterior(post.space, post.targets, emulator)
    say(f"final chain on the emulator: {steps} steps")
    t = time.perf_counter()
    chain = sample(epost, start, steps, burn, seed)
    doc = {"design_runs": len(runs), "waves": waves_doc,
           "network": {"networks": emulator.networks,
                       "hidden_layers": list(emulator.hidden), "activation": "tanh",
                       "penalty": emulator.penalty,
                       "max_iterations": emulator.max_iterations, "seed": seed_e,
                       "log_inputs": [dim.name for dim, lg in
                                      zip(post.space.dimensions, log_inputs, strict=True) if lg],
                       "library": "scikit-learn MLPRegressor (L-BFGS), predictions averaged"},
           "twin_seconds": round(twin_seconds, 1), "fit_seconds": round(fit_seconds, 1),
           "chain_seconds": round(time.perf_counter() - t, 1),
           "emulator_evaluations": epost.evaluations}
    return chain, epost, doc


@dataclass
class PosteriorRun:
    """A posterior run: its settings, chain, ensemble and diagnostics.

    Attributes:
        space: The parameter space.
        chain: The chain after burn-in.
        members: The ensemble: one row per member, the sampled dimensions and the free
            unknowns on the natural scale, with ``log_likelihood``, ``log_posterior``,
            ``step`` and ``walker`` (``pandas.DataFrame``).
        diagnostics: Per dimension (:func:`diagnostics`).
        wave: The history-matching wave (its share of the prior not ruled out).
        settings: Walkers, steps, burn-in, thinning, seed, wave size.
        evaluations: Twin evaluations used.
        seconds: Wall time, the earlier sittings of a resumed run included (as far as their
            checkpoints kept it).
    """

    space: ParameterSpace
    chain: Chain
    members: object
    diagnostics: dict[str, dict[str, float]]
    wave: Wave | None
    settings: dict
    evaluations: int
    seconds: float


def run_posterior(scenario: Scenario, targets: dict[str, Target], members: int = 1000,
                  walkers: int | None = None, steps: int = 2000, burn: int = 500,
                  wave_size: int = 256, seed: int = 0,
                  evaluate: Callable | None = None, progress=None,
                  space: ParameterSpace | None = None, workers: int = 1,
                  checkpoint: Path | None = None, commit: str | None = None,
                  reweight: bool = False, draws: int = 1, thin: int | None = None,
                  on_candidate: Callable[[], None] | None = None, design: int = 0,
                  design_waves: int = 2, candidates: int | None = None,
                  on_stage: Callable[[str], None] | None = None) -> PosteriorRun:
    """Sample the joint posterior and take an ensemble of ``members`` from it.

    Steps: a history-matching wave over the prior (reported: how much of the prior the
    figures rule out); re-entries from a full twin run at the scenario's values (its
    calibration: the start); ``walkers`` (default ``2 d + 2``) in a small ball around
    that start; ``steps`` of the ensemble sampler, the first ``burn`` discarded (the
    re-entries stay those of the start); the chain thinned by half its longest
    autocorrelation time (or by ``thin``; less if the chain is too short to give
    ``members`` points so thinned: ``settings["thin"]`` below ``settings["thin_wanted"]``
    says so), each point with a draw of the after-chain unknowns from their prior
    (``draws`` of them with ``reweight``). Without ``reweight`` the latest ``members`` of
    those points are the ensemble; with it every thinned point is a candidate, run with
    the full twin once per draw, and the ensemble is resampled from the candidates by
    their importance weights to the joint posterior (:mod:`chainsim.experiments.reweight`).

    Args:
        scenario: The calibrated baseline.
        targets: The source's figures.
        members: Ensemble size.
        walkers: Walkers of the sampler.
        steps: Steps of the sampler (burn-in included).
        burn: Steps discarded.
        wave_size: Points of the history-matching wave (0: none).
        seed: Seed of the wave, the walkers, the sampler and the free unknowns.
        evaluate: Batched twin evaluation (see :class:`LogPosterior`).
        progress: Called with the number of points scored after every batch.
        space: The parameter space (default: every knob and chain unknown of ``scenario``).
        workers: Processes scoring the walkers (the results do not depend on it).
        checkpoint: A file to keep the run's state in (every 20 steps): if it holds a
            checkpoint of this run (:mod:`chainsim.experiments.checkpoint`), the run goes
            on from there (the wave and the Laplace start are not recomputed); the
            result is the uninterrupted run's, bit for bit.
        commit: The code's commit, recorded in the checkpoint.
        reweight: Reweight the thinned chain to the joint posterior with the after-chain
            unknowns (:func:`chainsim.experiments.reweight.reweight`) and resample the
            ensemble from it.
        draws: With ``reweight``, draws of the after-chain unknowns per candidate (its
            weight averages over them; ``draws`` full-twin runs per candidate).
        thin: Keep every ``thin``-th step of the chain (default: half its longest
            autocorrelation time).
        on_candidate: Called after every full-twin run of the reweighting (a progress bar).
        design: Twin runs of an emulator's design (0: the sampler runs on the twin
            itself). With a design the walkers sample an emulator of the twin fitted in
            ``design_waves`` waves (:func:`emulated_sampling`; no checkpoint is kept: the
            twin runs take minutes, not hours), and the candidates' chain
            log-likelihood is the emulated one, so ``reweight`` corrects the emulator's
            error as well.
        design_waves: Waves of the emulator's design.
        candidates: At most this many thinned points become candidates (thinned more
            where the chain holds more; default: all).
        on_stage: Called with a line of text as each stage of an emulated run begins.

    Raises:
        ValueError: If the thinned chain holds fewer than ``members`` points (run longer).
        InputError: If ``checkpoint`` holds another run's state.
    """
    import time

    import pandas as pd

    t0 = time.perf_counter()
    space = space or ParameterSpace(scenario)
    post = LogPosterior(space, targets, evaluate=evaluate, on_batch=progress, workers=workers)
    d = len(space.dimensions)
    walkers = walkers or 2 * d + 2
    rng = np.random.default_rng(seed)
    digest = fingerprint({"seed": seed, "walkers": walkers, "wave_size": wave_size,
                          "dimensions": [dataclasses.astuple(dim) for dim in space.dimensions],
                          "start": space.start.tolist(),
                          "targets": sorted((k, repr(v)) for k, v in targets.items())})
    if design > 0:
        checkpoint = None  # an emulated run is short; its chain is not checkpointed
    saved = load_checkpoint(checkpoint, digest) if checkpoint is not None else None
    commits = (saved.commits if saved is not None else []) + [commit or "unknown"]
    before = saved.seconds if saved is not None else 0.0  # the earlier sittings' wall time
    try:
        post.refresh(space.start)
        if saved is None:
            wave = history_match(post, wave_size, seed) if wave_size else None
            approx = laplace(post, space.start)
            start = laplace_walkers(post, approx, walkers, rng)
            begun = {"mode": approx.mode, "covariance": approx.covariance,
                     "laplace": np.array([approx.log_posterior, approx.iterations,
                                          approx.evaluations]), "walkers": start,
                     "rng": np.array(json.dumps(rng.bit_generator.state))}
            if wave is not None:
                begun |= {"wave_points": wave.points, "wave_log_posterior": wave.log_posterior,
                          "wave_implausibility": wave.implausibility}
        else:
            begun = saved.start
            post.evaluations += saved.evaluations
            wave = (Wave(begun["wave_points"], begun["wave_log_posterior"],
                         begun["wave_implausibility"]) if "wave_points" in begun else None)
            lap = begun["laplace"]
            approx = Laplace(begun["mode"], float(lap[0]), begun["covariance"], int(lap[1]),
                             int(lap[2]))
            start = begun["walkers"]
            rng.bit_generator.state = json.loads(str(begun["rng"]))

        def keep(state: SamplerCheckpoint) -> None:
            state.fingerprint, state.start = digest, begun
            state.evaluations, state.commits = post.evaluations, commits
            state.seconds = before + time.perf_counter() - t0
            save_checkpoint(checkpoint, state)

        emulated = None
        if design > 0:
            chain, _, emulated = emulated_sampling(post, approx, start, design,
                                                   design_waves, steps, burn, seed, rng,
                                                   progress=on_stage)
        else:
            chain = sample(post, start, steps, burn, seed, resume=saved,
                           on_checkpoint=keep if checkpoint is not None else None)
    finally:
        post.close()
    tau = chain.autocorrelation
    if thin is not None:
        wanted = thin
    else:
        wanted = max(1, int(np.ceil(np.nanmax(tau) / 2))) if np.isfinite(tau).any() else 1
    # a chain too short for that thinning keeps more correlated points (stated in settings)
    thin = max(1, min(wanted, chain.points.shape[0] * walkers // members))
    if candidates is not None:  # no more candidates than asked for
        thin = max(thin, int(np.ceil(chain.points.shape[0] * walkers / max(candidates, 1))))
    pts = chain.points[::-1][::thin]  # latest first
    lp = chain.log_posterior[::-1][::thin]
    ll = chain.log_likelihood[::-1][::thin]
    n_steps = pts.shape[0]
    if n_steps * walkers < members:
        raise ValueError(f"the thinned chain has {n_steps * walkers} points, fewer than the "
                         f"{members} members asked for: run more steps")
    step_index = (steps - 1 - np.arange(n_steps) * thin)[:, None].repeat(walkers, axis=1)
    walker_index = np.arange(walkers)[None, :].repeat(n_steps, axis=0)
    flat, lp, ll = pts.reshape(-1, d), lp.ravel(), ll.ravel()
    step_index, walker_index = step_index.ravel(), walker_index.ravel()
    reweighting = None
    if reweight:
        from chainsim.experiments.reweight import reweight as reweight_candidates

        # draw by draw: the first draws are those of a run with one draw per candidate
        free = np.stack([space.draw_free(rng, len(flat)) for _ in range(draws)], axis=1)
        reweighting = reweight_candidates(space, targets, flat, free, ll, members, rng,
                                          workers=workers, progress=on_candidate)
        chosen, drawn = reweighting.chosen, reweighting.chosen_draw
        member_free = free[chosen, drawn]
    else:
        chosen = np.arange(members)
        member_free = space.draw_free(rng, members)
    table = {dim.name: dim.to_value(flat[chosen, i]) for i, dim in enumerate(space.dimensions)}
    table |= {dim.name: member_free[:, i] for i, dim in enumerate(space.free)}
    if reweighting is None:
        table |= {"log_likelihood": ll[chosen], "log_posterior": lp[chosen]}
    else:
        own = reweighting.own_log_likelihood[chosen, drawn]
        table |= {"log_likelihood": own, "log_posterior": lp[chosen] - ll[chosen] + own,
                  "chain_log_likelihood": ll[chosen],
                  "log_weight": reweighting.log_weights[chosen], "candidate": chosen,
                  "draw": drawn}
    table |= {"step": step_index[chosen], "walker": walker_index[chosen]}
    frame = pd.DataFrame(table)
    frame.insert(0, "member", np.arange(members))
    settings = {"walkers": walkers, "steps": steps, "burn": burn, "thin": thin,
                "thin_wanted": wanted,
                "members": members, "seed": seed, "wave_size": wave_size,
                "moves": "emcee DEMove 0.8, DESnookerMove 0.2",
                "start": "walkers drawn from a Laplace approximation at the mode (L-BFGS-B "
                         "from the calibrated values, second differences of the twin)",
                "mode_log_posterior": approx.log_posterior,
                "optimizer_iterations": approx.iterations,
                "laplace_evaluations": approx.evaluations,
                "twin": "chain mode to " + CALIBRATION_END + ", re-entries of a full run at "
                        "the start",
                "code_commits": commits}
    if emulated is not None:
        settings["sampler"] = "emulator"
        settings["emulator"] = emulated
        settings["twin"] = ("an emulator of the twin's chain mode to " + CALIBRATION_END
                            + " (re-entries of a full run at the start), fitted on "
                            f"{emulated['design_runs']} twin runs")
    else:
        settings["sampler"] = "twin"
    if reweighting is not None:
        settings["reweighting"] = reweighting.summary()
    return PosteriorRun(space, chain, frame, diagnostics(chain, space.names), wave, settings,
                        post.evaluations, before + time.perf_counter() - t0)

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
so :func:`chainsim.experiments.posterior_run.run_posterior` with ``reweight`` runs every
thinned point once with the full twin and all its values and resamples the members by
their importance weights to the joint posterior (:mod:`chainsim.experiments.reweight`); the
posterior predictive check, which runs members with all their values, measures what is
left.

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
is reported, not used to start the walkers); the walkers start from a Laplace
approximation at the mode (:mod:`chainsim.experiments.laplace`) and run emcee's ensemble
sampler, every step scoring all walkers in one batch; ArviZ reports R-hat and the
effective sample size, emcee the autocorrelation time
(:mod:`chainsim.experiments.sampler`). With an emulator's design the chain runs on an
emulator of the twin instead (:mod:`chainsim.experiments.emulated`), and the reweighting
corrects it. In the joint mode (``ParameterSpace(joint=True)``) the after-chain unknowns are
sampled too, on an emulator of the full twin with the point's own re-entries
(:func:`full_twin_quantities`), and the reweighting corrects only the emulator's error (and the
defensive likelihood).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

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
        joint: Sample the after-chain unknowns too (the joint mode on an emulator of the
            full twin, :func:`chainsim.experiments.emulated.joint_emulated_sampling`):
            they become the last dimensions, with their triangular priors, and
            :attr:`free` is empty.

    Attributes:
        dimensions: Sampled dimensions (knobs, then the chain's unknowns; with ``joint``
            then the after-chain unknowns).
        free: Unknowns drawn from their prior (they act only after the chain; none with
            ``joint``).
    """

    scenario: Scenario
    knobs: tuple[Knob, ...] = DEFAULT_KNOBS
    unknowns: tuple[str, ...] | None = None
    hand_set: Scenario | None = None
    joint: bool = False
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
        if self.joint:  # the after-chain unknowns last, so a point's chain part comes first
            self.dimensions, self.free = self.dimensions + self.free, []

    def joint_space(self) -> ParameterSpace:
        """The same space with the after-chain unknowns sampled too (``joint``)."""
        return replace(self, joint=True)

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


def full_twin_quantities(space: ParameterSpace, keys: list, x: np.ndarray,
                         free: np.ndarray | None = None) -> tuple[dict | None, dict | None]:
    """The full twin's target quantities and share denominators at a point.

    The twin runs in full mode with all the point's values (its own re-entries into
    offending), as the reweighting and the joint mode's design need.

    Args:
        space: The parameter space.
        keys: The targets' quantities (:func:`chainsim.analysis.fit.target_key`).
        x: The point on the sampling scale.
        free: Its after-chain unknowns (see :meth:`ParameterSpace.params`).

    Returns:
        ``(metrics, trials)`` by key; ``(None, None)`` if the point's values are invalid.
    """
    try:
        params = space.params(x, free)
    except InputError:
        return None, None
    ef = expected_flows(params)
    return twin_metrics(ef, keys), twin_trials(ef, keys)


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

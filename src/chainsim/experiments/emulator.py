"""An emulator of the twin's figures: the sampler's fast stand-in, corrected exactly.

Why. The sampler needs some 50 autocorrelation times of its ensemble for its chain to
mix (emcee's rule); in the 46 dimensions of the joint posterior the chain's
autocorrelation time is up to ~4,500 steps (measured by the emulated chain of 400,000 steps
of 110 walkers now committed, R-hat 1.007), so some 20 million evaluations. The twin in
chain mode costs 60-110 ms an evaluation on these 2 cores
(``benchmarks/bench_twin_batch.py``): weeks. The twin chain of 7,500 steps stopped at a
few of those autocorrelation times (R-hat up to 1.27).

What. A regression of every figure's model quantity, and of the shares' numbers of
cases, on the point: an ensemble of :data:`NETWORKS` small multi-layer perceptrons
(scikit-learn's ``MLPRegressor``: tanh, L-BFGS, each from its own seeded start; their
predictions averaged) from the standardised point (the unknowns, positive and on their
natural scale, by their log) to the standardised quantities on scales fit for a regression
(the log of counts, means and ratios, the logit of shares of cases). It is fitted on
twin runs at a design of points (:mod:`chainsim.experiments.posterior` draws it in
waves: the Laplace approximation first, then the emulated posterior), costs some
microseconds a point, and the sampler runs on the figures' likelihood of its
predictions.

Exactness. The emulator is never the answer: the chain's candidates are run with the
full twin and reweighted to the joint posterior (:mod:`chainsim.experiments.reweight`),
the weight the full twin's likelihood over the emulated one, which corrects the
emulator's error exactly as the candidates grow, whatever it is; its error shows in the
Pareto ``k`` and the effective sample size of the weights. Before each wave's points
join the design they are predicted (:func:`held_out_error`): the log-likelihood's error
out of sample is reported.

Reproducible. The networks' initial weights come from the seed and their fit runs with
one BLAS thread (``threadpoolctl``), so the same design and seed give the same emulator,
bit for bit, on the same machine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from chainsim.analysis.fit import Key

HIDDEN_LAYERS = (64, 64)
"""The networks' hidden layers (widths)."""

NETWORKS = 3
"""Networks in the ensemble (their predictions are averaged)."""

PENALTY = 1e-3
"""The network's L2 penalty (scikit-learn's ``alpha``) on standardised data."""

MAX_ITERATIONS = 3000
"""L-BFGS iterations of a fit."""


@dataclass(frozen=True)
class Scale:
    """How one quantity is regressed: on the log or the logit scale.

    Attributes:
        key: The quantity (:func:`chainsim.analysis.fit.target_key`).
        logit: Logit (a share of cases, strictly between 0 and 1 in the design) or log.
    """

    key: Key
    logit: bool

    def forward(self, v: np.ndarray) -> np.ndarray:
        """The quantity on the regression scale."""
        v = np.asarray(v, dtype=float)
        return np.log(v / (1.0 - v)) if self.logit else np.log(v)

    def inverse(self, z: np.ndarray) -> np.ndarray:
        """The quantity on its own scale."""
        z = np.asarray(z, dtype=float)
        return 1.0 / (1.0 + np.exp(-z)) if self.logit else np.exp(z)


@dataclass
class Design:
    """Twin runs the emulator learns from: points and their quantities.

    Attributes:
        points: ``(n, d)`` on the sampling scale.
        metrics: ``(n, m)``: the figures' model quantities in ``metric_keys``' order.
        trials: ``(n, s)``: the shares' numbers of cases in ``trial_keys``' order.
        metric_keys: The figures' quantities.
        trial_keys: The quantities with a number of cases.
    """

    points: np.ndarray
    metrics: np.ndarray
    trials: np.ndarray
    metric_keys: list[Key]
    trial_keys: list[Key]

    @classmethod
    def from_runs(cls, points: np.ndarray, metrics: Sequence[Mapping | None],
                  trials: Sequence[Mapping | None], metric_keys: list[Key]) -> Design:
        """The valid runs (finite, positive quantities) of a batch of points.

        Args:
            points: ``(n, d)``.
            metrics: Per point the twin's quantities by key (``None``: the point is invalid).
            trials: Per point the numbers of cases by key.
            metric_keys: The figures' quantities, in the targets' order.
        """
        first = next((tr for tr in trials if tr is not None), {})
        trial_keys = [k for k in metric_keys if first.get(k) is not None]
        rows, m_rows, t_rows = [], [], []
        for i, (m, tr) in enumerate(zip(metrics, trials, strict=True)):
            if m is None:
                continue
            mv = np.array([m[k] for k in metric_keys], dtype=float)
            tv = np.array([tr[k] for k in trial_keys], dtype=float)
            if np.all(np.isfinite(mv)) and np.all(mv > 0) and np.all(tv > 0):
                rows.append(i)
                m_rows.append(mv)
                t_rows.append(tv)
        d = np.asarray(points).shape[1]
        return cls(np.asarray(points, dtype=float)[rows].reshape(-1, d),
                   np.array(m_rows).reshape(-1, len(metric_keys)),
                   np.array(t_rows).reshape(-1, len(trial_keys)), list(metric_keys),
                   trial_keys)

    def __len__(self) -> int:
        return len(self.points)

    def __add__(self, other: Design) -> Design:
        if other.metric_keys != self.metric_keys or other.trial_keys != self.trial_keys:
            raise ValueError("designs of different quantities cannot be joined")
        return Design(np.vstack([self.points, other.points]),
                      np.vstack([self.metrics, other.metrics]),
                      np.vstack([self.trials, other.trials]), self.metric_keys,
                      self.trial_keys)


@dataclass
class Emulator:
    """The twin's figures as a function of the point (fit with :meth:`fit`).

    Args:
        seed: Seed of the first network's initial weights (the others: the next seeds).
        log_inputs: Which inputs enter by their log (positive ones on their natural
            scale; default none).
        networks: Networks in the ensemble.
        hidden: Widths of the hidden layers.
        penalty: L2 penalty on the standardised data.
        max_iterations: L-BFGS iterations.
    """

    seed: int = 0
    log_inputs: tuple[bool, ...] | None = None
    networks: int = NETWORKS
    hidden: tuple[int, ...] = HIDDEN_LAYERS
    penalty: float = PENALTY
    max_iterations: int = MAX_ITERATIONS
    scales: list[Scale] = field(default_factory=list, init=False)
    metric_keys: list[Key] = field(default_factory=list, init=False)
    trial_keys: list[Key] = field(default_factory=list, init=False)
    size: int = field(default=0, init=False)
    _network: object = field(default=None, init=False, repr=False)
    _x: tuple[np.ndarray, np.ndarray] | None = field(default=None, init=False, repr=False)
    _z: tuple[np.ndarray, np.ndarray] | None = field(default=None, init=False, repr=False)

    def fit(self, design: Design) -> Emulator:
        """Fit the network to ``design`` (replacing any earlier fit); returns itself.

        Raises:
            ValueError: If the design has fewer runs than dimensions.
        """
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPRegressor
        from threadpoolctl import threadpool_limits

        n, d = design.points.shape
        if n <= d:
            raise ValueError(f"an emulator needs more runs than dimensions: {n} for {d}")
        self.metric_keys, self.trial_keys = design.metric_keys, design.trial_keys
        shares = set(design.trial_keys)
        self.scales = [Scale(k, k in shares and bool(np.all(design.metrics[:, j] < 1.0)))
                       for j, k in enumerate(design.metric_keys)]
        if self.log_inputs is not None and len(self.log_inputs) != d:
            raise ValueError(f"log_inputs has {len(self.log_inputs)} entries for {d} inputs")
        z = self._transform(design.metrics, design.trials)
        x = self._inputs(design.points)
        self._x = (x.mean(axis=0), _spread(x))
        self._z = (z.mean(axis=0), _spread(z))
        u, target = (x - self._x[0]) / self._x[1], (z - self._z[0]) / self._z[1]
        networks = []
        with threadpool_limits(1), warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # the iteration limit
            for i in range(self.networks):
                networks.append(MLPRegressor(
                    hidden_layer_sizes=self.hidden, activation="tanh", solver="lbfgs",
                    alpha=self.penalty, max_iter=self.max_iterations, max_fun=10**6,
                    tol=1e-10, random_state=self.seed + i).fit(u, target))
        self._network, self.size = networks, n
        return self

    def predict(self, points: np.ndarray) -> tuple[dict[Key, np.ndarray], dict[Key, np.ndarray]]:
        """The quantities and numbers of cases at ``points`` ``(n, d)``, by key (arrays).

        Raises:
            RuntimeError: If the emulator has not been fitted.
        """
        if self._network is None:
            raise RuntimeError("the emulator has not been fitted")
        u = (self._inputs(np.atleast_2d(points)) - self._x[0]) / self._x[1]
        z = sum(np.atleast_2d(net.predict(u)) for net in self._network) / len(self._network)
        z = z * self._z[1] + self._z[0]
        m = len(self.scales)
        metrics = {s.key: s.inverse(z[:, j]) for j, s in enumerate(self.scales)}
        trials = {k: np.exp(z[:, m + j]) for j, k in enumerate(self.trial_keys)}
        return metrics, trials

    def _transform(self, metrics: np.ndarray, trials: np.ndarray) -> np.ndarray:
        cols = [s.forward(metrics[:, j]) for j, s in enumerate(self.scales)]
        cols += [np.log(trials[:, j]) for j in range(trials.shape[1])]
        return np.stack(cols, axis=1)

    def _inputs(self, points: np.ndarray) -> np.ndarray:
        if self.log_inputs is None or not any(self.log_inputs):
            return np.asarray(points, dtype=float)
        out = np.array(points, dtype=float)
        mask = np.asarray(self.log_inputs, dtype=bool)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[:, mask] = np.log(out[:, mask])
        return out


def _spread(a: np.ndarray) -> np.ndarray:
    """Each column's standard deviation (1 where it does not vary)."""
    sd = a.std(axis=0)
    return np.where(sd > 0, sd, 1.0)


@dataclass(frozen=True)
class HeldOutError:
    """The emulated log-likelihood's error on runs it was not fitted on.

    Attributes:
        points: Runs compared.
        sd: Standard deviation of emulated minus twin log-likelihood.
        bias: Their mean difference.
        q95: 95th percentile of the absolute difference.
        metric_error: Median over the quantities of the root-mean-square error on the
            regression scale (about a relative error for the log scale).
    """

    points: int
    sd: float
    bias: float
    q95: float
    metric_error: float

    def summary(self) -> dict:
        """The figures for the provenance (JSON-ready)."""
        return {"points": self.points, "log_likelihood_error_sd": round(self.sd, 3),
                "log_likelihood_bias": round(self.bias, 3),
                "log_likelihood_error_q95": round(self.q95, 3),
                "median_quantity_error": round(self.metric_error, 4)}


def held_out_error(emulator: Emulator, design: Design, log_likelihood) -> HeldOutError:
    """How well ``emulator`` predicts ``design`` (runs it was not fitted on).

    Args:
        emulator: A fitted emulator.
        design: New twin runs.
        log_likelihood: ``(metrics, trials) -> (n,)``: the figures' log-likelihood of
            quantities by key (arrays).
    """
    metrics, trials = emulator.predict(design.points)
    own_m = {k: design.metrics[:, j] for j, k in enumerate(design.metric_keys)}
    own_t = {k: design.trials[:, j] for j, k in enumerate(design.trial_keys)}
    diff = np.asarray(log_likelihood(metrics, trials)) - np.asarray(log_likelihood(own_m, own_t))
    diff = diff[np.isfinite(diff)]
    z_pred = emulator._transform(np.stack([metrics[k] for k in design.metric_keys], axis=1),
                                 np.stack([trials[k] for k in design.trial_keys], axis=1))
    z_own = emulator._transform(design.metrics, design.trials)
    rms = np.sqrt(np.mean((z_pred - z_own) ** 2, axis=0))
    if not len(diff):
        return HeldOutError(0, float("nan"), float("nan"), float("nan"), float(np.median(rms)))
    return HeldOutError(len(diff), float(diff.std()), float(diff.mean()),
                        float(np.quantile(np.abs(diff), 0.95)), float(np.median(rms)))

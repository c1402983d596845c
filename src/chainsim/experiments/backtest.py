"""Out-of-sample back-test of the posterior: fit on 2015-2017, predict 2018-2019.

The figures of single years up to 2017 are the only ones that do not include 2018 or
2019 (the 2015-2019 averages and shares do): the posterior is fitted on them alone,
and every other figure is predicted from it — the model's value under each draw plus
the figure's observation noise as the likelihood has it (the figure's ``sd``, the 5 %
discrepancy and, for a yearly count, Poisson noise; normal, cut at 0) — as a 90 % predictive
interval. **Coverage** is the share of held-out figures whose observed value (a range's
midpoint, a lower bound's value) lies inside its interval; a lower bound counts as
covered if the interval reaches above it.

Three figures say little about 46 parameters, so their posterior stays close to the
prior: it is computed by **Pareto-smoothed importance sampling** from the prior (Vehtari
et al. 2024; ArviZ's ``psislw``) rather than by a second ensemble sampler. ``draws``
independent points of the prior are scored on the batched twin, weighted by their
likelihood of the fitted figures, and the weights' largest tail smoothed by a fitted
Pareto distribution. The diagnostics are the weights' effective sample size (Kish's
``1 / sum w^2``) and the Pareto shape ``k``: the estimate is reliable where ``k`` is at
most :data:`PARETO_K_LIMIT` (an ensemble sampler on the same posterior needed thousands
of steps and had not mixed after 500: R-hat 1.95). Points the parameters' rules reject
(a share above 1 after its trends) have likelihood 0, as in the sampler.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from chainsim.analysis.fit import target_key
from chainsim.analysis.likelihood import DISCREPANCY_CV, is_count, span_years
from chainsim.analysis.targets import Target
from chainsim.chain.config import Scenario
from chainsim.experiments.posterior import LogPosterior, ParameterSpace
from chainsim.experiments.reweight import PARETO_K_LIMIT, importance_weights

FIT_UNTIL = 2017
"""The last year whose figures the back-test fits."""
DRAWS = 8192
"""Prior draws the back-test weighs (a few minutes on two cores; about 3 in 4 are valid and
their weights' effective sample size is about 4 % of them)."""
PREDICTIVE_DRAWS = 20_000
"""Draws (with replacement, by weight) the predictive intervals are read from."""


def split_targets(targets: dict[str, Target]) -> tuple[dict[str, Target], dict[str, Target]]:
    """``(fitted, held out)``: single-year figures up to :data:`FIT_UNTIL`, and the rest."""
    fitted = {n: t for n, t in targets.items()
              if t.scope == "by_year" and int(t.years) <= FIT_UNTIL}
    return fitted, {n: t for n, t in targets.items() if n not in fitted}


@dataclass
class Backtest:
    """The back-test's results.

    Attributes:
        table: Per held-out figure: observed, predictive 5/50/95 %, covered.
        fitted: The fitted figures' names.
        draws: Prior draws scored.
        valid: Draws the parameters' rules accept (the others weigh 0).
        ess: Effective sample size of the importance weights (``1 / sum w^2``).
        pareto_k: The Pareto shape of the weights' tail (reliable at most
            :data:`PARETO_K_LIMIT`).
        seconds: Wall time.
    """

    table: pd.DataFrame
    fitted: list[str]
    draws: int
    valid: int
    ess: float
    pareto_k: float
    seconds: float

    @property
    def coverage(self) -> float:
        """Share of held-out figures inside their 90 % predictive interval."""
        return float(self.table["covered"].mean())

    @property
    def reliable(self) -> bool:
        """Whether the importance weights are reliable (``k`` at most the limit)."""
        return bool(np.isfinite(self.pareto_k) and self.pareto_k <= PARETO_K_LIMIT)


def posterior_backtest(scenario: Scenario, targets: dict[str, Target], draws: int = DRAWS,
                       seed: int = 0, progress=None, space: ParameterSpace | None = None,
                       workers: int = 1) -> Backtest:
    """Fit on the figures up to 2017 and predict the others (see the module).

    Give ``space`` built with ``hand_set`` (as ``calibrate --posterior`` does) so that the
    scale knobs' priors do not lean on the fit to every figure. ``progress`` is called with
    the number of points scored after every batch; ``workers``: processes scoring them
    (the results do not depend on it).

    Raises:
        ValueError: If no draw of the prior is valid.
    """
    t0 = time.perf_counter()
    fitted, held = split_targets(targets)
    space = space or ParameterSpace(scenario)
    rng = np.random.default_rng(seed)
    points = space.from_uniform(rng.random((draws, len(space.dimensions))))
    post = LogPosterior(space, targets, on_batch=progress, workers=workers)
    try:
        metrics, trials = post.metrics(points)
    finally:
        post.close()
    ll = LogPosterior(space, fitted, robust_everywhere=False).log_likelihood(metrics, trials)
    valid = np.flatnonzero(np.isfinite(ll))
    if not len(valid):
        raise ValueError(f"none of {draws} prior draws gives a valid parameter set")
    weights, k = importance_weights(ll[valid])
    pick = rng.choice(len(valid), PREDICTIVE_DRAWS, p=weights)  # positions in ``valid``
    rows = []
    for name, t in held.items():
        key = target_key(t)
        values = np.array([metrics[i][key] for i in valid], float)[pick]  # valid: scored
        values = values[np.isfinite(values)]
        observed_noise = np.maximum(0.0, values + rng.normal(0.0, 1.0, len(values)) * np.sqrt(
            _observation_variance(t, values)))  # counts and shares are not negative
        lo, mid, hi = np.percentile(observed_noise, [5, 50, 95])
        if t.kind == "range":
            observed = 0.5 * (t.low + t.high)
            covered = lo <= observed <= hi
        elif t.kind == "lower_bound":
            observed = t.value
            covered = hi >= observed
        else:
            observed = t.value
            covered = lo <= observed <= hi
        rows.append({"target": name, "kind": t.kind, "observed": observed, "sd": t.sd,
                     "low": t.low if t.kind == "range" else t.value,
                     "high": t.high if t.kind == "range" else t.value, "p5": lo,
                     "p50": mid, "p95": hi, "covered": bool(covered)})
    return Backtest(pd.DataFrame(rows), sorted(fitted), draws, len(valid),
                    float(1.0 / np.sum(weights**2)), k, time.perf_counter() - t0)


def _observation_variance(t: Target, mu: np.ndarray) -> np.ndarray:
    """The variance of a figure around the model's value ``mu``.

    A normal approximation of :mod:`chainsim.analysis.likelihood`'s observation model,
    without its robust part.
    """
    var = t.sd**2 + (DISCREPANCY_CV * mu) ** 2
    if is_count(t):
        var = var + np.maximum(mu, 0.0) / span_years(t)
    return var

"""Out-of-sample back-test of the posterior: fit on 2015-2017, predict 2018-2019.

The figures of single years up to 2017 are the only ones that do not include 2018 or
2019 (the 2015-2019 averages and shares do): the posterior is sampled on them alone,
and every other figure is predicted from its members — the model's value under each
member plus the figure's observation noise as the likelihood has it (the figure's ``sd``,
the 5 % discrepancy and, for a yearly count, Poisson noise; normal) —
as a 90 % predictive interval. **Coverage** is the share of held-out figures whose
observed value (a range's midpoint, a lower bound's value) lies inside its interval;
a lower bound counts as covered if the interval reaches above it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from chainsim.analysis.fit import target_key
from chainsim.analysis.likelihood import DISCREPANCY_CV, is_count, span_years
from chainsim.analysis.targets import Target
from chainsim.chain.config import Scenario
from chainsim.experiments.posterior import (
    LogPosterior,
    ParameterSpace,
    PosteriorRun,
    run_posterior,
)

FIT_UNTIL = 2017
"""The last year whose figures the back-test fits."""


def split_targets(targets: dict[str, Target]) -> tuple[dict[str, Target], dict[str, Target]]:
    """``(fitted, held out)``: single-year figures up to :data:`FIT_UNTIL`, and the rest."""
    fitted = {n: t for n, t in targets.items()
              if t.scope == "by_year" and int(t.years) <= FIT_UNTIL}
    return fitted, {n: t for n, t in targets.items() if n not in fitted}


@dataclass
class Backtest:
    """The back-test's results.

    Attributes:
        run: The posterior sampled on the fitted figures.
        table: Per held-out figure: observed, predictive 5/50/95 %, covered.
    """

    run: PosteriorRun
    table: pd.DataFrame

    @property
    def coverage(self) -> float:
        """Share of held-out figures inside their 90 % predictive interval."""
        return float(self.table["covered"].mean())


def posterior_backtest(scenario: Scenario, targets: dict[str, Target], members: int = 200,
                       steps: int = 600, burn: int = 200, walkers: int | None = None,
                       seed: int = 0, progress=None, space: ParameterSpace | None = None,
                       workers: int = 1, checkpoint: Path | None = None,
                       commit: str | None = None) -> Backtest:
    """Sample on the figures up to 2017 and predict the others (see the module).

    Give ``space`` built with ``hand_set`` (as ``calibrate --posterior`` does) so that the
    scale knobs' priors do not lean on the fit to every figure; the walkers still start at
    the calibrated values, which saw 2018-2019 (the Laplace start moves them to the mode of
    the back-test's own posterior first, and the burn-in washes out the rest).
    ``workers``: processes scoring the walkers (the results do not depend on it);
    ``checkpoint``, ``commit``: as :func:`~chainsim.experiments.posterior.run_posterior`.
    """
    fitted, held = split_targets(targets)
    run = run_posterior(scenario, fitted, members=members, walkers=walkers, steps=steps,
                        burn=burn, wave_size=0, seed=seed, progress=progress, space=space,
                        workers=workers, checkpoint=checkpoint, commit=commit)
    predict = LogPosterior(run.space, held)
    points = np.column_stack([run.space.dimensions[i].to_sample(
        run.members[d.name].to_numpy()) for i, d in enumerate(run.space.dimensions)])
    metrics, _ = predict.metrics(points)
    rng = np.random.default_rng(seed)
    rows = []
    for name, t in held.items():
        key = target_key(t)
        values = np.array([m[key] if m is not None else np.nan for m in metrics], float)
        values = values[np.isfinite(values)]
        observed_noise = values + rng.normal(0.0, 1.0, len(values)) * np.sqrt(
            _observation_variance(t, values))
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
    return Backtest(run, pd.DataFrame(rows))


def _observation_variance(t: Target, mu: np.ndarray) -> np.ndarray:
    """The variance of a figure around the model's value ``mu``.

    A normal approximation of :mod:`chainsim.analysis.likelihood`'s observation model,
    without its robust part.
    """
    var = t.sd**2 + (DISCREPANCY_CV * mu) ** 2
    if is_count(t):
        var = var + np.maximum(mu, 0.0) / span_years(t)
    return var

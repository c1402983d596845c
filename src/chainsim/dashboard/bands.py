"""Comparison mode: baseline and levers over many replications with the fast engine.

Both arms run on common random numbers (:func:`chainsim.experiments.compare.compare`, engine
``fast``); replication *i* of each arm uses the same seed, so the paired
differences give narrow confidence intervals. The baseline arm does not depend on
the levers and is cached: moving a lever and comparing again only runs the
levers' arm.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from chainsim.analysis.proxies import paired_delta
from chainsim.chain.config import Scenario
from chainsim.experiments.compare import ArmReplication, compare

_BASELINE_CACHE: OrderedDict[tuple, list[ArmReplication]] = OrderedDict()
_CACHE_SIZE = 8

BAND = (0.05, 0.95)
"""Quantiles of the replication band (90 % of replications)."""


@dataclass
class Bands:
    """A baseline-vs-levers comparison.

    Attributes:
        baseline: The baseline's replications.
        current: The levers' replications (the same seeds).
        current_hash: Config hash of the levers' scenario (to tell when it is stale).
        reps: Replications per arm.
        seed: The comparison's seed.
        uncertainty: Whether the unknowns were sampled per replication.
        period: First and last absolute month of the analysis period.
        seconds: Wall time it took.
        caveat: Why the posterior ensemble's intervals are provisional, if they are.
    """

    baseline: list[ArmReplication]
    current: list[ArmReplication]
    current_hash: str
    reps: int
    seed: int
    uncertainty: bool
    period: tuple[int, int]
    seconds: float
    caveat: str | None = None

    def yearly_band(self, arm: str, metric: str) -> pd.DataFrame:
        """Mean and 90 % band of a chain metric per year (columns year, mean, lo, hi)."""
        results = self.baseline if arm == "baseline" else self.current
        table = pd.concat([r.yearly[metric].rename(r.rep) for r in results], axis=1)
        return pd.DataFrame({
            "year": table.index.to_numpy(),
            "mean": table.mean(axis=1).to_numpy(),
            "lo": table.quantile(BAND[0], axis=1).to_numpy(),
            "hi": table.quantile(BAND[1], axis=1).to_numpy(),
        })

    def survival_band(self, arm: str) -> pd.DataFrame:
        """Mean and 90 % band of the observed-general survival curve per month."""
        results = self.baseline if arm == "baseline" else self.current
        table = np.vstack([r.survival["survival"].to_numpy() for r in results])
        with np.errstate(all="ignore"):
            return pd.DataFrame({
                "month": results[0].survival["month"].to_numpy(),
                "mean": np.nanmean(table, axis=0),
                "lo": np.nanquantile(table, BAND[0], axis=0),
                "hi": np.nanquantile(table, BAND[1], axis=0),
            })

    def deltas(self, proxies: tuple[str, ...]) -> dict[str, dict]:
        """Levers minus baseline per proxy: paired mean with its 95 % CI."""
        base = _by_rep(self.baseline)
        cur = _by_rep(self.current)
        return {p: paired_delta((cur[p] - base[p]).to_numpy()) for p in proxies}

    def level(self, arm: str, proxy: str) -> dict[str, float | None]:
        """Mean of a proxy over replications with its 95 % t confidence interval."""
        values = _by_rep(self.baseline if arm == "baseline" else self.current)[proxy]
        # the t interval of a mean is the paired-delta interval of the values themselves
        interval = paired_delta(values.to_numpy(dtype=float))
        if interval["lo"] is None and interval["mean"] is not None:  # one replication
            interval["lo"] = interval["hi"] = interval["mean"]
        return {k: interval[k] for k in ("mean", "lo", "hi")}


def _by_rep(results: list[ArmReplication]) -> pd.DataFrame:
    return pd.DataFrame([{"rep": r.rep, **r.proxies} for r in results]).set_index(
        "rep").sort_index()


def run_bands(baseline: Scenario, current: Scenario, reps: int, seed: int,
              period: tuple[int, int], uncertainty: bool = False,
              progress: Callable[[int, int], None] | None = None,
              workers: int = 1) -> Bands:
    """Run (or reuse) the baseline arm and run the levers' arm.

    Args:
        baseline: The baseline scenario (cached by hash, reps, seed, period, uncertainty).
        current: The levers' scenario.
        reps: Replications per arm.
        seed: The comparison's seed.
        period: Analysis period (absolute months).
        uncertainty: Replication ``i`` of both arms uses member ``i`` of the posterior
            ensemble (``calibration/posterior.parquet``; an input error if missing).
        progress: Called with (replications done, total) as results come in.
        workers: Worker processes (results do not depend on it).
    """
    started = time.perf_counter()
    key = (baseline.config_hash(), reps, seed, period, uncertainty)
    cached = _BASELINE_CACHE.get(key)
    same = current.config_hash() == baseline.config_hash()
    total = (0 if cached is not None else reps) + (0 if same else reps)
    done = 0

    def tick(_result: ArmReplication) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    ensemble = None
    if uncertainty:
        from chainsim.experiments.ensemble import load_ensemble

        ensemble = load_ensemble()
    if cached is None:
        cached = _main(compare(baseline, [], reps=reps, seed=seed, workers=workers,
                               uncertainty=uncertainty, period=period, on_result=tick,
                               engine="fast", ensemble=ensemble, repeats=0), reps)
        _BASELINE_CACHE[key] = cached
        while len(_BASELINE_CACHE) > _CACHE_SIZE:
            _BASELINE_CACHE.popitem(last=False)
    if same:
        arm = cached
    else:
        arm = _main(compare(current, [], reps=reps, seed=seed, workers=workers,
                            uncertainty=uncertainty, period=period, on_result=tick,
                            engine="fast", ensemble=ensemble, repeats=0), reps)
    return Bands(baseline=cached, current=arm, current_hash=current.config_hash(), reps=reps,
                 seed=seed, uncertainty=uncertainty, period=period,
                 seconds=time.perf_counter() - started,
                 caveat=ensemble.caveat if ensemble is not None else None)


def _main(cmp, reps: int) -> list[ArmReplication]:
    """A comparison's main replications.

    Not the members it ran twice for the Monte Carlo part of the variance, which the
    dashboard does not show.
    """
    return [r for r in cmp.results if r.rep < reps]

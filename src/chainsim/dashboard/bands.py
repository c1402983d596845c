"""Comparison mode: baseline and levers over many replications with the fast engine.

Both arms run on common random numbers (:func:`chainsim.experiments.compare.compare`, engine
``fast``); replication *i* of each arm uses the same seed, so the paired
differences give narrow confidence intervals. The baseline arm does not depend on
the levers and is cached: moving a lever and comparing again only runs the
levers' arm.

With parameter uncertainty replication *i* of both arms uses member *i* of the posterior
ensemble, and some members are run a second time on other seeds (as ``chainsim compare
--uncertainty`` does): :meth:`Bands.effects` then gives each proxy's effect over the
posterior with :func:`chainsim.analysis.effects.effect_summary`, the same summary as the
CLI's and the report's.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from chainsim.analysis.effects import effect_summary
from chainsim.analysis.proxies import paired_delta
from chainsim.chain.config import Scenario
from chainsim.experiments.compare import ArmReplication, compare, monte_carlo_repeats

_BASELINE_CACHE: OrderedDict[tuple, tuple[list[ArmReplication], list[ArmReplication]]] = (
    OrderedDict())
"""The baseline arm's main and repeated replications, by what they depend on."""
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
        baseline_repeats: With uncertainty, the baseline's replications of members
            ``0 .. m - 1`` run again on other seeds (replications ``reps .. reps + m - 1``),
            for the Monte Carlo part of the effects' variance.
        current_repeats: The levers' replications of the same members and seeds.
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
    baseline_repeats: list[ArmReplication] = field(default_factory=list)
    current_repeats: list[ArmReplication] = field(default_factory=list)

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

    def effects(self, proxies: tuple[str, ...]) -> dict[str, dict] | None:
        """Levers minus baseline per proxy over the posterior members, with uncertainty.

        Per proxy :func:`chainsim.analysis.effects.effect_summary` of the paired
        differences (member ``i`` in replication ``i``) and of the repeated members: its
        ``prediction`` is the 90 % interval of the effect over the posterior, Monte Carlo
        noise removed, as in ``comparison_document(...)["scenarios"][name]
        ["under_uncertainty"]``. ``None`` without parameter uncertainty.
        """
        if not self.uncertainty:
            return None
        base, cur = _by_rep(self.baseline), _by_rep(self.current)
        m = len(self.baseline_repeats)
        if m and len(self.current_repeats) == m:
            base_again, cur_again = _by_rep(self.baseline_repeats), _by_rep(self.current_repeats)
        else:
            base_again = cur_again = None
        out = {}
        for p in proxies:
            d = (cur[p] - base[p]).to_numpy(dtype=float)
            again = (np.empty(0) if base_again is None
                     else (cur_again[p] - base_again[p]).to_numpy(dtype=float))
            out[p] = effect_summary(d, d[:len(again)], again, float(base[p].mean()))
        return out

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

    With ``uncertainty`` each arm also runs :func:`chainsim.experiments.compare.
    monte_carlo_repeats` members a second time (for :meth:`Bands.effects`).

    Args:
        baseline: The baseline scenario (cached by hash, reps, seed, period, uncertainty
            and the ensemble file).
        current: The levers' scenario.
        reps: Replications per arm.
        seed: The comparison's seed.
        period: Analysis period (absolute months).
        uncertainty: Replication ``i`` of both arms uses member ``i`` of the posterior
            ensemble (``calibration/posterior.parquet``; an input error if missing).
        progress: Called with (replications done, total) as results come in.
        workers: Worker processes (results do not depend on it).

    Raises:
        InputError: If the ensemble is missing, or (with ``uncertainty``) the levers'
            scenario sets a parameter the ensemble draws per member differently from the
            baseline (:func:`chainsim.experiments.ensemble.check_arms`).
    """
    started = time.perf_counter()
    ensemble = None
    if uncertainty:
        from chainsim.experiments.ensemble import check_arms, load_ensemble

        ensemble = load_ensemble()
        check_arms(baseline, [current], ensemble)  # the arms run apart: check them here
    drawn = (None if ensemble is None
             else (str(ensemble.path), ensemble.path.stat().st_mtime_ns))
    key = (baseline.config_hash(), reps, seed, period, uncertainty, drawn)
    cached = _BASELINE_CACHE.get(key)
    same = current.config_hash() == baseline.config_hash()
    repeats = monte_carlo_repeats(reps) if uncertainty else 0
    runs = reps + repeats
    total = (0 if cached is not None else runs) + (0 if same else runs)
    done = 0
    if progress is not None and total:
        progress(0, total)  # the count of runs is known before the first one

    def tick(_result: ArmReplication) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    if cached is None:
        cached = _split(compare(baseline, [], reps=reps, seed=seed, workers=workers,
                                uncertainty=uncertainty, period=period, on_result=tick,
                                engine="fast", ensemble=ensemble, repeats=repeats), reps)
        _BASELINE_CACHE[key] = cached
        while len(_BASELINE_CACHE) > _CACHE_SIZE:
            _BASELINE_CACHE.popitem(last=False)
    if same:
        arm = cached
    else:
        arm = _split(compare(current, [], reps=reps, seed=seed, workers=workers,
                             uncertainty=uncertainty, period=period, on_result=tick,
                             engine="fast", ensemble=ensemble, repeats=repeats), reps)
    return Bands(baseline=cached[0], current=arm[0], current_hash=current.config_hash(),
                 reps=reps, seed=seed, uncertainty=uncertainty, period=period,
                 seconds=time.perf_counter() - started,
                 caveat=ensemble.caveat if ensemble is not None else None,
                 baseline_repeats=cached[1], current_repeats=arm[1])


def _split(cmp, reps: int) -> tuple[list[ArmReplication], list[ArmReplication]]:
    """A comparison's main replications, and the members it ran a second time.

    The bands, levels and 95 % intervals use the main ones; the repeats only serve the
    Monte Carlo part of the effects' variance (:meth:`Bands.effects`).
    """
    return ([r for r in cmp.results if r.rep < reps],
            [r for r in cmp.results if r.rep >= reps])

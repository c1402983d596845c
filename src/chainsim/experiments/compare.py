"""Paired comparison of scenarios with a baseline, on recidivism, harm and workload proxies.

The proxies and the paired deltas are defined in :mod:`chainsim.analysis.proxies`; this
module groups the arms' replications into tasks (each one call of the replication
evaluator, :func:`chainsim.experiments.evaluate.evaluate_replication`) and gathers them.

Replication ``i`` of every arm uses the same seed sequence (and so the same
per-mechanism streams: common random numbers) and, with ``uncertainty``, the same
draw of every unknown. Deltas are scenario minus baseline per replication; their
mean comes with a 95 % confidence interval from the paired differences
(Student t with ``reps - 1`` degrees of freedom). A scenario compared with itself
gives exactly zero.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from chainsim.analysis.effects import effect_summary, posterior_influence
from chainsim.analysis.proxies import CONFIDENCE, PROXIES, default_period, paired_delta
from chainsim.chain.config import Scenario, load_scenario
from chainsim.chain.months import format_month
from chainsim.chain.streams import replication_seeds
from chainsim.chain.uncertainty import declared_unknowns, sample_unknowns
from chainsim.engines import DEFAULT_ENGINE, get_engine
from chainsim.experiments.ensemble import check_arms, replication_draws
from chainsim.experiments.evaluate import ArmResult, Outcomes, evaluate_replication
from chainsim.experiments.pool import default_workers, map_ordered

ArmReplication = ArmResult
"""One arm's results in one replication (:class:`~chainsim.experiments.evaluate.ArmResult`
with the outcomes of :func:`compare_outcomes`: proxies, yearly, window, survival, draws)."""


def compare_outcomes(period: tuple[int, int], costs=None) -> Outcomes:
    """What a comparison computes for every arm and replication."""
    return Outcomes(proxies=True, yearly=True, window=True, survival=True, period=period,
                    costs=costs)


def _replication_task(task: tuple) -> list[ArmReplication]:
    """Replication ``rep`` of some arms (all of them: they share the engine's start)."""
    arms, numbers, rep, seed, draws, period, costs, engine = task
    return evaluate_replication(arms, draws, seed, engine, compare_outcomes(period, costs), rep,
                                numbers)


def arms_together(engine: str, reps: int, workers: int) -> bool:
    """Whether a comparison's tasks are replications of every arm (else one arm each).

    Together, an engine that shares work between arms (the fast engine: their
    common start, :func:`chainsim.engines.fast.run_fast_arms`) does it once; one arm per
    task keeps every worker busy when there are fewer replications than workers,
    and the agent model has nothing to share.
    """
    return get_engine(engine).shares_arms and reps >= workers


@dataclass
class Comparison:
    """All arms of a comparison.

    Attributes:
        baseline: The baseline scenario.
        scenarios: The compared scenarios (arms 1..n).
        seed: The comparison's seed.
        reps: Replications per arm.
        uncertainty: Whether unknowns were sampled per replication.
        period: First and last month of the analysis period.
        results: Every (arm, replication) result, arm-major.
        costs: Unit costs, if given.
        engine: The engine.
        repeats: With a posterior ensemble: replications ``reps .. reps + repeats - 1``
            repeat members ``0 .. repeats - 1`` on other seeds (for the Monte Carlo part
            of the effects' variance, :mod:`chainsim.analysis.effects`); the deltas and
            levels use replications ``0 .. reps - 1`` only.
    """

    baseline: Scenario
    scenarios: list[Scenario]
    seed: int
    reps: int
    uncertainty: bool
    period: tuple[int, int]
    results: list[ArmReplication]
    costs: object = None
    engine: str = DEFAULT_ENGINE
    repeats: int = 0
    ensemble_caveat: str | None = None

    @property
    def proxy_names(self) -> tuple[str, ...]:
        """The proxies of this comparison (with ``cost_per_year`` when costs were given)."""
        return (*PROXIES, "cost_per_year") if self.costs is not None else PROXIES

    @property
    def arms(self) -> list[Scenario]:
        """Baseline first, then the scenarios."""
        return [self.baseline, *self.scenarios]

    def proxies(self) -> pd.DataFrame:
        """Proxies per arm and replication (long: arm, scenario, rep, ``repeat``, proxies).

        ``repeat``: a member's second replication (for the Monte Carlo variance), not one
        of the ``reps`` the deltas and levels use.
        """
        rows = [{"arm": r.arm, "scenario": self.arms[r.arm].name, "rep": r.rep,
                 "repeat": r.rep >= self.reps, **r.proxies} for r in self.results]
        return pd.DataFrame(rows)

    def deltas(self) -> pd.DataFrame:
        """Scenario minus baseline, paired by replication, for every proxy.

        One row per scenario and proxy (columns ``scenario``, ``proxy``, ``mean``,
        ``lo``, ``hi``, ``n``): the mean difference with its 95 % t confidence
        interval, as in the ``deltas`` of :func:`comparison_document`
        (:func:`chainsim.analysis.proxies.paired_delta`).
        """
        rows = [{"scenario": sc.name, "proxy": p,
                 **paired_delta((arm[p] - base[p]).to_numpy())}
                for sc, base, arm in self._paired() for p in self.proxy_names]
        return pd.DataFrame(rows, columns=["scenario", "proxy", "mean", "lo", "hi", "n"])

    def _paired(self, repeats: bool = False
                ) -> Iterator[tuple[Scenario, pd.DataFrame, pd.DataFrame]]:
        """Each scenario with the baseline's and its own proxies, by replication.

        The main replications, or with ``repeats`` the repeated members' (indexed by member).
        """
        table = self.proxies()
        keep = table["rep"] >= self.reps if repeats else table["rep"] < self.reps
        table = table[keep].assign(rep=table["rep"][keep] - (self.reps if repeats else 0))
        base = table[table["arm"] == 0].set_index("rep").sort_index()
        for a, sc in enumerate(self.scenarios, start=1):
            yield sc, base, table[table["arm"] == a].set_index("rep").sort_index()

    def draws(self) -> pd.DataFrame:
        """The unknowns' sampled values per (main) replication (empty without uncertainty)."""
        rows = [{"rep": r.rep, **r.draws} for r in self.results
                if r.arm == 0 and r.rep < self.reps]
        return pd.DataFrame(rows)

    def yearly(self) -> pd.DataFrame:
        """Chain metrics per arm, (main) replication and year."""
        return self._labelled([r.yearly for r in self.main()],
                              ignore_index=False).rename_axis("year").reset_index()

    def survival(self) -> pd.DataFrame:
        """Kaplan-Meier curves of observed general recidivism per arm and (main) replication."""
        return self._labelled([r.survival for r in self.main()], ignore_index=True)

    def main(self) -> list[ArmReplication]:
        """The main replications (not the members run twice)."""
        return [r for r in self.results if r.rep < self.reps]

    def _labelled(self, frames: list[pd.DataFrame], ignore_index: bool) -> pd.DataFrame:
        """The results' frames one under the other, with columns arm, scenario and rep."""
        table = pd.concat(frames, ignore_index=ignore_index)
        sizes = [len(f) for f in frames]
        results = self.main()
        names = np.array([sc.name for sc in self.arms], dtype=object)
        arm = np.repeat(np.array([r.arm for r in results], dtype=np.int64), sizes)
        return table.assign(arm=arm, scenario=names[arm],
                            rep=np.repeat(np.array([r.rep for r in results],
                                                   dtype=np.int64), sizes))


def compare(baseline: Scenario, scenarios: list[Scenario], reps: int = 20, seed: int = 0,
            workers: int | None = None, uncertainty: bool = False,
            period: tuple[int, int] | None = None, on_result=None,
            costs=None, engine: str = DEFAULT_ENGINE, scheduler: str | None = None,
            ensemble=None, repeats: int | None = None) -> Comparison:
    """Run baseline and scenarios on common random numbers.

    Args:
        baseline: The baseline scenario.
        scenarios: Scenarios to compare with it.
        reps: Replications per arm.
        seed: Seed of the comparison; replication ``i`` of every arm uses
            ``SeedSequence(seed).spawn(reps)[i]``.
        workers: Worker processes (default one per core); results do not depend on it.
        uncertainty: Sample the declared unknowns once per replication, shared by
            all arms (an intervention's uncertain effect only exists in its arm).
        period: First and last absolute month of the analysis period (default:
            :func:`default_period`).
        on_result: Called with each :class:`ArmReplication` as it is gathered
            (arm by arm, or replication by replication: see :func:`arms_together`).
        costs: Unit costs (:class:`chainsim.chain.costs.UnitCosts`); adds the proxy
            ``cost_per_year``.
        engine: ``fast`` (the vectorised engine, default) or ``agents`` (the Mesa
            agent model, the reference: the same records, slower).
        scheduler: Address of a Dask scheduler to run on (same results as local).
        ensemble: A posterior ensemble (:class:`chainsim.experiments.ensemble.Ensemble`):
            with ``uncertainty``, replication ``i`` of every arm uses member ``i``. A
            scenario whose ``[parameters]`` or ``[unknowns]`` entry of a parameter the
            ensemble sets differs from the baseline's is refused
            (:func:`chainsim.experiments.ensemble.check_arms`): the member would replace
            it; such a change must be an intervention.
        repeats: Members run a second time for the Monte Carlo part of the effects'
            variance (default :func:`monte_carlo_repeats`; 0 for none).

    Returns:
        The comparison.

    Raises:
        InputError: If the scenarios do not share the baseline's horizon, or (with an
            ensemble) an arm sets a parameter the ensemble draws per member.
    """
    arms = [baseline, *scenarios]
    horizons = {(sc.scenario.start, sc.scenario.end) for sc in arms}
    if len(horizons) > 1:
        from chainsim.chain.errors import InputError

        raise InputError.single(scenarios[0].name, "scenario.start/end", sorted(horizons),
                                "every compared scenario must share the baseline's horizon")
    period = period or default_period(arms)
    if not (uncertainty and ensemble is not None):
        repeats = 0
    if uncertainty and ensemble is not None:
        check_arms(baseline, list(scenarios), ensemble)  # a member would undo an arm's setting
        repeats = monte_carlo_repeats(reps) if repeats is None else min(repeats, reps)
        seeds = replication_seeds(seed, reps + repeats)
        members = replication_draws(arms, seeds[:reps], ensemble)
        draws = members + members[:repeats]  # the same member (and effect sizes), new seeds
    else:
        seeds = replication_seeds(seed, reps)
        unknowns = declared_unknowns(arms) if uncertainty else {}
        draws = [sample_unknowns(unknowns, s) if uncertainty else {} for s in seeds]
    workers = default_workers(reps * len(arms)) if workers is None else workers
    total = len(seeds)
    if arms_together(engine, total, workers):
        tasks = [(arms, range(len(arms)), i, seeds[i], draws[i], period, costs, engine)
                 for i in range(total)]
    else:
        tasks = [([sc], [a], i, seeds[i], draws[i], period, costs, engine)
                 for a, sc in enumerate(arms) for i in range(total)]
    by_arm: list[list[ArmReplication]] = [[] for _ in arms]
    for results in map_ordered(_replication_task, tasks, workers, scheduler=scheduler):
        for result in results:
            if on_result is not None:
                on_result(result)
            by_arm[result.arm].append(result)
    return Comparison(baseline, list(scenarios), seed, reps, uncertainty, period,
                      [r for arm in by_arm for r in arm], costs, engine, repeats,
                      ensemble.caveat if uncertainty and ensemble is not None else None)


def monte_carlo_repeats(reps: int) -> int:
    """Members replicated a second time under uncertainty: a quarter, 10 to ``reps``.

    Enough pairs to estimate the Monte Carlo variance: its relative se is
    ``sqrt(2 / pairs)`` (:func:`monte_carlo_precision`), 45 % at 10 pairs, 20 % at 50
    (200 replications), 14 % at 100 (400).
    """
    return min(reps, max(10, reps // 4))


FIRM_SPLIT_REPS = 400
"""Replications under uncertainty from which the split of an effect's spread into chance
and parameters (and the interval over the posterior it shrinks) is firm enough to say which
dominates: their 100 repeated members estimate the Monte Carlo variance within about 14 %.
On the committed ensemble the parameters' share of true reoffending's effect at 5 years was
24 % with 200 replications, 55 % with 400 and 51 % with 800 (``docs/calibration.md``,
"How many replications")."""


def monte_carlo_precision(repeats: int) -> float:
    """Relative standard error of the Monte Carlo variance from ``repeats`` repeated members."""
    return math.sqrt(2.0 / repeats) if repeats > 0 else math.inf


def compare_scenarios(baseline: Scenario | str | Path, *scenarios: Scenario | str | Path,
                      reps: int = 20, seed: int = 0, engine: str = DEFAULT_ENGINE,
                      workers: int | None = None, uncertainty: bool = False, costs=None,
                      scheduler: str | None = None) -> Comparison:
    """:func:`compare` for the public API: ``chainsim.compare(baseline, *scenarios)``.

    Scenarios may be given as validated scenarios or as paths of scenario files.
    The other arguments are those of :func:`compare`. The result's
    :meth:`Comparison.deltas` is the table of paired deltas.
    """
    arms = [sc if isinstance(sc, Scenario) else load_scenario(sc)
            for sc in (baseline, *scenarios)]
    return compare(arms[0], arms[1:], reps=reps, seed=seed, workers=workers,
                   uncertainty=uncertainty, costs=costs, engine=engine, scheduler=scheduler)


def comparison_document(cmp: Comparison, min_effect: float = 0.0) -> dict:
    """The comparison as a JSON-ready dict (``chainsim compare --json``).

    Keys: ``baseline``, ``seed``, ``reps``, ``engine``, ``uncertainty``,
    ``period``, ``confidence``, ``baseline_levels``, ``scenarios`` ->
    ``{name: {"config_hash", "deltas": {proxy: {mean, lo, hi, n}},
    "levels": {proxy: {mean, lo, hi}}}}``, and ``unknowns`` (influence of each
    sampled unknown on each scenario's deltas, with ``uncertainty``).

    With a posterior ensemble (``repeats``) each scenario also has ``under_uncertainty``:
    per proxy :func:`chainsim.analysis.effects.effect_summary` (prediction interval of
    the effect over the posterior, probability of a reduction — beyond ``min_effect``,
    a fraction of the baseline level — and the Monte Carlo and parameter parts of the
    variance), and ``unknown_influence`` is the first-order variance share of each
    parameter over the members (:func:`chainsim.analysis.effects.posterior_influence`).
    """
    from chainsim.experiments.summary import describe, versions

    table = cmp.proxies()
    table = table[table["rep"] < cmp.reps]
    base = table[table["arm"] == 0].set_index("rep").sort_index()
    doc = {
        "baseline": cmp.baseline.name,
        "baseline_config_hash": cmp.baseline.config_hash(),
        "seed": cmp.seed,
        "reps": cmp.reps,
        "engine": cmp.engine,
        "uncertainty": cmp.uncertainty,
        "versions": versions(),
        "period": [format_month(cmp.period[0]), format_month(cmp.period[1])],
        "confidence": CONFIDENCE,
        "unit_costs": cmp.costs.model_dump() if cmp.costs is not None else None,
        "ensemble_repeats": cmp.repeats,
        "ensemble_caveat": cmp.ensemble_caveat,
        "min_effect": min_effect,
        "baseline_levels": {p: describe(base[p]) for p in cmp.proxy_names},
        "scenarios": {},
    }
    draws = cmp.draws().set_index("rep").sort_index() if cmp.uncertainty else None
    for a, sc in enumerate(cmp.scenarios, start=1):
        arm = table[table["arm"] == a].set_index("rep").sort_index()
        entry = {
            "config_hash": sc.config_hash(),
            "deltas": {p: paired_delta((arm[p] - base[p]).to_numpy())
                       for p in cmp.proxy_names},
            "levels": {p: describe(arm[p]) for p in cmp.proxy_names},
        }
        names = list(cmp.proxy_names)
        if cmp.repeats and draws is not None:
            entry["under_uncertainty"] = _under_uncertainty(cmp, sc, arm[names] - base[names],
                                                            base, min_effect)
            entry["unknown_influence"] = posterior_influence(
                {p: (arm[p] - base[p]).to_numpy() for p in names},
                {k: draws[k].to_numpy() for k in draws.columns}, seed=cmp.seed)
        elif draws is not None and len(draws.columns):
            entry["unknown_influence"] = unknown_influence(arm[names] - base[names], draws)
        doc["scenarios"][sc.name] = entry
    return doc


def _under_uncertainty(cmp: Comparison, sc: Scenario, deltas: pd.DataFrame,
                       base: pd.DataFrame, min_effect: float) -> dict[str, dict]:
    """Per proxy, the effect's summary over the posterior members (with the repeats)."""
    repeat = next(arm[list(cmp.proxy_names)] - b[list(cmp.proxy_names)]
                  for s, b, arm in cmp._paired(repeats=True) if s is sc)
    m = cmp.repeats
    return {p: effect_summary(deltas[p].to_numpy(), deltas[p].to_numpy()[:m],
                              repeat[p].to_numpy(), float(base[p].mean()), min_effect)
            for p in cmp.proxy_names}


def unknown_influence(deltas: pd.DataFrame, draws: pd.DataFrame) -> dict[str, dict[str, float]]:
    """How much each unknown moves each delta: Spearman rank correlation over replications.

    With ``--uncertainty`` every replication has its own draw of the unknowns; a
    rank correlation near +-1 means the unknown drives the delta, near 0 that the
    conclusion does not hinge on it (given the replication noise).
    """
    from scipy.stats import spearmanr

    out: dict[str, dict[str, float]] = {}
    for unknown in draws.columns:
        x = draws[unknown].to_numpy()
        row = {}
        for proxy in deltas.columns:
            y = deltas[proxy].to_numpy()
            ok = ~np.isnan(y)
            if ok.sum() < 3 or np.all(x[ok] == x[ok][0]) or np.all(y[ok] == y[ok][0]):
                row[proxy] = None
                continue
            row[proxy] = round(float(spearmanr(x[ok], y[ok]).statistic), 4)
        out[unknown] = row
    return out


"""Replications of a scenario: seeds, parallel workers, results.

Replication ``i`` of a run with seed ``S`` uses ``SeedSequence(S).spawn(reps)[i]``,
so its numbers do not depend on how many workers run or in which order they
finish; results are always gathered in replication order. Each replication is one
call of the replication evaluator (:func:`chainsim.experiments.evaluate.evaluate_replication`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from chainsim.chain.config import Scenario
from chainsim.chain.parameters import ParameterSet, resolve
from chainsim.chain.streams import replication_seeds
from chainsim.chain.uncertainty import declared_unknowns, sample_unknowns
from chainsim.engines import DEFAULT_ENGINE
from chainsim.experiments.ensemble import replication_draws
from chainsim.experiments.evaluate import (
    ArmResult,
    Outcomes,
    evaluate_replication,
    simulate_records,
)
from chainsim.experiments.pool import default_workers, map_ordered

Replication = ArmResult
"""What one replication of a scenario produced (:class:`~chainsim.experiments.evaluate.ArmResult`
with the outcomes of :func:`run_outcomes`: records, yearly, window, shares, flows,
recidivism; ``draws`` empty at central values)."""


def run_outcomes(keep_records: bool = True) -> Outcomes:
    """What a run computes for every replication (records kept if asked)."""
    return Outcomes(records=keep_records, yearly=True, window=True, shares=True, flows=True,
                    recidivism=True)


def simulate(params: ParameterSet, seed: np.random.SeedSequence,
             engine: str = DEFAULT_ENGINE) -> pd.DataFrame:
    """One replication's event records from the chosen engine (see :mod:`chainsim.engines`)."""
    return simulate_records(params, seed, engine).frame


def run_replication(params: ParameterSet, seed: np.random.SeedSequence, rep: int = 0,
                    keep_records: bool = True, engine: str = DEFAULT_ENGINE) -> Replication:
    """Run one replication and summarise it (:func:`evaluate_replication` of one arm).

    Args:
        params: Resolved parameters.
        seed: This replication's seed sequence.
        rep: Its index (stored in the result).
        keep_records: Return the full record table too.
        engine: An engine of :data:`chainsim.engines.ENGINES` (default ``fast``).

    Returns:
        The replication's results.
    """
    return evaluate_replication([params], {}, seed, engine, run_outcomes(keep_records), rep)[0]


def _worker(args: tuple) -> Replication:
    scenario, params, draws, seed, rep, keep, engine = args
    arm = scenario if params is None else params
    return evaluate_replication([arm], draws, seed, engine, run_outcomes(keep), rep)[0]


def iter_replications(scenario: Scenario, params: ParameterSet, seed: int, reps: int,
                      workers: int = 1, keep_records: bool = True,
                      uncertainty: bool = False, engine: str = DEFAULT_ENGINE,
                      scheduler: str | None = None, ensemble=None) -> Iterator[Replication]:
    """Yield the replications in order, computed by ``workers`` processes.

    Args:
        scenario: The validated scenario.
        params: Its parameters at the central values of the unknowns.
        seed: The run's seed.
        reps: Number of replications.
        workers: Worker processes (1 runs in this process).
        keep_records: Keep each replication's record table.
        uncertainty: Sample the declared unknowns anew for every replication.
        engine: ``fast`` (default) or ``agents`` (see :mod:`chainsim.engines`).
        scheduler: Address of a Dask scheduler to run on instead of local workers.
        ensemble: A posterior ensemble: with ``uncertainty``, replication ``i`` uses
            member ``i`` (:func:`chainsim.experiments.ensemble.replication_draws`).
    """
    seeds = replication_seeds(seed, reps)
    if uncertainty and ensemble is not None:
        draws = replication_draws([scenario], seeds, ensemble)
    else:
        unknowns = declared_unknowns([scenario]) if uncertainty else {}
        draws = [sample_unknowns(unknowns, s) for s in seeds] if uncertainty else None
    tasks = [
        (scenario, None, draws[i], s, i, keep_records, engine)
        if uncertainty else (scenario, params, {}, s, i, keep_records, engine)
        for i, s in enumerate(seeds)
    ]
    yield from map_ordered(_worker, tasks, workers, scheduler=scheduler)


@dataclass
class RunResult:
    """All replications of one scenario.

    Attributes:
        scenario: The validated scenario.
        params: Its resolved parameters.
        seed: The run's seed.
        reps: The replications, in order (records dropped once written).
        engine: The engine that produced them.
    """

    scenario: Scenario
    params: ParameterSet
    seed: int
    reps: list[Replication] = field(default_factory=list)
    engine: str = DEFAULT_ENGINE
    uncertainty: bool = False

    def yearly(self) -> pd.DataFrame:
        """Metrics per replication and year (long: rep, year, metric columns)."""
        return pd.concat([r.yearly.assign(rep=r.rep) for r in self.reps]).rename_axis(
            "year").reset_index()

    def flows(self) -> pd.DataFrame:
        """Annual flows by event, form and age group, per replication."""
        return pd.concat([r.flows.assign(rep=r.rep) for r in self.reps], ignore_index=True)


def run(scenario: Scenario, reps: int = 20, seed: int = 0, workers: int | None = None,
        on_replication: Callable[[Replication], None] | None = None,
        params: ParameterSet | None = None, uncertainty: bool = False,
        engine: str = DEFAULT_ENGINE, scheduler: str | None = None,
        ensemble=None) -> RunResult:
    """Run a scenario's replications.

    Args:
        scenario: The validated scenario.
        reps: Number of replications (at least 1).
        seed: The run's seed.
        workers: Worker processes (default: one per core).
        on_replication: Called with each replication in order (e.g. to stream
            its records to disk); the records are dropped afterwards.
        params: Resolved parameters, if already at hand.
        uncertainty: Sample the declared unknowns for every replication
            (triangular on their ranges); otherwise use their central values.
        engine: ``fast`` (the vectorised engine, default) or ``agents`` (the Mesa
            agent model, the reference: the same records, slower); see
            :mod:`chainsim.engines`.
        scheduler: Address of a Dask scheduler (``tcp://host:port``) to run the
            replications on; the results are the same as with local workers.
        ensemble: A posterior ensemble: with ``uncertainty``, replication ``i`` uses
            member ``i``.

    Returns:
        The results of every replication.
    """
    params = params or resolve(scenario)
    result = RunResult(scenario, params, seed, uncertainty=uncertainty, engine=engine)
    workers = default_workers(reps) if workers is None else workers
    for rep in iter_replications(scenario, params, seed, reps, workers,
                                 uncertainty=uncertainty, engine=engine,
                                 scheduler=scheduler, ensemble=ensemble):
        if on_replication is not None:
            on_replication(rep)
        rep.records = None
        result.reps.append(rep)
    return result

"""Replications of a scenario: seeds, parallel workers, results.

Replication ``i`` of a run with seed ``S`` uses ``SeedSequence(S).spawn(reps)[i]``,
so its numbers do not depend on how many workers run or in which order they
finish; results are always gathered in replication order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from chainsim.analysis import flows, recidivism
from chainsim.chain.config import Scenario
from chainsim.chain.parameters import ParameterSet, resolve
from chainsim.chain.streams import replication_seeds
from chainsim.chain.uncertainty import declared_unknowns, sample_unknowns
from chainsim.engines import DEFAULT_ENGINE, get_engine
from chainsim.engines.records import RecordArrays
from chainsim.experiments.pool import default_workers, map_ordered


@dataclass
class Replication:
    """What one replication produced.

    Attributes:
        rep: Replication index.
        records: The event records (``None`` if not kept).
        yearly: Metrics per calendar year (rows: years, columns: metrics).
        window: Per-year averages over 2015-2019 of every metric.
        shares: Offender mix shares over 2015-2019.
        flows: Annual flows by event, form and age group.
        recidivism: Recidivism proxies of the 2015-2019 release cohort: ``overall``
            and ``by_form``, ``by_age_group``, ``by_probation``.
        draws: Sampled values of the unknowns (empty at central values).
    """

    rep: int
    records: pd.DataFrame | None
    yearly: pd.DataFrame
    window: dict[str, float]
    shares: dict[str, float]
    flows: pd.DataFrame
    recidivism: dict[str, dict] = field(default_factory=dict)
    draws: dict[str, float] = field(default_factory=dict)


def simulate(params: ParameterSet, seed: np.random.SeedSequence,
             engine: str = DEFAULT_ENGINE) -> pd.DataFrame:
    """One replication's event records from the chosen engine (see :mod:`chainsim.engines`)."""
    return simulate_records(params, seed, engine).frame


def simulate_records(params: ParameterSet, seed: np.random.SeedSequence,
                     engine: str = DEFAULT_ENGINE) -> RecordArrays:
    """One replication's event records, as the record arrays the analyses share.

    The fast engine hands over its columns and the rows' offender order (it knows
    it from its offender indexes): no DataFrame is built unless an analysis asks
    for one, and the analyses need not sort the table by offender.
    """
    return get_engine(engine).records(params, seed)


def simulate_arms(params: list[ParameterSet], seed: np.random.SeedSequence,
                  engine: str = DEFAULT_ENGINE) -> Iterator[RecordArrays]:
    """:func:`simulate_records` of several arms on one seed (common random numbers).

    An engine that shares work between arms that begin alike does so
    (:attr:`chainsim.engines.Engine.shares_arms`); the records are those of
    separate runs. Yields the arms' records one at a time, in order.
    """
    return get_engine(engine).arms_records(params, seed)


def run_replication(params: ParameterSet, seed: np.random.SeedSequence, rep: int = 0,
                    keep_records: bool = True, engine: str = DEFAULT_ENGINE) -> Replication:
    """Run one replication and summarise it.

    Args:
        params: Resolved parameters.
        seed: This replication's seed sequence.
        rep: Its index (stored in the result).
        keep_records: Return the full record table too.
        engine: An engine of :data:`chainsim.engines.ENGINES` (default ``fast``).

    Returns:
        The replication's results.
    """
    rec = simulate_records(params, seed, engine)  # the analyses below share its arrays
    records = rec.frame
    years = params.years
    cohort = (flows.WINDOW[0] * 12, flows.WINDOW[1] * 12 + 11, int(params.months[-1]))
    by_probation = recidivism.recidivism_by(rec, "probation", *cohort)
    return Replication(
        rep=rep,
        records=records if keep_records else None,
        yearly=flows.annual_metrics(rec, years),
        window=flows.window_metrics(rec, simulated=(years[0], years[-1])),
        shares=flows.mix_shares(rec),
        flows=flows.flow_table(rec, years),
        recidivism={
            "overall": recidivism.recidivism_table(rec, *cohort),
            "by_form": recidivism.recidivism_by(rec, "form", *cohort),
            "by_age_group": recidivism.recidivism_by(rec, "age_group", *cohort),
            "by_probation": {("supervised" if k else "unsupervised"): v
                             for k, v in by_probation.items()},
        },
    )


def _worker(args: tuple) -> Replication:
    scenario, params, draws, seed, rep, keep, engine = args
    if params is None:
        params = resolve(scenario, draws=draws)
    result = run_replication(params, seed, rep, keep, engine)
    result.draws = draws
    return result


def iter_replications(scenario: Scenario, params: ParameterSet, seed: int, reps: int,
                      workers: int = 1, keep_records: bool = True,
                      uncertainty: bool = False, engine: str = DEFAULT_ENGINE,
                      scheduler: str | None = None) -> Iterator[Replication]:
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
    """
    seeds = replication_seeds(seed, reps)
    unknowns = declared_unknowns([scenario]) if uncertainty else {}
    tasks = [
        (scenario, None, sample_unknowns(unknowns, s), s, i, keep_records, engine)
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
        engine: str = DEFAULT_ENGINE, scheduler: str | None = None) -> RunResult:
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

    Returns:
        The results of every replication.
    """
    params = params or resolve(scenario)
    result = RunResult(scenario, params, seed, uncertainty=uncertainty, engine=engine)
    workers = default_workers(reps) if workers is None else workers
    for rep in iter_replications(scenario, params, seed, reps, workers,
                                 uncertainty=uncertainty, engine=engine,
                                 scheduler=scheduler):
        if on_replication is not None:
            on_replication(rep)
        rep.records = None
        result.reps.append(rep)
    return result

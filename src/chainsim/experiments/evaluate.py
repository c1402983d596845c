"""The replication evaluator: one replication of some arms, turned into results.

:func:`evaluate_replication` is the per-replication work of ``run``, ``compare``
(and so the dashboard's bands) and sweeps: resolve each arm's parameters with the
replication's draws of the unknowns, simulate the arms on the replication's seed
through the engine registry (common random numbers; an engine that shares work
between arms that begin alike does so), and compute the asked :class:`Outcomes`
of each arm as its records come. The callers differ only in how they group tasks
and write results.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from chainsim.analysis import flows, recidivism
from chainsim.analysis.proxies import arm_proxies, victims_per_offender, with_costs
from chainsim.chain.config import Scenario
from chainsim.chain.parameters import ParameterSet, resolve
from chainsim.engines import DEFAULT_ENGINE, get_engine
from chainsim.engines.records import RecordArrays
from chainsim.experiments.ensemble import split_draws, with_knobs


@dataclass(frozen=True)
class Outcomes:
    """Which results :func:`evaluate_replication` computes for every arm.

    Attributes:
        records: Keep the record table (a DataFrame).
        yearly: Chain metrics per calendar year.
        window: Per-year averages over 2015-2019 of every metric.
        shares: Offender mix shares over 2015-2019.
        flows: Annual flows by event, form and age group.
        recidivism: Recidivism proxies of the 2015-2019 release cohort (``overall``,
            ``by_form``, ``by_age_group``, ``by_probation``, ``by_sanction``) and its
            ``cohort`` table (:func:`chainsim.analysis.recidivism.cohort_table`, what
            the validation targets are evaluated on).
        survival: Kaplan-Meier curve of observed general recidivism, cohort of
            ``period``, followed to its end.
        proxies: The comparison's proxies over ``period``
            (:func:`chainsim.analysis.proxies.arm_proxies`), with ``cost_per_year``
            when ``costs`` are given.
        period: First and last absolute month of the analysis period (for
            ``survival`` and ``proxies``).
        costs: Unit costs (:class:`chainsim.chain.costs.UnitCosts`) or ``None``.
    """

    records: bool = False
    yearly: bool = False
    window: bool = False
    shares: bool = False
    flows: bool = False
    recidivism: bool = False
    survival: bool = False
    proxies: bool = False
    period: tuple[int, int] | None = None
    costs: object = None


@dataclass
class ArmResult:
    """One arm's results in one replication; outcomes not asked for are ``None``.

    Attributes:
        arm: Arm index (0 = baseline; 0 in a run of one scenario).
        rep: Replication index.
        proxies: Proxy name -> value.
        yearly: Metrics per calendar year (rows: years, columns: metrics).
        window: Per-year averages over 2015-2019 of every metric.
        survival: Kaplan-Meier curve of observed general recidivism.
        draws: Sampled values of the unknowns (empty at central values).
        records: The event records.
        shares: Offender mix shares over 2015-2019.
        flows: Annual flows by event, form and age group.
        recidivism: Recidivism proxies of the 2015-2019 release cohort: ``overall``
            and ``by_form``, ``by_age_group``, ``by_probation``, ``by_sanction``; and
            ``cohort``, its cohort table (a DataFrame, one row per index offender).
    """

    arm: int = 0
    rep: int = 0
    proxies: dict[str, float] | None = None
    yearly: pd.DataFrame | None = None
    window: dict[str, float] | None = None
    survival: pd.DataFrame | None = None
    draws: dict[str, float] = field(default_factory=dict)
    records: pd.DataFrame | None = None
    shares: dict[str, float] | None = None
    flows: pd.DataFrame | None = None
    recidivism: dict[str, dict | pd.DataFrame] | None = None


_PARAMS_CACHE: dict[tuple, ParameterSet] = {}
"""Resolved parameters in this (worker) process (see :func:`resolve_cached`)."""


def resolve_cached(scenario: Scenario, draws: Mapping[str, float]) -> ParameterSet:
    """``resolve(scenario, draws=draws)``, resolved once per process for equal inputs.

    A worker runs many replications of the same arms; without ``--uncertainty``
    every one has the same parameters. The key is the scenario's full content
    (its JSON dump, which the config hash digests) and the draws.
    """
    key = (scenario.model_dump_json(), tuple(sorted(draws.items())))
    params = _PARAMS_CACHE.get(key)
    if params is None:
        if len(_PARAMS_CACHE) >= 16:
            _PARAMS_CACHE.clear()
        knobs, rest = split_draws(dict(draws))  # a posterior member's knobs, unknowns
        params = _PARAMS_CACHE[key] = resolve(with_knobs(scenario, knobs), draws=rest)
    return params


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


def evaluate_replication(arms: Sequence[Scenario | ParameterSet], draws: Mapping[str, float],
                         seed: np.random.SeedSequence, engine: str, outcomes: Outcomes,
                         rep: int = 0, numbers: Sequence[int] | None = None
                         ) -> list[ArmResult]:
    """One replication of some arms on common random numbers: one result per arm.

    Args:
        arms: The arms' scenarios (resolved with ``draws`` through
            :func:`resolve_cached`) or their resolved parameters.
        draws: This replication's values of the unknowns (or a sweep point's factor
            values); an arm's resolution reads the ones that concern it.
        seed: This replication's seed sequence (the same for every arm).
        engine: An engine of :data:`chainsim.engines.ENGINES`.
        outcomes: What to compute for every arm.
        rep: The replication's index (stored in the results).
        numbers: The arms' indices (stored in the results; default ``0, 1, ...``).

    Returns:
        The arms' results, in order. Each arm is analysed as its records come, so
        one arm's records are held at a time.
    """
    params = [a if isinstance(a, ParameterSet) else resolve_cached(a, draws) for a in arms]
    numbers = range(len(params)) if numbers is None else numbers
    records = simulate_arms(params, seed, engine)
    return [_evaluate_arm(arm, rep, p, rec, dict(draws), outcomes)
            for arm, p, rec in zip(numbers, params, records, strict=True)]


def _evaluate_arm(arm: int, rep: int, params: ParameterSet, rec: RecordArrays,
                  draws: dict[str, float], outcomes: Outcomes) -> ArmResult:
    years = params.years
    result = ArmResult(arm=arm, rep=rep, draws=draws)
    if outcomes.records:
        result.records = rec.frame
    period = outcomes.period
    if outcomes.proxies:
        result.proxies = with_costs(arm_proxies(rec, period, victims_per_offender(params)),
                                    outcomes.costs)
    if outcomes.yearly:
        result.yearly = flows.annual_metrics(rec, years)
    if outcomes.window:
        result.window = flows.window_metrics(rec, simulated=(years[0], years[-1]))
    if outcomes.shares:
        result.shares = flows.mix_shares(rec)
    if outcomes.flows:
        result.flows = flows.flow_table(rec, years)
    if outcomes.survival:
        result.survival = recidivism.survival_curve(rec, "observed_general", period[0],
                                                    period[1], period[1])
    if outcomes.recidivism:
        cohort = (flows.WINDOW[0] * 12, flows.WINDOW[1] * 12 + 11, int(params.months[-1]))
        by_probation = recidivism.recidivism_by(rec, "probation", *cohort)
        result.recidivism = {
            "overall": recidivism.recidivism_table(rec, *cohort),
            "by_form": recidivism.recidivism_by(rec, "form", *cohort),
            "by_age_group": recidivism.recidivism_by(rec, "age_group", *cohort),
            "by_probation": {("supervised" if k else "unsupervised"): v
                             for k, v in by_probation.items()},
            "by_sanction": recidivism.recidivism_by(rec, "sanction", *cohort),
            "cohort": recidivism.cohort_table(rec, *cohort),
        }
    return result

"""One run of the fast engine for a scenario: what the dashboard shows at once.

A projection is the whole horizon of one replication (:func:`chainsim.engines.fast.run_fast`,
identical records to the agent model for the same seed), summarised into the
chain's yearly flows, the 2015-2019 window beside the source, a later window after
the levers, and recidivism curves. It takes a fraction of a second, so it follows
every lever move; projections are cached by scenario hash, seed and period.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import pandas as pd

from chainsim.analysis import flows, recidivism
from chainsim.chain.config import Scenario
from chainsim.chain.parameters import ParameterSet, resolve
from chainsim.engines.fast import run_fast

_CACHE: OrderedDict[tuple, Projection] = OrderedDict()
_CACHE_SIZE = 16


@dataclass
class Projection:
    """A scenario's single-run summary.

    Attributes:
        scenario: The scenario.
        params: Its resolved parameters.
        seed: The run's seed.
        period: First and last month of the recidivism cohort (the lever period).
        records: The event records.
        yearly: Chain metrics per calendar year (:func:`chainsim.analysis.flows.annual_metrics`).
        window: 2015-2019 per-year averages.
        labour_window: The same for labour exploitation only.
        survival: Kaplan-Meier curves per recidivism kind (columns ``month``,
            ``survival``, ...), cohort released or sanctioned in the period.
        recidivism: Prevalence after 2, 5 and 7 years per kind, same cohort.
    """

    scenario: Scenario
    params: ParameterSet
    seed: int
    period: tuple[int, int]
    records: pd.DataFrame
    yearly: pd.DataFrame
    window: dict[str, float]
    labour_window: dict[str, float]
    survival: dict[str, pd.DataFrame]
    recidivism: dict[str, float]

    def years_mean(self, first: int, last: int) -> dict[str, float]:
        """Per-year average of every count metric over ``first..last`` (inclusive)."""
        rows = self.yearly.loc[(self.yearly.index >= first) & (self.yearly.index <= last)]
        return {k: float(v) for k, v in rows.mean().items()}


def project(scenario: Scenario, seed: int, period: tuple[int, int]) -> Projection:
    """The projection of a scenario (cached).

    Args:
        scenario: A validated scenario.
        seed: The run's seed.
        period: First and last absolute month of the recidivism cohort.
    """
    key = (scenario.config_hash(), scenario.name, seed, period)
    hit = _CACHE.get(key)
    if hit is not None:
        _CACHE.move_to_end(key)
        return hit
    params = resolve(scenario)
    records = run_fast(params, seed).records
    years = params.years
    horizon = int(params.months[-1])
    labour = records[records["form"] == "labour"]
    cohort = (period[0], period[1], horizon)
    result = Projection(
        scenario=scenario, params=params, seed=seed, period=period, records=records,
        yearly=flows.annual_metrics(records, years),
        window=flows.window_metrics(records, simulated=(years[0], years[-1])),
        labour_window=flows.window_metrics(labour, simulated=(years[0], years[-1])),
        survival={kind: recidivism.survival_curve(records, kind, *cohort)
                  for kind in recidivism.KINDS},
        recidivism=recidivism.recidivism_table(records, *cohort),
    )
    _CACHE[key] = result
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return result

"""The outcomes of a replication: the proxies a comparison, a sweep and the dashboard report.

Every proxy is a function of one replication's event records (and, for the harm
proxies, of the victims per offender) over an analysis period:

- recidivism (:data:`RECIDIVISM_PROXIES`): WODC-style prevalence of a new case within
  2, 5 and 7 years of release from prison or a non-custodial sanction, observed
  (general, specific) and true;
- harm and workload (:data:`HARM_PROXIES`), per year of the period;
- ``cost_per_year`` when unit costs are given (:func:`with_costs`).

Deltas between arms are paired (:func:`paired_delta`): scenario minus baseline per
replication, with a Student t confidence interval. :mod:`chainsim.experiments.compare`,
:mod:`chainsim.experiments.sweep` and the dashboard read them from here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from chainsim import chain
from chainsim.analysis import occupancy, recidivism
from chainsim.chain.config import Scenario
from chainsim.chain.months import parse_month
from chainsim.chain.spec import FORMS
from chainsim.engines.records import RecordArrays

RECIDIVISM_PROXIES: tuple[str, ...] = tuple(
    f"recid_{kind}_{y}y" for kind in ("observed_general", "observed_specific", "true")
    for y in (2, 5, 7)
)
HARM_PROXIES: tuple[str, ...] = ("active_offender_months", "victim_months",
                                 "prison_months_served", "probation_caseload", "court_cases",
                                 "investigations")
PROXIES: tuple[str, ...] = (*RECIDIVISM_PROXIES, *HARM_PROXIES)
"""Every proxy of a comparison, in report order (see :func:`arm_proxies`)."""

CUSTODY: tuple[str, ...] = tuple(s.name for s in chain.STAGES if s.custody)
"""Stages deprived of liberty (the chain table's ``custody`` stages)."""

COURT_CASES: tuple[str, ...] = (*chain.metric_events("summoned"), *chain.metric_events("appealed"))
"""Events that bring a case to court: summonses (first instance) and appeals."""

CONFIDENCE = 0.95
"""Confidence level of the paired deltas' intervals."""

DEFAULT_PERIOD_START = "2021-01"
"""Start of the analysis period of scenarios without interventions (:func:`default_period`)."""


def arm_proxies(records: pd.DataFrame | RecordArrays, period: tuple[int, int],
                victims_per_offender: dict[str, float]) -> dict[str, float]:
    """Every proxy of one replication of one arm.

    Recidivism proxies: WODC-style prevalence of a new case within 2, 5 and 7 years
    of release from prison or a non-custodial sanction, for offenders whose first
    such index event falls in the period (full follow-up required; see
    :mod:`chainsim.analysis.recidivism`). Harm and workload, per year of the period:
    ``active_offender_months`` (months offending: undetected, queued, or at liberty while
    investigated and prosecuted),
    ``victim_months`` (the same times victims per offender), ``prison_months_served``
    (months in custody: the chain table's custody stages — prison, pre-trial detention
    from the arrest, detained during an appeal, recalled after a revocation),
    ``probation_caseload`` (mean number under supervision), ``court_cases`` (cases
    brought to court: summonses and appeals), ``investigations`` (police investigations
    started).

    ``records`` may be the record table or its :class:`chainsim.engines.records.RecordArrays`
    (the analyses then share what they derive from it: spells, index events).
    """
    rec = RecordArrays.of(records)
    start, end = period
    years = (end - start + 1) / 12.0
    table = recidivism.recidivism_table(rec, start, end, end)
    out = {f"recid_{k}": float(v) for k, v in table.items()}
    out["active_offender_months"] = recidivism.active_offender_months(rec, start, end) / years
    out["victim_months"] = recidivism.victim_months(rec, start, end,
                                                    victims_per_offender) / years
    out["prison_months_served"] = occupancy.months_in_stages(rec, CUSTODY, start, end) / years
    out["probation_caseload"] = occupancy.mean_occupancy(rec, "probation", start, end)
    in_period = (rec.month >= start) & (rec.month <= end)
    out["court_cases"] = float((in_period & rec.is_event(COURT_CASES)).sum()) / years
    started = rec.is_event(("investigation_started",))
    out["investigations"] = float((in_period & started).sum()) / years
    return out


def with_costs(proxies: dict[str, float], costs) -> dict[str, float]:
    """``proxies`` with ``cost_per_year`` added from unit costs.

    Unit costs: :class:`chainsim.chain.costs.UnitCosts`.

    Without costs (``None``) the proxies are returned as they are.
    """
    if costs is not None:
        proxies["cost_per_year"] = costs.per_year(proxies)
    return proxies


def victims_per_offender(params) -> dict[str, float]:
    """Victims per offender by form, as the harm proxies read it (first month of the run)."""
    return {form: float(params["victims_per_offender"][0, i, 0, 0])
            for i, form in enumerate(FORMS)}


def paired_delta(diff: np.ndarray) -> dict[str, float | None]:
    """Mean of paired differences with a two-sided 95 % t confidence interval.

    NaN differences (a proxy undefined in a replication) are left out. With one
    usable pair the interval is undefined (``None``); identical arms give exactly 0.
    """
    d = np.asarray(diff, dtype=float)
    d = d[~np.isnan(d)]
    if d.size == 0:
        return {"mean": None, "lo": None, "hi": None, "n": 0}
    mean = float(d.mean())
    if d.size == 1:
        return {"mean": mean, "lo": None, "hi": None, "n": 1}
    if np.all(d == d[0]):
        return {"mean": mean, "lo": mean, "hi": mean, "n": int(d.size)}
    # the Student t quantile (what scipy.stats.t.ppf computes; scipy.stats takes a second
    # to import)
    half = special.stdtrit(d.size - 1, 0.5 + CONFIDENCE / 2) * d.std(ddof=1) / np.sqrt(d.size)
    return {"mean": mean, "lo": float(mean - half), "hi": float(mean + half), "n": int(d.size)}


def default_period(scenarios: list[Scenario]) -> tuple[int, int]:
    """From the earliest intervention start to the horizon's end.

    Without interventions: from 2021-01, or the last five years of a horizon that
    ends before 2026, never before the horizon's start.
    """
    end = max(parse_month(sc.scenario.end) for sc in scenarios)
    first = min(parse_month(sc.scenario.start) for sc in scenarios)
    starts = [parse_month(iv.start) for sc in scenarios for iv in sc.interventions]
    if starts:
        return min(starts), end
    return max(first, min(parse_month(DEFAULT_PERIOD_START), end - 59)), end

"""Resolve a validated scenario into arrays of parameter values over time and strata.

Every parameter becomes an array of shape ``(months + 1, forms, age groups, sexes)``
indexed by model time (0 = the scenario's start month), so any parameter can vary
with calendar time (trends now, interventions later) and engines look values up
the same way for one offender or for many.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from chainsim.calendar import parse_month
from chainsim.config import ParameterEntry, Scenario, UnknownEntry
from chainsim.errors import InputError, Problem
from chainsim.spec import (
    AGE_GROUPS,
    FORMS,
    PARAMETERS,
    SEXES,
    duration_pmf,
    hazard_to_cumulative,
    sentence_pmf,
)

MAX_DURATION_MONTHS = 240
"""Longest duration represented in duration distributions (20 years)."""


def trend_multipliers(trend: dict[str, float] | None, months: np.ndarray) -> np.ndarray:
    """Multipliers at absolute ``months``: linear between dated knots, flat outside."""
    if not trend:
        return np.ones(len(months))
    knots = np.array([parse_month(k) for k in trend], dtype=float)
    values = np.array(list(trend.values()), dtype=float)
    return np.interp(months, knots, values)


def resolve_entry(
    entry: ParameterEntry | UnknownEntry, months: np.ndarray, scale: float = 1.0
) -> np.ndarray:
    """One parameter's array of shape ``(len(months), forms, age groups, sexes)``.

    Args:
        entry: The scenario entry.
        months: Absolute month indices of the model's time steps.
        scale: Extra multiplier (used when an unknown is sampled away from its
            central value: every form's value moves by the same factor).
    """
    base = np.array(
        [(entry.by_form or {}).get(form, entry.value) for form in FORMS], dtype=float
    ) * scale
    age = np.array([entry.young_factor, 1.0])
    sex = np.array([1.0, entry.female_factor])
    time = trend_multipliers(entry.trend, months)
    return time[:, None, None, None] * base[None, :, None, None] * age[None, None, :, None] * sex[
        None, None, None, :
    ]


@dataclass
class ParameterSet:
    """All parameter arrays of one run.

    Attributes:
        scenario: The scenario they come from.
        start: Absolute month of model time 0.
        n_months: Number of monthly steps (model time runs 0..n_months).
        values: Parameter name -> array ``(n_months + 1, forms, age groups, sexes)``.
        base_inflow: The inflow array before interventions (potential offenders
            are drawn from it and thinned to ``values["inflow_rate"]``).
    """

    scenario: Scenario
    start: int
    n_months: int
    values: dict[str, np.ndarray]
    base_inflow: np.ndarray = field(repr=False)

    @property
    def months(self) -> np.ndarray:
        """Absolute month index of every model time step."""
        return self.start + np.arange(self.n_months + 1)

    def cumulative(self, name: str) -> np.ndarray:
        """Cumulative integrated hazard of a monthly-probability parameter.

        Shape ``(forms, age groups, sexes, n_months + 1)``: time last, so each
        stratum's series is contiguous. Cached: hazards that do not depend on the
        individual (only on time and stratum) are integrated once per run.
        """
        cache = self.__dict__.setdefault("_cumulative", {})
        if name not in cache:
            series = np.moveaxis(self.values[name], 0, -1)
            cache[name] = np.ascontiguousarray(hazard_to_cumulative(series))
        return cache[name]

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]

    def at(self, name: str, t: int, form: int = 0, age: int = 0, sex: int = 0) -> float:
        """One value: parameter ``name`` at model time ``t`` for a stratum."""
        return float(self.values[name][t, form, age, sex])

    def series(self, name: str, t0: int, form: int, age: int, sex: int) -> np.ndarray:
        """Values of ``name`` from model time ``t0`` to the end, for one stratum."""
        return self.values[name][t0:, form, age, sex]


@lru_cache(maxsize=512)
def cached_duration_pmf(mean: float, cv: float) -> np.ndarray:
    """:func:`chainsim.spec.duration_pmf`, memoised on ``(mean, cv)``."""
    pmf = duration_pmf(mean, cv, MAX_DURATION_MONTHS)
    pmf.setflags(write=False)
    return pmf


@lru_cache(maxsize=512)
def cached_sentence_pmf(mean: float, cv: float, cap: int | None = None) -> np.ndarray:
    """:func:`chainsim.spec.sentence_pmf`, memoised on ``(mean, cv, cap)``."""
    pmf = sentence_pmf(mean, cv, MAX_DURATION_MONTHS, cap)
    pmf.setflags(write=False)
    return pmf


def _cross_checks(p: dict[str, np.ndarray], file: str) -> list[Problem]:
    problems: list[Problem] = []
    shares = p["inflow_form_share"][:, :, 0, 0].sum(axis=1)
    if not np.allclose(shares, 1.0, atol=1e-6):
        problems.append(Problem(file, "parameters.inflow_form_share.by_form",
                                round(float(shares[0]), 6),
                                "the shares of the forms must sum to 1"))
    om = p["technical_dismissal_share"] + p["policy_dismissal_share"] + p["other_disposal_share"]
    if om.max() > 1.0 + 1e-12:
        problems.append(Problem(file, "parameters.technical_dismissal_share",
                                round(float(om.max()), 6),
                                "technical + policy + other disposal shares must not exceed 1 "
                                "(summons is the remainder)"))
    for name, spec in PARAMETERS.items():
        lo, hi = spec.bounds
        arr = p[name]
        if arr.min() < lo or arr.max() > hi:
            bad = float(arr.max() if arr.max() > hi else arr.min())
            table = "unknowns" if spec.role == "unknown" else "parameters"
            problems.append(Problem(file, f"{table}.{name}", round(bad, 6),
                                    f"after factors and trend a {spec.kind} must stay in "
                                    f"[{lo:g}, {hi:g}]"))
    if p["inflow_rate"].sum() == 0:
        problems.append(Problem(file, "unknowns.inflow_rate", 0.0, "inflow must be positive"))
    return problems


def resolve(
    scenario: Scenario, file: str = "<scenario>", unknown_scales: dict[str, float] | None = None
) -> ParameterSet:
    """Turn a validated scenario into a :class:`ParameterSet`.

    Args:
        scenario: The validated scenario.
        file: Its file name (for error messages).
        unknown_scales: Optional multipliers for unknowns (sampled values divided
            by central values); missing names mean 1.

    Returns:
        The parameter arrays.

    Raises:
        InputError: If resolved values leave their allowed ranges (after factors
            and trends) or shares are inconsistent.
    """
    start = parse_month(scenario.scenario.start)
    end = parse_month(scenario.scenario.end)
    months = start + np.arange(end - start + 1)
    scales = unknown_scales or {}
    values = {
        name: resolve_entry(scenario.entry(name), months, scales.get(name, 1.0))
        for name in PARAMETERS
    }
    problems = _cross_checks(values, file)
    if problems:
        raise InputError(problems)
    inflow = values["inflow_rate"]
    young = values["young_share"][:, :, 0, 0]
    female = values["female_share"][:, :, 0, 0]
    stratified = (
        inflow[:, 0, 0, 0, None, None, None]
        * values["inflow_form_share"][:, :, 0, 0, None, None]
        * np.stack([young, 1 - young], axis=2)[:, :, :, None]
        * np.stack([1 - female, female], axis=2)[:, :, None, :]
    )
    values["inflow_stratum_rate"] = stratified
    return ParameterSet(scenario, start, end - start, values, base_inflow=stratified.copy())


STRATA_SHAPE = (len(FORMS), len(AGE_GROUPS), len(SEXES))

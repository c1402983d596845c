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

from chainsim.chain.config import Intervention, ParameterEntry, Scenario, UnknownEntry
from chainsim.chain.errors import InputError, Problem
from chainsim.chain.months import parse_month
from chainsim.chain.spec import (
    AGE_GROUPS,
    BY_PROBATION,
    FORMS,
    INFLOW_HEADROOM,
    PARAMETERS,
    PRIOR_EFFECT_CAP,
    SEXES,
    SIGNAL_HAZARDS,
    SUPERVISED_SUFFIX,
    duration_pmf,
    hazard_to_cumulative,
    monthly_hazard,
    other_offending,
    scale_probability,
    sentence_pmf,
)

MAX_DURATION_MONTHS = 240
"""Longest duration represented in duration distributions (20 years)."""

MAX_OFFENDERS = 5_000_000
"""Most offenders one replication may expect (starting pool plus inflow over the
horizon): five times the engine's stress case (``scenarios/stress_million.toml``),
about 80 times the baseline run to 2100; beyond it memory, not the model, decides."""


def trend_multipliers(trend: dict[str, float] | None, months: np.ndarray) -> np.ndarray:
    """Multipliers at absolute ``months``: linear between dated knots, flat outside."""
    if not trend:
        return np.ones(len(months))
    knots = np.array([parse_month(k) for k in trend], dtype=float)
    values = np.array(list(trend.values()), dtype=float)
    return np.interp(months, knots, values)


def resolve_entry(
    entry: ParameterEntry | UnknownEntry, months: np.ndarray, scale: float = 1.0,
    value: float | None = None,
) -> np.ndarray:
    """One parameter's array of shape ``(len(months), forms, age groups, sexes)``.

    Args:
        entry: The scenario entry.
        months: Absolute month indices of the model's time steps.
        scale: Extra multiplier (used when an unknown is sampled away from its
            central value: every form's value moves by the same factor).
        value: Replaces every form's value (a sampled unknown whose central
            value is 0, which no factor can move).
    """
    if value is not None:
        base = np.full(len(FORMS), float(value))
    else:
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
        base_inflow: The inflow per stratum before interventions (potential
            offenders are drawn from it and thinned to ``values["inflow_stratum_rate"]``).
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

    @property
    def years(self) -> range:
        """Calendar years the run covers (first to last, partial years included)."""
        return range(int(self.months[0] // 12), int(self.months[-1] // 12) + 1)

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

    def active_offending(self) -> dict[str, np.ndarray]:
        """Other offending alongside active trafficking (:func:`spec.other_offending`), cached.

        Returns:
            ``expose_cum``: cumulative integrated hazard of an exposing arrest, shape
            ``(forms, age groups, sexes, priors 0..3, n_months + 1)``; ``other_h``: monthly
            integrated hazard of an offence that exposes nothing (same shape);
            ``registered``: the probability such an offence registers, ``(n_months + 1,
            forms, age groups, sexes)``.
        """
        cache = self.__dict__.get("_active_offending")
        if cache is None:
            v = self.values
            priors = np.arange(PRIOR_EFFECT_CAP + 1)[:, None, None, None, None]
            expose, other, registered = other_offending(
                v["general_offence_hazard"][None], v["general_registration_prob"][None],
                v["exposure_share"][None], priors, v["prior_hazard_factor"][None])
            # (priors, time, F, A, S) -> (F, A, S, priors, time), time contiguous
            expose = np.ascontiguousarray(np.moveaxis(expose, (0, 1), (3, 4)))
            other = np.ascontiguousarray(np.moveaxis(other, (0, 1), (3, 4)))
            cache = self.__dict__["_active_offending"] = {
                "expose_cum": hazard_to_cumulative(expose), "expose_h": monthly_hazard(expose),
                "other_h": monthly_hazard(other), "registered": registered[0]}
        return cache

    def initial_pool_rates(self) -> np.ndarray:
        """Expected active offenders per stratum when the run starts, ``(F, A, S)``.

        Each stratum's monthly inflow divided by its monthly exit hazard at the
        start (signal + inspection + desistance at age 30): the steady-state pool;
        the burn-in before the reporting window lets pool and chain settle.
        """
        v = self.values
        exit_hazard = v["signal_hazard"][0] + v["inspection_hazard"][0] + v["desistance_hazard"][0]
        return v["inflow_stratum_rate"][0] / 12.0 / np.maximum(exit_hazard, 1e-6)

    def inflow_thinning(self) -> tuple[np.ndarray, np.ndarray]:
        """Potential offenders per month and stratum, and the share of them kept.

        Returns:
            ``base`` (expected potential offenders per month per stratum before
            interventions, divided by the headroom when drawn) and ``ratio`` (the
            probability a potential offender of that stratum becomes an offender),
            both of shape ``(n_months + 1, strata)`` with strata flattened from
            ``(forms, age groups, sexes)``.
        """
        cache = self.__dict__.setdefault("_thinning", None)
        if cache is None:
            base = self.base_inflow.reshape(self.n_months + 1, -1) / 12.0
            effective = self.values["inflow_stratum_rate"].reshape(self.n_months + 1, -1) / 12.0
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(base > 0, effective / (INFLOW_HEADROOM * base), 0.0)
            cache = self.__dict__["_thinning"] = (base, ratio)
        return cache

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
    """:func:`chainsim.chain.spec.duration_pmf`, memoised on ``(mean, cv)``."""
    pmf = duration_pmf(mean, cv, MAX_DURATION_MONTHS)
    pmf.setflags(write=False)
    return pmf


@lru_cache(maxsize=512)
def cached_sentence_pmf(mean: float, cv: float, cap: int | None = None) -> np.ndarray:
    """:func:`chainsim.chain.spec.sentence_pmf`, memoised on ``(mean, cv, cap)``."""
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
        table = "unknowns" if spec.role == "unknown" else "parameters"
        if not np.isfinite(arr).all():
            problems.append(Problem(file, f"{table}.{name}", "not finite",
                                    f"after factors and trend a {spec.kind} must be a finite "
                                    f"number in [{lo:g}, {hi:g}]"))
            continue
        if arr.min() < lo or arr.max() > hi:
            bad = float(arr.max() if arr.max() > hi else arr.min())
            problems.append(Problem(file, f"{table}.{name}", round(bad, 6),
                                    f"after factors and trend a {spec.kind} must stay in "
                                    f"[{lo:g}, {hi:g}]"))
    if np.isfinite(p["desistance_age_factor"]).all() and p["desistance_age_factor"].min() <= 0:
        problems.append(Problem(file, "unknowns.desistance_age_factor", 0.0,
                                "a multiplier per decade of age must be > 0 (0 would make "
                                "desistance certain below age 30 and impossible above)"))
    if p["inflow_rate"].sum() == 0:
        problems.append(Problem(file, "unknowns.inflow_rate", 0.0, "inflow must be positive"))
    return problems


def intervention_weight(iv: Intervention, months: np.ndarray) -> np.ndarray:
    """How far an intervention is in force at each month: 0 before, ramping to 1, 0 after end."""
    start = parse_month(iv.start)
    if iv.ramp_months > 0:
        w = np.clip((months - start + 1) / iv.ramp_months, 0.0, 1.0)
    else:
        w = (months >= start).astype(float)
    if iv.end is not None:
        w = np.where(months > parse_month(iv.end), 0.0, w)
    return w


def target_mask(iv: Intervention) -> np.ndarray:
    """Boolean mask over (forms, age groups, sexes) of the strata an intervention reaches."""
    t = iv.target
    form = np.isin(FORMS, t.form) if t.form is not None else np.ones(len(FORMS), bool)
    age = (np.isin(AGE_GROUPS, t.age_group) if t.age_group is not None
           else np.ones(len(AGE_GROUPS), bool))
    sex = np.isin(SEXES, t.sex) if t.sex is not None else np.ones(len(SEXES), bool)
    return form[:, None, None] & age[None, :, None] & sex[None, None, :]


def apply_intervention(array: np.ndarray, iv: Intervention, value: float,
                       months: np.ndarray) -> np.ndarray:
    """A parameter array with one intervention applied (a new array)."""
    w = intervention_weight(iv, months)[:, None, None, None] * target_mask(iv)[None]
    if iv.operation == "set":
        return array + w * (value - array)
    if iv.operation == "multiply":
        return array * (1.0 + w * (value - 1.0))
    return array + w * value


def unknown_keys(scenario: Scenario) -> dict[str, tuple[float, float, float]]:
    """Every declared unknown as ``key -> (central, low, high)``.

    Keys: parameter names for ``[unknowns]``, ``interventions.NAME`` for
    interventions with an uncertain effect size.
    """
    out = {name: (e.central, e.low, e.high) for name, e in scenario.unknowns.items()}
    for iv in scenario.interventions:
        if iv.uncertain:
            out[f"interventions.{iv.name}"] = (iv.value, iv.low, iv.high)
    return out


def resolve(
    scenario: Scenario, file: str = "<scenario>", draws: dict[str, float] | None = None
) -> ParameterSet:
    """Turn a validated scenario into a :class:`ParameterSet`.

    Order: every parameter from its entry (value or per-form values, age and sex
    factors, trend); the inflow split into strata; the supervised variants of the
    after-chain hazards; then the interventions in file order (a base's first).

    Args:
        scenario: The validated scenario.
        file: Its file name (for error messages).
        draws: Sampled values of declared unknowns (see :func:`unknown_keys`);
            missing keys take their central value.

    Returns:
        The parameter arrays.

    Raises:
        InputError: If resolved values leave their allowed ranges (after factors,
            trends and interventions) or shares are inconsistent.
    """
    start = parse_month(scenario.scenario.start)
    end = parse_month(scenario.scenario.end)
    months = start + np.arange(end - start + 1)
    draws = draws or {}
    values = {}
    for name in PARAMETERS:
        entry = scenario.entry(name)
        if name in draws and entry.value:
            values[name] = resolve_entry(entry, months, scale=draws[name] / entry.value)
        elif name in draws:
            values[name] = resolve_entry(entry, months, value=draws[name])
        else:
            values[name] = resolve_entry(entry, months)
    problems = _cross_checks(values, file)
    if problems:
        raise InputError(scenario.located(problems))
    inflow = values["inflow_rate"]
    young = values["young_share"][:, :, 0, 0]
    female = values["female_share"][:, :, 0, 0]
    stratified = (
        inflow[:, 0, 0, 0, None, None, None]
        * values["inflow_form_share"][:, :, 0, 0, None, None]
        * np.stack([young, 1 - young], axis=2)[:, :, :, None]
        * np.stack([1 - female, female], axis=2)[:, :, None, :]
    )
    base_inflow = stratified.copy()
    values["inflow_stratum_rate"] = stratified
    for name in BY_PROBATION:
        values[name + SUPERVISED_SUFFIX] = values[name].copy()
    for i, iv in enumerate(scenario.interventions):
        value = draws.get(f"interventions.{iv.name}", iv.value)
        if iv.parameter == "inflow_rate":
            keys = ["inflow_stratum_rate"]
        elif iv.parameter in BY_PROBATION:
            keys = {None: [iv.parameter, iv.parameter + SUPERVISED_SUFFIX],
                    "supervised": [iv.parameter + SUPERVISED_SUFFIX],
                    "unsupervised": [iv.parameter]}[iv.target.probation]
        else:
            keys = [iv.parameter]
        before = {key: values[key] for key in keys}
        for key in keys:
            values[key] = apply_intervention(values[key], iv, value, months)
        problems += _intervention_checks(values, keys, iv, i, base_inflow, file)
        for extreme in (iv.low, iv.high):  # the whole plausible range must be valid too
            if extreme is not None and extreme != value:
                trial = dict(values) | {k: apply_intervention(before[k], iv, extreme, months)
                                        for k in keys}
                problems += [Problem(pr.file, pr.field.replace(".value", ".low" if extreme
                                                               == iv.low else ".high"),
                                     extreme, pr.allowed)
                             for pr in _intervention_checks(trial, keys, iv, i, base_inflow,
                                                            file)]
    if problems:
        raise InputError(scenario.located(problems))
    known = values["known_signal_factor"]
    values[SIGNAL_HAZARDS[1]] = scale_probability(values["signal_hazard"], known)
    values[SIGNAL_HAZARDS[2]] = scale_probability(
        values["signal_hazard"], known * values["supervised_signal_factor"])
    ps = ParameterSet(scenario, start, end - start, values, base_inflow=base_inflow)
    problems = _size_problems(ps, scenario, file, worst_case=not draws)
    if problems:
        raise InputError(scenario.located(problems))
    return ps


def _size_problems(ps: ParameterSet, scenario: Scenario, file: str, worst_case: bool
                   ) -> list[Problem]:
    """A run must have a finite starting pool and a number of offenders memory can hold.

    Expected offenders: the starting pool plus the inflow over the horizon. The
    starting pool is each stratum's inflow over its exit hazard (signal +
    inspection + desistance) in the first month: with no way out of undetected
    offending it is unbounded. ``worst_case`` also checks the declared unknowns'
    extremes (inflow at ``high``, desistance at ``low``) that ``--uncertainty``
    may draw.
    """
    v = ps.values
    exit_hazard = v["signal_hazard"][0] + v["inspection_hazard"][0] + v["desistance_hazard"][0]
    inflow = v["inflow_stratum_rate"][0]
    trapped = (exit_hazard <= 0) & (inflow > 0)
    if trapped.any():
        f, a, x = (int(i[0]) for i in np.nonzero(trapped))
        return [Problem(file, "parameters.signal_hazard", 0.0,
                        "signal_hazard + inspection_hazard + desistance_hazard must be > 0 at "
                        f"the start ({scenario.scenario.start}) for every group with inflow "
                        f"(here {FORMS[f]}, {AGE_GROUPS[a]}, {SEXES[x]}): otherwise no "
                        "offender ever leaves undetected offending and the starting pool "
                        "is unbounded")]
    pool = float(ps.initial_pool_rates().sum())
    drawn = float(ps.base_inflow.sum() / 12.0)
    if worst_case:
        unknowns = scenario.unknowns
        if "inflow_rate" in unknowns and unknowns["inflow_rate"].central > 0:
            e = unknowns["inflow_rate"]
            pool, drawn = pool * e.high / e.central, drawn * e.high / e.central
        if "desistance_hazard" in unknowns and unknowns["desistance_hazard"].central > 0:
            e = unknowns["desistance_hazard"]
            low_exit = (v["signal_hazard"][0] + v["inspection_hazard"][0]
                        + v["desistance_hazard"][0] * e.low / e.central)
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(inflow > 0, exit_hazard / np.maximum(low_exit, 1e-300), 1.0)
            pool *= float(ratio.max())
    expected = pool + drawn
    if not np.isfinite(expected) or expected > MAX_OFFENDERS:
        return [Problem(file, "unknowns.inflow_rate", f"{expected:.3g} offenders",
                        f"at most {MAX_OFFENDERS:,} offenders expected in one run (starting "
                        "pool, inflow over the horizon, at the unknowns' extremes): shorten "
                        "the horizon, lower inflow_rate or raise the exit hazards")]
    return []


def _intervention_checks(values: dict[str, np.ndarray], keys: list[str], iv: Intervention,
                         i: int, base_inflow: np.ndarray, file: str) -> list[Problem]:
    where = f"interventions[{i}]"
    who = f"intervention {iv.name!r}: "
    if iv.parameter == "inflow_rate":
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(base_inflow > 0, values["inflow_stratum_rate"] / base_inflow, 1.0)
        if ratio.max() > INFLOW_HEADROOM + 1e-12:
            return [Problem(file, f"{where}.value", iv.value,
                            who + f"inflow can be raised at most x{INFLOW_HEADROOM:g} (the "
                            "headroom of the potential-offender draws)")]
        return []
    spec = PARAMETERS[iv.parameter]
    lo, hi = spec.bounds
    for key in keys:
        arr = values[key]
        if not np.isfinite(arr).all():
            return [Problem(file, f"{where}.value", iv.value,
                            who + f"it makes {iv.parameter} non-finite; a {spec.kind} must stay in "
                            f"[{lo:g}, {hi:g}]")]
        if arr.min() < lo or arr.max() > hi:
            bad = float(arr.max() if arr.max() > hi else arr.min())
            return [Problem(file, f"{where}.value", iv.value,
                            who + f"it takes {iv.parameter} to {bad:.6g}; a {spec.kind} "
                            f"must stay in [{lo:g}, {hi:g}]")]
    if iv.parameter in ("technical_dismissal_share", "policy_dismissal_share",
                        "other_disposal_share"):
        om = (values["technical_dismissal_share"] + values["policy_dismissal_share"]
              + values["other_disposal_share"])
        if om.max() > 1.0 + 1e-12:
            return [Problem(file, f"{where}.value", iv.value,
                            who + "technical + policy + other disposal shares must not exceed 1")]
    return []


STRATA_SHAPE = (len(FORMS), len(AGE_GROUPS), len(SEXES))

"""Sweep designs: which levers and unknowns to vary, over what ranges, with which sampler.

A design file (TOML) has two tables::

    [sweep]
    name = "unknowns-probation"        # letters, digits, '-', '_'
    description = "..."
    scenario = "../baseline.toml"      # the scenario every point starts from
    arms = ["../more_probation.toml"]  # optional: compared with it on common random numbers
    method = "sobol"                   # "lhs", "factorial" or "sobol"
    samples = 64                       # lhs: points; sobol: base samples N (a power of 2);
                                       # factorial: levels per factor given as low/high
    reps = 4                           # replications per point (paired across arms)
    seed = 1
    engine = "fast"                    # or "agents"
    unknowns = true                    # add every declared unknown over its plausible range
    outcomes = ["active_offender_months"]  # defaults for `chainsim sensitivity`

    [factors]
    investigation_capacity = { low = 120, high = 240 }       # any parameter of the catalogue
    "interventions.probation_coverage" = { low = 0.3, high = 0.6 }   # an intervention's value
    probation_hazard_ratio = { levels = [0.6, 0.85, 1.0] }   # factorial levels

A factor sets a parameter's central value; per-form values, age and sex factors
and trends scale with it (as an unknown's draw does). ``interventions.NAME`` sets
the effect size of the named intervention in whichever arm has it.

``scenario`` and ``arms`` name shipped scenarios (``chainsim:baseline``) or files
relative to the design file (or absolute; designs shipped in ``scenarios/sweeps/``
name ``../baseline.toml``). Scenario files keep their own inheritance rule (see
:func:`chainsim.chain.config.load_scenario`).

Design points: point 0 is the centre (every factor at its central value: an
unknown's central value, a lever's value in the scenario); points 1.. come from
the sampler (SALib's Latin hypercube and Sobol samplers, or the full factorial
product of the levels), so ``point >= 1`` rows are exactly the sampler's matrix.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from chainsim.chain.config import SHIPPED_PREFIX, Scenario, load_scenario, shipped_scenario
from chainsim.chain.errors import InputError, Problem, did_you_mean
from chainsim.chain.schema import Number, StrictModel, validate
from chainsim.chain.spec import PARAMETERS
from chainsim.chain.tomlfile import read_toml
from chainsim.engines import DEFAULT_ENGINE, ENGINES

METHODS = ("lhs", "factorial", "sobol")
MAX_POINTS = 1_000_000
"""Largest design accepted (points times replications times arms is the run count)."""


class Factor(StrictModel):
    """One varied quantity: a range (``low``, ``high``) or factorial ``levels``."""

    low: Number | None = None
    high: Number | None = None
    levels: list[Number] | None = Field(default=None, min_length=2, max_length=100)

    @model_validator(mode="after")
    def _range_or_levels(self):
        if self.levels is not None:
            if self.low is not None or self.high is not None:
                raise ValueError("give either 'levels' or 'low' and 'high', not both")
            if len(set(self.levels)) != len(self.levels):
                raise ValueError("levels must be distinct")
            return self
        if self.low is None or self.high is None:
            raise ValueError("give 'low' and 'high' (or 'levels')")
        if not self.low < self.high:
            raise ValueError(f"'low' ({self.low}) must be below 'high' ({self.high})")
        return self

    @property
    def bounds(self) -> tuple[float, float]:
        """The factor's range (the extreme levels for a factorial factor)."""
        if self.levels is not None:
            return min(self.levels), max(self.levels)
        return float(self.low), float(self.high)  # type: ignore[arg-type]


class SweepMeta(StrictModel):
    """The ``[sweep]`` table."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
    description: str = ""
    scenario: str = Field(min_length=1)
    arms: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list, max_length=16)
    method: Literal["lhs", "factorial", "sobol"]
    samples: int = Field(default=16, ge=1, le=MAX_POINTS)
    reps: int = Field(default=4, ge=1, le=10_000)
    seed: int = Field(default=0, ge=0, le=2**63 - 1)
    engine: Literal[*ENGINES] = DEFAULT_ENGINE
    unknowns: bool = False
    outcomes: list[str] = Field(default_factory=list)


class DesignFile(StrictModel):
    """A whole design file."""

    sweep: SweepMeta
    factors: dict[str, Factor] = Field(default_factory=dict)


@dataclass
class Design:
    """A validated design with its scenarios loaded and its points drawn.

    Attributes:
        file: The design file as named by the user.
        meta: The ``[sweep]`` table.
        arms: The scenario first, then the compared arms.
        factors: Factor name -> ``(central, low, high)`` (in column order).
        kinds: Factor name -> ``"lever"``, ``"unknown"`` or ``"intervention"``.
        points: The design matrix, one row per point (point 0 = centre).
        outcomes: Outcomes ``chainsim sensitivity`` analyses by default.
        problem: The SALib problem dict (names and bounds).
        digest: Hash of everything that determines the results.
    """

    file: str
    meta: SweepMeta
    arms: list[Scenario]
    factors: dict[str, tuple[float, float, float]]
    kinds: dict[str, str]
    points: np.ndarray
    outcomes: list[str]
    problem: dict = field(default_factory=dict)
    digest: str = ""

    @property
    def names(self) -> list[str]:
        """Factor names in column order."""
        return list(self.factors)

    def point_values(self, point: int) -> dict[str, float]:
        """The factor values of a point (the ``draws`` given to :func:`resolve`)."""
        return {name: float(v) for name, v in zip(self.factors, self.points[point], strict=True)}

    @property
    def runs(self) -> int:
        """Simulations the sweep runs: points x replications x arms."""
        return len(self.points) * self.meta.reps * len(self.arms)


def _scenario_path(design_path: Path, given: str, file: str, fld: str) -> Path | str:
    """Resolve a scenario named in a design (see the module docstring for the rule)."""
    if given.startswith(SHIPPED_PREFIX):
        shipped_scenario(given, file, fld)  # a bad name: an error naming the field
        return given
    target = (design_path.parent / given).resolve()
    if not target.is_file():
        raise InputError.single(file, fld, given,
                                f"an existing scenario file relative to the design file "
                                f"(not found: {target}), or a shipped one: "
                                "'chainsim:baseline'")
    return Path(os.path.normpath(design_path.parent / given))


def load_design(path: str | Path) -> Design:
    """Read and validate a sweep design and draw its points.

    Args:
        path: The design TOML file.

    Returns:
        The design with its scenarios loaded and its points drawn.

    Raises:
        InputError: Any problem with the file, its scenarios or its factors;
            every problem names file, field, value and what is allowed.
    """
    file = str(path)
    path = Path(path)
    doc = read_toml(path, file)
    if not doc:
        raise InputError.single(file, "(file)", "empty", "a design with [sweep] and [factors]")
    spec = validate(DesignFile, doc, file)
    meta = spec.sweep
    arms = [load_scenario(_scenario_path(path, meta.scenario, file, "sweep.scenario"))]
    for i, arm in enumerate(meta.arms):
        arms.append(load_scenario(_scenario_path(path, arm, file, f"sweep.arms[{i}]")))
    horizons = {(sc.scenario.start, sc.scenario.end) for sc in arms}
    if len(horizons) > 1:
        raise InputError.single(file, "sweep.arms", meta.arms,
                                f"scenarios sharing the horizon of {meta.scenario}")
    factors, kinds, problems = _factor_table(spec, arms, file)
    if problems:
        raise InputError(problems)
    if not factors:
        raise InputError.single(file, "factors", {}, "at least one factor (or unknowns = true)")
    outcomes = list(meta.outcomes)
    from chainsim.analysis.proxies import PROXIES

    for i, name in enumerate(outcomes):
        if name not in PROXIES:
            problems.append(Problem(file, f"sweep.outcomes[{i}]", name,
                                    "one of " + ", ".join(PROXIES)))
    problems += _method_problems(spec, factors, file)
    if problems:
        raise InputError(problems)
    problem = {"num_vars": len(factors), "names": list(factors),
               "bounds": [[lo, hi] for _, lo, hi in factors.values()]}
    points = draw_points(spec, factors, problem)
    if len(points) * meta.reps * len(arms) > 10 * MAX_POINTS:
        raise InputError.single(file, "sweep.samples", meta.samples,
                                f"a design of at most {10 * MAX_POINTS:,} runs; this one has "
                                f"{len(points) * meta.reps * len(arms):,}")
    design = Design(file=file, meta=meta, arms=arms, factors=factors, kinds=kinds,
                    points=points, outcomes=outcomes or ["active_offender_months"],
                    problem=problem)
    _check_corners(design)
    design.digest = design_digest(design)
    return design


def _factor_table(spec: DesignFile, arms: list[Scenario], file: str):
    """Factor name -> (central, low, high) and its kind; problems for unusable factors."""
    base = arms[0]
    interventions = {iv.name: iv for sc in arms for iv in sc.interventions}
    factors: dict[str, tuple[float, float, float]] = {}
    kinds: dict[str, str] = {}
    problems: list[Problem] = []
    if spec.sweep.unknowns:
        for name, entry in base.unknowns.items():
            factors[name] = (entry.central, entry.low, entry.high)
            kinds[name] = "unknown"
    for name, factor in spec.factors.items():
        low, high = factor.bounds
        if name.startswith("interventions."):
            iv = interventions.get(name.removeprefix("interventions."))
            if iv is None:
                problems.append(Problem(file, f"factors.{name}", name,
                                        "an intervention of the design's scenarios: " + (
                                            ", ".join(f"interventions.{n}" for n in interventions)
                                            or "(they have none)")))
                continue
            central, kind = iv.value, "intervention"
        elif name in PARAMETERS:
            entry = base.entry(name)
            kind = "unknown" if name in base.unknowns else "lever"
            central = entry.value
            if central is None:
                problems.append(Problem(file, f"factors.{name}", name,
                                        "a parameter with a single 'value' in the scenario "
                                        "(this one is given per form only)"))
                continue
        else:
            problems.append(Problem(file, f"factors.{name}", name,
                                    "a parameter of the catalogue or interventions.NAME"
                                    + did_you_mean(name, [*PARAMETERS, *(
                                        f"interventions.{n}" for n in interventions)])
                                    + "; every parameter: 'chainsim parameters'"))
            continue
        factors[name] = (float(central), low, high)
        kinds[name] = kind
    return factors, kinds, problems


def _method_problems(spec: DesignFile, factors: dict, file: str) -> list[Problem]:
    meta = spec.sweep
    out = []
    if meta.method == "sobol" and meta.samples & (meta.samples - 1):
        out.append(Problem(file, "sweep.samples", meta.samples,
                           "a power of 2 for the Sobol sampler (e.g. 64, 128, 256)"))
    if meta.method == "sobol" and len(factors) < 2:
        out.append(Problem(file, "factors", list(factors), "at least two factors for Sobol"))
    if meta.method == "factorial":
        size = 1
        for name in factors:
            f = spec.factors.get(name)
            size *= len(f.levels) if f is not None and f.levels is not None else meta.samples
        if size > MAX_POINTS:
            out.append(Problem(file, "factors", list(factors),
                               f"a factorial design of at most {MAX_POINTS:,} points "
                               f"(this one has {size:,})"))
    elif any(f.levels is not None for f in spec.factors.values()):
        name = next(n for n, f in spec.factors.items() if f.levels is not None)
        out.append(Problem(file, f"factors.{name}.levels", spec.factors[name].levels,
                           "levels only with method = 'factorial'; use low and high"))
    return out


def draw_points(spec: DesignFile, factors: dict[str, tuple[float, float, float]],
                problem: dict) -> np.ndarray:
    """The design matrix: the centre, then the sampler's points (rows) over the factors."""
    meta = spec.sweep
    centre = np.array([[c for c, _, _ in factors.values()]])
    if meta.method == "lhs":
        from SALib.sample import latin

        sample = latin.sample(problem, meta.samples, seed=meta.seed)
    elif meta.method == "sobol":
        from SALib.sample import sobol

        sample = sobol.sample(problem, meta.samples, calc_second_order=False, seed=meta.seed)
    else:
        axes = []
        for name, (_, lo, hi) in factors.items():
            f = spec.factors.get(name)
            if f is not None and f.levels is not None:
                axes.append(sorted(f.levels))
            else:
                axes.append(list(np.linspace(lo, hi, meta.samples)) if meta.samples > 1
                            else [(lo + hi) / 2])
        sample = np.array(list(itertools.product(*axes)), dtype=float)
    return np.vstack([centre, np.asarray(sample, dtype=float)])


def _check_corners(design: Design) -> None:
    """Resolve every arm at each factor's extremes: bad ranges fail before any run."""
    from chainsim.chain.parameters import resolve

    centre = design.point_values(0)
    problems: list[Problem] = []
    for name, (_, lo, hi) in design.factors.items():
        for value in (lo, hi):
            draws = {**centre, name: value}
            for sc in design.arms:
                try:
                    resolve(sc, design.file, draws=draws)
                except InputError as exc:
                    problems.append(Problem(design.file, f"factors.{name}", value,
                                            f"a value the scenario accepts "
                                            f"({exc.problems[0].allowed})"))
                    break
            else:
                continue
            break
    if problems:
        raise InputError(problems)


def design_digest(design: Design) -> str:
    """SHA-256 over what determines a sweep's results (not its name or description)."""
    doc = {
        "arms": [sc.config_hash() for sc in design.arms],
        "method": design.meta.method,
        "reps": design.meta.reps,
        "seed": design.meta.seed,
        "engine": design.meta.engine,
        "factors": design.factors,
        "points": design.points.round(12).tolist(),
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def safe_name(name: str) -> str:
    """A file-name-safe form of a scenario or sweep name."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_") or "unnamed"

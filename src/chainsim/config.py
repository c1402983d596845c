"""Scenario files: TOML, validated by pydantic, with errors that name file, field and value.

A scenario file has three tables::

    [scenario]            # name, description, start and end month
    [parameters.NAME]     # every calibrated / lever / fixed parameter of the spec
    [unknowns.NAME]       # every unknown: a central value and a plausible range

Each parameter entry has a ``value`` (an unknown a ``central``, ``low`` and ``high``),
optionally ``by_form`` (a value per form of exploitation, replacing ``value``),
``young_factor`` (multiplier for offenders under 23), ``female_factor``, ``trend``
(dated multipliers, linear between the dates and constant outside them) and a
``note`` that says where the number comes from. Unknown keys are rejected.
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from chainsim.calendar import parse_month
from chainsim.errors import InputError, Problem
from chainsim.spec import FORMS, PARAMETERS

FormName = Literal["domestic_sexual", "cross_border_sexual", "labour", "criminal", "other"]
Number = Annotated[float, Field(allow_inf_nan=False)]
Note = Annotated[str, Field(min_length=3)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_trend(trend: dict[str, float] | None) -> dict[str, float] | None:
    if trend is None:
        return None
    if not trend:
        raise ValueError("a trend needs at least one 'YYYY-MM' = multiplier entry")
    for key, factor in trend.items():
        parse_month(key)
        if factor < 0:
            raise ValueError(f"trend multipliers must be >= 0, got {factor} at {key}")
    return dict(sorted(trend.items(), key=lambda kv: parse_month(kv[0])))


class ParameterEntry(_Strict):
    """A known parameter: a value (or one per form), optional factors and trend, a note."""

    value: Number | None = None
    by_form: dict[FormName, Number] | None = None
    young_factor: Number = 1.0
    female_factor: Number = 1.0
    trend: dict[str, Number] | None = None
    note: Note

    _check = field_validator("trend")(classmethod(lambda cls, v: _check_trend(v)))

    @model_validator(mode="after")
    def _value_or_by_form(self):
        if self.value is None and self.by_form is None:
            raise ValueError("give 'value' or 'by_form'")
        if self.by_form is not None and self.value is None and set(self.by_form) != set(FORMS):
            missing = sorted(set(FORMS) - set(self.by_form))
            raise ValueError(f"'by_form' without 'value' must list every form; missing {missing}")
        return self

    def central_value(self) -> float | None:
        """The scalar value (``None`` when only ``by_form`` is given)."""
        return self.value


class UnknownEntry(_Strict):
    """A parameter nobody knows: central value, plausible range and where they come from."""

    central: Number
    low: Number
    high: Number
    by_form: dict[FormName, Number] | None = None
    young_factor: Number = 1.0
    female_factor: Number = 1.0
    trend: dict[str, Number] | None = None
    note: Note

    _check = field_validator("trend")(classmethod(lambda cls, v: _check_trend(v)))

    @model_validator(mode="after")
    def _ordered(self):
        if not self.low <= self.central <= self.high:
            raise ValueError(
                f"need low <= central <= high, got {self.low} <= {self.central} <= {self.high}"
            )
        return self

    @property
    def value(self) -> float:
        """The central value (what a run uses unless unknowns are sampled)."""
        return self.central


class ScenarioMeta(_Strict):
    """The ``[scenario]`` table."""

    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")]
    description: str = ""
    start: str = "2005-01"
    end: str = "2035-12"

    @field_validator("start", "end")
    @classmethod
    def _month(cls, v: str) -> str:
        parse_month(v)
        return v

    @model_validator(mode="after")
    def _order(self):
        start, end = parse_month(self.start), parse_month(self.end)
        if end <= start:
            raise ValueError(f"end ({self.end}) must come after start ({self.start})")
        if end - start > 200 * 12:
            raise ValueError("the horizon may span at most 200 years")
        return self


class Scenario(_Strict):
    """A validated scenario file."""

    scenario: ScenarioMeta
    parameters: dict[str, ParameterEntry]
    unknowns: dict[str, UnknownEntry] = {}

    @property
    def name(self) -> str:
        """The scenario's name."""
        return self.scenario.name

    def entry(self, name: str) -> ParameterEntry | UnknownEntry:
        """The entry of a parameter, wherever it is declared."""
        return self.parameters[name] if name in self.parameters else self.unknowns[name]

    def config_hash(self) -> str:
        """Short SHA-256 of the validated content (notes and description excluded)."""
        doc = self.model_dump(mode="json", exclude_none=True)
        doc["scenario"].pop("description", None)
        for table in ("parameters", "unknowns"):
            for entry in doc.get(table, {}).values():
                entry.pop("note", None)
        blob = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


# ------------------------------------------------------------------------------ loading


def _loc(loc: tuple) -> str:
    return ".".join(str(part) for part in loc)


def _semantic_problems(sc: Scenario, file: str) -> list[Problem]:
    problems: list[Problem] = []
    declared = set(sc.parameters) | set(sc.unknowns)
    for name in sorted(set(sc.parameters) & set(sc.unknowns)):
        problems.append(Problem(file, f"unknowns.{name}", "declared twice",
                                "declare a parameter either in [parameters] or in [unknowns]"))
    for table, entries in (("parameters", sc.parameters), ("unknowns", sc.unknowns)):
        for name, entry in entries.items():
            where = f"{table}.{name}"
            spec = PARAMETERS.get(name)
            if spec is None:
                problems.append(Problem(file, where, name,
                                        "unknown parameter; allowed: " + ", ".join(PARAMETERS)))
                continue
            if spec.role == "unknown" and table != "unknowns":
                problems.append(Problem(file, where, "in [parameters]",
                                        f"{name} is an unknown: declare it under [unknowns.{name}] "
                                        "with central, low and high"))
            if spec.role != "unknown" and table == "unknowns":
                problems.append(Problem(file, where, "in [unknowns]",
                                        f"{name} is a {spec.role} parameter: declare it under "
                                        f"[parameters.{name}] with a value"))
            if entry.by_form is not None and not spec.by_form:
                problems.append(Problem(file, f"{where}.by_form", entry.by_form,
                                        f"{name} does not vary by form; give one 'value'"))
            if entry.young_factor != 1.0 and not spec.by_age:
                problems.append(Problem(file, f"{where}.young_factor", entry.young_factor,
                                        f"{name} does not vary by age group"))
            if entry.female_factor != 1.0 and not spec.by_sex:
                problems.append(Problem(file, f"{where}.female_factor", entry.female_factor,
                                        f"{name} does not vary by sex"))
            lo, hi = spec.bounds
            values = {"value" if table == "parameters" else "central": entry.value}
            if table == "unknowns":
                values |= {"low": entry.low, "high": entry.high}
            values |= {f"by_form.{f}": v for f, v in (entry.by_form or {}).items()}
            for key, v in values.items():
                if v is not None and not lo <= v <= hi:
                    problems.append(Problem(file, f"{where}.{key}", v,
                                            f"a {spec.kind} must lie in [{lo:g}, {hi:g}]"))
            for key in ("young_factor", "female_factor"):
                v = getattr(entry, key)
                if not 0 <= v <= 100:
                    problems.append(Problem(file, f"{where}.{key}", v,
                                            "a factor must lie in [0, 100]"))
    for name in PARAMETERS:
        if name not in declared:
            role = PARAMETERS[name].role
            table = "unknowns" if role == "unknown" else "parameters"
            problems.append(Problem(file, f"{table}.{name}", "missing",
                                    f"every parameter must be set; add [{table}.{name}]"))
    return problems


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file.

    Args:
        path: The TOML file.

    Returns:
        The validated scenario.

    Raises:
        InputError: If the file is missing, unreadable, not TOML, or any field is
            invalid; every problem names file, field, value and what is allowed.
    """
    file = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError.single(file, "(file)", file, "no such file") from None
    except OSError as exc:
        raise InputError.single(file, "(file)", file, f"cannot read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError.single(file, "(file)", f"byte {exc.start}", "a UTF-8 text file") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError.single(file, "(syntax)", str(exc), "valid TOML") from None
    return scenario_from_dict(doc, file)


def scenario_from_dict(doc: dict, file: str = "<scenario>") -> Scenario:
    """Validate an already parsed scenario document (see :func:`load_scenario`)."""
    if not doc:
        raise InputError.single(file, "(file)", "empty",
                                "a scenario with [scenario], [parameters] and [unknowns]")
    try:
        sc = Scenario.model_validate(doc)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            value = err.get("input")
            if isinstance(value, float) and not math.isfinite(value):
                value = str(value)
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key; not allowed here"
            elif err["type"] == "literal_error":
                msg = "unknown form; allowed: " + ", ".join(FORMS)
            problems.append(Problem(file, _loc(err["loc"]) or "(document)", value, msg))
        raise InputError(problems) from None
    problems = _semantic_problems(sc, file)
    if problems:
        raise InputError(problems)
    return sc

"""Scenario files: TOML, validated by pydantic, with errors that name file, field and value.

A scenario file has three tables::

    [scenario]            # name, description, start and end month
    [parameters.NAME]     # every calibrated / lever / fixed parameter of the spec
    [unknowns.NAME]       # every unknown: a central value and a plausible range

A scenario may inherit from another (``base = "chainsim:baseline"`` for a shipped one,
or a file: ``base = "my_base.toml"``) and add dated ``[[interventions]]`` on named
parameters (see :class:`Intervention`).

Each parameter entry has a ``value`` (an unknown a ``central``, ``low`` and ``high``),
optionally ``by_form`` (a value per form of exploitation, replacing ``value``),
``young_factor`` (multiplier for offenders under 23), ``female_factor``, ``trend``
(dated multipliers, linear between the dates and constant outside them) and a
``note`` that says where the number comes from. Unknown keys are rejected.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, PrivateAttr, ValidationError, field_validator, model_validator

from chainsim.chain.errors import FieldValueError, InputError, Problem, did_you_mean
from chainsim.chain.months import parse_month
from chainsim.chain.schema import Note, Number, StrictModel, validate
from chainsim.chain.spec import BY_PROBATION, FORMS, NOT_INTERVENABLE, PARAMETERS
from chainsim.chain.tomlfile import read_toml

FormName = Literal["domestic_sexual", "cross_border_sexual", "labour", "criminal", "other"]


MAX_MULTIPLIER = 1000.0
"""Largest trend or intervention multiplier (larger ones are typing errors, not policies)."""

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
"""A scenario name: it names the default output directory, so it is one safe path part."""


def _month(text: str) -> int:
    """:func:`parse_month`, as a validation error naming the text."""
    try:
        return parse_month(text)
    except ValueError as exc:
        raise FieldValueError(str(exc) + " (a month as YYYY-MM, e.g. '2015-01')", None,
                              text) from None


def _check_trend(trend: dict[str, float] | None) -> dict[str, float] | None:
    if trend is None:
        return None
    if not trend:
        raise ValueError("a trend needs at least one 'YYYY-MM' = multiplier entry")
    for key, factor in trend.items():
        _month(key)
        if not 0 <= factor <= MAX_MULTIPLIER:
            raise FieldValueError(f"trend multipliers must be >= 0 and <= {MAX_MULTIPLIER:g}, "
                                  f"got {factor} at {key}", None, {key: factor})
    return dict(sorted(trend.items(), key=lambda kv: parse_month(kv[0])))


class _Entry(StrictModel):
    """What every parameter entry may carry besides its value."""

    by_form: dict[FormName, Number] | None = None
    young_factor: Number = 1.0
    female_factor: Number = 1.0
    trend: dict[str, Number] | None = None
    note: Note

    _check = field_validator("trend")(classmethod(lambda cls, v: _check_trend(v)))


class ParameterEntry(_Entry):
    """A known parameter: a value (or one per form), optional factors and trend, a note."""

    value: Number | None = None

    @model_validator(mode="after")
    def _value_or_by_form(self):
        if self.value is None and self.by_form is None:
            raise FieldValueError("give 'value' or 'by_form'", None, "no value")
        if self.by_form is not None and self.value is None and set(self.by_form) != set(FORMS):
            missing = sorted(set(FORMS) - set(self.by_form))
            raise FieldValueError(f"'by_form' without 'value' must list every form; missing "
                                  f"{missing}", None, self.by_form)
        return self


class UnknownEntry(_Entry):
    """A parameter nobody knows: central value, plausible range and where they come from."""

    central: Number
    low: Number
    high: Number

    @model_validator(mode="after")
    def _ordered(self):
        if not self.low <= self.central <= self.high:
            raise FieldValueError(
                f"need low <= central <= high, got {self.low} <= {self.central} <= {self.high}",
                None, {"low": self.low, "central": self.central, "high": self.high})
        return self

    @property
    def value(self) -> float:
        """The central value (what a run uses unless unknowns are sampled)."""
        return self.central


class ScenarioMeta(StrictModel):
    """The ``[scenario]`` table."""

    name: str
    description: str = ""
    description_nl: str = ""
    """The description in Dutch (the dashboard shows it in Dutch; optional)."""
    start: str = "2005-01"
    end: str = "2035-12"

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not re.match(NAME_PATTERN, v):
            raise FieldValueError("a name of 1-64 letters, digits, '_', '.' or '-', starting "
                                  "with a letter or digit (it names the output directory)",
                                  None, v)
        return v

    @field_validator("start", "end")
    @classmethod
    def _month(cls, v: str) -> str:
        _month(v)
        return v

    @model_validator(mode="after")
    def _order(self):
        start, end = parse_month(self.start), parse_month(self.end)
        if end <= start:
            raise FieldValueError(f"end ({self.end}) must come after start ({self.start})",
                                  None, f"{self.start}..{self.end}")
        if end - start > 200 * 12:
            raise FieldValueError("the horizon may span at most 200 years", None,
                                  f"{self.start}..{self.end}")
        return self


AgeGroupName = Literal["under23", "23plus"]
SexName = Literal["male", "female"]


class Target(StrictModel):
    """Who an intervention reaches (all listed groups; omitted = everyone)."""

    form: list[FormName] | None = None
    age_group: list[AgeGroupName] | None = None
    sex: list[SexName] | None = None
    probation: Literal["supervised", "unsupervised"] | None = None


class Intervention(StrictModel):
    """A dated change to one parameter.

    The change phases in linearly over ``ramp_months`` from ``start`` and stops
    after ``end`` (if given). ``operation`` is ``set`` (replace the value),
    ``multiply`` or ``add``. Giving ``low`` and ``high`` declares the effect size
    an unknown (``value`` is then its central value).
    """

    name: Annotated[str, Field(min_length=1)]
    parameter: str
    operation: Literal["set", "multiply", "add"]
    value: Number
    low: Number | None = None
    high: Number | None = None
    start: str
    ramp_months: Annotated[int, Field(ge=0, le=600)] = 0
    end: str | None = None
    target: Target = Target()
    note: Note

    @field_validator("start", "end")
    @classmethod
    def _month(cls, v: str | None) -> str | None:
        if v is not None:
            _month(v)
        return v

    @model_validator(mode="after")
    def _consistent(self):
        if (self.low is None) != (self.high is None):
            key = "low" if self.low is None else "high"
            raise FieldValueError("give both 'low' and 'high' (an uncertain effect) or neither",
                                  key, "missing")
        if self.low is not None and not self.low <= self.value <= self.high:
            raise FieldValueError(
                f"need low <= value <= high, got {self.low} <= {self.value} <= {self.high}",
                None, {"low": self.low, "value": self.value, "high": self.high})
        if self.end is not None and parse_month(self.end) < parse_month(self.start):
            raise FieldValueError(f"end ({self.end}) comes before start ({self.start})", "end",
                                  self.end)
        return self

    @property
    def uncertain(self) -> bool:
        """Whether the effect size is a declared unknown."""
        return self.low is not None


class Scenario(StrictModel):
    """A validated scenario (after inheritance is resolved)."""

    base: str | list[str] | None = None
    calibration: str | None = None
    scenario: ScenarioMeta
    parameters: dict[str, ParameterEntry]
    unknowns: dict[str, UnknownEntry] = Field(default_factory=dict)
    interventions: list[Intervention] = Field(default_factory=list)
    _origins: dict = PrivateAttr(default_factory=dict)

    def __eq__(self, other: object) -> bool:
        """Equal content (where the entries were read from does not count)."""
        if not isinstance(other, Scenario):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = None  # a mutable-content model: not hashable

    def located(self, problems: list[Problem]) -> list[Problem]:
        """``problems`` with each file replaced by the base file the field was read from."""
        return _located(self._origins, problems)

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
        doc["scenario"].pop("description_nl", None)
        doc.pop("base", None)
        doc.pop("calibration", None)
        for table in ("parameters", "unknowns"):
            for entry in doc.get(table, {}).values():
                entry.pop("note", None)
        for entry in doc.get("interventions", []):
            entry.pop("note", None)
        blob = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


# ------------------------------------------------------------------------------ loading


def _unknown_parameter(name: object) -> str:
    """What a problem with an unknown parameter name says is allowed."""
    return ("unknown parameter" + did_you_mean(name, PARAMETERS)
            + "; every name, with its unit and meaning: 'chainsim parameters'")


def _entry_problems(table: str, name: str, entry: ParameterEntry | UnknownEntry,
                    file: str) -> list[Problem]:
    """Checks of one (valid) entry of a known parameter against its spec."""
    problems: list[Problem] = []
    where = f"{table}.{name}"
    spec = PARAMETERS[name]
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
    if isinstance(entry, UnknownEntry):
        values |= {"low": entry.low, "high": entry.high}
    values |= {f"by_form.{f}": v for f, v in (entry.by_form or {}).items()}
    for key, v in values.items():
        if v is not None and not lo <= v <= hi:
            problems.append(Problem(file, f"{where}.{key}", v,
                                    f"a {spec.kind} must lie in [{lo:g}, {hi:g}]"))
    for key in ("young_factor", "female_factor"):
        v = getattr(entry, key)
        if not 0 <= v <= 100:
            problems.append(Problem(file, f"{where}.{key}", v, "a factor must lie in [0, 100]"))
    return problems


def _intervention_problems(i: int, iv: Intervention, meta: ScenarioMeta | None,
                           file: str) -> list[Problem]:
    """Checks of one (valid) intervention on a known parameter."""
    problems: list[Problem] = []
    where = f"interventions[{i}]"
    spec = PARAMETERS[iv.parameter]
    if iv.parameter in NOT_INTERVENABLE:
        problems.append(Problem(file, f"{where}.parameter", iv.parameter,
                                NOT_INTERVENABLE[iv.parameter]))
    if iv.parameter == "inflow_rate" and iv.operation != "multiply":
        problems.append(Problem(file, f"{where}.operation", iv.operation,
                                "inflow_rate can only be multiplied (targeted by form, "
                                "age group and sex)"))
    t = iv.target
    if t.form is not None and not spec.by_form and iv.parameter != "inflow_rate":
        problems.append(Problem(file, f"{where}.target.form", t.form,
                                f"{iv.parameter} does not vary by form"))
    if t.age_group is not None and not spec.by_age and iv.parameter != "inflow_rate":
        problems.append(Problem(file, f"{where}.target.age_group", t.age_group,
                                f"{iv.parameter} does not vary by age group"))
    if t.sex is not None and not spec.by_sex and iv.parameter != "inflow_rate":
        problems.append(Problem(file, f"{where}.target.sex", t.sex,
                                f"{iv.parameter} does not vary by sex"))
    if t.probation is not None and iv.parameter not in BY_PROBATION:
        problems.append(Problem(file, f"{where}.target.probation", t.probation,
                                "only " + ", ".join(BY_PROBATION)
                                + " differ by probation status"))
    if meta is not None:
        horizon = (parse_month(meta.start), parse_month(meta.end))
        for key in ("start", "end"):
            month = getattr(iv, key)
            if month is not None and not horizon[0] <= parse_month(month) <= horizon[1]:
                problems.append(Problem(file, f"{where}.{key}", month,
                                        f"a month within the horizon {meta.start}..{meta.end}"))
    if iv.operation == "multiply":
        for key in ("value", "low", "high"):
            v = getattr(iv, key)
            if v is not None and not 0 <= v <= MAX_MULTIPLIER:
                problems.append(Problem(file, f"{where}.{key}", v, "a multiplier must be "
                                        f">= 0 and <= {MAX_MULTIPLIER:g}"))
                break
    return problems


def _checked[M: StrictModel](model: type[M], raw: object) -> M | None:
    """``raw`` validated against ``model``, or ``None`` if it is not valid."""
    try:
        return model.model_validate(raw)
    except (ValidationError, ValueError, TypeError, RecursionError):
        return None


def _semantic_problems(doc: dict, file: str, sc: Scenario | None = None) -> list[Problem]:
    """The checks beyond the schema, as far as the document allows.

    With a valid scenario ``sc`` every check runs. Without one (the schema rejected
    the document) they run on what is usable, so that one round reports
    everything: names are checked on the raw tables (unknown, in the wrong table,
    declared twice, missing), each entry and intervention that is valid on its own
    is checked against its parameter, and months against the horizon if
    ``[scenario]`` is valid.

    Args:
        doc: The raw (merged) document.
        file: The file name to report.
        sc: The validated scenario, if the schema accepted ``doc``.
    """
    problems: list[Problem] = []
    if sc is not None:
        tables: dict[str, dict] = {"parameters": sc.parameters, "unknowns": sc.unknowns}
        entries = {(t, n): e for t, table in tables.items() for n, e in table.items()}
        ivs: dict[int, Intervention] = dict(enumerate(sc.interventions))
        raw_ivs: list = [{"parameter": iv.parameter} for iv in sc.interventions]
        meta: ScenarioMeta | None = sc.scenario
    else:
        tables = {t: doc[t] if isinstance(doc.get(t), dict) else {} for t in _TABLES}
        models = {"parameters": ParameterEntry, "unknowns": UnknownEntry}
        entries = {(t, n): e for t, table in tables.items() for n, raw in table.items()
                   if n in PARAMETERS and (e := _checked(models[t], raw)) is not None}
        raw_ivs = doc["interventions"] if isinstance(doc.get("interventions"), list) else []
        ivs = {i: iv for i, raw in enumerate(raw_ivs)
               if (iv := _checked(Intervention, raw)) is not None}
        meta = _checked(ScenarioMeta, doc.get("scenario"))
    params, unknowns = tables["parameters"], tables["unknowns"]
    for name in sorted(set(params) & set(unknowns)):
        problems.append(Problem(file, f"unknowns.{name}", "declared twice",
                                "declare a parameter either in [parameters] or in [unknowns]"))
    for table, names in tables.items():
        for name in names:
            where = f"{table}.{name}"
            spec = PARAMETERS.get(name)
            if spec is None:
                problems.append(Problem(file, where, name, _unknown_parameter(name)))
                continue
            if spec.role == "unknown" and table != "unknowns":
                problems.append(Problem(file, where, "in [parameters]",
                                        f"{name} is an unknown: declare it under [unknowns.{name}] "
                                        "with central, low and high"))
            if spec.role != "unknown" and table == "unknowns":
                problems.append(Problem(file, where, "in [unknowns]",
                                        f"{name} is a {spec.role} parameter: declare it under "
                                        f"[parameters.{name}] with a value"))
            if (table, name) in entries:
                problems += _entry_problems(table, name, entries[table, name], file)
    seen: dict[str, Intervention] = {}
    for i, raw in enumerate(raw_ivs):
        parameter = raw.get("parameter") if isinstance(raw, dict) else None
        if isinstance(parameter, str) and parameter not in PARAMETERS:
            problems.append(Problem(file, f"interventions[{i}].parameter", parameter,
                                    _unknown_parameter(parameter)))
            continue
        iv = ivs.get(i)
        if iv is None:
            continue
        if iv.name in seen and seen[iv.name] != iv:
            problems.append(Problem(file, f"interventions[{i}].name", iv.name,
                                    "intervention names must be unique within a scenario "
                                    "(after inheritance); rename one of them"))
        seen.setdefault(iv.name, iv)
        problems += _intervention_problems(i, iv, meta, file)
    if sc is not None or isinstance(doc.get("parameters"), dict):
        declared = set(params) | set(unknowns)
        for name in PARAMETERS:
            if name not in declared:
                table = "unknowns" if PARAMETERS[name].role == "unknown" else "parameters"
                problems.append(Problem(file, f"{table}.{name}", "missing",
                                        f"every parameter must be set; add [{table}.{name}]"))
    return problems


MAX_BASE_FILES = 64
"""Most files one scenario may read through ``base`` (guards against fan-out)."""

_TABLES = ("parameters", "unknowns")


def _origin_of(origins: dict, field: str, default: str) -> str:
    """The file a (dotted) field's value came from, from the map :func:`_origins` builds."""
    if not origins:
        return default
    m = re.match(r"^(parameters|unknowns)\.([^.\[ ]+)", field)
    if m:
        return origins.get((m.group(1), m.group(2)), default)
    m = re.match(r"^interventions(?:\.|\[)(\d+)", field)
    if m:
        return origins.get(("interventions", int(m.group(1))), default)
    m = re.match(r"^scenario\.(\w+)", field)
    if m:
        return origins.get(("scenario", m.group(1)), default)
    return default


def _located(origins: dict, problems: list[Problem]) -> list[Problem]:
    """``problems`` with each file replaced by the file the field was read from."""
    return [Problem(_origin_of(origins, p.field, p.file), p.field, p.value, p.allowed)
            for p in problems]


def _origins(doc: dict, file: str) -> dict:
    """Where each entry of a (shape-checked) document comes from: all from ``file``."""
    out: dict = {}
    for table in _TABLES:
        out |= {(table, name): file for name in doc.get(table, {})}
    out |= {("scenario", key): file for key in doc.get("scenario", {})}
    out |= {("interventions", i): file for i in range(len(doc.get("interventions", [])))}
    return out


def _check_shape(doc: dict, file: str) -> None:
    """Top-level tables of one file have the right kind, before files are merged."""
    problems = []
    for key, kind, word in (("scenario", dict, "a [scenario] table"),
                            ("parameters", dict, "[parameters.NAME] tables"),
                            ("unknowns", dict, "[unknowns.NAME] tables"),
                            ("interventions", list, "[[interventions]] tables")):
        if key in doc and not isinstance(doc[key], kind):
            problems.append(Problem(file, key, doc[key], word))
    if isinstance(doc.get("interventions"), list):
        for i, iv in enumerate(doc["interventions"]):
            if not isinstance(iv, dict):
                problems.append(Problem(file, f"interventions[{i}]", iv,
                                        "an [[interventions]] table"))
    if problems:
        raise InputError(problems)


def _merge(base: dict, child: dict, base_origins: dict | None = None,
           child_origins: dict | None = None) -> tuple[dict, dict]:
    """Child over base: tables of entries are replaced entry by entry; interventions append.

    Both documents are shape-checked (:func:`_check_shape`). Returns the merged
    document and where each of its entries comes from.
    """
    base_origins, child_origins = base_origins or {}, child_origins or {}
    merged = dict(base)
    origins = dict(base_origins)
    for key, value in child.items():
        if key in _TABLES:
            merged[key] = {**base.get(key, {}), **value}
        elif key == "scenario":
            meta = {k: v for k, v in base.get("scenario", {}).items()
                    if k not in ("name", "description", "description_nl")}
            for k in ("name", "description", "description_nl"):
                origins.pop(("scenario", k), None)
            merged[key] = {**meta, **value}
        elif key == "interventions":
            offset = len(base.get("interventions", []))
            merged[key] = [*base.get("interventions", []), *value]
            origins |= {("interventions", offset + i): child_origins.get(("interventions", i))
                        for i in range(len(value))}
            continue
        else:
            merged[key] = value
    origins |= {k: v for k, v in child_origins.items() if k[0] != "interventions"}
    # a key declared in one table of the child moves it out of the other table of the base
    for table, other in (("parameters", "unknowns"), ("unknowns", "parameters")):
        for name in child.get(table, {}):
            if name in merged.get(other, {}) and name not in child.get(other, {}):
                merged[other] = {k: v for k, v in merged[other].items() if k != name}
    return merged, origins


class CalibratedEntry(StrictModel):
    """A calibrated parameter's values (``calibration/parameters.toml``)."""

    value: Number | None = None
    by_form: dict[FormName, Number] | None = None
    trend: dict[str, Number] | None = None

    _check = field_validator("trend")(classmethod(lambda cls, v: _check_trend(v)))


class CalibrationFile(StrictModel):
    """``calibration/parameters.toml``: provenance and calibrated values."""

    meta: dict = Field(default_factory=dict)
    parameters: dict[str, CalibratedEntry]


def _bad_reference(ref: object) -> str | None:
    """Why a ``base`` or ``calibration`` value is not a usable file name (``None``: it is)."""
    if not isinstance(ref, str) or not ref.strip():
        return "not a file name"
    if "\x00" in ref:
        return "a file name without NUL characters"
    if len(ref) > 4096:
        return "a file name of at most 4096 characters"
    return None


def _apply_calibration(doc: dict, path: Path, file: str, confined: bool) -> dict:
    """Overlay the calibrated values a scenario points to (``calibration = "..."``).

    The path is relative to the file that names it (so a shipped scenario finds the
    shipped calibration wherever the scenario inheriting from it lives). Confined
    (the dashboard's rule), the file must lie in the ``calibration`` directory beside
    the scenario's own directory (``../calibration/NAME.toml``); nothing else is read.
    """
    ref = doc.get("calibration")
    if _bad_reference(ref):
        raise InputError.single(file, "calibration", ref,
                                "a file name like '../calibration/parameters.toml'")
    target = (path.parent / ref).resolve()
    if confined:
        allowed_dir = (path.parent.parent / "calibration").resolve()
        if target.parent != allowed_dir:
            raise InputError.single(file, "calibration", ref,
                                    f"a file in {allowed_dir} (the calibration directory beside "
                                    "the scenarios); nothing else is read")
    cal_file = str(path.parent / ref)
    if not target.exists():
        raise InputError.single(file, "calibration", ref,
                                f"an existing file relative to {file} (no such file: {target}); "
                                "to use the shipped calibration, inherit from a shipped "
                                "scenario: base = \"chainsim:baseline\"")
    raw = read_toml(target, cal_file)
    cal = validate(CalibrationFile, raw, cal_file)
    params = doc.get("parameters")
    if not isinstance(params, dict):
        raise InputError.single(file, "parameters", None, "a [parameters] table")
    merged = dict(params)
    for name, entry in cal.parameters.items():
        if not isinstance(params.get(name), dict):
            raise InputError.single(cal_file, f"parameters.{name}", name,
                                    f"a parameter declared under [parameters] in {file}")
        new = dict(params[name])
        for key, value in entry.model_dump(exclude_none=True).items():
            new[key] = value
        new["note"] = f"{params[name].get('note', '')} [calibrated: {Path(ref).name}]"
        merged[name] = new
    return {**doc, "parameters": merged}


SHIPPED_PREFIX = "chainsim:"
"""A ``base`` (or a scenario on the command line) written ``chainsim:NAME`` names the
shipped scenario ``scenarios/NAME.toml``, wherever the file that names it lives."""

SHIPPED_SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"
"""The shipped scenarios (``scenarios/`` of the repository chainsim is installed from)."""


def shipped_scenarios() -> list[str]:
    """Names of the shipped scenarios (``chainsim:NAME``), baseline first."""
    names = sorted(p.stem for p in SHIPPED_SCENARIOS.glob("*.toml"))
    return sorted(names, key=lambda n: n != "baseline")


def shipped_scenario(ref: str, file: str = "<command line>", field: str = "base") -> Path:
    """The file of a shipped scenario named ``chainsim:NAME`` (or just ``NAME``).

    Args:
        ref: ``chainsim:NAME`` or ``NAME``.
        file: The file (or option) the reference came from, for the error.
        field: Its field, for the error.

    Raises:
        InputError: If no shipped scenario has that name (with the closest names).
    """
    name = ref.removeprefix(SHIPPED_PREFIX).removesuffix(".toml")
    names = shipped_scenarios()
    if name not in names:
        raise InputError.single(file, field, ref,
                                "a shipped scenario" + did_you_mean(name, names)
                                + "; shipped: " + ", ".join(SHIPPED_PREFIX + n for n in names))
    return SHIPPED_SCENARIOS / f"{name}.toml"


class _Reader:
    """Follows ``base`` references from the file the user named.

    A file read with a ``root`` is confined (the dashboard's rule): its relative
    bases must stay inside ``root``, and so on down its chain; without one any file
    is followed, relative to the file that names it or absolute. ``chainsim:NAME``
    bases are always allowed: they are the shipped scenarios, read confined to the
    shipped directory.
    """

    def __init__(self, calibrated: bool):
        self.calibrated = calibrated
        self.reads = 0
        self.pending: list[Problem] = []

    def read(self, path: Path, file: str, chain: tuple[Path, ...], root: Path | None
             ) -> tuple[dict, dict]:
        """The merged document of ``path`` and its bases, and where its entries come from."""
        self.reads += 1
        doc = read_toml(path, file)
        _check_shape(doc, file)
        if "calibration" in doc and self.calibrated:
            doc = _apply_calibration(doc, path, file, confined=root is not None)
        origins = _origins(doc, file)
        bases = doc.get("base")
        if bases is None:
            return doc, origins
        if isinstance(bases, str):
            bases = [bases]
        if not isinstance(bases, list) or not bases:
            raise InputError.single(file, "base", bases,
                                    "a scenario file name, e.g. 'chainsim:baseline' or "
                                    "'my_base.toml', or a list of them")
        if not isinstance(doc.get("scenario"), dict) or "name" not in doc["scenario"]:
            # reported with the rest of the file's problems (one round): load_scenario
            self.pending.append(Problem(file, "scenario.name", "missing",
                                        "a scenario that inherits must give its own name"))
        merged: dict = {}
        merged_origins: dict = {}
        for base in bases:
            base_doc, base_origins = self.base(base, path, file, chain, root)
            merged, merged_origins = _merge(merged, base_doc, merged_origins, base_origins)
        own = {k: v for k, v in doc.items() if k != "base"}
        return _merge(merged, own, merged_origins, origins)

    def base(self, base: object, path: Path, file: str, chain: tuple[Path, ...],
             root: Path | None) -> tuple[dict, dict]:
        """One base a file names, checked against the rule, then read."""
        what = ("a shipped scenario, e.g. 'chainsim:baseline', or a scenario file relative "
                "to this file, e.g. 'my_base.toml'")
        why = _bad_reference(base)
        if why:
            raise InputError.single(file, "base", base, f"{what} ({why})")
        if base.startswith(SHIPPED_PREFIX):
            target = shipped_scenario(base, file, "base").resolve()
            shown, root = str(SHIPPED_SCENARIOS / target.name), SHIPPED_SCENARIOS.resolve()
        else:
            if root is not None and Path(base).is_absolute():
                raise InputError.single(file, "base", base,
                                        "a path relative to this file, inside its directory "
                                        f"({root}); absolute paths are not followed here")
            target = (path.parent / base).resolve()
            if root is not None and not target.is_relative_to(root):
                raise InputError.single(file, "base", base,
                                        f"a file inside {root} (the directory of the scenario "
                                        "named); inheritance never reads outside it here")
            shown = str(path.parent / base)
        if target in chain:
            cycle = " -> ".join(p.name for p in (*chain, target))
            raise InputError.single(file, "base", base, f"no cycles; this one is {cycle}")
        if len(chain) > 16:
            raise InputError.single(file, "base", base, "at most 16 levels of inheritance")
        if self.reads >= MAX_BASE_FILES:
            raise InputError.single(file, "base", base,
                                    f"at most {MAX_BASE_FILES} files read through 'base' in all")
        if not target.exists():
            stem = Path(base).stem
            hint = (f"; the shipped one, from any folder, is base = \"{SHIPPED_PREFIX}{stem}\""
                    if stem in shipped_scenarios() else f"; {what}")
            raise InputError.single(file, "base", base, f"no such file ({target}){hint}")
        if target.is_dir():
            raise InputError.single(file, "base", base, f"a file, not a directory; {what}")
        base_doc, origins = self.read(target, shown, (*chain, target), root)
        return {k: v for k, v in base_doc.items() if k not in ("base", "calibration")}, origins


def load_scenario(path: str | Path, calibrated: bool = True, confined: bool = False
                  ) -> Scenario:
    """Read and validate a scenario file, resolving ``base = "..."`` inheritance.

    Inheritance rule: ``base`` is a scenario (or a list of them): ``chainsim:NAME``
    names the shipped ``scenarios/NAME.toml`` (and through it the shipped
    calibration), wherever the file naming it lives; anything else is a path
    relative to the file that names it (or absolute). Chains of bases are followed
    (at most 16 levels and 64 files), cycles rejected. Bases are merged in order,
    then the file itself: a later file replaces whole parameter entries, overrides
    ``[scenario]`` keys (name and description are never inherited) and appends its
    interventions. A problem in a value that comes from a base names that base's
    file.

    Confined (``confined=True``, the dashboard's rule, as it serves others), a base
    must stay inside the directory of the scenario file named, subdirectories
    included (no absolute paths, no ``..`` out of it, no symbolic link pointing out
    of it: the check is on the resolved path, before the file is opened), and
    ``calibration`` must name a file in the ``calibration/`` directory beside it.
    The shipped scenarios are always read under this rule.

    Args:
        path: The TOML file, or ``chainsim:NAME`` for a shipped scenario.
        calibrated: Apply the calibrated values a file points to with
            ``calibration = "../calibration/parameters.toml"`` (``False``: the
            hand-set values written in the scenario, where calibration starts).
        confined: Apply the confinement rule above (the command line and the
            Python API read any file the user names).

    Returns:
        The validated scenario.

    Raises:
        InputError: If the file is missing, unreadable, not TOML, its inheritance
            is broken, or any field is invalid; every problem names file, field,
            value and what is allowed.
    """
    file = str(path)
    if "\x00" in file:
        raise InputError.single(file, "(file)", file, "a file name without NUL characters")
    if file.startswith(SHIPPED_PREFIX):
        path = shipped_scenario(file, "<command line>", "scenario")
    p = Path(path)
    try:
        resolved = p.resolve()
    except (OSError, RuntimeError) as exc:  # a symbolic-link loop
        raise InputError.single(file, "(file)", file, f"a readable file ({exc})") from None
    if file.startswith(SHIPPED_PREFIX) or confined:
        root = resolved.parent
    else:
        root = None
    reader = _Reader(calibrated)
    doc, origins = reader.read(p, str(path), (resolved,), root)
    if not reader.pending:
        return scenario_from_dict(doc, str(path), origins)
    try:
        scenario_from_dict(doc, str(path), origins)
        rest: list[Problem] = []
    except InputError as exc:  # everything else wrong, in the same round
        rest = [q for q in exc.problems if q.field != "scenario.name"]
    raise InputError(_unique(reader.pending + rest))


def scenario_from_dict(doc: dict, file: str = "<scenario>", origins: dict | None = None
                       ) -> Scenario:
    """Validate an already parsed scenario document (see :func:`load_scenario`).

    Args:
        doc: The document.
        file: The file name to report.
        origins: Where entries come from when bases were merged (problems in them
            name that file).
    """
    if not doc:
        raise InputError.single(file, "(file)", "empty",
                                "a scenario with [scenario], [parameters] and [unknowns]")
    origins = origins or {}
    try:
        sc = validate(Scenario, doc, file)
    except InputError as exc:
        # one round: what the schema rejects and what the other checks find in the rest
        problems = exc.problems + _semantic_problems(doc, file)
        raise InputError(_located(origins, _unique(problems))) from None
    sc._origins = origins
    problems = _semantic_problems(doc, file, sc)
    if problems:
        raise InputError(sc.located(problems))
    return sc


def _unique(problems: list[Problem]) -> list[Problem]:
    """``problems`` without repeats (the same field and complaint reported twice)."""
    seen: set = set()
    out = []
    for p in problems:
        key = (p.file, p.field, p.allowed)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out

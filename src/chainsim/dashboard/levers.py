"""Lever settings -> a validated scenario (pure Python, no UI).

The dashboard's levers are what policy controls. Each one becomes a dated
intervention added to a base scenario (the baseline, or a shipped scenario loaded
as a facilitator preset); a lever at its neutral position adds nothing, so the
neutral levers on the baseline give the baseline itself. The unknowns (what
nobody knows) are set separately and apply to both arms of a comparison: they
replace the central value of the scenario's ``[unknowns]`` entries.

The result is built as a plain document and validated by the same pydantic
configuration as a scenario file (:func:`chainsim.chain.config.scenario_from_dict`), so
the dashboard cannot run anything a scenario file could not say.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from chainsim.chain.config import Scenario, load_scenario, scenario_from_dict
from chainsim.chain.errors import InputError
from chainsim.chain.months import format_month, parse_month
from chainsim.chain.parameters import resolve

SCENARIO_DIR = Path(__file__).resolve().parents[3] / "scenarios"
"""``scenarios/`` of the source checkout chainsim is installed from (the presets)."""

BASELINE_FILE = SCENARIO_DIR / "baseline.toml"

RAMP_MONTHS = 12
"""Lever interventions phase in linearly over this many months."""

SOURCE_TECHNICAL_2019 = 0.41
"""Technical dismissals as a share of OM decisions in 2019 (Dadermonitor)."""

SOURCE_PRISON_MONTHS = 20.0
"""Mean unconditional prison term 2015-2019 in months (Dadermonitor: 1 year 8 months)."""


@dataclass(frozen=True)
class LeverSpec:
    """One lever: its range, step and how it reads.

    Attributes:
        key: Field name on :class:`Levers`.
        parameter: The chain parameter it changes.
        low: Smallest slider value.
        high: Largest slider value.
        step: Slider step.
        unit: ``share`` (0-1 shown as %), ``places`` (0 = no limit), ``per_year``,
            ``factor`` or ``reduction``.
    """

    key: str
    parameter: str
    low: float
    high: float
    step: float
    unit: str


LEVERS: tuple[LeverSpec, ...] = (
    LeverSpec("probation", "probation_share_prison", 0.0, 1.0, 0.01, "share"),
    LeverSpec("places", "probation_capacity", 0.0, 200.0, 5.0, "places"),
    LeverSpec("prevention", "inflow_rate", 0.0, 0.6, 0.01, "reduction"),
    LeverSpec("capacity", "investigation_capacity", 50.0, 400.0, 5.0, "per_year"),
    LeverSpec("evidence", "technical_dismissal_share", 0.3, 1.5, 0.01, "factor"),
    LeverSpec("sentence", "prison_months_mean", 0.5, 2.0, 0.05, "factor"),
    LeverSpec("inspection", "inspection_hazard", 1.0, 3.0, 0.05, "factor"),
)
"""The levers, in panel order."""

LEVER_BY_KEY: dict[str, LeverSpec] = {spec.key: spec for spec in LEVERS}


@dataclass(frozen=True)
class Levers:
    """Lever positions. ``None`` means "as in the preset" (``probation``, ``places``, ``capacity``).

    Attributes:
        probation: Base share of prison releases supervised (``probation_share_prison``;
            higher-risk offenders more often, :func:`chainsim.chain.spec.supervision_probability`).
        places: Trafficking offenders the probation service can supervise at once
            (``probation_capacity``; 0 = no limit). A supervision ordered when every
            place is taken does not start (``probation_refused``).
        prevention: Fraction fewer under-23s start offending (``inflow_rate`` x (1 - v)
            for offenders under 23, every form).
        capacity: Police investigations that can start per year.
        evidence: Multiplier of technical dismissals (better evidence < 1).
        sentence: Multiplier of the mean unconditional prison term.
        inspection: Multiplier of labour-sector inspections (labour exploitation).
        start_year: Year the levers take effect (January, phased in over
            :data:`RAMP_MONTHS`).
    """

    probation: float | None = None
    places: float | None = None
    prevention: float = 0.0
    capacity: float | None = None
    evidence: float = 1.0
    sentence: float = 1.0
    inspection: float = 1.0
    start_year: int = 2021

    def with_value(self, key: str, value: float | int | None) -> Levers:
        """A copy with one lever moved."""
        return replace(self, **{key: value})


@dataclass(frozen=True)
class Settings:
    """Everything that defines the current scenario of the dashboard.

    Attributes:
        preset: File name of the base scenario in ``scenarios/`` (a shipped scenario).
        levers: Lever positions (added on top of the preset).
        unknowns: Values chosen for declared unknowns (name -> value), replacing
            their central values; missing names keep theirs.
    """

    preset: str = "baseline.toml"
    levers: Levers = field(default_factory=Levers)
    unknowns: tuple[tuple[str, float], ...] = ()

    def unknown_values(self) -> dict[str, float]:
        """The chosen unknowns as a dict."""
        return dict(self.unknowns)

    def with_unknown(self, name: str, value: float) -> Settings:
        """A copy with one unknown set."""
        values = self.unknown_values() | {name: float(value)}
        return replace(self, unknowns=tuple(sorted(values.items())))


NOT_PRESETS = ("stress_",)
"""File-name prefixes of shipped scenarios that are test cases, not workshop presets
(``stress_million.toml``: a million offenders, for the scale tests only)."""


USER_SCENARIOS_ENV = "CHAINSIM_SCENARIOS"
"""Environment variable naming a folder of the user's own scenarios offered as presets
beside the shipped ones (``chainsim dashboard --scenarios DIR`` sets it)."""


def user_scenario_dir() -> Path | None:
    """The folder of the user's own presets (``None``: only the shipped ones)."""
    value = os.environ.get(USER_SCENARIOS_ENV)
    return Path(value) if value else None


def _presets_in(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.glob("*.toml") if not p.name.startswith(NOT_PRESETS))


def shipped_presets(directory: Path | None = None) -> list[str]:
    """File names of the scenarios usable as presets, baseline first.

    Args:
        directory: Only this folder's scenarios; by default the shipped ones and then
            those of the user's folder (:func:`user_scenario_dir`), if any.
    """
    if directory is not None:
        names = _presets_in(directory)
    else:
        names = _presets_in(SCENARIO_DIR)
        extra = user_scenario_dir()
        if extra is not None:
            names += [n for n in _presets_in(extra) if n not in names]
    return sorted(names, key=lambda n: n != "baseline.toml")


def preset_path(name: str, directory: Path | None = None) -> Path:
    """Where a preset's file is (the shipped folder first, then the user's).

    Raises:
        ValueError: If ``name`` is not a preset's file name.
    """
    if name not in shipped_presets(directory):
        raise ValueError(f"not a shipped scenario: {name!r}")
    if directory is not None:
        return directory / name
    shipped = SCENARIO_DIR / name
    extra = user_scenario_dir()
    return shipped if shipped.exists() or extra is None else extra / name


@lru_cache(maxsize=32)
def load_preset(name: str, directory: Path | None = None) -> Scenario:
    """Load a preset by file name (only files directly in its folder).

    The file is read confined to its folder (the dashboard serves others): relative
    bases must stay inside it; shipped bases (``chainsim:NAME``) are allowed.

    Raises:
        ValueError: If ``name`` is not a preset's file name.
    """
    return load_scenario(preset_path(name, directory), confined=True)


def check_user_scenarios(directory: Path) -> list[str]:
    """Load every scenario of the user's folder once, before the dashboard starts.

    Returns:
        Their file names.

    Raises:
        InputError: A file that does not load (its field and value named), a folder
            that does not exist or holds no scenario, or a file named like a shipped
            scenario (it would be hidden by it).
    """
    if not directory.is_dir():
        raise InputError.single("<command line>", "--scenarios", str(directory),
                                "a folder of scenario files (.toml)")
    names = _presets_in(directory)
    if not names:
        raise InputError.single("<command line>", "--scenarios", str(directory),
                                "a folder with at least one scenario file (.toml)")
    clashes = [n for n in names if (SCENARIO_DIR / n).exists()]
    if clashes:
        raise InputError.single(str(directory / clashes[0]), "file name", clashes[0],
                                "a name no shipped scenario has (rename it, e.g. my_"
                                f"{clashes[0]}); shipped: {', '.join(_presets_in(SCENARIO_DIR))}")
    for name in names:
        load_scenario(directory / name, confined=True)
    return names


@lru_cache(maxsize=32)
def neutral_values(preset: str, start_year: int) -> dict[str, float]:
    """What ``probation``, ``places`` and ``capacity`` are in a preset once it has taken effect.

    Read from the resolved parameters at January of ``start_year`` or, if later, when
    the last of the preset's own interventions has fully phased in (so a preset that
    raises capacity to 200 from 2021 over a year reads 200, not the 153 of its ramp's
    first month); the default stratum for probation (it does not vary by form in the
    baseline). ``places`` 0 means no limit.
    """
    scenario = load_preset(preset)
    params = resolve(scenario)
    settled = [parse_month(iv.start) + (iv.ramp_months or 0) for iv in scenario.interventions]
    month = max([parse_month(f"{start_year}-01"), *settled])
    t = min(max(month - params.start, 0), params.n_months)
    return {"probation": params.at("probation_share_prison", t),
            "places": params.at("probation_capacity", t),
            "capacity": params.at("investigation_capacity", t)}


def lever_interventions(levers: Levers, preset: str = "baseline.toml") -> list[dict]:
    """The interventions the levers add to a preset (nothing for neutral levers)."""
    start = f"{levers.start_year}-01"
    common = {"start": start, "ramp_months": RAMP_MONTHS}
    neutral = neutral_values(preset, levers.start_year)
    out: list[dict] = []

    def add(name: str, parameter: str, operation: str, value: float, note: str,
            target: dict | None = None, ramp: bool = True) -> None:
        entry = {"name": f"lever: {name}", "parameter": parameter, "operation": operation,
                 "value": float(value), "note": note,
                 **(common if ramp else {"start": start})}
        if target:
            entry["target"] = target
        out.append(entry)

    if levers.probation is not None and abs(levers.probation - neutral["probation"]) > 1e-6:
        add("probation coverage", "probation_share_prison", "set", levers.probation,
            "dashboard lever: share of prison releases under probation supervision")
    if levers.places is not None and abs(levers.places - neutral["places"]) > 1e-6:
        # no ramp: a linear ramp from 0 (no limit) would pass through a few places, a
        # tighter limit than the one chosen
        add("probation places", "probation_capacity", "set", levers.places,
            "dashboard lever: places for trafficking offenders under probation supervision "
            "at once (0 = no limit)", ramp=False)
    if levers.prevention > 0:
        add("prevention among young people", "inflow_rate", "multiply",
            1.0 - levers.prevention,
            "dashboard lever: fewer offenders under 23 start offending (every form)",
            {"age_group": ["under23"]})
    if levers.capacity is not None and abs(levers.capacity - neutral["capacity"]) > 1e-6:
        add("investigation capacity", "investigation_capacity", "set", levers.capacity,
            "dashboard lever: police investigations that can start per year")
    if levers.evidence != 1.0:
        add("evidence quality", "technical_dismissal_share", "multiply", levers.evidence,
            "dashboard lever: technical dismissals (lack of evidence) relative to now")
    if levers.sentence != 1.0:
        add("sentence length", "prison_months_mean", "multiply", levers.sentence,
            "dashboard lever: mean unconditional prison term relative to now")
    if levers.inspection != 1.0:
        add("labour-sector inspection", "inspection_hazard", "multiply", levers.inspection,
            "dashboard lever: labour inspectorate takes up labour exploitation cases",
            {"form": ["labour"]})
    return out


def with_unknowns(doc: dict, unknowns: dict[str, float]) -> dict:
    """A scenario document with the central values of some unknowns replaced."""
    table = {name: dict(entry) for name, entry in doc.get("unknowns", {}).items()}
    for name, value in unknowns.items():
        if name in table:
            table[name]["central"] = float(value)
    return {**doc, "unknowns": table}


def _document(scenario: Scenario) -> dict:
    doc = scenario.model_dump(mode="json", exclude_none=True)
    doc.pop("base", None)
    doc.pop("calibration", None)
    return doc


def baseline_scenario(settings: Settings) -> Scenario:
    """The comparison's baseline: ``baseline.toml`` with the chosen unknowns."""
    doc = with_unknowns(_document(load_preset("baseline.toml")), settings.unknown_values())
    return scenario_from_dict(doc, "<dashboard baseline>")


def current_scenario(settings: Settings) -> Scenario:
    """The scenario the levers describe: preset + lever interventions + chosen unknowns.

    Raises:
        chainsim.chain.errors.InputError: If the result is not a valid scenario (the
            levers' ranges keep this from happening in practice).
    """
    base = load_preset(settings.preset)
    doc = with_unknowns(_document(base), settings.unknown_values())
    added = lever_interventions(settings.levers, settings.preset)
    if added or settings.unknowns:
        stem = base.name if settings.preset != "baseline.toml" or added else "baseline"
        doc["scenario"] = {**doc["scenario"], "name": f"{stem}_levers" if added else stem}
    doc["interventions"] = [*doc.get("interventions", []), *added]
    return scenario_from_dict(doc, "<dashboard levers>")


def unknown_ranges(scenario: Scenario) -> dict[str, tuple[float, float, float]]:
    """The scenario's ``[unknowns]``: name -> (central, low, high), in catalogue order."""
    return {name: (e.central, e.low, e.high) for name, e in scenario.unknowns.items()}


def lever_period(levers: Levers, scenario: Scenario) -> tuple[int, int]:
    """The comparison period: the lever start (or the preset's first intervention) to the end."""
    end = parse_month(scenario.scenario.end)
    starts = [parse_month(iv.start) for iv in scenario.interventions]
    start = min([parse_month(f"{levers.start_year}-01"), *starts])
    return min(start, end), end


def describe_period(period: tuple[int, int]) -> str:
    """``"2021-01..2035-12"``."""
    return f"{format_month(period[0])}..{format_month(period[1])}"


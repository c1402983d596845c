"""The posterior ensemble: parameter sets that reproduce the source's figures.

``chainsim calibrate --posterior`` writes ``calibration/posterior.parquet``: one row per
member, the calibration knobs (``parameter.field``, e.g. ``signal_hazard.scale``) and the
declared unknowns on their natural scale, with the run's provenance in the file's
metadata. A replication that uses member ``i`` applies the member's knobs to its arm's
scenario (:func:`with_knobs`) and resolves it with the member's unknowns; every arm of a
comparison gets the same member (common parameters, as common random numbers).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from chainsim.chain.config import Scenario, scenario_from_dict
from chainsim.chain.errors import InputError, Problem
from chainsim.chain.spec import NOT_INTERVENABLE
from chainsim.experiments.calibrate import DEFAULT_KNOBS, apply_knobs

DEFAULT_ENSEMBLE = Path(__file__).resolve().parents[3] / "calibration" / "posterior.parquet"
"""``calibration/posterior.parquet`` of the source checkout chainsim is installed from."""
KNOB_PREFIX = "knob:"
"""Prefix of a knob's key among a replication's draws (unknowns go by their name)."""
META_COLUMNS = ("member", "log_likelihood", "log_posterior", "step", "walker",
                "chain_log_likelihood", "log_weight", "candidate", "draw")
"""Columns of the ensemble file that are not parameters."""
HOW_TO_MAKE = ("run `chainsim calibrate --posterior` to sample the posterior ensemble "
               "(it writes calibration/posterior.parquet)")


@dataclass(frozen=True)
class Ensemble:
    """A posterior ensemble.

    Attributes:
        path: The file.
        knobs: Knob columns (``parameter.field``).
        unknowns: Unknown columns (parameter names).
        values: ``(members, knobs + unknowns)``, natural scale.
        provenance: The run's provenance (``posterior.json``'s document).
    """

    path: Path
    knobs: tuple[str, ...]
    unknowns: tuple[str, ...]
    values: np.ndarray
    provenance: dict

    def __len__(self) -> int:
        return len(self.values)

    @property
    def caveat(self) -> str | None:
        """Why the ensemble's intervals are only indicative (its provenance's status), if so."""
        status = self.provenance.get("status") or {}
        if status.get("converged", True):
            return None
        return status.get("note") or "the posterior ensemble is provisional (not converged)"

    @property
    def parameters(self) -> tuple[str, ...]:
        """The scenario parameters it sets per member: its knobs' and its unknowns."""
        by_name = {k.name: k.parameter for k in DEFAULT_KNOBS}
        knobs = (by_name.get(k, k.split(".", 1)[0]) for k in self.knobs)
        return tuple(dict.fromkeys((*knobs, *self.unknowns)))

    def draws(self, member: int) -> dict[str, float]:
        """Member ``member``'s values as a replication's draws (knobs prefixed)."""
        row = self.values[member]
        out = {KNOB_PREFIX + k: float(v) for k, v in zip(self.knobs, row, strict=False)}
        out |= {u: float(v) for u, v in zip(self.unknowns, row[len(self.knobs):],
                                            strict=True)}
        return out


def load_ensemble(path: Path | str | None = None) -> Ensemble:
    """Read a posterior ensemble.

    Raises:
        InputError: If the file is missing or is not an ensemble chainsim wrote (the
            message says how to make one).
    """
    import pyarrow.parquet as pq

    path = Path(path) if path is not None else DEFAULT_ENSEMBLE
    if not path.is_file():
        raise InputError([Problem(str(path), "posterior ensemble", "missing", HOW_TO_MAKE)])
    try:
        table = pq.read_table(path)
        meta = (table.schema.metadata or {}).get(b"chainsim_posterior")
        provenance = json.loads(meta) if meta else None
    except Exception as exc:
        raise InputError([Problem(str(path), "posterior ensemble", type(exc).__name__,
                                  "a Parquet file written by chainsim calibrate --posterior; "
                                  + HOW_TO_MAKE)]) from None
    if provenance is None or "priors" not in provenance:
        raise InputError([Problem(str(path), "metadata", "no chainsim_posterior provenance",
                                  "a Parquet file written by chainsim calibrate --posterior; "
                                  + HOW_TO_MAKE)])
    stale = _stale_calibration(path, provenance)
    if stale:
        raise InputError([Problem(str(path), "calibration_sha256", stale,
                                  "the calibration it was sampled on: "
                                  f"{provenance['calibration_file']} has changed since; "
                                  + HOW_TO_MAKE)])
    frame = table.to_pandas()
    known = {k.name for k in DEFAULT_KNOBS}
    columns = [c for c in frame.columns if c not in META_COLUMNS]
    missing = [c for c in provenance["priors"] if c not in frame.columns]
    if missing or not len(frame):
        raise InputError([Problem(str(path), "columns", ", ".join(missing) or "no members",
                                  "every parameter of its provenance, and members")])
    knobs = tuple(c for c in columns if c in known)
    unknowns = tuple(c for c in columns if c not in known)
    values = frame[list(knobs + unknowns)].to_numpy(dtype=float)
    return Ensemble(path, knobs, unknowns, values, provenance)


def _stale_calibration(path: Path, provenance: dict) -> str | None:
    """The current hash of the calibration file beside the ensemble, if it differs."""
    import hashlib

    name, digest = provenance.get("calibration_file"), provenance.get("calibration_sha256")
    if not name or not digest:
        return None
    current = path.parent / name
    if not current.is_file():
        return None  # an ensemble copied elsewhere: nothing to compare with
    now = hashlib.sha256(current.read_bytes()).hexdigest()
    return None if now == digest else now[:16] + "..."


def split_draws(draws: dict[str, float]) -> tuple[dict[str, float], dict[str, float]]:
    """A replication's draws as ``(knob values, the rest)``."""
    knobs = {k[len(KNOB_PREFIX):]: v for k, v in draws.items() if k.startswith(KNOB_PREFIX)}
    rest = {k: v for k, v in draws.items() if not k.startswith(KNOB_PREFIX)}
    return knobs, rest


def with_knobs(scenario: Scenario, knobs: dict[str, float]) -> Scenario:
    """``scenario`` with calibration knobs set (a member's), validated again."""
    if not knobs:
        return scenario
    return _with_knobs(scenario.model_dump_json(exclude_none=True),
                       tuple(sorted(knobs.items())))


@lru_cache(maxsize=64)
def _with_knobs(dump: str, items: tuple[tuple[str, float], ...]) -> Scenario:
    doc = json.loads(dump)
    doc.pop("base", None)
    doc.pop("calibration", None)
    values = dict(items)
    # in the calibration's order, as the posterior applied them (a form's value is set
    # before or after a scale of the same parameter: the order matters)
    chosen = tuple(k for k in DEFAULT_KNOBS if k.name in values)
    doc = apply_knobs(doc, chosen, np.array([values[k.name] for k in chosen]))
    return scenario_from_dict(doc, "<posterior member>")


def replication_draws(scenarios: list[Scenario], seeds: list, ensemble: Ensemble
                      ) -> list[dict[str, float]]:
    """Each replication's draws: member ``i`` of the ensemble for replication ``i``.

    Unknowns the ensemble does not hold — an intervention's uncertain effect size, about
    which the source's figures say nothing — are drawn from their declared triangular
    ranges as before (:func:`chainsim.chain.uncertainty.sample_unknowns`), per
    replication, shared by the arms that declare them.

    Raises:
        InputError: If there are more replications than members.
    """
    from chainsim.chain.uncertainty import declared_unknowns, sample_unknowns

    if len(seeds) > len(ensemble):
        raise InputError([Problem(str(ensemble.path), "members", len(ensemble),
                                  f"at least one per replication ({len(seeds)}): fewer "
                                  "replications, or a larger ensemble (chainsim calibrate "
                                  "--posterior --members N)")])
    held = set(ensemble.unknowns)
    others = {k: v for k, v in declared_unknowns(scenarios).items() if k not in held}
    return [ensemble.draws(i) | sample_unknowns(others, s) for i, s in enumerate(seeds)]


def check_arms(baseline: Scenario, scenarios: list[Scenario], ensemble: Ensemble) -> None:
    """Refuse arms whose own setting of a parameter the ensemble draws would be lost.

    A member's knobs and unknowns replace what a scenario's ``[parameters]`` or
    ``[unknowns]`` entry says of those parameters (:func:`with_knobs`,
    :func:`chainsim.chain.parameters.resolve`), in every arm alike: an arm that changes
    such an entry from the baseline's would silently lose its change. Interventions are
    applied after the member's values, so a change written as an intervention is kept.

    Args:
        baseline: The comparison's baseline.
        scenarios: The compared scenarios (arms 1..n).
        ensemble: The posterior ensemble the replications use.

    Raises:
        InputError: One problem per differing field of such an entry (file, field, the
            arm's value, the baseline's and what to write instead).
    """
    problems: list[Problem] = []
    drawn = ensemble.parameters
    where = f"{ensemble.path.parent.name}/{ensemble.path.name}"
    for sc in scenarios:
        found = []
        for name in drawn:
            if not _declares(sc, name) or not _declares(baseline, name):
                continue
            table = "parameters" if name in sc.parameters else "unknowns"
            ours, theirs = _settings(sc, name), _settings(baseline, name)
            instead = NOT_INTERVENABLE.get(name) or (
                "express the change as an intervention instead ([[interventions]] with "
                f'parameter = "{name}", applied on top of each member)')
            for key in sorted(set(ours) | set(theirs)):
                if ours.get(key) == theirs.get(key):
                    continue
                found.append(Problem(
                    sc.name, f"{table}.{name}.{key}", ours.get(key, "(not set)"),
                    f"the baseline's {theirs.get(key, '(not set)')!r}: the posterior ensemble "
                    f"({where}) sets {name} per member and would replace this setting; "
                    + instead))
        problems += sc.located(found)
    if problems:
        raise InputError(problems)


def _declares(scenario: Scenario, name: str) -> bool:
    return name in scenario.parameters or name in scenario.unknowns


def _settings(scenario: Scenario, name: str) -> dict:
    """A parameter's entry as the model reads it (its note left out)."""
    entry = scenario.entry(name).model_dump(mode="json", exclude_none=True)
    entry.pop("note", None)
    return entry

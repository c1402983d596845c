"""Shared fixtures and helpers for the chainsim test suite.

Model runs use ``tests/data/short.toml``: the baseline scenario on a 2012-2017
horizon (about one second per replication instead of four).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from chainsim.chain.config import Scenario, load_scenario, scenario_from_dict
from chainsim.chain.parameters import ParameterSet, resolve
from chainsim.chain.spec import AGE_GROUPS, EVENT_NAMES, FORMS, PARAMETERS, SEXES, STAGE_NAMES
from chainsim.engines.records import COLUMNS, RecordLog

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
DATA = TESTS / "data"
SHORT = DATA / "short.toml"
BASELINE = ROOT / "scenarios" / "baseline.toml"

SEED = 1
"""Seed of every model run in the suite (fixed so statistical checks are reproducible)."""


# ------------------------------------------------------------------ scenario helpers


def short_doc() -> dict:
    """A fresh parsed copy of the short scenario (safe to modify)."""
    return tomllib.loads(SHORT.read_text(encoding="utf-8"))


def set_param(doc: dict, name: str, value: float, **extra) -> dict:
    """Give parameter ``name`` one plain value (no by_form, factors or trend), in place.

    Unknowns get ``central = value`` with their range widened to contain it.
    ``extra`` keys (e.g. ``young_factor``) are set on the entry afterwards.
    """
    if PARAMETERS[name].role == "unknown":
        entry = doc["unknowns"][name]
        entry["central"] = value
        entry["low"] = min(entry["low"], value)
        entry["high"] = max(entry["high"], value)
    else:
        entry = doc["parameters"][name]
        entry["value"] = value
    for key in ("by_form", "young_factor", "female_factor", "trend"):
        entry.pop(key, None)
    entry.update(extra)
    return doc


def variant_doc(changes: dict[str, float] | None = None) -> dict:
    """The short scenario's document with some parameters set to plain values."""
    doc = short_doc()
    for name, value in (changes or {}).items():
        set_param(doc, name, value)
    return doc


def make_scenario(changes: dict[str, float] | None = None, doc: dict | None = None) -> Scenario:
    """A validated scenario: the short one with ``changes`` applied (or ``doc`` as given)."""
    return scenario_from_dict(doc if doc is not None else variant_doc(changes), "<test>")


def make_params(changes: dict[str, float] | None = None, doc: dict | None = None) -> ParameterSet:
    """Resolved parameters of :func:`make_scenario`."""
    return resolve(make_scenario(changes, doc), "<test>")


def run_model(changes: dict[str, float] | None = None, seed: int = SEED,
              doc: dict | None = None):
    """Run the agent model over the whole short horizon; returns ``(model, records)``."""
    from chainsim.engines.model import ChainModel

    model = ChainModel(make_params(changes, doc), seed).run()
    return model, model.records.to_frame()


def capped_params(places: float = 8, start: str = "2015-01") -> ParameterSet:
    """The short scenario with a probation capacity of ``places`` from ``start`` (binding)."""
    doc = short_doc()
    doc["interventions"] = [{"name": "probation places", "parameter": "probation_capacity",
                             "operation": "set", "value": places, "start": start,
                             "note": "a test: fewer places than the caseload"}]
    return make_params(doc=doc)


ENSEMBLE_PRIORS = {"signal_hazard.scale": {"kind": "knob"},
                   "conviction_prob.scale": {"kind": "knob"}, "resume_share": {"kind": "unknown"}}
"""The provenance's priors of the small ensembles the tests write (:func:`write_ensemble`)."""


def write_ensemble(path, frame: pd.DataFrame, provenance: dict | None = None) -> None:
    """A posterior ensemble file as ``chainsim calibrate --posterior`` writes it."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    meta = {} if provenance is None else {b"chainsim_posterior": json.dumps(provenance)}
    pq.write_table(table.replace_schema_metadata(meta), path)


NON_BINDING_CAPACITY = 1e6
"""Investigation capacity so large the queue never binds (removes the one interaction
between offenders: competition for investigation places)."""


# ------------------------------------------------------------------ record helpers


def make_records(rows: Iterable[dict]) -> pd.DataFrame:
    """A record table with the engine's dtypes, built from readable rows.

    Each row needs ``agent_id``, ``month``, ``event``; the rest default to a plausible
    value (``from_stage``/``to_stage`` ``free``, form ``domestic_sexual``, age 30,
    ``23plus``, male, no priors, not on probation, value NaN). The table is made by the
    engine's own :class:`chainsim.engines.records.RecordLog`, so its dtypes are the engine's.
    """
    defaults = {"from_stage": "free", "to_stage": "free", "form": "domestic_sexual",
                "age": 30, "age_group": "23plus", "sex": "male", "priors": 0,
                "probation": False, "value": np.nan}
    codes = {"from_stage": STAGE_NAMES, "to_stage": STAGE_NAMES, "event": EVENT_NAMES,
             "form": FORMS, "age_group": AGE_GROUPS, "sex": SEXES}
    log = RecordLog()
    for row in rows:
        full = {**defaults, **row}
        for col, names in codes.items():
            full[col] = names.index(full[col])
        log.append(*(full[c] for c in COLUMNS))
    return log.to_frame()


def with_order(records: pd.DataFrame) -> pd.DataFrame:
    """Records with ``pos`` (global order) and ``i`` (the agent's record number) columns."""
    out = records.reset_index(drop=True)
    out["pos"] = np.arange(len(out))
    out["i"] = out.groupby("agent_id").cumcount()
    return out


def is_point(records: pd.DataFrame) -> pd.Series:
    """Point events: records whose from-stage equals the to-stage."""
    return records["from_stage"].astype(str) == records["to_stage"].astype(str)


def previous_event(records: pd.DataFrame) -> pd.Series:
    """The event of each record's previous record of the same agent ('' for the first)."""
    ev = records["event"].astype(str)
    return ev.groupby(records["agent_id"]).shift(1).fillna("")


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="session")
def short_scenario() -> Scenario:
    return load_scenario(SHORT)


@pytest.fixture(scope="session")
def short_params(short_scenario) -> ParameterSet:
    return resolve(short_scenario, str(SHORT))


@pytest.fixture(scope="session")
def baseline_run(short_params):
    """``(model, records)`` of one run of the short scenario with :data:`SEED` (read only)."""
    from chainsim.engines.model import ChainModel

    model = ChainModel(short_params, SEED).run()
    return model, model.records.to_frame()


@pytest.fixture(scope="session")
def baseline_records(baseline_run) -> pd.DataFrame:
    return baseline_run[1]


@pytest.fixture
def doc_factory() -> Callable[..., dict]:
    """Build a fresh scenario document with some parameters set to plain values."""
    return variant_doc


# ------------------------------------------------------------------ a real Dask cluster


@pytest.fixture(scope="session")
def dask_scheduler(tmp_path_factory) -> Iterable[str]:
    """Address of a real local Dask cluster: ``dask scheduler`` and two ``dask worker``
    processes (one thread each) started from this venv, stopped after the session.

    The workers get ``tests/`` and its folders of test modules on their path (as pytest
    imports them: ``test_pool``, not ``experiments.test_pool``) so test modules'
    functions can run there.
    """
    import os
    import subprocess
    import sys

    from distributed import Client

    bindir = Path(sys.executable).parent
    workdir = tmp_path_factory.mktemp("dask")
    scheduler_file = workdir / "scheduler.json"
    folders = sorted(str(d) for d in TESTS.iterdir() if d.is_dir()
                     and not (d / "__init__.py").exists() and any(d.glob("test_*.py")))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(TESTS), *folders, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    log = open(workdir / "cluster.log", "w")
    procs = [subprocess.Popen(
        [str(bindir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
         "--no-dashboard", "--scheduler-file", str(scheduler_file)],
        cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)]
    try:
        import time

        deadline = time.monotonic() + 60
        while not scheduler_file.exists():
            if time.monotonic() > deadline or procs[0].poll() is not None:
                raise RuntimeError(f"dask scheduler did not start; see {workdir}/cluster.log")
            time.sleep(0.1)
        procs.append(subprocess.Popen(
            [str(bindir / "dask"), "worker", "--scheduler-file", str(scheduler_file),
             "--nworkers", "2", "--nthreads", "1", "--no-dashboard", "--memory-limit", "0",
             "--local-directory", str(workdir)],
            cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT))
        with Client(scheduler_file=str(scheduler_file), timeout="30s") as client:
            client.wait_for_workers(2, timeout=90)
            address = client.scheduler.address
        yield address
    finally:
        for proc in reversed(procs):  # workers first (their nannies stop their processes)
            proc.terminate()
        for proc in reversed(procs):
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()

"""Run a scenario and write everything a run produces to one directory.

Files (each written atomically: a temporary file renamed into place):

- ``records.parquet``: every event record of every replication (column ``rep``
  added), with provenance (scenario, config hash, seed, versions) in the file's
  metadata; streamed one replication at a time.
- ``annual_flows.csv``: flows by replication, year, event, form and age group.
- ``yearly_metrics.csv``: every metric by replication and year.
- ``summary.json``: the summary document (see :mod:`chainsim.summary`).
- ``funnel.png``: the 2015-2019 yearly average per stage beside the source.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

from chainsim.config import Scenario
from chainsim.experiment import Replication, run
from chainsim.output import ParquetStream, write_csv, write_figure, write_json
from chainsim.parameters import ParameterSet
from chainsim.summary import summary_document, versions
from chainsim.targets import DEFAULT_TARGETS, load_targets


def run_to_directory(scenario: Scenario, params: ParameterSet, out: Path, reps: int, seed: int,
                     workers: int | None = None, progress: bool = False,
                     uncertainty: bool = False) -> dict:
    """Run ``reps`` replications and write the run's files to ``out``.

    Args:
        scenario: The validated scenario.
        params: Its resolved parameters.
        out: Output directory (created if needed).
        reps: Replications.
        seed: The run's seed.
        workers: Worker processes (default: one per core).
        progress: Show a progress bar on stderr.
        uncertainty: Sample the declared unknowns per replication.

    Returns:
        The summary document.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    provenance = {"scenario": scenario.name, "config_hash": scenario.config_hash(),
                  "seed": str(seed), "reps": str(reps), "engine": "agents",
                  "uncertainty": str(uncertainty).lower(),
                  "versions": json.dumps(versions(), sort_keys=True)}
    stream = ParquetStream(out / "records.parquet", provenance)
    bar = _progress(reps, progress)

    def on_replication(rep: Replication) -> None:
        stream.write(rep.records.assign(rep=rep.rep))
        bar.update(1)

    try:
        result = run(scenario, reps=reps, seed=seed, workers=workers,
                     on_replication=on_replication, params=params, uncertainty=uncertainty)
    except BaseException:
        stream.close(ok=False)
        bar.close()
        raise
    stream.close()
    bar.close()
    doc = summary_document(result)
    write_csv(out / "annual_flows.csv", result.flows())
    write_csv(out / "yearly_metrics.csv", result.yearly())
    write_json(out / "summary.json", doc)
    targets = load_targets(DEFAULT_TARGETS) if DEFAULT_TARGETS.exists() else None
    window = pd.DataFrame([r.window for r in result.reps])
    from chainsim.plots import funnel_figure

    write_figure(out / "funnel.png", lambda p: funnel_figure(
        window, targets, p, f"{scenario.name}: the chain, 2015-2019 yearly average "
                            f"({reps} replications)"))
    return doc


def _progress(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc="replications", unit="rep", file=sys.stderr,
                disable=not enabled or not sys.stderr.isatty())


def save_comparison(cmp, doc: dict, out: Path) -> None:
    """Write a comparison's tables to ``out`` (what :mod:`chainsim.report` reads).

    Files: ``comparison.json`` (the document), ``proxies.csv`` (every proxy per arm
    and replication), ``yearly.csv`` (chain metrics per arm, replication and year),
    ``survival.csv`` (Kaplan-Meier curves), ``draws.csv`` (the unknowns' sampled
    values, with ``--uncertainty``), ``scenarios.json`` (the validated scenarios).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / "proxies.csv", cmp.proxies())
    write_csv(out / "yearly.csv", cmp.yearly())
    write_csv(out / "survival.csv", cmp.survival())
    write_csv(out / "draws.csv", cmp.draws())
    write_json(out / "scenarios.json",
               [sc.model_dump(mode="json") for sc in cmp.arms])  # type: ignore[arg-type]
    write_json(out / "comparison.json", doc)

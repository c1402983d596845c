"""Running a sweep: every design point, every replication, every arm; streamed to Parquet.

Replication ``r`` of every point and arm uses ``SeedSequence(seed).spawn(reps)[r]``:
common random numbers across arms (paired deltas) and across points (differences
between points are not blurred by different noise).

Output directory (default ``results/sweep-<name>``):

- ``sweep.json``: the manifest (design file, digest, seed, versions, factors, run
  count, status); written first, so a later call knows what the directory holds.
- ``design.csv``: the design matrix (point 0 = centre).
- ``parts/part-NNNNN.parquet``: results in chunks of a fixed number of tasks (a
  task is one point and replication, all arms), each written atomically as it
  completes, in task order; the chunking depends only on the design, never on the
  workers or the backend.
- ``results.parquet``: all chunks in order, one row per point, replication and arm
  (``point``, ``rep``, ``arm``, ``scenario``, the factor values, every proxy of
  :data:`chainsim.analysis.proxies.PROXIES`), with provenance in the file metadata (design
  digest, scenario config hashes, seed, versions). Written atomically at the end.

An interrupted sweep (Ctrl-C, SIGKILL, a crash) resumes when run again with the
same design and output directory: finished chunks are kept, the rest computed.
Because every task is a pure function of the design and its seed, the resumed
result is identical to an uninterrupted one.
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from chainsim.chain.config import Scenario
from chainsim.chain.errors import InputError
from chainsim.experiments.design import Design
from chainsim.experiments.pool import default_workers, map_ordered
from chainsim.experiments.progress import progress_bar
from chainsim.files import atomic_path, write_csv, write_json

TARGET_CHUNKS = 200
"""About how many part files a sweep is split into (resume granularity)."""


@dataclass(frozen=True)
class SweepContext:
    """What every task of a sweep needs (shipped to each worker once)."""

    arms: tuple[Scenario, ...]
    seeds: tuple[np.random.SeedSequence, ...]
    period: tuple[int, int]
    engine: str


def sweep_task(ctx: SweepContext, task: tuple[int, dict[str, float], int]) -> list[dict]:
    """One point and replication, every arm: rows of proxies.

    Args:
        ctx: The sweep's shared context.
        task: ``(point, factor values, replication)``.

    Returns:
        One row per arm (``point``, ``rep``, ``arm`` and the proxies).
    """
    from chainsim.experiments.evaluate import Outcomes, evaluate_replication

    point, values, rep = task
    # an intervention factor only changes the arm that has the intervention:
    # resolve() reads the draws of its own interventions and ignores the others
    results = evaluate_replication(ctx.arms, values, ctx.seeds[rep], ctx.engine,
                                   Outcomes(proxies=True, period=ctx.period), rep)
    return [{"point": point, "rep": rep, "arm": r.arm, **r.proxies} for r in results]


def chunk_size(tasks: int) -> int:
    """Tasks per part file: about :data:`TARGET_CHUNKS` parts, whatever the workers."""
    return max(1, math.ceil(tasks / TARGET_CHUNKS))


def default_out(design: Design) -> Path:
    """``results/sweep-<name>``."""
    return Path("results") / f"sweep-{design.meta.name}"


def manifest(design: Design, tasks: int, chunk: int) -> dict:
    """The sweep's manifest (``sweep.json``): what the directory holds."""
    from chainsim.experiments.summary import versions

    return {
        "name": design.meta.name,
        "description": design.meta.description,
        "design_file": design.file,
        "digest": design.digest,
        "method": design.meta.method,
        "seed": design.meta.seed,
        "reps": design.meta.reps,
        "engine": design.meta.engine,
        "arms": [{"name": sc.name, "config_hash": sc.config_hash()} for sc in design.arms],
        "factors": {n: {"central": c, "low": lo, "high": hi, "kind": design.kinds[n]}
                    for n, (c, lo, hi) in design.factors.items()},
        "outcomes": design.outcomes,
        "points": len(design.points),
        "tasks": tasks,
        "runs": design.runs,
        "chunk": chunk,
        "versions": versions(),
    }


def _part_path(out: Path, index: int) -> Path:
    return out / "parts" / f"part-{index:05d}.parquet"


def _schema_metadata(man: dict) -> dict[bytes, bytes]:
    keep = {k: man[k] for k in ("name", "digest", "method", "seed", "reps", "engine", "arms",
                                "factors", "versions")}
    return {b"chainsim.sweep": json.dumps(keep, sort_keys=True).encode()}


def _rows_to_table(rows: list[dict], design: Design) -> pa.Table:
    frame = pd.DataFrame(rows)
    names = design.names
    values = design.points[frame["point"].to_numpy()]
    frame.insert(3, "scenario", [design.arms[a].name for a in frame["arm"]])
    for j, name in enumerate(names):
        frame.insert(4 + j, name, values[:, j])
    frame = frame.astype({"point": "int32", "rep": "int32", "arm": "int16"})
    return pa.Table.from_pandas(frame, preserve_index=False)


def _existing_parts(out: Path, chunks: int, sizes: list[int], arms: int) -> set[int]:
    """Indices of part files that are complete (readable, with the expected rows)."""
    done = set()
    for c in range(chunks):
        path = _part_path(out, c)
        if not path.exists():
            continue
        try:
            rows = pq.ParquetFile(path).metadata.num_rows
        except (OSError, pa.ArrowInvalid):
            path.unlink()
            continue
        if rows == sizes[c] * arms:
            done.add(c)
        else:
            path.unlink()
    return done


def run_sweep(design: Design, out: Path | None = None, workers: int | None = None,
              scheduler: str | None = None, progress: bool = False,
              restart: bool = False) -> pd.DataFrame:
    """Run (or resume) a sweep and return its results table.

    Args:
        design: The loaded design (:func:`chainsim.experiments.design.load_design`).
        out: Output directory (default ``results/sweep-<name>``).
        workers: Local worker processes (default one per core).
        scheduler: Address of a Dask scheduler to run on instead.
        progress: Show a progress bar on stderr.
        restart: Discard finished chunks of an earlier run of this design.

    Returns:
        One row per point, replication and arm (see the module docstring).

    Raises:
        InputError: If ``out`` holds results of a different design.
    """
    from chainsim.analysis.proxies import default_period

    out = Path(default_out(design) if out is None else out)
    reps = design.meta.reps
    tasks = [(p, design.point_values(p), r) for p in range(len(design.points))
             for r in range(reps)]
    chunk = chunk_size(len(tasks))
    chunks = math.ceil(len(tasks) / chunk)
    sizes = [min(chunk, len(tasks) - c * chunk) for c in range(chunks)]
    man = manifest(design, len(tasks), chunk)
    _claim(out, man, restart)
    write_csv(out / "design.csv", pd.DataFrame(design.points, columns=design.names)
              .rename_axis("point").reset_index())
    done = _existing_parts(out, chunks, sizes, len(design.arms))
    todo = [c for c in range(chunks) if c not in done]
    ctx = SweepContext(arms=tuple(design.arms),
                       seeds=tuple(np.random.SeedSequence(design.meta.seed).spawn(reps)),
                       period=default_period(design.arms), engine=design.meta.engine)
    pending = [t for c in todo for t in tasks[c * chunk:c * chunk + sizes[c]]]
    bar = progress_bar(len(tasks), "sweep", "task", progress,
                       initial=len(tasks) - len(pending))
    workers = default_workers(len(pending)) if workers is None else workers
    metadata = _schema_metadata(man)
    results = map_ordered(sweep_task, pending, workers, scheduler=scheduler, shared=ctx)
    try:
        for c in todo:
            rows: list[dict] = []
            for _ in range(sizes[c]):
                rows.extend(next(results))
                bar.update(1)
            table = _rows_to_table(rows, design)
            with atomic_path(_part_path(out, c)) as tmp:
                pq.write_table(table.replace_schema_metadata(metadata), tmp,
                               compression="zstd")
    finally:
        results.close()
        bar.close()
    frame = _consolidate(out, chunks, metadata)
    write_json(out / "sweep.json", {**man, "status": "complete"})
    return frame


def _claim(out: Path, man: dict, restart: bool) -> None:
    """Check ``out`` holds nothing or this design's partial results; write the manifest."""
    path = out / "sweep.json"
    if path.exists():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = {}
        if old.get("digest") != man["digest"] and not restart:
            raise InputError.single(
                str(out), "sweep.json", old.get("name", "?"),
                "an output directory of this design (it holds another sweep's results); "
                "give another --out, or --restart to discard them")
    elif out.exists() and any(out.iterdir()) and not restart:
        raise InputError.single(str(out), "(directory)", str(out),
                                "an empty or new directory, or one written by this sweep")
    if restart and (out / "parts").exists():
        shutil.rmtree(out / "parts")
    (out / "parts").mkdir(parents=True, exist_ok=True)
    for stale in [*out.glob(".*.tmp"), *(out / "parts").glob(".*.tmp")]:
        stale.unlink()  # left by a run that was killed while writing
    write_json(path, {**man, "status": "running"})


def _consolidate(out: Path, chunks: int, metadata: dict[bytes, bytes]) -> pd.DataFrame:
    tables = [pq.read_table(_part_path(out, c)) for c in range(chunks)]
    table = pa.concat_tables(tables).replace_schema_metadata(metadata)
    with atomic_path(out / "results.parquet") as tmp:
        pq.write_table(table, tmp, compression="zstd")
    return table.to_pandas()


def load_results(directory: Path) -> tuple[pd.DataFrame, dict]:
    """A finished sweep's results table and manifest.

    Raises:
        InputError: If the directory holds no finished sweep.
    """
    directory = Path(directory)
    path = directory / "results.parquet"
    try:
        man = json.loads((directory / "sweep.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise InputError.single(str(directory), "sweep.json", str(directory),
                                "a directory written by `chainsim sweep`") from None
    if man.get("status") != "complete" or not path.exists():
        raise InputError.single(str(directory), "sweep.json", man.get("status"),
                                "a finished sweep (run `chainsim sweep` again to resume it)")
    return pq.read_table(path).to_pandas(), man


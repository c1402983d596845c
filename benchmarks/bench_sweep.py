"""Sweep throughput: runs per second with 1 and 2 workers, local pool and Dask; the 10k sweep.

Usage: ``python benchmarks/bench_sweep.py [--runs N] [--quick] [--full-sweep]``

Each configuration runs the same slice of ``scenarios/sweeps/throughput_10k.toml``
(the first ``--runs`` runs, fresh output directory) and checks that every
configuration wrote byte-identical ``results.parquet``. Dask runs on a real local
cluster (``distributed.LocalCluster``: a scheduler and 1 or 2 single-threaded worker
processes) started here. ``--full-sweep`` also times the whole 10,000-run sweep
with the CLI on 2 local workers (target: <= 10 minutes).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DESIGN = ROOT / "scenarios" / "sweeps" / "throughput_10k.toml"


def _slice(design, runs: int):
    points = max(2, runs // design.meta.reps)
    return replace(design, points=design.points[:points])


def _time_sweep(design, out: Path, **kw) -> float:
    from chainsim.experiments.sweep import run_sweep

    t0 = time.perf_counter()
    run_sweep(design, out, **kw)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=400, help="runs per configuration")
    parser.add_argument("--quick", action="store_true", help="100 runs, no Dask 1-worker")
    parser.add_argument("--full-sweep", action="store_true", help="also the 10,000-run sweep")
    args = parser.parse_args()
    runs = 100 if args.quick else args.runs

    from distributed import Client, LocalCluster

    from chainsim.experiments.design import design_digest, load_design

    design = load_design(DESIGN)
    design = _slice(design, runs)
    design.digest = design_digest(design)
    n = design.runs
    tmp = Path(tempfile.mkdtemp(prefix="chainsim-bench-"))
    times: dict[str, float] = {}
    try:
        _time_sweep(design, tmp / "warm", workers=1)  # imports, cached distributions
        times["local, 1 worker"] = _time_sweep(design, tmp / "l1", workers=1)
        times["local, 2 workers"] = _time_sweep(design, tmp / "l2", workers=2)
        for k in ((2,) if args.quick else (1, 2)):
            with LocalCluster(n_workers=k, threads_per_worker=1, processes=True,
                              dashboard_address=None) as cluster, Client(cluster) as client:
                # warm the workers' imports
                client.run(lambda: __import__("chainsim.experiments.sweep"))
                times[f"dask, {k} worker{'s' if k > 1 else ''}"] = _time_sweep(
                    design, tmp / f"d{k}", scheduler=cluster.scheduler_address)
        files = {p.name: (p / "results.parquet").read_bytes()
                 for p in tmp.iterdir() if p.name != "warm"}
        identical = len(set(files.values())) == 1
        print(f"sweep slice: {len(design.points)} points x {design.meta.reps} reps = {n} runs "
              f"of {DESIGN.name} (fast engine, 2005-2035)")
        for name, sec in times.items():
            print(f"  {name:18}: {sec:7.2f} s  {n / sec:7.1f} runs/s")
        l1, l2 = times["local, 1 worker"], times["local, 2 workers"]
        print(f"  local speed-up 2 vs 1 workers: {l1 / l2:.2f} x")
        if "dask, 1 worker" in times:
            d1, d2 = times["dask, 1 worker"], times["dask, 2 workers"]
            print(f"  dask speed-up 2 vs 1 workers : {d1 / d2:.2f} x  (target >= 1.7)")
        print(f"  results.parquet identical across all configurations: {identical}")
        if args.full_sweep:
            out = tmp / "full"
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "chainsim", "sweep", str(DESIGN), "--out",
                            str(out), "--workers", str(min(2, os.cpu_count() or 1))],
                           check=True, capture_output=True)
            sec = time.perf_counter() - t0
            full = load_design(DESIGN)
            print(f"full sweep: {full.runs} runs in {sec:.1f} s ({full.runs / sec:.1f} runs/s; "
                  f"target <= 600 s)")
        if not identical:
            raise SystemExit("results differ between configurations")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

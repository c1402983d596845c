"""Fast engine at scale: offenders per run against time and peak memory.

Usage: ``python benchmarks/bench_scale.py [--quick] [--sizes 25000,250000,1000000]``

Each size is the stress case (``scenarios/stress_million.toml``: the baseline with
inflow and investigation capacity scaled alike, ~1,000,000 offenders) shrunk by a
factor, run once with the fast engine in a fresh subprocess, which reports the
offenders created, records written, the run's wall time and the process's peak
resident memory (``resource.getrusage``; includes Python, NumPy, pandas and numba,
about 0.2 GiB before the run). Targets for 1,000,000 offenders: <= 5 minutes and
<= 8 GiB. ``--quick`` runs 25,000 and 250,000 only.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STRESS = ROOT / "scenarios" / "stress_million.toml"
FULL = 1_000_000
"""Offenders in the stress case itself (approximately)."""

CHILD = """
import json, resource, sys, time
from chainsim.chain.config import load_scenario
from chainsim.engines.fast import run_fast
from chainsim.chain.parameters import resolve
from chainsim.chain.streams import replication_seeds

factor = float(sys.argv[1])
sc = load_scenario(sys.argv[2])
inflow, capacity = sc.unknowns["inflow_rate"], sc.parameters["investigation_capacity"]
sc = sc.model_copy(update={
    "unknowns": {**sc.unknowns, "inflow_rate": inflow.model_copy(update={
        "central": inflow.central * factor, "low": inflow.low * factor,
        "high": inflow.high * factor})},
    "parameters": {**sc.parameters, "investigation_capacity": capacity.model_copy(
        update={"value": capacity.value * factor})}})
params = resolve(sc)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
result = run_fast(params, replication_seeds(1, 1)[0])
records = result.records  # the DataFrame is built on first use: time it too
seconds = time.perf_counter() - t0
print(json.dumps({
    "offenders": int(result.stage_counts.sum()), "records": len(records), "seconds": seconds,
    "peak_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
    "before_gib": before / 2**20,
    "table_mib": records.memory_usage(deep=True, index=False).sum() / 2**20}))
"""


def run_size(offenders: int) -> dict:
    """One run of the stress case scaled to about ``offenders``, in a fresh process."""
    out = subprocess.run([sys.executable, "-c", CHILD, str(offenders / FULL), str(STRESS)],
                         check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="25,000 and 250,000 offenders only")
    parser.add_argument("--sizes", help="comma-separated offender counts")
    args = parser.parse_args()
    if args.sizes:
        sizes = [int(s) for s in args.sizes.split(",")]
    else:
        sizes = [25_000, 250_000] if args.quick else [25_000, 250_000, FULL]
    # warm-up: compiled loops cached, files in the page cache (not reported)
    run_size(5_000)
    print(f"{'offenders':>10} {'records':>10} {'seconds':>8} {'us/offender':>11} "
          f"{'peak GiB':>9} {'table MiB':>9}")
    rows = []
    for size in sizes:
        t0 = time.perf_counter()
        r = run_size(size)
        r["process_seconds"] = time.perf_counter() - t0
        rows.append(r)
        print(f"{r['offenders']:>10,} {r['records']:>10,} {r['seconds']:>8.2f} "
              f"{r['seconds'] / r['offenders'] * 1e6:>11.2f} {r['peak_gib']:>9.2f} "
              f"{r['table_mib']:>9.1f}")
    first, last = rows[0], rows[-1]
    if len(rows) > 1:
        print(f"\n{last['offenders'] / first['offenders']:.0f} x the offenders: "
              f"{last['seconds'] / first['seconds']:.1f} x the time, "
              f"{last['peak_gib'] / first['peak_gib']:.1f} x the peak memory")
    big = [r for r in rows if r["offenders"] >= 0.9 * FULL]
    for r in big:
        ok = r["seconds"] <= 300 and r["peak_gib"] <= 8
        print(f"{r['offenders']:,} offenders: {r['seconds']:.1f} s (<= 300 s), peak "
              f"{r['peak_gib']:.2f} GiB (<= 8 GiB): {'meets' if ok else 'MISSES'} the targets")


if __name__ == "__main__":
    main()

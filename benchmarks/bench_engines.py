"""Engine speed: agent model vs fast engine vs expected-flow twin, compare at scale, start-up.

Usage: ``python benchmarks/bench_engines.py [--quick] [--reps N] [--compare-reps N]``

Every figure is measured in this run and printed with its ratio to the others
(the machine may be shared: engines run alternately on the same seeds, so load
hits them alike, and medians are reported):

1. one replication of the full baseline (2005-2035) with the agent model, the
   fast engine (same records; checked) and the expected-flow twin
   (:func:`chainsim.engines.twin.expected_flows`, full and chain mode; one run of the twin
   gives expected counts, not a replication): seconds each and the ratios;
   and the fast engine on ``more_probation`` with and without its probation places
   (``more_probation_capped``: the month-by-month supervision decisions a capacity
   needs);
2. the fast engine's replication split into engine and analysis (what
   ``compare`` computes per arm and replication);
3. ``chainsim compare baseline more_probation --reps 200 --engine fast`` as a
   subprocess of the CLI: wall time (target <= 15 s on 2 cores), and the same with
   ``--reps 1`` (the fixed cost: start-up, worker processes); the median of
   ``--compare-runs`` runs each (3; 1 with ``--quick``), as a shared machine's
   wall times vary by 10-15 % from run to run;
4. ``chainsim --help`` start-up time (target <= 0.5 s).

``--quick`` times 2 replications per engine, compare with 20 replications and
3 start-ups (about a minute); the default takes a few minutes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"


def median(values: list[float]) -> float:
    return statistics.median(values)


def time_engines(reps: int) -> dict[str, float]:
    """Medians (s) of one replication: agent model, fast engine (+ analysis), twin."""
    import numpy as np

    from chainsim.analysis import flows, recidivism
    from chainsim.analysis.proxies import arm_proxies, default_period
    from chainsim.chain.config import load_scenario
    from chainsim.chain.parameters import resolve
    from chainsim.chain.spec import FORMS
    from chainsim.chain.streams import replication_seeds
    from chainsim.engines.fast import run_fast
    from chainsim.engines.model import ChainModel
    from chainsim.engines.twin import expected_flows
    from chainsim.experiments.compare import _replication_task

    baseline = load_scenario(SCENARIOS / "baseline.toml")
    policy = load_scenario(SCENARIOS / "more_probation.toml")
    params = resolve(baseline)
    policy_params = resolve(policy)
    capped_params = resolve(load_scenario(SCENARIOS / "more_probation_capped.toml"))
    period = default_period([baseline, policy])
    seeds = replication_seeds(2024, reps + 1)
    # warm-up (imports, compiled loops, cached distributions): not timed
    ChainModel(params, seeds[0], keep_history=False).run()
    run_fast(params, seeds[0])
    expected_flows(params)
    _replication_task(([baseline], [0], 0, seeds[0], {}, period, None, "fast"))
    expected_flows(params, full=False)
    vpo = {form: float(params["victims_per_offender"][0, i, 0, 0])
           for i, form in enumerate(FORMS)}
    run_fast(capped_params, seeds[0])
    out: dict[str, list[float]] = {k: [] for k in ("agent", "fast", "twin", "chain", "task",
                                                   "analysis", "uncapped", "capped")}
    for i, seed in enumerate(seeds[1:]):
        t0 = time.perf_counter()
        model = ChainModel(params, seed, keep_history=False).run()
        records = model.records.to_frame()
        out["agent"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        result = run_fast(params, seed)
        out["fast"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        run_fast(policy_params, seed)
        out["uncapped"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        run_fast(capped_params, seed)
        out["capped"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        expected_flows(params)
        out["twin"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        expected_flows(params, full=False)
        out["chain"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        _replication_task(([baseline], [0], i, seed, {}, period, None, "fast"))
        out["task"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()  # what _replication_task does after the engine
        rec = result.arrays()
        arm_proxies(rec, period, vpo)
        flows.annual_metrics(rec, params.years)
        flows.window_metrics(rec, simulated=(params.years[0], params.years[-1]))
        recidivism.survival_curve(rec, "observed_general", period[0], period[1], period[1])
        out["analysis"].append(time.perf_counter() - t0)
        if len(result.records) != len(records) or not np.array_equal(result.stage_counts,
                                                                     model.stage_counts):
            raise SystemExit("the engines disagree (run the tests: tests/engines/test_fast.py)")
    return {k: median(v) for k, v in out.items()} | {"records": len(records),
                                                     "months": params.n_months + 1}


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "chainsim", *args]


def time_compare(reps: int, workers: int | None, runs: int = 1) -> float:
    """Median wall time (s) of ``chainsim compare baseline more_probation`` (subprocess)."""
    args = ["compare", str(SCENARIOS / "baseline.toml"), str(SCENARIOS / "more_probation.toml"),
            "--reps", str(reps), "--seed", "3", "--engine", "fast", "--json"]
    if workers is not None:
        args += ["--workers", str(workers)]
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cli(*args), check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
        times.append(time.perf_counter() - t0)
    return median(times)


def time_help(n: int) -> float:
    """Median wall time (s) of ``chainsim --help``."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run(cli("--help"), check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
        times.append(time.perf_counter() - t0)
    return median(times)


def verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (~1 minute)")
    parser.add_argument("--reps", type=int, help="timed replications per engine")
    parser.add_argument("--compare-reps", type=int, help="replications of the compare run")
    parser.add_argument("--workers", type=int, help="compare workers (default: one per core)")
    parser.add_argument("--compare-runs", type=int,
                        help="runs of each compare timing; the median is reported")
    args = parser.parse_args()
    reps = args.reps or (2 if args.quick else 5)
    compare_reps = args.compare_reps or (20 if args.quick else 200)
    cores = os.cpu_count()
    print(f"machine: {cores} cores, load average {os.getloadavg()[0]:.1f} at start")

    e = time_engines(reps)
    print(f"\n1. one replication of the baseline ({e['months']} months, {e['records']} records), "
          f"median of {reps}:")
    print(f"   agent model       {e['agent']:8.3f} s")
    speedup = e["agent"] / e["fast"]
    print(f"   fast engine       {e['fast']:8.3f} s   agent / fast = {speedup:6.1f} x"
          f"   (target >= 20 x: {verdict(speedup >= 20)})")
    print(f"   expected-flow twin{e['twin']:8.3f} s   twin / fast  = "
          f"{e['twin'] / e['fast']:6.1f} x   (full: every stage, after the chain too)")
    print(f"   twin, chain mode  {e['chain']:8.3f} s   twin / fast  = "
          f"{e['chain'] / e['fast']:6.1f} x   (what calibration iterates on)")
    print(f"   fast, more_probation {e['uncapped']:.3f} s; with 50 probation places "
          f"(more_probation_capped) {e['capped']:.3f} s: capped / uncapped = "
          f"{e['capped'] / e['uncapped']:.2f} x")
    print(f"\n2. one compare arm-replication (fast engine + proxies, yearly, window, survival): "
          f"{e['task']:.3f} s; the analysis alone {e['analysis']:.3f} s")

    runs = args.compare_runs or (1 if args.quick else 3)
    fixed = time_compare(1, args.workers, runs)
    wall = time_compare(compare_reps, args.workers, runs)
    tasks = 2 * compare_reps
    per_task = (wall - fixed) / tasks
    print(f"\n3. chainsim compare baseline more_probation --engine fast (subprocess, wall, "
          f"median of {runs}):")
    print(f"   --reps 1            {fixed:7.2f} s  (fixed cost: start-up, imports, workers)")
    print(f"   --reps {compare_reps:<4d}         {wall:7.2f} s  ({per_task * 1000:.0f} ms per "
          f"arm-replication beyond the fixed cost; one worker per core)")
    if compare_reps == 200:
        print(f"   target <= 15 s: {verdict(wall <= 15)}")
    else:
        projected = fixed + per_task * 400
        print(f"   projected to --reps 200: {projected:.1f} s (target <= 15 s: "
              f"{verdict(projected <= 15)})")

    startup = time_help(3 if args.quick else 7)
    print(f"\n4. chainsim --help start-up: {startup:.3f} s (median; target <= 0.5 s: "
          f"{verdict(startup <= 0.5)})")
    print(f"\nload average at end {os.getloadavg()[0]:.1f} (above {cores} means other jobs "
          "competed for the cores and the wall times are inflated)")


if __name__ == "__main__":
    main()

"""Time per replication of the agent model and the vectorised engine on the full baseline.

Usage: ``python benchmarks/bench_engines.py [--reps N] [--scenario PATH]``

Both engines run in this process, alternately, on the same parameters and seeds
(so background load hits both alike); the medians and their ratio are printed.
The first run of each is a warm-up (imports, cached distributions) and not timed.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from chainsim.config import load_scenario
from chainsim.fast import run_fast
from chainsim.model import ChainModel
from chainsim.parameters import resolve
from chainsim.streams import replication_seeds

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="timed replications per engine")
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "baseline.toml")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()

    params = resolve(load_scenario(args.scenario), str(args.scenario))
    seeds = replication_seeds(args.seed, args.reps + 1)
    ChainModel(params, seeds[0], keep_history=False).run()
    run_fast(params, seeds[0])
    agent, fast = [], []
    for seed in seeds[1:]:
        t0 = time.perf_counter()
        model = ChainModel(params, seed, keep_history=False).run()
        records = model.records.to_frame()
        agent.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        result = run_fast(params, seed)
        fast.append(time.perf_counter() - t0)
        if len(result.records) != len(records) or not np.array_equal(result.stage_counts,
                                                                     model.stage_counts):
            raise SystemExit("the engines disagree (run the tests: tests/test_fast.py)")
    a, f = statistics.median(agent), statistics.median(fast)
    months = params.n_months + 1
    print(f"scenario: {params.scenario.name} ({months} months), {args.reps} replications each, "
          f"{len(records)} records in the last")
    print(f"agent model : {a:8.3f} s per replication (median; min {min(agent):.3f})")
    print(f"fast engine : {f:8.3f} s per replication (median; min {min(fast):.3f})")
    print(f"ratio       : {a / f:8.1f} x (medians; per-pair median "
          f"{statistics.median(x / y for x, y in zip(agent, fast, strict=True)):.1f} x)")


if __name__ == "__main__":
    main()

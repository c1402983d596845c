"""The twin's emulator against the twin: throughput, and the error it brings.

Usage: ``python benchmarks/bench_emulator.py [--quick] [--train N] [--test N] [--seed S]``

What ``chainsim calibrate --posterior --emulator RUNS`` samples on
(:mod:`chainsim.experiments.emulator`). Points are drawn around the committed posterior
ensemble (``calibration/posterior.parquet``: a member plus a normal step with the
members' covariance), as the emulator's later design waves are. In one run it measures:

- the twin in chain mode one point at a time (:func:`chainsim.engines.twin.expected_flows`,
  as in ``bench_twin_batch.py``) and batched over 2 worker processes, as the sampler
  scores a step (:class:`chainsim.experiments.posterior.LogPosterior`), seconds a point;
- the emulator's fit on ``--train`` twin runs (3 networks, one BLAS thread);
- the emulated log posterior of a step's 94 walkers
  (:class:`chainsim.experiments.emulated.EmulatedLogPosterior`), seconds a point;

and prints the throughput ratios (against the twin one at a time) and the emulated
log-likelihood's error on ``--test`` held-out runs (sd, bias, 95th percentile of the
absolute error; overall and within 10 of the best test point), the error the full-twin
reweighting then has to correct.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from chainsim.analysis.targets import DEFAULT_TARGETS, load_targets
from chainsim.chain.config import load_scenario
from chainsim.engines.twin import expected_flows
from chainsim.experiments.emulated import EmulatedLogPosterior, design_runs
from chainsim.experiments.emulator import Design, Emulator, held_out_error
from chainsim.experiments.posterior import LogPosterior, ParameterSpace

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "baseline.toml"
ENSEMBLE = ROOT / "calibration" / "posterior.parquet"


def around_the_ensemble(space: ParameterSpace, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points: a member of the committed ensemble plus a step of its covariance."""
    frame = pd.read_parquet(ENSEMBLE)
    x = np.stack([dim.to_sample(frame[dim.name].to_numpy()) for dim in space.dimensions],
                 axis=1)
    lo, hi = np.array([dim.bounds for dim in space.dimensions]).T
    pts = x[rng.integers(0, len(x), n)] + rng.multivariate_normal(
        np.zeros(x.shape[1]), np.cov(x.T), n)
    return np.clip(pts, lo, hi)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="600 training, 200 test runs")
    parser.add_argument("--train", type=int, default=3000)
    parser.add_argument("--test", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.quick:
        args.train, args.test = 600, 200
    scenario = load_scenario(SCENARIO)
    space = ParameterSpace(scenario, hand_set=load_scenario(SCENARIO, calibrated=False))
    targets = load_targets(DEFAULT_TARGETS)
    rng = np.random.default_rng(args.seed)
    post = LogPosterior(space, targets, workers=2)
    post.refresh(space.start)
    try:
        single = around_the_ensemble(space, 4, rng)
        expected_flows(space.params(single[0]), full=False, reentries=post.reentries)  # compile
        t0 = time.perf_counter()
        for x in single:
            expected_flows(space.params(x), full=False, reentries=post.reentries)
        one = (time.perf_counter() - t0) / len(single)
        points = around_the_ensemble(space, args.train + args.test, rng)
        t0 = time.perf_counter()
        runs = design_runs(post, points)
        batched = (time.perf_counter() - t0) / len(points)
    finally:
        post.close()
    cut = min(args.train, len(runs) - 1)

    def part(a: int, b: int) -> Design:
        return Design(runs.points[a:b], runs.metrics[a:b], runs.trials[a:b], runs.metric_keys,
                      runs.trial_keys)

    log_inputs = tuple(not d.log and d.low > 0 for d in space.dimensions)
    t0 = time.perf_counter()
    emulator = Emulator(seed=args.seed, log_inputs=log_inputs).fit(part(0, cut))
    fit = time.perf_counter() - t0
    emulated = EmulatedLogPosterior(space, targets, emulator)
    walkers = runs.points[cut: cut + 94]
    emulated.score(walkers)
    rounds = 50
    t0 = time.perf_counter()
    for _ in range(rounds):
        emulated.score(walkers)
    emu = (time.perf_counter() - t0) / (rounds * len(walkers))
    test = part(cut, len(runs))
    error = held_out_error(emulator, test, emulated.log_likelihood)
    own = emulated.log_likelihood({k: test.metrics[:, j] for j, k in enumerate(test.metric_keys)},
                                  {k: test.trials[:, j] for j, k in enumerate(test.trial_keys)})
    near = own > own.max() - 10
    close = Design(test.points[near], test.metrics[near], test.trials[near], test.metric_keys,
                   test.trial_keys)
    near_error = held_out_error(emulator, close, emulated.log_likelihood)
    print(f"design: {cut} training runs, {len(test)} held out (valid of "
          f"{args.train + args.test}); seed {args.seed}")
    print(f"twin one at a time   {one * 1e3:9.2f} ms a point   1x")
    print(f"twin batched, 2 procs{batched * 1e3:9.2f} ms a point   {one / batched:.1f}x")
    print(f"emulator (94 a batch){emu * 1e3:9.3f} ms a point   {one / emu:,.0f}x")
    print(f"emulator fit         {fit:9.1f} s ({emulator.networks} networks)")
    print(f"10,000 evaluations: twin one at a time {10_000 * one / 60:.1f} min, batched "
          f"{10_000 * batched / 60:.1f} min, emulator {10_000 * emu:.1f} s")
    for label, e in (("all held out", error), ("within 10 of the best", near_error)):
        print(f"held-out log-likelihood error ({label}, {e.points} runs): sd {e.sd:.2f}, "
              f"bias {e.bias:+.2f}, 95 % of |error| below {e.q95:.2f}; median quantity error "
              f"{e.metric_error:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

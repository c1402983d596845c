"""The posterior predictive check on more members than the committed one.

Usage: ``python benchmarks/check_predictive.py [--members N] [--seed S] [--workers W]``

``chainsim calibrate --posterior --verify 200`` runs the check (``chainsim.experiments.ppc``:
the agent model's figures for 2015-2019, 4 replications a member) on the ensemble's first
200 members, so its share of members meeting all 21 figures carries a binomial standard
error of about 2 points. This script runs the same check on the committed ensemble
(``calibration/posterior.parquet``) for the first ``N`` members (default: all), with the
same seeds (member ``i``'s replications are the same whatever ``N``, so its first 200
members give the committed figures), and prints the three shares of members meeting every
figure with their binomial standard errors, and the share of the first 200. About 0.5 s a
member on 2 cores.

It then prints, per figure, the members' standardised gap of the joint criterion ``z`` (the
check's ``joint_z``: the member's mean minus the figure, over the observation model's sd with
the member's Monte Carlo error): its mean and sd over members, and
the share beyond the joint tolerance beside what a normal ``z`` of that mean and sd would
give. For a posterior true to the data, ``z`` is about standard normal and each figure is
missed by at most ``0.10 / 21``, about 0.5 % of the members.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from chainsim.analysis.targets import load_targets
from chainsim.chain.config import load_scenario
from chainsim.experiments.ensemble import load_ensemble
from chainsim.experiments.ppc import (
    JOINT_COVERAGE,
    PredictiveCheck,
    joint_tolerance,
    predictive_check,
)

COMMITTED_MEMBERS = 200
"""Members of the committed check (``--verify 200``)."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=None, help="members (default: all)")
    parser.add_argument("--seed", type=int, default=7, help="seed (the committed check's: 7)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    t0 = time.perf_counter()
    ensemble = load_ensemble()
    members = args.members or len(ensemble)
    check = predictive_check(load_scenario("scenarios/baseline.toml"),
                             load_targets("calibration/targets.toml"), ensemble,
                             members=members, seed=args.seed, workers=args.workers)
    by_member = check.table.groupby("member")
    n = by_member.ngroups
    print(f"{n} members x 4 replications (agent model), seed {args.seed}, "
          f"{time.perf_counter() - t0:.0f} s")
    for label, column in (("within 2 of the figures' sds", "met"),
                          ("within 2 observation sds", "met_observation"),
                          ("by the joint criterion (goal 90 %)", "met_jointly")):
        met = by_member[column].all()
        share = float(met.mean())
        print(f"  all 21 {label:<36} {share:6.1%}  (se {np.sqrt(share * (1 - share) / n):.1%}; "
              f"first {COMMITTED_MEMBERS}: {met.iloc[:COMMITTED_MEMBERS].mean():.1%})")
    print_gaps(check)


def print_gaps(check: PredictiveCheck) -> None:
    """Per figure: the joint criterion's standardised gap over members, worst first."""
    from scipy.stats import norm

    tolerance = joint_tolerance(len(check.targets))
    rows = []
    for name, gaps in check.table.groupby("target", sort=False)["joint_z"]:
        mean, spread = float(gaps.mean()), float(gaps.std())
        normal = norm.sf((tolerance - mean) / spread) + norm.cdf((-tolerance - mean) / spread)
        rows.append((float((gaps.abs() > tolerance).mean()), name, mean, spread, normal))
    print(f"\nPer figure, the standardised gap z over members (missed: |z| > {tolerance:.2f}; "
          f"a posterior true to the data: z about N(0, 1), missed by <= "
          f"{(1 - JOINT_COVERAGE) / len(rows):.2%}):")
    print(f"  {'figure':<32} {'mean z':>7} {'sd z':>6} {'missed':>7} {'normal z':>9}")
    for missed, name, mean, spread, normal in sorted(rows, reverse=True):
        print(f"  {name:<32} {mean:+7.2f} {spread:6.2f} {missed:7.1%} {normal:9.1%}")


if __name__ == "__main__":
    main()

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
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from chainsim.analysis.targets import load_targets
from chainsim.chain.config import load_scenario
from chainsim.experiments.ensemble import load_ensemble
from chainsim.experiments.ppc import predictive_check

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


if __name__ == "__main__":
    main()

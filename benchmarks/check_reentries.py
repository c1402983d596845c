"""What the posterior's re-entry approximation costs: the twin with and without it.

Usage: ``python benchmarks/check_reentries.py [--members N] [--ensemble PATH]``

The sampler (``chainsim calibrate --posterior``) scores every point with the twin in chain
mode and the re-entries into offending of one full twin run at the calibrated values
(``docs/calibration.md``, "The after-chain unknowns"); each member then draws the
after-chain unknowns (reoffending, desistance after the chain, ...) from their priors. This
script takes the first ``N`` members of the ensemble (the ones the predictive check runs)
and computes each member's 21 figures with the twin three ways:

- *scored*: chain mode, the calibrated re-entries (what the sampler saw);
- *own*: chain mode, the re-entries of the member's own full run;
- *full*: the full twin with all the member's values (equal to *own* for every figure:
  the chain mode is exact given its re-entries).

It prints, per figure, the shift from *scored* to *full* in the observation model's sds
(mean and sd over members), the share of members meeting all figures by the predictive
check's joint criterion (2.82 observation sds for 21 figures, shares with their binomial
noise) in each way (the twin has no Monte Carlo error, so this is the check without the
agent model's noise), and the Pareto-smoothed importance weights that would turn the
members into draws of the joint posterior with the after-chain unknowns (log weight: the
log-likelihood with the member's own values minus the scored one): their Pareto k and
effective sample size; and, with the full twin, which figures the members that miss
miss and by how many observation sds. Deterministic (no random numbers); about 1.5 s a member.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from chainsim.analysis.fit import residual, target_key, twin_metrics, twin_trials
from chainsim.analysis.likelihood import log_likelihood, observation_sd
from chainsim.analysis.targets import load_targets
from chainsim.chain.config import load_scenario
from chainsim.chain.parameters import resolve
from chainsim.engines.twin import expected_flows, expected_flows_batch
from chainsim.experiments.calibrate import calibration_cut
from chainsim.experiments.ensemble import load_ensemble
from chainsim.experiments.evaluate import resolve_cached
from chainsim.experiments.ppc import joint_tolerance
from chainsim.experiments.reweight import importance_weights

MODES = ("scored", "own", "full")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--ensemble", default=None, help="default: calibration/posterior.parquet")
    args = parser.parse_args()
    targets = load_targets()
    keys = [target_key(t) for t in targets.values()]
    cut = calibration_cut(load_scenario("scenarios/baseline.toml"), "<re-entry check>")
    scored_reentries = expected_flows(resolve(cut)).reentries
    ensemble = load_ensemble(args.ensemble)
    n = min(args.members, len(ensemble))
    t0 = time.perf_counter()
    rows, ll = [], {m: np.empty(n) for m in MODES}
    for i in range(n):
        params = resolve_cached(cut, ensemble.draws(i))
        full = expected_flows(params)
        flows = {"scored": expected_flows_batch([params], False, scored_reentries)[0],
                 "own": expected_flows_batch([params], False, full.reentries)[0],
                 "full": full}
        for mode, ef in flows.items():
            metrics, trials = twin_metrics(ef, keys), twin_trials(ef, keys)
            ll[mode][i] = float(log_likelihood(targets, metrics, trials)[0])
            for name, t in targets.items():
                key = target_key(t)
                sd = observation_sd(t, trials.get(key))
                rows.append({"member": i, "mode": mode, "target": name, "value": metrics[key],
                             "gap": residual(t, metrics[key]) * t.sd / sd,
                             "obs_sd": observation_sd(t)})
    seconds = time.perf_counter() - t0
    df = pd.DataFrame(rows)
    wide = df.pivot_table(index=["member", "target"], columns="mode", values="value")
    obs = df.drop_duplicates("target").set_index("target")["obs_sd"]
    shift = ((wide["full"] - wide["scored"]) / wide.index.get_level_values("target").map(obs)
             ).groupby(level="target").agg(["mean", "std"])
    own_equals_full = np.allclose(wide["own"], wide["full"], rtol=1e-9, atol=1e-9)
    z = joint_tolerance(len(targets))
    meets = (df.assign(ok=df["gap"].abs() <= z).groupby(["mode", "member"])["ok"].all()
             .groupby(level="mode").mean())
    full = df[df["mode"] == "full"].assign(z=lambda f: f["gap"].abs())
    misses = full[full["z"] > z]
    print(f"\nmisses with the full twin ({misses['member'].nunique()} members): per figure, "
          "how many members miss it and by how many observation sds")
    print(misses.groupby("target")["z"].describe()[["count", "min", "50%", "max"]]
          .sort_values("count", ascending=False).round(2).to_string())
    log_w = ll["full"] - ll["scored"]
    w, k = importance_weights(log_w)  # the members' own log-likelihood ratio as the weight
    print(f"{n} members, {seconds:.0f} s ({seconds / n:.2f} s a member)")
    print("\nshift of each figure, scored -> full, in observation sds (over members):")
    print(shift.sort_values("std", ascending=False).round(3).to_string())
    print(f"\nown re-entries give the full twin's figures: {own_equals_full}")
    print(f"members meeting all {len(targets)} figures jointly (z = {z:.2f}, twin, "
          "no Monte Carlo error):")
    for mode in MODES:
        print(f"  {mode:7s} {meets[mode]:.2f}")
    print(f"\nimportance weights own/scored: log-weight sd {log_w.std():.2f}, "
          f"Pareto k {float(k):.2f}, ESS {1.0 / (w ** 2).sum():.0f} of {n}")


if __name__ == "__main__":
    main()

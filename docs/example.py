"""More probation vs the baseline: paired deltas with 95 % CIs (about 15 s on 2 cores)."""

import chainsim

if __name__ == "__main__":  # the replications run in worker processes, which import this file
    baseline = chainsim.load_scenario("scenarios/baseline.toml")
    probation = chainsim.load_scenario("scenarios/more_probation.toml")
    comparison = chainsim.compare(baseline, probation, reps=20, seed=1)
    deltas = comparison.deltas()  # a pandas DataFrame: scenario, proxy, mean, lo, hi, n
    print(deltas.round(4).to_string(index=False))

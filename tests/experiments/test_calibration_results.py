"""The committed calibration (calibration/parameters.toml) still meets the source's targets."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from chainsim.analysis.fit import replication_metrics, residual, target_key, twin_metrics
from chainsim.analysis.targets import load_targets
from chainsim.chain.config import load_scenario
from chainsim.chain.parameters import resolve
from chainsim.engines.twin import expected_flows
from chainsim.experiments.replications import run

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "scenarios" / "baseline.toml"


@pytest.fixture(scope="module")
def targets():
    return load_targets(ROOT / "calibration" / "targets.toml")


@pytest.fixture(scope="module")
def calibrated():
    return load_scenario(BASELINE)


def test_baseline_uses_the_committed_calibration(calibrated):
    assert calibrated.calibration == "../calibration/parameters.toml"
    hand_set = load_scenario(BASELINE, calibrated=False)
    assert calibrated.parameters["signal_hazard"] != hand_set.parameters["signal_hazard"]
    assert "[calibrated: parameters.toml]" in calibrated.parameters["signal_hazard"].note


@pytest.mark.slow
def test_the_twin_meets_every_target_at_the_committed_parameters(calibrated, targets):
    # The twin gives expected values (no Monte Carlo noise): every target must be met
    # within one of its stated sds (points), or lie in its range / above its bound.
    ef = expected_flows(resolve(calibrated))
    pred = twin_metrics(ef, [target_key(t) for t in targets.values()])
    misses = {name: round(residual(t, pred[target_key(t)]), 3) for name, t in targets.items()
              if abs(residual(t, pred[target_key(t)])) > 1.0}
    assert not misses


@pytest.mark.slow
def test_the_agent_model_meets_the_targets_at_the_committed_parameters(calibrated, targets):
    # Statistical check with 8 replications (seed fixed). The agent model's mean differs
    # from the target value by calibration error (at most 1 sd of the target, as the twin
    # shows) plus Monte Carlo error: allow 1 target sd + 4 standard errors of the mean.
    reps = 8
    result = run(calibrated, reps=reps, seed=11, workers=2, engine="agents")
    keys = {name: target_key(t) for name, t in targets.items()}
    per_rep = [replication_metrics(r, list(keys.values())) for r in result.reps]
    failures = {}
    for name, t in targets.items():
        values = np.array([m[keys[name]] for m in per_rep], dtype=float)
        mean, se = values.mean(), values.std(ddof=1) / np.sqrt(reps)
        slack = 4 * se / t.sd
        r = residual(t, mean)
        if abs(r) > 1.0 + slack:
            failures[name] = (round(mean, 3), round(r, 2), round(slack, 2))
    assert not failures


@pytest.mark.slow
def test_the_fast_engine_meets_every_target_with_200_replications(calibrated, targets):
    """`chainsim run scenarios/baseline.toml --engine fast --reps 200 --seed 7` meets all
    targets, as the agent model's 200-replication verification does (the engines give
    identical records). With 200 replications the Monte Carlo error of the mean is at
    most ~0.1 target sd for every target, inside the 1-sd criterion's margin for all but
    traced_2019 (residual 0.72); the seed is fixed, so the check is deterministic."""
    from chainsim.experiments.summary import summary_document

    result = run(calibrated, reps=200, seed=7, workers=2, engine="fast")
    doc = summary_document(result)["targets"]
    assert doc["total"] == len(targets)
    misses = {k: v for k, v in doc["by_target"].items() if not v["met"]}
    assert not misses
    # the same replications as the committed verification (calibration/fit.csv, seed 7)
    committed = pd.read_csv(ROOT / "calibration" / "fit.csv").set_index("target")
    assert doc["by_target"]["signalled"]["mean"] == pytest.approx(
        committed.loc["signalled", "agent_mean"], abs=0.001)

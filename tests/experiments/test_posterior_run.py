"""A whole posterior run and its files (chainsim.experiments.posterior_run)."""

from __future__ import annotations

import pytest

from chainsim.analysis.targets import load_targets
from chainsim.experiments.calibrate import DEFAULT_KNOBS
from chainsim.experiments.posterior import ParameterSpace
from conftest import make_scenario


@pytest.mark.slow
def test_a_small_posterior_run_writes_a_reproducible_ensemble_with_provenance(tmp_path):
    """run_posterior + write_posterior on 2 dimensions: members, diagnostics, figures, and the
    same files again from the same seed."""
    import json

    import pandas as pd

    from chainsim.analysis.targets import DEFAULT_TARGETS
    from chainsim.experiments.posterior_run import run_posterior
    from chainsim.outputs.folders import write_posterior

    sc = make_scenario()
    targets = load_targets()

    def once(out):
        space = ParameterSpace(sc, knobs=DEFAULT_KNOBS[:1], unknowns=("resume_share",))
        result = run_posterior(sc, targets, members=12, walkers=6, steps=4, burn=1,
                               wave_size=4, seed=5, space=space)
        return write_posterior(result, "short.toml", DEFAULT_TARGETS, targets, out)

    doc = once(tmp_path / "a")
    members = pd.read_parquet(tmp_path / "a" / "posterior.parquet")
    assert len(members) == 12 == doc["members"]
    assert {"signal_hazard.scale", "resume_share", "log_likelihood", "member"} <= set(members)
    assert doc["settings"]["walkers"] == 6 and doc["seed"] == 5
    assert doc["priors"]["resume_share"]["prior"] == "triangular"
    assert doc["history_matching"]["points"] == 4
    assert doc["status"]["converged"] is False  # 4 steps: provisional
    table = pd.read_csv(tmp_path / "a" / "posterior_diagnostics.csv")
    assert set(table["status"]) <= {"informed", "partly informed", "prior-dominated"}
    for name in ("posterior.png", "posterior_pairs.png", "posterior.json"):
        assert (tmp_path / "a" / name).stat().st_size > 0
    assert json.loads((tmp_path / "a" / "posterior.json").read_text())["members"] == 12
    once(tmp_path / "b")
    pd.testing.assert_frame_equal(members, pd.read_parquet(tmp_path / "b" / "posterior.parquet"))

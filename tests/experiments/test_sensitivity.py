"""Sensitivity: Sobol indices against known answers, the ranking table, end to end."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from chainsim.chain.errors import InputError
from chainsim.cli import main
from chainsim.experiments import sensitivity
from conftest import DATA

SWEEPS = DATA / "sweeps"


def test_sobol_indices_of_a_linear_model():
    """Y = x1 + 2 x2 (+ 0 x3) with x ~ U(0, 1): S1 = ST = 1/5, 4/5, 0 exactly.

    The estimates carry sampling error (N = 1024); the test asks that the 95 % CIs
    SALib reports contain the true values, widened by 0.02 for the chance (5 % per
    interval) that a correct interval misses.
    """
    from SALib.sample import sobol as sampler

    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[0, 1]] * 3}
    x = sampler.sample(problem, 1024, calc_second_order=False, seed=3)
    y = x[:, 0] + 2 * x[:, 1]
    means = pd.DataFrame({"y": np.concatenate([[1.5], y])})  # row 0: the centre
    table = sensitivity.sobol_indices(means, problem, seed=1).set_index("factor")
    for name, truth in (("x1", 0.2), ("x2", 0.8), ("x3", 0.0)):
        for key in ("S1", "ST"):
            lo, hi = table.loc[name, f"{key}_lo"], table.loc[name, f"{key}_hi"]
            assert lo - 0.02 <= truth <= hi + 0.02


def test_constant_and_undefined_outcomes_are_noted():
    problem = {"num_vars": 2, "names": ["a", "b"], "bounds": [[0, 1]] * 2}
    means = pd.DataFrame({"flat": np.ones(9), "gap": [1, 2, np.nan, 4, 5, 6, 7, 8, 9.0]})
    table = sensitivity.sobol_indices(means, problem)
    notes = dict(zip(table["outcome"], table["note"], strict=False))
    assert "does not vary" in notes["flat"] and "undefined" in notes["gap"]


def _frame(points: np.ndarray, delta_a, delta_b, reps: int = 3) -> pd.DataFrame:
    rows = []
    for p, x in enumerate(points):
        for r in range(reps):
            noise = 0.001 * ((p * 7 + r * 3) % 5 - 2)
            rows.append({"point": p, "rep": r, "arm": 0, "y": 10.0})
            rows.append({"point": p, "rep": r, "arm": 1, "y": 10.0 + delta_a(x) + noise})
            rows.append({"point": p, "rep": r, "arm": 2, "y": 10.0 + delta_b(x) - noise})
    return pd.DataFrame(rows)


def test_ranking_table_finds_the_factor_that_reverses_it():
    """Arm A beats arm B unless factor u is high; factor v does nothing."""
    rng = np.random.default_rng(0)
    pts = np.vstack([[0.3, 0.5], rng.uniform(0, 1, size=(200, 2))])
    frame = _frame(pts, lambda x: -1.0 + 0.8 * x[0], lambda x: -0.5)
    arms = ["base", "A", "B"]
    means = sensitivity.point_means(frame, arms, ["y"])
    design = pd.DataFrame(pts, columns=["u", "v"]).rename_axis("point")
    factors = {"u": {"low": 0.0, "high": 1.0}, "v": {"low": 0.0, "high": 1.0}}
    table = sensitivity.ranking_table(means, design, arms, ["y"], factors).set_index("factor")
    assert table.loc["(all factors)", "reference_ranking"] == "A < B < base"
    assert table.loc["u", "reverses"] and "B < A" in table.loc["u", "reversed_high_end"]
    assert table.loc["u", "reversed_low_end"] == ""
    assert not table.loc["v", "reverses"]
    assert 0 < table.loc["(all factors)", "other_best_low_end"] < 1


def test_noise_share_reflects_replication_noise():
    pts = np.linspace(0, 1, 30)[:, None]
    quiet = _frame(pts, lambda x: x[0], lambda x: 0.0)
    share = sensitivity.noise_share(quiet, "delta:A:y", ["base", "A", "B"])
    assert 0 <= share < 0.01
    loud = quiet.copy()
    loud.loc[loud.arm == 1, "y"] += np.random.default_rng(1).normal(0, 5, (loud.arm == 1).sum())
    assert sensitivity.noise_share(loud, "delta:A:y", ["base", "A", "B"]) > 0.5


@pytest.mark.slow
def test_end_to_end_on_a_small_sobol_design(tmp_path, capsys):
    out = tmp_path / "sob"
    code = main(["sensitivity", str(SWEEPS / "small_sobol.toml"), "--out", str(out),
                 "--workers", "1", "--json"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["factors"] == ["probation_hazard_ratio", "investigation_capacity"]
    outcomes = {r["outcome"] for r in doc["indices"]}
    assert outcomes == {"active_offender_months", "probation_caseload",
                        "delta:short_probation:active_offender_months",
                        "delta:short_probation:probation_caseload"}
    assert {r["factor"] for r in doc["ranking"]} >= {"(all factors)", "investigation_capacity"}
    for name in ("sensitivity.csv", "ranking.csv", "sensitivity.png", "sensitivity.json"):
        assert (out / name).stat().st_size > 0
    # analysing the directory again gives the same document
    assert main(["sensitivity", str(out), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["indices"] == doc["indices"]


def test_non_sobol_designs_and_bad_outcomes_are_refused(tmp_path):
    with pytest.raises(InputError, match="'sobol' for Sobol indices"):
        sensitivity.analyse_to_directory(SWEEPS / "small_lhs.toml", out=tmp_path / "x")
    assert not (tmp_path / "x").exists()
    with pytest.raises(InputError, match="a directory written by `chainsim sweep`"):
        sensitivity.analyse_to_directory(tmp_path)

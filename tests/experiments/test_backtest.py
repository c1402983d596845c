"""The posterior back-test: fit on the figures up to 2017, predict the rest."""

from __future__ import annotations

import pytest

from chainsim.analysis.targets import load_targets
from chainsim.experiments.backtest import posterior_backtest, split_targets
from chainsim.experiments.calibrate import DEFAULT_KNOBS
from chainsim.experiments.posterior import ParameterSpace
from conftest import make_scenario


def test_only_single_years_up_to_2017_are_fitted():
    fitted, held = split_targets(load_targets())
    assert set(fitted) == {"signalled_2015", "signalled_2016", "technical_dismissal_share_2016"}
    assert {"signalled_2019", "traced_2019", "traced", "form_domestic_sexual"} <= set(held)
    assert not set(fitted) & set(held)


@pytest.mark.slow
def test_a_small_backtest_predicts_every_held_out_figure():
    sc = make_scenario()
    space = ParameterSpace(sc, knobs=DEFAULT_KNOBS[:2], unknowns=())
    bt = posterior_backtest(sc, load_targets(), draws=16, seed=2, space=space)
    fitted, held = split_targets(load_targets())
    assert list(bt.table["target"]) == list(held)
    assert bt.fitted == sorted(fitted)
    assert (bt.table["p5"] <= bt.table["p95"]).all()
    assert 0.0 <= bt.coverage <= 1.0
    assert bt.draws == 16 and 0 < bt.valid <= 16 and 1.0 <= bt.ess <= bt.valid
    assert not bt.reliable  # too few draws to smooth the tail: k is not estimated
    again = posterior_backtest(sc, load_targets(), draws=16, seed=2, space=space)
    assert again.table.equals(bt.table)  # the same seed, the same numbers


@pytest.mark.slow
def test_the_backtest_is_written_beside_the_ensemble(tmp_path):
    """write_posterior with a back-test: its table, figure and coverage in posterior.json."""
    import json

    import pandas as pd

    from chainsim.analysis.targets import DEFAULT_TARGETS
    from chainsim.experiments.posterior_run import run_posterior
    from chainsim.outputs.folders import write_posterior

    sc = make_scenario()
    targets = load_targets()
    space = ParameterSpace(sc, knobs=DEFAULT_KNOBS[:1], unknowns=("resume_share",))
    result = run_posterior(sc, targets, members=8, walkers=4, steps=3, burn=1, wave_size=0,
                           seed=1, space=space)
    bt = posterior_backtest(sc, targets, draws=16, seed=2, space=space)
    doc = write_posterior(result, "short.toml", DEFAULT_TARGETS, targets, tmp_path,
                          backtest=bt)
    fitted, held = split_targets(targets)
    assert doc["backtest"]["fitted"] == sorted(fitted)
    assert doc["backtest"]["held_out"] == len(held)
    assert doc["backtest"]["coverage_90"] == pytest.approx(bt.coverage, abs=1e-4)
    assert doc["backtest"]["draws"] == 16 and doc["backtest"]["reliable"] == bt.reliable
    table = pd.read_csv(tmp_path / "posterior_backtest.csv")
    assert list(table["target"]) == list(held)
    assert (tmp_path / "posterior_backtest.png").stat().st_size > 0
    assert json.loads((tmp_path / "posterior.json").read_text())["backtest"] == doc["backtest"]

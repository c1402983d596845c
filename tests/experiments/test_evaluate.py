"""The replication evaluator: the per-replication work of run, compare and sweeps."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from chainsim.analysis.proxies import default_period
from chainsim.chain.config import load_scenario
from chainsim.chain.streams import replication_seeds
from chainsim.experiments.compare import _replication_task
from chainsim.experiments.evaluate import Outcomes, evaluate_replication
from chainsim.experiments.replications import run_outcomes, run_replication
from conftest import DATA

ALL = Outcomes(records=True, yearly=True, window=True, shares=True, flows=True,
               recidivism=True, survival=True, proxies=True)


def _same(a, b) -> None:
    for name in ("proxies", "window", "shares", "recidivism", "draws"):
        # repr: exact for floats, and NaN (a short run's empty cohort) equals NaN
        assert repr(getattr(a, name)) == repr(getattr(b, name)), name
    for name in ("yearly", "flows", "survival", "records"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)


def test_arms_together_are_the_arms_apart_and_only_asked_outcomes_are_computed(
        short_scenario):
    probation = load_scenario(DATA / "short_probation.toml")
    arms = [short_scenario, probation]
    period = default_period(arms)
    outcomes = replace(ALL, period=period)
    seed = replication_seeds(11, 1)[0]
    together = evaluate_replication(arms, {}, seed, "fast", outcomes, rep=3)
    assert [(r.arm, r.rep) for r in together] == [(0, 3), (1, 3)]
    for arm, result in enumerate(together):
        alone = evaluate_replication([arms[arm]], {}, seed, "fast", outcomes, rep=3,
                                     numbers=[arm])
        _same(result, alone[0])
    assert repr(together[0].proxies) != repr(together[1].proxies)  # the lever changes it
    only = evaluate_replication(arms, {}, seed, "fast",
                                Outcomes(proxies=True, period=period))
    assert repr([r.proxies for r in only]) == repr([r.proxies for r in together])
    assert all(r.yearly is None and r.records is None and r.survival is None for r in only)


def test_run_and_compare_share_the_evaluator(short_scenario, short_params):
    seed = replication_seeds(5, 1)[0]
    period = default_period([short_scenario])
    run = run_replication(short_params, seed, rep=0, keep_records=False)
    cmp = _replication_task(([short_scenario], [0], 0, seed, {}, period, None, "fast"))[0]
    both = replace(run_outcomes(False), proxies=True, survival=True, period=period)
    [full] = evaluate_replication([short_params], {}, seed, "fast", both)
    assert run.records is None and run.proxies is None and cmp.shares is None
    pd.testing.assert_frame_equal(run.yearly, cmp.yearly, check_exact=True)
    assert repr(run.window) == repr(cmp.window)
    assert repr((run.shares, run.recidivism)) == repr((full.shares, full.recidivism))
    assert repr(cmp.proxies) == repr(full.proxies)
    pd.testing.assert_frame_equal(cmp.survival, full.survival, check_exact=True)

"""The summary document, from hand-built replication results."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from chainsim.analysis.flows import METRICS, SHARES
from chainsim.experiments.replications import Replication, RunResult
from chainsim.experiments.summary import describe, summary_document, versions


def test_describe_mean_and_percentiles():
    d = describe([1.0, 2.0, 3.0, 4.0, 5.0])
    assert d["mean"] == 3.0
    # numpy's linear interpolation: 5 % of the way is 1 + 0.05 * 4 = 1.2
    assert d["lo"] == pytest.approx(1.2)
    assert d["hi"] == pytest.approx(4.8)


def test_describe_ignores_nan_and_handles_none_left():
    assert describe([math.nan, 2.0, 4.0])["mean"] == 3.0
    assert describe([math.nan, math.nan]) == {"mean": None, "lo": None, "hi": None}
    assert describe([]) == {"mean": None, "lo": None, "hi": None}
    assert describe(iter([5.0])) == {"mean": 5.0, "lo": 5.0, "hi": 5.0}


def test_describe_rounds_to_six_decimals():
    assert describe([1 / 3])["mean"] == 0.333333


def test_versions():
    v = versions()
    assert {"python", "chainsim", "mesa", "numpy", "scipy", "pandas"} <= set(v)
    import chainsim

    assert v["chainsim"] == chainsim.__version__


def _replication(rep: int, scale: float) -> Replication:
    years = [2015, 2016]
    yearly = pd.DataFrame({m: [scale * (i + 1) for i in range(2)] for m in METRICS},
                          index=pd.Index(years, name="year"), dtype=float)
    window = {m: scale for m in METRICS}
    window["prison_months"] = math.nan if rep == 0 else 20.0
    shares = {s: scale / 10 for s in SHARES}
    recidivism = {"overall": {"general_2y": scale / 4}, "by_form": {}, "by_age_group": {},
                  "by_probation": {}}
    return Replication(rep=rep, records=None, yearly=yearly, window=window, shares=shares,
                       flows=pd.DataFrame(), recidivism=recidivism)


def test_summary_document(short_scenario, short_params):
    reps = [_replication(0, 1.0), _replication(1, 3.0)]
    result = RunResult(short_scenario, short_params, seed=5, reps=reps)
    doc = summary_document(result)
    # the documented keys (later versions may add keys, never rename these)
    assert {"scenario", "config_hash", "seed", "reps", "engine", "versions", "window",
            "window_mean", "by_year", "shares"} <= set(doc)
    assert doc["uncertainty"] is False and doc["unknowns"] == {}
    assert doc["scenario"] == "baseline_short"
    assert doc["config_hash"] == short_scenario.config_hash()
    assert (doc["seed"], doc["reps"], doc["engine"]) == (5, 2, "fast")
    assert doc["window"] == [2015, 2019]
    assert set(doc["window_mean"]) == set(METRICS)
    assert doc["window_mean"]["signalled"]["mean"] == 2.0
    assert doc["window_mean"]["signalled"]["lo"] == pytest.approx(1.1)
    assert doc["window_mean"]["signalled"]["hi"] == pytest.approx(2.9)
    # NaN of replication 0 is ignored
    assert doc["window_mean"]["prison_months"] == {"mean": 20.0, "lo": 20.0, "hi": 20.0}
    assert list(doc["by_year"]) == ["2015", "2016"]
    assert doc["by_year"]["2016"]["traced"]["mean"] == pytest.approx((2.0 + 6.0) / 2)
    assert doc["shares"]["female"]["mean"] == pytest.approx(0.2)
    assert doc["recidivism"]["overall"]["general_2y"]["mean"] == pytest.approx(0.5)
    # JSON-ready: no NaN anywhere
    json.dumps(doc, allow_nan=False)


def test_summary_document_of_an_empty_metric(short_scenario, short_params):
    reps = [_replication(0, 1.0)]
    reps[0].window["before_judge_share"] = np.nan
    doc = summary_document(RunResult(short_scenario, short_params, seed=0, reps=reps))
    assert doc["window_mean"]["before_judge_share"] == {"mean": None, "lo": None, "hi": None}
    assert doc["window_mean"]["prison_months"]["mean"] is None

"""Numerical guards: extreme levers and a horizon to 2100 run clean, invalid combinations fail.

The baseline is run to December 2100 on the fast engine with each lever at its
extreme (probation shares 0 and 1, investigation capacity 0, prevention 100 %,
hazards 0, certain conviction, ...). Every run must give finite, non-negative
record values, stocks that never go negative in any month (and end at the
engine's final stage counts), finite non-negative yearly counts, shares in
[0, 1] (or undefined where nothing was counted) and finite recidivism proxies.
Combinations without a meaning are rejected by ``resolve()`` with a message,
never clipped.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from chainsim.analysis.flows import COUNT_METRICS, RATIO_METRICS
from chainsim.chain.config import load_scenario, scenario_from_dict
from chainsim.chain.errors import InputError
from chainsim.chain.parameters import resolve
from chainsim.chain.spec import STAGE_NAMES
from chainsim.engines.fast import run_fast
from chainsim.experiments.replications import run_replication
from conftest import BASELINE
from faults.harness import count

HAZARDS = ("signal_hazard", "inspection_hazard", "queue_drop_hazard", "desistance_hazard",
           "reoffend_hazard", "general_offence_hazard", "post_desistance_hazard")


def baseline_doc(end: str = "2100-12") -> dict:
    doc = load_scenario(BASELINE).model_dump(mode="json", exclude_none=True)
    doc["scenario"]["end"] = end
    return doc


def set_value(doc: dict, name: str, value: float) -> None:
    """Give a parameter one plain value (an unknown: central value, range widened)."""
    if name in doc["unknowns"]:
        e = doc["unknowns"][name]
        e.update(central=value, low=min(e["low"], value), high=max(e["high"], value))
    else:
        e = doc["parameters"][name]
        e["value"] = value
        e.pop("by_form", None)
    for key in ("trend", "young_factor", "female_factor"):
        e.pop(key, None)


PREVENTION = {"name": "prevention 100%", "parameter": "inflow_rate", "operation": "multiply",
              "value": 0.0, "start": "2021-01", "note": "no new offenders from 2021"}

EXTREMES: dict[str, dict] = {
    "baseline to 2100": {},
    "probation share 0": {"probation_share_prison": 0.0, "probation_share_other": 0.0},
    "probation share 1": {"probation_share_prison": 1.0, "probation_share_other": 1.0},
    "investigation capacity 0": {"investigation_capacity": 0.0},
    "prevention 100 %": {"interventions": [PREVENTION]},
    "youth prevention 100 %": {"interventions": [
        {**PREVENTION, "target": {"age_group": ["under23"]}}]},
    "detection hazards 0": {"signal_hazard": 0.0, "inspection_hazard": 0.0},
    "after-chain hazards 0": {"reoffend_hazard": 0.0, "general_offence_hazard": 0.0,
                              "post_desistance_hazard": 0.0},
    "desistance 0": {"desistance_hazard": 0.0, "post_desistance_hazard": 0.0},
    "queue drop 0 and 1": {"queue_drop_hazard": 1.0},
    "conviction and prison certain": {"conviction_prob": 1.0, "prison_prob": 1.0,
                                      "pretrial_detention_share": 1.0},
    "everything dismissed": {"technical_dismissal_share": 1.0,
                             "policy_dismissal_share": 0.0, "other_disposal_share": 0.0},
    "longest terms": {"prison_months_mean": 600.0, "trial_months": 600.0,
                      "investigation_months": 600.0},
    "shortest terms, widest spread": {"prison_months_mean": 1.0, "trial_months": 1.0,
                                      "prison_months_cv": 5.0, "probation_months": 1.0},
    "all young, all female": {"young_share": 1.0, "female_share": 1.0,
                              "adolescent_law_share": 1.0},
    "factors 0 and 100": {"prior_hazard_factor": 0.0, "probation_hazard_ratio": 0.0,
                          "victims_per_offender": 100.0, "desistance_age_factor": 100.0},
}


def monthly_stocks(records, months: int, start: int) -> np.ndarray:
    """Offenders per stage at the end of every month, from the transitions alone."""
    moves = records[records["from_stage"].cat.codes != records["to_stage"].cat.codes]
    t = moves["month"].to_numpy() - start
    delta = np.zeros((months + 1, len(STAGE_NAMES)), dtype=np.int64)
    np.add.at(delta, (t, moves["from_stage"].cat.codes.to_numpy()), -1)
    np.add.at(delta, (t, moves["to_stage"].cat.codes.to_numpy()), 1)
    return delta.cumsum(axis=0)


@pytest.mark.slow
@pytest.mark.parametrize("label", sorted(EXTREMES))
def test_extremes_to_2100_stay_finite_and_non_negative(label):
    doc = baseline_doc()
    for name, value in EXTREMES[label].items():
        if name == "interventions":
            doc["interventions"] = copy.deepcopy(value)
        else:
            set_value(doc, name, value)
    with count("numerical guards (fast engine, to 2100)", "extreme lever"):
        params = resolve(scenario_from_dict(doc, label), label)
        assert params.n_months == (2100 - 2005) * 12 + 11
        result = run_fast(params, np.random.SeedSequence(7))
        rec = result.records
        assert len(rec) > 0
        assert (result.stage_counts >= 0).all()
        assert rec["month"].between(params.start, params.months[-1]).all()
        assert (rec["age"] >= 0).all() and (rec["priors"] >= 0).all()
        valued = rec["event"].isin(["prison", "released", "probation_start"])
        values = rec.loc[valued, "value"].to_numpy(dtype=float)
        assert np.isfinite(values).all() and (values >= 0).all()
        assert list(rec["from_stage"].cat.categories) == list(STAGE_NAMES)
        stocks = monthly_stocks(rec, params.n_months, params.start)[:, 1:]  # without "none"
        assert stocks.min() >= 0
        assert (stocks[-1] == result.stage_counts[1:]).all()
        rep = run_replication(params, np.random.SeedSequence(7), engine="fast")
        yearly = rep.yearly
        counts = yearly[[c for c in COUNT_METRICS if c in yearly]].to_numpy(dtype=float)
        assert np.isfinite(counts).all() and (counts >= 0).all()
        ratios = yearly[[c for c in RATIO_METRICS if c in yearly]].to_numpy(dtype=float)
        ratios = ratios[~np.isnan(ratios)]  # undefined where nothing was counted
        assert np.isfinite(ratios).all() and (ratios >= 0).all()
        share = yearly["technical_dismissal_share"].to_numpy(dtype=float)
        assert (share[~np.isnan(share)] <= 1).all()  # (before_judge_share may exceed 1:
        # the OM also summons cases other services bring, which are not "traced")
        months = yearly["prison_months"].to_numpy(dtype=float)
        assert (months[~np.isnan(months)] > 0).all()
        for proxy, v in rep.recidivism["overall"].items():
            assert v is None or np.isnan(v) or 0 <= v <= 1, (proxy, v)


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"signal_hazard": 0.0, "inspection_hazard": 0.0, "desistance_hazard": 0.0},
     "parameters.signal_hazard", "no offender ever leaves"),
    ({"desistance_age_factor": 0.0}, "unknowns.desistance_age_factor", "> 0"),
    ({"inflow_rate": 1e7}, "unknowns.inflow_rate", "offenders expected"),
])
def test_meaningless_combinations_are_rejected_not_clipped(changes, field, words):
    doc = baseline_doc()
    for name, value in changes.items():
        set_value(doc, name, value)
    with count("numerical guards (fast engine, to 2100)", "invalid combination rejected"), \
            pytest.raises(InputError) as info:
        resolve(scenario_from_dict(doc, "extreme.toml"), "extreme.toml")
    (p,) = info.value.problems
    assert p.file == "extreme.toml" and p.field == field and words in p.allowed

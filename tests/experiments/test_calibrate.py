"""Calibration: knobs on scenario documents, and recovery of known parameters.

The recovery test fits synthetic targets made by the twin itself at known parameter
values. The Calibrator runs the twin to ``CALIBRATION_END`` (2019-12) whatever the
scenario's horizon, so the test scenario is the short one moved to 2013-01..2019-12
(seven years; a full fit with five knobs takes a few seconds).
"""

from __future__ import annotations

import numpy as np
import pytest

from chainsim.analysis.fit import target_key, twin_metrics
from chainsim.analysis.targets import Target
from chainsim.chain.config import scenario_from_dict
from chainsim.chain.parameters import resolve
from chainsim.chain.spec import FORMS
from chainsim.engines.twin import expected_flows
from chainsim.experiments.calibrate import (
    CALIBRATION_END,
    DEFAULT_KNOBS,
    Calibrator,
    Knob,
    apply_knobs,
    knob_values,
)
from conftest import short_doc

# ------------------------------------------------------------------ knobs


def test_scale_knob_multiplies_value_and_every_form():
    doc = short_doc()
    knob = (Knob("signal_hazard", "scale", 0.2, 5.0),)
    out = apply_knobs(doc, knob, np.array([1.5]))
    before, after = doc["parameters"]["signal_hazard"], out["parameters"]["signal_hazard"]
    assert after["value"] == pytest.approx(before["value"] * 1.5)
    assert after["by_form"] == pytest.approx({f: v * 1.5 for f, v in before["by_form"].items()})
    assert after["trend"] == before["trend"]  # the shape over time is another knob
    assert knob_values(out, knob).tolist() == [1.0]  # a scale is relative to the document
    assert doc == short_doc()  # the input is not modified
    # a parameter with a value only
    out = apply_knobs(doc, (Knob("investigation_cv", "scale", 0.1, 10),), np.array([2.0]))
    before = doc["parameters"]["investigation_cv"]["value"]
    assert out["parameters"]["investigation_cv"]["value"] == pytest.approx(2 * before)


def test_value_knob_round_trip():
    doc = short_doc()
    knob = (Knob("investigation_capacity", "value", 80.0, 500.0),)
    assert knob_values(doc, knob).tolist() == [185.0]
    out = apply_knobs(doc, knob, np.array([150.0]))
    assert out["parameters"]["investigation_capacity"]["value"] == 150.0
    assert knob_values(out, knob).tolist() == [150.0]
    assert out["parameters"]["investigation_capacity"]["trend"] == (
        doc["parameters"]["investigation_capacity"]["trend"])


def test_trend_knob_round_trip_and_new_knots_in_order():
    doc = short_doc()
    existing = Knob("signal_hazard", "trend:2016-06", 0.5, 2.5)
    new = Knob("signal_hazard", "trend:2013-01", 0.5, 2.5)
    no_trend = Knob("queue_drop_hazard", "trend:2016-01", 0.1, 2.0)
    knobs = (existing, new, no_trend)
    # a missing knot (or no trend at all) reads as the neutral multiplier 1
    assert knob_values(doc, knobs).tolist() == [1.26, 1.0, 1.0]
    out = apply_knobs(doc, knobs, np.array([1.4, 0.8, 1.1]))
    assert knob_values(out, knobs).tolist() == [1.4, 0.8, 1.1]
    assert list(out["parameters"]["signal_hazard"]["trend"]) == ["2013-01", "2015-01",
                                                                 "2016-06", "2019-06"]
    assert out["parameters"]["signal_hazard"]["trend"]["2019-06"] == 0.74
    assert out["parameters"]["queue_drop_hazard"]["trend"] == {"2016-01": 1.1}
    scenario_from_dict(out, "<test>")  # still a valid scenario


def test_by_form_knob_round_trip():
    doc = short_doc()
    knob = (Knob("conviction_prob", "by_form:labour", 0.05, 0.95),)
    assert knob_values(doc, knob).tolist() == [0.48]
    out = apply_knobs(doc, knob, np.array([0.3]))
    assert knob_values(out, knob).tolist() == [0.3]
    before, after = doc["parameters"]["conviction_prob"], out["parameters"]["conviction_prob"]
    assert after["by_form"] == {**before["by_form"], "labour": 0.3}
    assert after["value"] == before["value"]


def test_inflow_form_share_knobs_keep_the_shares_summing_to_one():
    doc = short_doc()
    before = doc["parameters"]["inflow_form_share"]["by_form"]
    knobs = (Knob("inflow_form_share", "by_form:criminal", 0.01, 0.3),)
    out = apply_knobs(doc, knobs, np.array([0.12]))
    after = out["parameters"]["inflow_form_share"]["by_form"]
    assert after["criminal"] == 0.12
    assert sum(after.values()) == pytest.approx(1.0, abs=1e-12)
    # the other forms share what is left in their old proportions
    rest = 1 - before["criminal"]
    for f in FORMS:
        if f != "criminal":
            assert after[f] == pytest.approx(before[f] / rest * 0.88)
    # two forms set: both keep their values, the other three share the remainder
    knobs = (Knob("inflow_form_share", "by_form:domestic_sexual", 0.1, 0.8),
             Knob("inflow_form_share", "by_form:labour", 0.02, 0.5))
    out = apply_knobs(doc, knobs, np.array([0.6, 0.1]))
    after = out["parameters"]["inflow_form_share"]["by_form"]
    assert (after["domestic_sexual"], after["labour"]) == (0.6, 0.1)
    assert sum(after.values()) == pytest.approx(1.0, abs=1e-12)
    others = ("cross_border_sexual", "criminal", "other")
    total = sum(before[f] for f in others)
    for f in others:
        assert after[f] == pytest.approx(before[f] / total * 0.3)
    assert knob_values(out, knobs).tolist() == [0.6, 0.1]
    params = resolve(scenario_from_dict(out, "<test>"), "<test>")  # validates the sum
    assert params.values["inflow_form_share"][0, :, 0, 0].sum() == pytest.approx(1.0)


def test_default_knobs_round_trip_on_the_baseline_document():
    doc = short_doc()
    values = knob_values(doc, DEFAULT_KNOBS)
    lows = np.array([k.low for k in DEFAULT_KNOBS])
    highs = np.array([k.high for k in DEFAULT_KNOBS])
    assert np.all((values > lows) & (values < highs))  # the start lies inside the bounds
    out = apply_knobs(doc, DEFAULT_KNOBS, values)
    np.testing.assert_allclose(knob_values(out, DEFAULT_KNOBS), values, rtol=1e-12)
    for name, entry in doc["parameters"].items():
        for key in ("value", "by_form", "trend"):
            if key in entry:
                assert out["parameters"][name][key] == pytest.approx(entry[key], rel=1e-12), (
                    name, key)
    assert len({k.name for k in DEFAULT_KNOBS}) == len(DEFAULT_KNOBS)


# ------------------------------------------------------------------ recovery


KNOBS = (Knob("signal_hazard", "scale", 0.2, 5.0),
         Knob("investigation_capacity", "value", 80.0, 500.0),
         Knob("technical_dismissal_share", "scale", 0.3, 2.0),
         Knob("prison_months_mean", "scale", 0.4, 2.5),
         # no target informs the supervision length's spread (chain mode leaves out life after
         # the chain, and no target counts probation): the fit must say so
         Knob("probation_cv", "value", 0.1, 2.0))
INFORMED = 4
PERTURBATION = np.array([1.3, 1 / 1.3, 1.3, 1 / 1.3, 1.0])
"""The start, relative to the true values (26-30 % off)."""
TARGET_SD = 0.01
"""Synthetic targets' sd, relative to their value."""
HELD_OUT = "traced_2019"


def recovery_doc() -> dict:
    doc = short_doc()
    doc["scenario"]["start"] = "2013-01"
    doc["scenario"]["end"] = CALIBRATION_END
    return doc


def synthetic_targets(doc: dict) -> dict[str, Target]:
    """Point targets from the full twin at the document's values (sd 1 % of the value)."""
    specs = {}
    for y in range(2015, 2020):
        specs[f"signalled_{y}"] = ("signalled", "point")
        specs[f"traced_{y}"] = ("traced", "point")
        specs[f"technical_dismissal_share_{y}"] = ("technical_dismissal_share", "share")
    draft = {name: Target(metric=metric, scope="by_year", kind=kind, value=0.5, sd=1,
                          years=name[-4:], source="synthetic")
             for name, (metric, kind) in specs.items()}
    draft["prison_months"] = Target(metric="prison_months", scope="window_mean", kind="point",
                                    value=1, sd=1, years="2015-2019", source="synthetic")
    ef = expected_flows(resolve(scenario_from_dict(doc, "<truth>"), "<truth>"))
    pred = twin_metrics(ef, [target_key(t) for t in draft.values()])
    return {n: t.model_copy(update={"value": pred[target_key(t)],
                                    "sd": TARGET_SD * pred[target_key(t)]})
            for n, t in draft.items()}


@pytest.fixture(scope="module")
def recovery():
    """A fit from a perturbed start to targets made at the true values."""
    truth_doc = recovery_doc()
    targets = synthetic_targets(truth_doc)
    true_values = knob_values(truth_doc, KNOBS)  # the scale knobs are 1 here
    start_doc = apply_knobs(truth_doc, KNOBS, true_values * PERTURBATION)
    # relative to the start document a scale knob's true value is 1 / perturbation
    truth = np.where([k.field == "scale" for k in KNOBS], 1 / PERTURBATION,
                     true_values)
    scenario = scenario_from_dict(start_doc, "<start>")
    cal = Calibrator(targets, knobs=KNOBS, exclude=(HELD_OUT,), ensemble_size=5,
                     seed=3).fit(scenario)
    return cal, truth, scenario, targets


@pytest.mark.slow
def test_calibrator_recovers_known_parameters(recovery):
    """The fitted knobs are within 3 posterior sds (log scale) of the truth.

    The start is 26-30 % off; the posterior sds are below 2 %, so this is a tight
    check (the synthetic targets are met exactly at the truth).
    """
    cal, truth, _, _ = recovery
    err = np.log(cal.values_ / truth)[:INFORMED]
    sd = cal.log_sd_[:INFORMED]
    assert np.all(sd < 0.02), sd
    assert np.all(np.abs(err) <= 3 * sd), (cal.values_, truth, sd)
    assert np.abs(np.log(PERTURBATION[:INFORMED])).min() > 0.25  # a real perturbation
    assert cal.cost_ < 0.05
    # the uninformed knob stays at its start
    assert cal.values_[INFORMED] == pytest.approx(truth[INFORMED], rel=1e-6)
    # the calibrated scenario carries the fitted values
    doc = cal.scenario_.model_dump(mode="json", exclude_none=True)
    assert doc["parameters"]["investigation_capacity"]["value"] == pytest.approx(
        cal.values_[1])
    assert doc["scenario"]["start"] == "2013-01"


@pytest.mark.slow
def test_fit_table_columns_and_rows(recovery):
    cal, _, _, targets = recovery
    table = cal.fit_table()
    assert list(table.columns) == ["target", "metric", "form", "years", "kind", "observed", "sd",
                                   "model", "model_lo", "model_hi", "residual", "met", "in_fit"]
    assert list(table["target"]) == list(targets)
    rows = table.set_index("target")
    assert not rows.loc[HELD_OUT, "in_fit"]
    assert rows.drop(HELD_OUT)["in_fit"].all()
    assert rows["met"].all()  # every target, the held-out one too, is met at the truth
    assert rows.loc["prison_months", "model"] == pytest.approx(targets["prison_months"].value,
                                                              rel=0.01)
    assert (rows["model_lo"] <= rows["model"] + 1e-3).all()
    assert (rows["model"] <= rows["model_hi"] + 1e-3).all()
    assert rows.loc["traced_2016", "kind"] == "point"
    assert rows.loc["technical_dismissal_share_2019", "kind"] == "share"


@pytest.mark.slow
def test_identifiability_table_reports_an_uninformed_knob_as_free(recovery):
    cal, _, scenario, _ = recovery
    table = cal.identifiability_table(scenario)
    assert list(table.columns) == ["parameter", "value", "lo90", "hi90",
                                   "posterior_to_prior_sd", "status", "basis"]
    rows = table.set_index("parameter")
    for k in KNOBS[:INFORMED]:
        assert rows.loc[k.name, "status"] == "determined", k.name
        assert rows.loc[k.name, "lo90"] < rows.loc[k.name, "value"] < rows.loc[k.name, "hi90"]
    free = rows.loc["probation_cv.value"]
    assert free["status"] == "free (prior only)"
    assert free["posterior_to_prior_sd"] == pytest.approx(1.0, abs=0.05)
    unknowns = rows[rows["status"] == "free (declared unknown)"]
    assert set(unknowns.index) == set(scenario.unknowns)
    assert len(table) == len(KNOBS) + len(scenario.unknowns)


@pytest.mark.slow
def test_ensemble_and_calibrated_entries(recovery):
    cal, _, _, _ = recovery
    assert cal.ensemble_.shape[1] == len(KNOBS)
    assert 1 <= len(cal.ensemble_) <= 5
    lows, highs = np.array([k.low for k in KNOBS]), np.array([k.high for k in KNOBS])
    assert np.all((cal.ensemble_ >= lows) & (cal.ensemble_ <= highs))
    entries = cal.calibrated_entries()
    assert set(entries) == {k.parameter for k in KNOBS}
    assert entries["probation_cv"] == {"value": pytest.approx(cal.values_[INFORMED])}
    assert cal.evaluations_ > 0 and cal.seconds_ > 0


"""Resolving a scenario into parameter arrays over time and strata."""

from __future__ import annotations

import numpy as np
import pytest

from chainsim.chain.config import ParameterEntry, UnknownEntry
from chainsim.chain.months import parse_month
from chainsim.chain.parameters import (
    MAX_DURATION_MONTHS,
    STRATA_SHAPE,
    cached_duration_pmf,
    cached_sentence_pmf,
    resolve,
    resolve_entry,
    trend_multipliers,
)
from chainsim.chain.spec import FORMS, PARAMETERS, duration_pmf
from conftest import make_params, set_param, short_doc

N_MONTHS = 6 * 12 - 1  # 2012-01 .. 2017-12
LABOUR = FORMS.index("labour")


def test_shapes_and_horizon(short_params):
    p = short_params
    assert p.start == parse_month("2012-01")
    assert p.n_months == N_MONTHS
    np.testing.assert_array_equal(p.months, parse_month("2012-01") + np.arange(N_MONTHS + 1))
    for name in PARAMETERS:
        assert p[name].shape == (N_MONTHS + 1, *STRATA_SHAPE), name
    assert p["inflow_stratum_rate"].shape == (N_MONTHS + 1, *STRATA_SHAPE)


def test_by_form_and_young_factor(short_params):
    p = short_params
    doc = short_doc()["parameters"]
    conviction = doc["conviction_prob"]["by_form"]
    for f, form in enumerate(FORMS):
        assert p.at("conviction_prob", 0, f) == pytest.approx(conviction[form])
    # prison_prob: young_factor applies to age group 0 (under 23) only, both sexes
    prison = doc["prison_prob"]
    young = prison["young_factor"]
    assert young != 1.0
    for sex in (0, 1):
        assert p.at("prison_prob", 10, LABOUR, 0, sex) == pytest.approx(
            prison["by_form"]["labour"] * young)
        assert p.at("prison_prob", 10, LABOUR, 1, sex) == pytest.approx(
            prison["by_form"]["labour"])
    # a scalar parameter is the same everywhere
    assert np.all(p["recall_cv"] == doc["recall_cv"]["value"])


def test_trend_is_linear_between_knots_and_flat_outside():
    trend = {"2015-01": 1.0, "2015-11": 2.0, "2016-11": 0.5}
    months = np.array([parse_month(m) for m in
                       ("2010-01", "2015-01", "2015-06", "2015-11", "2016-05", "2016-11",
                        "2030-01")])
    np.testing.assert_allclose(trend_multipliers(trend, months),
                               [1.0, 1.0, 1.5, 2.0, 1.25, 0.5, 0.5])
    np.testing.assert_array_equal(trend_multipliers(None, months), np.ones(len(months)))


def test_trend_applies_to_the_resolved_array():
    doc = short_doc()
    doc["parameters"]["signal_hazard"].update(
        by_form={"domestic_sexual": 0.01}, trend={"2013-01": 1.0, "2014-01": 2.0})
    p = make_params(doc=doc)
    dom = FORMS.index("domestic_sexual")
    other = doc["parameters"]["signal_hazard"]["value"]

    def at(month, form=dom):
        return p.at("signal_hazard", parse_month(month) - p.start, form)

    assert at("2012-01") == pytest.approx(0.01)  # before the first knot: flat
    assert at("2013-01") == pytest.approx(0.01)
    assert at("2013-07") == pytest.approx(0.015)  # halfway: linear
    assert at("2014-01") == pytest.approx(0.02)
    assert at("2017-12") == pytest.approx(0.02)  # after the last knot: flat
    assert at("2013-07", LABOUR) == pytest.approx(1.5 * other)  # forms without by_form


def test_resolve_entry_factors_on_the_right_axes():
    entry = ParameterEntry(value=0.2, by_form={"labour": 0.4}, young_factor=2.0,
                           female_factor=0.5, trend={"2000-01": 1.0, "2000-03": 3.0},
                           note="test entry")
    months = parse_month("2000-01") + np.arange(4)
    arr = resolve_entry(entry, months, scale=1.5)
    assert arr.shape == (4, *STRATA_SHAPE)
    # time 2 (2000-03, multiplier 3), labour, under 23, female
    assert arr[2, LABOUR, 0, 1] == pytest.approx(3 * 0.4 * 2.0 * 0.5 * 1.5)
    # time 1 (multiplier 2), domestic, 23+, male
    assert arr[1, 0, 1, 0] == pytest.approx(2 * 0.2 * 1.5)
    # time 3 is after the last knot: stays at 3
    assert arr[3, 0, 1, 1] == pytest.approx(3 * 0.2 * 0.5 * 1.5)


def test_unknown_entry_resolves_at_its_central_value():
    entry = UnknownEntry(central=0.01, low=0.005, high=0.02, note="test unknown")
    arr = resolve_entry(entry, np.arange(3))
    assert np.all(arr == 0.01)


def test_draws_replace_the_central_values_of_unknowns(short_scenario):
    unknowns = short_doc()["unknowns"]
    central = unknowns["reoffend_hazard"]["central"]
    p = resolve(short_scenario, draws={"reoffend_hazard": 2 * central})
    adult = (slice(None), slice(None), 1)  # the young factor scales the under-23s' values
    young = unknowns["reoffend_hazard"].get("young_factor", 1.0)
    assert np.allclose(p["reoffend_hazard"][adult], 2 * central)
    assert np.allclose(p["reoffend_hazard"][:, :, 0], 2 * central * young)
    assert np.allclose(p["general_offence_hazard"][adult],  # no draw: central value
                       unknowns["general_offence_hazard"]["central"])


def test_draws_move_every_form_by_the_same_factor():
    doc = short_doc()
    doc["unknowns"]["desistance_hazard"]["by_form"] = {"labour": 0.02}
    central = doc["unknowns"]["desistance_hazard"]["central"]
    p = make_params(doc=doc)
    q = resolve(p.scenario, draws={"desistance_hazard": 1.5 * central})
    np.testing.assert_allclose(q["desistance_hazard"], 1.5 * p["desistance_hazard"])
    assert q.at("desistance_hazard", 0, LABOUR) == pytest.approx(0.03)


def test_a_draw_is_used_even_when_the_central_value_is_zero():
    # an unknown may have its central (most plausible) value at zero, e.g. no victims
    # beyond the offender's own range; a sampled value above zero must still be used
    doc = short_doc()
    doc["unknowns"]["victims_per_offender"].update(central=0.0, low=0.0, high=3.0)
    p = resolve(make_params(doc=doc).scenario, draws={"victims_per_offender": 1.2})
    assert np.allclose(p["victims_per_offender"], 1.2)


def test_inflow_stratum_rate_decomposes_the_inflow(short_params):
    p = short_params
    doc = short_doc()
    inflow = doc["unknowns"]["inflow_rate"]["central"]
    forms = doc["parameters"]["inflow_form_share"]["by_form"]
    young_share = doc["parameters"]["young_share"]["by_form"]
    rate = p["inflow_stratum_rate"]
    np.testing.assert_allclose(rate.sum(axis=(1, 2, 3)), inflow)
    form_share = rate.sum(axis=(2, 3)) / inflow
    np.testing.assert_allclose(form_share[0], [forms[f] for f in FORMS])
    young = rate[0, :, 0, :].sum(axis=1) / rate[0].sum(axis=(1, 2))
    np.testing.assert_allclose(young, [young_share[f] for f in FORMS])
    female = rate[0, :, :, 1].sum() / rate[0].sum()
    assert female == pytest.approx(doc["parameters"]["female_share"]["value"])
    np.testing.assert_array_equal(p.base_inflow, rate)
    assert p.base_inflow is not rate


def test_series_and_at_agree(short_params):
    p = short_params
    s = p.series("signal_hazard", 10, 2, 0, 1)
    assert len(s) == N_MONTHS + 1 - 10
    assert s[0] == p.at("signal_hazard", 10, 2, 0, 1)
    assert s[-1] == p.at("signal_hazard", N_MONTHS, 2, 0, 1)


def test_resolve_reports_the_file_name():
    doc = set_param(short_doc(), "prison_prob", 0.9, young_factor=1.2)  # > 1 for the young
    from chainsim.chain.config import scenario_from_dict
    from chainsim.chain.errors import InputError

    sc = scenario_from_dict(doc, "mine.toml")
    with pytest.raises(InputError) as info:
        resolve(sc, "mine.toml")
    (p,) = info.value.problems
    assert p.file == "mine.toml"
    assert p.field == "parameters.prison_prob"
    assert p.value == pytest.approx(0.9 * 1.2)


def test_cached_pmfs_are_read_only_and_match_spec():
    pmf = cached_duration_pmf(6.0, 0.6)
    assert pmf is cached_duration_pmf(6.0, 0.6)
    np.testing.assert_array_equal(pmf, duration_pmf(6.0, 0.6, MAX_DURATION_MONTHS))
    with pytest.raises(ValueError):
        pmf[1] = 0.5
    with pytest.raises(ValueError):
        cached_sentence_pmf(20.0, 0.9)[3] = 0.0


def test_make_params_helper_sets_plain_values():
    p = make_params({"conviction_prob": 0.5, "reoffend_hazard": 0.03})
    assert np.all(p["conviction_prob"] == 0.5)
    assert np.all(p["reoffend_hazard"] == 0.03)


# ------------------------------------------------------------------ interventions

START = parse_month("2014-01")
T0 = START - parse_month("2012-01")  # model time of the intervention's first month
UNDER23 = 0
FEMALE = 1


def with_interventions(*interventions: dict, doc: dict | None = None):
    """Resolved parameters of the short scenario plus ``interventions``."""
    doc = doc if doc is not None else short_doc()
    doc["interventions"] = [{"name": f"iv{i}", "start": "2014-01", "note": "a test",
                             **entry} for i, entry in enumerate(interventions)]
    return make_params(doc=doc)


def expected_weights(start: int, ramp: int, end: int | None) -> np.ndarray:
    """Hand-written weights over model time: 0 before, (t - start + 1) / ramp, 1, 0 after end."""
    w = np.zeros(N_MONTHS + 1)
    for t in range(N_MONTHS + 1):
        if t < start or (end is not None and t > end):
            continue
        w[t] = 1.0 if ramp == 0 else min(1.0, (t - start + 1) / ramp)
    return w


@pytest.fixture(scope="module")
def plain():
    """The short scenario's parameters without interventions (read only)."""
    return make_params()


@pytest.mark.parametrize(("operation", "value", "formula"), [
    ("set", 0.02, lambda x, w: (1 - w) * x + w * 0.02),
    ("multiply", 1.5, lambda x, w: x * (1 + 0.5 * w)),
    ("add", 0.004, lambda x, w: x + 0.004 * w),
])
def test_each_operation_over_ramp_and_end(plain, operation, value, formula):
    # signal_hazard varies by form, age group and (through its trend) over time
    p = with_interventions({"parameter": "signal_hazard", "operation": operation,
                            "value": value, "ramp_months": 4, "end": "2015-06"})
    end = parse_month("2015-06") - p.start
    x, y = plain["signal_hazard"], p["signal_hazard"]
    w = expected_weights(T0, 4, end)
    np.testing.assert_array_equal(w[T0:T0 + 5], [0.25, 0.5, 0.75, 1.0, 1.0])
    # before the start and after the end: exactly the original
    np.testing.assert_array_equal(y[:T0], x[:T0])
    np.testing.assert_array_equal(y[end + 1:], x[end + 1:])
    assert not np.array_equal(y[end], x[end])  # the end month is still in force
    # during the ramp and at full effect
    for t in range(T0, end + 1):
        np.testing.assert_allclose(y[t], formula(x[t], w[t]), rtol=1e-12, err_msg=str(t))
    if operation == "set":
        np.testing.assert_allclose(y[T0 + 3:end + 1], value, rtol=1e-12)  # every stratum


def test_intervention_without_ramp_or_end_applies_in_full_to_the_horizons_end(plain):
    p = with_interventions({"parameter": "trial_months", "operation": "add", "value": 3})
    x, y = plain["trial_months"], p["trial_months"]
    np.testing.assert_array_equal(y[:T0], x[:T0])
    np.testing.assert_allclose(y[T0:], x[T0:] + 3)


def test_a_long_ramp_is_cut_by_the_horizon(plain):
    p = with_interventions({"parameter": "trial_months", "operation": "set", "value": 20,
                            "ramp_months": 120})
    x, y = plain["trial_months"], p["trial_months"]
    t = np.arange(T0, N_MONTHS + 1)
    frac = (t - T0 + 1) / 120
    np.testing.assert_allclose(y[T0:, 0, 0, 0], x[T0:, 0, 0, 0] + frac * (20 - x[T0:, 0, 0, 0]))
    assert y[-1, 0, 0, 0] < 20


def test_target_form_and_age_group_change_only_those_strata(plain):
    p = with_interventions({"parameter": "signal_hazard", "operation": "multiply",
                            "value": 2.0, "target": {"form": ["labour", "criminal"],
                                                     "age_group": ["under23"]}})
    x, y = plain["signal_hazard"], p["signal_hazard"]
    mask = np.zeros(STRATA_SHAPE, bool)
    mask[[LABOUR, FORMS.index("criminal")], UNDER23, :] = True
    np.testing.assert_array_equal(y[:, ~mask], x[:, ~mask])
    np.testing.assert_array_equal(y[:T0], x[:T0])
    np.testing.assert_allclose(y[T0:, mask], 2 * x[T0:, mask])


def test_target_sex_on_inflow(plain):
    p = with_interventions({"parameter": "inflow_rate", "operation": "multiply", "value": 0.5,
                            "target": {"sex": ["female"], "form": ["domestic_sexual"]}})
    x, y = plain["inflow_stratum_rate"], p["inflow_stratum_rate"]
    mask = np.zeros(STRATA_SHAPE, bool)
    mask[FORMS.index("domestic_sexual"), :, FEMALE] = True
    np.testing.assert_array_equal(y[:, ~mask], x[:, ~mask])
    np.testing.assert_allclose(y[T0:, mask], 0.5 * x[T0:, mask])
    np.testing.assert_array_equal(y[:T0], x[:T0])


def test_inflow_intervention_changes_the_stratum_rate_not_the_base_inflow(plain):
    p = with_interventions({"parameter": "inflow_rate", "operation": "multiply", "value": 0.75,
                            "target": {"age_group": ["under23"]}})
    np.testing.assert_array_equal(p.base_inflow, plain.base_inflow)
    np.testing.assert_array_equal(p["inflow_rate"], plain["inflow_rate"])
    np.testing.assert_allclose(p["inflow_stratum_rate"][T0:, :, UNDER23],
                               0.75 * plain.base_inflow[T0:, :, UNDER23])
    np.testing.assert_array_equal(p["inflow_stratum_rate"][:, :, 1], plain.base_inflow[:, :, 1])


@pytest.mark.parametrize(("probation", "changed", "same"), [
    ("supervised", "reoffend_hazard@supervised", "reoffend_hazard"),
    ("unsupervised", "reoffend_hazard", "reoffend_hazard@supervised"),
])
def test_probation_target_changes_one_variant(plain, probation, changed, same):
    from chainsim.chain.spec import SUPERVISED_SUFFIX

    assert changed.removeprefix("reoffend_hazard") in ("", SUPERVISED_SUFFIX)
    p = with_interventions({"parameter": "reoffend_hazard", "operation": "multiply",
                            "value": 0.5, "target": {"probation": probation}})
    np.testing.assert_array_equal(p[same], plain[same])
    np.testing.assert_array_equal(p[changed][:T0], plain[changed][:T0])
    np.testing.assert_allclose(p[changed][T0:], 0.5 * plain[changed][T0:])


def test_untargeted_probation_parameter_changes_both_variants(plain):
    p = with_interventions({"parameter": "general_offence_hazard", "operation": "multiply",
                            "value": 0.5})
    for key in ("general_offence_hazard", "general_offence_hazard@supervised"):
        np.testing.assert_allclose(p[key][T0:], 0.5 * plain[key][T0:])
        np.testing.assert_array_equal(p[key][:T0], plain[key][:T0])


def test_two_interventions_on_one_parameter_compose_in_file_order(plain):
    set_first = with_interventions(
        {"parameter": "conviction_prob", "operation": "set", "value": 0.8},
        {"parameter": "conviction_prob", "operation": "multiply", "value": 0.5,
         "start": "2015-01"})
    multiply_first = with_interventions(
        {"parameter": "conviction_prob", "operation": "multiply", "value": 0.5,
         "start": "2015-01"},
        {"parameter": "conviction_prob", "operation": "set", "value": 0.8})
    t15 = parse_month("2015-01") - set_first.start
    x = plain["conviction_prob"]
    for p in (set_first, multiply_first):
        np.testing.assert_array_equal(p["conviction_prob"][:T0], x[:T0])
        assert np.all(p["conviction_prob"][T0:t15] == 0.8)
    assert np.allclose(set_first["conviction_prob"][t15:], 0.4)  # 0.8, then halved
    assert np.all(multiply_first["conviction_prob"][t15:] == 0.8)  # halved, then replaced


def test_a_draw_replaces_an_uncertain_effect(plain):
    doc = short_doc()
    doc["interventions"] = [{"name": "boost", "parameter": "trial_months", "operation": "add",
                             "value": 2, "low": 1, "high": 4, "start": "2014-01",
                             "note": "uncertain"}]
    sc = make_params(doc=doc).scenario
    from chainsim.chain.parameters import unknown_keys

    assert unknown_keys(sc)["interventions.boost"] == (2, 1, 4)
    central = resolve(sc)
    drawn = resolve(sc, draws={"interventions.boost": 3.5})
    np.testing.assert_allclose(central["trial_months"][T0:], plain["trial_months"][T0:] + 2)
    np.testing.assert_allclose(drawn["trial_months"][T0:], plain["trial_months"][T0:] + 3.5)

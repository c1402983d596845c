"""Resolving a scenario into parameter arrays over time and strata."""

from __future__ import annotations

import numpy as np
import pytest

from chainsim.calendar import parse_month
from chainsim.config import ParameterEntry, UnknownEntry
from chainsim.parameters import (
    MAX_DURATION_MONTHS,
    STRATA_SHAPE,
    cached_duration_pmf,
    cached_sentence_pmf,
    resolve,
    resolve_entry,
    trend_multipliers,
)
from chainsim.spec import FORMS, PARAMETERS, duration_pmf
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
    assert np.all(p["trial_months"] == doc["trial_months"]["value"])


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
    assert np.allclose(p["reoffend_hazard"], 2 * central)
    assert np.allclose(p["general_offence_hazard"],  # no draw: central value
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
    from chainsim.config import scenario_from_dict
    from chainsim.errors import InputError

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

"""Annual flows and chain metrics, on a hand-built record table with hand-counted results."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from chainsim.analysis import flows
from conftest import make_records

ATTRS = {  # agent -> (form, age group, sex)
    1: ("domestic_sexual", "23plus", "male"),
    2: ("domestic_sexual", "under23", "female"),
    3: ("domestic_sexual", "23plus", "male"),
    4: ("labour", "under23", "female"),
    6: ("other", "23plus", "male"),
    7: ("domestic_sexual", "23plus", "male"),
    8: ("cross_border_sexual", "23plus", "male"),
    9: ("criminal", "under23", "male"),
    10: ("domestic_sexual", "23plus", "male"),
    11: ("labour", "23plus", "male"),
    12: ("criminal", "23plus", "female"),
}

EVENTS = [  # (agent, year, month 1-12, event, value)
    (6, 2014, 11, "traced", None),
    # 2015
    (1, 2015, 1, "signalled", None),
    (1, 2015, 2, "investigation_started", None),
    (4, 2015, 2, "registered_other", None),
    (2, 2015, 3, "signalled", None),
    (4, 2015, 3, "summoned", None),
    (3, 2015, 4, "signalled", None),
    (1, 2015, 5, "traced", None),
    (2, 2015, 6, "traced", None),
    (6, 2015, 6, "other_disposal", None),
    (1, 2015, 7, "summoned_detained", None),
    (2, 2015, 8, "technical_dismissal", None),
    (7, 2015, 9, "probation_start", 24.0),
    (4, 2015, 10, "convicted", None),
    (4, 2015, 10, "prison", 20.0),
    (1, 2015, 12, "convicted", None),
    (1, 2015, 12, "prison", 10.0),
    # 2016
    (8, 2016, 1, "signalled", None),
    (8, 2016, 4, "traced", None),
    (9, 2016, 4, "traced", None),
    (9, 2016, 5, "summoned", None),
    (8, 2016, 6, "policy_dismissal", None),
    (10, 2016, 7, "convicted", None),
    (10, 2016, 7, "prison", 30.0),
    (11, 2016, 9, "appealed_detained", None),
    (9, 2016, 11, "acquitted", None),
    (9, 2016, 11, "general_offence", None),
    (12, 2016, 12, "probation_refused", 18.0),
]


@pytest.fixture
def records() -> pd.DataFrame:
    rows = []
    for agent, year, month, event, value in EVENTS:
        form, age_group, sex = ATTRS[agent]
        rows.append({"agent_id": agent, "month": year * 12 + month - 1, "event": event,
                     "form": form, "age_group": age_group, "sex": sex,
                     "value": np.nan if value is None else value})
    return make_records(rows)


YEARS = range(2014, 2018)

EXPECTED = {  # year -> metric -> value (hand-counted from EVENTS)
    2014: {"appealed": 0, "signalled": 0, "traced": 1, "summoned": 0, "technical_dismissals": 0,
           "policy_dismissals": 0, "convicted": 0, "acquitted": 0, "prison": 0, "probation": 0,
           "probation_refused": 0,
           "prison_months": math.nan, "technical_dismissal_share": math.nan,
           "before_judge_share": 0.0},
    2015: {"appealed": 0, "signalled": 3, "traced": 2, "summoned": 2, "technical_dismissals": 1,
           "policy_dismissals": 0, "convicted": 2, "acquitted": 0, "prison": 2, "probation": 1,
           "probation_refused": 0,
           "prison_months": 15.0, "technical_dismissal_share": 1 / 4,
           "before_judge_share": 1.0},
    2016: {"appealed": 1, "signalled": 1, "traced": 2, "summoned": 1, "technical_dismissals": 0,
           "policy_dismissals": 1, "convicted": 1, "acquitted": 1, "prison": 1, "probation": 0,
           "probation_refused": 1,
           "prison_months": 30.0, "technical_dismissal_share": 0.0,
           "before_judge_share": 0.5},
    2017: {"appealed": 0, "signalled": 0, "traced": 0, "summoned": 0, "technical_dismissals": 0,
           "policy_dismissals": 0, "convicted": 0, "acquitted": 0, "prison": 0, "probation": 0,
           "probation_refused": 0,
           "prison_months": math.nan, "technical_dismissal_share": math.nan,
           "before_judge_share": math.nan},
}


def test_with_year(records):
    out = flows.with_year(records)
    assert out["year"].iloc[0] == 2014
    assert (out["year"] == out["month"] // 12).all()
    assert "year" not in records  # the input is not modified


def test_event_counts(records):
    counts = flows.event_counts(records, YEARS)
    assert list(counts.index) == list(YEARS)
    assert counts.loc[2015, "signalled"] == 3
    assert counts.loc[2015, "prison"] == 2
    assert counts.loc[2016, "general_offence"] == 1
    assert counts.loc[2014, "traced"] == 1
    assert (counts.loc[2017] == 0).all()
    assert counts.to_numpy().sum() == len(records)


def test_annual_metrics(records):
    metrics = flows.annual_metrics(records, YEARS)
    assert list(metrics.columns) == list(flows.METRICS)
    assert list(metrics.index) == list(YEARS)
    expected = pd.DataFrame(EXPECTED).T.loc[list(YEARS), list(flows.METRICS)].astype(float)
    pd.testing.assert_frame_equal(metrics, expected, check_names=False, check_index_type=False)


def test_annual_metrics_outside_the_records(records):
    metrics = flows.annual_metrics(records, range(2030, 2032))
    assert (metrics[list(flows.COUNT_METRICS)] == 0).all().all()
    assert metrics[["prison_months", "technical_dismissal_share"]].isna().all().all()


def test_window_metrics_over_the_covered_years(records):
    w = flows.window_metrics(records, (2015, 2016))
    assert set(w) == set(flows.METRICS)
    assert w["signalled"] == pytest.approx(2.0)  # (3 + 1) / 2
    assert w["traced"] == pytest.approx(2.0)
    assert w["summoned"] == pytest.approx(1.5)
    assert w["technical_dismissals"] == pytest.approx(0.5)
    assert w["policy_dismissals"] == pytest.approx(0.5)
    assert w["convicted"] == pytest.approx(1.5)
    assert w["acquitted"] == pytest.approx(0.5)
    assert w["prison"] == pytest.approx(1.5)
    assert w["probation"] == pytest.approx(0.5)
    # pooled over sentences (10, 20, 30), not the mean of the yearly means (22.5)
    assert w["prison_months"] == pytest.approx(20.0)
    # pooled: 1 technical dismissal of 6 OM decisions (4 in 2015, 2 in 2016)
    assert w["technical_dismissal_share"] == pytest.approx(1 / 6)
    assert w["before_judge_share"] == pytest.approx(1.5 / 2.0)


def test_window_metrics_default_window_is_2015_2019(records):
    assert flows.WINDOW == (2015, 2019)
    w = flows.window_metrics(records)
    assert w["signalled"] == pytest.approx(4 / 5)
    assert w["prison_months"] == pytest.approx(20.0)
    assert w["technical_dismissal_share"] == pytest.approx(1 / 6)


def test_window_metrics_without_cases(records):
    w = flows.window_metrics(records, (2020, 2021))
    assert w["signalled"] == 0
    assert math.isnan(w["prison_months"])
    assert math.isnan(w["technical_dismissal_share"])
    assert math.isnan(w["before_judge_share"])


def test_mix_shares(records):
    s = flows.mix_shares(records, (2015, 2016))
    assert list(s) == list(flows.SHARES)
    # registrations at the OM in 2015-2016: agents 1, 2 (traced), 4 (registered_other),
    # 8, 9 (traced); agent 6's 2014 registration is outside the window
    assert s["form_domestic_sexual"] == pytest.approx(2 / 5)
    assert s["form_cross_border_sexual"] == pytest.approx(1 / 5)
    assert s["form_labour"] == pytest.approx(1 / 5)
    assert s["form_criminal"] == pytest.approx(1 / 5)
    assert s["form_other"] == 0.0
    assert s["under23_domestic_sexual"] == pytest.approx(1 / 2)
    assert s["under23_criminal"] == pytest.approx(1.0)
    assert s["female"] == pytest.approx(2 / 5)


def test_mix_shares_without_registrations(records):
    s = flows.mix_shares(records, (2030, 2031))
    assert all(math.isnan(v) for v in s.values())


def test_flow_table(records):
    table = flows.flow_table(records, range(2015, 2017))
    assert list(table.columns) == ["year", "event", "form", "age_group", "count"]
    assert table["count"].sum() == len(records) - 1  # the 2014 record is outside

    def cell(year, event, form, age_group):
        sel = table[(table["year"] == year) & (table["event"] == event)
                    & (table["form"] == form) & (table["age_group"] == age_group)]
        return int(sel["count"].sum())

    assert cell(2015, "signalled", "domestic_sexual", "23plus") == 2  # agents 1 and 3
    assert cell(2015, "signalled", "domestic_sexual", "under23") == 1  # agent 2
    assert cell(2015, "prison", "labour", "under23") == 1
    assert cell(2016, "traced", "criminal", "under23") == 1
    assert cell(2016, "signalled", "domestic_sexual", "23plus") == 0
    assert (table["count"] > 0).all()  # only observed combinations are listed

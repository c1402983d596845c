"""Recidivism and harm proxies: hand-built record tables and one model run."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from chainsim.analysis.occupancy import months_in_stages
from chainsim.analysis.recidivism import (
    AGE_BANDS,
    ALL_KINDS,
    BY,
    COHORT_STRATA,
    KINDS,
    PROXIES,
    REGISTRATION_EXTENSION_MONTHS,
    SECONDARY_KINDS,
    SECONDARY_PROXIES,
    SPELL_STARTS,
    TRUE_EVENTS,
    YEARS,
    active_months_after_first_release,
    active_offender_months,
    cohort_counts,
    cohort_prevalence,
    cohort_table,
    parse_proxy,
    recidivism_by,
    recidivism_prevalence,
    recidivism_table,
    survival_curve,
    victim_months,
)
from chainsim.chain.spec import AGE_GROUPS, FORMS, SEXES, STAGE_NAMES, Event, Stage
from chainsim.engines.records import RecordArrays, RecordLog

ROOT = Path(__file__).resolve().parents[2]

# ------------------------------------------------------------------ building records


def build(histories: dict[int, list[tuple]], forms: dict[int, str] | None = None,
          young: tuple[int, ...] = (), births: dict[int, int] | None = None) -> pd.DataFrame:
    """Records as the engine makes them, from ``{agent: [(month, event, to_stage | None), ...]}``.

    A ``None`` stage is a point event. Rows are ordered by month across agents (stable,
    so each agent's own order is kept), as the engine logs them. The ``probation``
    flag follows supervision starts and ends. ``age`` is 30 throughout, or the age
    reached in the event's calendar year for an agent with a birth year in ``births``.
    """
    rows = []
    for agent, steps in histories.items():
        assert [s[0] for s in steps] == sorted(s[0] for s in steps), agent
        stage, supervised = Stage.NONE, False
        for month, event, to in steps:
            new = stage if to is None else Stage[to.upper()]
            ev = Event[event.upper()]
            if ev in (Event.PROBATION_END, Event.REOFFENDED, Event.DESISTED):
                supervised = False
            rows.append((month, agent, stage, new, ev, supervised))
            supervised = supervised or ev is Event.PROBATION_START
            stage = new
    rows.sort(key=lambda r: r[0])
    log = RecordLog()
    for month, agent, frm, to, event, supervised in rows:
        form = (forms or {}).get(agent, "domestic_sexual")
        group = "under23" if agent in young else "23plus"
        age = month // 12 - births[agent] if agent in (births or {}) else 30
        log.append(agent, month, int(frm), int(to), int(event), FORMS.index(form), age,
                   AGE_GROUPS.index(group), SEXES.index("male"), 0, supervised)
    return log.to_frame()


def sanction(m: int, custodial: bool = True, probation: bool = False) -> list[tuple]:
    """A first pass through the chain ending in release (or a non-custodial sanction) in ``m``."""
    steps = [(m - 40, "inflow", "active"), (m - 38, "signalled", "signalled"),
             (m - 37, "investigation_started", "investigation"), (m - 34, "traced", "prosecution")]
    if custodial:
        steps += [(m - 32, "summoned_detained", "pretrial_detention"),
                  (m - 24, "convicted", "sentencing"), (m - 24, "prison", "prison"),
                  (m, "released", "free")]
    else:
        steps += [(m - 32, "summoned", "trial"), (m, "convicted", "sentencing"),
                  (m, "non_custodial", "free")]
    if probation:
        steps.append((m, "probation_start", "probation"))
    return steps


def new_case(reoffend: int, registered: int, outcome: str | None = None,
             decided: int | None = None, via: str = "traced") -> list[tuple]:
    """Back into trafficking, registered at the OM again, and the case's outcome (if any)."""
    steps = [(reoffend, "reoffended", "active")]
    if via == "traced":
        steps += [(registered - 3, "signalled", "signalled"),
                  (registered - 2, "investigation_started", "investigation"),
                  (registered, "traced", "prosecution")]
    else:
        steps += [(registered - 2, "inspected", "inspection"),
                  (registered, "registered_other", "prosecution")]
    if outcome in ("technical_dismissal", "policy_dismissal", "other_disposal"):
        steps.append((decided, outcome, "free"))
    elif outcome == "summoned":  # summoned, judgment still pending
        steps.append((registered + 2, "summoned", "trial"))
    elif outcome == "acquitted":
        steps += [(registered + 2, "summoned", "trial"), (decided, "acquitted", "free")]
    elif outcome == "convicted":
        steps += [(registered + 2, "summoned", "trial"), (decided, "convicted", "sentencing"),
                  (decided, "prison", "prison")]
    return steps


def general(m: int, registered: bool = True) -> list[tuple]:
    """Another offence in month ``m`` (a point event), registered as a case or not."""
    return [(m, "general_offence", None)] + ([(m, "general_case", None)] if registered else [])


COHORT = (1000, 1011)
HORIZON = 1200

# index month, then what happens after; comments: observed general / specific / true within 2y
COHORT_HISTORIES = {
    1: sanction(1000, probation=True) + general(1005),                         # Y N Y
    2: sanction(1002) + new_case(1010, 1015, "technical_dismissal", 1018),     # N N Y
    3: sanction(1003, custodial=False, probation=True)
    + new_case(1006, 1012, "acquitted", 1020, via="other"),                     # N N Y
    4: sanction(1004) + new_case(1006, 1010, "convicted", 1020),               # Y Y Y
    5: sanction(1005) + new_case(1007, 1020, "policy_dismissal", 1022),        # Y Y Y
    6: [*sanction(1006), (1010, "desisted", "desisted")],                       # N N N
    7: sanction(1007) + general(1040),                                          # N N N (5y: Y N Y)
    8: sanction(1008) + new_case(1009, 1025, "summoned"),                       # Y Y Y (pending)
    9: sanction(1001) + new_case(1003, 1020, "technical_dismissal", 1210),     # Y Y Y (pending)
    10: sanction(1009) + general(1009),                                         # N N N (same month)
}
COHORT_FORMS = {1: "domestic_sexual", 2: "domestic_sexual", 3: "labour", 4: "labour",
                5: "criminal", 6: "criminal", 7: "other", 8: "other", 9: "domestic_sexual",
                10: "labour"}
COHORT_YOUNG = (1, 2, 3)


@pytest.fixture(scope="module")
def cohort():
    return build(COHORT_HISTORIES, COHORT_FORMS, COHORT_YOUNG)


# ------------------------------------------------------------------ prevalence


@pytest.mark.parametrize(("kind", "years", "expected"), [
    ("observed_general", 2, 5 / 10),
    ("observed_specific", 2, 4 / 10),
    ("true", 2, 7 / 10),
    ("observed_general", 5, 6 / 10),
    ("observed_specific", 5, 4 / 10),
    ("true", 5, 8 / 10),
    ("observed_general", 7, 6 / 10),
    ("true", 7, 8 / 10),
])
def test_prevalence_by_kind(cohort, kind, years, expected):
    got = recidivism_prevalence(cohort, years, kind, *COHORT, HORIZON)
    assert got == pytest.approx(expected)
    # every case of this cohort is registered within its window: registration-dated alike
    if kind != "true":
        registered = kind.replace("observed", "registered")
        assert recidivism_prevalence(cohort, years, registered, *COHORT, HORIZON) == \
            pytest.approx(expected)


def test_dismissed_and_acquitted_cases_do_not_count_but_other_outcomes_do():
    # one agent per outcome of the new trafficking case, all within two years
    outcomes = ["technical_dismissal", "acquitted", "policy_dismissal", "other_disposal",
                "convicted", "summoned", None]
    hist = {i + 1: sanction(1000) + new_case(1003, 1010, o, 1014)
            for i, o in enumerate(outcomes)}
    records = build(hist)
    for kind in ("observed_specific", "observed_general", *SECONDARY_KINDS):
        hits = [recidivism_prevalence(build({1: h}), 2, kind, *COHORT, HORIZON)
                for h in hist.values()]
        assert hits == [0, 0, 1, 1, 1, 1, 1]
        assert recidivism_prevalence(records, 2, kind, *COHORT, HORIZON) == pytest.approx(5 / 7)
    assert recidivism_prevalence(records, 2, "true", *COHORT, HORIZON) == 1.0


def test_an_outcome_after_the_horizon_leaves_the_case_pending(cohort):
    # agent 9's case is dismissed in month 1210: pending at 1200, excluded at 1210
    assert recidivism_prevalence(cohort, 2, "observed_specific", *COHORT, 1209) == \
        pytest.approx(4 / 10)
    assert recidivism_prevalence(cohort, 2, "observed_specific", *COHORT, 1210) == \
        pytest.approx(3 / 10)
    assert recidivism_prevalence(cohort, 2, "observed_general", *COHORT, 1210) == \
        pytest.approx(4 / 10)


def test_only_index_events_with_full_follow_up_are_in_the_denominator(cohort):
    # horizon 1030: two years of follow-up only for index months up to 1006
    # (agents 1, 9, 2, 3, 4, 5, 6); agent 9's case is still pending in 1030
    for kind, hits in (("observed_general", 4), ("observed_specific", 3), ("true", 6)):
        assert recidivism_prevalence(cohort, 2, kind, *COHORT, 1030, extension_months=0) == \
            pytest.approx(hits / 7)
        # with the extension the same index months need twelve more months of data
        assert math.isnan(recidivism_prevalence(cohort, 2, kind, *COHORT, 1030))
        assert recidivism_prevalence(cohort, 2, kind, *COHORT, 1042) == \
            pytest.approx(hits / 7)
    for kind, hits in (("registered_general", 4), ("registered_specific", 3)):
        assert recidivism_prevalence(cohort, 2, kind, *COHORT, 1030) == pytest.approx(hits / 7)
    assert math.isnan(recidivism_prevalence(cohort, 5, "true", *COHORT, 1030))
    table = recidivism_table(cohort, *COHORT, 1030, extension_months=0)
    assert table["true_2y"] == pytest.approx(6 / 7)
    assert all(math.isnan(table[f"{k}_{y}y"]) for k in ALL_KINDS for y in (5, 7))


def test_events_in_the_index_month_do_not_count(cohort):
    assert recidivism_prevalence(cohort, 2, "true", 1009, 1009, HORIZON) == 0.0


def test_first_index_event_in_the_cohort_per_agent():
    hist = {1: sanction(990) + general(995)          # an index before the cohort, an offence
            + [(996, "reoffended", "active"), (997, "signalled", "signalled"),
               (998, "investigation_started", "investigation"), (1000, "traced", "prosecution"),
               (1001, "summoned", "trial"), (1002, "convicted", "sentencing"),
               (1002, "non_custodial", "free"),      # the first index in the cohort
               (1010, "reoffended", "active"), (1027, "signalled", "signalled"),
               (1028, "investigation_started", "investigation"),
               (1030, "traced", "prosecution"),      # 28 months after the index
               (1031, "summoned", "trial"), (1032, "convicted", "sentencing"),
               (1032, "non_custodial", "free")]      # a second index in the cohort
            + general(1040)}                         # 8 months after the second index
    records = build(hist)
    # registered 28 months after the index: not within two years by registration ...
    assert recidivism_prevalence(records, 2, "registered_general", 1000, 1040, HORIZON) == 0.0
    assert recidivism_prevalence(records, 3, "registered_general", 1000, 1040, HORIZON) == 1.0
    # ... but offended 8 months after it (reoffended in 1010), registered by 1002 + 24 + 12
    assert recidivism_prevalence(records, 2, "observed_general", 1000, 1040, HORIZON) == 1.0
    assert recidivism_prevalence(records, 2, "observed_general", 1000, 1040, HORIZON,
                                 extension_months=3) == 0.0
    assert recidivism_prevalence(records, 2, "true", 1000, 1040, HORIZON) == 1.0  # reoffended
    # from the second index (the first one in a later cohort) the offence in 1040 counts
    assert recidivism_prevalence(records, 2, "observed_general", 1003, 1040, HORIZON) == 1.0
    assert recidivism_prevalence(records, 2, "registered_general", 1003, 1040, HORIZON) == 1.0
    km = survival_curve(records, "registered_general", 1000, 1040, HORIZON)
    assert km["at_risk"][0] == 1
    assert km["events"].tolist().index(1) == 28
    # offence-dated: the offence month (8), unless registered more than the extension
    # after it (20 months here): then the first window whose cut-off it makes, 28 - 12
    km = survival_curve(records, "observed_general", 1000, 1040, HORIZON)
    assert km["events"].tolist().index(1) == 16
    km = survival_curve(records, "observed_general", 1000, 1040, HORIZON, extension_months=24)
    assert km["events"].tolist().index(1) == 8


def test_no_index_events_gives_nan():
    records = build({1: [(1000, "inflow", "active")]})
    assert math.isnan(recidivism_prevalence(records, 2, "true", *COHORT, HORIZON))
    assert all(math.isnan(v) for v in recidivism_table(records, *COHORT, HORIZON).values())
    by = recidivism_prevalence(records, 2, "true", *COHORT, HORIZON, by="form")
    assert set(by) == set(FORMS) and all(math.isnan(v) for v in by.values())


def test_the_primary_proxies_keep_their_names():
    # reports, the dashboard and JSON consumers read these nine keys
    assert KINDS == ("observed_general", "observed_specific", "true")
    assert PROXIES == tuple(f"{k}_{y}y" for k in KINDS for y in (2, 5, 7))
    assert SECONDARY_PROXIES == tuple(f"registered_{k}_{y}y" for k in ("general", "specific")
                                      for y in (2, 5, 7))


def test_table_keys_and_values(cohort):
    table = recidivism_table(cohort, *COHORT, HORIZON)
    assert tuple(table) == (*PROXIES, *SECONDARY_PROXIES)
    expected = {"observed_general": (5, 6, 6), "observed_specific": (4, 4, 4),
                "true": (7, 8, 8), "registered_general": (5, 6, 6),
                "registered_specific": (4, 4, 4)}
    for kind, hits in expected.items():
        for y, h in zip(YEARS, hits, strict=True):
            assert table[f"{kind}_{y}y"] == pytest.approx(h / 10)


def test_prevalence_by_form(cohort):
    by = recidivism_prevalence(cohort, 2, "observed_general", *COHORT, HORIZON, by="form")
    assert list(by) == list(FORMS)
    assert by["domestic_sexual"] == pytest.approx(2 / 3)
    assert math.isnan(by["cross_border_sexual"])
    assert by["labour"] == pytest.approx(1 / 3)
    assert by["criminal"] == pytest.approx(1 / 2)
    assert by["other"] == pytest.approx(1 / 2)
    true = recidivism_by(cohort, "form", *COHORT, HORIZON)
    assert [true[f]["true_2y"] for f in ("domestic_sexual", "labour", "criminal", "other")] == \
        pytest.approx([1, 2 / 3, 1 / 2, 1 / 2])
    assert set(true["labour"]) == {*PROXIES, *SECONDARY_PROXIES}


def test_prevalence_by_age_group(cohort):
    by = recidivism_prevalence(cohort, 2, "observed_general", *COHORT, HORIZON, by="age_group")
    assert by == pytest.approx({"under23": 1 / 3, "23plus": 4 / 7})


def test_prevalence_by_probation_at_the_index(cohort):
    # supervised from the index: agents 1 (released) and 3 (non-custodial)
    og = recidivism_prevalence(cohort, 2, "observed_general", *COHORT, HORIZON, by="probation")
    assert og == pytest.approx({False: 4 / 8, True: 1 / 2})
    table = recidivism_by(cohort, "probation", *COHORT, HORIZON)
    assert table[True]["true_2y"] == 1.0
    assert table[True]["observed_specific_2y"] == 0.0
    assert table[False]["observed_specific_2y"] == pytest.approx(4 / 8)
    assert table[False]["true_2y"] == pytest.approx(5 / 8)


def test_bad_arguments(cohort):
    with pytest.raises(ValueError, match="kind"):
        recidivism_prevalence(cohort, 2, "registered", *COHORT, HORIZON)
    with pytest.raises(ValueError, match="by"):
        recidivism_prevalence(cohort, 2, "true", *COHORT, HORIZON, by="sex")


# ------------------------------------------------------------------ offence dates (WODC)


def test_a_new_case_counts_by_its_offence_date_if_registered_by_the_cut_off():
    # index 1000; two-year window: offences in 1001..1024, registered by 1024 + 12 = 1036
    hist = {
        1: sanction(1000) + new_case(1020, 1030, "convicted", 1034),  # in
        2: sanction(1000) + new_case(1020, 1036, "summoned"),         # in: at the cut-off
        3: sanction(1000) + new_case(1020, 1037, "summoned"),         # out: a month late
        4: sanction(1000) + new_case(1025, 1028, "convicted", 1030),  # out: offence after
        5: sanction(1000) + new_case(1024, 1027, "convicted", 1030),  # in: the last month
        # registered after the index, offended before it (no new spell): out
        6: [*sanction(1000), (1005, "signalled", "signalled"),
            (1006, "investigation_started", "investigation"), (1010, "traced", "prosecution"),
            (1012, "summoned", "trial")],
    }
    records = RecordArrays.of(build(hist))
    each = {a: recidivism_prevalence(build({a: h}), 2, "observed_specific", *COHORT, HORIZON)
            for a, h in hist.items()}
    assert each == {1: 1, 2: 1, 3: 0, 4: 0, 5: 1, 6: 0}
    assert recidivism_prevalence(records, 2, "observed_specific", *COHORT, HORIZON) == \
        pytest.approx(3 / 6)
    # registration-dated: only agent 6's registration falls in the window
    each = {a: recidivism_prevalence(build({a: h}), 2, "registered_specific", *COHORT, HORIZON)
            for a, h in hist.items()}
    assert each == {1: 0, 2: 0, 3: 0, 4: 0, 5: 0, 6: 1}
    # a shorter extension drops agent 2, a longer one takes agent 3 in (the memo is per
    # extension: the same record arrays throughout)
    assert recidivism_prevalence(records, 2, "observed_specific", *COHORT, HORIZON,
                                 extension_months=6) == pytest.approx(2 / 6)
    assert recidivism_prevalence(records, 2, "observed_specific", *COHORT, HORIZON,
                                 extension_months=13) == pytest.approx(4 / 6)
    assert recidivism_prevalence(records, 2, "observed_specific", *COHORT, HORIZON) == \
        pytest.approx(3 / 6)
    # the offence-dated times: the offence month, or registration - extension if later
    table = cohort_table(records, *COHORT, HORIZON)
    assert table["time_observed_specific"].tolist()[:5] == [20, 24, 25, 25, 24]
    assert math.isnan(table["time_observed_specific"].iloc[5])
    assert table["time_registered_specific"].tolist() == [30, 36, 37, 28, 27, 10]
    np.testing.assert_array_equal(table["time_true"], [20, 20, 20, 25, 24, np.nan])


def test_a_dropped_signal_does_not_start_a_new_spell():
    # back into trafficking in 1020; signalled, dropped in 1026, signalled again, traced
    hist = {1: [*sanction(1000), (1020, "reoffended", "active"),
                (1022, "signalled", "signalled"), (1026, "dropped", "active"),
                (1030, "signalled", "signalled"),
                (1031, "investigation_started", "investigation"),
                (1032, "traced", "prosecution")]}
    records = build(hist)
    assert "dropped" not in SPELL_STARTS
    assert cohort_table(records, *COHORT, HORIZON)["time_observed_specific"].tolist() == [20]
    assert recidivism_prevalence(records, 2, "observed_specific", *COHORT, HORIZON) == 1.0
    assert recidivism_prevalence(records, 2, "registered_specific", *COHORT, HORIZON) == 0.0


def test_resumed_offending_after_a_dismissal_starts_a_new_spell():
    # the first new case is dismissed (not counted) in 1026; offending resumes at once
    # and the next case is registered in 1030: its offence date is 1026, not 1003
    hist = {1: sanction(1000) + new_case(1003, 1008, "technical_dismissal", 1026)
            + [(1026, "resumed", "active"), (1027, "signalled", "signalled"),
               (1028, "investigation_started", "investigation"),
               (1030, "traced", "prosecution"), (1031, "summoned", "trial")]}
    records = build(hist)
    assert "resumed" in SPELL_STARTS and "resumed" in TRUE_EVENTS
    table = cohort_table(records, *COHORT, HORIZON)
    assert table["time_observed_specific"].tolist() == [26]
    assert table["time_true"].tolist() == [3]  # the reoffending in 1003 came first
    assert recidivism_prevalence(records, 2, "observed_specific", *COHORT, HORIZON) == 0.0
    assert recidivism_prevalence(records, 3, "observed_specific", *COHORT, HORIZON) == 1.0
    assert recidivism_prevalence(records, 2, "true", *COHORT, HORIZON) == 1.0


def test_censoring_needs_the_window_and_the_extension():
    # horizon 1040: two years and twelve months of data only for index months up to 1004
    hist = {1: sanction(1000),                      # eligible, no event
            2: sanction(1004) + general(1010),      # eligible (1004 + 36 = 1040), an event
            3: sanction(1005) + general(1006),      # one month short: not in the denominator
            4: sanction(1010) + general(1015)}      # not in it either
    records = build(hist)
    table = cohort_table(records, *COHORT, 1040)
    assert cohort_counts(table, "observed_general_2y") == (1, 2)
    assert recidivism_prevalence(records, 2, "observed_general", *COHORT, 1040) == 0.5
    assert recidivism_prevalence(records, 2, "true", *COHORT, 1040) == 0.5
    # registration-dated: no extension, every index month up to 1016 is followed up
    assert cohort_counts(table, "registered_general_2y") == (3, 4)
    assert recidivism_prevalence(records, 2, "registered_general", *COHORT, 1040) == 0.75
    # without the extension the offence-dated proxies have that denominator too
    assert recidivism_prevalence(records, 2, "observed_general", *COHORT, 1040,
                                 extension_months=0) == 0.75
    assert math.isnan(recidivism_prevalence(records, 2, "observed_general", *COHORT, 1035))
    # Kaplan-Meier: everyone observed for some months (censored at 1040 - 12 - index)
    km = survival_curve(records, "observed_general", *COHORT, 1040, max_months=30)
    assert km["at_risk"].tolist()[:2] == [4, 4]
    assert [m for m, e in enumerate(km["events"]) if e] == [1, 5, 6]
    # agent 1 alone from month 7 on, observed through month 28 (1040 - 12 - 1000)
    assert km["at_risk"].tolist()[6:8] == [2, 1] and km["at_risk"].tolist()[28:30] == [1, 0]


STRATA_HISTORIES = {
    # (index sanction; age at the offence / at the index)
    1: sanction(1000) + general(1005),                                      # prison; 17 / 20
    2: sanction(1000, custodial=False),                                     # non-custodial; 30 / 33
    3: sanction(1000) + new_case(1010, 1015, "convicted", 1020),            # prison; 25 / 28
    4: sanction(1000, custodial=False) + general(1002),                     # non-custodial; 22 / 25
}
# birth years: ages in the calendar years of the offence (960: year 80) and index (year 83)
STRATA_BIRTHS = {1: 63, 2: 50, 3: 55, 4: 58}


def test_strata_sanction_and_age_at_the_index_and_at_the_offence():
    records = build(STRATA_HISTORIES, births=STRATA_BIRTHS)
    og = dict(zip(("prison", "non_custodial"), (1.0, 0.5), strict=True))
    assert recidivism_prevalence(records, 2, "observed_general", *COHORT, HORIZON,
                                 by="sanction") == og
    by_index = recidivism_prevalence(records, 2, "observed_general", *COHORT, HORIZON,
                                     by="age_at_index")
    assert list(by_index) == list(AGE_BANDS)
    assert math.isnan(by_index["under18"])
    assert [by_index[g] for g in AGE_BANDS[1:]] == [1.0, 1.0, 0.0]
    by_offence = recidivism_prevalence(records, 2, "observed_general", *COHORT, HORIZON,
                                       by="age_at_offence")
    assert by_offence == {"under18": 1.0, "18-22": 1.0, "23-29": 1.0, "30plus": 0.0}
    specific = recidivism_by(records, "sanction", *COHORT, HORIZON)
    assert specific["prison"]["observed_specific_2y"] == 0.5
    assert specific["non_custodial"]["observed_specific_2y"] == 0.0

    table = cohort_table(records, *COHORT, HORIZON)
    assert list(table["agent_id"]) == [1, 2, 3, 4]
    assert list(table["sanction"]) == ["prison", "non_custodial", "prison", "non_custodial"]
    assert list(table["age_at_index"]) == ["18-22", "30plus", "23-29", "23-29"]
    assert list(table["age_at_offence"]) == ["under18", "30plus", "23-29", "18-22"]
    both = {"sanction": "non_custodial", "age_at_offence": ["18-22", "30plus"]}
    assert cohort_counts(table, "observed_general_2y", both) == (1, 2)
    assert math.isnan(cohort_prevalence(table, "observed_general_2y",
                                        {"sanction": "prison", "age_at_index": "30plus"}))


def test_the_cohort_table_agrees_with_the_prevalences(cohort):
    table = cohort_table(cohort, *COHORT, HORIZON)
    assert list(table.columns[:2]) == ["agent_id", "index_month"]
    assert set(COHORT_STRATA) <= set(table.columns)
    assert {f"time_{k}" for k in ALL_KINDS} <= set(table.columns)
    assert table.attrs["extension_months"] == REGISTRATION_EXTENSION_MONTHS
    for kind in ALL_KINDS:
        for y in (1, 2, 5, 7):
            proxy = f"{kind}_{y}y"
            assert cohort_prevalence(table, proxy) == pytest.approx(
                recidivism_prevalence(cohort, y, kind, *COHORT, HORIZON)), proxy
    for by in BY:
        for kind in ALL_KINDS:
            shares = recidivism_prevalence(cohort, 2, kind, *COHORT, HORIZON, by=by)
            for group, share in shares.items():
                got = cohort_prevalence(table, f"{kind}_2y", {by: group})
                assert got == pytest.approx(share, nan_ok=True), (kind, by, group)


def test_the_worked_example_of_the_documentation():
    # docs/recidivism.md, section 6: released in m = 2016-03
    m = 2016 * 12 + 2
    hist = {1: [*sanction(m), (m + 12, "reoffended", "active"), (m + 14, "general_offence", None),
                (m + 22, "signalled", "signalled"), (m + 25, "dropped", "active"),
                (m + 30, "signalled", "signalled"),
                (m + 31, "investigation_started", "investigation"),
                (m + 34, "traced", "prosecution"), (m + 37, "summoned", "trial")]}
    records = build(hist)
    end = 2035 * 12 + 11
    table = cohort_table(records, m, m, end)
    assert table["time_true"].tolist() == [12]
    assert table["time_observed_specific"].tolist() == [22]
    assert table["time_observed_general"].tolist() == [22]
    assert table["time_registered_specific"].tolist() == [34]
    short = cohort_table(records, m, m, end, extension_months=6)
    assert short["time_observed_specific"].tolist() == [28]
    got = recidivism_table(records, m, m, end)
    assert got["observed_specific_2y"] == got["observed_general_2y"] == got["true_2y"] == 1
    assert got["registered_specific_2y"] == 0 and got["registered_specific_5y"] == 1
    # a technical dismissal removes it from every observed and registered proxy
    dismissed = {1: [*hist[1][:-1], (m + 37, "technical_dismissal", "free")]}
    got = recidivism_table(build(dismissed), m, m, end)
    assert all(got[f"{k}_7y"] == 0 for k in ("observed_specific", "observed_general",
                                             *SECONDARY_KINDS))
    assert got["true_2y"] == 1
    # released in 2030-01 instead: in the 2-year denominator only
    late = 2030 * 12
    moved = {1: [(month - m + late, e, to) for month, e, to in hist[1]]}
    got = recidivism_table(build(moved), late, late, end)
    assert got["observed_specific_2y"] == 1 and math.isnan(got["observed_specific_5y"])


def test_bad_cohort_filters_and_proxies(cohort):
    table = cohort_table(cohort, *COHORT, HORIZON)
    with pytest.raises(ValueError, match="filter"):
        cohort_prevalence(table, "true_2y", {"colour": "red"})
    with pytest.raises(ValueError, match="sanction groups"):
        cohort_prevalence(table, "true_2y", {"sanction": "fine"})
    for bad in ("true", "true_2", "registered_true_2y", "observed_general_0y", "x_2y"):
        with pytest.raises(ValueError, match="proxy"):
            parse_proxy(bad)
    assert parse_proxy("registered_specific_7y") == ("registered_specific", 84)
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="extension_months"):
            recidivism_prevalence(cohort, 2, "true", *COHORT, HORIZON, extension_months=bad)


# ------------------------------------------------------------------ survival


def test_kaplan_meier_with_censoring_matches_hand_computation():
    hist = {
        1: sanction(1000) + general(1002, registered=False),   # event at 2
        2: sanction(1000) + general(1002, registered=False),   # event at 2
        3: sanction(1000),                                     # censored at 10
        4: sanction(1004),                                     # censored at 6
        5: sanction(1000) + general(1008, registered=False),   # event at 8
        6: sanction(1004) + general(1007, registered=False),   # event at 3
        7: sanction(1000) + general(1015, registered=False),   # after the horizon: censored at 10
    }
    km = survival_curve(build(hist), "true", 1000, 1004, 1010, max_months=12,
                        extension_months=0)
    assert list(km.columns) == ["month", "at_risk", "events", "survival"]
    assert km["month"].tolist() == list(range(13))
    assert km["at_risk"].tolist() == [7, 7, 7, 5, 4, 4, 4, 3, 3, 2, 2, 0, 0]
    assert km["events"].tolist() == [0, 0, 2, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0]
    s2, s3, s8 = 5 / 7, 5 / 7 * 4 / 5, 5 / 7 * 4 / 5 * 2 / 3
    expected = [1, 1, s2, s3, s3, s3, s3, s3, s8, s8, s8, np.nan, np.nan]
    np.testing.assert_allclose(km["survival"], expected)
    # nobody registered a case: observed survival stays at one while anyone is at risk
    obs = survival_curve(build(hist), "observed_general", 1000, 1004, 1010, max_months=12,
                         extension_months=0)
    np.testing.assert_allclose(obs["survival"][:11], 1.0)
    # with the extension everyone is censored twelve months earlier
    late = survival_curve(build(hist), "true", 1000, 1004, 1022, max_months=12)
    np.testing.assert_array_equal(late["at_risk"], km["at_risk"])
    np.testing.assert_allclose(late["survival"], expected)


def test_kaplan_meier_without_censoring_equals_prevalence(cohort):
    for kind in ALL_KINDS:
        km = survival_curve(cohort, kind, *COHORT, HORIZON)
        assert len(km) == 85
        for y in YEARS:
            prevalence = recidivism_prevalence(cohort, y, kind, *COHORT, HORIZON)
            assert 1 - km["survival"][12 * y] == pytest.approx(prevalence)


# ------------------------------------------------------------------ harm proxies

HARM = {
    # active 100-109, signalled 110, investigated 111-114, at the OM 115, on trial at
    # liberty 116-119 (all offending), sanctioned in 120; back to active 130-139,
    # signalled 140-144, dropped: active 145-149; desists in 150
    1: [(100, "inflow", "active"), (110, "signalled", "signalled"),
        (111, "investigation_started", "investigation"), (115, "traced", "prosecution"),
        (116, "summoned", "trial"), (120, "convicted", "sentencing"),
        (120, "non_custodial", "free"), (125, "general_offence", None),
        (130, "reoffended", "active"), (140, "signalled", "signalled"),
        (145, "dropped", "active"), (150, "desisted", "desisted")],
    2: [(100, "pool", "active"), (120, "desisted", "desisted")],   # labour, active 100-119
    3: [(105, "inflow", "active")],                                # active 105 to the horizon
}


@pytest.fixture(scope="module")
def harm():
    return build(HARM, forms={2: "labour"})


def test_active_offender_months(harm):
    # offender 1: 11 undetected or queued + 9 at liberty in the chain before the sanction
    # + 20 after it
    assert active_offender_months(harm, 100, 159) == 40 + 20 + 55
    assert active_offender_months(harm, 135, 146) == 12 + 0 + 12


def test_victim_months_weights_by_form(harm):
    weights = dict.fromkeys(FORMS, 1.0) | {"domestic_sexual": 2.0, "labour": 0.5}
    assert victim_months(harm, 100, 159, weights) == pytest.approx(2 * 40 + 0.5 * 20 + 2 * 55)
    with pytest.raises(ValueError, match="labour"):
        victim_months(harm, 100, 159, {"domestic_sexual": 2.0})
    # a form without active months in the period may be left out
    assert victim_months(harm, 125, 159, {"domestic_sexual": 2.0}) == pytest.approx(2 * 55)


def test_active_months_after_first_release(harm):
    assert active_months_after_first_release(harm, 100, 159) == 20
    assert active_months_after_first_release(harm, 135, 146) == 12
    assert active_months_after_first_release(build({1: HARM[3]}), 100, 159) == 0


# ------------------------------------------------------------------ a model run


@pytest.fixture(scope="module")
def model_run():
    from chainsim.chain.config import scenario_from_dict
    from chainsim.chain.parameters import resolve
    from chainsim.engines.model import ChainModel

    short = ROOT / "tests" / "data" / "short.toml"
    if short.exists():
        doc = tomllib.loads(short.read_text(encoding="utf-8"))
    else:  # pragma: no cover - the suite ships short.toml
        doc = tomllib.loads((ROOT / "scenarios" / "baseline.toml").read_text(encoding="utf-8"))
        doc["scenario"].update(start="2012-01", end="2017-12")
    params = resolve(scenario_from_dict(doc, str(short)), str(short))
    model = ChainModel(params, 1).run()
    return model, model.records.to_frame(), params.start + params.n_months


def test_model_run_invariants(model_run):
    _, records, end = model_run
    start = int(records["month"].min())
    # a cohort with two years of follow-up and the extension for everyone (the short run
    # has no 5-year follow-up with the extension, nor a 7-year one)
    ext = REGISTRATION_EXTENSION_MONTHS
    cohort = (start, end - 24 - ext)
    table = recidivism_table(records, *cohort, end)
    assert tuple(table) == (*PROXIES, *SECONDARY_PROXIES)
    assert all(0 <= table[f"{k}_2y"] <= 1 for k in ALL_KINDS)
    assert all(math.isnan(table[f"{k}_5y"]) for k in KINDS)
    assert all(math.isnan(table[f"{k}_7y"]) for k in ALL_KINDS)
    assert table["observed_specific_2y"] <= table["observed_general_2y"] <= table["true_2y"]
    assert table["registered_specific_2y"] <= table["registered_general_2y"]
    assert table["true_2y"] > 0
    # windows of 1, 2 and 3 years over one cohort (same denominator): non-decreasing
    three = (start, end - 36 - ext)
    for kind in ALL_KINDS:
        shares = [recidivism_prevalence(records, y, kind, *three, end) for y in (1, 2, 3)]
        assert all(0 <= v <= 1 for v in shares)
        assert shares == sorted(shares)

    for by in BY:
        groups = recidivism_by(records, by, *cohort, end)
        for values in groups.values():
            assert all(math.isnan(v) or 0 <= v <= 1 for v in values.values())
            if not math.isnan(values["true_2y"]):
                assert values["observed_specific_2y"] <= values["observed_general_2y"] \
                    <= values["true_2y"]

    for kind in ALL_KINDS:
        km = survival_curve(records, kind, *cohort, end)
        s = km["survival"].dropna().to_numpy()
        assert s[0] == 1.0 and ((0 <= s) & (s <= 1)).all()
        assert (np.diff(s) <= 1e-12).all()
        assert (np.diff(km["at_risk"]) <= 0).all()
        # no censoring within two years for this cohort: KM equals the prevalence
        assert 1 - km["survival"][24] == pytest.approx(table[f"{kind}_2y"])

    # the cohort table gives the same prevalences, overall and by stratum
    ct = cohort_table(records, *cohort, end)
    assert len(ct) > 0
    for proxy in ("observed_general_2y", "observed_specific_2y", "true_2y",
                  "registered_general_2y"):
        assert cohort_prevalence(ct, proxy) == pytest.approx(table[proxy])
        for by in BY:
            shares = recidivism_prevalence(records, 2, proxy[:-3], *cohort, end, by=by)
            for group, share in shares.items():
                got = cohort_prevalence(ct, proxy, {by: group})
                assert got == pytest.approx(share, nan_ok=True), (proxy, by, group)


def test_model_run_occupancy_matches_stage_counts(model_run):
    model, records, end = model_run
    assert months_in_stages(records, "prison", end, end) == model.stage_counts[Stage.PRISON]
    for stage in Stage:
        if stage is not Stage.NONE:
            assert months_in_stages(records, stage.name.lower(), end, end) == \
                model.stage_counts[stage], stage
    assert months_in_stages(records, list(STAGE_NAMES), end, end) == model.stage_counts.sum()


def test_model_run_harm_proxies(model_run):
    _, records, end = model_run
    start = int(records["month"].min())
    active = active_offender_months(records, start, end)
    assert active > 0
    assert 0 < active_months_after_first_release(records, start, end) < active
    assert victim_months(records, start, end, dict.fromkeys(FORMS, 1.0)) == pytest.approx(active)
    assert victim_months(records, start, end, dict.fromkeys(FORMS, 2.0)) == \
        pytest.approx(2 * active)


def test_custody_is_not_offending():
    # pre-trial detention from the arrest is custody: no offending months; at liberty
    # during the OM's decision, it is
    detained = build({1: [(100, "inflow", "active"), (110, "signalled", "signalled"),
                          (111, "investigation_started", "investigation"),
                          (115, "traced", "prosecution_detained"),
                          (118, "technical_dismissal", "free")]})
    free = build({1: [(100, "inflow", "active"), (110, "signalled", "signalled"),
                      (111, "investigation_started", "investigation"),
                      (115, "traced", "prosecution"), (118, "technical_dismissal", "free")]})
    assert active_offender_months(detained, 100, 130) == 15  # 100-114
    assert active_offender_months(free, 100, 130) == 18  # 100-117


def test_an_exposing_arrest_counts_as_a_new_case_and_as_new_offending():
    # released at m; back into trafficking at m + 6; an arrest for another offence exposes
    # it at m + 9 (recorded as 'exposed', no separate general_case row): a registered new
    # case of another kind within 2 years (observed general), and true reoffending
    m = 2016 * 12
    hist = {1: [(m - 30, "inflow", "active"), (m - 20, "signalled", "signalled"),
                (m - 19, "investigation_started", "investigation"),
                (m - 14, "traced", "prosecution"), (m - 12, "summoned", "trial"),
                (m - 2, "convicted", "sentencing"), (m - 2, "prison", "prison"),
                (m, "released", "free"), (m + 30, "desisted", "desisted")]}
    end = 2035 * 12 + 11
    got = recidivism_table(build(hist), m, m, end)
    assert got["observed_general_2y"] == 0 and got["true_2y"] == 0
    exposed = {1: [*hist[1][:-1], (m + 6, "reoffended", "active"),
                   (m + 9, "exposed", "signalled")]}
    got = recidivism_table(build(exposed), m, m, end)
    assert got["observed_general_2y"] == 1 and got["true_2y"] == 1
    assert got["observed_specific_2y"] == 0  # the trafficking itself is not registered yet
    assert cohort_table(build(exposed), m, m, end)["time_observed_general"].tolist() == [9]

"""Spells and occupancy from hand-built record tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from chainsim.analysis.occupancy import (
    SPELL_COLUMNS,
    mean_occupancy,
    months_in_stages,
    stage_spells,
)
from chainsim.chain.spec import AGE_GROUPS, FORMS, SEXES, STAGE_NAMES, Event, Stage
from chainsim.engines.records import RecordLog


def build(histories: dict[int, list[tuple]], forms: dict[int, str] | None = None) -> pd.DataFrame:
    """Records as the engine makes them, from ``{agent: [(month, event, to_stage | None), ...]}``.

    A ``None`` stage is a point event (from- and to-stage equal). Rows are ordered by
    month across agents (stable, so each agent's own order is kept), as the engine logs them.
    """
    rows = []
    for agent, steps in histories.items():
        stage = Stage.NONE
        assert [s[0] for s in steps] == sorted(s[0] for s in steps)
        for month, event, to in steps:
            new = stage if to is None else Stage[to.upper()]
            rows.append((month, agent, stage, new, Event[event.upper()]))
            stage = new
    rows.sort(key=lambda r: r[0])
    log = RecordLog()
    for month, agent, frm, to, event in rows:
        form = (forms or {}).get(agent, "domestic_sexual")
        log.append(agent, month, int(frm), int(to), int(event), FORMS.index(form), 30,
                   AGE_GROUPS.index("23plus"), SEXES.index("male"), 0, False)
    return log.to_frame()


END = 170

HISTORIES = {
    1: [(100, "inflow", "active"), (110, "signalled", "signalled"),
        (112, "investigation_started", "investigation"), (118, "traced", "prosecution"),
        (120, "summoned", "trial"), (125, "convicted", "sentencing"), (125, "prison", "prison"),
        (140, "released", "free"), (140, "probation_start", "probation"),
        (150, "general_offence", None), (164, "probation_end", "free")],
    2: [(95, "pool", "active"), (130, "desisted", "desisted")],
    3: [(160, "inflow", "active"), (175, "signalled", "signalled")],  # after the horizon
}


@pytest.fixture
def records():
    return build(HISTORIES, forms={2: "labour"})


def test_spells_follow_transitions_with_zero_length_stays_and_censoring(records):
    spells = stage_spells(records, END)
    assert tuple(spells.columns) == SPELL_COLUMNS
    got = [(a, str(s), b, e) for a, s, b, e in
           spells[["agent_id", "stage", "start", "end"]].itertuples(index=False)]
    assert got == [
        (1, "active", 100, 110), (1, "signalled", 110, 112), (1, "investigation", 112, 118),
        (1, "prosecution", 118, 120), (1, "trial", 120, 125), (1, "sentencing", 125, 125),
        (1, "prison", 125, 140), (1, "free", 140, 140), (1, "probation", 140, 164),
        (1, "free", 164, END + 1),
        (2, "active", 95, 130), (2, "desisted", 130, END + 1),
        (3, "active", 160, END + 1),  # the signal in month 175 lies beyond the horizon
    ]
    assert list(spells["stage"].cat.categories) == list(STAGE_NAMES)
    assert spells.loc[spells["agent_id"] == 2, "form"].astype(str).unique().tolist() == ["labour"]
    assert (spells["start"] <= spells["end"]).all()


def test_point_events_do_not_split_spells(records):
    spells = stage_spells(records, END)
    probation = spells[spells["stage"] == "probation"]
    assert len(probation) == 1  # the general offence in month 150 is a point event


def test_spells_with_a_later_horizon_see_the_later_transition(records):
    spells = stage_spells(records, 180)
    a3 = spells[spells["agent_id"] == 3]
    assert a3[["start", "end"]].to_numpy().tolist() == [[160, 175], [175, 181]]


def test_months_in_stages_clips_spells_to_the_period(records):
    # active 105..120: agent 1 [105, 110) = 5, agent 2 [105, 121) = 16
    assert months_in_stages(records, "active", 105, 120) == 21
    assert months_in_stages(records, ["active", "signalled"], 105, 120) == 23
    assert months_in_stages(records, ("prison",), 130, 150) == 10
    assert months_in_stages(records, "prison", 100, 126) == 2  # months 125 and 126
    assert months_in_stages(records, "prison", 140, 150) == 0  # released in month 140
    assert months_in_stages(records, "prison", 139, 139) == 1


def test_zero_length_stays_count_no_months(records):
    assert months_in_stages(records, "sentencing", 0, 300) == 0
    assert months_in_stages(records, "free", 140, 163) == 0


def test_censored_spells_run_through_the_horizon(records):
    # desisted from 130 through 170 (41 months), agent 3 active 160..170 (11)
    assert months_in_stages(records, "desisted", 0, END) == 41
    assert months_in_stages(records, "active", 160, END) == 11
    # the end-of-month stock in the last month
    assert [months_in_stages(records, s, END, END) for s in ("free", "desisted", "active")] \
        == [1, 1, 1]
    assert months_in_stages(records, list(STAGE_NAMES), END, END) == 3


def test_mean_occupancy(records):
    assert mean_occupancy(records, "prison", 125, 144) == pytest.approx(15 / 20)
    assert mean_occupancy(records, "active", 105, 120) == pytest.approx(21 / 16)
    assert np.isnan(mean_occupancy(records, "prison", 150, 149))


def test_unknown_stage_is_an_error(records):
    with pytest.raises(ValueError, match="unknown stage"):
        months_in_stages(records, "jail", 100, 120)


def test_empty_records():
    empty = RecordLog().to_frame()
    assert stage_spells(empty, END).empty
    assert months_in_stages(empty, "prison", 100, 120) == 0

"""The flat event record."""

from __future__ import annotations

import numpy as np

from chainsim.chain.spec import Event, Stage
from chainsim.engines.records import COLUMNS, RecordLog


def test_record_log_to_frame():
    log = RecordLog()
    assert len(log) == 0
    log.append(7, 2015 * 12, int(Stage.SENTENCING), int(Stage.PRISON), int(Event.PRISON),
               2, 31, 1, 1, 3, False, 18.0)
    log.append(7, 2015 * 12 + 1, int(Stage.PRISON), int(Stage.PRISON),
               int(Event.GENERAL_OFFENCE), 2, 31, 1, 1, 3, True)
    assert len(log) == 2
    df = log.to_frame()
    assert tuple(df.columns) == COLUMNS
    row = df.iloc[0]
    assert row["agent_id"] == 7
    assert row["from_stage"] == "sentencing" and row["to_stage"] == "prison"
    assert row["event"] == "prison"
    assert row["form"] == "labour"
    assert row["age_group"] == "23plus" and row["sex"] == "female"
    assert row["priors"] == 3 and not row["probation"] and row["value"] == 18.0
    assert np.isnan(df["value"].iloc[1]) and df["probation"].iloc[1]
    for col in ("from_stage", "to_stage", "event", "form", "age_group", "sex"):
        assert df[col].dtype == "category"
    assert df["agent_id"].dtype == np.int64

"""The flat event record: one row per stage transition or point event.

Every analysis reads this one table (design.md §8). Engines append rows through
:class:`RecordLog`; :meth:`RecordLog.to_frame` gives a pandas DataFrame with
categorical stage and event names.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from chainsim.spec import AGE_GROUPS, EVENT_NAMES, FORMS, SEXES, STAGE_NAMES

COLUMNS: tuple[str, ...] = (
    "agent_id",
    "month",
    "from_stage",
    "to_stage",
    "event",
    "form",
    "age",
    "age_group",
    "sex",
    "priors",
    "probation",
    "value",
)
"""Record columns.

- ``agent_id``: offender id (stable across scenarios under common random numbers)
- ``month``: absolute month index (``year * 12 + month - 1``); see :mod:`chainsim.calendar`
- ``from_stage``, ``to_stage``: stage names (:class:`chainsim.spec.Stage`); equal for point events
- ``event``: what happened (:class:`chainsim.spec.Event`)
- ``form``, ``sex``: the offender's form of exploitation and sex
- ``age``: age in years reached in the calendar year of the event
- ``age_group``: ``under23`` or ``23plus`` at the offence (start of the current offending spell)
- ``priors``: prior convictions at the event
- ``probation``: under probation supervision at the event
- ``value``: months for sentence, release and probation events; NaN otherwise
"""


class RecordLog:
    """Append-only columnar buffer of records."""

    def __init__(self):
        self._cols: tuple[list, ...] = tuple([] for _ in COLUMNS)

    def __len__(self) -> int:
        return len(self._cols[0])

    def append(self, agent_id, month, from_stage, to_stage, event, form, age, age_group, sex,
               priors, probation, value=np.nan) -> None:
        """Add one record (stages, events and strata as integer codes)."""
        for col, v in zip(self._cols, (agent_id, month, from_stage, to_stage, event, form, age,
                                       age_group, sex, priors, probation, value), strict=True):
            col.append(v)

    def to_frame(self) -> pd.DataFrame:
        """The records as a DataFrame with categorical names."""
        c = self._cols
        return pd.DataFrame(
            {
                "agent_id": np.asarray(c[0], dtype=np.int64),
                "month": np.asarray(c[1], dtype=np.int32),
                "from_stage": _categorical(c[2], STAGE_NAMES),
                "to_stage": _categorical(c[3], STAGE_NAMES),
                "event": _categorical(c[4], EVENT_NAMES),
                "form": _categorical(c[5], FORMS),
                "age": np.asarray(c[6], dtype=np.int16),
                "age_group": _categorical(c[7], AGE_GROUPS),
                "sex": _categorical(c[8], SEXES),
                "priors": np.asarray(c[9], dtype=np.int16),
                "probation": np.asarray(c[10], dtype=bool),
                "value": np.asarray(c[11], dtype=np.float32),
            }
        )


def _categorical(codes: list[int], names: tuple[str, ...]) -> pd.Categorical:
    return pd.Categorical.from_codes(np.asarray(codes, dtype=np.int16), categories=list(names))

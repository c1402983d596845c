"""The flat event record: one row per stage transition or point event.

Every analysis reads this one table (the design brief, §8). Engines append rows through
:class:`RecordLog`; :meth:`RecordLog.to_frame` gives a pandas DataFrame with
categorical stage and event names.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from chainsim import chain
from chainsim.chain.spec import AGE_GROUPS, EVENT_NAMES, FORMS, SEXES, STAGE_NAMES

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
- ``month``: absolute month index (``year * 12 + month - 1``); see :mod:`chainsim.chain.months`
- ``from_stage``, ``to_stage``: stage names (:class:`chainsim.chain.spec.Stage`); equal for
  point events
- ``event``: what happened (:class:`chainsim.chain.spec.Event`)
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
        return records_frame({name: np.asarray(col) for name, col in zip(COLUMNS, c,
                                                                         strict=True)})


CATEGORIES: dict[str, tuple[str, ...]] = {
    "from_stage": STAGE_NAMES,
    "to_stage": STAGE_NAMES,
    "event": EVENT_NAMES,
    "form": FORMS,
    "age_group": AGE_GROUPS,
    "sex": SEXES,
}
"""The categorical columns and their categories (the other columns are numbers)."""

DTYPES: dict[str, type] = {"agent_id": np.int64, "month": np.int32, "age": np.int16,
                           "priors": np.int16, "probation": bool, "value": np.float32}
"""The numeric columns' dtypes."""

_CATEGORICAL_DTYPES: dict[str, pd.CategoricalDtype] = {}


def records_frame(columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """The record table from its columns, categorical ones as integer codes.

    Args:
        columns: Every column of :data:`COLUMNS`; those of :data:`CATEGORIES` hold
            category codes (positions in the category names).

    Returns:
        The DataFrame, with the dtypes of :data:`DTYPES` and categorical columns.
    """
    out = {}
    for name in COLUMNS:
        if name in CATEGORIES:
            dtype = _CATEGORICAL_DTYPES.get(name)
            if dtype is None:
                dtype = _CATEGORICAL_DTYPES[name] = pd.CategoricalDtype(list(CATEGORIES[name]))
            out[name] = pd.Categorical.from_codes(
                np.asarray(columns[name]).astype(np.int16, copy=False), dtype=dtype)
        else:
            out[name] = np.asarray(columns[name]).astype(DTYPES[name], copy=False)
    return pd.DataFrame(out)


class RecordArrays:
    """One replication's record table as NumPy arrays, with intermediates analyses share.

    Every analysis function accepts either the DataFrame or this object. Building
    it once per replication and passing it to several analyses lets them share
    the column arrays and what they derive from them (the rows in offender order,
    the stage spells, times to recidivism, counts per year), each computed on
    first use and kept in :attr:`cache`. The table must not be changed afterwards.

    Attributes:
        agent: Offender ids (int64).
        month: Absolute months (int64).
        event: Event category codes (``-1`` for a missing value).
        event_names: The event column's categories.
        cache: Derived arrays, keyed by the analysis that made them.
    """

    def __init__(self, records: pd.DataFrame):
        self._frame: pd.DataFrame | None = records
        self._columns: dict[str, np.ndarray] | None = None
        self.agent = records["agent_id"].to_numpy(dtype=np.int64)
        self.month = records["month"].to_numpy(dtype=np.int64)
        event = records["event"].array
        self.event = np.asarray(event.codes)
        self.event_names: tuple[str, ...] = tuple(event.categories)
        self.cache: dict = {}

    @classmethod
    def from_columns(cls, columns: dict[str, np.ndarray],
                     by_agent: np.ndarray | None = None) -> RecordArrays:
        """The arrays of a table given as columns (see :func:`records_frame`).

        The DataFrame (:attr:`frame`) is built only if an analysis asks for it.

        Args:
            columns: Every column of :data:`COLUMNS`, categorical ones as codes.
            by_agent: The rows in offender order, if the engine knows it
                (:attr:`by_agent` is then not computed).
        """
        self = cls.__new__(cls)
        self._frame = None
        self._columns = columns
        self.agent = np.asarray(columns["agent_id"]).astype(np.int64, copy=False)
        self.month = np.asarray(columns["month"]).astype(np.int64, copy=False)
        self.cache = {} if by_agent is None else {"by_agent": by_agent}
        self.event, self.event_names = self.column_codes("event")
        return self

    @property
    def frame(self) -> pd.DataFrame:
        """The record table."""
        if self._frame is None:
            self._frame = records_frame(self._columns)
        return self._frame

    def values(self, name: str) -> np.ndarray:
        """A numeric column's values (with the dtype of :data:`DTYPES`)."""
        if self._columns is not None:
            return np.asarray(self._columns[name]).astype(DTYPES[name], copy=False)
        return self.frame[name].to_numpy()

    @classmethod
    def of(cls, records: pd.DataFrame | RecordArrays) -> RecordArrays:
        """``records`` itself if it already is a :class:`RecordArrays`, else its arrays."""
        return records if isinstance(records, cls) else cls(records)

    def __len__(self) -> int:
        return len(self.agent)

    def codes(self, names: Iterable[str]) -> list[int]:
        """Event category codes of ``names``.

        Raises:
            KeyError: A name is not an event of the chain table (a misspelt or
                removed event must fail, never count as zero).
        """
        names = chain.check_events(names, "RecordArrays.codes")
        return [self.event_names.index(n) for n in names if n in self.event_names]

    def is_event(self, names: Iterable[str]) -> np.ndarray:
        """Mask of the rows whose event is one of ``names``."""
        table = np.zeros(len(self.event_names) + 1, dtype=bool)  # the last: code -1
        table[self.codes(names)] = True
        return table[self.event]

    def column_codes(self, name: str) -> tuple[np.ndarray, tuple]:
        """A categorical column's codes and categories."""
        key = ("codes", name)
        if key not in self.cache:
            if self._columns is not None:  # int8, as pandas stores the codes
                self.cache[key] = (np.asarray(self._columns[name]).astype(np.int8),
                                   CATEGORIES[name])
            else:
                col = self.frame[name].array
                self.cache[key] = (np.asarray(col.codes), tuple(col.categories))
        return self.cache[key]

    @property
    def by_agent(self) -> np.ndarray:
        """Row positions in offender order (each offender's rows in their own order)."""
        if "by_agent" not in self.cache:
            self.cache["by_agent"] = stable_argsort(self.agent)
        return self.cache["by_agent"]



def stable_argsort(key: np.ndarray) -> np.ndarray:
    """``numpy.argsort(key, kind="stable")`` for non-negative integer keys, faster.

    A least-significant-digit radix sort: one stable pass per 16 bits of the largest
    key, each a NumPy radix sort of 16-bit digits. Negative keys fall back to NumPy.
    """
    if len(key) == 0 or key.min() < 0:
        return np.argsort(key, kind="stable")
    order = None
    top = int(key.max())
    shift = 0
    while True:
        part = key if order is None else key[order]
        digit = ((part >> shift) & 0xFFFF).astype(np.uint16)
        step = np.argsort(digit, kind="stable")
        order = step if order is None else order[step]
        shift += 16
        if top >> shift == 0:
            return order

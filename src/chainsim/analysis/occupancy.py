"""Stays in stages (spells) and stage occupancy from the event records.

A *spell* is one consecutive stay of an offender in one stage. Spells are read
off the transition records (rows whose ``from_stage`` differs from the
``to_stage``; point events such as ``general_offence`` are ignored): a spell
starts at a transition's month and ends at the month of the offender's next
transition. Definitions:

- A spell ``[start, end)`` counts the months ``start .. end - 1``: the offender is
  in the stage at the end of each of those months (an end-of-month stock). A spell
  entered and left in the same month (``sentencing``; ``free`` followed by
  ``probation`` in the month of release; a prison term fully covered by pre-trial
  detention) has ``start == end`` and counts no months.
- A spell with no later transition is still running at the horizon and gets
  ``end = end_month + 1``. This includes ``desisted``: desistance is absorbing, so
  its spell always runs to the horizon (every offender is in exactly one stage in
  each month from its first record to the horizon).
- Transitions after ``end_month`` are ignored (their spells are dropped and the
  spells they would have ended run to ``end_month + 1``).

Person-months in a set of stages over a period ``[start_month, end_month]``
(inclusive) add up each spell's overlap with the period; the mean occupancy is
that total divided by the number of months (the average end-of-month stock).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from chainsim.engines.records import RecordArrays

SPELL_COLUMNS: tuple[str, ...] = ("agent_id", "stage", "start", "end", "form", "age_group", "sex")
"""Columns of :func:`stage_spells`."""


Records = pd.DataFrame | RecordArrays
"""A replication's record table, or its :class:`chainsim.engines.records.RecordArrays`."""


@dataclass(frozen=True)
class Spells:
    """The spells of :func:`stage_spells` as arrays (agent, then chronological order).

    Attributes:
        rows: Each spell's opening record (position in the record table).
        agent: Offender ids.
        stage: ``to_stage`` category codes of the opening records.
        stage_names: The stage categories.
        start: First month of each spell.
        end: Month after its last (``start <= end``).
    """

    rows: np.ndarray
    agent: np.ndarray
    stage: np.ndarray
    stage_names: tuple[str, ...]
    start: np.ndarray
    end: np.ndarray

    def __len__(self) -> int:
        return len(self.rows)

    def overlap(self, stages: str | Iterable[str] | None, start_month: int, end_month: int,
                from_month: np.ndarray | None = None) -> np.ndarray:
        """:func:`spell_overlap` of these spells."""
        return _overlap(self.start, self.end, self.stage, self.stage_names, stages,
                        start_month, end_month, from_month)


def spells_of(records: Records, end_month: int) -> Spells:
    """The spells of :func:`stage_spells`, as arrays (kept with the record arrays)."""
    rec = RecordArrays.of(records)
    key = ("spells", end_month)
    if key not in rec.cache:
        frm, frm_names = rec.column_codes("from_stage")
        to, to_names = rec.column_codes("to_stage")
        if frm_names == to_names:
            moved = frm != to
        else:  # pragma: no cover - engines always share the stage categories
            moved = (np.asarray((*frm_names, None), dtype=object)[frm]
                     != np.asarray((*to_names, None), dtype=object)[to])
        order = rec.by_agent
        rows = order[moved[order]]
        rows = rows[rec.month[rows] <= end_month]
        agent = rec.agent[rows]
        month = rec.month[rows]
        end = np.full(len(rows), end_month + 1, dtype=np.int64)
        if len(rows) > 1:
            same = agent[1:] == agent[:-1]
            end[:-1] = np.where(same, month[1:], end[:-1])
        rec.cache[key] = Spells(rows, agent, to[rows], to_names, month, end)
    return rec.cache[key]


def stage_spells(records: Records, end_month: int) -> pd.DataFrame:
    """Every offender's consecutive stays in a stage, up to the horizon.

    Args:
        records: One replication's records (:meth:`chainsim.engines.records.RecordLog.to_frame`);
            rows of one agent in the order they happened.
        end_month: The horizon's last month (absolute month index); spells still
            running then end at ``end_month + 1``.

    Returns:
        One row per spell, columns ``agent_id``, ``stage`` (categorical stage name),
        ``start``, ``end`` (absolute months, ``start <= end``), and the offender's
        ``form``, ``age_group`` and ``sex`` on entering the stage. Rows are sorted by
        agent, then chronologically.
    """
    rec = RecordArrays.of(records)
    sp = spells_of(rec, end_month)
    frame = rec.frame
    return pd.DataFrame({
        "agent_id": sp.agent,
        "stage": frame["to_stage"].array.take(sp.rows),
        "start": sp.start,
        "end": sp.end,
        "form": frame["form"].array.take(sp.rows),
        "age_group": frame["age_group"].array.take(sp.rows),
        "sex": frame["sex"].array.take(sp.rows),
    })


def months_in_stages(records: Records, stages: str | Iterable[str], start_month: int,
                     end_month: int) -> float:
    """Person-months spent in any of ``stages`` within ``[start_month, end_month]``.

    Args:
        records: One replication's records.
        stages: A stage name or several (lower-case names of :class:`chainsim.chain.spec.Stage`).
        start_month: First month of the period (absolute month index, inclusive).
        end_month: Last month of the period (inclusive). Spells still running at the
            end of the records are taken to last through ``end_month``, so keep it
            within the run's horizon.

    Returns:
        The total overlap of the spells in those stages with the period, in months.
    """
    spells = spells_of(records, end_month)
    return float(spells.overlap(stages, start_month, end_month).sum())


def mean_occupancy(records: Records, stage: str, start_month: int, end_month: int) -> float:
    """Average number of offenders in ``stage`` per month over ``[start_month, end_month]``.

    Args:
        records: One replication's records.
        stage: A stage name (or an iterable of names, pooled).
        start_month: First month (inclusive).
        end_month: Last month (inclusive).

    Returns:
        :func:`months_in_stages` divided by the number of months; NaN for an empty period.
    """
    n = end_month - start_month + 1
    if n <= 0:
        return float("nan")
    return months_in_stages(records, stage, start_month, end_month) / n


def spell_overlap(spells: pd.DataFrame, stages: str | Iterable[str] | None, start_month: int,
                  end_month: int, from_month: np.ndarray | None = None) -> np.ndarray:
    """Months of each spell inside ``[start_month, end_month]`` (0 for other stages).

    Args:
        spells: Spells as returned by :func:`stage_spells`.
        stages: Stage name(s) to count; ``None`` counts every stage.
        start_month: First month of the period (inclusive).
        end_month: Last month of the period (inclusive).
        from_month: Optional per-spell month before which nothing counts (NaN: the
            spell counts not at all), e.g. an offender's first release.

    Returns:
        Months per spell (float array aligned with ``spells``).
    """
    stage = spells["stage"].array
    return _overlap(spells["start"].to_numpy(), spells["end"].to_numpy(),
                    np.asarray(stage.codes), tuple(stage.categories), stages, start_month,
                    end_month, from_month)


def _overlap(start: np.ndarray, end: np.ndarray, stage: np.ndarray, stage_names: tuple,
             stages: str | Iterable[str] | None, start_month: int, end_month: int,
             from_month: np.ndarray | None) -> np.ndarray:
    if from_month is None:  # whole months: in integers, then as float
        hi = np.minimum(end, end_month + 1)
        months = np.maximum(hi - np.maximum(start, start_month), 0).astype(float)
    else:
        from_month = np.asarray(from_month, dtype=float)
        lo = np.where(np.isnan(from_month), np.inf, np.fmax(float(start_month), from_month))
        hi = np.minimum(end.astype(float), end_month + 1.0)
        months = np.clip(hi - np.maximum(start.astype(float), lo), 0.0, None)
    if stages is not None:
        months[~_in_stages(stage, stage_names, stages)] = 0.0
    return months


def _in_stages(codes: np.ndarray, cats: tuple, stages: str | Iterable[str]) -> np.ndarray:
    names = [stages] if isinstance(stages, str) else list(stages)
    unknown = [s for s in names if s not in cats]
    if unknown:
        raise ValueError(f"unknown stage name(s) {unknown}; expected some of {list(cats)}")
    table = np.zeros(len(cats) + 1, dtype=bool)  # the last: code -1 (missing)
    table[[cats.index(s) for s in names]] = True
    return table[codes]

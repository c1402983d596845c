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

import numpy as np
import pandas as pd

SPELL_COLUMNS: tuple[str, ...] = ("agent_id", "stage", "start", "end", "form", "age_group", "sex")
"""Columns of :func:`stage_spells`."""


def stage_spells(records: pd.DataFrame, end_month: int) -> pd.DataFrame:
    """Every offender's consecutive stays in a stage, up to the horizon.

    Args:
        records: One replication's records (:meth:`chainsim.records.RecordLog.to_frame`);
            rows of one agent in the order they happened.
        end_month: The horizon's last month (absolute month index); spells still
            running then end at ``end_month + 1``.

    Returns:
        One row per spell, columns ``agent_id``, ``stage`` (categorical stage name),
        ``start``, ``end`` (absolute months, ``start <= end``), and the offender's
        ``form``, ``age_group`` and ``sex`` on entering the stage. Rows are sorted by
        agent, then chronologically.
    """
    tr = _transitions(records)
    tr = tr[tr["month"].to_numpy() <= end_month]
    agent = tr["agent_id"].to_numpy()
    month = tr["month"].to_numpy().astype(np.int64)
    end = np.full(len(tr), end_month + 1, dtype=np.int64)
    if len(tr) > 1:
        same = agent[1:] == agent[:-1]
        end[:-1] = np.where(same, month[1:], end[:-1])
    return pd.DataFrame({
        "agent_id": agent,
        "stage": tr["to_stage"].array,
        "start": month,
        "end": end,
        "form": tr["form"].array,
        "age_group": tr["age_group"].array,
        "sex": tr["sex"].array,
    })


def months_in_stages(records: pd.DataFrame, stages: str | Iterable[str], start_month: int,
                     end_month: int) -> float:
    """Person-months spent in any of ``stages`` within ``[start_month, end_month]``.

    Args:
        records: One replication's records.
        stages: A stage name or several (lower-case names of :class:`chainsim.spec.Stage`).
        start_month: First month of the period (absolute month index, inclusive).
        end_month: Last month of the period (inclusive). Spells still running at the
            end of the records are taken to last through ``end_month``, so keep it
            within the run's horizon.

    Returns:
        The total overlap of the spells in those stages with the period, in months.
    """
    spells = stage_spells(records, end_month)
    return float(spell_overlap(spells, stages, start_month, end_month).sum())


def mean_occupancy(records: pd.DataFrame, stage: str, start_month: int, end_month: int) -> float:
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
    lo = np.full(len(spells), float(start_month))
    if from_month is not None:
        from_month = np.asarray(from_month, dtype=float)
        lo = np.where(np.isnan(from_month), np.inf, np.fmax(lo, from_month))
    hi = np.minimum(spells["end"].to_numpy(dtype=float), end_month + 1.0)
    months = np.clip(hi - np.maximum(spells["start"].to_numpy(dtype=float), lo), 0.0, None)
    if stages is not None:
        months = np.where(_in_stages(spells["stage"], stages), months, 0.0)
    return months


def _in_stages(column: pd.Series, stages: str | Iterable[str]) -> np.ndarray:
    names = [stages] if isinstance(stages, str) else list(stages)
    cats = list(column.cat.categories)
    unknown = [s for s in names if s not in cats]
    if unknown:
        raise ValueError(f"unknown stage name(s) {unknown}; expected some of {cats}")
    return np.isin(column.cat.codes.to_numpy(), [cats.index(s) for s in names])


def _transitions(records: pd.DataFrame) -> pd.DataFrame:
    """Transition rows (stage changes), sorted by agent and then chronologically."""
    frm, to = records["from_stage"], records["to_stage"]
    if list(frm.cat.categories) == list(to.cat.categories):
        moved = frm.cat.codes.to_numpy() != to.cat.codes.to_numpy()
    else:  # pragma: no cover - engines always share the stage categories
        moved = frm.astype(str).to_numpy() != to.astype(str).to_numpy()
    tr = records[moved]
    order = np.argsort(tr["agent_id"].to_numpy(), kind="stable")
    return tr.iloc[order]

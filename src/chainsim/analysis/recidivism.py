"""Recidivism and harm proxies from the event records (the design brief, §7).

Recidivism follows the WODC convention: the prevalence of a new event within 2, 5
and 7 years of an *index* event, among offenders followed up for that long.
Definitions (event names are :class:`chainsim.chain.spec.Event`):

- **Index event**: ``released`` (release from prison) or ``non_custodial`` (a
  non-custodial sanction). Each offender's index is its *first* index event with
  month in ``[cohort_start, cohort_end]``; one index per offender.
- **Follow-up**: events in months strictly after the index month, up to
  ``index + 12 * years`` inclusive. (The model schedules everything after a sanction
  at least one month later, so nothing is lost by skipping the index month.)
  Only index events with full follow-up (``index + 12 * years <= horizon_end``)
  are in the denominator; events after ``horizon_end`` are never seen.
- **Counted trafficking registration**: a ``traced`` or ``registered_other`` row
  whose case does not end in ``technical_dismissal`` or ``acquitted``. The case's
  outcome is the offender's next final decision after the registration (an OM
  dismissal or other disposal, or the trial's ``convicted``/``acquitted``) before
  any later registration; a case still pending at ``horizon_end`` (no outcome by
  then) counts. It is dated at the registration month.
- **Kinds** (:data:`KINDS`):

  - ``observed_specific``: a counted trafficking registration;
  - ``observed_general``: a counted trafficking registration or a ``general_case``
    (another offence registered as a new case; the model gives those no outcome,
    so none is excluded);
  - ``true``: ``reoffended`` (back into trafficking) or ``general_offence`` (any
    other offence, registered or not).

- **Strata** (``by``): the offender's ``form`` and ``age_group`` on the index
  record (the age group is fixed at the start of the offending spell that led to
  the sanction), and ``probation``: whether supervision started with the index
  (the offender's next record is ``probation_start`` in the index month).

Survival curves are Kaplan-Meier estimates of the months from the index to the
first event of a kind, censored only at ``horizon_end`` (an offender who desists
simply has no further events).

Harm proxies are person-months from :mod:`chainsim.analysis.occupancy`:
offender-months *active* (stages ``active`` and ``signalled``: offending, not yet
under investigation), victim-months (the same weighted by the form's victims per
offender) and active months after the offender's first release or sanction.

Every function reads one replication's records; callers group by ``rep``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from chainsim import chain
from chainsim.analysis.occupancy import spells_of
from chainsim.engines.records import RecordArrays

KINDS: tuple[str, ...] = ("observed_general", "observed_specific", "true")
"""Recidivism kinds of :func:`recidivism_prevalence`."""

YEARS: tuple[int, ...] = (2, 5, 7)
"""Follow-up windows (years) of :func:`recidivism_table`."""

PROXIES: tuple[str, ...] = tuple(f"{k}_{y}y" for k in KINDS for y in YEARS)
"""Keys of :func:`recidivism_table`, in report order."""

BY: tuple[str, ...] = ("form", "age_group", "probation")
"""Strata accepted by ``by``."""

INDEX_EVENTS: tuple[str, ...] = ("released", "non_custodial")
REGISTRATIONS: tuple[str, ...] = ("traced", "registered_other")
CASE_OUTCOMES: tuple[str, ...] = ("technical_dismissal", "policy_dismissal", "other_disposal",
                                  "convicted", "acquitted")
"""Final decisions on a trafficking case (a summons is not final: the trial follows)."""
NOT_COUNTED: tuple[str, ...] = ("technical_dismissal", "acquitted")
"""Case outcomes that do not count as recidivism (WODC)."""
GENERAL_CASES: tuple[str, ...] = ("general_case",)
TRUE_EVENTS: tuple[str, ...] = ("reoffended", "general_offence")
ACTIVE_STAGES: tuple[str, ...] = ("active", "signalled")
"""Stages counted as offending in the harm proxies."""

Records = pd.DataFrame | RecordArrays
"""A replication's record table, or its :class:`chainsim.engines.records.RecordArrays`."""

_MONTH_BITS = 20
_MONTH_MASK = (1 << _MONTH_BITS) - 1


# ------------------------------------------------------------------ recidivism


def recidivism_prevalence(records: Records, years: float, kind: str, cohort_start: int,
                          cohort_end: int, horizon_end: int,
                          by: str | None = None) -> float | dict:
    """Share of index offenders with an event of ``kind`` within ``years`` of the index.

    Args:
        records: One replication's records (rows of one agent in the order they happened).
        years: Follow-up window in years (events in months ``index + 1 .. index + 12 * years``).
        kind: One of :data:`KINDS`.
        cohort_start: First month (absolute index) an index event may fall in.
        cohort_end: Last month an index event may fall in (inclusive).
        horizon_end: Last month observed (inclusive); index events without full
            follow-up by then are left out.
        by: ``None``, or a stratum of :data:`BY`.

    Returns:
        The share (NaN without eligible index events), or ``{group: share}`` when
        ``by`` is given (every group of the stratum, NaN for empty ones).
    """
    _check_kind(kind)
    rec = _sorted(records)
    index = _index_events(rec, cohort_start, cohort_end)
    time = _time_to_event(rec, index, kind, horizon_end)
    return _prevalence(index, time, years, horizon_end, by, rec)


def recidivism_table(records: Records, cohort_start: int, cohort_end: int,
                     horizon_end: int) -> dict[str, float]:
    """Every recidivism proxy (:data:`PROXIES`) for one replication.

    Args:
        records: One replication's records.
        cohort_start: First month an index event may fall in.
        cohort_end: Last month an index event may fall in (inclusive).
        horizon_end: Last month observed (inclusive).

    Returns:
        ``{"observed_general_2y": share, ...}``; NaN where no index event has full
        follow-up (the denominators differ by window).
    """
    rec = _sorted(records)
    index = _index_events(rec, cohort_start, cohort_end)
    out = {}
    for kind in KINDS:
        time = _time_to_event(rec, index, kind, horizon_end)
        for y in YEARS:
            out[f"{kind}_{y}y"] = _prevalence(index, time, y, horizon_end, None, rec)
    return out


def recidivism_by(records: Records, by: str, cohort_start: int, cohort_end: int,
                  horizon_end: int) -> dict:
    """:func:`recidivism_table` per group of a stratum.

    Args:
        records: One replication's records.
        by: A stratum of :data:`BY`.
        cohort_start: First month an index event may fall in.
        cohort_end: Last month an index event may fall in (inclusive).
        horizon_end: Last month observed (inclusive).

    Returns:
        ``{group: {proxy: share}}`` for every group of the stratum (NaN when empty).
    """
    rec = _sorted(records)
    index = _index_events(rec, cohort_start, cohort_end)
    groups = _group_names(rec, by)
    out: dict = {g: {} for g in groups}
    for kind in KINDS:
        time = _time_to_event(rec, index, kind, horizon_end)
        for y in YEARS:
            shares = _prevalence(index, time, y, horizon_end, by, rec)
            for g in groups:
                out[g][f"{kind}_{y}y"] = shares[g]
    return out


def survival_curve(records: Records, kind: str, cohort_start: int, cohort_end: int,
                   horizon_end: int, max_months: int = 84) -> pd.DataFrame:
    """Kaplan-Meier curve of the months from the index to the first event of ``kind``.

    Every offender with an index event in the cohort contributes; one without an
    event is censored at ``horizon_end`` (observed through that month, so at risk
    in month ``horizon_end - index``). Ties: events before censoring.

    Args:
        records: One replication's records.
        kind: One of :data:`KINDS`.
        cohort_start: First month an index event may fall in.
        cohort_end: Last month an index event may fall in (inclusive).
        horizon_end: Last month observed (inclusive).
        max_months: Last month since the index reported.

    Returns:
        Columns ``month`` (0..max_months since the index), ``at_risk`` (offenders
        observed and event-free at the start of that month), ``events`` (first
        events in it) and ``survival`` (share still event-free at its end; NaN once
        nobody is at risk).
    """
    _check_kind(kind)
    rec = _sorted(records)
    index = _index_events(rec, cohort_start, cohort_end)
    index_month = index.month
    time = _time_to_event(rec, index, kind, horizon_end)
    censor = horizon_end - index_month
    keep = censor >= 0
    event = ~np.isnan(time[keep])
    observed = np.where(event, time[keep], censor[keep]).astype(np.int64)
    n = max_months + 1
    at_end = np.bincount(np.minimum(observed, n), minlength=n + 1)  # leaving after month t
    at_risk = len(observed) - np.concatenate(([0], np.cumsum(at_end)[:-2]))
    events = np.bincount(observed[event & (observed <= max_months)], minlength=n)[:n]
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.where(at_risk > 0, 1.0 - events / at_risk, np.nan)
    return pd.DataFrame({
        "month": np.arange(n),
        "at_risk": at_risk.astype(np.int64),
        "events": events.astype(np.int64),
        "survival": np.cumprod(step),
    })


# ------------------------------------------------------------------ harm proxies


def active_offender_months(records: Records, start_month: int, end_month: int) -> float:
    """Offender-months in ``active`` or ``signalled`` within ``[start_month, end_month]``.

    Args:
        records: One replication's records.
        start_month: First month (inclusive).
        end_month: Last month (inclusive).

    Returns:
        Person-months offending (end-of-month stock summed over the months).
    """
    spells = spells_of(records, end_month)
    return float(spells.overlap(ACTIVE_STAGES, start_month, end_month).sum())


def victim_months(records: Records, start_month: int, end_month: int,
                  victims_per_offender: Mapping[str, float]) -> float:
    """Victim-months: active offender-months weighted by the form's victims per offender.

    Args:
        records: One replication's records.
        start_month: First month (inclusive).
        end_month: Last month (inclusive).
        victims_per_offender: Victims exploited at a time per active offender, by form.

    Returns:
        ``sum over spells of months * victims_per_offender[form]``.

    Raises:
        ValueError: If a form with active months has no victims per offender.
    """
    rec = RecordArrays.of(records)
    spells = spells_of(rec, end_month)
    months = spells.overlap(ACTIVE_STAGES, start_month, end_month)
    form, cats = rec.column_codes("form")
    missing = [f for f in cats if f not in victims_per_offender]
    weights = np.array([float(victims_per_offender.get(f, np.nan)) for f in cats] + [np.nan])
    w = weights[form[spells.rows]]  # code -1 (missing form) -> NaN
    bad = (months > 0) & np.isnan(w)
    if bad.any():
        raise ValueError(f"victims_per_offender lacks form(s) {missing} that have active months")
    return float(np.sum(np.where(months > 0, months * np.nan_to_num(w), 0.0)))


def active_months_after_first_release(records: Records, start_month: int,
                                      end_month: int) -> float:
    """Active offender-months in the period after each offender's first release or sanction.

    Only months from the offender's first ``released`` or ``non_custodial`` event
    on count (whenever that event was, even before ``start_month``); offenders
    never released or sanctioned contribute nothing.

    Args:
        records: One replication's records.
        start_month: First month (inclusive).
        end_month: Last month (inclusive).

    Returns:
        Person-months in ``active``/``signalled`` after a first release or sanction.
    """
    rec = _sorted(records)
    is_index = rec.is_event(INDEX_EVENTS)
    agents, first = np.unique(rec.agent[is_index], return_index=True)
    first_month = rec.month[is_index][first]
    spells = spells_of(rec.arrays, end_month)
    spell_agent = spells.agent
    j = np.minimum(np.searchsorted(agents, spell_agent), max(len(agents) - 1, 0))
    if len(agents):
        from_month = np.where(agents[j] == spell_agent, first_month[j], np.nan)
    else:
        from_month = np.full(len(spells), np.nan)
    months = spells.overlap(ACTIVE_STAGES, start_month, end_month,
                            from_month=from_month.astype(float))
    return float(months.sum())


# ------------------------------------------------------------------ internals


class _Sorted:
    """The records' key columns in offender order (chronological within an offender).

    Kept with the record arrays (:class:`chainsim.engines.records.RecordArrays`), so that
    the analyses of one replication sort once and share index events and times to
    recidivism.
    """

    def __init__(self, rec: RecordArrays):
        order = rec.by_agent
        self.arrays = rec
        self.agent = rec.agent[order]
        self.month = rec.month[order]
        self.event = rec.event[order]
        self._event_names = rec.event_names
        self._order = order
        self.memo: dict = {}
        if len(self.month) and (self.month.min() < 0 or self.month.max() > _MONTH_MASK):
            raise ValueError("months must be absolute month indexes in [0, 2**20)")

    def codes(self, names: tuple[str, ...]) -> list[int]:
        """Category codes of event names.

        Raises:
            KeyError: A name is not an event of the chain table (never a silent zero).
        """
        names = chain.check_events(names, "recidivism")
        return [self._event_names.index(n) for n in names if n in self._event_names]

    def is_event(self, names: tuple[str, ...]) -> np.ndarray:
        """Mask of the (sorted) rows whose event is one of ``names`` (do not modify it)."""
        key = ("is", names)
        if key not in self.memo:
            table = np.zeros(len(self._event_names) + 1, dtype=bool)  # the last: code -1
            table[self.codes(names)] = True
            self.memo[key] = table[self.event]
        return self.memo[key]

    def codes_at(self, name: str, positions: np.ndarray) -> tuple[np.ndarray, tuple]:
        """A categorical column's codes at sorted positions, and its categories."""
        codes, cats = self.arrays.column_codes(name)
        return codes[self._order[positions]], cats


def _sorted(records: Records) -> _Sorted:
    rec = RecordArrays.of(records)
    if "recidivism" not in rec.cache:
        rec.cache["recidivism"] = _Sorted(rec)
    return rec.cache["recidivism"]


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")


@dataclass(frozen=True)
class _Index:
    """Each offender's first index event in a cohort: sorted positions, agent, month."""

    pos: np.ndarray
    agent: np.ndarray
    month: np.ndarray
    cohort: tuple[int, int]

    def __len__(self) -> int:
        return len(self.pos)


def _index_events(rec: _Sorted, cohort_start: int, cohort_end: int) -> _Index:
    """Each agent's first index event in the cohort window."""
    key = ("index", cohort_start, cohort_end)
    if key not in rec.memo:
        mask = rec.is_event(INDEX_EVENTS) & (rec.month >= cohort_start) & (rec.month <= cohort_end)
        pos = np.flatnonzero(mask)
        if len(pos):
            a = rec.agent[pos]
            pos = pos[np.concatenate(([True], a[1:] != a[:-1]))]
        rec.memo[key] = _Index(pos, rec.agent[pos], rec.month[pos], (cohort_start, cohort_end))
    return rec.memo[key]


def _supervised(rec: _Sorted, index: _Index) -> np.ndarray:
    """Whether supervision started with each index (the next record: ``probation_start``)."""
    pos = index.pos
    nxt = np.minimum(pos + 1, max(len(rec.agent) - 1, 0))
    return ((pos + 1 < len(rec.agent)) & (rec.agent[nxt] == rec.agent[pos])
            & (rec.month[nxt] == rec.month[pos])
            & np.isin(rec.event[nxt], rec.codes(("probation_start",))))


def _counted_registrations(rec: _Sorted, horizon_end: int) -> np.ndarray:
    """Mask of trafficking registrations whose case does not end in a non-counted outcome."""
    key = ("counted", horizon_end)
    if key in rec.memo:
        return rec.memo[key]
    is_reg = rec.is_event(REGISTRATIONS)
    reg = np.flatnonzero(is_reg)
    out = np.flatnonzero(rec.is_event(CASE_OUTCOMES))
    counted = is_reg.copy()
    if len(reg) and len(out):
        j = np.searchsorted(out, reg, side="right")
        q = out[np.minimum(j, len(out) - 1)]
        next_reg = np.concatenate((reg[1:], [len(rec.agent)]))
        decided = ((j < len(out)) & (rec.agent[q] == rec.agent[reg]) & (q < next_reg)
                   & (rec.month[q] <= horizon_end))
        excluded = decided & rec.is_event(NOT_COUNTED)[q]
        counted[reg[excluded]] = False
    rec.memo[key] = counted
    return counted


def _event_mask(rec: _Sorted, kind: str, horizon_end: int) -> np.ndarray:
    if kind == "true":
        mask = rec.is_event(TRUE_EVENTS)
    else:
        mask = _counted_registrations(rec, horizon_end)
        if kind == "observed_general":
            mask = mask | rec.is_event(GENERAL_CASES)
    return mask & (rec.month <= horizon_end)


def _time_to_event(rec: _Sorted, index: _Index, kind: str, horizon_end: int) -> np.ndarray:
    """Months from each index to the agent's first later event of ``kind`` (NaN: none)."""
    key = ("time", kind, horizon_end, index.cohort)
    if key in rec.memo:
        return rec.memo[key]
    mask = _event_mask(rec, kind, horizon_end)
    # rows are in agent, then month order: the keys come sorted
    keys = (rec.agent[mask] << _MONTH_BITS) | rec.month[mask]
    agent = index.agent
    month = index.month
    if len(keys) == 0:
        time = np.full(len(index), np.nan)
    else:
        j = np.searchsorted(keys, (agent << _MONTH_BITS) | (month + 1), side="left")
        k = keys[np.minimum(j, len(keys) - 1)]
        found = (j < len(keys)) & ((k >> _MONTH_BITS) == agent)
        time = np.where(found, (k & _MONTH_MASK) - month, np.nan)
    rec.memo[key] = time
    return time


def _group_names(rec: _Sorted, by: str) -> list:
    if by not in BY:
        raise ValueError(f"by must be None or one of {BY}, got {by!r}")
    if by == "probation":
        return [False, True]
    return list(rec.arrays.column_codes(by)[1])


def _prevalence(index: _Index, time: np.ndarray, years: float, horizon_end: int,
                by: str | None, rec: _Sorted) -> float | dict:
    window = round(12 * years)
    eligible = index.month + window <= horizon_end
    hit = np.nan_to_num(time, nan=np.inf) <= window
    if by is None:
        return _share(hit[eligible])
    groups = _group_names(rec, by)
    if by == "probation":
        labels, codes = _supervised(rec, index), groups
    else:
        labels, _ = rec.codes_at(by, index.pos)
        codes = range(len(groups))
    return {g: _share(hit[eligible & (labels == c)]) for g, c in zip(groups, codes, strict=True)}


def _share(hits: np.ndarray) -> float:
    return float(hits.mean()) if len(hits) else float("nan")

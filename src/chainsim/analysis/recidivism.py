"""Recidivism and harm proxies from the event records (design.md §7).

Recidivism follows the WODC convention: the prevalence of a new event within 2, 5
and 7 years of an *index* event, among offenders followed up for that long.
Definitions (event names are :class:`chainsim.spec.Event`):

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

import numpy as np
import pandas as pd

from chainsim.analysis.occupancy import spell_overlap, stage_spells

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

_MONTH_BITS = 20
_MONTH_MASK = (1 << _MONTH_BITS) - 1


# ------------------------------------------------------------------ recidivism


def recidivism_prevalence(records: pd.DataFrame, years: float, kind: str, cohort_start: int,
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
    rec = _Sorted(records)
    index = _index_events(rec, cohort_start, cohort_end)
    time = _time_to_event(rec, index, kind, horizon_end)
    return _prevalence(index, time, years, horizon_end, by, rec)


def recidivism_table(records: pd.DataFrame, cohort_start: int, cohort_end: int,
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
    rec = _Sorted(records)
    index = _index_events(rec, cohort_start, cohort_end)
    out = {}
    for kind in KINDS:
        time = _time_to_event(rec, index, kind, horizon_end)
        for y in YEARS:
            out[f"{kind}_{y}y"] = _prevalence(index, time, y, horizon_end, None, rec)
    return out


def recidivism_by(records: pd.DataFrame, by: str, cohort_start: int, cohort_end: int,
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
    rec = _Sorted(records)
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


def survival_curve(records: pd.DataFrame, kind: str, cohort_start: int, cohort_end: int,
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
    rec = _Sorted(records)
    index = _index_events(rec, cohort_start, cohort_end)
    index_month = index["month"].to_numpy()
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


def active_offender_months(records: pd.DataFrame, start_month: int, end_month: int) -> float:
    """Offender-months in ``active`` or ``signalled`` within ``[start_month, end_month]``.

    Args:
        records: One replication's records.
        start_month: First month (inclusive).
        end_month: Last month (inclusive).

    Returns:
        Person-months offending (end-of-month stock summed over the months).
    """
    spells = stage_spells(records, end_month)
    return float(spell_overlap(spells, ACTIVE_STAGES, start_month, end_month).sum())


def victim_months(records: pd.DataFrame, start_month: int, end_month: int,
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
    spells = stage_spells(records, end_month)
    months = spell_overlap(spells, ACTIVE_STAGES, start_month, end_month)
    forms = spells["form"].array
    cats = list(forms.categories)
    missing = [f for f in cats if f not in victims_per_offender]
    weights = np.array([float(victims_per_offender.get(f, np.nan)) for f in cats] + [np.nan])
    w = weights[np.asarray(forms.codes)]  # code -1 (missing form) -> NaN
    bad = (months > 0) & np.isnan(w)
    if bad.any():
        raise ValueError(f"victims_per_offender lacks form(s) {missing} that have active months")
    return float(np.sum(np.where(months > 0, months * np.nan_to_num(w), 0.0)))


def active_months_after_first_release(records: pd.DataFrame, start_month: int,
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
    rec = _Sorted(records)
    is_index = np.isin(rec.event, rec.codes(INDEX_EVENTS))
    agents, first = np.unique(rec.agent[is_index], return_index=True)
    first_month = rec.month[is_index][first]
    spells = stage_spells(records, end_month)
    spell_agent = spells["agent_id"].to_numpy()
    j = np.minimum(np.searchsorted(agents, spell_agent), max(len(agents) - 1, 0))
    if len(agents):
        from_month = np.where(agents[j] == spell_agent, first_month[j], np.nan)
    else:
        from_month = np.full(len(spells), np.nan)
    months = spell_overlap(spells, ACTIVE_STAGES, start_month, end_month,
                           from_month=from_month.astype(float))
    return float(months.sum())


# ------------------------------------------------------------------ internals


class _Sorted:
    """The records' key columns as arrays, sorted by agent (chronological within agent)."""

    def __init__(self, records: pd.DataFrame):
        order = np.argsort(records["agent_id"].to_numpy(), kind="stable")
        self.agent = records["agent_id"].to_numpy().astype(np.int64)[order]
        self.month = records["month"].to_numpy().astype(np.int64)[order]
        event = records["event"].array
        self.event = np.asarray(event.codes)[order]
        self._event_names = list(event.categories)
        self._records = records
        self._order = order
        if len(self.month) and (self.month.min() < 0 or self.month.max() > _MONTH_MASK):
            raise ValueError("months must be absolute month indexes in [0, 2**20)")

    def codes(self, names: tuple[str, ...]) -> list[int]:
        """Category codes of event names (names absent from the categories are skipped)."""
        return [self._event_names.index(n) for n in names if n in self._event_names]

    def column(self, name: str, positions: np.ndarray):
        """Values of a records column at sorted positions."""
        return self._records[name].iloc[self._order[positions]].array


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")


def _index_events(rec: _Sorted, cohort_start: int, cohort_end: int) -> pd.DataFrame:
    """Each agent's first index event in the cohort window: agent, month and strata."""
    mask = (np.isin(rec.event, rec.codes(INDEX_EVENTS)) & (rec.month >= cohort_start)
            & (rec.month <= cohort_end))
    pos = np.flatnonzero(mask)
    if len(pos):
        a = rec.agent[pos]
        pos = pos[np.concatenate(([True], a[1:] != a[:-1]))]
    nxt = np.minimum(pos + 1, max(len(rec.agent) - 1, 0))
    supervised = ((pos + 1 < len(rec.agent)) & (rec.agent[nxt] == rec.agent[pos])
                  & (rec.month[nxt] == rec.month[pos])
                  & np.isin(rec.event[nxt], rec.codes(("probation_start",))))
    return pd.DataFrame({
        "agent_id": rec.agent[pos],
        "month": rec.month[pos],
        "form": rec.column("form", pos),
        "age_group": rec.column("age_group", pos),
        "probation": supervised,
    })


def _counted_registrations(rec: _Sorted, horizon_end: int) -> np.ndarray:
    """Mask of trafficking registrations whose case does not end in a non-counted outcome."""
    is_reg = np.isin(rec.event, rec.codes(REGISTRATIONS))
    reg = np.flatnonzero(is_reg)
    out = np.flatnonzero(np.isin(rec.event, rec.codes(CASE_OUTCOMES)))
    if len(reg) == 0 or len(out) == 0:
        return is_reg
    j = np.searchsorted(out, reg, side="right")
    q = out[np.minimum(j, len(out) - 1)]
    next_reg = np.concatenate((reg[1:], [len(rec.agent)]))
    decided = ((j < len(out)) & (rec.agent[q] == rec.agent[reg]) & (q < next_reg)
               & (rec.month[q] <= horizon_end))
    excluded = decided & np.isin(rec.event[q], rec.codes(NOT_COUNTED))
    counted = is_reg.copy()
    counted[reg[excluded]] = False
    return counted


def _event_mask(rec: _Sorted, kind: str, horizon_end: int) -> np.ndarray:
    if kind == "true":
        mask = np.isin(rec.event, rec.codes(TRUE_EVENTS))
    else:
        mask = _counted_registrations(rec, horizon_end)
        if kind == "observed_general":
            mask |= np.isin(rec.event, rec.codes(GENERAL_CASES))
    return mask & (rec.month <= horizon_end)


def _time_to_event(rec: _Sorted, index: pd.DataFrame, kind: str, horizon_end: int) -> np.ndarray:
    """Months from each index to the agent's first later event of ``kind`` (NaN: none)."""
    mask = _event_mask(rec, kind, horizon_end)
    keys = np.sort((rec.agent[mask] << _MONTH_BITS) | rec.month[mask])
    agent = index["agent_id"].to_numpy()
    month = index["month"].to_numpy()
    if len(keys) == 0:
        return np.full(len(index), np.nan)
    j = np.searchsorted(keys, (agent << _MONTH_BITS) | (month + 1), side="left")
    k = keys[np.minimum(j, len(keys) - 1)]
    found = (j < len(keys)) & ((k >> _MONTH_BITS) == agent)
    return np.where(found, (k & _MONTH_MASK) - month, np.nan)


def _group_names(rec: _Sorted, by: str) -> list:
    if by not in BY:
        raise ValueError(f"by must be None or one of {BY}, got {by!r}")
    if by == "probation":
        return [False, True]
    return list(rec._records[by].cat.categories)


def _prevalence(index: pd.DataFrame, time: np.ndarray, years: float, horizon_end: int,
                by: str | None, rec: _Sorted) -> float | dict:
    window = round(12 * years)
    eligible = index["month"].to_numpy() + window <= horizon_end
    hit = np.nan_to_num(time, nan=np.inf) <= window
    if by is None:
        return _share(hit[eligible])
    groups = _group_names(rec, by)
    labels = np.asarray(index[by].to_numpy(), dtype=object)
    return {g: _share(hit[eligible & (labels == g)]) for g in groups}


def _share(hits: np.ndarray) -> float:
    return float(hits.mean()) if len(hits) else float("nan")

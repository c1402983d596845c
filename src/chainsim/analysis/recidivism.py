"""Recidivism and harm proxies from the event records (the design brief, §7).

Recidivism follows the WODC Recidivism Monitor's convention (``docs/recidivism.md``):
the prevalence of a new case within 2, 5 and 7 years of an *index* event, among
offenders followed up for that long, the new case dated at its **offence date**
(*pleegdatum*) and counted if it is registered by the data cut-off. Definitions
(event names are those of the chain table, :data:`chainsim.chain.EVENTS`):

- **Index event**: ``released`` (release from prison) or ``non_custodial`` (a
  non-custodial sanction). Each offender's index is its *first* index event with
  month in ``[cohort_start, cohort_end]``; one index per offender.
- **New trafficking case**: a registration at the OM (``traced`` or
  ``registered_other``) whose case does not end in ``technical_dismissal`` or
  ``acquitted``. The case's outcome is the offender's next final decision after the
  registration (an OM dismissal or other disposal, or the trial's
  ``convicted``/``acquitted``) before any later registration; a case with no outcome
  by ``horizon_end`` (pending) counts. Its **offence date** is the start month of
  the offending spell that led to it: the offender's latest row at or before the
  registration whose event starts a spell (:data:`SPELL_STARTS`: ``inflow``,
  ``pool``, ``reoffended``, ``resumed``; a ``dropped`` signal does not start one).
- **Other offences**: a ``general_case`` (another offence registered as a new case)
  is registered in the month of the offence, so its offence date is its month. The
  model gives those no outcome, so none is excluded.
- **Follow-up and data cut-off**: a new case counts for a window of ``years`` if its
  offence date lies in months ``index + 1 .. index + 12 * years`` and it is
  registered by ``index + 12 * years + extension_months`` (the *follow-up
  extension*, :data:`REGISTRATION_EXTENSION_MONTHS`: the WODC extracts its data some
  time after the follow-up ends, so cases registered a little late still count).
  Only index events with that full follow-up, ``index + 12 * years +
  extension_months <= horizon_end``, are in the denominator (censoring); nothing
  after ``horizon_end`` is seen. (The model schedules everything after a sanction at
  least one month later, so nothing is lost by skipping the index month.)
- **Kinds** (:data:`KINDS`, the primary proxies, offence-dated):

  - ``observed_specific``: a new trafficking case;
  - ``observed_general``: a new trafficking case or a ``general_case``;
  - ``true``: ``reoffended`` or ``resumed`` (a new trafficking spell) or
    ``general_offence`` (any other offence, registered or not), dated at their month
    (known only inside the model). A ``resumed`` follows the dismissal or acquittal
    of a case, so after an index it always comes after the ``reoffended`` that began
    that case's spell and never changes the result; it is listed so that the kind
    reads "any new offending".

  ``true`` uses the same denominator as the observed kinds (full follow-up including
  the extension), so that ``observed_specific <= observed_general <= true``.
- **Secondary kinds** (:data:`SECONDARY_KINDS`, registration-dated, the definition
  before the WODC convention was followed): ``registered_specific`` and
  ``registered_general`` date the same new cases at their **registration** month,
  with no extension (full follow-up: ``index + 12 * years <= horizon_end``). They
  differ from the primary kinds where registration lags the offence: a case
  offended late in the window and registered after it counts only in the primary
  kind; one offended before the index but registered after it only in the
  secondary kind (the model does not produce those).
- **Strata** (``by``, :data:`BY`): the offender's ``form`` and ``age_group`` on the
  index record (the age group is fixed at the start of the offending spell that led
  to the sanction); ``probation``: whether supervision started with the index (the
  offender's next record is ``probation_start`` in the index month); ``sanction``:
  ``prison`` (index ``released``) or ``non_custodial``; ``age_at_index``: the
  ``age`` column on the index record, in bands (:data:`AGE_BANDS`); and
  ``age_at_offence``: the same bands at the offence of the index case (the ``age``
  column on the row that started its spell).

Each index's *time* to a kind is the shortest window (in months) in which it counts
as a recidivist: the months from the index to the offence date, or, for a case
registered more than ``extension_months`` after its offence, to its registration
minus the extension. So the prevalence within ``w`` months is the share of eligible
index offenders with time ``<= w``; :func:`cohort_table` lists these times per
index offender. Survival curves are Kaplan-Meier estimates of that time, each index
censored at the last window it is fully followed for (``horizon_end -
extension_months - index``; an offender who desists simply has no further events).

Harm proxies are person-months from :mod:`chainsim.analysis.occupancy`:
offender-months *offending* (:data:`ACTIVE_STAGES`, the chain table's offending stages:
undetected, queued, and at liberty while the police investigate and the case is
pending; not in custody), victim-months (the same weighted by the form's victims per
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
from chainsim.engines.records import CATEGORIES, RecordArrays

KINDS: tuple[str, ...] = ("observed_general", "observed_specific", "true")
"""The primary recidivism kinds (offence-dated, WODC convention)."""

SECONDARY_KINDS: tuple[str, ...] = ("registered_general", "registered_specific")
"""The secondary, registration-dated kinds (no follow-up extension)."""

ALL_KINDS: tuple[str, ...] = (*KINDS, *SECONDARY_KINDS)
"""Every kind :func:`recidivism_prevalence` and :func:`survival_curve` accept."""

YEARS: tuple[int, ...] = (2, 5, 7)
"""Follow-up windows (years) of :func:`recidivism_table`."""

PROXIES: tuple[str, ...] = tuple(f"{k}_{y}y" for k in KINDS for y in YEARS)
"""The primary proxies: the first keys of :func:`recidivism_table`, in report order."""

SECONDARY_PROXIES: tuple[str, ...] = tuple(f"{k}_{y}y" for k in SECONDARY_KINDS for y in YEARS)
"""The registration-dated proxies: the last keys of :func:`recidivism_table`."""

REGISTRATION_EXTENSION_MONTHS = 12
"""Months after the end of a follow-up window by which a new case must be registered.

The WODC dates a new case at its offence but can only count what is registered when
its data are extracted, some time after the follow-up ends (the *peildatum*); a case
registered later is missed (and the Monitor's latest figures are revised upwards in
later editions). Twelve months: a year between the end of follow-up and the
extraction, as a yearly monitor has; it also covers the model's OM registration lag
for most detected offending (``docs/recidivism.md`` shows how the proxies move with
0, 12, 24 months and no limit). An optional argument of every public function.
"""

BY: tuple[str, ...] = ("form", "age_group", "probation", "sanction", "age_at_index",
                       "age_at_offence")
"""Strata accepted by ``by``."""

SANCTIONS: tuple[str, ...] = ("prison", "non_custodial")
"""Groups of the ``sanction`` stratum: the index event ``released``, or ``non_custodial``."""

AGE_BANDS: tuple[str, ...] = ("under18", "18-22", "23-29", "30plus")
"""Groups of the ``age_at_index`` and ``age_at_offence`` strata (age in years)."""

_AGE_EDGES = np.array([18, 23, 30])

COHORT_STRATA: tuple[str, ...] = ("sanction", "form", "age_group", "sex", "probation",
                                  "age_at_index", "age_at_offence")
"""The strata columns of :func:`cohort_table` (filters of :func:`cohort_prevalence`)."""

INDEX_EVENTS: tuple[str, ...] = ("released", "non_custodial")
REGISTRATIONS: tuple[str, ...] = ("traced", "registered_other")
CASE_OUTCOMES: tuple[str, ...] = ("technical_dismissal", "policy_dismissal", "other_disposal",
                                  "convicted", "acquitted")
"""Final decisions on a trafficking case (a summons is not final: the trial follows)."""
NOT_COUNTED: tuple[str, ...] = ("technical_dismissal", "acquitted")
"""Case outcomes that do not count as recidivism (WODC)."""
GENERAL_CASES: tuple[str, ...] = ("general_case", "exposed")
"""Other offences registered as a new case (``exposed``: an arrest for another offence that
also exposed the trafficking; it is registered as that other offence's case)."""
SPELL_STARTS: tuple[str, ...] = ("inflow", "pool", "reoffended", "resumed")
"""Events that start an offending spell: the offence date of the cases that follow."""
TRUE_EVENTS: tuple[str, ...] = ("reoffended", "resumed", "general_offence", "exposed")
"""Events of true reoffending: a new trafficking spell, or any other offence."""
ACTIVE_STAGES: tuple[str, ...] = chain.offending_stages()
"""Stages counted as offending in the harm proxies (the chain table's ``offending`` stages:
undetected, queued, and at liberty while the police investigate and the case is pending)."""

Records = pd.DataFrame | RecordArrays
"""A replication's record table, or its :class:`chainsim.engines.records.RecordArrays`."""

_MONTH_BITS = 20
_MONTH_MASK = (1 << _MONTH_BITS) - 1


# ------------------------------------------------------------------ recidivism


def recidivism_prevalence(records: Records, years: float, kind: str, cohort_start: int,
                          cohort_end: int, horizon_end: int, by: str | None = None,
                          extension_months: int = REGISTRATION_EXTENSION_MONTHS
                          ) -> float | dict:
    """Share of index offenders with a new event of ``kind`` within ``years`` of the index.

    Args:
        records: One replication's records (rows of one agent in the order they happened).
        years: Follow-up window in years (offences in months ``index + 1 .. index +
            12 * years``).
        kind: One of :data:`ALL_KINDS`.
        cohort_start: First month (absolute index) an index event may fall in.
        cohort_end: Last month an index event may fall in (inclusive).
        horizon_end: Last month observed (inclusive); index events without full
            follow-up (including the extension) by then are left out.
        by: ``None``, or a stratum of :data:`BY`.
        extension_months: Months after the window by which a case must be registered
            (the data cut-off); ignored by the registration-dated kinds.

    Returns:
        The share (NaN without eligible index events), or ``{group: share}`` when
        ``by`` is given (every group of the stratum, NaN for empty ones).
    """
    _check_kind(kind)
    ext = _extension(kind, extension_months)
    rec = _sorted(records)
    index = _index_events(rec, cohort_start, cohort_end)
    time = _time_to_event(rec, index, kind, horizon_end, ext)
    return _prevalence(index, time, years, horizon_end, ext, by, rec)


def recidivism_table(records: Records, cohort_start: int, cohort_end: int,
                     horizon_end: int, extension_months: int = REGISTRATION_EXTENSION_MONTHS
                     ) -> dict[str, float]:
    """Every recidivism proxy for one replication: :data:`PROXIES`, then :data:`SECONDARY_PROXIES`.

    Args:
        records: One replication's records.
        cohort_start: First month an index event may fall in.
        cohort_end: Last month an index event may fall in (inclusive).
        horizon_end: Last month observed (inclusive).
        extension_months: The follow-up extension of the offence-dated kinds.

    Returns:
        ``{"observed_general_2y": share, ..., "registered_specific_7y": share}``; NaN
        where no index event has full follow-up (the denominators differ by window).
    """
    rec = _sorted(records)
    index = _index_events(rec, cohort_start, cohort_end)
    out = {}
    for kind in ALL_KINDS:
        ext = _extension(kind, extension_months)
        time = _time_to_event(rec, index, kind, horizon_end, ext)
        for y in YEARS:
            out[f"{kind}_{y}y"] = _prevalence(index, time, y, horizon_end, ext, None, rec)
    return out


def recidivism_by(records: Records, by: str, cohort_start: int, cohort_end: int,
                  horizon_end: int, extension_months: int = REGISTRATION_EXTENSION_MONTHS
                  ) -> dict:
    """:func:`recidivism_table` per group of a stratum.

    Args:
        records: One replication's records.
        by: A stratum of :data:`BY`.
        cohort_start: First month an index event may fall in.
        cohort_end: Last month an index event may fall in (inclusive).
        horizon_end: Last month observed (inclusive).
        extension_months: The follow-up extension of the offence-dated kinds.

    Returns:
        ``{group: {proxy: share}}`` for every group of the stratum (NaN when empty).
    """
    rec = _sorted(records)
    index = _index_events(rec, cohort_start, cohort_end)
    groups = _group_names(by)
    out: dict = {g: {} for g in groups}
    for kind in ALL_KINDS:
        ext = _extension(kind, extension_months)
        time = _time_to_event(rec, index, kind, horizon_end, ext)
        for y in YEARS:
            shares = _prevalence(index, time, y, horizon_end, ext, by, rec)
            for g in groups:
                out[g][f"{kind}_{y}y"] = shares[g]
    return out


def survival_curve(records: Records, kind: str, cohort_start: int, cohort_end: int,
                   horizon_end: int, max_months: int = 84,
                   extension_months: int = REGISTRATION_EXTENSION_MONTHS) -> pd.DataFrame:
    """Kaplan-Meier curve of the months from the index to the first event of ``kind``.

    For the offence-dated kinds the event time is the month of the first counted
    offence (or, for a case registered more than ``extension_months`` after its
    offence, its registration month minus the extension: the first window whose
    cut-off it makes); every offender with an index event in the cohort contributes,
    censored at ``horizon_end - extension_months`` (observed through that month,
    with its cases registered by ``horizon_end``). For the registration-dated kinds
    the event time is the registration month, censored at ``horizon_end``. Ties:
    events before censoring. ``1 - survival`` at ``12 * years`` equals
    :func:`recidivism_prevalence` where nobody is censored before.

    Args:
        records: One replication's records.
        kind: One of :data:`ALL_KINDS`.
        cohort_start: First month an index event may fall in.
        cohort_end: Last month an index event may fall in (inclusive).
        horizon_end: Last month observed (inclusive).
        max_months: Last month since the index reported.
        extension_months: The follow-up extension of the offence-dated kinds.

    Returns:
        Columns ``month`` (0..max_months since the index), ``at_risk`` (offenders
        observed and event-free at the start of that month), ``events`` (first
        events in it) and ``survival`` (share still event-free at its end; NaN once
        nobody is at risk).
    """
    _check_kind(kind)
    ext = _extension(kind, extension_months)
    rec = _sorted(records)
    index = _index_events(rec, cohort_start, cohort_end)
    time = _time_to_event(rec, index, kind, horizon_end, ext)
    censor = horizon_end - ext - index.month
    keep = censor >= 0
    time, censor = time[keep], censor[keep]
    event = np.nan_to_num(time, nan=np.inf) <= censor
    observed = np.where(event, time, censor).astype(np.int64)
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


def cohort_table(records: Records, cohort_start: int, cohort_end: int, horizon_end: int,
                 extension_months: int = REGISTRATION_EXTENSION_MONTHS) -> pd.DataFrame:
    """One row per index offender: its strata, follow-up and time to each kind.

    Filter it by any combination of strata and read a prevalence off it with
    :func:`cohort_prevalence` (what :mod:`chainsim.analysis.validation` does).

    Args:
        records: One replication's records.
        cohort_start: First month an index event may fall in.
        cohort_end: Last month an index event may fall in (inclusive).
        horizon_end: Last month observed (inclusive).
        extension_months: The follow-up extension of the offence-dated kinds.

    Returns:
        Columns ``agent_id``, ``index_month``, the strata of :data:`COHORT_STRATA`
        (``probation`` a bool, the others categorical), ``followup`` (the longest
        window, in months, the offence-dated kinds are fully followed for:
        ``horizon_end - extension_months - index_month``), ``followup_registered``
        (the same for the registration-dated kinds: ``horizon_end - index_month``)
        and ``time_<kind>`` for every kind of :data:`ALL_KINDS` (months to the first
        event, as :func:`survival_curve` reads it; NaN: none by ``horizon_end``).
        ``attrs`` holds the cohort, horizon and extension.
    """
    _check_extension(extension_months)
    rec = _sorted(records)
    index = _index_events(rec, cohort_start, cohort_end)
    cols: dict = {"agent_id": index.agent, "index_month": index.month}
    for name in COHORT_STRATA:
        codes, groups = _labels(rec, index, name)
        if name == "probation":
            cols[name] = codes.astype(bool)
        else:
            cols[name] = pd.Categorical.from_codes(codes, categories=list(groups))
    cols["followup"] = horizon_end - extension_months - index.month
    cols["followup_registered"] = horizon_end - index.month
    for kind in ALL_KINDS:
        ext = _extension(kind, extension_months)
        cols[f"time_{kind}"] = _time_to_event(rec, index, kind, horizon_end, ext)
    table = pd.DataFrame(cols)
    table.attrs.update(cohort=(cohort_start, cohort_end), horizon_end=horizon_end,
                       extension_months=extension_months)
    return table


def cohort_counts(table: pd.DataFrame, proxy: str,
                  where: Mapping[str, object] | None = None) -> tuple[int, int]:
    """Recidivists and eligible index offenders of a proxy among a cohort's filtered rows.

    Args:
        table: A :func:`cohort_table`.
        proxy: ``<kind>_<years>y`` with a kind of :data:`ALL_KINDS` (e.g.
            ``observed_general_2y``; any whole number of years).
        where: ``{stratum: group or list of groups}`` over :data:`COHORT_STRATA`
            (rows in every one of them); ``None``: all rows.

    Returns:
        ``(recidivists, eligible)``: eligible rows have full follow-up for the window.
    """
    kind, window = parse_proxy(proxy)
    rows = cohort_filter(table, where)
    followup = table["followup_registered" if kind in SECONDARY_KINDS else "followup"]
    eligible = rows & (followup.to_numpy() >= window)
    hit = np.nan_to_num(table[f"time_{kind}"].to_numpy(dtype=float), nan=np.inf) <= window
    return int((eligible & hit).sum()), int(eligible.sum())


def cohort_prevalence(table: pd.DataFrame, proxy: str,
                      where: Mapping[str, object] | None = None) -> float:
    """A proxy's prevalence among a cohort's filtered rows (see :func:`cohort_counts`).

    Returns:
        The share, NaN without eligible rows. Equal to :func:`recidivism_prevalence`
        over the same records, cohort and extension (and ``by`` for one stratum).
    """
    hits, n = cohort_counts(table, proxy, where)
    return hits / n if n else float("nan")


def cohort_filter(table: pd.DataFrame, where: Mapping[str, object] | None) -> np.ndarray:
    """Mask of a :func:`cohort_table`'s rows in every ``{stratum: group(s)}`` of ``where``.

    Raises:
        ValueError: An unknown stratum or group.
    """
    mask = np.ones(len(table), dtype=bool)
    for name, value in (where or {}).items():
        if name not in COHORT_STRATA:
            raise ValueError(f"a filter must be one of {COHORT_STRATA}, got {name!r}")
        allowed = stratum_groups(name)
        values = list(value) if isinstance(value, list | tuple) else [value]
        bad = [v for v in values if v not in allowed]
        if bad:
            raise ValueError(f"{name} groups are {list(allowed)}, got {bad}")
        mask &= table[name].isin(values).to_numpy()
    return mask


def stratum_groups(name: str) -> tuple:
    """The groups of a stratum of :data:`COHORT_STRATA` (``by`` and cohort filters)."""
    if name == "probation":
        return (False, True)
    if name == "sanction":
        return SANCTIONS
    if name in ("age_at_index", "age_at_offence"):
        return AGE_BANDS
    if name in COHORT_STRATA:
        return CATEGORIES[name]
    raise ValueError(f"a stratum must be one of {COHORT_STRATA}, got {name!r}")


def parse_proxy(proxy: str) -> tuple[str, int]:
    """A proxy's kind and window in months (``observed_general_2y``: ``observed_general``, 24).

    Raises:
        ValueError: Not ``<kind>_<years>y`` with a kind of :data:`ALL_KINDS`.
    """
    kind, _, years = proxy.rpartition("_")
    if kind not in ALL_KINDS or not (years.endswith("y") and years[:-1].isdigit()
                                     and int(years[:-1]) > 0):
        raise ValueError(f"a proxy is <kind>_<years>y with a kind of {ALL_KINDS}, "
                         f"got {proxy!r}")
    return kind, 12 * int(years[:-1])


# ------------------------------------------------------------------ harm proxies


def active_offender_months(records: Records, start_month: int, end_month: int) -> float:
    """Offender-months offending (:data:`ACTIVE_STAGES`) within ``[start_month, end_month]``.

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
        Person-months offending (:data:`ACTIVE_STAGES`) after a first release or sanction.
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

    def values_at(self, name: str, positions: np.ndarray) -> np.ndarray:
        """A numeric column's values at sorted positions."""
        return self.arrays.values(name)[self._order[positions]]

    @property
    def agent_end(self) -> np.ndarray:
        """Per sorted row: the position after its offender's last row."""
        if "agent_end" not in self.memo:
            n = len(self.agent)
            first = np.flatnonzero(np.concatenate(([True], self.agent[1:] != self.agent[:-1]))
                                   ) if n else np.zeros(0, dtype=np.int64)
            ends = np.append(first[1:], n)
            run = np.repeat(np.arange(len(first)), np.diff(np.append(first, n)))
            self.memo["agent_end"] = ends[run]
        return self.memo["agent_end"]

    @property
    def spell_start(self) -> np.ndarray:
        """Per sorted row: the position of its offender's latest spell start at or before it.

        ``-1`` where the offender has none up to that row (a table that starts in the
        middle of a history).
        """
        if "spell_start" not in self.memo:
            n = len(self.agent)
            pos = np.where(self.is_event(SPELL_STARTS), np.arange(n), -1)
            last = np.maximum.accumulate(pos) if n else pos
            first = np.concatenate(([True], self.agent[1:] != self.agent[:-1])) if n else pos
            run_first = np.maximum.accumulate(np.where(first, np.arange(n), 0)) if n else pos
            self.memo["spell_start"] = np.where(last >= run_first, last, -1)
        return self.memo["spell_start"]

    @property
    def offence_month(self) -> np.ndarray:
        """Per sorted row: the month its offending spell started (its own month if unknown)."""
        if "offence_month" not in self.memo:
            start = self.spell_start
            self.memo["offence_month"] = np.where(start >= 0, self.month[np.maximum(start, 0)],
                                                  self.month)
        return self.memo["offence_month"]


def _sorted(records: Records) -> _Sorted:
    rec = RecordArrays.of(records)
    if "recidivism" not in rec.cache:
        rec.cache["recidivism"] = _Sorted(rec)
    return rec.cache["recidivism"]


def _check_kind(kind: str) -> None:
    if kind not in ALL_KINDS:
        raise ValueError(f"kind must be one of {ALL_KINDS}, got {kind!r}")


def _check_extension(extension_months: int) -> None:
    if isinstance(extension_months, bool) or not isinstance(extension_months, int | np.integer) \
            or extension_months < 0:
        raise ValueError(f"extension_months must be a whole number >= 0, got "
                         f"{extension_months!r}")


def _extension(kind: str, extension_months: int) -> int:
    """The extension a kind uses: none for the registration-dated kinds."""
    _check_extension(extension_months)
    return 0 if kind in SECONDARY_KINDS else int(extension_months)


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


def _events(rec: _Sorted, kind: str, horizon_end: int
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A kind's event rows by ``horizon_end``: sorted positions, offence and registration months."""
    if kind == "true":
        mask = rec.is_event(TRUE_EVENTS)
        cases = np.zeros_like(mask)
    else:
        cases = _counted_registrations(rec, horizon_end)
        mask = cases | rec.is_event(GENERAL_CASES) if kind.endswith("general") else cases
    pos = np.flatnonzero(mask & (rec.month <= horizon_end))
    registered = rec.month[pos]
    if kind in KINDS:  # offence-dated: a trafficking case at the start of its spell
        offence = np.where(cases[pos], rec.offence_month[pos], registered)
    else:
        offence = registered
    return pos, offence, registered


def _time_to_event(rec: _Sorted, index: _Index, kind: str, horizon_end: int,
                   ext: int) -> np.ndarray:
    """Months from each index to the shortest window it counts as a recidivist in (NaN: none).

    An event counts for a window of ``w`` months if its offence lies in ``index + 1 ..
    index + w`` and it is registered by ``index + w + ext``: from ``w = max(offence,
    registration - ext) - index`` on. The time is the least of these over the
    offender's events after the index row (an event before it has its offence, and
    so its registration, at or before the index month).
    """
    key = ("time", kind, horizon_end, index.cohort, ext)
    if key in rec.memo:
        return rec.memo[key]
    pos, offence, registered = _events(rec, kind, horizon_end)
    # each index with each of its offender's events after it (rows are grouped by offender)
    first = np.searchsorted(pos, index.pos, side="right")
    count = np.searchsorted(pos, rec.agent_end[index.pos], side="left") - first
    owner = np.repeat(np.arange(len(index)), count)
    starts = np.cumsum(count) - count
    ev = np.arange(int(count.sum())) - np.repeat(starts - first, count)
    month = index.month[owner]
    t = np.maximum(offence[ev], registered[ev] - ext) - month
    t = np.where(offence[ev] > month, t, np.iinfo(np.int64).max)
    time = np.full(len(index), np.nan)
    some = count > 0
    if some.any():
        best = np.minimum.reduceat(t, starts[some])
        time[some] = np.where(best < np.iinfo(np.int64).max, best, np.nan)
    rec.memo[key] = time
    return time


def _group_names(by: str) -> list:
    if by not in BY:
        raise ValueError(f"by must be None or one of {BY}, got {by!r}")
    return list(stratum_groups(by))


def _labels(rec: _Sorted, index: _Index, name: str) -> tuple[np.ndarray, tuple]:
    """Each index's group code (position in :func:`stratum_groups`; -1: unknown)."""
    groups = stratum_groups(name)
    if name == "probation":
        return _supervised(rec, index).astype(np.int8), groups
    if name == "sanction":
        released = np.isin(rec.event[index.pos], rec.codes(("released",)))
        return np.where(released, 0, 1).astype(np.int8), groups
    if name in ("age_at_index", "age_at_offence"):
        pos = index.pos
        if name == "age_at_offence":
            start = rec.spell_start[pos]
            pos = np.where(start >= 0, start, pos)
        age = rec.values_at("age", pos)
        return np.searchsorted(_AGE_EDGES, age, side="right").astype(np.int8), groups
    codes, cats = rec.codes_at(name, index.pos)
    # the data's categories in the order of the stratum's groups (-1: missing or other)
    remap = np.array([groups.index(c) if c in groups else -1 for c in cats] + [-1],
                     dtype=np.int8)
    return remap[codes], groups


def _prevalence(index: _Index, time: np.ndarray, years: float, horizon_end: int, ext: int,
                by: str | None, rec: _Sorted) -> float | dict:
    window = round(12 * years)
    eligible = index.month + window + ext <= horizon_end
    hit = np.nan_to_num(time, nan=np.inf) <= window
    if by is None:
        return _share(hit[eligible])
    groups = _group_names(by)
    labels, _ = _labels(rec, index, by)
    return {g: _share(hit[eligible & (labels == c)]) for c, g in enumerate(groups)}


def _share(hits: np.ndarray) -> float:
    return float(hits.mean()) if len(hits) else float("nan")

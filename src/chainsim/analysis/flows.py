"""Annual flows and chain metrics from the event records.

A *metric* is a yearly number per replication: a count of events, a mean, or a
share. The counts are the chain table's flow metrics (:data:`chainsim.chain.FLOW_METRICS`),
each counting the events of the branches that name it:

- ``signalled``: suspects signalled to the police (``signalled``)
- ``traced``: police investigations ending in registration at the OM (``traced``)
- ``summoned``: OM summonses, at liberty or detained (``summoned``, ``summoned_detained``)
- ``technical_dismissals``, ``policy_dismissals``: OM dismissals
- ``appealed``: first-instance convictions appealed (``appealed``, ``appealed_detained``)
- ``convicted``, ``acquitted``: final judgments (first instance not appealed, or on appeal)
- ``prison``: (partly) unconditional prison sentences imposed
- ``probation``: probation supervisions started

and, derived from them:

- ``prison_months``: mean length (months) of the prison sentences imposed
- ``technical_dismissal_share``: technical dismissals / all OM decisions
- ``before_judge_share``: summoned / traced (the source's "before a judge" ratio)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from chainsim import chain
from chainsim.engines.records import RecordArrays

COUNT_METRICS: dict[str, tuple[str, ...]] = {
    m.name: chain.metric_events(m.name) for m in chain.FLOW_METRICS}
"""Counted metrics and their events, in chain order (from the chain table)."""

OM_DECISIONS: tuple[str, ...] = tuple(b.event for b in chain.STEP["prosecution"].branches)
"""Every OM decision (the prosecution step's branches)."""
RATIO_METRICS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "technical_dismissal_share": (("technical_dismissal",), OM_DECISIONS),
    "before_judge_share": (COUNT_METRICS["summoned"], COUNT_METRICS["traced"]),
}
"""Shares: (numerator events, denominator events), pooled over the period."""

METRICS: tuple[str, ...] = (*COUNT_METRICS, "prison_months", *RATIO_METRICS)
"""Every metric of ``window_mean`` and ``by_year``, in report order."""

CHAIN_ENTRY_EVENTS: tuple[str, ...] = tuple(dict.fromkeys(
    b.event for step in chain.STEPS for b in step.branches if b.then == "prosecution"))
"""Events that put an offender 'in the chain' for the mix shares (registration at the OM)."""

SHARES: tuple[str, ...] = ("form_domestic_sexual", "form_cross_border_sexual", "form_labour",
                           "form_criminal", "form_other", "under23_domestic_sexual",
                           "under23_criminal", "female")
"""Mix shares over the window, among offenders registered at the OM."""

WINDOW = (2015, 2019)
"""The Dadermonitor's reporting window (inclusive years)."""


Records = pd.DataFrame | RecordArrays
"""A replication's record table, or its :class:`chainsim.engines.records.RecordArrays`."""


def with_year(records: pd.DataFrame) -> pd.DataFrame:
    """The records with a ``year`` column added."""
    return records.assign(year=(records["month"] // 12).astype(np.int32))


@dataclass(frozen=True)
class _YearCounts:
    """Events per (year, event code) over the years the records cover, and sentences."""

    first: int
    counts: np.ndarray  # (years, event codes)
    prison_sum: np.ndarray  # per year: sum of the prison sentences' months (NaN skipped)
    prison_n: np.ndarray  # per year: number of prison sentences with a value

    def rows(self, years: range) -> np.ndarray:
        """Positions of ``years`` in the tables (-1 for years the records do not cover)."""
        pos = np.asarray(list(years), dtype=np.int64) - self.first
        return np.where((pos >= 0) & (pos < len(self.counts)), pos, -1)

    def take(self, table: np.ndarray, years: range) -> np.ndarray:
        """Rows of ``table`` for ``years``, zero for years not covered."""
        pad = np.concatenate([table, np.zeros((1, *table.shape[1:]), dtype=table.dtype)])
        return pad[self.rows(years)]


def _year_counts(rec: RecordArrays) -> _YearCounts:
    if "year_counts" not in rec.cache:
        n_events = len(rec.event_names)
        year = rec.month // 12
        ok = rec.event >= 0
        first = int(year.min()) if len(year) else 0
        n_years = int(year.max()) - first + 1 if len(year) else 0
        cell = (year - first) * n_events + rec.event
        counts = np.bincount(cell[ok], minlength=n_years * n_events).reshape(n_years, n_events)
        prison = rec.is_event(("prison",))
        value = rec.values("value")[prison].astype(np.float64)
        valid = ~np.isnan(value)
        y = (year[prison] - first)[valid]
        rec.cache["year_counts"] = _YearCounts(
            first, counts, np.bincount(y, weights=value[valid], minlength=n_years),
            np.bincount(y, minlength=n_years))
    return rec.cache["year_counts"]


def _mean_months(total: np.ndarray, n: np.ndarray, single: bool = False) -> np.ndarray:
    """Mean sentence months from sums (taken in float64: exact for whole months); NaN if none.

    ``single``: rounded to float32, the precision of the ``value`` column (a plain
    mean of the column's values is computed in it).
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / n
    if single:
        mean = np.asarray(mean).astype(np.float32).astype(np.float64)
    return np.where(n > 0, mean, np.nan)


def event_counts(records: Records, years: range) -> pd.DataFrame:
    """Counts of every event per year (rows: years, columns: event names)."""
    rec = RecordArrays.of(records)
    yc = _year_counts(rec)
    seen = np.flatnonzero(yc.counts.sum(axis=0) > 0)
    order = sorted(seen.tolist(), key=lambda code: rec.event_names[code])
    counts = yc.take(yc.counts, years)[:, order].astype(np.int64)
    return pd.DataFrame(counts, index=pd.Index(list(years), name="year", dtype=np.int64),
                        columns=pd.Index([rec.event_names[c] for c in order], name="event"))


def _totals(rec: RecordArrays, counts: np.ndarray, events: tuple[str, ...]) -> np.ndarray:
    """Sum of the ``counts`` columns (event codes) of ``events``, as float."""
    return counts[..., rec.codes(events)].sum(axis=-1).astype(np.float64)


def annual_metrics(records: Records, years: range) -> pd.DataFrame:
    """Every metric per year for one replication (rows: years, columns: metrics)."""
    rec = RecordArrays.of(records)
    yc = _year_counts(rec)
    counts = yc.take(yc.counts, years)
    out = {name: _totals(rec, counts, events) for name, events in COUNT_METRICS.items()}
    out["prison_months"] = _mean_months(yc.take(yc.prison_sum, years),
                                        yc.take(yc.prison_n, years))
    for name, (num, den) in RATIO_METRICS.items():
        n, d = _totals(rec, counts, num), _totals(rec, counts, den)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[name] = np.where(d != 0, n / d, np.nan)
    return pd.DataFrame({name: out[name] for name in METRICS},
                        index=pd.Index(list(years), name="year", dtype=np.int64))


def window_metrics(records: Records, window: tuple[int, int] = WINDOW,
                   simulated: tuple[int, int] | None = None) -> dict[str, float]:
    """Per-year average of every metric over the window, for one replication.

    Counts are averaged over the window's years that were simulated (all NaN if
    none was); ``prison_months`` is the mean over all sentences in the window;
    shares are pooled (window totals divided).

    Args:
        records: One replication's records.
        window: First and last calendar year.
        simulated: First and last calendar year the run covers (default: the window).
    """
    if simulated is not None:
        window = (max(window[0], simulated[0]), min(window[1], simulated[1]))
    if window[1] < window[0]:
        return dict.fromkeys(METRICS, float("nan"))
    rec = RecordArrays.of(records)
    yc = _year_counts(rec)
    years = range(window[0], window[1] + 1)
    counts = yc.take(yc.counts, years)
    out = {name: float(_totals(rec, counts, events).mean())
           for name, events in COUNT_METRICS.items()}
    out["prison_months"] = float(_mean_months(yc.take(yc.prison_sum, years).sum(),
                                              yc.take(yc.prison_n, years).sum(), single=True))
    total = counts.sum(axis=0)
    for name, (num, den) in RATIO_METRICS.items():
        out[name] = safe_ratio(float(_totals(rec, total, num)), float(_totals(rec, total, den)))
    return out


def mix_shares(records: Records, window: tuple[int, int] = WINDOW) -> dict[str, float]:
    """Offender mix among registrations at the OM in the window, for one replication."""
    rec = RecordArrays.of(records)
    year = rec.month // 12
    entries = (year >= window[0]) & (year <= window[1]) & rec.is_event(CHAIN_ENTRY_EVENTS)
    n = int(entries.sum())
    form, forms = rec.column_codes("form")
    age_group, groups = rec.column_codes("age_group")
    sex, sexes = rec.column_codes("sex")

    def code(names: tuple, name: str) -> int:
        return names.index(name) if name in names else -2  # -2 matches no row

    form_e = form[entries]
    out = {f"form_{f}": safe_ratio(float((form_e == code(forms, f)).sum()), n)
           for f in ("domestic_sexual", "cross_border_sexual", "labour", "criminal", "other")}
    young = age_group[entries] == code(groups, "under23")
    for f in ("domestic_sexual", "criminal"):
        sub = form_e == code(forms, f)
        out[f"under23_{f}"] = safe_ratio(float((young & sub).sum()), int(sub.sum()))
    out["female"] = safe_ratio(float((sex[entries] == code(sexes, "female")).sum()), n)
    return out


def flow_table(records: Records, years: range) -> pd.DataFrame:
    """Annual flows by event, form and age group.

    Long format: columns ``year``, ``event``, ``form``, ``age_group``, ``count``
    (only the combinations that occur, ordered by year, then the categories' order).
    """
    rec = RecordArrays.of(records)
    frame = rec.frame
    year = rec.month // 12
    form, forms = rec.column_codes("form")
    group, groups = rec.column_codes("age_group")
    n_e, n_f, n_g = len(rec.event_names), len(forms), len(groups)
    wanted = np.asarray(list(years), dtype=np.int64)
    keep = np.isin(year, wanted) & (rec.event >= 0) & (form >= 0) & (group >= 0)
    first = int(wanted.min()) if len(wanted) else 0
    key = (((year[keep] - first) * n_e + rec.event[keep]) * n_f + form[keep]) * n_g + group[keep]
    cells, count = np.unique(key, return_counts=True)
    rest, g = np.divmod(cells, n_g)
    rest, f = np.divmod(rest, n_f)
    y, e = np.divmod(rest, n_e)

    def categorical(codes: np.ndarray, column: str) -> pd.Categorical:
        return pd.Categorical.from_codes(codes, dtype=frame[column].dtype)

    return pd.DataFrame({
        "year": (y + first).astype(np.int32),
        "event": categorical(e, "event"),
        "form": categorical(f, "form"),
        "age_group": categorical(g, "age_group"),
        "count": count.astype(np.int64),
    })


def safe_ratio(num: float, den: float) -> float:
    """``num / den``, NaN when the denominator is 0."""
    return num / den if den else float("nan")

"""Annual flows and chain metrics from the event records.

A *metric* is a yearly number per replication: a count of events, a mean, or a
share. Definitions (the event names are :class:`chainsim.spec.Event`):

- ``signalled``: suspects signalled to the police (``signalled``)
- ``traced``: police investigations ending in registration at the OM (``traced``)
- ``summoned``: OM summonses, at liberty or detained (``summoned``, ``summoned_detained``)
- ``technical_dismissals``, ``policy_dismissals``: OM dismissals
- ``convicted``, ``acquitted``: trial outcomes
- ``prison``: (partly) unconditional prison sentences imposed
- ``probation``: probation supervisions started
- ``prison_months``: mean length (months) of the prison sentences imposed
- ``technical_dismissal_share``: technical dismissals / all OM decisions
- ``before_judge_share``: summoned / traced (the source's "before a judge" ratio)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COUNT_METRICS: dict[str, tuple[str, ...]] = {
    "signalled": ("signalled",),
    "traced": ("traced",),
    "summoned": ("summoned", "summoned_detained"),
    "technical_dismissals": ("technical_dismissal",),
    "policy_dismissals": ("policy_dismissal",),
    "convicted": ("convicted",),
    "acquitted": ("acquitted",),
    "prison": ("prison",),
    "probation": ("probation_start",),
}
OM_DECISIONS = ("summoned", "summoned_detained", "technical_dismissal", "policy_dismissal",
                "other_disposal")
RATIO_METRICS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "technical_dismissal_share": (("technical_dismissal",), OM_DECISIONS),
    "before_judge_share": (COUNT_METRICS["summoned"], COUNT_METRICS["traced"]),
}
"""Shares: (numerator events, denominator events), pooled over the period."""

METRICS: tuple[str, ...] = (*COUNT_METRICS, "prison_months", *RATIO_METRICS)
"""Every metric of ``window_mean`` and ``by_year``, in report order."""

CHAIN_ENTRY_EVENTS = ("traced", "registered_other")
"""Events that put an offender 'in the chain' for the mix shares (registration at the OM)."""

SHARES: tuple[str, ...] = ("form_domestic_sexual", "form_cross_border_sexual", "form_labour",
                           "form_criminal", "form_other", "under23_domestic_sexual",
                           "under23_criminal", "female")
"""Mix shares over the window, among offenders registered at the OM."""

WINDOW = (2015, 2019)
"""The Dadermonitor's reporting window (inclusive years)."""


def with_year(records: pd.DataFrame) -> pd.DataFrame:
    """The records with a ``year`` column added."""
    return records.assign(year=(records["month"] // 12).astype(np.int32))


def event_counts(records: pd.DataFrame, years: range) -> pd.DataFrame:
    """Counts of every event per year (rows: years, columns: event names)."""
    rec = with_year(records)
    counts = pd.crosstab(rec["year"], rec["event"].astype(str))
    return counts.reindex(index=list(years), fill_value=0)


def annual_metrics(records: pd.DataFrame, years: range) -> pd.DataFrame:
    """Every metric per year for one replication (rows: years, columns: metrics)."""
    counts = event_counts(records, years)

    def total(events):
        cols = [c for c in events if c in counts]
        return counts[cols].sum(axis=1) if cols else pd.Series(0, index=counts.index)

    out = pd.DataFrame({name: total(events) for name, events in COUNT_METRICS.items()},
                       dtype=float)
    rec = with_year(records)
    prison = rec[rec["event"] == "prison"]
    out["prison_months"] = prison.groupby("year")["value"].mean().reindex(out.index)
    for name, (num, den) in RATIO_METRICS.items():
        out[name] = _ratio(total(num), total(den))
    return out[list(METRICS)]


def window_metrics(records: pd.DataFrame, window: tuple[int, int] = WINDOW,
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
    years = range(window[0], window[1] + 1)
    yearly = annual_metrics(records, years)
    counts = event_counts(records, years).sum()
    rec = with_year(records)
    in_window = rec[rec["year"].between(*window)]
    out = {name: float(yearly[name].mean()) for name in COUNT_METRICS}
    prison = in_window.loc[in_window["event"] == "prison", "value"]
    out["prison_months"] = float(prison.mean()) if len(prison) else float("nan")
    for name, (num, den) in RATIO_METRICS.items():
        out[name] = safe_ratio(sum(float(counts.get(e, 0)) for e in num),
                               sum(float(counts.get(e, 0)) for e in den))
    return out


def mix_shares(records: pd.DataFrame, window: tuple[int, int] = WINDOW) -> dict[str, float]:
    """Offender mix among registrations at the OM in the window, for one replication."""
    rec = with_year(records)
    entries = rec[rec["year"].between(*window) & rec["event"].isin(CHAIN_ENTRY_EVENTS)]
    n = len(entries)
    form = entries["form"].astype(str)
    out = {f"form_{f}": safe_ratio(float((form == f).sum()), n)
           for f in ("domestic_sexual", "cross_border_sexual", "labour", "criminal", "other")}
    for f in ("domestic_sexual", "criminal"):
        sub = entries[form == f]
        out[f"under23_{f}"] = safe_ratio(float((sub["age_group"] == "under23").sum()), len(sub))
    out["female"] = safe_ratio(float((entries["sex"] == "female").sum()), n)
    return out


def flow_table(records: pd.DataFrame, years: range) -> pd.DataFrame:
    """Annual flows by event, form and age group.

    Long format: columns ``year``, ``event``, ``form``, ``age_group``, ``count``.
    """
    rec = with_year(records)
    rec = rec[rec["year"].isin(list(years))]
    table = (rec.groupby(["year", "event", "form", "age_group"], observed=True)
             .size().rename("count").reset_index())
    return table


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    return (num / den.replace(0, np.nan)).astype(float)


def safe_ratio(num: float, den: float) -> float:
    """``num / den``, NaN when the denominator is 0."""
    return num / den if den else float("nan")

"""Targets against model output: predictions, residuals and the loss.

One definition of every metric (:mod:`chainsim.analysis.flows`) read two ways:
from the expected-flow twin (:func:`twin_metrics`) and from agent-model
replications (:func:`replication_metrics`). A target is then scored by its kind:

- ``point`` and ``share``: ``(model - value) / sd``;
- ``range``: 0 inside ``[low, high]``, else the distance to the nearer end over ``sd``;
- ``lower_bound``: 0 at or above ``value``, else ``(value - model) / sd``.

The loss is the sum of squared residuals: each target weighted by its stated
uncertainty, ranges and bounds costing nothing where they are met.
"""

from __future__ import annotations

import numpy as np

from chainsim.analysis.flows import (
    CHAIN_ENTRY_EVENTS,
    COUNT_METRICS,
    RATIO_METRICS,
    WINDOW,
    safe_ratio,
)
from chainsim.analysis.targets import Target
from chainsim.chain.spec import FORMS, Event
from chainsim.engines.twin import CLASS_AGE_GROUP, ExpectedFlows

Key = tuple[str, str, str | None, int | None]
"""(scope, metric, form, year) of a model quantity."""


def target_key(target: Target) -> Key:
    """The model quantity a target constrains."""
    year = int(target.years) if target.scope == "by_year" else None
    return target.scope, target.metric, target.form, year


def residual(target: Target, model: float) -> float:
    """Signed, uncertainty-scaled deviation of a model value from a target (0 where met)."""
    if model is None or not np.isfinite(model):
        return float("nan")
    if target.kind in ("point", "share"):
        return (model - target.value) / target.sd
    if target.kind == "range":
        if model < target.low:
            return (model - target.low) / target.sd
        if model > target.high:
            return (model - target.high) / target.sd
        return 0.0
    return min(0.0, model - target.value) / target.sd  # lower bound


def met(target: Target, value: float, tolerance_sd: float = 1.0) -> bool:
    """Whether a model value meets a target (points within ``tolerance_sd`` sds)."""
    return bool(abs(residual(target, value)) <= tolerance_sd)


# ------------------------------------------------------------------------ twin


def _yearly_counts(ef: ExpectedFlows, events: tuple[str, ...], form: str | None = None):
    idx = [Event[e.upper()] for e in events]
    ev = ef.events[:, idx]
    if form is not None:
        ev = ev[:, :, FORMS.index(form)]
    per_month = ev.reshape(len(ev), -1).sum(axis=1)
    years = ef.params.months // 12
    return {int(y): float(per_month[years == y].sum()) for y in np.unique(years)}


def _simulated_years(ef: ExpectedFlows, window: tuple[int, int]) -> list[int]:
    """The window's years the twin run covers."""
    simulated = set((ef.params.months // 12).tolist())
    return [y for y in range(window[0], window[1] + 1) if y in simulated]


def twin_metrics(ef: ExpectedFlows, keys: list[Key], window: tuple[int, int] = WINDOW
                 ) -> dict[Key, float]:
    """Expected values of the requested quantities from a twin run.

    Ratios are ratios of expectations (counts, sums of terms), which is what a
    mean over many replications of the same ratio approaches for large counts.
    """
    years = _simulated_years(ef, window)
    out: dict[Key, float] = {}
    for key in keys:
        scope, metric, form, year = key
        if scope == "shares":
            out[key] = _twin_share(ef, metric, window)
            continue
        span = [year] if scope == "by_year" else years
        if not span:
            out[key] = float("nan")
            continue
        out[key] = _twin_metric(ef, metric, form, span)
    return out


def twin_trials(ef: ExpectedFlows, keys: list[Key], window: tuple[int, int] = WINDOW
                ) -> dict[Key, float]:
    """Expected numbers of cases the shares among ``keys`` are shares of (their denominators).

    Over the quantity's years: OM decisions for the technical-dismissal share, traced
    suspects for the share before a judge, registrations at the OM (of the form, for an
    under-23 share) for the mix. Keys of counts and means are left out.
    """
    years = _simulated_years(ef, window)
    out: dict[Key, float] = {}
    for key in keys:
        scope, metric, form, year = key
        if scope == "shares":
            yrs = ef.params.months // 12
            mask = (yrs >= window[0]) & (yrs <= window[1])
            entries = ef.events[mask][:, [Event.TRACED, Event.REGISTERED_OTHER]].sum(axis=(0, 1))
            if metric.startswith("under23_"):
                entries = entries[FORMS.index(metric.removeprefix("under23_"))]
            out[key] = float(entries.sum())
        elif metric in RATIO_METRICS:
            span = [year] if scope == "by_year" else years
            counts = _yearly_counts(ef, RATIO_METRICS[metric][1], form)
            out[key] = float(sum(counts.get(y, 0.0) for y in span))
    return out


def _twin_metric(ef: ExpectedFlows, metric: str, form: str | None, span: list[int]) -> float:
    def total(events):
        counts = _yearly_counts(ef, events, form)
        return sum(counts.get(y, 0.0) for y in span)

    if metric in COUNT_METRICS:
        return total(COUNT_METRICS[metric]) / len(span)
    if metric == "prison_months":
        years = ef.params.months // 12
        mask = np.isin(years, span)
        terms = ef.prison_terms[mask]
        count = ef.events[mask, Event.PRISON]
        if form is not None:
            terms, count = terms[:, FORMS.index(form)], count[:, FORMS.index(form)]
        return float(terms.sum() / count.sum()) if count.sum() > 0 else float("nan")
    if metric in RATIO_METRICS:
        num, den = RATIO_METRICS[metric]
        return safe_ratio(total(num), total(den))
    raise KeyError(f"unknown metric {metric!r}")


def _twin_share(ef: ExpectedFlows, share: str, window: tuple[int, int]) -> float:
    years = ef.params.months // 12
    mask = (years >= window[0]) & (years <= window[1])
    entries = ef.events[mask][:, [Event.TRACED, Event.REGISTERED_OTHER]].sum(axis=(0, 1))
    # entries: (forms, sexes, classes)
    total = entries.sum()
    if share.startswith("form_"):
        return safe_ratio(entries[FORMS.index(share.removeprefix("form_"))].sum(), total)
    if share.startswith("under23_"):
        sub = entries[FORMS.index(share.removeprefix("under23_"))]
        return safe_ratio(sub[:, CLASS_AGE_GROUP == 0].sum(), sub.sum())
    if share == "female":
        return safe_ratio(entries[:, 1].sum(), total)
    raise KeyError(f"unknown share {share!r}")


# ------------------------------------------------------------------ agent model


def replication_metrics(rep, keys: list[Key], window: tuple[int, int] = WINDOW
                        ) -> dict[Key, float]:
    """The same quantities from one agent-model replication (:class:`Replication`).

    The replication's window metrics and shares were computed over
    :data:`chainsim.analysis.flows.WINDOW`; per-form counts use ``window`` (the
    simulated years of it), so keep the default.
    """
    out: dict[Key, float] = {}
    for key in keys:
        scope, metric, form, year = key
        if scope == "shares":
            out[key] = float(rep.shares[metric])
        elif scope == "by_year":  # NaN for a year the run did not simulate (then skipped)
            out[key] = (float(rep.yearly.loc[year, metric]) if year in rep.yearly.index
                        else float("nan"))
        elif form is None:
            out[key] = float(rep.window[metric])
        else:
            fl = rep.flows
            years = [y for y in range(window[0], window[1] + 1) if y in rep.yearly.index]
            sel = (fl["form"] == form) & fl["year"].isin(years) & fl["event"].isin(
                COUNT_METRICS[metric])
            out[key] = (float(fl.loc[sel, "count"].sum()) / len(years) if years
                        else float("nan"))
    return out


def replication_trials(rep, keys: list[Key], window: tuple[int, int] = WINDOW
                       ) -> dict[Key, float]:
    """The numbers of cases of one agent-model replication's shares (:func:`twin_trials`'s).

    Over the quantity's simulated years: registrations at the OM (of the form, for an
    under-23 share) for the mix, the ratio's denominator events for the others. Keys of
    counts and means are left out.
    """
    fl = rep.flows
    years = [y for y in range(window[0], window[1] + 1) if y in rep.yearly.index]
    out: dict[Key, float] = {}
    for key in keys:
        scope, metric, form, year = key
        if scope == "shares":
            sel = fl["year"].isin(years) & fl["event"].isin(CHAIN_ENTRY_EVENTS)
            if metric.startswith("under23_"):
                sel &= fl["form"] == metric.removeprefix("under23_")
        elif metric in RATIO_METRICS:
            span = [year] if scope == "by_year" else years
            sel = fl["year"].isin(span) & fl["event"].isin(RATIO_METRICS[metric][1])
            if form is not None:
                sel &= fl["form"] == form
        else:
            continue
        out[key] = float(fl.loc[sel, "count"].sum())
    return out


def target_check(reps: list, targets: dict[str, Target], tolerance_sd: float = 1.0
                 ) -> dict[str, dict]:
    """Replications against the calibration targets: mean, 5-95 % range and whether met.

    Args:
        reps: Replications (:class:`chainsim.experiments.replications.Replication`)
            covering 2015-2019.
        targets: Name -> target (:func:`chainsim.analysis.targets.load_targets`).
        tolerance_sd: Points and shares are met within this many target sds of the mean.

    Returns:
        Name -> ``{kind, observed, sd, mean, lo, hi, residual, met}`` (``observed``
        is the value, or ``[low, high]`` for a range).
    """
    keys = [target_key(t) for t in targets.values()]
    per_rep = [replication_metrics(r, keys) for r in reps]
    out = {}
    for name, t in targets.items():
        vals = np.array([m[target_key(t)] for m in per_rep], dtype=float)
        vals = vals[~np.isnan(vals)]
        if vals.size == 0:
            continue
        mean = float(vals.mean())
        lo, hi = np.percentile(vals, [5, 95])
        res = residual(t, mean)
        out[name] = {"kind": t.kind, "observed": [t.low, t.high] if t.kind == "range"
                     else t.value, "sd": t.sd, "mean": round(mean, 4), "lo": round(float(lo), 4),
                     "hi": round(float(hi), 4), "residual": round(res, 3),
                     "met": bool(abs(res) <= tolerance_sd)}
    return out

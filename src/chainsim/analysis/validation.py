"""Validation targets: the WODC's published recidivism rates beside the model's proxies.

The validation targets of ``calibration/targets.toml`` (``[validation.*]``,
:class:`chainsim.analysis.targets.ValidationTarget`) are plausibility bounds, never
fitted. Each names a recidivism proxy (:mod:`chainsim.analysis.recidivism`) and the
index offenders it is computed over (strata of the cohort table, and for a
difference the group subtracted). Evaluating one over replications:

- per replication, the proxy's prevalence among the eligible index offenders of the
  filtered cohort (:func:`chainsim.analysis.recidivism.cohort_prevalence`; NaN if
  there are none), or the difference of two such prevalences;
- the value is the mean over the replications where it is defined, with its Monte
  Carlo standard error (standard deviation over those replications / sqrt(n));
- ``inside``: whether that mean lies in ``[low, high]`` (``None`` if undefined).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from chainsim.analysis.recidivism import (
    REGISTRATION_EXTENSION_MONTHS,
    Records,
    cohort_counts,
    cohort_table,
)
from chainsim.analysis.targets import ValidationTarget
from chainsim.chain.months import format_month

LABEL = "validation (not fitted)"
"""How the validation targets are labelled wherever they are shown."""


def target_value(cohort: pd.DataFrame, target: ValidationTarget) -> tuple[float, int, int | None]:
    """A validation target's model value in one replication.

    Args:
        cohort: The replication's :func:`chainsim.analysis.recidivism.cohort_table`.
        target: The target.

    Returns:
        ``(value, eligible, eligible_minus)``: the prevalence (or the difference of
        prevalences; NaN where a group has no eligible index offender) and the
        number of eligible index offenders behind it (and behind the subtracted
        group; ``None`` without one).
    """
    hits, n = cohort_counts(cohort, target.proxy, target.where)
    value = hits / n if n else float("nan")
    if target.minus is None:
        return value, n, None
    hits_m, n_m = cohort_counts(cohort, target.proxy, target.minus)
    return (value - hits_m / n_m if n and n_m else float("nan")), n, n_m


def evaluate_validation(reps: Sequence[pd.DataFrame | Records],
                        targets: Mapping[str, ValidationTarget],
                        cohort: tuple[int, int, int] | None = None,
                        extension_months: int = REGISTRATION_EXTENSION_MONTHS
                        ) -> dict[str, dict]:
    """The validation targets over replications: mean, Monte Carlo se, inside the bounds.

    Args:
        reps: Per replication, its cohort table
            (:func:`chainsim.analysis.recidivism.cohort_table`) or its record table
            (then ``cohort`` is needed).
        targets: Name -> target
            (:func:`chainsim.analysis.targets.load_validation_targets`).
        cohort: ``(cohort_start, cohort_end, horizon_end)`` for record tables.
        extension_months: The follow-up extension, for record tables.

    Returns:
        Name -> ``{proxy, where, minus, low, high, value, se, inside, reps,
        index_offenders, index_offenders_minus}``: ``value`` the mean over the
        replications where it is defined (``reps`` of them; ``None`` if none),
        ``se`` its Monte Carlo standard error (``None`` with fewer than two),
        ``index_offenders`` the mean number of eligible index offenders per
        replication (and of the subtracted group). JSON-ready (no NaN).
    """
    tables = [_cohort(r, cohort, extension_months) for r in reps]
    out = {}
    for name, t in targets.items():
        got = [target_value(tab, t) for tab in tables]
        values = np.array([g[0] for g in got], dtype=float)
        values = values[np.isfinite(values)]
        mean = float(values.mean()) if values.size else None
        se = float(values.std(ddof=1) / np.sqrt(values.size)) if values.size > 1 else None
        out[name] = {
            "proxy": t.proxy, "where": dict(t.where),
            "minus": dict(t.minus) if t.minus is not None else None,
            "low": t.low, "high": t.high,
            "value": _round(mean), "se": _round(se),
            "inside": None if mean is None else bool(t.low <= mean <= t.high),
            "reps": int(values.size),
            "index_offenders": _round(np.mean([g[1] for g in got])) if got else None,
            "index_offenders_minus": (_round(np.mean([g[2] for g in got]))
                                      if got and t.minus is not None else None),
        }
    return out


def validation_block(reps: Sequence[pd.DataFrame | Records],
                     targets: Mapping[str, ValidationTarget], file: str,
                     cohort: tuple[int, int, int] | None = None,
                     extension_months: int = REGISTRATION_EXTENSION_MONTHS) -> dict:
    """The ``validation`` block of a run's summary and of ``chainsim calibrate --verify``.

    Args:
        reps: As :func:`evaluate_validation`.
        targets: The validation targets.
        file: The targets file (for provenance).
        cohort: As :func:`evaluate_validation`.
        extension_months: As :func:`evaluate_validation`.

    Returns:
        ``{label, file, cohort, horizon_end, extension_months, inside, evaluated,
        total, by_target}``: the index cohort's first and last month and the end of
        the data (``YYYY-MM``), ``by_target`` from :func:`evaluate_validation`,
        ``inside`` of ``evaluated`` (those with a value) of ``total`` targets.
    """
    tables = [_cohort(r, cohort, extension_months) for r in reps]
    rows = evaluate_validation(tables, targets)
    attrs = tables[0].attrs if tables else {}
    start, end = attrs.get("cohort", cohort[:2] if cohort else (None, None))
    horizon = attrs.get("horizon_end", cohort[2] if cohort else None)
    return {
        "label": LABEL, "file": file,
        "cohort": [_month(start), _month(end)], "horizon_end": _month(horizon),
        "extension_months": attrs.get("extension_months", extension_months),
        "inside": sum(bool(r["inside"]) for r in rows.values()),
        "evaluated": sum(r["value"] is not None for r in rows.values()),
        "total": len(rows),
        "by_target": rows,
    }


def _cohort(rep, cohort: tuple[int, int, int] | None, extension_months: int) -> pd.DataFrame:
    """A replication's cohort table (given, or made from its records)."""
    if isinstance(rep, pd.DataFrame) and "time_true" in rep.columns:
        return rep
    if cohort is None:
        raise ValueError("record tables need cohort=(cohort_start, cohort_end, horizon_end)")
    return cohort_table(rep, *cohort, extension_months=extension_months)


def _month(m: int | None) -> str | None:
    return None if m is None else format_month(int(m))


def _round(x: float | None) -> float | None:
    return None if x is None or not np.isfinite(x) else float(round(float(x), 6))

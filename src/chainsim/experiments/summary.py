"""The summary document of a run (``summary.json`` and ``chainsim run --json``).

Keys are stable (documented in the README); later versions add keys, never rename.
"""

from __future__ import annotations

import math
import platform
from importlib import metadata

import numpy as np

from chainsim.analysis.flows import METRICS, SHARES, WINDOW
from chainsim.experiments.replications import RunResult

INTERVAL = (5.0, 95.0)
"""Percentiles of the replications reported as ``lo`` and ``hi``."""


def versions() -> dict[str, str]:
    """Versions of chainsim, Python and the libraries that shape the numbers."""
    out = {"python": platform.python_version()}
    for pkg in ("chainsim", "mesa", "numpy", "scipy", "pandas"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:  # pragma: no cover - always installed
            out[pkg] = "unknown"
    return out


def describe(values) -> dict[str, float | None]:
    """``{mean, lo, hi}`` over replications (NaNs ignored; ``None`` if none left)."""
    arr = np.asarray(list(values), dtype=float)
    arr = arr[~np.isnan(arr)]
    if arr.size == 0:
        return {"mean": None, "lo": None, "hi": None}
    lo, hi = np.percentile(arr, INTERVAL)
    return {"mean": _r(arr.mean()), "lo": _r(lo), "hi": _r(hi)}


def _r(x: float) -> float:
    return float(round(float(x), 6)) if math.isfinite(x) else None


def _recidivism(reps) -> dict:
    first = reps[0].recidivism
    out: dict = {"cohort": [f"{WINDOW[0]}-01", f"{WINDOW[1]}-12"],
                 "overall": {p: describe(r.recidivism["overall"][p] for r in reps)
                             for p in first["overall"]}}
    for by in ("by_form", "by_age_group", "by_probation", "by_sanction"):
        if by not in first:  # results made before the stratum existed
            continue
        out[by] = {str(group): {p: describe(r.recidivism[by][group][p] for r in reps)
                                for p in first[by][group]}
                   for group in first[by]}
    return out


def summary_document(result: RunResult) -> dict:
    """The summary of a run as a JSON-ready dict.

    Keys: ``scenario``, ``config_hash``, ``seed``, ``reps``, ``engine``,
    ``uncertainty``, ``versions``, ``window``, ``window_mean``, ``by_year``,
    ``shares``, ``recidivism`` (the 2015-2019 release cohort: ``overall``,
    ``by_form``, ``by_age_group``, ``by_probation``, ``by_sanction``, each
    ``{proxy: {mean, lo, hi}}``; the proxies of
    :data:`chainsim.analysis.recidivism.PROXIES` and ``SECONDARY_PROXIES``),
    ``unknowns`` (the sampled values, with ``--uncertainty``), and ``targets``
    (when the run covers 2015-2019: each calibration target of
    ``calibration/targets.toml`` with the run's mean, 5-95 % range, residual in
    target sds and ``met``; plus ``met`` and ``total`` counts), and ``validation``
    (the validation targets of that file, never fitted: each with the run's mean over
    replications, its Monte Carlo ``se``, the bounds and ``inside``; see
    :func:`chainsim.analysis.validation.validation_block`).
    """
    reps = result.reps
    yearly = result.yearly()
    by_year = {
        str(year): {m: describe(group[m]) for m in METRICS}
        for year, group in yearly.groupby("year", sort=True)
    }
    return {
        "scenario": result.scenario.name,
        "config_hash": result.scenario.config_hash(),
        "seed": result.seed,
        "reps": len(reps),
        "engine": result.engine,
        "uncertainty": result.uncertainty,
        "versions": versions(),
        "window": [2015, 2019],
        "window_mean": {m: describe(r.window[m] for r in reps) for m in METRICS},
        "by_year": by_year,
        "shares": {s: describe(r.shares[s] for r in reps) for s in SHARES},
        "recidivism": _recidivism(reps),
        "unknowns": {k: describe(r.draws[k] for r in reps)
                     for k in sorted(reps[0].draws)} if result.uncertainty else {},
        "targets": _targets(result),
        "validation": _validation(result),
    }


def _targets(result: RunResult) -> dict:
    from chainsim.analysis.targets import DEFAULT_TARGETS, load_targets

    years = result.params.years
    if not DEFAULT_TARGETS.exists() or WINDOW[0] not in years or WINDOW[1] not in years:
        return {}
    from chainsim.analysis.fit import target_check

    rows = target_check(result.reps, load_targets(DEFAULT_TARGETS))
    return {"file": "calibration/targets.toml", "tolerance_sd": 1.0,
            "met": sum(r["met"] for r in rows.values()), "total": len(rows), "by_target": rows}


def _validation(result: RunResult) -> dict:
    from chainsim.analysis.targets import DEFAULT_TARGETS, load_validation_targets

    tables = [r.recidivism["cohort"] for r in result.reps
              if r.recidivism is not None and "cohort" in r.recidivism]
    if not DEFAULT_TARGETS.exists() or not tables:
        return {}
    targets = load_validation_targets(DEFAULT_TARGETS)
    if not targets:
        return {}
    from chainsim.analysis.validation import validation_block

    return validation_block(tables, targets, "calibration/targets.toml")

"""Global sensitivity of a sweep's outcomes: Sobol indices and what would change the answer.

Outcomes: the baseline arm's level of a proxy (e.g. ``active_offender_months``)
and, for each other arm, its paired delta (``delta:more_probation:recid_true_2y``:
arm minus baseline, replication by replication). Each design point's value is the
mean over its replications.

- **Sobol indices** (SALib, Saltelli/Jansen estimators on the Sobol sample):
  first-order ``S1`` (the share of the outcome's variance the factor explains
  alone) and total ``ST`` (alone and with others), each with a 95 % bootstrap
  confidence interval. Replication noise acts as an extra, unlisted factor; the
  ``noise_share`` column estimates the part of the outcome's variance across
  points that is Monte Carlo noise of the point means (the within-point variance
  of the replications over their number, relative to the total), so a large
  value says "run more replications before reading small indices".
- **What would change the answer**: the arms (baseline included, at delta 0) are
  ranked by each outcome's mean delta over the design. For each factor, the
  points whose value lies in the lowest and in the highest fifth of its range are
  averaged; a pair of arms whose order there is reversed with 95 % confidence
  means that factor, across its range, can reverse the answer (see
  :func:`ranking_table`). The table also gives the ranking at the centre (every
  factor at its central value) and the share of all points whose lowest-delta arm
  differs (all factors moving together).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from chainsim.chain.errors import InputError
from chainsim.files import write_csv, write_figure, write_json

CONFIDENCE = 0.95
RESAMPLES = 1000
TAIL = 0.2
"""The fifth of a factor's range at each end, used for the ranking table."""


def point_means(frame: pd.DataFrame, arms: list[str], outcomes: list[str]) -> pd.DataFrame:
    """Per design point: the baseline's mean level and each arm's mean paired delta.

    Args:
        frame: A sweep's results (one row per point, replication and arm).
        arms: Arm names in arm order (the baseline first).
        outcomes: Proxies to use.

    Returns:
        Rows: points (sorted); columns: ``OUTCOME`` for the baseline level and
        ``delta:ARM:OUTCOME`` for the other arms.
    """
    by_arm = [frame[frame["arm"] == a].set_index(["point", "rep"]).sort_index()
              for a in range(len(arms))]
    base = by_arm[0]
    cols = {}
    for outcome in outcomes:
        cols[outcome] = base[outcome].groupby(level="point").mean()
        for name, arm in zip(arms[1:], by_arm[1:], strict=True):
            cols[f"delta:{name}:{outcome}"] = (arm[outcome] - base[outcome]).groupby(
                level="point").mean()
    return pd.DataFrame(cols)


def noise_share(frame: pd.DataFrame, column: str, arms: list[str]) -> float:
    """Share of a point-mean outcome's variance that is replication noise (see module doc)."""
    base = frame[frame["arm"] == 0].set_index(["point", "rep"]).sort_index()
    if column.startswith("delta:"):
        _, name, outcome = column.split(":", 2)
        arm = frame[frame["arm"] == arms.index(name)].set_index(["point", "rep"]).sort_index()
        values = arm[outcome] - base[outcome]
    else:
        values = base[column]
    values = values[values.index.get_level_values("point") > 0]
    per_point = values.groupby(level="point")
    reps = per_point.size().mean()
    if reps < 2:
        return float("nan")
    within = per_point.var(ddof=1).mean() / reps
    total = per_point.mean().var(ddof=1)
    if not total > 0:
        return float("nan")
    return float(min(1.0, within / total))


def sobol_indices(means: pd.DataFrame, problem: dict, seed: int = 0) -> pd.DataFrame:
    """First-order and total Sobol indices with 95 % CIs for every column of ``means``.

    Args:
        means: Point means (point 0, the centre, is left out; points 1.. are the
            Sobol sample in SALib's order).
        problem: SALib problem (``num_vars``, ``names``, ``bounds``).
        seed: Seed of the bootstrap.

    Returns:
        Rows per outcome and factor: ``S1``, ``S1_lo``, ``S1_hi``, ``ST``,
        ``ST_lo``, ``ST_hi``. Outcomes with missing values or no variance are
        reported with NaN indices and a ``note``.
    """
    from SALib.analyze import sobol

    sample = means.loc[means.index > 0]
    rows = []
    for column in sample.columns:
        y = sample[column].to_numpy(dtype=float)
        note = ""
        if np.isnan(y).any():
            note = "undefined at some points (e.g. no release cohort)"
        elif not np.ptp(y) > 0:
            note = "does not vary across the design"
        if note:
            for name in problem["names"]:
                rows.append({"outcome": column, "factor": name, "note": note})
            continue
        res = sobol.analyze(problem, y, calc_second_order=False, num_resamples=RESAMPLES,
                            conf_level=CONFIDENCE, seed=seed)
        for j, name in enumerate(problem["names"]):
            s1, s1c = float(res["S1"][j]), float(res["S1_conf"][j])
            st, stc = float(res["ST"][j]), float(res["ST_conf"][j])
            rows.append({"outcome": column, "factor": name, "S1": s1, "S1_lo": s1 - s1c,
                         "S1_hi": s1 + s1c, "ST": st, "ST_lo": st - stc, "ST_hi": st + stc,
                         "note": ""})
    return pd.DataFrame(rows)


def _ranking(deltas: pd.Series) -> list[str]:
    return list(deltas.sort_values(kind="stable").index)


def _reversed_pairs(table: pd.DataFrame, reference: list[str], z: float) -> list[str]:
    """Pairs of ``reference`` (``A < B``) whose order the rows of ``table`` reverse.

    A pair counts when the mean ``B - A`` over the rows is negative with a one-sided
    interval of ``z`` standard errors (over the points) that excludes 0.
    """
    out = []
    n = len(table)
    if n < 2:
        return out
    for i, a in enumerate(reference):
        for b in reference[i + 1:]:
            diff = (table[b] - table[a]).to_numpy()
            half = z * diff.std(ddof=1) / np.sqrt(n)
            if diff.mean() + half < 0:
                out.append(f"{b} < {a}")
    return out


def ranking_table(means: pd.DataFrame, design_points: pd.DataFrame, arms: list[str],
                  outcomes: list[str], factors: dict[str, dict]) -> pd.DataFrame:
    """Which factors, across their ranges, can reverse the ranking of the arms.

    The reference ranking orders the arms (the baseline at delta 0) by their mean
    delta over the whole design. For each factor, the points in the lowest and the
    highest fifth of its range are averaged; a pair of arms counts as reversed
    there when the other order holds with 95 % family-wise confidence per outcome
    (Bonferroni over factors x ends x pairs; intervals over the points, which
    carry the other factors' spread and the replication noise), so near-ties
    that flip with noise are not reported as reversals.

    Args:
        means: Point means (see :func:`point_means`).
        design_points: The design matrix (index: point; columns: factors).
        arms: Arm names (the baseline first).
        outcomes: The ranked outcomes.
        factors: Factor name -> ``{"low": .., "high": ..}``.

    Returns:
        Per outcome, first a row ``(all factors)`` with the share of points whose
        lowest-delta arm differs from the reference's, then a row per factor:
        reference, centre and end rankings, the reversed pairs and ``reverses``.
    """
    from scipy import stats

    rows = []
    sample = design_points.loc[design_points.index > 0]
    tests = max(1, len(factors) * 2 * len(arms) * (len(arms) - 1) // 2)
    z = float(stats.norm.ppf(1 - (1 - CONFIDENCE) / tests))
    for outcome in outcomes:
        cols = {arms[0]: pd.Series(0.0, index=means.index)}
        for name in arms[1:]:
            cols[name] = means[f"delta:{name}:{outcome}"]
        table = pd.DataFrame(cols)
        points = table.loc[sample.index]
        reference = _ranking(points.mean())
        centre = _ranking(table.loc[0])
        differs = points.idxmin(axis=1) != reference[0]
        rows.append({"outcome": outcome, "factor": "(all factors)",
                     "reference_ranking": " < ".join(reference),
                     "centre_ranking": " < ".join(centre), "ranking_low_end": "",
                     "reversed_low_end": "", "ranking_high_end": "", "reversed_high_end": "",
                     "other_best_low_end": float(differs.mean()),
                     "other_best_high_end": float(differs.mean()),
                     "reverses": bool(differs.any())})
        for factor, rng in factors.items():
            low, high = rng["low"], rng["high"]
            x = sample[factor]
            row = {"outcome": outcome, "factor": factor,
                   "reference_ranking": " < ".join(reference),
                   "centre_ranking": " < ".join(centre)}
            pairs = []
            for end, mask in (("low", x <= low + TAIL * (high - low)),
                              ("high", x >= high - TAIL * (high - low))):
                part = points.loc[mask[mask].index]
                row[f"ranking_{end}_end"] = " < ".join(_ranking(part.mean())) if len(part) else ""
                flipped = _reversed_pairs(part, reference, z)
                row[f"reversed_{end}_end"] = "; ".join(flipped)
                row[f"other_best_{end}_end"] = float(differs[mask].mean()) if len(part) else None
                pairs += flipped
            row["reverses"] = bool(pairs)
            rows.append(row)
    return pd.DataFrame(rows)


def _design_matrix(directory: Path, names: list[str]) -> pd.DataFrame:
    frame = pd.read_csv(directory / "design.csv").set_index("point")
    return frame[names]


def analyse_to_directory(source: Path, outcomes: list[str] | None = None,
                         out: Path | None = None, workers: int | None = None,
                         scheduler: str | None = None, progress: bool = False) -> dict:
    """Run (or reuse) a Sobol sweep, then write its sensitivity analysis beside it.

    Args:
        source: A Sobol design file (run first, resuming finished chunks) or a
            finished sweep directory.
        outcomes: Proxies to analyse (default: the design's ``outcomes``).
        out: Sweep directory when ``source`` is a design.
        workers: Local worker processes for the sweep.
        scheduler: Dask scheduler address for the sweep.
        progress: Progress bar on stderr.

    Returns:
        The sensitivity document (also written as ``sensitivity.json``), with
        ``indices`` and ``ranking`` lists; ``sensitivity.csv``, ``ranking.csv``
        and ``sensitivity.png`` are written to the sweep directory.

    Raises:
        InputError: Not a Sobol design / sweep, or unknown outcomes.
    """
    from chainsim.analysis.proxies import PROXIES
    from chainsim.experiments.sweep import default_out, load_results, run_sweep

    source = Path(source)
    if source.is_dir():
        directory = source
        frame, man = load_results(directory)
    else:
        from chainsim.experiments.design import load_design

        design = load_design(source)
        if design.meta.method != "sobol":
            raise InputError.single(str(source), "sweep.method", design.meta.method,
                                    "'sobol' for Sobol indices (the sample must be Saltelli's)")
        directory = Path(out) if out is not None else default_out(design)
        run_sweep(design, directory, workers=workers, scheduler=scheduler, progress=progress)
        frame, man = load_results(directory)
    if man.get("method") != "sobol":
        raise InputError.single(str(directory), "sweep.json: method", man.get("method"),
                                "a sweep with method = 'sobol'")
    outcomes = list(outcomes or man.get("outcomes") or ["active_offender_months"])
    bad = [o for o in outcomes if o not in PROXIES]
    if bad:
        raise InputError.single("--outcome", "outcome", bad[0], "one of " + ", ".join(PROXIES))
    arms = [a["name"] for a in man["arms"]]
    names = list(man["factors"])
    problem = {"num_vars": len(names), "names": names,
               "bounds": [[man["factors"][n]["low"], man["factors"][n]["high"]] for n in names]}
    means = point_means(frame, arms, outcomes)
    indices = sobol_indices(means, problem, seed=int(man["seed"]))
    indices["noise_share"] = indices["outcome"].map(
        {c: noise_share(frame, c, arms) for c in means.columns})
    doc = {"sweep": man["name"], "digest": man["digest"], "confidence": CONFIDENCE,
           "reps": man["reps"], "points": man["points"], "arms": arms, "factors": names,
           "outcomes": outcomes, "indices": _records(indices)}
    if len(arms) > 1:
        ranking = ranking_table(means, _design_matrix(directory, names), arms, outcomes,
                                man["factors"])
        doc["ranking"] = _records(ranking)
        write_csv(directory / "ranking.csv", ranking)
    else:
        doc["ranking"] = []
    write_csv(directory / "sensitivity.csv", indices)
    write_figure(directory / "sensitivity.png", lambda p: sobol_figure(indices, p))
    write_json(directory / "sensitivity.json", doc)
    doc["directory"] = str(directory)
    return doc


def _records(frame: pd.DataFrame) -> list[dict]:
    out = []
    for row in frame.to_dict(orient="records"):
        out.append({k: (None if isinstance(v, float) and not math.isfinite(v) else
                        round(v, 6) if isinstance(v, float) else
                        bool(v) if isinstance(v, np.bool_) else v) for k, v in row.items()})
    return out


def sobol_figure(indices: pd.DataFrame, path: Path) -> None:
    """Bars of first-order and total indices with their 95 % CIs, one panel per outcome."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = indices.dropna(subset=["S1"]) if "S1" in indices else indices.iloc[0:0]
    outcomes = list(dict.fromkeys(ok["outcome"]))[:16] or ["(no outcome with indices)"]
    cols = min(4, len(outcomes))
    rows = math.ceil(len(outcomes) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 0.35 * 12 + 2.2 * rows),
                             squeeze=False)
    for ax, outcome in zip(axes.flat, outcomes, strict=False):
        sub = ok[ok["outcome"] == outcome]
        y = np.arange(len(sub))
        for shift, key, label in ((-0.18, "S1", "first order"), (0.18, "ST", "total")):
            err = np.vstack([sub[key] - sub[f"{key}_lo"], sub[f"{key}_hi"] - sub[key]])
            ax.barh(y + shift, sub[key], height=0.34, xerr=err, label=label, capsize=2)
        ax.set_yticks(y, sub["factor"])
        ax.axvline(0, color="black", lw=0.6)
        ax.set_xlim(-0.1, 1.1)
        ax.set_title(outcome.replace("delta:", "Δ ").replace(":", ": "), fontsize=9)
        ax.invert_yaxis()
    for ax in list(axes.flat)[len(outcomes):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=8, loc="lower right")
    fig.suptitle("Sobol sensitivity indices (95 % bootstrap CIs)")
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=110)
    plt.close(fig)


def sensitivity_table(doc: dict) -> str:
    """A readable table of the indices and the ranking reversals."""
    lines = [f"sweep {doc['sweep']}: {doc['points']} points x {doc['reps']} replications; "
             f"Sobol indices with {int(doc['confidence'] * 100)} % CIs", ""]
    lines.append(f"{'outcome':48} {'factor':28} {'S1':>16} {'ST':>16} {'noise':>6}")
    for r in doc["indices"]:
        if r.get("S1") is None:
            lines.append(f"{r['outcome'][:48]:48} {r['factor'][:28]:28} {r.get('note', '')}")
            continue
        s1 = f"{r['S1']:.2f} [{r['S1_lo']:.2f},{r['S1_hi']:.2f}]"
        st = f"{r['ST']:.2f} [{r['ST_lo']:.2f},{r['ST_hi']:.2f}]"
        noise = "" if r.get("noise_share") is None else f"{r['noise_share']:.2f}"
        lines.append(f"{r['outcome'][:48]:48} {r['factor'][:28]:28} {s1:>16} {st:>16} "
                     f"{noise:>6}")
    if doc.get("ranking"):
        lines += ["", "What would change the answer (arms ranked by delta, lowest first):"]
        for r in doc["ranking"]:
            if r["factor"] == "(all factors)":
                lines.append(f"  {r['outcome']}: {r['reference_ranking']} over the design "
                             f"(centre: {r['centre_ranking']}); another arm lowest at "
                             f"{r['other_best_low_end']:.0%} of the points")
                continue
            for end in ("low", "high"):
                if r[f"reversed_{end}_end"]:
                    lines.append(f"    {r['factor']} at the {end} end of its range: "
                                 f"{r[f'reversed_{end}_end']}")
    lines.append(f"\nfiles: {doc['directory']}/sensitivity.csv, ranking.csv, sensitivity.png")
    return "\n".join(lines)

"""Figures (seaborn on matplotlib's Agg backend, imported lazily)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from chainsim import chain
from chainsim.analysis.targets import Target

FUNNEL_STAGES: tuple[tuple[str, str], ...] = tuple(
    (m.name, f"{m.en.split(' (')[0]}\n({m.nl})") for m in chain.FLOW_METRICS if m.funnel)
"""The funnel's metrics and their labels, in chain order (from the chain table)."""


def funnel_figure(window: pd.DataFrame, targets: dict[str, Target] | None, path: Path,
                  title: str) -> None:
    """Bar chart of the 2015-2019 yearly average per stage, beside the source's figures.

    Args:
        window: One row per replication, one column per metric (window means).
        targets: The source's figures (``window_mean`` scope ones are drawn).
        path: Where to write the PNG.
        title: Figure title.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    keys = [k for k, _ in FUNNEL_STAGES]
    labels = [label for _, label in FUNNEL_STAGES]
    long = window[keys].melt(var_name="stage", value_name="per year")
    sns.set_theme(style="whitegrid", context="notebook")
    fig, ax = plt.subplots(figsize=(1.6 * len(keys) + 1.2, 5))
    sns.barplot(data=long, x="stage", y="per year", order=keys, color="#4C72B0",
                errorbar=("pi", 90), ax=ax, label="chainsim (mean, 90% of replications)")
    by_metric = {t.metric: t for t in (targets or {}).values()
                 if t.scope == "window_mean" and t.form is None}
    first = True
    for i, key in enumerate(keys):
        target = by_metric.get(key)
        if target is None:
            continue
        lo, hi = target.interval
        kw = {"color": "#C44E52", "zorder": 5}
        label = "Dadermonitor 2015-2019" if first else None
        first = False
        if target.kind == "range":
            ax.plot([i, i], [lo, hi], lw=6, solid_capstyle="butt", label=label, **kw)
        elif target.kind == "lower_bound":
            ax.plot(i, lo, marker="^", ms=11, ls="none", label=label, **kw)
            ax.annotate(f"> {lo:g}", (i, lo), xytext=(9, -4), textcoords="offset points",
                        color=kw["color"], fontsize=9, fontweight="bold",
                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                              "alpha": 0.85})
        else:
            ax.plot(i, lo, marker="D", ms=9, ls="none", label=label, **kw)
    ax.set_xticks(np.arange(len(keys)), labels, fontsize=9)
    ax.set_xlabel("")
    ax.set_ylabel("offenders per year (2015-2019 average)")
    ax.set_title(title)
    ax.legend(loc="upper right", frameon=True)
    fig.tight_layout()
    fig.savefig(path, dpi=120, format="png")
    plt.close(fig)


def fit_figure(table, path: Path, title: str) -> None:
    """Observed vs model per target, each on its own scale (relative to the observed).

    Args:
        table: The calibration fit table (``Calibrator.fit_table``), optionally with
            ``agent_mean``, ``agent_lo``, ``agent_hi`` columns from the agent model.
        path: Where to write the PNG.
        title: Figure title.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook")
    n = len(table)
    fig, ax = plt.subplots(figsize=(9, 0.42 * n + 1.6))
    for i, row in enumerate(table.itertuples()):
        y = n - 1 - i
        if row.kind == "range":
            lo, hi = (float(x) for x in row.observed.split("-"))
        elif row.kind == "lower_bound":
            lo = float(row.observed.removeprefix("> "))
            hi = None
        else:
            lo = hi = float(row.observed)
        ref = lo if hi is None else (lo + hi) / 2
        scale = ref if ref else 1.0
        if hi is None:
            ax.annotate("", xy=(1.25, y), xytext=(lo / scale, y),
                        arrowprops={"arrowstyle": "->", "color": "#C44E52", "lw": 2})
        else:
            ax.plot([lo / scale, hi / scale], [y, y], color="#C44E52", lw=6, alpha=0.6,
                    solid_capstyle="butt")
            if lo == hi:
                ax.plot(lo / scale, y, "D", color="#C44E52", ms=8)
        ax.plot([row.model_lo / scale, row.model_hi / scale], [y + 0.18] * 2, color="#4C72B0",
                lw=2)
        ax.plot(row.model / scale, y + 0.18, "o", color="#4C72B0", ms=6)
        if hasattr(row, "agent_mean") and row.agent_mean == row.agent_mean:
            ax.plot([row.agent_lo / scale, row.agent_hi / scale], [y - 0.18] * 2,
                    color="#55A868", lw=2)
            ax.plot(row.agent_mean / scale, y - 0.18, "s", color="#55A868", ms=6)
    labels = [f"{r.target} ({r.observed})" for r in table.itertuples()][::-1]
    ax.set_yticks(range(n), labels, fontsize=8)
    ax.set_xlabel("relative to the observed figure (1 = the source's value or range centre)")
    ax.axvline(1.0, color="grey", lw=0.8)
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color="#C44E52", lw=6, alpha=0.6, label="Dadermonitor"),
               Line2D([], [], color="#4C72B0", marker="o", label="twin fit (90 % ensemble)")]
    if "agent_mean" in table:
        handles.append(Line2D([], [], color="#55A868", marker="s",
                              label="agent model (mean, 90 % of replications)"))
    ax.legend(handles=handles, loc="lower right", fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)


def _save_rows_figure(fig, ax, y, labels, xlabel: str, title: str, legend_y: float,
                      ncol: int, path: Path) -> None:
    """Label a figure of one row per item, put its legend above, write the PNG, close it."""
    import matplotlib.pyplot as plt

    ax.set_yticks(y, labels)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, legend_y), ncol=ncol, fontsize=8,
              frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)


def posterior_figure(table: pd.DataFrame, path: Path, title: str) -> None:
    """Prior against posterior: each parameter's 90 % intervals on its prior's scale.

    Args:
        table: ``posterior_diagnostics.csv``'s rows (``prior_5``, ``prior_95``,
            ``posterior_5``, ``posterior_mean``, ``posterior_95``, ``prior_low``,
            ``prior_high``, ``log`` and ``status``).
        path: Where to write the PNG.
        title: Figure title.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    def scaled(col: str) -> np.ndarray:
        lo, hi, x = table["prior_low"], table["prior_high"], table[col]
        logs = table["log"].astype(bool)
        out = (x - lo) / (hi - lo)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[logs] = (np.log(x[logs]) - np.log(lo[logs])) / (np.log(hi[logs])
                                                                 - np.log(lo[logs]))
        return out.to_numpy()

    sns.set_theme(style="whitegrid", context="notebook")
    n = len(table)
    fig, ax = plt.subplots(figsize=(8, 0.32 * n + 1.5))
    y = np.arange(n)[::-1]
    palette = {"informed": "#C44E52", "partly informed": "#DD8452",
               "prior-dominated": "#8C8C8C"}
    ax.hlines(y, scaled("prior_5"), scaled("prior_95"), color="#CCCCCC", linewidth=7,
              label="prior, 90 %")
    for status, colour in palette.items():
        sel = (table["status"] == status).to_numpy()
        if sel.any():
            ax.hlines(y[sel], scaled("posterior_5")[sel], scaled("posterior_95")[sel],
                      color=colour, linewidth=3, label=f"posterior, 90 % ({status})")
            ax.plot(scaled("posterior_mean")[sel], y[sel], "o", color=colour, markersize=4)
    ax.set_xlim(-0.02, 1.02)
    _save_rows_figure(fig, ax, y, table["parameter"],
                      "position within the prior's range (log scale for knobs)", title,
                      1.02 + 0.4 / n, 2, path)


def strongest_pairs(members: pd.DataFrame, names: list[str], pairs: int = 4
                    ) -> list[tuple[str, str, float]]:
    """The ``pairs`` most strongly rank-correlated parameter pairs: ``(a, b, Spearman rho)``."""
    corr = members[names].rank().corr().to_numpy()
    iu = np.triu_indices(len(names), 1)
    order = np.argsort(-np.abs(np.nan_to_num(corr[iu])))[:pairs]
    return [(names[iu[0][k]], names[iu[1][k]], float(corr[iu][k])) for k in order]


def posterior_pairs_figure(members: pd.DataFrame, shown: list[tuple[str, str, float]],
                           path: Path, title: str) -> None:
    """Scatter plots of posterior members for parameter pairs (:func:`strongest_pairs`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook")
    fig, axes = plt.subplots(1, len(shown), figsize=(3.6 * len(shown), 3.6), squeeze=False)
    for ax, (a, b, rho) in zip(axes[0], shown, strict=True):
        sns.scatterplot(x=members[a], y=members[b], s=8, alpha=0.4, ax=ax, color="#4C72B0",
                        edgecolor=None)
        ax.set_title(f"Spearman {rho:+.2f}", fontsize=9)
        ax.set_xlabel(a, fontsize=8)
        ax.set_ylabel(b, fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)


def predictive_figure(table: pd.DataFrame, path: Path, title: str) -> None:
    """Each figure's posterior predictive interval beside its observed value.

    Values are divided by the figure (a range's midpoint), so every figure reads on one
    axis: 1 is the Dadermonitor's value; the grey band is the figure's range or +-1 sd.

    Args:
        table: :meth:`chainsim.experiments.ppc.PredictiveCheck.by_target`.
        path: Where to write the PNG.
        title: Figure title.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    centre = (table["low"] + table["high"]) / 2
    band_lo = np.where(table["kind"] == "range", table["low"], centre - table["sd"]) / centre
    band_hi = np.where(table["kind"] == "range", table["high"],
                       np.where(table["kind"] == "lower_bound", np.inf,
                                centre + table["sd"])) / centre
    sns.set_theme(style="whitegrid", context="notebook")
    n = len(table)
    fig, ax = plt.subplots(figsize=(8, 0.34 * n + 1.4))
    y = np.arange(n)[::-1]
    right = float(np.nanmax(table["p95"] / centre)) * 1.05
    ax.barh(y, np.minimum(band_hi, right) - band_lo, left=band_lo, height=0.6,
            color="#DDDDDD", label="Dadermonitor: range, or value +-1 sd (lower bound: above)")
    ax.hlines(y, table["p5"] / centre, table["p95"] / centre, color="#4C72B0", linewidth=3,
              label="posterior predictive, 5-95 %")
    ax.plot(table["p50"] / centre, y, "o", color="#4C72B0", markersize=4)
    ax.axvline(1.0, color="#555555", linewidth=0.8)
    _save_rows_figure(fig, ax, y, table["target"], "relative to the Dadermonitor's figure",
                      title, 1.0 + 0.5 / n, 1, path)

"""Figures (seaborn on matplotlib's Agg backend, imported lazily)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from chainsim.targets import Target

FUNNEL_STAGES: tuple[tuple[str, str], ...] = (
    ("signalled", "signalled\n(signalering)"),
    ("traced", "traced\n(opsporing)"),
    ("summoned", "summoned\n(dagvaarding)"),
    ("convicted", "convicted\n(veroordeling)"),
    ("prison", "prison\n(vrijheidsstraf)"),
    ("probation", "supervision\n(reclassering)"),
)


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
    fig, ax = plt.subplots(figsize=(9, 5))
    sns.barplot(data=long, x="stage", y="per year", order=keys, color="#4C72B0",
                errorbar=("pi", 90), ax=ax, label="chainsim (mean, 90% of replications)")
    by_metric = {t.metric: t for t in (targets or {}).values() if t.scope == "window_mean"}
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
    ax.set_xticks(np.arange(len(keys)), labels)
    ax.set_xlabel("")
    ax.set_ylabel("offenders per year (2015-2019 average)")
    ax.set_title(title)
    ax.legend(loc="upper right", frameon=True)
    fig.tight_layout()
    fig.savefig(path, dpi=120, format="png")
    plt.close(fig)

"""Readable text tables for the terminal."""

from __future__ import annotations

from chainsim.analysis.flows import METRICS, SHARES
from chainsim.analysis.targets import DEFAULT_TARGETS, load_targets


def _fmt(x: float | None, share: bool) -> str:
    if x is None:
        return "-"
    return f"{x:.2f}" if share else f"{x:.1f}"


def _observed(target) -> str:
    if target is None:
        return ""
    if target.kind == "range":
        return f"{target.low:g}-{target.high:g}"
    if target.kind == "lower_bound":
        return f"> {target.value:g}"
    return f"{target.value:g}"


def run_table(doc: dict) -> str:
    """The 2015-2019 window of a summary document, beside the source's figures."""
    targets = load_targets(DEFAULT_TARGETS) if DEFAULT_TARGETS.exists() else {}
    window_t = {t.metric: t for t in targets.values()
                if t.scope == "window_mean" and t.form is None}
    share_t = {t.metric: t for t in targets.values() if t.scope == "shares"}
    lines = [f"scenario {doc['scenario']} (config {doc['config_hash']}), seed {doc['seed']}, "
             f"{doc['reps']} replications, engine {doc['engine']}", "",
             f"{'2015-2019, per year':<28}{'mean':>9}{'5%':>9}{'95%':>9}   source"]
    for name in METRICS:
        share = name.endswith("_share")
        s = doc["window_mean"][name]
        lines.append(f"{name:<28}{_fmt(s['mean'], share):>9}{_fmt(s['lo'], share):>9}"
                     f"{_fmt(s['hi'], share):>9}   {_observed(window_t.get(name))}")
    lines += ["", f"{'offender mix (OM intake)':<28}{'mean':>9}{'5%':>9}{'95%':>9}   source"]
    for name in SHARES:
        s = doc["shares"][name]
        lines.append(f"{name:<28}{_fmt(s['mean'], True):>9}{_fmt(s['lo'], True):>9}"
                     f"{_fmt(s['hi'], True):>9}   {_observed(share_t.get(name))}")
    fitted = doc.get("targets") or {}
    if fitted:
        lines += ["", f"calibration targets (fitted): {fitted['met']} of {fitted['total']} met "
                      f"(within {fitted['tolerance_sd']:g} sd)"]
    lines += validation_lines(doc.get("validation") or {})
    return "\n".join(lines)


def validation_lines(block: dict) -> list[str]:
    """The validation targets of a summary (``validation`` block), as table lines."""
    if not block or not block.get("by_target"):
        return []
    if "cohort" in block:
        head = (f"{block['label']}: WODC recidivism, index cohort {block['cohort'][0]}.."
                f"{block['cohort'][1]}, offence-dated, {block['extension_months']}-month "
                f"extension; {block['inside']} of {block['total']} inside")
    else:  # listed, not evaluated
        head = f"{block['label']}: {block['total']} WODC recidivism targets, {block['note']}"
    lines = ["", head,
             f"{'target':<32}{'proxy':<22}{'mean':>8}{'se':>8}{'bounds':>14}   inside"]
    for name, r in block["by_target"].items():
        inside = "-" if r.get("inside") is None else ("yes" if r["inside"] else "NO")
        se = "-" if r.get("se") is None else f"{r['se']:.3f}"
        mean = "-" if r["value"] is None else f"{r['value']:.3f}"
        lines.append(f"{name:<32}{r['proxy']:<22}{mean:>8}{se:>8}"
                     f"{f'{r['low']:g}..{r['high']:g}':>14}   {inside}")
    return lines


def compare_table(doc: dict) -> str:
    """Deltas (scenario - baseline) with 95 % CIs, one block per scenario.

    With a posterior ensemble also, per proxy, the 90 % prediction interval of the effect
    over the posterior and the probability of a reduction, with a line saying which
    interval is which.
    """
    posterior = bool(doc.get("ensemble_repeats"))
    lines = [f"baseline {doc['baseline']}, {doc['reps']} paired replications, seed "
             f"{doc['seed']}, period {doc['period'][0]}..{doc['period'][1]}"
             + (", one posterior member per replication" if posterior
                else ", unknowns sampled" if doc["uncertainty"] else "")]
    if doc.get("ensemble_caveat"):
        lines += [f"CAUTION: {doc['ensemble_caveat']}"]
    if posterior:
        lines += ["95% CI: how precisely the replications pin down the average effect. "
                  "90% over posterior: the range of the effect",
                  "over parameter sets that reproduce the data (Monte Carlo noise removed). "
                  "P(lower): the probability the effect is a reduction"
                  + (f" (and by more than {doc['min_effect']:.0%} of the baseline level)"
                     if doc.get("min_effect") else "") + "."]
    for name, entry in doc["scenarios"].items():
        head = f"{'proxy':<30}{'baseline':>11}{'delta':>11}{'95% CI':>24}"
        if posterior:
            head += f"{'90% over posterior':>26}{'P(lower)':>10}{'param.':>8}"
        lines += ["", f"{name} - {doc['baseline']}", head]
        for proxy in entry["deltas"]:
            d = entry["deltas"][proxy]
            base = doc["baseline_levels"][proxy]["mean"]
            ci = (f"[{d['lo']:.4g}, {d['hi']:.4g}]" if d["lo"] is not None else "-")
            mean = f"{d['mean']:.4g}" if d["mean"] is not None else "-"
            line = (f"{proxy:<30}{(f'{base:.4g}' if base is not None else '-'):>11}"
                    f"{mean:>11}{ci:>24}")
            u = (entry.get("under_uncertainty") or {}).get(proxy)
            if posterior and u and u["prediction"] is not None:
                p = f"{u['p_reduction']:.2f}"
                if doc.get("min_effect"):
                    p += f"/{u['p_reduction_beyond_threshold']:.2f}"
                share = u["variance"]["parameter_share"]
                lo, hi = u["prediction"]
                line += (f"{f'[{lo:.4g}, {hi:.4g}]':>26}{p:>10}"
                         f"{(f'{share:.0%}' if share is not None else '-'):>8}")
            lines.append(line)
    if posterior:
        lines += ["", "param.: share of the effect's variance over the members that comes from "
                      "the parameters (the rest is Monte Carlo noise)."]
    return "\n".join(lines)

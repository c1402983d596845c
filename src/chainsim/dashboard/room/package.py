"""Package rounds: participants assemble a policy package from the levers within a budget.

Each lever offers a few positions (:data:`OPTIONS`). A position's *price* is its extra
cost per year against the baseline: the chain's extra workload valued with the unit-cost
file (:class:`chainsim.chain.costs.UnitCosts`: prison-months, probation-months, court
cases, investigations; ``docs/unit_costs_example.toml`` by default, placeholders) plus an
illustrative programme cost for what the unit costs do not cover (a prevention programme,
forensic capacity, inspections). Prices are simulated once per round, each lever alone
(:func:`price_list`), and a package's estimate is their sum; the budget is checked on that
estimate. At the reveal each *distinct* package the room chose is simulated whole
(:func:`simulate_package`, cached, started as soon as someone submits it) and the
packages are ranked on the question's proxies with paired 95 % intervals, with their
simulated cost.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from chainsim.chain.numbers import format_number
from chainsim.dashboard.room.catalogue import lever_label, proxy_label, t
from chainsim.dashboard.room.compute import Estimate, PackageResult
from chainsim.dashboard.room.questions import Question, scale

COSTS_FILE = Path(__file__).resolve().parents[4] / "docs" / "unit_costs_example.toml"
"""Default unit costs (the shipped example: placeholders, stated as such)."""

PRICE_REPS = 4
"""Replications per arm when pricing one lever position."""

OPTIONS: dict[str, tuple[tuple[float | None, float], ...]] = {
    # lever: ((position, illustrative programme cost per year), ...); the first is "now"
    "probation": ((None, 0.0), (0.5, 100_000.0), (0.8, 200_000.0)),
    "prevention": ((0.0, 0.0), (0.1, 600_000.0), (0.25, 1_500_000.0)),
    "capacity": ((None, 0.0), (190.0, 0.0), (250.0, 0.0)),
    "evidence": ((1.0, 0.0), (0.8, 400_000.0), (0.66, 800_000.0)),
    "inspection": ((1.0, 0.0), (1.5, 250_000.0), (2.0, 500_000.0)),
}
"""Lever positions on offer and their programme cost (placeholders, not sourced)."""

Package = tuple[tuple[str, float], ...]


def package_key(package: Package) -> str:
    """A stable text key of a package (``"-"`` for no change)."""
    return ",".join(f"{k}={v:g}" for k, v in sorted(package)) or "-"


def position_text(lever: str, value: float | None, lang: str) -> str:
    """A lever position as read: "now", "80 %", "190", "×0.8"."""
    if value is None or (lever in ("prevention",) and value == 0) or (
            lever in ("evidence", "inspection") and value == 1.0):
        return t("as_now", lang)
    if lever == "probation":
        return f"{format_number(100 * value, lang, decimals=0)} %"
    if lever == "prevention":
        return f"−{format_number(100 * value, lang, decimals=0)} %"
    if lever == "capacity":
        return format_number(value, lang, decimals=0)
    return f"×{format_number(value, lang, decimals=2)}"


def describe(package: Package | None, lang: str) -> str:
    """A package in words."""
    if not package:
        return t("nothing", lang)
    return "; ".join(f"{lever_label(k, lang)}: {position_text(k, v, lang)}"
                     for k, v in sorted(package))


def money(value: float, lang: str) -> str:
    """An amount of money, rounded to thousands."""
    return format_number(round(value, -3), lang, decimals=0)


def _costs(path: Path | None):
    from chainsim.chain.costs import load_costs

    return load_costs(path or COSTS_FILE)


def _question_with(question: Question, package: Package) -> Question:
    from dataclasses import replace

    return replace(question, levers=tuple(sorted({**dict(question.levers),
                                                  **dict(package)}.items())))


def _run(question: Question, package: Package, reps: int, seed: int):
    from chainsim.dashboard import bands, levers

    settings = _question_with(question, package).settings()
    current = levers.current_scenario(settings)
    baseline = levers.baseline_scenario(settings)
    period = levers.lever_period(settings.levers, current)
    return bands.run_bands(baseline, current, reps=reps, seed=seed, period=period)


def _cost_delta(run, costs) -> Estimate:
    from chainsim.analysis.proxies import paired_delta

    base = {r.rep: costs.per_year(r.proxies) for r in run.baseline}
    diffs = [costs.per_year(r.proxies) - base[r.rep] for r in run.current]
    d = paired_delta(__import__("numpy").array(diffs, dtype=float))
    mean = float(d["mean"])
    return Estimate(mean, float(d["lo"] if d["lo"] is not None else mean),
                    float(d["hi"] if d["hi"] is not None else mean))


def programme_cost(package: Package) -> float:
    """The illustrative programme cost of a package per year."""
    total = 0.0
    for lever, value in package:
        for position, cost in OPTIONS.get(lever, ()):
            if position == value:
                total += cost
    return total


def price_list(question: Question, seed: int = 1,
               costs_file: Path | None = None) -> dict[str, float]:
    """Extra cost per year of each lever position alone (``"lever=value"`` -> cost).

    Workload cost (unit costs, :data:`PRICE_REPS` replications, common random numbers)
    plus the position's programme cost.
    """
    costs = _costs(costs_file)
    prices: dict[str, float] = {}
    for lever, positions in OPTIONS.items():
        for value, programme in positions[1:]:
            run = _run(question, ((lever, value),), PRICE_REPS, seed)
            prices[f"{lever}={value:g}"] = _cost_delta(run, costs).mean + programme
    return prices


def estimate(package: Package, prices: dict[str, float]) -> float:
    """A package's estimated extra cost per year: the sum of its positions' prices."""
    return sum(prices.get(f"{k}={v:g}", 0.0) for k, v in package)


def simulate_package(question: Question, package: Package, reps: int, seed: int = 1,
                     costs_file: Path | None = None) -> PackageResult:
    """Simulate a whole package against the baseline (ranking proxies and cost)."""
    from chainsim.dashboard.room.compute import _estimate

    run = _run(question, package, reps, seed)
    deltas = run.deltas(tuple(question.rank))
    return PackageResult(
        levers=package,
        deltas={p: _estimate(deltas[p], scale(p)) for p in question.rank},
        cost=_cost_delta(run, _costs(costs_file)) if package else Estimate(0.0, 0.0, 0.0))


def parse_form(form, prices_ready: bool) -> Package | None:
    """A package from the posted form (``lever`` -> position index); ``None`` if invalid."""
    chosen: list[tuple[str, float]] = []
    for lever, positions in OPTIONS.items():
        raw = form.get(lever, "0")
        if not str(raw).isdigit() or int(raw) >= len(positions):
            return None
        value = positions[int(raw)][0]
        if int(raw) > 0 and value is not None:
            chosen.append((lever, float(value)))
    return tuple(sorted(chosen)) if prices_ready else None


# -- HTML -----------------------------------------------------------------------------------
def prices_ready(r) -> bool:
    """Whether a package round's prices are known."""
    return getattr(r, "prices", None) is not None


def budget_line(room, r, lang: str) -> str:
    """The budget (and a note while prices are computed)."""
    q = r.question
    line = f'<p class="budget">{escape(t("budget", lang, budget=money(q.budget, lang)))}</p>'
    if not prices_ready(r):
        line += f'<p class="computing">{escape(t("prices_pending", lang))}</p>'
    return line


def form_fields(room, r, lang: str, chosen: Package | None = None) -> str:
    """Radio buttons per lever, each position with its price (``chosen`` ticked)."""
    prices = getattr(r, "prices", None)
    if prices is None:
        return ""
    picked = dict(chosen or ())
    blocks = []
    for lever, positions in OPTIONS.items():
        radios = []
        ticked = next((i for i, (v, _c) in enumerate(positions)
                       if i > 0 and lever in picked and v == picked[lever]), 0)
        for i, (value, _programme) in enumerate(positions):
            price = 0.0 if i == 0 else prices.get(f"{lever}={value:g}", 0.0)
            cost = "" if i == 0 else f" ({'+' if price >= 0 else ''}{money(price, lang)})"
            radios.append(f'<label class="choice"><input type="radio" name="{lever}" '
                          f'value="{i}"{" checked" if i == ticked else ""}> '
                          f"{escape(position_text(lever, value, lang))}{escape(cost)}</label>")
        blocks.append(f'<fieldset class="lever lever-{lever}"><legend>'
                      f'{escape(lever_label(lever, lang))}</legend>{"".join(radios)}</fieldset>')
    return "".join(blocks)


def reveal_html(room, r, lang: str, mine: str | None) -> str:
    """The packages the room chose, ranked on the first ranking proxy (lower first)."""
    q: Question = r.question
    answers = room.counted(r)
    groups: dict[str, list[str]] = {}
    packages: dict[str, Package] = {}
    for pid, a in answers.items():
        key = package_key(a.package or ())
        groups.setdefault(key, []).append(pid)
        packages[key] = a.package or ()
    results = getattr(r, "packages", {})
    done = [k for k in groups if k in results]
    first = q.rank[0]
    done.sort(key=lambda k: results[k].deltas[first].mean)
    head = (f'<p class="proxy-name">{escape(t("packages_ranked", lang))} '
            f'{escape(proxy_label(first, lang))}</p>'
            f'<p class="note">{escape(t("change_note", lang))}</p>')
    rows = []
    for key in done:
        res = results[key]
        own = " mine" if mine in groups[key] else ""
        facts = "".join(
            f"<li>{escape(proxy_label(p, lang))}: <strong>"
            f"{format_number(res.deltas[p].mean, lang)}</strong> "
            f"<small>({format_number(res.deltas[p].lo, lang)} {escape(t('to', lang))} "
            f"{format_number(res.deltas[p].hi, lang)})</small></li>" for p in q.rank)
        total = (res.cost.mean if res.cost else 0.0) + programme_cost(packages[key])
        rows.append(f'<li class="package-row{own}"><p class="package-name">'
                    f"{escape(describe(packages[key], lang))}</p>"
                    f'<p class="package-facts">{escape(t("chosen_by", lang))} '
                    f"{len(groups[key])} · {escape(t('extra_cost', lang))} "
                    f"{money(total, lang)}</p><ul>{facts}</ul></li>")
    pending = len(groups) - len(done)
    table = f'<ol class="packages">{"".join(rows)}</ol>'
    more = (f'<p class="computing">{escape(t("computing", lang))} ({pending})</p>'
            if pending else "")
    note = t("costs_note", lang, file=COSTS_FILE.name)
    return head + table + more + f'<p class="note">{escape(note)}</p>'

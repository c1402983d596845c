"""Bad targets files (``chainsim calibrate --targets``) and unit-cost files (``--costs``).

Targets start from ``calibration/targets.toml``, unit costs from
``docs/unit_costs_example.toml``; each case breaks one thing and must be rejected
by the loader and by the command (exit 2, nothing written), before any work.
"""

from __future__ import annotations

import copy
import datetime as dt
import tomllib
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from chainsim.analysis.flows import COUNT_METRICS, METRICS, RATIO_METRICS, SHARES
from chainsim.analysis.targets import Target, TargetFile, load_targets
from chainsim.chain.costs import MAX_COST, UnitCosts, load_costs
from faults.harness import case, dumps, examples, expect_cli_rejected, expect_rejected

ROOT = Path(__file__).resolve().parents[2]
TARGETS = tomllib.loads((ROOT / "calibration" / "targets.toml").read_text(encoding="utf-8"))
COSTS = tomllib.loads((ROOT / "docs" / "unit_costs_example.toml").read_text(encoding="utf-8"))
SHORT = ROOT / "tests" / "data" / "short.toml"
NAMES = sorted(TARGETS["targets"])

finite = st.floats(allow_nan=False, allow_infinity=False)
non_finite = st.sampled_from([float("nan"), float("inf"), float("-inf")])
wrong_for_number = st.one_of(st.text(max_size=8), st.booleans(),
                             st.lists(st.integers(0, 5), max_size=2),
                             st.dates(min_value=dt.date(1900, 1, 1)))
wrong_for_string = st.one_of(st.integers(), finite, st.booleans(),
                             st.lists(st.integers(0, 5), max_size=2))


def test_the_starting_files_are_valid(tmp_path):
    (tmp_path / "t.toml").write_text(dumps(TARGETS), encoding="utf-8")
    (tmp_path / "c.toml").write_text(dumps(COSTS), encoding="utf-8")
    assert len(load_targets(tmp_path / "t.toml")) == len(NAMES)
    assert load_costs(tmp_path / "c.toml").prison_month > 0


# ---------------------------------------------------------------------- targets


def reject_targets(doc: dict | str | bytes, kind: str, **expect) -> None:
    with case("targets", kind) as work:
        path = work.write("targets.toml", dumps(doc) if isinstance(doc, dict) else doc)
        expect_rejected(load_targets, path, **expect)
        expect_cli_rejected(["calibrate", "--scenario", str(SHORT), "--targets",
                             "targets.toml", "--out", "out"], work, file="targets.toml",
                            field=expect.get("field"), value=expect.get("value", ...))


@pytest.mark.slow
@examples(200)
@given(name=st.sampled_from(NAMES), data=st.data())
def test_bad_target_fields(name, data):
    doc = copy.deepcopy(TARGETS)
    t = doc["targets"][name]
    metrics = SHARES if t["scope"] == "shares" else METRICS
    share = t["scope"] == "shares" or t["metric"] in RATIO_METRICS
    what = data.draw(st.sampled_from([
        "unknown metric", "bad scope", "bad kind", "sd not positive", "sd nan",
        "years malformed", "years outside the window", "count negative", "share above 1",
        "range reversed", "form where not allowed", "wrong type", "missing key",
        "unknown key"]))
    field, value = f"targets.{name}", ...
    if what == "unknown metric":
        value = data.draw(st.text(max_size=20).filter(lambda m: m not in metrics))
        t["metric"] = value
    elif what == "bad scope":
        value = data.draw(st.text(max_size=12).filter(
            lambda s: s not in ("window_mean", "by_year", "shares")))
        t["scope"] = value
    elif what == "bad kind":
        value = data.draw(st.text(max_size=12).filter(
            lambda s: s not in ("point", "range", "lower_bound", "share")))
        t["kind"] = value
    elif what == "sd not positive":
        value = t["sd"] = data.draw(st.floats(max_value=0, min_value=-1e9))
    elif what == "sd nan":
        value = t["sd"] = data.draw(non_finite)
    elif what == "years malformed":
        value = t["years"] = data.draw(st.text(max_size=10).filter(
            lambda y: not ((y.isascii() and (len(y) == 4 and y.isdigit())) or y == "2015-2019")))
    elif what == "years outside the window":
        year = data.draw(st.one_of(st.integers(1000, 2014), st.integers(2020, 9999)))
        t["years"] = value = str(year) if t["scope"] == "by_year" else f"{year}-{year + 4}"
    elif what == "count negative":
        assume(not share and t["metric"] != "prison_months")
        key = "low" if t["kind"] == "range" else "value"
        value = t[key] = data.draw(st.floats(min_value=-1e9, max_value=-1e-9))
    elif what == "share above 1":
        assume(share)
        key = "high" if t["kind"] == "range" else "value"
        value = t[key] = data.draw(st.floats(min_value=1 + 1e-9, max_value=1e9))
    elif what == "range reversed":
        assume(t["kind"] == "range")
        t["low"], t["high"] = t["high"] + 1.0, t["low"]
    elif what == "form where not allowed":
        assume(t["scope"] != "window_mean" or t["metric"] not in COUNT_METRICS)
        value = t["form"] = "labour"
    elif what == "wrong type":
        key = data.draw(st.sampled_from(sorted(t)))
        old = t[key]
        value = t[key] = data.draw(wrong_for_string if isinstance(old, str)
                                   else wrong_for_number)
    elif what == "missing key":
        required = ["metric", "scope", "kind", "sd", "years", "source"]
        required += ["low", "high"] if t["kind"] == "range" else ["value"]
        del t[data.draw(st.sampled_from(required))]
    else:
        key = data.draw(st.from_regex(r"[a-z][a-z_]{0,12}", fullmatch=True).filter(
            lambda k: k not in Target.model_fields))
        t[key] = 1
    reject_targets(doc, what, field=field, value=value)


@examples(40)
@given(data=st.data())
def test_bad_targets_documents(data):
    what = data.draw(st.sampled_from(["empty", "no targets", "targets not a table",
                                      "unknown top-level key", "target not a table",
                                      "garbage bytes"]))
    if what == "empty":
        reject_targets(data.draw(st.sampled_from(["", "\n", "# nothing\n"])), what)
    elif what == "no targets":
        reject_targets({"targets": {}}, what, field="targets")
    elif what == "targets not a table":
        value = data.draw(st.one_of(st.integers(), st.text(max_size=5),
                                    st.lists(st.integers(), max_size=2)))
        reject_targets({"targets": value}, what, field="targets", value=value)
    elif what == "unknown top-level key":
        key = data.draw(st.from_regex(r"[a-z]{1,10}", fullmatch=True).filter(
            lambda k: k not in TargetFile.model_fields))
        reject_targets({**TARGETS, key: 1}, what, field=key)
    elif what == "target not a table":
        doc = copy.deepcopy(TARGETS)
        doc["targets"]["signalled"] = data.draw(st.integers())
        reject_targets(doc, what, field="targets.signalled")
    else:
        raw = data.draw(st.binary(min_size=1, max_size=100))
        reject_targets(raw, what)


# ---------------------------------------------------------------------- unit costs

COST_KEYS = [k for k in UnitCosts.model_fields if k != "note"]


def reject_costs(doc: dict | str | bytes, kind: str, **expect) -> None:
    with case("unit costs", kind) as work:
        path = work.write("costs.toml", dumps(doc) if isinstance(doc, dict) else doc)
        work.write("s.toml", SHORT.read_text(encoding="utf-8"))
        expect_rejected(load_costs, path, **expect)
        expect_cli_rejected(["compare", "s.toml", "s.toml", "--reps", "1", "--engine", "fast",
                             "--costs", "costs.toml", "--out", "out"], work,
                            file="costs.toml", field=expect.get("field"),
                            value=expect.get("value", ...))


@pytest.mark.slow
@examples(200)
@given(data=st.data())
def test_bad_unit_costs(data):
    doc = copy.deepcopy(COSTS)
    costs = doc["costs"]
    what = data.draw(st.sampled_from(["negative", "nan or inf", "huge", "wrong type",
                                      "unknown key", "missing note", "short note",
                                      "note not text"]))
    key = data.draw(st.sampled_from(COST_KEYS))
    field, value = f"costs.{key}", ...
    if what == "negative":
        value = costs[key] = data.draw(st.one_of(st.floats(-1e300, -1e-9),
                                                 st.integers(max_value=-1)))
    elif what == "nan or inf":
        value = costs[key] = data.draw(non_finite)
    elif what == "huge":
        value = costs[key] = data.draw(st.one_of(
            st.floats(min_value=MAX_COST * (1 + 1e-9), max_value=1.7e308),
            st.integers(min_value=int(MAX_COST) + 1, max_value=10**300)))
    elif what == "wrong type":
        value = costs[key] = data.draw(wrong_for_number)
    elif what == "unknown key":
        field = data.draw(st.from_regex(r"[a-z][a-z_]{0,15}", fullmatch=True).filter(
            lambda k: k not in UnitCosts.model_fields))
        costs[field] = 1.0
        field = f"costs.{field}"
    elif what == "missing note":
        del costs["note"]
        field = "costs.note"
    elif what == "short note":
        value = costs["note"] = data.draw(st.text(max_size=2))
        field = "costs.note"
    else:
        value = costs["note"] = data.draw(wrong_for_string)
        field = "costs.note"
    reject_costs(doc, what, field=field, value=value)


@examples(30)
@given(data=st.data())
def test_bad_unit_cost_documents(data):
    what = data.draw(st.sampled_from(["empty", "no [costs] table", "extra table",
                                      "costs not a table", "garbage bytes"]))
    if what == "empty":
        reject_costs("", what, field="(document)")
    elif what == "no [costs] table":
        reject_costs({"cost": COSTS["costs"]}, what, field="(document)")
    elif what == "extra table":
        reject_costs({**COSTS, "more": {"x": 1}}, what, field="(document)")
    elif what == "costs not a table":
        value = data.draw(st.one_of(st.integers(), st.text(max_size=5)))
        reject_costs({"costs": value}, what, field="costs", value=value)
    else:
        reject_costs(data.draw(st.binary(min_size=1, max_size=100)), what)

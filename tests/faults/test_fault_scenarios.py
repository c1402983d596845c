"""Thousands of bad scenario files: each must exit 2 naming file, field, value and what is allowed.

Every case starts from a valid document (the short baseline plus four
interventions, checked to be accepted) and breaks it in one way that is invalid
by construction: a wrong type, a probability outside [0, 1], a number out of
its range, nan/inf, a huge or negative number, an unknown or missing key,
shares that do not sum to 1, a malformed month or one outside the horizon, a
broken ``base``, or a broken file (empty, not UTF-8, truncated, garbage, nested
too deeply). Each case goes through the loader (``load_scenario`` + ``resolve``)
and through ``chainsim run`` in process; a few go through a real subprocess.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from chainsim.chain.config import (
    Intervention,
    ParameterEntry,
    Scenario,
    ScenarioMeta,
    Target,
    UnknownEntry,
    load_scenario,
)
from chainsim.chain.parameters import resolve
from chainsim.chain.spec import FORMS, KIND_BOUNDS, PARAMETERS
from faults.harness import (
    Raw,
    case,
    dumps,
    examples,
    expect_cli_rejected,
    expect_rejected,
)

ROOT = Path(__file__).resolve().parents[2]
SHORT = ROOT / "tests" / "data" / "short.toml"
LOADER = "scenario"

INTERVENTIONS = [
    {"name": "more convictions", "parameter": "conviction_prob", "operation": "multiply",
     "value": 1.1, "low": 1.0, "high": 1.2, "start": "2014-01", "ramp_months": 12,
     "note": "a lever with an uncertain effect"},
    {"name": "capacity", "parameter": "investigation_capacity", "operation": "set",
     "value": 250.0, "start": "2015-01", "end": "2016-12", "note": "a temporary set"},
    {"name": "youth prevention", "parameter": "inflow_rate", "operation": "multiply",
     "value": 0.8, "start": "2014-06", "target": {"age_group": ["under23"]},
     "note": "a targeted inflow change"},
    {"name": "supervision effect", "parameter": "reoffend_hazard", "operation": "add",
     "value": -0.001, "start": "2015-01", "target": {"probation": "supervised"},
     "note": "an additive change for one group"},
]


def valid_doc() -> dict:
    """The short baseline with interventions: a valid scenario document."""
    doc = tomllib.loads(SHORT.read_text(encoding="utf-8"))
    doc["interventions"] = copy.deepcopy(INTERVENTIONS)
    return doc


VALID = valid_doc()


def load(path: Path):
    """The scenario loader as the commands use it: load, then resolve."""
    return resolve(load_scenario(path), str(path))


def test_the_starting_document_is_valid(tmp_path):
    path = tmp_path / "scenario.toml"
    path.write_text(dumps(VALID), encoding="utf-8")
    assert load(path).scenario.name == "baseline_short"


# ---------------------------------------------------------------------- paths in the document


def _leaves(node, path=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _leaves(v, (*path, i))
    else:
        yield path, node


LEAVES = list(_leaves(VALID))
NUMERIC = [p for p, v in LEAVES if isinstance(v, int | float) and not isinstance(v, bool)]
STRINGS = [p for p, v in LEAVES if isinstance(v, str)]
ENTRY_NUMBERS = [p for p in NUMERIC if p[0] in ("parameters", "unknowns")]
"""Numbers of parameter entries (values, per-form values, factors, trend multipliers)."""


def get(doc, path):
    for k in path:
        doc = doc[k]
    return doc


def put(doc, path, value):
    get(doc, path[:-1])[path[-1]] = value


def entry_field(path) -> str:
    """The field a problem about ``path`` must start with: its entry (or table)."""
    if path[0] in ("parameters", "unknowns", "interventions") and len(path) > 1:
        return f"{path[0]}.{path[1]}"
    return str(path[0])


def write_and_check(doc: dict | str | bytes, kind: str, field: str | None = None,
                    value: object = ..., loader_field: str | None = None,
                    allowed: str | None = None, name: str = "scenario.toml") -> None:
    """One case: the loader and ``chainsim run`` both reject the file as they should."""
    with case(LOADER, kind) as work:
        content = dumps(doc) if isinstance(doc, dict) else doc
        path = work.write(name, content)
        expect_rejected(load, path, field=loader_field or field, value=value, allowed=allowed)
        expect_cli_rejected(["run", name, "--reps", "1", "--engine", "fast", "--workers", "1",
                             "--out", "out"], work, file=name,
                            field=field, value=value)


# ---------------------------------------------------------------------- value strategies

finite = st.floats(allow_nan=False, allow_infinity=False)
wrong_for_number = st.one_of(
    st.text(max_size=12), st.booleans(), st.lists(st.integers(-5, 5), max_size=3),
    st.dictionaries(st.from_regex(r"[a-z]{1,5}", fullmatch=True), st.integers(0, 9),
                    max_size=2), st.dates(min_value=dt.date(1900, 1, 1)))
wrong_for_string = st.one_of(
    st.integers(-10**6, 10**6), finite, st.booleans(), st.lists(st.integers(0, 5), max_size=3),
    st.dictionaries(st.from_regex(r"[a-z]{1,5}", fullmatch=True), st.integers(0, 9),
                    min_size=1, max_size=2))
non_finite = st.sampled_from([float("nan"), float("inf"), float("-inf")])
huge = st.one_of(
    st.floats(min_value=1e8, max_value=1.7e308), st.floats(min_value=-1.7e308, max_value=-1e8),
    st.integers(min_value=10**8, max_value=10**300),
    st.integers(min_value=-10**300, max_value=-10**8))


def _month_ok(text: str) -> bool:
    """An independent oracle for a valid 'YYYY-MM' month (surrounding blanks allowed)."""
    m = re.fullmatch(r"\s*(\d{4})-(\d{2})\s*", text)
    return bool(m) and 1 <= int(m.group(2)) <= 12


malformed_month = st.one_of(
    st.sampled_from(["2019-13", "2019-00", "2019-1", "19-01", "2019/01", "2019-01-01", "",
                     " ", "jan 2019", "2019-1a", "20190", "2019--01", "-2019-01", "2019-99",
                     "12-2019", "2019-001"]),
    st.from_regex(r"-?\d{0,5}[-/ .]?\d{0,3}", fullmatch=True),
    st.text(max_size=10)).filter(lambda t: not _month_ok(t))


# ---------------------------------------------------------------------- wrong types


@pytest.mark.slow
@examples(260)
@given(path=st.sampled_from(NUMERIC + STRINGS), data=st.data())
def test_wrong_types(path, data):
    doc = copy.deepcopy(VALID)
    old = get(doc, path)
    if isinstance(old, str):
        new = data.draw(wrong_for_string)
    elif isinstance(old, int) and path[-1] == "ramp_months":
        new = data.draw(st.one_of(finite.filter(lambda x: x != int(x)), wrong_for_number))
    else:
        new = data.draw(wrong_for_number)
    put(doc, path, new)
    write_and_check(doc, "wrong type", field=entry_field(path), value=new)


# ---------------------------------------------------------------------- out of range


OWN_PARAMETERS = [n for n, s in PARAMETERS.items() if s.role != "unknown"]
UNKNOWNS = [n for n, s in PARAMETERS.items() if s.role == "unknown"]


def outside(lo: float, hi: float):
    """Numbers clearly outside ``[lo, hi]`` (by at least 1e-9 relative)."""
    below = st.floats(min_value=-1e6, max_value=lo - max(1e-9, abs(lo) * 1e-9))
    above = st.floats(min_value=hi + max(1e-9, hi * 1e-9), max_value=1e12)
    return st.one_of(above, below)


@pytest.mark.slow
@examples(220)
@given(name=st.sampled_from(OWN_PARAMETERS), data=st.data())
def test_parameter_values_out_of_range(name, data):
    spec = PARAMETERS[name]
    lo, hi = KIND_BOUNDS[spec.kind]
    value = data.draw(outside(lo, hi))
    doc = copy.deepcopy(VALID)
    entry = doc["parameters"][name]
    if entry.get("by_form") and data.draw(st.booleans(), label="per form"):
        form = data.draw(st.sampled_from(sorted(entry["by_form"])))
        entry["by_form"][form] = value
    else:
        entry["value"] = value
    kind = ("probability outside [0, 1]" if spec.kind in ("probability", "hazard")
            else f"{spec.kind} out of range")
    write_and_check(doc, kind, field=f"parameters.{name}", value=value)


@pytest.mark.slow
@examples(100)
@given(name=st.sampled_from(UNKNOWNS), key=st.sampled_from(["central", "low", "high"]),
       data=st.data())
def test_unknowns_out_of_range(name, key, data):
    lo, hi = KIND_BOUNDS[PARAMETERS[name].kind]
    value = data.draw(outside(lo, hi))
    doc = copy.deepcopy(VALID)
    entry = doc["unknowns"][name]
    entry[key] = value
    write_and_check(doc, "unknown out of range", field=f"unknowns.{name}", value=value)


@pytest.mark.slow
@examples(130)
@given(path=st.sampled_from(ENTRY_NUMBERS), value=st.floats(max_value=-1e-9,
                                                            min_value=-1e6))
def test_negative_numbers(path, value):
    doc = copy.deepcopy(VALID)
    put(doc, path, value)
    write_and_check(doc, "negative number", field=entry_field(path), value=value)


@pytest.mark.slow
@examples(130)
@given(path=st.sampled_from(NUMERIC), value=non_finite)
def test_nan_and_inf(path, value):
    doc = copy.deepcopy(VALID)
    put(doc, path, value)
    write_and_check(doc, "nan or inf", field=entry_field(path), value=value)


@pytest.mark.slow
@examples(160)
@given(path=st.sampled_from(NUMERIC), value=huge)
def test_huge_numbers(path, value):
    doc = copy.deepcopy(VALID)
    put(doc, path, value)
    write_and_check(doc, "huge number", field=entry_field(path), value=value)


@examples(15)
@given(path=st.sampled_from(NUMERIC), digits=st.integers(4301, 6000))
def test_integers_too_long_to_read(path, digits):
    doc = copy.deepcopy(VALID)
    put(doc, path, Raw("9" * digits))
    write_and_check(doc, "integer of >4300 digits", field="(syntax)")


# ---------------------------------------------------------------------- shares


@pytest.mark.slow
@examples(80)
@given(shares=st.lists(st.floats(0, 1), min_size=len(FORMS), max_size=len(FORMS)))
def test_form_shares_not_summing_to_one(shares):
    assume(abs(sum(shares) - 1) > 1e-4)
    doc = copy.deepcopy(VALID)
    doc["parameters"]["inflow_form_share"] = {
        "by_form": dict(zip(FORMS, shares, strict=True)), "note": "shares that do not add up"}
    write_and_check(doc, "split not summing to 1", field="parameters.inflow_form_share",
                    allowed="sum to 1")


@pytest.mark.slow
@examples(80)
@given(shares=st.lists(st.floats(0, 1), min_size=3, max_size=3))
def test_prosecution_shares_above_one(shares):
    assume(sum(shares) > 1 + 1e-6)
    doc = copy.deepcopy(VALID)
    for name, share in zip(("technical_dismissal_share", "policy_dismissal_share",
                            "other_disposal_share"), shares, strict=True):
        if PARAMETERS[name].role == "unknown":  # declared with a range (policy, other)
            doc["unknowns"][name] = {"central": share, "low": 0.0, "high": 1.0,
                                     "note": "shares above one"}
        else:
            doc["parameters"][name] = {"value": share, "note": "shares above one"}
    write_and_check(doc, "split above 1", field="parameters.technical_dismissal_share",
                    allowed="must not exceed 1")


# ---------------------------------------------------------------------- keys


TABLES = [((), Scenario), (("scenario",), ScenarioMeta)]
TABLES += [(("parameters", n), ParameterEntry) for n in VALID["parameters"]]
TABLES += [(("unknowns", n), UnknownEntry) for n in VALID["unknowns"]]
TABLES += [(("interventions", i), Intervention) for i in range(len(INTERVENTIONS))]
TABLES += [(("interventions", i, "target"), Target)
           for i, iv in enumerate(INTERVENTIONS) if "target" in iv]
TABLES += [(("parameters",), None), (("unknowns",), None)]


@pytest.mark.slow
@examples(200)
@given(table=st.sampled_from(TABLES), key=st.from_regex(r"[a-z][a-z0-9_]{0,15}",
                                                        fullmatch=True),
       value=st.one_of(st.integers(0, 9), st.text(max_size=5), st.booleans()))
def test_unknown_keys(table, key, value):
    path, model = table
    allowed = set(model.model_fields) if model is not None else set(PARAMETERS)
    assume(key not in allowed)
    doc = copy.deepcopy(VALID)
    get(doc, path)[key] = value
    field = ".".join(str(p) for p in (*path, key))
    write_and_check(doc, "unknown key", field=field)


def _required_paths() -> list[tuple[tuple, str]]:
    out = [(("scenario",), "scenario"), (("scenario", "name"), "scenario.name"),
           (("parameters",), "parameters"), (("unknowns",), "unknowns")]
    for name, entry in VALID["parameters"].items():
        out.append((("parameters", name), f"parameters.{name}"))
        out.append((("parameters", name, "note"), f"parameters.{name}.note"))
        if "by_form" not in entry:
            out.append((("parameters", name, "value"), f"parameters.{name}"))
    for name in VALID["unknowns"]:
        out.append((("unknowns", name), f"unknowns.{name}"))
        for key in ("central", "low", "high", "note"):
            out.append((("unknowns", name, key), f"unknowns.{name}.{key}"))
    for i, iv in enumerate(INTERVENTIONS):
        for key in ("name", "parameter", "operation", "value", "start", "note"):
            out.append((("interventions", i, key), f"interventions.{i}.{key}"))
        if "low" in iv:
            out += [(("interventions", i, "low"), f"interventions.{i}"),
                    (("interventions", i, "high"), f"interventions.{i}")]
    return out


REQUIRED = _required_paths()


@pytest.mark.slow
@examples(130)
@given(item=st.sampled_from(REQUIRED))
def test_missing_keys(item):
    path, field = item
    doc = copy.deepcopy(VALID)
    del get(doc, path[:-1])[path[-1]]
    write_and_check(doc, "missing key", field=field)


# ---------------------------------------------------------------------- months


MONTH_PLACES = [("scenario", "start"), ("scenario", "end")] + [
    ("interventions", i, key) for i, iv in enumerate(INTERVENTIONS)
    for key in ("start", "end") if key in iv]
TRENDS = [p[:3] for p in NUMERIC if len(p) == 4 and p[2] == "trend"]


@pytest.mark.slow
@examples(160)
@given(place=st.sampled_from(MONTH_PLACES), month=st.one_of(malformed_month,
                                                            st.dates(dt.date(1900, 1, 1))))
def test_malformed_months(place, month):
    doc = copy.deepcopy(VALID)
    put(doc, place, month)
    write_and_check(doc, "malformed month", field=entry_field(place), value=month)


@pytest.mark.slow
@examples(70)
@given(path=st.sampled_from(sorted(set(TRENDS))), month=malformed_month)
def test_malformed_trend_months(path, month):
    doc = copy.deepcopy(VALID)
    trend = get(doc, path)
    assume(month not in trend)
    first = next(iter(trend))
    trend[month] = trend.pop(first)
    write_and_check(doc, "malformed month", field=entry_field(path), value=month)


@pytest.mark.slow
@examples(80)
@given(i=st.integers(0, len(INTERVENTIONS) - 1), key=st.sampled_from(["start", "end"]),
       year=st.one_of(st.integers(1000, 2011), st.integers(2018, 9999)),
       month=st.integers(1, 12))
def test_intervention_months_outside_the_horizon(i, key, year, month):
    doc = copy.deepcopy(VALID)
    text = f"{year:04d}-{month:02d}"
    doc["interventions"][i][key] = text
    if key == "start":
        doc["interventions"][i].pop("end", None)
    else:
        doc["interventions"][i]["start"] = "2012-01"
    write_and_check(doc, "month outside the horizon", field=f"interventions.{i}", value=text)


@pytest.mark.slow
@examples(50)
@given(start=st.tuples(st.integers(1000, 2999), st.integers(1, 12)),
       back=st.integers(0, 5000))
def test_horizon_ending_before_it_starts(start, back):
    s = start[0] * 12 + start[1] - 1
    e = s - back
    assume(e >= 0)
    doc = copy.deepcopy(VALID)
    doc["scenario"]["start"] = f"{s // 12:04d}-{s % 12 + 1:02d}"
    doc["scenario"]["end"] = f"{e // 12:04d}-{e % 12 + 1:02d}"
    write_and_check(doc, "horizon end before start", field="scenario")


# ---------------------------------------------------------------------- interventions


@pytest.mark.slow
@examples(100)
@given(i=st.integers(0, len(INTERVENTIONS) - 1), data=st.data())
def test_bad_intervention_choices(i, data):
    doc = copy.deepcopy(VALID)
    iv = doc["interventions"][i]
    what = data.draw(st.sampled_from(["parameter", "operation", "target", "inflow set"]))
    if what == "parameter":
        value = data.draw(st.from_regex(r"[a-z_]{1,20}", fullmatch=True).filter(
            lambda n: n not in PARAMETERS))
        iv["parameter"] = value
        field = f"interventions.{i}.parameter"
    elif what == "operation":
        value = data.draw(st.text(max_size=10).filter(
            lambda o: o not in ("set", "multiply", "add")))
        iv["operation"] = value
        field = f"interventions.{i}.operation"
    elif what == "target":
        group = data.draw(st.sampled_from(["form", "age_group", "sex"]))
        value = data.draw(st.from_regex(r"[a-z_]{1,12}", fullmatch=True).filter(
            lambda g: g not in (*FORMS, "under23", "23plus", "male", "female")))
        iv["target"] = {group: [value]}
        field = f"interventions.{i}.target"
    else:
        iv["parameter"], iv["operation"] = "inflow_rate", "set"
        iv.pop("low", None)
        iv.pop("high", None)
        value, field = "set", f"interventions.{i}.operation"
    write_and_check(doc, f"bad intervention {what}", field=field, value=value)


# ---------------------------------------------------------------------- inheritance


def _child(base: object, name: str = "child") -> str:
    return dumps({"base": base, "scenario": {"name": name}})


@examples(40)
@given(n=st.integers(1, 4))
def test_base_cycles(n):
    with case(LOADER, "circular base") as work:
        for k in range(n):
            work.write(f"s{k}.toml", _child(f"s{(k + 1) % n}.toml", f"s{k}"))
        closing = f"s{n - 1}.toml"  # the file whose base closes the cycle
        expect_rejected(load, work.root / "s0.toml", file=closing, field="base",
                        allowed="cycle")
        expect_cli_rejected(["validate", "s0.toml"], work, file=closing, field="base")


bad_base = st.one_of(
    st.integers(), st.floats(allow_nan=False), st.booleans(), st.just([]),
    st.lists(st.integers(), min_size=1, max_size=2), st.just(""), st.just("   "),
    st.just("a\x00b.toml"), st.just({"file": "x.toml"}),
    st.from_regex(r"[a-z]{1,8}\.toml", fullmatch=True).map(lambda n: "missing-" + n),
    st.integers(1, 4).map(lambda k: "../" * k + "missing-outside.toml"),
    st.just("sub/../../missing-outside.toml"), st.just("/nonexistent/passwd.toml"),
    st.just("."), st.just("sub"), st.just("chainsim:no_such_scenario"), st.just("chainsim:"))


@pytest.mark.slow
@examples(100)
@given(base=bad_base)
def test_bad_base_references(base):
    with case(LOADER, "bad or missing base") as work:
        (work.root / "sub").mkdir()
        path = work.write("child.toml", _child(base))
        before = work.snapshot()
        expect_rejected(load, path, field="base")
        expect_cli_rejected(["run", "child.toml", "--reps", "1", "--engine", "fast",
                             "--out", "out"], work, file="child.toml", field="base",
                            inputs=before)


def test_confined_base_outside_is_not_read_even_if_it_exists(tmp_path):
    """The dashboard's rule (``confined=True``); the command line reads what it is given."""

    def load_confined(path: Path):
        return resolve(load_scenario(path, confined=True), str(path))

    with case(LOADER, "base outside the named directory"):
        inside = tmp_path / "inside"
        inside.mkdir()
        (tmp_path / "outside.toml").write_text(SHORT.read_text(encoding="utf-8"))
        (inside / "link.toml").symlink_to(tmp_path / "outside.toml")
        for base in ("../outside.toml", "link.toml", str(tmp_path / "outside.toml")):
            (inside / "child.toml").write_text(_child(base), encoding="utf-8")
            expect_rejected(load_confined, inside / "child.toml", field="base", value=base)
            assert load(inside / "child.toml").n_months > 0  # unconfined: read


@examples(6)
@given(depth=st.integers(17, 30))
def test_base_chains_too_deep(depth):
    with case(LOADER, "base chain too deep") as work:
        work.write(f"s{depth}.toml", dumps(VALID))
        for k in range(depth):
            work.write(f"s{k}.toml", _child(f"s{k + 1}.toml", f"s{k}"))
        expect_rejected(load, work.root / "s0.toml", file="s16.toml", field="base",
                        allowed="16 levels")


@pytest.mark.slow
@examples(6)
@given(copies=st.integers(65, 200))
def test_base_fan_out(copies):
    with case(LOADER, "base fan-out") as work:
        work.write("b.toml", dumps(VALID))
        path = work.write("child.toml", _child(["b.toml"] * copies))
        expect_rejected(load, path, field="base", allowed="64 files")


BASE_LEAVES = [p for p in NUMERIC if p[0] in ("parameters", "unknowns", "interventions")]


@pytest.mark.slow
@examples(80)
@given(path=st.sampled_from(BASE_LEAVES), value=st.one_of(non_finite, wrong_for_number, huge))
def test_problems_in_a_base_name_the_base(path, value):
    doc = copy.deepcopy(VALID)
    put(doc, path, value)
    with case(LOADER, "bad value in a base") as work:
        work.write("parent.toml", dumps(doc))
        path_child = work.write("child.toml", _child("parent.toml"))
        expect_rejected(load, path_child, file="parent.toml", field=entry_field(path),
                        value=value)
        expect_cli_rejected(["validate", "child.toml"], work, file="parent.toml")


# ---------------------------------------------------------------------- broken files

TEXT = SHORT.read_text(encoding="utf-8")
LAST_TABLE = max(TEXT.rfind("\n[parameters."), TEXT.rfind("\n[unknowns."))


@examples(80)
@given(cut=st.integers(0, LAST_TABLE))
def test_truncated_files(cut):
    write_and_check(TEXT[:cut], "truncated file")


def _invalid_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


@examples(100)
@given(at=st.integers(0, len(TEXT.encode())), junk=st.binary(min_size=1, max_size=8))
def test_non_utf8_bytes(at, junk):
    raw = TEXT.encode()
    data = raw[:at] + junk + raw[at:]
    assume(_invalid_utf8(data))
    write_and_check(data, "non-UTF-8 bytes", field="(file)", allowed="UTF-8")


@pytest.mark.slow
@examples(100)
@given(data=st.binary(max_size=200))
def test_garbage_bytes(data):
    write_and_check(data, "garbage bytes")


@examples(40)
@given(text=st.sampled_from(["", " ", "\n\n", "# only a comment\n", "\ufeff", "\t\n# x\n"]))
def test_empty_files(text):
    write_and_check(text, "empty file", field="(file)")


@examples(20)
@given(depth=st.integers(50, 5000), kind=st.sampled_from(["array", "table"]))
def test_deep_nesting(depth, kind):
    if kind == "array":
        text = "x = " + "[" * depth + "]" * depth + "\n"
    else:
        text = "x = " + "{ a = " * depth + "1" + " }" * depth + "\n"
    write_and_check(text, "deeply nested")


def test_paths_that_are_not_files():
    for name, field in (("missing.toml", "(file)"), ("adir", "(file)"),
                        ("/dev/null", "(file)")):
        with case(LOADER, "not a regular file") as work:
            (work.root / "adir").mkdir()
            path = Path(name) if name.startswith("/") else work.root / name
            expect_rejected(load, path, file=name, field=field)
            expect_cli_rejected(["run", name, "--out", "out"], work, file=name, field=field)


def test_huge_file():
    with case(LOADER, "file over 16 MiB") as work:
        path = work.write("big.toml", TEXT + "# " + "x" * (17 * 2**20) + "\n")
        expect_rejected(load, path, field="(file)", allowed="MiB")


def test_a_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + TEXT.encode())
    assert load_scenario(path).name == "baseline_short"


# ---------------------------------------------------------------------- end to end


E2E = {
    "nan.toml": (TEXT.replace("value = 0.18", "value = nan", 1), "parameters.female_share"),
    "latin1.toml": (b"# caf\xe9\n" + TEXT.encode(), "(file)"),
    "base.toml": ('base = "nowhere.toml"\n[scenario]\nname = "x"\n', "base"),
    "month.toml": (TEXT.replace('start = "2012-01"', 'start = "2012-13"'), "scenario.start"),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(E2E))
def test_subprocess_exit_2_without_traceback(tmp_path, name):
    content, field = E2E[name]
    with case("scenario (subprocess)", "end to end"):
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        proc = subprocess.run([sys.executable, "-m", "chainsim", "run", name, "--reps", "1",
                               "--engine", "fast", "--out", "out"], cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr
        assert proc.stderr.startswith(f"chainsim: error: {name}: {field}")
        assert sorted(p.name for p in tmp_path.iterdir()) == [name]


@pytest.mark.parametrize(("args", "shown"), [
    (["--reps", "0"], "--reps"), (["--reps", "-3"], "--reps"), (["--reps", "many"], "--reps"),
    (["--reps", "1.5"], "--reps"), (["--reps", "99999999999999999999"], "--reps"),
    (["--seed", "-1"], "--seed"), (["--workers", "0"], "--workers"),
    (["--engine", "quantum"], "--engine"),
])
def test_bad_options_exit_2(args, shown):
    with case("command-line options", "bad option value") as work:
        work.write("scenario.toml", TEXT)
        text = expect_cli_rejected(["run", "scenario.toml", "--out", "out", *args], work)
        assert shown in text


def test_bad_options_exit_2_in_a_subprocess(tmp_path):
    with case("command-line options", "end to end"):
        proc = subprocess.run([sys.executable, "-m", "chainsim", "run", str(SHORT), "--reps",
                               "0", "--out", str(tmp_path / "out")], capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert "--reps" in proc.stderr and "from 1 to 1,000,000" in proc.stderr
        assert not (tmp_path / "out").exists()

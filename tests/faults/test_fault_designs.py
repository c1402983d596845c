"""Bad sweep designs (``chainsim sweep DESIGN``): every case rejected before any run.

Each case starts from a valid design over the short test scenario and breaks one
thing; the loader must raise an InputError naming the design file, the field and
the value, and ``chainsim sweep`` must exit 2 without creating its output
directory or any file.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainsim.experiments.design import Factor, SweepMeta, load_design
from faults.harness import Raw, case, dumps, examples, expect_cli_rejected, expect_rejected

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"

VALID = {
    "sweep": {"name": "fault", "scenario": "../short.toml", "arms": ["../short_probation.toml"],
              "method": "lhs", "samples": 4, "reps": 2, "seed": 1, "engine": "fast"},
    "factors": {"probation_hazard_ratio": {"low": 0.6, "high": 1.0},
                "investigation_capacity": {"low": 100.0, "high": 200.0}},
}

finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12)
non_finite = st.sampled_from([float("nan"), float("inf"), float("-inf")])


def _workspace_files(work) -> None:
    for name in ("short.toml", "short_probation.toml"):
        shutil.copy(DATA / name, work.root / name)


def reject_design(doc: dict | str | bytes, kind: str, field: str | None = None,
                  value: object = ..., allowed: str | None = None) -> None:
    with case("sweep design", kind) as work:
        _workspace_files(work)
        text = dumps(doc) if isinstance(doc, dict) else doc
        path = work.write("sweeps/design.toml", text)
        expect_rejected(load_design, path, file="design.toml", field=field, value=value,
                        allowed=allowed)
        expect_cli_rejected(["sweep", "sweeps/design.toml", "--out", "out"], work,
                            file="design.toml", field=field, value=value)


def test_the_starting_design_is_valid(tmp_path):
    for name in ("short.toml", "short_probation.toml"):
        shutil.copy(DATA / name, tmp_path / name)
    (tmp_path / "sweeps").mkdir()
    (tmp_path / "sweeps" / "d.toml").write_text(dumps(VALID), encoding="utf-8")
    assert load_design(tmp_path / "sweeps" / "d.toml").points.shape == (5, 2)


@pytest.mark.slow
@examples(300)
@given(data=st.data())
def test_bad_sweep_fields(data):
    doc = copy.deepcopy(VALID)
    sw = doc["sweep"]
    what = data.draw(st.sampled_from([
        "bad method", "bad engine", "samples not positive", "samples huge", "reps not positive",
        "reps fractional", "seed negative", "seed huge", "name unsafe", "unknown key",
        "missing key", "wrong type", "scenario missing", "scenario escapes",
        "scenario absolute", "arm missing", "outcome unknown", "sobol not power of 2"]))
    field, value = None, ...
    if what == "bad method":
        value = sw["method"] = data.draw(st.text(max_size=10).filter(
            lambda m: m not in ("lhs", "factorial", "sobol")))
        field = "sweep.method"
    elif what == "bad engine":
        value = sw["engine"] = data.draw(st.text(max_size=10).filter(
            lambda m: m not in ("fast", "agents")))
        field = "sweep.engine"
    elif what == "samples not positive":
        value = sw["samples"] = data.draw(st.integers(-10**6, 0))
        field = "sweep.samples"
    elif what == "samples huge":
        value = sw["samples"] = data.draw(st.integers(10**6 + 1, 10**30))
        field = "sweep.samples"
    elif what == "reps not positive":
        value = sw["reps"] = data.draw(st.integers(-1000, 0))
        field = "sweep.reps"
    elif what == "reps fractional":
        value = sw["reps"] = data.draw(st.floats(0.01, 100).filter(lambda x: x != int(x)))
        field = "sweep.reps"
    elif what == "seed negative":
        value = sw["seed"] = data.draw(st.integers(-10**20, -1))
        field = "sweep.seed"
    elif what == "seed huge":
        sw["seed"] = Raw("9" * data.draw(st.integers(20, 400)))
        field = "sweep.seed"
    elif what == "name unsafe":
        value = sw["name"] = data.draw(st.one_of(
            st.sampled_from(["../x", "a/b", "", ".hidden", "a b", "x" * 70]),
            st.text(min_size=1, max_size=12).filter(lambda s: not s.isascii())))
        field = "sweep.name"
    elif what == "unknown key":
        key = data.draw(st.from_regex(r"[a-z][a-z_]{0,12}", fullmatch=True).filter(
            lambda k: k not in SweepMeta.model_fields))
        sw[key] = 1
        field = f"sweep.{key}"
    elif what == "missing key":
        key = data.draw(st.sampled_from(["name", "scenario", "method"]))
        del sw[key]
        field = f"sweep.{key}"
    elif what == "wrong type":
        key = data.draw(st.sampled_from(["samples", "reps", "seed", "arms", "unknowns",
                                         "outcomes", "scenario"]))
        value = sw[key] = data.draw({
            "samples": st.one_of(st.text(max_size=4), st.lists(st.integers(1, 3), max_size=2)),
            "reps": st.one_of(st.text(max_size=4), st.dictionaries(st.just("a"), st.integers(),
                                                                   max_size=1)),
            "seed": st.one_of(st.text(max_size=4), finite.filter(lambda x: x != int(x))),
            "arms": st.one_of(st.integers(), st.text(max_size=4)),
            "unknowns": st.one_of(st.integers(2, 9), st.text(min_size=2, max_size=4)),
            "outcomes": st.one_of(st.integers(), st.lists(st.integers(), min_size=1,
                                                          max_size=2)),
            "scenario": st.one_of(st.integers(), st.lists(st.text(max_size=3), max_size=2)),
        }[key])
        field = f"sweep.{key}"
    elif what == "scenario missing":
        value = sw["scenario"] = data.draw(st.from_regex(r"[a-z]{1,8}\.toml", fullmatch=True))
        field = "sweep.scenario"
    elif what == "scenario escapes":
        value = sw["scenario"] = "../" * data.draw(st.integers(2, 6)) + "missing-short.toml"
        field = "sweep.scenario"
    elif what == "scenario absolute":
        value = sw["scenario"] = data.draw(st.sampled_from(["/nonexistent/x.toml",
                                                            "/missing-short.toml",
                                                            "chainsim:no_such_scenario"]))
        field = "sweep.scenario"
    elif what == "arm missing":
        value = data.draw(st.from_regex(r"[a-z]{1,8}\.toml", fullmatch=True))
        sw["arms"] = [*sw["arms"], value]
        field = "sweep.arms"
    elif what == "outcome unknown":
        value = data.draw(st.text(max_size=12).filter(lambda s: not s.startswith("recid")))
        sw["outcomes"] = [value]
        field = "sweep.outcomes"
    else:
        sw["method"] = "sobol"
        value = sw["samples"] = data.draw(st.integers(3, 10**5).filter(lambda n: n & (n - 1)))
        field = "sweep.samples"
    reject_design(doc, what, field=field, value=value)


@pytest.mark.slow
@examples(300)
@given(data=st.data())
def test_bad_factors(data):
    doc = copy.deepcopy(VALID)
    factors = doc["factors"]
    name = data.draw(st.sampled_from(sorted(factors)))
    f = factors[name]
    what = data.draw(st.sampled_from([
        "low not below high", "non-finite bound", "missing bound", "unknown parameter",
        "unknown intervention", "probability above 1", "negative capacity", "unknown key",
        "levels without factorial", "levels repeated", "levels and range", "wrong type",
        "no factors"]))
    field, value = f"factors.{name}", ...
    if what == "low not below high":
        low = data.draw(finite)
        f["low"], f["high"] = low, low - data.draw(st.floats(0, 1e6))
    elif what == "non-finite bound":
        key = data.draw(st.sampled_from(["low", "high"]))
        f[key] = data.draw(non_finite)
        field = f"factors.{name}.{key}"
    elif what == "missing bound":
        del f[data.draw(st.sampled_from(["low", "high"]))]
    elif what == "unknown parameter":
        value = data.draw(st.from_regex(r"[a-z][a-z_]{2,20}", fullmatch=True).filter(
            lambda k: k not in factors and not k.startswith("interventions")))
        from chainsim.chain.spec import PARAMETERS

        if value in PARAMETERS:
            value += "_x"
        factors[value] = {"low": 0.0, "high": 1.0}
        field = f"factors.{value}"
    elif what == "unknown intervention":
        value = "interventions." + data.draw(st.text(min_size=1, max_size=10).filter(
            lambda s: s != "supervision on release"))
        factors[value] = {"low": 0.0, "high": 1.0}
        field = "factors.interventions."
    elif what == "probability above 1":
        field = "factors.probation_share_prison"
        value = data.draw(st.floats(1.0001, 1e6))
        factors["probation_share_prison"] = {"low": 0.2, "high": value}
    elif what == "negative capacity":
        value = data.draw(st.floats(-1e6, -0.001))
        f = factors["investigation_capacity"] = {"low": value, "high": 100.0}
        field = "factors.investigation_capacity"
    elif what == "unknown key":
        key = data.draw(st.from_regex(r"[a-z][a-z_]{0,10}", fullmatch=True).filter(
            lambda k: k not in Factor.model_fields))
        f[key] = 1
        field = f"factors.{name}.{key}"
    elif what == "levels without factorial":
        factors[name] = {"levels": [f["low"], f["high"]]}
        field = f"factors.{name}.levels"
    elif what == "levels repeated":
        doc["sweep"]["method"] = "factorial"
        x = data.draw(st.floats(0.6, 1.0))
        factors["probation_hazard_ratio"] = {"levels": [x, x]}
        field = "factors.probation_hazard_ratio"
    elif what == "levels and range":
        doc["sweep"]["method"] = "factorial"
        f["levels"] = [f["low"], f["high"]]
    elif what == "wrong type":
        key = data.draw(st.sampled_from(["low", "high"]))
        value = f[key] = data.draw(st.one_of(st.text(max_size=5), st.booleans(),
                                             st.lists(st.integers(), max_size=2)))
        field = f"factors.{name}"
    else:
        doc["factors"] = {}
        field = "factors"
    reject_design(doc, what, field=field, value=value)


@examples(40)
@given(data=st.data())
def test_bad_design_documents(data):
    what = data.draw(st.sampled_from(["empty", "not TOML", "not UTF-8", "no sweep table",
                                      "sweep not a table"]))
    if what == "empty":
        reject_design(data.draw(st.sampled_from(["", "\n", "# nothing\n"])), what)
    elif what == "not TOML":
        reject_design(data.draw(st.sampled_from(["[sweep\n", "a = = 1\n", "x = [1,\n",
                                                 "= 3\n"])), what, field="(syntax)")
    elif what == "not UTF-8":
        prefix = data.draw(st.binary(max_size=20).filter(lambda b: b"\n" not in b))
        reject_design(dumps(VALID).encode() + b"# " + prefix + b"\xff\xfe\n", what,
                      field="(file)")
    elif what == "no sweep table":
        reject_design({"factors": VALID["factors"]}, what, field="sweep")
    else:
        reject_design({"sweep": data.draw(st.one_of(st.integers(), st.text(max_size=4))),
                       "factors": VALID["factors"]}, what, field="sweep")

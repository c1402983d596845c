"""Sweep designs: loading, validation errors, the points each sampler draws."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from chainsim.chain.errors import InputError
from chainsim.experiments.design import load_design
from conftest import DATA, ROOT

SWEEPS = DATA / "sweeps"


def test_shipped_designs_load():
    for path in sorted((ROOT / "scenarios" / "sweeps").glob("*.toml")):
        design = load_design(path)
        assert design.points.shape[1] == len(design.factors)
        assert design.runs == len(design.points) * design.meta.reps * len(design.arms)


def test_lhs_points_centre_first_and_inside_the_ranges():
    design = load_design(SWEEPS / "small_lhs.toml")
    assert design.points.shape == (1 + 6, 3)
    centre = design.points[0]
    assert centre[design.names.index("probation_hazard_ratio")] == 0.85  # the unknown's central
    assert centre[design.names.index("interventions.supervision on release")] == 0.8
    for j, (_, lo, hi) in enumerate(design.factors.values()):
        col = design.points[1:, j]
        assert np.all((col >= lo) & (col <= hi))
        # Latin hypercube: exactly one point in each of the 6 strata of every factor
        strata = np.floor((col - lo) / (hi - lo) * 6).astype(int)
        assert sorted(strata) == list(range(6))
    assert design.kinds == {"probation_hazard_ratio": "unknown",
                            "investigation_capacity": "lever",
                            "interventions.supervision on release": "intervention"}


def test_sobol_size_and_factorial_product():
    sobol = load_design(SWEEPS / "small_sobol.toml")
    assert sobol.points.shape == (1 + 4 * (2 + 2), 2)  # Saltelli without second order
    fact = load_design(ROOT / "scenarios" / "sweeps" / "probation_factorial.toml")
    assert fact.points.shape == (1 + 4 * 3, 2)
    assert {tuple(r) for r in fact.points[1:]} == {
        (a, b) for a in (0.4, 0.6, 0.8, 1.0) for b in (0.6, 0.85, 1.0)}


def test_same_design_same_digest_and_points():
    a, b = load_design(SWEEPS / "small_lhs.toml"), load_design(SWEEPS / "small_lhs.toml")
    assert a.digest == b.digest
    np.testing.assert_array_equal(a.points, b.points)


def _design_dir(tmp_path: Path, body: str) -> Path:
    for name in ("short.toml", "short_probation.toml"):
        shutil.copy(DATA / name, tmp_path / name)
    (tmp_path / "sweeps").mkdir()
    path = tmp_path / "sweeps" / "d.toml"
    path.write_text(body, encoding="utf-8")
    return path


HEAD = '''[sweep]
name = "t"
scenario = "../short.toml"
method = "{method}"
samples = {samples}
'''


@pytest.mark.parametrize("extra, field, allowed", [
    ('[factors]\nno_such_parameter = { low = 0, high = 1 }', "factors.no_such_parameter",
     "a parameter of the catalogue"),
    ('[factors]\nprobation_hazard_ratio = { low = 1, high = 0.5 }',
     "factors.probation_hazard_ratio", "must be below"),
    ('[factors]\nprobation_hazard_ratio = { low = 0.5, high = 1, step = 2 }',
     "factors.probation_hazard_ratio.step", "allowed here: low, high, levels"),
    ('[factors]\nprobation_share_prison = { low = 0.5, high = 1.5 }',
     "factors.probation_share_prison", "a value the scenario accepts"),
    ('[factors]\nprobation_hazard_ratio = { levels = [0.6, 1.0] }',
     "factors.probation_hazard_ratio.levels", "levels only with method = 'factorial'"),
    ('[factors]\n"interventions.nope" = { low = 0, high = 1 }', "factors.interventions.nope",
     "an intervention of the design's scenarios"),
    ('', "factors", "at least one factor"),
])
def test_bad_factors_are_named(tmp_path, extra, field, allowed):
    path = _design_dir(tmp_path, HEAD.format(method="lhs", samples=4) + extra)
    with pytest.raises(InputError) as err:
        load_design(path)
    text = str(err.value)
    assert str(path) in text and field in text and allowed in text


def test_sobol_needs_a_power_of_two(tmp_path):
    path = _design_dir(tmp_path, HEAD.format(method="sobol", samples=6)
                       + "[factors]\nprobation_hazard_ratio = { low = 0.6, high = 1 }\n"
                         "investigation_capacity = { low = 100, high = 200 }\n")
    with pytest.raises(InputError, match=r"sweep\.samples = 6: a power of 2"):
        load_design(path)


def test_scenario_paths_may_be_anywhere_or_shipped(tmp_path):
    factors = "[factors]\nprobation_hazard_ratio = { low = 0.6, high = 1 }\n"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(DATA / "short.toml", elsewhere / "short.toml")
    body = HEAD.format(method="lhs", samples=4).replace("../short.toml",
                                                        "../../elsewhere/short.toml")
    (tmp_path / "d").mkdir()
    path = _design_dir(tmp_path / "d", body + factors)  # the design in d/sweeps/
    assert load_design(path).arms[0].name == "baseline_short"
    path.write_text(body.replace("../../elsewhere/short.toml", str(elsewhere / "short.toml"))
                    + factors, encoding="utf-8")
    assert load_design(path).arms[0].name == "baseline_short"
    path.write_text(body.replace("../../elsewhere/short.toml", "chainsim:baseline") + factors,
                    encoding="utf-8")
    assert load_design(path).arms[0].name == "baseline"
    path.write_text(body.replace("../../elsewhere/short.toml", "chainsim:baselin") + factors,
                    encoding="utf-8")
    with pytest.raises(InputError, match=r"sweep\.scenario .*did you mean 'baseline'"):
        load_design(path)
    path.write_text(body.replace("../../elsewhere/short.toml", "../nowhere.toml") + factors,
                    encoding="utf-8")
    with pytest.raises(InputError, match=r"sweep\.scenario .*not found"):
        load_design(path)


def test_unknown_method_and_keys(tmp_path):
    path = _design_dir(tmp_path, HEAD.format(method="grid", samples=4) + "colour = 1\n")
    with pytest.raises(InputError) as err:
        load_design(path)
    text = str(err.value)
    assert "sweep.method = 'grid'" in text and "'lhs'" in text
    assert "sweep.colour" in text and "allowed here" in text

import subprocess
import sys

import pytest

from chainsim.chain.costs import UnitCosts, load_costs
from chainsim.chain.errors import InputError


def test_per_year_is_the_weighted_workload():
    costs = UnitCosts(prison_month=2.0, probation_month=3.0, court_case=5.0, investigation=7.0,
                      note="hand values")
    proxies = {"prison_months_served": 10.0, "probation_caseload": 2.0, "court_cases": 4.0,
               "investigations": 1.0}
    # 2*10 + 3*12*2 + 5*4 + 7*1
    assert costs.per_year(proxies) == pytest.approx(20 + 72 + 20 + 7)


def test_example_file_loads(tmp_path):
    costs = load_costs("docs/unit_costs_example.toml")
    assert costs.prison_month > 0


@pytest.mark.parametrize(("text", "field"), [
    ("[costs]\nprison_month = -1\nnote = 'x y z'\n", "costs.prison_month"),
    ("[costs]\nprison_months = 1\nnote = 'x y z'\n", "costs.prison_months"),
    ("[costs]\nprison_month = 1\n", "costs.note"),
    ("[other]\nx = 1\n", "(document)"),
])
def test_bad_cost_files_are_rejected(tmp_path, text, field):
    path = tmp_path / "costs.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_costs(path)
    assert exc.value.problems[0].field == field
    assert exc.value.problems[0].file == str(path)


@pytest.mark.slow
def test_compare_with_bad_costs_exits_2_without_output(tmp_path):
    bad = tmp_path / "costs.toml"
    bad.write_text("[costs]\nprison_month = 'a lot'\nnote = 'abc'\n", encoding="utf-8")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "chainsim", "compare", "tests/data/short.toml",
                           "tests/data/short.toml", "--reps", "1", "--costs", str(bad),
                           "--out", str(out)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "costs.prison_month" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()


def test_compare_adds_cost_per_year_as_a_linear_combination_of_workload():
    from chainsim.chain.config import load_scenario
    from chainsim.experiments.compare import compare, comparison_document

    sc = load_scenario("tests/data/short.toml")
    costs = UnitCosts(prison_month=2.0, probation_month=3.0, court_case=5.0, investigation=7.0,
                      note="hand values")
    cmp = compare(sc, [sc], reps=1, seed=2, workers=1, costs=costs)
    doc = comparison_document(cmp)
    levels = {p: v["mean"] for p, v in doc["baseline_levels"].items()}
    expected = (2 * levels["prison_months_served"] + 36 * levels["probation_caseload"]
                + 5 * levels["court_cases"] + 7 * levels["investigations"])
    assert levels["cost_per_year"] == pytest.approx(expected)
    assert doc["scenarios"]["baseline_short"]["deltas"]["cost_per_year"]["mean"] == 0
    assert doc["unit_costs"]["note"] == "hand values"

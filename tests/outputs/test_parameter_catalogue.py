"""The parameter catalogue (``chainsim parameters``) and its generated page docs/parameters.md."""

from __future__ import annotations

import pytest

from chainsim.chain.config import load_scenario
from chainsim.chain.spec import KIND_BOUNDS, PARAMETERS
from chainsim.outputs.parameters import UNITS, parameter_rows, parameters_markdown
from conftest import BASELINE, ROOT

DOC = ROOT / "docs" / "parameters.md"


def test_every_parameter_has_one_row_in_the_catalogues_order():
    rows = parameter_rows()
    assert [r.name for r in rows] == list(PARAMETERS)
    assert set(UNITS) == set(KIND_BOUNDS)  # every kind has a unit
    for row in rows:
        spec = PARAMETERS[row.name]
        assert row.unit == UNITS[spec.kind]
        assert row.role == spec.role
        assert row.meaning == spec.description
        assert row.default and row.range and row.strata


def test_defaults_are_the_calibrated_baselines_and_ranges_the_unknowns():
    baseline = load_scenario(BASELINE)
    rows = {r.name: r for r in parameter_rows()}
    inflow = baseline.entry("inflow_rate")
    assert rows["inflow_rate"].default == f"{inflow.central:.4g}"
    assert rows["inflow_rate"].range == f"{inflow.low:.4g}–{inflow.high:.4g}"
    assert rows["conviction_prob"].range == "[0, 1]"
    capacity = baseline.entry("investigation_capacity")
    assert rows["investigation_capacity"].default.startswith(f"{capacity.value:.4g}")
    shares = baseline.entry("inflow_form_share").by_form
    assert rows["inflow_form_share"].default == (
        f"by form {min(shares.values()):.4g}–{max(shares.values()):.4g}")
    assert rows["signal_hazard"].strata == "form, age"


@pytest.mark.parametrize("role", ["lever", "unknown", "calibrated", "fixed"])
def test_a_role_selects_its_parameters(role):
    assert [r.name for r in parameter_rows(role)] == [
        n for n, s in PARAMETERS.items() if s.role == role]


def test_docs_parameters_md_is_up_to_date():
    assert DOC.read_text(encoding="utf-8") == parameters_markdown(), (
        "docs/parameters.md is out of date: run "
        "`chainsim parameters --markdown > docs/parameters.md`")


def test_the_markdown_table_lists_every_parameter_once():
    text = parameters_markdown()
    for name in PARAMETERS:
        assert text.count(f"| `{name}` |") == 1, name

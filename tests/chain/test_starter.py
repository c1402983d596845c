"""The commented starting scenario of ``chainsim new``."""

from __future__ import annotations

import re

import pytest

from chainsim.chain.config import load_scenario
from chainsim.chain.errors import InputError
from chainsim.chain.parameters import resolve
from chainsim.chain.starter import starting_scenario
from conftest import BASELINE


def test_the_starting_scenario_loads_as_written_anywhere(tmp_path):
    path = tmp_path / "elsewhere" / "mine.toml"
    path.parent.mkdir()
    path.write_text(starting_scenario("mine"), encoding="utf-8")
    sc = load_scenario(path)
    resolve(sc, str(path))
    assert sc.name == "mine" and sc.interventions == []
    baseline = load_scenario(BASELINE)
    assert sc.parameters == baseline.parameters and sc.unknowns == baseline.unknowns


def test_its_commented_examples_are_valid_when_uncommented(tmp_path):
    text = starting_scenario("mine")
    assert "# operation = \"multiply\"                 # one of: set | multiply | add" in text
    uncommented = re.sub(r"^# (\[|[a-z_]+ = )", r"\1", text, flags=re.M)
    assert uncommented.count("[[interventions]]") == 1
    path = tmp_path / "mine.toml"
    path.write_text(uncommented, encoding="utf-8")
    sc = load_scenario(path)
    resolve(sc, str(path))
    assert [iv.operation for iv in sc.interventions] == ["multiply"]
    assert sc.parameters["investigation_capacity"].value == 250.0


def test_from_another_shipped_scenario(tmp_path):
    path = tmp_path / "more.toml"
    path.write_text(starting_scenario("more", "chainsim:more_probation"), encoding="utf-8")
    assert 'base = "chainsim:more_probation"' in path.read_text(encoding="utf-8")
    assert load_scenario(path).interventions == load_scenario(
        BASELINE.parent / "more_probation.toml").interventions


@pytest.mark.parametrize(("name", "base", "field"), [
    ("bad name", "baseline", "NAME"), ("../up", "baseline", "NAME"),
    ("ok", "baselin", "--from"), ("ok", "/etc/passwd", "--from")])
def test_bad_names_and_bases(name, base, field):
    with pytest.raises(InputError) as info:
        starting_scenario(name, base)
    (p,) = info.value.problems
    assert p.field == field and p.file == "<command line>"
    if base == "baselin":
        assert "did you mean 'baseline'" in p.allowed

"""The strict base model and the allowed-keys helper every input file shares."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from chainsim.analysis.targets import TargetFile
from chainsim.chain.config import CalibrationFile, Scenario
from chainsim.chain.costs import UnitCosts
from chainsim.chain.errors import InputError
from chainsim.chain.schema import StrictModel, allowed_keys, validate
from chainsim.experiments.design import DesignFile


@pytest.mark.parametrize("model", [Scenario, CalibrationFile, TargetFile, UnitCosts, DesignFile])
def test_every_input_file_is_a_strict_model(model):
    assert issubclass(model, StrictModel)
    assert model.model_config["extra"] == "forbid" and model.model_config["strict"]


@pytest.mark.parametrize("model, loc, expected", [
    (Scenario, ("bogus",), "base"),
    (Scenario, ("scenario", "bogus"), "start"),
    (Scenario, ("parameters", "signal_hazard", "bogus"), "young_factor"),
    (Scenario, ("unknowns", "reoffend_hazard", "bogus"), "central"),
    (Scenario, ("interventions", 0, "bogus"), "ramp_months"),
    (Scenario, ("interventions", 0, "target", "bogus"), "probation"),
    (CalibrationFile, ("parameters", "signal_hazard", "bogus"), "trend"),
    (TargetFile, ("targets", "t", "bogus"), "source"),
    (UnitCosts, ("bogus",), "prison_month"),
    (DesignFile, ("factors", "f", "bogus"), "levels"),
])
def test_allowed_keys_are_read_off_the_model(model, loc, expected):
    assert expected in allowed_keys(model, loc)


def test_no_model_at_the_location_means_no_list():
    assert allowed_keys(Scenario, ("parameters", "signal_hazard", "by_form", "bogus")) is None
    assert allowed_keys(Scenario, ("nonsense", "bogus")) is None


def test_validate_names_file_field_value_and_the_allowed_keys():
    class Table(StrictModel):
        low: float
        high: float = 1.0

    class Doc(BaseModel):
        table: dict[str, Table]

    with pytest.raises(InputError) as err:
        validate(Doc, {"table": {"a": {"low": 0.5, "colour": "red"}}}, "f.toml", prefix="x.")
    (p,) = err.value.problems
    assert (p.file, p.field, p.value) == ("f.toml", "x.table.a.colour", "red")
    assert p.allowed == "unknown key; allowed here: low, high"


def test_a_scenario_may_describe_itself_in_dutch_without_changing_its_hash():
    from pathlib import Path

    from chainsim.chain.config import load_scenario, scenario_from_dict

    root = Path(__file__).resolve().parents[2] / "scenarios"
    shipped = sorted(p for p in root.glob("*.toml"))
    assert shipped
    for path in shipped:  # every shipped scenario says in Dutch what it does
        meta = load_scenario(path).scenario
        assert meta.description_nl.strip(), path.name
        assert meta.description_nl != meta.description, path.name
    doc = load_scenario(root / "baseline.toml").model_dump(mode="json", exclude_none=True)
    doc.pop("base", None)
    doc.pop("calibration", None)
    before = scenario_from_dict(doc).config_hash()
    doc["scenario"]["description_nl"] = "iets anders"
    assert scenario_from_dict(doc).config_hash() == before
    doc["scenario"]["description_nl"] = 3  # strict: a text, not a number
    with pytest.raises(InputError):
        scenario_from_dict(doc)

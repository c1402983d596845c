"""The targets file: fitted targets and validation targets, two classes in one file."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import pytest

from chainsim.analysis.recidivism import COHORT_STRATA, parse_proxy, stratum_groups
from chainsim.analysis.targets import (
    DEFAULT_TARGETS,
    ValidationTarget,
    load_targets,
    load_validation_targets,
)
from chainsim.chain.errors import InputError
from faults.harness import dumps

DOC = tomllib.loads(DEFAULT_TARGETS.read_text(encoding="utf-8"))


def write(tmp_path: Path, doc: dict) -> Path:
    path = tmp_path / "targets.toml"
    path.write_text(dumps(doc), encoding="utf-8")
    return path


def test_the_fitted_targets_load_as_before_the_validation_class(tmp_path):
    # the same file without its [validation] tables gives the same fitted targets
    fitted_only = {"targets": DOC["targets"]}
    before = load_targets(write(tmp_path, fitted_only))
    after = load_targets(DEFAULT_TARGETS)
    assert after == before
    assert list(after) == list(DOC["targets"])
    assert load_validation_targets(write(tmp_path, fitted_only)) == {}


def test_the_validation_targets_of_the_file():
    val = load_validation_targets()
    assert list(val) == list(DOC["validation"])
    assert {"adult_ex_prisoners_general_2y", "adult_non_custodial_general_2y",
            "juveniles_general_2y", "sex_offenders_general_5y", "sex_offenders_specific_5y",
            "age_gradient_general_2y"} <= set(val)
    assert not set(val) & set(load_targets())
    for name, t in val.items():
        parse_proxy(t.proxy)
        assert t.low <= t.high, name
        assert len(t.source) > 20 and len(t.note) > 20, name
        for strata in (t.where, t.minus or {}):
            for stratum, groups in strata.items():
                assert stratum in COHORT_STRATA
                groups = groups if isinstance(groups, list) else [groups]
                assert set(groups) <= set(stratum_groups(stratum))
    ex = val["adult_ex_prisoners_general_2y"]
    assert ex.proxy == "observed_general_2y" and ex.where["sanction"] == "prison"
    assert 0.40 <= 0.47 <= ex.high and ex.low <= 0.485 <= ex.high
    sex = val["sex_offenders_specific_5y"]
    assert sex.where == {"form": ["domestic_sexual", "cross_border_sexual"]}
    assert sex.low <= 0.09 <= sex.high
    gradient = val["age_gradient_general_2y"]
    assert gradient.minus == {"age_at_offence": "30plus"} and gradient.low > 0


GOOD = {"proxy": "observed_general_2y", "where": {"sanction": "prison"}, "low": 0.4,
        "high": 0.56, "source": "WODC", "note": "like with like"}


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"proxy": "observed_general"}, "proxy", "proxy"),
    ({"proxy": "recid_true_2y"}, "proxy", "proxy"),
    ({"where": {"colour": "red"}}, "where.colour", "stratum"),
    ({"where": {"sanction": "fine"}}, "where.sanction", "prison, non_custodial"),
    ({"where": {"sanction": True}}, "where.sanction", "a group of sanction"),
    ({"where": {"probation": "yes"}}, "where.probation", "false, true"),
    ({"where": {"form": []}}, "where.form", "at least one"),
    ({"where": {"age_at_offence": ["18-22", "16-17"]}}, "where.age_at_offence", "under18"),
    ({"minus": {"age_group": "young"}}, "minus.age_group", "under23"),
    ({"low": -0.1}, "low", "share"),
    ({"high": 1.5}, "high", "share"),
    ({"low": 0.6}, "low", "low <= high"),
    ({"note": "x"}, "note", None),
    ({"bogus": 1}, "bogus", None),
])
def test_bad_validation_targets_are_rejected(tmp_path, change, field, words):
    doc = copy.deepcopy(DOC)
    doc["validation"] = {"t": {**GOOD, **change}}
    with pytest.raises(InputError) as err:
        load_targets(write(tmp_path, doc))  # a bad validation target fails the whole file
    (problem,) = err.value.problems
    assert problem.field == f"validation.t.{field}"
    if words:
        assert words in str(problem)


def test_a_difference_may_be_negative_and_probation_groups_are_booleans():
    t = ValidationTarget(**{**GOOD, "where": {"probation": True},
                            "minus": {"probation": False}, "low": -0.2, "high": 0.1})
    assert t.low == -0.2
    with pytest.raises(ValueError, match="share"):
        ValidationTarget(**{**GOOD, "low": -0.2})

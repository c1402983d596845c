"""Validation targets evaluated over replications, and reported by ``chainsim run``."""

from __future__ import annotations

import json
import math

import pytest

from analysis.test_recidivism import build, general, new_case, sanction
from chainsim import cli
from chainsim.analysis.recidivism import cohort_table
from chainsim.analysis.targets import ValidationTarget, load_validation_targets
from chainsim.analysis.validation import (
    LABEL,
    evaluate_validation,
    target_value,
    validation_block,
)
from conftest import short_doc
from faults.harness import dumps

COHORT = (1000, 1011, 1200)

# two replications; agent 1 of the first is under 18 at the offence (960: year 80)
REP_A = {1: sanction(1000) + general(1005),
         2: sanction(1001),
         3: sanction(1002, custodial=False) + new_case(1004, 1010, "convicted", 1012),
         4: sanction(1003, custodial=False)}
REP_B = {1: sanction(1000) + general(1020),
         2: sanction(1001) + new_case(1010, 1015, "summoned"),
         3: sanction(1002, custodial=False) + general(1040),   # after two years
         4: sanction(1003, custodial=False)}
BIRTHS_A = {1: 63, 2: 50, 3: 50, 4: 50}
BIRTHS_B = {1: 50, 2: 50, 3: 50, 4: 50}


def target(**kw) -> ValidationTarget:
    return ValidationTarget(**({"proxy": "observed_general_2y", "low": 0.4, "high": 0.56,
                                "source": "WODC", "note": "a test"} | kw))


TARGETS = {
    "prison": target(where={"sanction": "prison"}),
    "non_custodial": target(where={"sanction": "non_custodial"}, low=0.2, high=0.3),
    "difference": target(where={"sanction": "prison"}, minus={"sanction": "non_custodial"},
                         low=0.0, high=1.0),
    "juveniles": target(where={"age_at_offence": "under18"}, low=0.3, high=0.5),
    "nobody": target(where={"age_at_index": "under18"}),
    "specific": target(proxy="observed_specific_2y", where={"sanction": ["prison"]},
                       low=0.0, high=0.3),
}


@pytest.fixture(scope="module")
def records():
    return [build(REP_A, births=BIRTHS_A), build(REP_B, births=BIRTHS_B)]


def test_target_value_in_one_replication(records):
    table = cohort_table(records[0], *COHORT)
    assert target_value(table, TARGETS["prison"]) == (0.5, 2, None)
    assert target_value(table, TARGETS["difference"]) == (0.0, 2, 2)
    value, n, _ = target_value(table, TARGETS["nobody"])
    assert math.isnan(value) and n == 0


def test_mean_monte_carlo_se_and_bounds_over_replications(records):
    rows = evaluate_validation(records, TARGETS, cohort=COHORT)
    assert list(rows) == list(TARGETS)
    prison = rows["prison"]
    # 1/2 and 2/2: mean 0.75, sd 0.354 over two replications, se 0.25
    assert prison["value"] == 0.75 and prison["se"] == pytest.approx(0.25)
    assert prison["inside"] is False and prison["reps"] == 2
    assert (prison["low"], prison["high"]) == (0.4, 0.56)
    assert prison["index_offenders"] == 2 and prison["index_offenders_minus"] is None
    assert rows["non_custodial"]["value"] == 0.25 and rows["non_custodial"]["inside"] is True
    diff = rows["difference"]  # 0.5 - 0.5 and 1 - 0
    assert diff["value"] == 0.5 and diff["se"] == pytest.approx(0.5)
    assert diff["index_offenders_minus"] == 2 and diff["minus"] == {"sanction": "non_custodial"}
    # defined in one replication only: its value, no se
    juveniles = rows["juveniles"]
    assert (juveniles["value"], juveniles["se"], juveniles["reps"]) == (1.0, None, 1)
    assert juveniles["inside"] is False and juveniles["index_offenders"] == 0.5
    nobody = rows["nobody"]
    assert (nobody["value"], nobody["se"], nobody["inside"], nobody["reps"]) == \
        (None, None, None, 0)
    assert rows["specific"]["value"] == 0.25 and rows["specific"]["inside"] is True
    json.dumps(rows, allow_nan=False)
    # cohort tables give the same (what a run passes from its replications)
    tables = [cohort_table(r, *COHORT) for r in records]
    assert evaluate_validation(tables, TARGETS) == rows
    with pytest.raises(ValueError, match="cohort"):
        evaluate_validation(records, TARGETS)


def test_the_block_counts_and_dates(records):
    block = validation_block(records, TARGETS, "t.toml", cohort=COHORT)
    assert block["label"] == LABEL == "validation (not fitted)"
    assert block["cohort"] == ["0083-05", "0084-04"] and block["horizon_end"] == "0100-01"
    assert block["extension_months"] == 12
    assert (block["inside"], block["evaluated"], block["total"]) == (3, 5, 6)
    assert block["by_target"]["prison"]["value"] == 0.75


# ------------------------------------------------------------------ chainsim run


@pytest.fixture(scope="module")
def longer_short(tmp_path_factory):
    """The short scenario run to 2022-12: 2015-2019 index months have 2 years + the extension."""
    doc = short_doc()
    doc["scenario"].update(end="2022-12", name="short_to_2022")
    path = tmp_path_factory.mktemp("validation") / "short_to_2022.toml"
    path.write_text(dumps(doc), encoding="utf-8")
    return path


@pytest.mark.slow
def test_run_reports_the_validation_targets(longer_short, tmp_path, capsys):
    code = cli.main(["run", str(longer_short), "--reps", "2", "--seed", "3", "--workers", "1",
                     "--out", str(tmp_path / "json"), "--json"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    block = doc["validation"]
    targets = load_validation_targets()
    assert block["label"] == "validation (not fitted)"
    assert block["cohort"] == ["2015-01", "2019-12"] and block["horizon_end"] == "2022-12"
    assert block["total"] == len(targets) and list(block["by_target"]) == list(targets)
    for name, row in block["by_target"].items():
        assert {"value", "se", "low", "high", "inside", "reps", "proxy", "where"} <= set(row)
        # (the 5-year proxies from the index months of 2015-2016 only)
        assert row["value"] is not None and row["reps"] == 2, name
        assert row["inside"] == (row["low"] <= row["value"] <= row["high"])
        assert row["se"] is not None and row["index_offenders"] > 0
    assert block["evaluated"] == len(targets)
    assert block["inside"] == sum(r["inside"] for r in block["by_target"].values())
    # the fitted targets are the same as before: validation is a block of its own
    assert not set(block["by_target"]) & set(doc["targets"].get("by_target", {}))
    # the run's recidivism block has the sanction stratum
    assert set(doc["recidivism"]["by_sanction"]) == {"prison", "non_custodial"}

    code = cli.main(["run", str(longer_short), "--reps", "2", "--seed", "3", "--workers", "1",
                     "--out", str(tmp_path / "table")])
    out = capsys.readouterr().out
    assert code == 0
    assert ("validation (not fitted): WODC recidivism, offenders released or sanctioned "
            "2015-01 to 2019-12") in " ".join(out.split())
    assert "Calibration targets:" in out
    for name, row in block["by_target"].items():  # the group, in words
        assert name.removesuffix("_" + row["proxy"].removeprefix("observed_")).replace(
            "_", " ") in out


# ------------------------------------------------------------------ chainsim calibrate


def test_calibrate_prints_the_validation_targets_beside_the_fit(records, tmp_path, capsys,
                                                                 monkeypatch):
    import pandas as pd

    from chainsim.outputs import folders

    verified = validation_block(records, TARGETS, "t.toml", cohort=COHORT)
    listed = {"label": LABEL, "file": "t.toml", "evaluated": 0, "total": 1,
              "note": "not evaluated: give --verify REPS",
              "by_target": {"prison": {"proxy": "observed_general_2y", "low": 0.4,
                                       "high": 0.56, "value": None}}}
    for block, expected in ((verified, ["prison", "observed general recidivism within 2 years",
                                        "75.0 %", "25.0 pp", "40–56 %", "⚠ no",
                                        "3 of 6 inside"]),
                            (listed, ["prison", "40–56 %", "not evaluated"])):
        def fake(scenario, targets, out, block=block, **_):
            out.mkdir(parents=True, exist_ok=True)
            pd.DataFrame({"target": ["traced"], "observed": [180], "model": [181.0],
                          "residual": [0.1], "met": [True]}).to_csv(out / "fit.csv",
                                                                     index=False)
            return {"targets_met": 1, "targets": 1, "seconds": 0.1, "twin_evaluations": 3,
                    "validation": block}

        monkeypatch.setattr(folders, "calibrate_to_directory", fake)
        code = cli.main(["calibrate", "--out", str(tmp_path / "cal")])
        out = capsys.readouterr().out
        assert code == 0
        fit_part, _, validation_part = out.partition("validation (not fitted)")
        assert "traced" in fit_part and "1 of 1 targets met" in fit_part
        flowing = " ".join(validation_part.split())  # prose lines wrap at the table width
        for words in expected:
            assert words in flowing, words

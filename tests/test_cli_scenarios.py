"""Scenarios without friction on the command line: any file, ``new``, ``parameters``."""

from __future__ import annotations

import pytest

from chainsim import cli
from chainsim.chain.spec import PARAMETERS
from chainsim.outputs.parameters import parameters_markdown
from conftest import SHORT


def test_new_writes_a_scenario_that_validates_and_runs_anywhere(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["new", "mine"]) == 0
    assert "mine.toml: written" in capsys.readouterr().out
    text = (tmp_path / "mine.toml").read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith("# mine: a chainsim scenario")
    assert 'base = "chainsim:baseline"' in text and "set | multiply | add" in text
    assert cli.main(["validate", "mine.toml"]) == 0
    assert "mine.toml: ok" in capsys.readouterr().out
    assert cli.main(["run", "mine.toml", "--reps", "1", "--workers", "1", "--json",
                     "--out", "out"]) == 0
    assert '"scenario": "mine"' in capsys.readouterr().out
    assert (tmp_path / "out" / "summary.json").exists()


def test_new_never_overwrites_and_rejects_bad_names(tmp_path, capsys):
    target = tmp_path / "there.toml"
    target.write_text("mine", encoding="utf-8")
    assert cli.main(["new", "x", "--out", str(target)]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and "does not exist yet" in err and "Traceback" not in err
    assert target.read_text(encoding="utf-8") == "mine"
    assert cli.main(["new", "x", "--from", "baselien", "--out", str(tmp_path / "x.toml")]) == 2
    assert "did you mean 'baseline'" in capsys.readouterr().err
    assert cli.main(["new", "a b", "--out", str(tmp_path / "y.toml")]) == 2
    assert not (tmp_path / "x.toml").exists() and not (tmp_path / "y.toml").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["there.toml"]  # no temporaries


def test_the_cli_reads_files_the_user_names_anywhere(tmp_path, capsys, monkeypatch):
    """Absolute paths and ``..`` are followed; the shipped baseline is found by name."""
    (tmp_path / "bases").mkdir()
    (tmp_path / "bases" / "short.toml").write_text(SHORT.read_text(encoding="utf-8"),
                                                   encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    (work / "up.toml").write_text('base = "../bases/short.toml"\n[scenario]\nname = "up"\n',
                                  encoding="utf-8")
    (work / "abs.toml").write_text(f'base = "{tmp_path / "bases" / "short.toml"}"\n'
                                   '[scenario]\nname = "abs"\n', encoding="utf-8")
    (work / "named.toml").write_text('base = "chainsim:baseline"\n[scenario]\nname = "n"\n',
                                     encoding="utf-8")
    monkeypatch.chdir(work)
    assert cli.main(["validate", "up.toml", str(work / "abs.toml"), "named.toml",
                     "../work/named.toml", "chainsim:more_probation"]) == 0
    out = capsys.readouterr().out
    assert out.count(": ok") == 5


def test_validate_reports_all_problems_in_one_round_with_one_notation(tmp_path, capsys):
    text = SHORT.read_text(encoding="utf-8").replace("[parameters.signal_hazard]",
                                                     "[parameters.singal_hazard]")
    text += ('\n[[interventions]]\nname = "x"\nparameter = "recall_cv"\noperation = "mult"\n'
             'value = 1.1\nstart = "2014-01"\nnote = "x"\n')
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    assert cli.main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert all(line.startswith(f"chainsim: error: {path}: ") for line in lines), err
    assert f"{path}: parameters.singal_hazard = 'singal_hazard': unknown parameter; " \
           "did you mean 'signal_hazard'?" in err
    assert "interventions[0].operation = 'mult': not allowed; did you mean 'multiply'?" in err
    assert ("interventions[0].note = 'x': a text of at least 3 characters saying where the "
            "number comes from") in err  # too short: the schema, in the same round
    assert "parameters.signal_hazard = 'missing'" in err
    assert "interventions.0" not in err and "Traceback" not in err


def test_parameters_lists_every_parameter(capsys):
    assert cli.main(["parameters"]) == 0
    out = capsys.readouterr().out
    for name in PARAMETERS:
        assert name in out, name
    for word in ("unit", "role", "default", "range", "meaning", "monthly hazard", "per year"):
        assert word in out


def test_parameters_by_role_and_as_markdown(capsys):
    assert cli.main(["parameters", "--role", "lever"]) == 0
    out = capsys.readouterr().out
    levers = [n for n, s in PARAMETERS.items() if s.role == "lever"]
    assert all(n in out for n in levers)
    assert "inflow_rate" not in out  # an unknown
    assert cli.main(["parameters", "--markdown"]) == 0
    assert capsys.readouterr().out == parameters_markdown()
    assert cli.main(["parameters", "--markdown", "--role", "lever"]) == 2


@pytest.mark.parametrize("args", [["parameters", "--role", "knob"], ["new"]])
def test_bad_options_exit_2(args, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(args)
    assert info.value.code == 2

"""The command line end to end: ``python -m chainsim`` in a subprocess and ``cli.main``."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pyarrow.parquet as pq
import pytest

from chainsim import cli
from chainsim.chain.errors import InputError
from chainsim.chain.streams import replication_seeds
from chainsim.engines.model import ChainModel
from conftest import BASELINE, ROOT, SHORT

SHORT_REL = str(SHORT.relative_to(ROOT))

METRIC_KEYS = {"signalled", "traced", "summoned", "technical_dismissals", "policy_dismissals",
               "appealed", "convicted", "acquitted", "prison", "probation", "probation_refused",
               "prison_months",
               "technical_dismissal_share", "before_judge_share"}
SHARE_KEYS = {"form_domestic_sexual", "form_cross_border_sexual", "form_labour",
              "form_criminal", "form_other", "under23_domestic_sexual", "under23_criminal",
              "female"}
OUTPUT_FILES = {"records.parquet", "annual_flows.csv", "yearly_metrics.csv", "summary.json",
                "funnel.png"}


def chainsim(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CHAINSIM_DEBUG"}
    return subprocess.run([sys.executable, "-m", "chainsim", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def write_bad_scenario(tmp_path):
    text = SHORT.read_text(encoding="utf-8") + (
        '\n[parameters.singal_hazard]\nvalue = 0.1\nnote = "typo of signal_hazard"\n')
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------ a real run


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    proc = chainsim("run", SHORT_REL, "--reps", "2", "--seed", "1", "--out", str(out), "--json")
    return proc, out


@pytest.mark.slow
def test_run_exits_zero_and_prints_the_summary(cli_run):
    proc, _ = cli_run
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    doc = json.loads(proc.stdout)
    assert {"scenario", "config_hash", "seed", "reps", "engine", "versions", "window_mean",
            "by_year", "shares"} <= set(doc)
    assert doc["scenario"] == "baseline_short"
    assert (doc["seed"], doc["reps"], doc["engine"]) == (1, 2, "fast")  # the default
    assert len(doc["config_hash"]) == 16
    assert {"python", "chainsim", "mesa", "numpy", "scipy", "pandas"} <= set(doc["versions"])
    assert set(doc["window_mean"]) == METRIC_KEYS
    assert set(doc["shares"]) == SHARE_KEYS
    assert list(doc["by_year"]) == [str(y) for y in range(2012, 2018)]
    for block in (doc["window_mean"], doc["shares"], *doc["by_year"].values()):
        for stats in block.values():
            assert set(stats) == {"mean", "lo", "hi"}
    # numbers, ordered, for metrics that have cases in 2015-2017
    for name in ("signalled", "traced", "summoned", "convicted", "prison", "prison_months"):
        s = doc["window_mean"][name]
        assert s["lo"] <= s["mean"] <= s["hi"]
        assert s["mean"] > 0
    assert 0 < doc["shares"]["form_domestic_sexual"]["mean"] < 1


@pytest.mark.slow
def test_run_writes_the_documented_files(cli_run):
    proc, out = cli_run
    assert proc.returncode == 0, proc.stderr
    assert {p.name for p in out.iterdir()} == OUTPUT_FILES  # no temporary files left
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary == json.loads(proc.stdout)
    assert (out / "funnel.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    yearly = pd.read_csv(out / "yearly_metrics.csv")
    assert {"year", "rep", *METRIC_KEYS} <= set(yearly.columns)
    assert len(yearly) == 2 * 6
    flows = pd.read_csv(out / "annual_flows.csv")
    assert {"year", "event", "form", "age_group", "count", "rep"} <= set(flows.columns)
    assert set(flows["rep"]) == {0, 1}
    umask = os.umask(0)
    os.umask(umask)
    for name in OUTPUT_FILES:
        assert (out / name).stat().st_mode & 0o777 == 0o666 & ~umask, name


@pytest.mark.slow
def test_records_parquet_holds_every_replication_with_provenance(cli_run, short_params):
    proc, out = cli_run
    assert proc.returncode == 0, proc.stderr
    meta = pq.read_schema(out / "records.parquet").metadata
    doc = json.loads(proc.stdout)
    assert meta[b"config_hash"].decode() == doc["config_hash"]
    assert meta[b"seed"] == b"1"
    assert meta[b"scenario"] == b"baseline_short"
    assert json.loads(meta[b"versions"]) == doc["versions"]
    records = pd.read_parquet(out / "records.parquet")
    assert set(records["rep"]) == {0, 1}
    rep1 = records[records["rep"] == 1].drop(columns="rep").reset_index(drop=True)
    direct = ChainModel(short_params, replication_seeds(1, 2)[1]).run().records.to_frame()
    # the default engine (fast) writes the agent model's records, a month's offenders in
    # another order (see test_fast)
    def by_offender(r):
        return r.sort_values(["agent_id", "month"], kind="stable").reset_index(drop=True)

    pd.testing.assert_frame_equal(by_offender(rep1), by_offender(direct))


@pytest.mark.slow
def test_running_twice_gives_identical_json(cli_run, tmp_path, capsys):
    proc, _ = cli_run
    assert proc.returncode == 0, proc.stderr
    # in-process this time, one worker: the same seed must give the same document
    code = cli.main(["run", str(SHORT), "--reps", "2", "--seed", "1", "--out",
                     str(tmp_path / "again"), "--json", "--workers", "1"])
    captured = capsys.readouterr()
    assert code == 0
    doc = json.loads(captured.out)
    assert doc == json.loads(proc.stdout)
    assert {p.name for p in (tmp_path / "again").iterdir()} == OUTPUT_FILES


def test_run_prints_a_table_without_json(tmp_path, capsys):
    code = cli.main(["run", str(SHORT), "--reps", "1", "--seed", "3", "--workers", "1",
                     "--out", str(tmp_path / "table")])
    out = capsys.readouterr().out
    assert code == 0
    assert "Scenario baseline_short" in out
    assert "1 replication · seed 3" in out and "1 replications" not in out
    from chainsim.outputs import labels

    for name in METRIC_KEYS | SHARE_KEYS:
        assert labels.text(name) in out
        if "_" in name:
            assert name not in out  # human labels, not internal names
    assert f"results written to {tmp_path / 'table'}" in out
    with pytest.raises(json.JSONDecodeError):
        json.loads(out)


# ------------------------------------------------------------------ validate


def test_validate_baseline_exits_zero():
    proc = chainsim("validate", str(BASELINE.relative_to(ROOT)), SHORT_REL)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["scenarios/baseline.toml: ok", f"{SHORT_REL}: ok"]


def test_validate_reports_every_problem_in_process(tmp_path, capsys):
    bad = write_bad_scenario(tmp_path)
    code = cli.main(["validate", str(SHORT), str(bad)])
    captured = capsys.readouterr()
    assert code == 2
    assert f"{SHORT}: ok" in captured.out
    (line,) = captured.err.splitlines()
    assert line.startswith(f"chainsim: error: {bad}: parameters.singal_hazard = 'singal_hazard'")
    assert "unknown parameter" in line


# ------------------------------------------------------------------ bad input


@pytest.mark.slow
def test_unknown_parameter_exits_2_without_traceback(tmp_path):
    bad = write_bad_scenario(tmp_path)
    out = tmp_path / "never"
    proc = chainsim("run", str(bad), "--reps", "1", "--out", str(out), "--json")
    assert proc.returncode == 2
    assert "singal_hazard" in proc.stderr
    assert str(bad) in proc.stderr
    assert "parameters.singal_hazard" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert not out.exists()


def test_reps_zero_exits_2_without_traceback(tmp_path):
    out = tmp_path / "never"
    proc = chainsim("run", SHORT_REL, "--reps", "0", "--out", str(out))
    assert proc.returncode == 2
    assert "--reps" in proc.stderr and "0" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", SHORT_REL, "--reps", "0"], "from 1 to 1,000,000"),
        (["run", SHORT_REL, "--reps", "1000001"], "from 1 to 1,000,000"),
        (["run", SHORT_REL, "--reps", "two"], "not a whole number"),
        (["run", SHORT_REL, "--seed", "-1"], "from 0 to"),
        (["run", SHORT_REL, "--workers", "0"], "from 1 to 1,024"),
        (["sweep", "d.toml", "--workers", "2000"], "from 1 to 1,024"),
        (["dashboard", "--port", "70000"], "from 0 to 65,535"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_options_exit_2_in_process(args, message, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(args)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--emulator", "10"], "--emulator = 10: 0, or at least 276 twin runs"),
        (["--emulator", "300", "--waves", "4"], "at least 368 twin runs"),
        (["--candidates", "5"], "--candidates = 5: at least --members (1000)"),
        (["--joint"], "--joint = True: only with --emulator RUNS"),
        (["--emulator", "400", "--joint", "--draws", "2"], "--draws = 2: 1 with --joint"),
        (["--emulator", "300", "--joint"], "0, or at least 324 twin runs (twice the 54"),
    ],
)
def test_bad_posterior_sampler_options_exit_2_before_any_work(args, message, tmp_path, capsys):
    out = tmp_path / "never"
    code = cli.main(["calibrate", "--posterior", *args, "--out", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists()


def test_a_journal_of_another_scenario_exits_2_and_is_kept(tmp_path, capsys):
    """An emulated run refuses a journal claimed by another scenario or other figures (the
    steps' keys do not hold them) before any work, and leaves the folder as it was."""
    from chainsim.experiments.journal import DEFINITION_NAME, JOURNAL_NAME

    journal = tmp_path / JOURNAL_NAME
    journal.mkdir()
    (journal / DEFINITION_NAME).write_text("another\n", encoding="utf-8")
    (journal / "design-1-0123.pkl").write_bytes(b"kept")
    code = cli.main(["calibrate", "--posterior", "--emulator", "300", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "the steps of another scenario or other figures" in err and "--fresh" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == [JOURNAL_NAME]
    assert (journal / "design-1-0123.pkl").read_bytes() == b"kept"


def test_posterior_sampler_options_reach_the_run(tmp_path, monkeypatch):
    """The sampler's options are passed on as given (``--candidates`` was once shadowed by
    the progress bar and silently dropped). The run is stopped at its start: this checks
    the command line's plumbing, the run itself is tested in tests/experiments."""
    import chainsim.experiments.posterior_run as posterior_run

    seen = {}

    def record(scenario, targets, **kwargs):
        seen.update(kwargs)
        raise InputError.single("<test>", "stop", "here", "nothing")

    monkeypatch.setattr(posterior_run, "run_posterior", record)
    code = cli.main(["calibrate", "--posterior", "--members", "1000", "--emulator", "400",
                     "--joint", "--candidates", "1500", "--thin", "7", "--steps", "5000",
                     "--burn", "1000", "--waves", "2", "--seed", "3", "--out", str(tmp_path)])
    assert code == 2
    assert {k: seen[k] for k in ("candidates", "thin", "design", "design_waves", "joint",
                                 "steps", "burn", "seed", "members")} == {
        "candidates": 1500, "thin": 7, "design": 400, "design_waves": 2, "joint": True,
        "steps": 5000, "burn": 1000, "seed": 3, "members": 1000}


def test_bad_input_in_process_writes_nothing(tmp_path, capsys):
    bad = write_bad_scenario(tmp_path)
    out = tmp_path / "never"
    code = cli.main(["run", str(bad), "--reps", "1", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 2
    assert "parameters.singal_hazard" in captured.err
    assert captured.out == ""
    assert not out.exists()


@pytest.mark.parametrize(
    ("content", "field"),
    [(b"", "(file)"), (b"[scenario\nname = 1\n", "(syntax)"), (b"# caf\xe9\n", "(file)")],
)
def test_unreadable_scenarios_exit_2(tmp_path, capsys, content, field):
    path = tmp_path / "s.toml"
    path.write_bytes(content)
    code = cli.main(["validate", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"chainsim: error: {path}: {field} = " in err


def test_missing_file_exits_2(tmp_path, capsys):
    path = tmp_path / "nope.toml"
    assert cli.main(["run", str(path), "--out", str(tmp_path / "o")]) == 2
    assert f"{path}: (file)" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_internal_error_exits_1_with_a_hint(tmp_path, capsys, monkeypatch):
    import chainsim.outputs.folders

    def boom(*args, **kwargs):
        raise RuntimeError("engine exploded")

    monkeypatch.delenv("CHAINSIM_DEBUG", raising=False)
    monkeypatch.setattr(chainsim.outputs.folders, "run_to_directory", boom)
    code = cli.main(["run", str(SHORT), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 1
    assert "internal error: RuntimeError: engine exploded" in err
    assert "CHAINSIM_DEBUG" in err


def test_no_command_prints_help_and_exits_2(capsys):
    assert cli.main([]) == 2
    assert "usage: chainsim" in capsys.readouterr().out


def test_version(capsys):
    import chainsim

    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"chainsim {chainsim.__version__}"


# ------------------------------------------------------------------ compare and report


INTERVENTION = """
[[interventions]]
name = "longer terms"
parameter = "prison_months_mean"
operation = "multiply"
value = 1.3
low = 1.1
high = 1.6
start = "2014-01"
note = "a test intervention on the short horizon"
"""


@pytest.fixture
def compare_files(tmp_path):
    """A short baseline and a scenario inheriting from it, side by side in ``tmp_path``."""
    base = tmp_path / "baseline.toml"
    base.write_text(SHORT.read_text(encoding="utf-8"), encoding="utf-8")
    scen = tmp_path / "longer.toml"
    scen.write_text('base = "baseline.toml"\n\n[scenario]\nname = "longer"\n'
                    'description = "longer prison terms from 2014"\n' + INTERVENTION,
                    encoding="utf-8")
    return base, scen


@pytest.mark.slow
def test_compare_exits_zero_and_prints_the_comparison_document(compare_files, tmp_path):
    from chainsim.analysis.proxies import PROXIES
    from chainsim.outputs.report import SAVED_FILES

    base, scen = compare_files
    out = tmp_path / "cmp"
    proc = chainsim("compare", str(base), str(scen), "--reps", "1", "--seed", "3", "--json",
                    "--out", str(out), "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    doc = json.loads(proc.stdout)
    assert (doc["baseline"], doc["seed"], doc["reps"], doc["uncertainty"]) == (
        "baseline_short", 3, 1, False)
    assert doc["period"] == ["2014-01", "2017-12"]
    assert list(doc["scenarios"]) == ["longer"]
    deltas = doc["scenarios"]["longer"]["deltas"]
    assert list(deltas) == list(PROXIES)
    assert deltas["prison_months_served"]["n"] == 1
    assert deltas["prison_months_served"]["lo"] is None  # one replication: no interval
    assert set(SAVED_FILES) <= {p.name for p in out.iterdir()}
    assert json.loads((out / "comparison.json").read_text(encoding="utf-8")) == doc


def test_compare_prints_human_tables(compare_files, tmp_path, capsys):
    import re

    base, scen = compare_files
    code = cli.main(["compare", str(base), str(scen), "--reps", "2", "--seed", "3",
                     "--workers", "1", "--out", str(tmp_path / "cmp")])
    out = capsys.readouterr().out
    assert code == 0
    assert "Baseline scenario: baseline_short · 2 paired replications per scenario" in out
    assert "baseline baseline" not in out and "1 replications" not in out
    assert not re.search(r"\d[eE][+-]?\d", out), "scientific notation"
    # the output names its folder: pytest's first temporary folder is .../pytest-0/...
    shown = out.replace(str(tmp_path), "<tmp>")
    assert not re.search(r"[−-]0(?:[.,]0+)?(?![\d.,])", shown), "a negative zero"
    assert "recid_" not in out and "active_offender_months" not in out
    assert re.search(r"offender-months of trafficking +per year +\d{1,3}(,\d{3})* ", out)
    assert " pp " in out and "95 % interval" in out and "percentage points" in out


def test_help_texts_print_percent_signs_once(capsys):
    for command in ("sensitivity", "compare", "calibrate"):
        with pytest.raises(SystemExit):
            cli.main([command, "--help"])
        text = capsys.readouterr().out
        assert "%%" not in text, command
    assert "95 % confidence intervals" in cli.build_parser()._subparsers._group_actions[
        0].choices["sensitivity"].description


@pytest.mark.slow
@pytest.mark.parametrize("which", ["scenario", "baseline"])
def test_compare_with_a_bad_scenario_exits_2_and_writes_nothing(compare_files, tmp_path,
                                                                which):
    base, scen = compare_files
    bad = write_bad_scenario(tmp_path)
    args = (str(base), str(bad)) if which == "scenario" else (str(bad), str(scen))
    out = tmp_path / "never"
    proc = chainsim("compare", *args, "--reps", "1", "--seed", "3", "--json", "--out",
                    str(out), "--workers", "1")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert f"{bad}: parameters.singal_hazard" in proc.stderr
    assert proc.stdout == ""
    assert not out.exists()


def test_compare_with_another_horizon_exits_2_and_writes_nothing(compare_files, tmp_path,
                                                                 capsys):
    base, _ = compare_files
    other = tmp_path / "other.toml"
    other.write_text('base = "baseline.toml"\n\n[scenario]\nname = "other"\nend = "2016-12"\n',
                     encoding="utf-8")
    out = tmp_path / "never"
    code = cli.main(["compare", str(base), str(other), "--reps", "1", "--json", "--out",
                     str(out), "--workers", "1"])
    captured = capsys.readouterr()
    assert code == 2
    assert "horizon" in captured.err
    assert captured.out == ""
    assert not out.exists()


def test_uncertainty_without_an_ensemble_says_how_to_make_one(tmp_path):
    proc = chainsim("compare", SHORT_REL, SHORT_REL, "--reps", "2", "--uncertainty",
                    "--ensemble", str(tmp_path / "posterior.parquet"), "--out",
                    str(tmp_path / "out"))
    assert proc.returncode == 2
    assert "chainsim calibrate --posterior" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


def test_compare_under_uncertainty_refuses_an_arm_setting_what_members_set(compare_files,
                                                                          tmp_path, capsys):
    """An arm's own [unknowns] entry that a member would replace: exit 2, say what to do."""
    from conftest import ENSEMBLE_PRIORS, write_ensemble

    base, scen = compare_files
    write_ensemble(tmp_path / "posterior.parquet", pd.DataFrame({
        "member": range(3), "signal_hazard.scale": [1.0, 1.1, 0.9],
        "conviction_prob.scale": [1.0] * 3, "resume_share": [0.4, 0.5, 0.6]}),
        {"priors": ENSEMBLE_PRIORS})
    arm = tmp_path / "resume.toml"
    arm.write_text('base = "baseline.toml"\n\n[scenario]\nname = "resume"\n\n'
                   "[unknowns.resume_share]\ncentral = 0.3\nlow = 0.2\nhigh = 0.8\n"
                   'note = "fewer go back to offending"\n', encoding="utf-8")
    out = tmp_path / "never"
    args = ["compare", str(base), str(scen), str(arm), "--reps", "3", "--uncertainty",
            "--ensemble", str(tmp_path / "posterior.parquet"), "--out", str(out),
            "--workers", "1"]
    code = cli.main(args)
    captured = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in captured.err and captured.out == ""
    assert f"{arm}: unknowns.resume_share.central = 0.3: the baseline's 0.5" in captured.err
    assert "sets resume_share per member" in captured.err
    assert "as an intervention instead" in captured.err
    assert str(scen) not in captured.err  # its change is an intervention: fine
    assert not out.exists()


def test_compare_under_uncertainty_reports_the_posterior_spread(tmp_path):
    import numpy as np

    from conftest import ENSEMBLE_PRIORS, write_ensemble

    n = 12
    write_ensemble(tmp_path / "posterior.parquet", pd.DataFrame({
        "member": range(n), "signal_hazard.scale": np.linspace(0.8, 1.2, n),
        "conviction_prob.scale": np.ones(n), "resume_share": np.linspace(0.3, 0.7, n)}),
        {"priors": ENSEMBLE_PRIORS})
    args = ("compare", SHORT_REL, SHORT_REL, "--uncertainty", "--ensemble",
            str(tmp_path / "posterior.parquet"), "--seed", "3", "--out", str(tmp_path / "o"))
    too_many = chainsim(*args, "--reps", str(n + 1))
    assert too_many.returncode == 2 and "at most the ensemble's 12 members" in too_many.stderr
    proc = chainsim(*args, "--reps", str(n), "--min-effect", "0.01", "--report")
    assert proc.returncode == 0, proc.stderr
    assert "90 % over posterior" in proc.stdout and "P(lower)" in proc.stdout
    report = (tmp_path / "o" / "report.html").read_text(encoding="utf-8")
    assert "90 % interval over the posterior" in report and "P(reduction &gt; 1 %)" in report
    assert "comes from the policy, not from chance" not in report
    # 12 replications repeat 10 members: the split of the spread is rough, and both say so
    advice = "Run at least 400 replications before saying how large the effect may be"
    assert advice in " ".join(report.split()) and advice in " ".join(proc.stdout.split())
    for key in ("recid_true_2y", "recid_observed_general_2y", "active_offender_months"):
        assert key not in report  # labels, also in the uncertainty section
    doc = json.loads((tmp_path / "o" / "comparison.json").read_text())
    entry = doc["scenarios"]["baseline_short"]
    assert doc["ensemble_repeats"] == 10 and doc["min_effect"] == 0.01
    # a self-comparison: no effect in any member, so nothing for the parameters to explain
    court = entry["under_uncertainty"]["court_cases"]
    assert court["mean"] == 0 and court["prediction"] == [0.0, 0.0]

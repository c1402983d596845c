"""Faults while writing results: a killed run, an unwritable directory, a full disk.

What must hold: a run that is killed or fails part-way leaves the earlier complete
results in its output directory byte for byte (only dot-prefixed temporaries of
the dead process remain, and the next run removes them); a directory that
cannot be written gives exit 2 with a message naming it, before any work.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from chainsim.chain.errors import InputError
from chainsim.cli import main
from chainsim.files import (
    OutputSet,
    check_output_dir,
    remove_stale_temporaries,
    safe_child,
)
from faults.harness import Workspace, count, expect_cli_rejected

ROOT = Path(__file__).resolve().parents[2]
SHORT = ROOT / "tests" / "data" / "short.toml"
BASELINE = ROOT / "scenarios" / "baseline.toml"
TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[A-Za-z0-9_]+\.tmp$")
RUN_FILES = {"records.parquet", "annual_flows.csv", "yearly_metrics.csv", "summary.json",
             "funnel.png"}


def chainsim(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "chainsim", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def digests(directory: Path) -> dict[str, str]:
    """SHA-256 of every visible file in ``directory``."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in directory.iterdir() if not p.name.startswith(".")}


def hidden(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


@pytest.fixture(scope="module")
def earlier(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A complete earlier run (short scenario, 2 replications) and its files' digests."""
    out = tmp_path_factory.mktemp("earlier") / "run"
    proc = chainsim("run", str(SHORT), "--engine", "fast", "--reps", "2", "--seed", "1",
                    "--workers", "1", "--json", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    files = digests(out)
    assert set(files) == RUN_FILES
    return out, files


def copy_of(earlier, tmp_path) -> tuple[Path, dict[str, str]]:
    import shutil

    out = tmp_path / "run"
    shutil.copytree(earlier[0], out)
    return out, earlier[1]


# ---------------------------------------------------------------------- killed mid-way


@pytest.mark.slow
def test_a_run_killed_mid_way_leaves_the_earlier_results_intact(earlier, tmp_path):
    out, before = copy_of(earlier, tmp_path)
    with count("output: run killed (SIGKILL)", "kill mid-run, then run again"):
        proc = subprocess.Popen(
            [sys.executable, "-m", "chainsim", "run", str(BASELINE), "--engine", "fast",
             "--reps", "50", "--seed", "2", "--workers", "1", "--out", str(out)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            deadline = time.monotonic() + 300
            # wait until the run is streaming replications into its temporary records file
            while time.monotonic() < deadline:
                temps = [p for p in out.iterdir() if p.name.startswith(".records.parquet.")
                         and p.stat().st_size > 0]
                if temps or proc.poll() is not None:
                    break
                time.sleep(0.05)
            time.sleep(0.5)
            assert proc.poll() is None, "the run finished before it could be killed"
            os.killpg(proc.pid, signal.SIGKILL)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        assert proc.returncode == -signal.SIGKILL
        assert digests(out) == before  # byte for byte the earlier run's files
        left = hidden(out)
        assert left, "the killed run left no temporary (was it killed mid-way?)"
        for name in left:
            m = TEMP.match(name)
            assert m and int(m.group("pid")) == proc.pid, name
        # the next run into the same directory removes the dead run's temporaries
        again = chainsim("run", str(SHORT), "--engine", "fast", "--reps", "1", "--seed", "3",
                         "--workers", "1", "--json", "--out", str(out))
        assert again.returncode == 0, again.stderr
        assert hidden(out) == []
        assert set(digests(out)) == RUN_FILES
        assert json.loads((out / "summary.json").read_text())["reps"] == 1


@pytest.mark.slow
def test_a_run_failing_mid_way_leaves_the_earlier_results_intact(earlier, tmp_path,
                                                                 monkeypatch, capsys):
    import chainsim.outputs.folders

    out, before = copy_of(earlier, tmp_path)

    def broken(result):
        raise RuntimeError("simulated failure after the replications")

    monkeypatch.setattr(chainsim.outputs.folders, "summary_document", broken)
    with count("output: run failing part-way", "internal error after the runs"):
        code = main(["run", str(SHORT), "--engine", "fast", "--reps", "1", "--workers", "1",
                     "--out", str(out)])
        assert code == 1
        assert "simulated failure" in capsys.readouterr().err
        assert digests(out) == before
        assert hidden(out) == []


def test_a_failing_first_run_leaves_no_directory(tmp_path, monkeypatch, capsys):
    import chainsim.outputs.folders

    monkeypatch.setattr(chainsim.outputs.folders, "summary_document",
                        lambda result: (_ for _ in ()).throw(RuntimeError("boom")))
    with count("output: run failing part-way", "no directory left by a failed first run"):
        out = tmp_path / "new" / "run"
        assert main(["run", str(SHORT), "--engine", "fast", "--reps", "1", "--workers", "1",
                     "--out", str(out)]) == 1
        capsys.readouterr()
        assert not (tmp_path / "new").exists()


# ---------------------------------------------------------------------- unwritable, full


@pytest.mark.slow
def test_full_disk_is_reported_and_changes_nothing(earlier, tmp_path, monkeypatch, capsys):
    """ENOSPC is simulated: ``DataFrame.to_csv`` raises it (no real disk is filled)."""
    out, before = copy_of(earlier, tmp_path)

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    with count("output: full disk (simulated ENOSPC)", "ENOSPC while writing"):
        code = main(["run", str(SHORT), "--engine", "fast", "--reps", "1", "--workers", "1",
                     "--out", str(out)])
        err = capsys.readouterr().err
        assert code == 2, err
        assert "Traceback" not in err and "internal error" not in err
        assert "No space left on device" in err and "free space" in err
        assert str(out) in err
        assert digests(out) == before
        assert hidden(out) == []


def _unwritable_places(tmp_path: Path) -> list[tuple[str, Path]]:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a directory")
    places = [("path through a regular file", a_file / "sub"),
              ("a regular file", a_file),
              ("inside /proc", Path("/proc/chainsim-fault-test/out"))]
    if os.geteuid() != 0:  # root ignores permissions: this case needs an ordinary user
        ro = tmp_path / "read-only"
        ro.mkdir()
        ro.chmod(0o555)
        places.append(("read-only directory", ro / "out"))
    return places


@pytest.mark.parametrize("command", ["run", "compare", "calibrate"])
def test_unwritable_output_directory_exits_2_before_any_work(tmp_path, monkeypatch, command):
    import chainsim.experiments.calibrate
    import chainsim.experiments.compare
    import chainsim.outputs.folders

    def no_work(*args, **kwargs):
        raise AssertionError("work started although the output cannot be written")

    monkeypatch.setattr(chainsim.outputs.folders, "run", no_work)
    monkeypatch.setattr(chainsim.experiments.compare, "compare", no_work)
    monkeypatch.setattr(chainsim.experiments.calibrate.Calibrator, "fit", no_work)
    for what, out in _unwritable_places(tmp_path):
        with count("output: unwritable directory", f"{command}: {what}"):
            work = Workspace(tmp_path)
            argv = {"run": ["run", str(SHORT), "--reps", "1", "--engine", "fast"],
                    "compare": ["compare", str(SHORT), str(SHORT), "--reps", "1",
                                "--engine", "fast"],
                    "calibrate": ["calibrate", "--scenario", str(SHORT)]}[command]
            before = work.snapshot()
            text = expect_cli_rejected([*argv, "--out", str(out)], work, inputs=before)
            assert "(output)" in text and "directory" in text


@pytest.mark.slow
def test_unwritable_directory_in_a_subprocess(tmp_path):
    with count("output: unwritable directory", "end to end"):
        (tmp_path / "a-file").write_text("x")
        proc = chainsim("run", str(SHORT), "--reps", "1", "--engine", "fast", "--out",
                        str(tmp_path / "a-file" / "out"))
        assert proc.returncode == 2
        assert "Traceback" not in proc.stderr
        assert proc.stderr.startswith(f"chainsim: error: {tmp_path / 'a-file' / 'out'}")


# ---------------------------------------------------------------------- temporaries, names


def test_stale_temporaries_are_removed_but_live_ones_kept(tmp_path):
    with count("output: temporaries", "stale vs live"):
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        stale = tmp_path / f".summary.json.{dead.pid}.abcd1234.tmp"
        live = tmp_path / f".summary.json.{os.getppid()}.abcd1234.tmp"
        mine = tmp_path / f".summary.json.{os.getpid()}.abcd1234.tmp"
        other = tmp_path / ".hidden-user-file"
        for p in (stale, live, mine, other):
            p.write_text("x")
        assert remove_stale_temporaries(tmp_path) == [stale]
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
            p.name for p in (live, mine, other))


def test_an_output_set_is_all_or_nothing(tmp_path):
    with count("output: temporaries", "output set all-or-nothing"):
        out = tmp_path / "set"
        with OutputSet(out) as files:
            files.text("a.txt", "first")
            files.text("b.txt", "first")
        with pytest.raises(RuntimeError), OutputSet(out) as files:
            files.text("a.txt", "second")
            raise RuntimeError("half-way")
        assert (out / "a.txt").read_text() == "first"
        assert sorted(p.name for p in out.iterdir()) == ["a.txt", "b.txt"]
        with pytest.raises(RuntimeError), OutputSet(tmp_path / "fresh") as files:
            files.text("a.txt", "x")
            raise RuntimeError("half-way")
        assert not (tmp_path / "fresh").exists()


@pytest.mark.parametrize("name", ["", ".", "..", "../x", "a/b", "/etc/passwd", ".hidden",
                                  "a\x00b", "x" * 300, "..\\x"])
def test_output_file_names_cannot_leave_the_directory(tmp_path, name):
    with count("output: path escape", "unsafe output file names"), \
            pytest.raises(InputError) as info:
        safe_child(tmp_path, name)
    assert info.value.problems[0].field == "(output file name)"


def test_check_output_dir_leaves_nothing(tmp_path):
    with count("output: temporaries", "probe leaves nothing"):
        check_output_dir(tmp_path / "a" / "b")
        assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["..", ".", "../../etc", "a/b", "-", "x" * 65, ".hidden"])
def test_scenario_names_cannot_move_the_default_output(tmp_path, name):
    text = SHORT.read_text(encoding="utf-8").replace('name = "baseline_short"',
                                                     f'name = "{name}"')
    with count("output: path escape", "scenario names as directories"):
        work = Workspace(tmp_path)
        work.write("s.toml", text)
        expect_cli_rejected(["run", "s.toml", "--reps", "1", "--engine", "fast"], work,
                            file="s.toml", field="scenario.name")


@pytest.mark.slow
def test_compare_default_directory_stays_inside_results(tmp_path):
    """Three long names: ``results/compare-<names>`` is shortened, one level below results/."""
    names = ["a" * 64, "b" * 64, "c" * 64]
    text = SHORT.read_text(encoding="utf-8")
    for n in names:
        (tmp_path / f"{n[0]}.toml").write_text(
            text.replace('name = "baseline_short"', f'name = "{n}"'), encoding="utf-8")
    with count("output: path escape", "compare default directory"):
        proc = chainsim("compare", "a.toml", "b.toml", "c.toml", "--reps", "1", "--engine",
                        "fast", "--workers", "1", "--json", cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        (made,) = (tmp_path / "results").iterdir()
        assert made.name.startswith("compare-" + "b" * 64) and len(made.name) <= 120
        assert (made / "comparison.json").exists()
        assert sorted(p.name for p in tmp_path.iterdir()) == ["a.toml", "b.toml", "c.toml",
                                                               "results"]

"""Sweeps: results independent of workers and backend, resumable, consistent with compare."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from chainsim.analysis.proxies import PROXIES
from chainsim.chain.errors import InputError
from chainsim.experiments.compare import compare
from chainsim.experiments.design import load_design
from chainsim.experiments.sweep import load_results, run_sweep
from conftest import DATA

SWEEPS = DATA / "sweeps"


@pytest.fixture(scope="module")
def small():
    return load_design(SWEEPS / "small_lhs.toml")


@pytest.fixture(scope="module")
def reference(small, tmp_path_factory):
    """The small sweep run in this process (workers=1)."""
    out = tmp_path_factory.mktemp("ref")
    frame = run_sweep(small, out, workers=1)
    return out, frame


def test_results_table(small, reference):
    out, frame = reference
    assert len(frame) == len(small.points) * small.meta.reps * len(small.arms)
    assert list(frame.columns[:4]) == ["point", "rep", "arm", "scenario"]
    assert set(small.names) <= set(frame.columns) and set(PROXIES) <= set(frame.columns)
    # the design row of every result is the point's factor values
    for name in small.names:
        column = small.points[frame["point"], small.names.index(name)]
        np.testing.assert_array_equal(frame[name], column)
    meta = pq.read_table(out / "results.parquet").schema.metadata[b"chainsim.sweep"]
    assert small.digest.encode() in meta and b'"seed": 4' in meta and b"numpy" in meta
    assert load_results(out)[1]["status"] == "complete"
    # the intervention factor changes only its own arm: baseline rows differ across points
    # only through the other factors
    assert frame[frame.arm == 1]["probation_caseload"].mean() > \
        frame[frame.arm == 0]["probation_caseload"].mean()


def test_point_zero_matches_compare(small, reference):
    """The centre of a sweep is the scenarios as written: compare gives the same proxies."""
    _, frame = reference
    cmp = compare(small.arms[0], small.arms[1:], reps=small.meta.reps, seed=small.meta.seed,
                  workers=1, engine="fast")
    from chainsim.analysis.proxies import default_period

    assert cmp.period == default_period(small.arms)
    expected = cmp.proxies().set_index(["arm", "rep"]).sort_index()[list(PROXIES)]
    got = frame[frame.point == 0].set_index(["arm", "rep"]).sort_index()[list(PROXIES)]
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_index_type=False)


def test_two_workers_give_identical_files(small, reference, tmp_path):
    out, _ = reference
    run_sweep(small, tmp_path / "w2", workers=2)
    assert (tmp_path / "w2" / "results.parquet").read_bytes() == \
        (out / "results.parquet").read_bytes()


@pytest.mark.slow
def test_dask_gives_identical_files(small, reference, tmp_path, dask_scheduler):
    out, _ = reference
    run_sweep(small, tmp_path / "dask", scheduler=dask_scheduler)
    assert (tmp_path / "dask" / "results.parquet").read_bytes() == \
        (out / "results.parquet").read_bytes()


def test_resume_recomputes_only_missing_chunks(small, reference, tmp_path):
    out, _ = reference
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    parts = sorted((copy / "parts").glob("part-*.parquet"))
    for p in parts[3:9]:
        p.unlink()
    parts[1].write_bytes(b"garbage")  # a damaged part is recomputed, not trusted
    (copy / "results.parquet").unlink()
    kept = parts[0].stat().st_mtime_ns
    run_sweep(small, copy, workers=1)
    assert parts[0].stat().st_mtime_ns == kept
    assert (copy / "results.parquet").read_bytes() == (out / "results.parquet").read_bytes()


@pytest.mark.slow
def test_another_design_is_refused_then_restart(small, reference, tmp_path):
    out, _ = reference
    other = load_design(SWEEPS / "small_sobol.toml")
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    with pytest.raises(InputError, match="another sweep's results"):
        run_sweep(other, copy, workers=1)
    assert (copy / "results.parquet").read_bytes() == (out / "results.parquet").read_bytes()
    run_sweep(other, copy, workers=1, restart=True)
    assert load_results(copy)[1]["digest"] == other.digest
    with pytest.raises(InputError, match="an empty or new directory"):
        nonempty = tmp_path / "nonempty"
        nonempty.mkdir()
        (nonempty / "precious.txt").write_text("keep")
        run_sweep(small, nonempty, workers=1)
    assert (tmp_path / "nonempty" / "precious.txt").read_text() == "keep"


def _bigger_design(tmp_path: Path) -> Path:
    for name in ("short.toml", "short_probation.toml"):
        shutil.copy(DATA / name, tmp_path / name)
    (tmp_path / "sweeps").mkdir()
    path = tmp_path / "sweeps" / "big.toml"
    text = (SWEEPS / "small_lhs.toml").read_text().replace("samples = 6", "samples = 30")
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.slow
def test_sigkill_then_resume_gives_the_uninterrupted_result(tmp_path):
    """Kill `chainsim sweep` with SIGKILL mid-way; running it again finishes the sweep
    and the result is byte-identical to an uninterrupted run's."""
    path = _bigger_design(tmp_path)
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    cmd = [sys.executable, "-m", "chainsim", "sweep", str(path), "--workers", "2", "--out"]
    proc = subprocess.Popen([*cmd, str(killed)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while len(list((killed / "parts").glob("part-*.parquet"))) < 10:
        assert proc.poll() is None, "the sweep ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its worker processes
    proc.wait()
    done = len(list((killed / "parts").glob("part-*.parquet")))
    assert not (killed / "results.parquet").exists()
    assert 10 <= done < 31 * 2
    subprocess.run([*cmd, str(killed)], check=True, capture_output=True)
    subprocess.run([*cmd, str(clean)], check=True, capture_output=True)
    assert (killed / "results.parquet").read_bytes() == (clean / "results.parquet").read_bytes()
    assert not list(killed.rglob(".*.tmp"))  # temp files the kill left are cleared
    frame, _ = load_results(killed)
    assert len(frame) == 31 * 2 * 2

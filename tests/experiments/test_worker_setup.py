"""Worker set-up: a pool's worker ends when its parent is gone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

PARENT = textwrap.dedent("""
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor

    from chainsim.experiments.worker_setup import exit_with_parent


    def pid():
        return os.getpid()


    if __name__ == "__main__":
        pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=exit_with_parent, initargs=(0.2,))
        print(pool.submit(pid).result(), flush=True)
        os._exit(0)  # killed on its own: no shutdown of the pool
""")


LOCAL_POOL = textwrap.dedent("""
    import os

    from chainsim.experiments.pool import map_ordered


    def pid(task):
        return os.getpid()


    if __name__ == "__main__":
        pids = map_ordered(pid, list(range(8)), workers=2)
        print(next(pids), flush=True)  # the pool is up, its tasks in flight
        os._exit(0)  # killed on its own: no shutdown of the pool
""")
"""A run that dies while its pool's workers may still be starting."""


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting to be reaped counts as ended)."""
    status = Path(f"/proc/{pid}/status")
    if status.exists():
        return "\nState:\tZ" not in status.read_text()
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _worker_of(tmp_path: Path, parent: str) -> int:
    """Run ``parent`` (which prints a worker's pid and dies alone); the worker's pid."""
    script = tmp_path / "parent.py"
    script.write_text(parent)
    printed = tmp_path / "worker.txt"  # a file, not a pipe the worker would hold open
    with printed.open("w") as fh:
        subprocess.run([sys.executable, str(script)], stdout=fh, timeout=120, check=True)
    return int(printed.read_text().split()[0])


def _ends(worker: int, within: float) -> bool:
    """Whether ``worker`` ends within ``within`` seconds (killed if not)."""
    deadline = time.monotonic() + within
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = _alive(worker)
    if alive:
        os.kill(worker, signal.SIGKILL)  # leave nothing behind
    return not alive


def test_a_worker_ends_when_its_parent_is_killed_alone(tmp_path):
    worker = _worker_of(tmp_path, PARENT)
    assert _ends(worker, within=15.0), "the worker outlived its parent"  # it looks every 0.2 s


def test_a_local_pool_worker_ends_when_the_run_is_killed_alone(tmp_path):
    # the worker's parent is the forkserver, which ends with the run; the worker looks
    # every second
    worker = _worker_of(tmp_path, LOCAL_POOL)
    assert _ends(worker, within=20.0), "the local pool's worker outlived the run"
    # and no other worker of that run stays: one that began after the run had died (it was
    # still being forked) must see that at once; the run's output names where they ran
    stayed = [pid for pid in _forkserver_children(tmp_path) if not _ends(pid, within=20.0)]
    assert not stayed, f"workers {stayed} outlived the run"


def _forkserver_children(tmp_path: Path) -> list[int]:
    """Processes whose standard output is this test's file: the run's workers (and server)."""
    out = str(tmp_path / "worker.txt")
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and proc.name != str(os.getpid()):
            try:
                if os.readlink(proc / "fd" / "1") == out:
                    pids.append(int(proc.name))
            except OSError:
                continue
    return pids

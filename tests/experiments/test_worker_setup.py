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


def test_a_worker_ends_when_its_parent_is_killed_alone(tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    printed = tmp_path / "worker.txt"  # a file, not a pipe the worker would hold open
    with printed.open("w") as fh:
        subprocess.run([sys.executable, str(script)], stdout=fh, timeout=120, check=True)
    worker = int(printed.read_text().split()[0])
    deadline = time.monotonic() + 15.0  # the watch looks every 0.2 s
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = _alive(worker)
    if alive:
        os.kill(worker, signal.SIGKILL)  # leave nothing behind
    assert not alive, "the worker outlived its parent"

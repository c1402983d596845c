"""Setting up a worker process before it runs replications.

Every worker of a local pool (:mod:`chainsim.experiments.pool`) forks from one forkserver
process that imports :mod:`chainsim.experiments.preload`, which imports the tasks of ``run``
and ``compare`` and calls :func:`prepare` there, so the work is paid once
per command instead of once per worker: the engines, the tasks, and the fast
engine's compiled loops (the first compiled call in a process sets up numba's code
generator, about 0.3 s). A Dask worker imports :mod:`chainsim.experiments.preload` with its
first batch of tasks (:mod:`chainsim.experiments.pool`).

This module imports the engines only: the tasks' modules (which use the pool) are
imported by :mod:`chainsim.experiments.preload`, and the pool names that module without
importing it, so there is no import loop between the pool and its tasks.

Two process settings come with it:

- The objects made so far (a few hundred thousand: modules, functions, compiled
  code) are moved out of the garbage collector's sight with :func:`gc.freeze`:
  they live as long as the worker, and full collections would otherwise walk all of
  them again and again while the worker runs replications.
- Freed memory is kept for reuse (glibc's ``mallopt``, where there is one): up to
  256 MB at the top of the heap, and arrays up to 32 MB taken from the heap. A
  replication allocates and frees arrays of a few megabytes; returning them to the
  system only to fault them in again cost about 5 % of a replication's time on the
  local pool, and on Dask (whose nanny sets ``MALLOC_TRIM_THRESHOLD_=65536`` so that
  its memory monitor sees what a worker really holds) it cut the speed-up of two
  workers over one from 1.88x to 1.46x. The nanny counts the kept memory as
  unmanaged; it is far below its default limits.

None of this changes what a worker computes, only how fast.
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import sys
import threading
import time

_prepared = False


def prepare() -> None:
    """Set up this process for replications, once.

    Imports the engines, loads the compiled loops, keeps freed memory for reuse
    (:func:`keep_freed_memory`) and freezes what exists (call it after importing
    the tasks' modules, as :mod:`chainsim.experiments.preload` does, to freeze them too).
    """
    global _prepared
    if _prepared:
        return
    _prepared = True
    from chainsim.engines import fast

    try:
        fast.load_compiled()
    except Exception:  # pragma: no cover - compiled on first use instead
        pass
    keep_freed_memory()
    gc.collect()
    gc.freeze()


def keep_freed_memory() -> bool:
    """Ask glibc to keep freed memory (arrays up to 32 MB, 256 MB at the heap's top).

    Returns:
        Whether the C library took the settings (False where there is no glibc).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError, TypeError):  # pragma: no cover - not glibc
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's malloc.h
    return bool(mallopt(m_mmap_threshold, 32 << 20)) and bool(
        mallopt(m_trim_threshold, 256 << 20))


def exit_with_parent(interval: float = 1.0) -> None:
    """End this worker process when the process that started its pool is gone.

    A pool's workers wait for tasks forever; if the process that made the pool is killed
    on its own (not with its process group, as Ctrl-C does), they would stay behind as
    orphans holding memory. A daemon thread checks every ``interval`` seconds and exits
    the process once that process has ended. It is :func:`multiprocessing.parent_process`:
    for a spawned worker its parent, for a forkserver's worker the process that asked the
    forkserver for it (the forkserver itself outlives it: every worker keeps the pipe
    open whose end tells the forkserver to stop). Call it in a pool's initializer.
    """
    started_by = multiprocessing.parent_process()
    pid = started_by.pid if started_by is not None else os.getppid()
    identity = _start_time(pid)
    if identity is None:  # gone before this worker started (it was still being forked)
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(interval)
            if _start_time(pid) != identity:
                os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _start_time(pid: int) -> str | None:
    """When process ``pid`` started (``/proc``; a reused pid differs), None once it has ended.

    A zombie (ended, not yet reaped) counts as ended. Where there is no ``/proc``, only
    whether ``pid`` exists.
    """
    if not os.path.isdir("/proc/self"):  # pragma: no cover - not Linux
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        return "alive"
    try:
        with open(f"/proc/{pid}/stat") as fh:
            stat = fh.read()
    except FileNotFoundError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()  # after the name, which may hold spaces
    return None if fields[0] == "Z" else fields[19]  # state; starttime is field 22

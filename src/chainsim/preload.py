"""What the local pool's forkserver imports before it forks the workers.

(A Dask worker imports it with its first batch of tasks: :mod:`chainsim.executor`.)

Every worker of a local pool (:mod:`chainsim.executor`) forks from one forkserver
process, so what is imported and set up here is paid once per command instead of
once per worker: the engines, the tasks of ``run`` and ``compare`` and the fast
engine's compiled loops (the first
compiled call in a process sets up numba's code generator, about 0.3 s).

Freed memory is kept for reuse (glibc's ``mallopt``, where there is one): a
replication allocates and frees arrays of a few megabytes, and returning them
to the system only to fault them in again cost about 5 % of a replication's
time in system calls.

Last, the objects made so far (a few hundred thousand: modules, functions,
compiled code) are moved out of the garbage collector's sight with
:func:`gc.freeze`: they live as long as the worker, and a full collection would
otherwise walk all of them again and again while the worker runs replications.
"""

from __future__ import annotations

import ctypes
import gc

import chainsim.compare
import chainsim.experiment  # noqa: F401
from chainsim import fast


def keep_freed_memory() -> bool:
    """Ask glibc to keep freed memory (arrays up to 32 MB, 256 MB at the heap's top).

    Returns:
        Whether the C library took the settings (False where it has no ``mallopt``).
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's malloc.h
    return bool(mallopt(m_mmap_threshold, 32 << 20)) and bool(
        mallopt(m_trim_threshold, 256 << 20))


fast.load_compiled()
keep_freed_memory()
gc.freeze()

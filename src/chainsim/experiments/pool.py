"""Where replications run: in this process, a local process pool, or a Dask cluster.

Every task carries its own seed, so results never depend on the backend or the
number of workers; :func:`map_ordered` always yields them in task order.

- ``workers=1`` runs the tasks here, one after the other.
- ``workers=N`` uses a local pool of ``N`` processes (``forkserver``): at most a
  few tasks per worker are in flight, and if a worker process dies (killed, out of
  memory) the pool is rebuilt and the unfinished tasks are computed again, up to
  :data:`MAX_RESTARTS` times. A task is a pure function of its arguments, so a
  recomputed task gives the same result. A worker ends once this process has gone
  (:func:`chainsim.experiments.worker_setup.exit_with_parent`), so a run killed on its
  own leaves no idle workers behind.
- ``scheduler="tcp://host:port"`` sends the tasks to an existing Dask distributed
  cluster (``dask scheduler`` plus ``dask worker`` processes whose Python can
  import chainsim), in batches of consecutive tasks (about three per worker
  thread). Dask reschedules the batches of a worker that dies (``retries``
  covers batches that raise); a recomputed task gives the same result.

``shared`` is an object every task needs (e.g. the validated scenarios of a sweep):
it is sent to each worker once (pool initializer, or ``Client.scatter`` with
broadcast) instead of with every task; ``fn`` is then called as ``fn(shared, task)``.
"""

from __future__ import annotations

import importlib
import multiprocessing as mp
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from chainsim.chain.errors import InputError

MAX_RESTARTS = 3
"""How often a broken local pool is rebuilt before giving up."""

IN_FLIGHT_PER_WORKER = 4
"""Tasks submitted ahead per local worker (bounds memory, keeps workers busy)."""

_NOTHING = object()
_shared: Any = _NOTHING


def _set_shared(shared: Any) -> None:
    global _shared
    _shared = shared


def _init_worker(has_shared: bool, shared: Any) -> None:
    """A local worker's set-up: it ends with the pool's process, and keeps ``shared``."""
    from chainsim.experiments.worker_setup import exit_with_parent

    exit_with_parent()  # no orphans if the process that made the pool is killed on its own
    if has_shared:
        _set_shared(shared)


def _call_with_shared(fn: Callable, task: Any) -> Any:
    return fn(_shared, task)


_PRELOAD = ["chainsim.experiments.preload"]
"""Modules a worker process imports before its first task (see :mod:`chainsim.experiments.preload`):
the forkserver before it forks the local workers, a Dask worker with its first batch.
Named, not imported: the tasks' modules import this one."""


def _forkserver_context() -> mp.context.BaseContext:
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(_PRELOAD)
    return ctx


def start_local_pool(tasks: int, workers: int | None, scheduler: str | None = None) -> None:
    """Start the local pool's forkserver now, if the work will run on a local pool.

    The forkserver imports :mod:`chainsim.experiments.preload` (about 1.5 s) in its own process,
    while this one goes on reading and checking the input; the first worker then
    forks from a ready server. Nothing happens with ``scheduler`` or if ``tasks``
    will run in this process (one worker, one task: see :func:`map_ordered`).
    Idempotent.
    """
    workers = default_workers(tasks) if workers is None else workers
    if scheduler or workers <= 1 or tasks <= 1:
        return
    from multiprocessing import forkserver

    _forkserver_context()
    forkserver.ensure_running()


def default_workers(tasks: int) -> int:
    """Worker processes to use by default: one per core, at most one per task."""
    return max(1, min(os.cpu_count() or 1, tasks))


def map_ordered(fn: Callable, tasks: list, workers: int = 1, scheduler: str | None = None,
                shared: Any = _NOTHING) -> Iterator:
    """Apply ``fn`` to every task and yield the results in task order.

    Args:
        fn: A module-level function (workers import it by name).
        tasks: The tasks (picklable).
        workers: Local worker processes (ignored with ``scheduler``).
        scheduler: Address of a Dask distributed scheduler, e.g. ``tcp://127.0.0.1:8786``.
        shared: If given, ``fn(shared, task)`` is called and ``shared`` is shipped
            to each worker once.

    Yields:
        ``fn(task)`` (or ``fn(shared, task)``) for each task, in order.

    Raises:
        InputError: If the scheduler cannot be reached.
    """
    tasks = list(tasks)
    if scheduler:
        yield from _dask(fn, tasks, scheduler, shared)
    elif workers <= 1 or len(tasks) <= 1:
        call = fn if shared is _NOTHING else (lambda task: fn(shared, task))
        for task in tasks:
            yield call(task)
    else:
        yield from _local_pool(fn, tasks, workers, shared)


def _local_pool(fn: Callable, tasks: list, workers: int, shared: Any) -> Iterator:
    ctx = _forkserver_context()
    done = 0
    restarts = 0
    has_shared = shared is not _NOTHING
    while done < len(tasks):
        pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=ctx, initializer=_init_worker,
            initargs=(has_shared, shared if has_shared else None))
        try:
            pending: deque = deque()
            nxt = done
            while done < len(tasks):
                while nxt < len(tasks) and len(pending) < workers * IN_FLIGHT_PER_WORKER:
                    if shared is _NOTHING:
                        pending.append(pool.submit(fn, tasks[nxt]))
                    else:
                        pending.append(pool.submit(_call_with_shared, fn, tasks[nxt]))
                    nxt += 1
                result = pending.popleft().result()
                done += 1
                yield result
        except BrokenProcessPool:
            restarts += 1
            if restarts > MAX_RESTARTS:
                raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _dask(fn: Callable, tasks: list, scheduler: str, shared: Any) -> Iterator:
    try:
        from distributed import Client
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise InputError.single("--scheduler", "scheduler", scheduler,
                                "Dask distributed is not installed") from exc
    try:
        _probe(scheduler)
        client = Client(scheduler, timeout="20s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError.single("--scheduler", "scheduler", scheduler,
                                f"a reachable Dask scheduler address such as "
                                f"tcp://127.0.0.1:8786 ({type(exc).__name__}: {exc})") from None
    try:
        size = _batch_size(len(tasks), sum(client.nthreads().values()))
        batches = [tasks[i:i + size] for i in range(0, len(tasks), size)]
        has_shared = shared is not _NOTHING
        shared_arg = client.scatter(shared, broadcast=True, hash=False) if has_shared else None
        futures = client.map(_run_batch, batches, fn=fn, shared=shared_arg,
                             has_shared=has_shared, pure=False, retries=MAX_RESTARTS)
        queue = deque(futures)
        del futures
        while queue:
            future = queue.popleft()
            results = future.result()
            future.release()
            yield from results
    finally:
        client.close()


DASK_BATCHES_PER_THREAD = 3
"""Dask tasks per worker thread: tasks are sent in batches, so the scheduler's cost
per task (which competes with the workers for the cores) is paid per batch."""


def _batch_size(tasks: int, threads: int) -> int:
    """Tasks per Dask batch: about :data:`DASK_BATCHES_PER_THREAD` batches per thread."""
    return max(1, -(-tasks // (max(1, threads) * DASK_BATCHES_PER_THREAD)))


def _run_batch(batch: list, fn: Callable, shared: Any, has_shared: bool) -> list:
    # a Dask worker gets what a local worker has from the forkserver (see
    # chainsim.experiments.worker_setup, also on why it overrides the nanny's memory trimming); once
    for name in _PRELOAD:
        importlib.import_module(name)

    if has_shared:
        return [fn(shared, task) for task in batch]
    return [fn(task) for task in batch]


def _probe(address: str) -> None:
    """Fail fast (``OSError``) if nothing listens at a ``tcp://host:port`` address."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(address if "://" in address else "tcp://" + address)
    if parts.scheme == "tcp" and parts.hostname and parts.port:
        with socket.create_connection((parts.hostname, parts.port), timeout=5):
            pass



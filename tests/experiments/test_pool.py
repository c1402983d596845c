"""chainsim.experiments.pool: the same results in the same order in-process, locally, on Dask."""

from __future__ import annotations

import os

import numpy as np
import pytest

from chainsim.chain.errors import InputError
from chainsim.experiments import pool


def square_with_seed(task):
    i, seed = task
    return i, float(np.random.default_rng(seed).random()), i * i


def add_shared(shared, task):
    return shared["offset"] + task


_DIE_MARK = "CHAINSIM_TEST_DIE_ONCE"


def die_once(marker_dir, task):
    """Kill the worker process the first time task 3 runs (a marker file remembers)."""
    marker = os.path.join(marker_dir, "died")
    if task == 3 and not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(1)
    return task * 10


TASKS = [(i, 1000 + i) for i in range(12)]


def test_default_workers():
    assert pool.default_workers(1) == 1
    assert 1 <= pool.default_workers(100) <= (os.cpu_count() or 1)


def test_in_process_and_pool_agree_in_order():
    serial = list(pool.map_ordered(square_with_seed, TASKS, workers=1))
    pooled = list(pool.map_ordered(square_with_seed, TASKS, workers=2))
    assert serial == pooled
    assert [r[0] for r in pooled] == list(range(12))


def test_shared_object_reaches_every_task():
    out = list(pool.map_ordered(add_shared, list(range(10)), workers=2,
                                    shared={"offset": 100}))
    assert out == list(range(100, 110))
    assert list(pool.map_ordered(add_shared, [1], workers=1, shared={"offset": 5})) == [6]


def test_local_pool_recomputes_tasks_of_a_dead_worker(tmp_path):
    out = list(pool.map_ordered(die_once, list(range(8)), workers=2,
                                    shared=str(tmp_path)))
    assert (tmp_path / "died").exists()  # a worker really died
    assert out == [t * 10 for t in range(8)]


def test_unreachable_scheduler_is_bad_input():
    with pytest.raises(InputError, match="scheduler"):
        list(pool.map_ordered(square_with_seed, TASKS, scheduler="tcp://127.0.0.1:1"))


@pytest.mark.slow
def test_dask_gives_the_same_results(dask_scheduler):
    local = list(pool.map_ordered(square_with_seed, TASKS, workers=2))
    remote = list(pool.map_ordered(square_with_seed, TASKS, scheduler=dask_scheduler))
    assert remote == local
    shared = list(pool.map_ordered(add_shared, list(range(5)), scheduler=dask_scheduler,
                                       shared={"offset": 7}))
    assert shared == [7, 8, 9, 10, 11]


@pytest.mark.slow
def test_dask_recomputes_the_task_of_a_dead_worker(tmp_path, dask_scheduler):
    """A worker process dies mid-task (os._exit); its nanny restarts it, the scheduler
    reschedules the task, and the results are those of an undisturbed run."""
    out = list(pool.map_ordered(die_once, list(range(8)), scheduler=dask_scheduler,
                                    shared=str(tmp_path)))
    assert (tmp_path / "died").exists()
    assert out == [t * 10 for t in range(8)]


@pytest.mark.slow
def test_start_local_pool_starts_the_forkserver_only_for_pool_work():
    import subprocess
    import sys

    code = """
import multiprocessing.forkserver as fs
from chainsim.experiments.pool import start_local_pool
start_local_pool(1, None)          # one task: runs in this process
start_local_pool(10, 1)            # one worker: in this process
start_local_pool(10, 2, "tcp://127.0.0.1:1")  # a Dask scheduler: no local pool
before = fs._forkserver._forkserver_pid
start_local_pool(10, 2)
print(before, fs._forkserver._forkserver_pid is not None)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.split() == ["None", "True"]

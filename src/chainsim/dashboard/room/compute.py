"""A round's simulated result, computed once per round in a worker process.

The result of a question does not depend on who answers, so it is computed once, when the
facilitator opens the round (or earlier with ``--precompute``), and cached by what it
depends on (:meth:`Question.simulation_key`); questions on the same scenario (another
proxy) reuse the worker's comparison, and the baseline arm is shared by all.
The computation is the dashboard's comparison (:func:`chainsim.dashboard.bands.run_bands`:
baseline and the question's scenario on common random numbers, fast engine), so the room
shows the same means, bands and paired intervals as the dashboard's Compare view.

It runs in one separate worker process (spawned, not forked: the server has threads), so
the simulation neither holds the server's interpreter lock while participants wait for the
reveal nor keeps its records in the server's memory. The worker exits with the server
(the server's shutdown stops it; if the server is killed, the worker notices within a
second).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from chainsim.dashboard.room.questions import Question, scale

DEFAULT_REPS = 20
"""Replications per arm of a round's comparison."""

BAND = (0.05, 0.95)
"""Quantiles of the replication band (90 % of replications, as the dashboard's)."""


@dataclass(frozen=True)
class Estimate:
    """A mean with its 95 % confidence interval, in the units participants type.

    Attributes:
        mean: The mean over replications.
        lo: Lower end of the 95 % CI (of the mean, or of the paired mean difference).
        hi: Upper end.
    """

    mean: float
    lo: float
    hi: float


@dataclass(frozen=True)
class PackageResult:
    """One policy package's simulated outcome (package rounds).

    Attributes:
        levers: The package's lever positions (name, value).
        deltas: Per ranking proxy: the paired difference from the baseline, 95 % CI.
        cost: Extra cost per year against the baseline (unit costs), 95 % CI.
    """

    levers: tuple[tuple[str, float], ...]
    deltas: dict[str, Estimate]
    cost: Estimate | None


@dataclass(frozen=True)
class RoundResult:
    """What the reveal shows beside the room's answers.

    Attributes:
        proxy: The proxy.
        scenario: The question's scenario: mean and 95 % CI of the mean.
        band: 90 % of the scenario's replications lie in ``band`` (5 % and 95 % quantiles).
        baseline: The baseline (no change) over the same period.
        baseline_band: The baseline's 90 % replication band.
        delta: Scenario minus baseline, paired over replications, 95 % CI.
        direction: ``up`` or ``down`` when the delta's CI excludes 0, else ``same``.
        reps: Replications per arm.
        seed: The comparison's seed.
        period: The analysis period, e.g. ``2021-01..2035-12``.
        seconds: Wall time of the computation.
        packages: Package rounds: each package's outcome, by package key.
    """

    proxy: str
    scenario: Estimate
    band: tuple[float, float]
    baseline: Estimate
    baseline_band: tuple[float, float]
    delta: Estimate
    direction: str
    reps: int
    seed: int
    period: str
    seconds: float
    packages: dict[str, PackageResult] = field(default_factory=dict)


def _estimate(interval: dict, factor: float) -> Estimate:
    mean = interval["mean"]
    lo = interval["lo"] if interval["lo"] is not None else mean
    hi = interval["hi"] if interval["hi"] is not None else mean
    return Estimate(float(mean) * factor, float(lo) * factor, float(hi) * factor)


def _band(results, proxy: str, factor: float) -> tuple[float, float]:
    values = np.array([r.proxies[proxy] for r in results], dtype=float) * factor
    return float(np.quantile(values, BAND[0])), float(np.quantile(values, BAND[1]))


_RUNS: OrderedDict[tuple, object] = OrderedDict()
"""The worker's last comparisons by scenario, so questions on one scenario share a run."""
_RUNS_KEPT = 4


def _comparison(question: Question, reps: int, seed: int):
    from chainsim.dashboard import bands, levers

    key = (question.preset, question.levers, reps, seed)
    if key in _RUNS:
        _RUNS.move_to_end(key)
        return _RUNS[key]
    settings = question.settings()
    current = levers.current_scenario(settings)
    baseline = levers.baseline_scenario(settings)
    period = levers.lever_period(settings.levers, current)
    run = bands.run_bands(baseline, current, reps=reps, seed=seed, period=period)
    _RUNS[key] = run
    while len(_RUNS) > _RUNS_KEPT:
        _RUNS.popitem(last=False)
    return run


def simulate(question: Question, reps: int = DEFAULT_REPS, seed: int = 1) -> RoundResult:
    """Compute a question's result (baseline vs the question's scenario).

    Args:
        question: The question (its preset, levers and proxy).
        reps: Replications per arm.
        seed: The comparison's seed (common random numbers for both arms).
    """
    from chainsim.dashboard import levers

    run = _comparison(question, reps, seed)
    proxy = question.proxy
    factor = scale(proxy)
    delta = _estimate(run.deltas((proxy,))[proxy], factor)
    direction = "same"
    if delta.lo > 0:
        direction = "up"
    elif delta.hi < 0:
        direction = "down"
    return RoundResult(
        proxy=proxy, scenario=_estimate(run.level("current", proxy), factor),
        band=_band(run.current, proxy, factor),
        baseline=_estimate(run.level("baseline", proxy), factor),
        baseline_band=_band(run.baseline, proxy, factor), delta=delta, direction=direction,
        reps=reps, seed=seed, period=levers.describe_period(run.period), seconds=run.seconds)


def warm_up() -> bool:
    """Import the simulation's modules in the worker (so the first round does not wait)."""
    from chainsim.dashboard import bands, levers  # noqa: F401
    from chainsim.engines import fast  # noqa: F401

    return True


def _watch_parent(parent: int) -> None:
    """In the worker: exit when the server is gone (killed, or stopped by a signal).

    A spawned worker holds both ends of its task queue, so it would not notice on its own.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="room-parent-watch").start()


class Simulator:
    """Computes each question's result once, in one worker, and caches it.

    Args:
        reps: Replications per arm.
        seed: The comparison's seed.
        in_process: Run in a thread of this process instead of a worker process (tests
            and small machines).
    """

    def __init__(self, reps: int = DEFAULT_REPS, seed: int = 1, in_process: bool = False):
        self.reps = reps
        self.seed = seed
        self._lock = threading.Lock()
        self._futures: dict[tuple, Future] = {}
        self._pool: Executor
        if in_process:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="room-sim")
        else:
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                initializer=_watch_parent, initargs=(os.getpid(),))

    def submit(self, question: Question,
               done: Callable[[Future], None] | None = None) -> Future:
        """The future result of a question (started now, or the cached one).

        Args:
            question: The question.
            done: Called (in a worker thread) when the result is there.
        """
        return self.run(("result", question.simulation_key()), simulate, question, self.reps,
                        self.seed, done=done)

    def run(self, key: tuple, fn: Callable, *args: object,
            done: Callable[[Future], None] | None = None) -> Future:
        """The future of ``fn(*args)`` in the worker, computed once per ``key``.

        Args:
            key: What the result depends on (a later call with the same key reuses it).
            fn: A module-level function (it is sent to the worker process).
            *args: Its arguments.
            done: Called (in a worker thread) when the result is there.
        """
        with self._lock:
            future = self._futures.get(key)
            if future is None or (future.done() and future.exception() is not None):
                future = self._pool.submit(fn, *args)
                self._futures[key] = future
        if done is not None:
            future.add_done_callback(done)
        return future

    def warm(self) -> Future:
        """Start the worker now and load the model's code in it."""
        return self.run(("warm-up",), warm_up)

    def shutdown(self) -> None:
        """Stop the worker (pending computations are cancelled)."""
        self._pool.shutdown(wait=False, cancel_futures=True)

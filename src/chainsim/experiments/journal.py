"""A journal of a long run's costly steps, so that running it again goes on where it stopped.

A posterior run on an emulator (``calibrate --posterior --emulator``) spends hours in a few
steps: the full-twin runs of the emulator's design, the network fits, the chains on the
emulator, and the full-twin runs of the reweighting. Sessions on a small machine end
abruptly; without a journal such a run starts from nothing each time. :class:`Journal`
keeps the result of each step in a folder (in the run's output folder, not committed):

- :meth:`Journal.value` keeps a whole step's result (a fit, a chain): run again, the step
  is not recomputed;
- :meth:`Journal.mapped` keeps the results of a step's tasks as they finish (the full-twin
  runs, saved at least every :data:`SAVE_EVERY_SECONDS`): run again, the tasks done are
  read back and the rest computed.

A step is found by its name and a digest of everything it depends on (the run's
definition and the step's inputs, arrays byte for byte), so a step with other inputs is
computed afresh, never mixed up with a kept one; and the folder is claimed for one
scenario and set of figures (:meth:`Journal.claim`), so another's journal is refused.
Every step is a pure function of its inputs (each carries its seeds) and the random
numbers between the steps are drawn as before, so a run that goes on from its journal
gives the uninterrupted run's result, bit for bit (tested). The code's commit is recorded
with each step: a run resumed under other code says so in its provenance
(:attr:`Journal.commits`).

The files are Python pickles the run wrote itself into its own output folder; a file that
cannot be read (cut off by a crash before the atomic rename could not happen, or of
another Python) is ignored and its step computed again.
"""

from __future__ import annotations

import hashlib
import pickle
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from chainsim.chain.errors import InputError
from chainsim.experiments.pool import map_ordered
from chainsim.files import atomic_path

JOURNAL_NAME = ".posterior_journal"
"""Folder of a posterior run's journal in its output folder (not committed)."""

DEFINITION_NAME = "definition.txt"
"""The file in a journal's folder that ties it to a scenario and figures (:meth:`Journal.claim`)."""

SAVE_EVERY_SECONDS = 60.0
"""The longest a mapped step's finished tasks wait before they are saved."""

T = TypeVar("T")


def digest(*parts: Any) -> str:
    """A digest of a step's inputs: arrays byte for byte (with dtype, shape), the rest by repr."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            h.update(f"{part.dtype}{part.shape}".encode())
            h.update(np.ascontiguousarray(part).tobytes())
        elif isinstance(part, (list, tuple)):
            h.update(b"(" + digest(*part).encode() + b")")
        else:
            h.update(repr(part).encode())
        h.update(b"|")
    return h.hexdigest()


class Journal:
    """The kept results of a run's costly steps (nothing is kept without a folder).

    Args:
        folder: Where the steps' files go (``None``: a journal that keeps nothing).
        run: The run's definition digest; part of every step's key.
        commit: The code's commit, recorded with the steps this sitting computes.
    """

    def __init__(self, folder: Path | None, run: str = "", commit: str = "unknown"):
        self.folder = Path(folder) if folder is not None else None
        self.run = run
        self.commit = commit
        self.reused: list[str] = []  # the steps read back (in part: "step (k of n)")
        self.commits: set[str] = set()  # the commits that computed the steps used
        self.last_reused = False
        self.last_seconds = 0.0

    def _path(self, step: str, inputs: tuple) -> Path | None:
        if self.folder is None:
            return None
        return self.folder / f"{step}-{digest(self.run, step, *inputs)[:20]}.pkl"

    def _read(self, path: Path | None) -> dict | None:
        if path is None or not path.exists():
            return None
        try:
            with open(path, "rb") as fh:
                doc = pickle.load(fh)
        except Exception:  # any unreadable file: compute the step again
            return None
        complete = isinstance(doc, dict) and ({"value", "seconds", "commit"} <= set(doc)
                                              or {"results", "seconds", "commits"} <= set(doc))
        return doc if complete else None

    def _write(self, path: Path | None, doc: dict) -> None:
        if path is None:
            return
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            pickle.dump(doc, fh, protocol=pickle.HIGHEST_PROTOCOL)

    def value(self, step: str, inputs: tuple, compute: Callable[[], T]) -> tuple[T, float]:
        """A step's result and the seconds it took, computed or read back.

        Args:
            step: The step's name (e.g. ``"emulator-2"``).
            inputs: Everything the result depends on beyond the run's definition.
            compute: Computes the result (must be a pure function of ``inputs``).

        Returns:
            The result and the wall time of its computation (when it was computed).
        """
        path = self._path(step, inputs)
        kept = self._read(path)
        self.last_reused = kept is not None
        if kept is not None:
            self.reused.append(step)
            self.commits.add(kept["commit"])
            self.last_seconds = kept["seconds"]
            return kept["value"], kept["seconds"]
        t0 = time.perf_counter()
        result = compute()
        seconds = time.perf_counter() - t0
        self._write(path, {"value": result, "seconds": seconds, "commit": self.commit})
        self.commits.add(self.commit)
        self.last_seconds = seconds
        return result, seconds

    def counted(self, step: str, inputs: tuple, compute: Callable[[], T],
                counter: Any) -> tuple[T, float]:
        """As :meth:`value`, for a step that adds to ``counter.evaluations``.

        The evaluations the step used are kept with it; read back, they are added to
        ``counter`` as the computation would have added them.
        """
        def run() -> tuple[T, int]:
            before = counter.evaluations
            return compute(), counter.evaluations - before

        (result, used), seconds = self.value(step, inputs, run)
        if self.last_reused:
            counter.evaluations += used
        return result, seconds

    def mapped(self, step: str, inputs: tuple, fn: Callable, tasks: Sequence,
               workers: int = 1, shared: Any = None,
               on_result: Callable[[Any], None] | None = None) -> list:
        """The results of ``map_ordered(fn, tasks)``, those kept read back, the rest computed.

        The results computed are saved in task order at least every
        :data:`SAVE_EVERY_SECONDS` and at the end, so an interrupted step loses at most
        that much work.

        Args:
            step: The step's name.
            inputs: Everything the results depend on beyond the run's definition and the
                tasks (which are part of the key).
            fn: The task function (see :func:`chainsim.experiments.pool.map_ordered`).
            tasks: The tasks.
            workers: Processes.
            shared: Passed to every task (see :func:`map_ordered`).
            on_result: Called with every result, those read back included (progress).

        Returns:
            The results in task order.
        """
        path = self._path(step, (*inputs, digest(*tasks)))
        kept = self._read(path) or {"results": [], "seconds": 0.0, "commits": []}
        results = list(kept["results"])[:len(tasks)]
        if results:
            self.reused.append(f"{step} ({len(results)} of {len(tasks)})")
            self.commits.update(kept["commits"])
        for r in results:
            if on_result is not None:
                on_result(r)
        commits = sorted(set(kept["commits"]) | {self.commit})
        seconds = kept["seconds"]
        t0 = last = time.perf_counter()
        done_before = len(results)
        rest = list(tasks[done_before:])
        if rest:
            self.commits.add(self.commit)
        kwargs = {"shared": shared} if shared is not None else {}
        saved = done_before
        try:
            for r in map_ordered(fn, rest, workers=workers, **kwargs):
                results.append(r)
                now = time.perf_counter()
                if now - last >= SAVE_EVERY_SECONDS and len(results) < len(tasks):
                    self._write(path, {"results": results, "commits": commits,
                                       "seconds": seconds + now - t0})
                    saved, last = len(results), now
                if on_result is not None:
                    on_result(r)
        finally:  # an error in a task or in on_result keeps what was done
            self.last_seconds = seconds + time.perf_counter() - t0
            if len(results) > saved:
                self._write(path, {"results": results, "commits": commits,
                                   "seconds": self.last_seconds})
        self.last_reused = done_before > 0
        return results

    def claim(self, definition: str) -> None:
        """Tie the folder to what every step depends on (e.g. the scenario and the figures).

        The first claim writes ``definition`` (a digest) into the folder; a later one with
        another is refused: the steps' keys need not hold it, so a journal is never read
        back for another scenario or other figures. A folder without a definition (of
        code before the claim) takes this one.

        Raises:
            InputError: The folder holds the journal of another definition.
        """
        if self.folder is None:
            return
        path = self.folder / DEFINITION_NAME
        if path.exists() and path.read_text(encoding="utf-8").strip() != definition:
            raise InputError.single(str(self.folder), "journal",
                                    "the steps of another scenario or other figures",
                                    "the journal of this scenario and these figures; "
                                    "remove it or pass --fresh to start afresh")
        if not path.exists():
            with atomic_path(path) as tmp:
                tmp.write_text(definition + "\n", encoding="utf-8")

    def clear(self) -> None:
        """Remove the journal's folder (``--fresh``)."""
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


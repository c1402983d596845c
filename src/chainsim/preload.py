"""Imported by the local pool's forkserver (and by a Dask worker) before any task.

It imports the tasks of ``run`` and ``compare`` (:mod:`chainsim.experiment`,
:mod:`chainsim.compare`), then prepares the process once
(:func:`chainsim.worker.prepare`: the engines, their compiled loops, memory kept
for reuse, the preloaded objects frozen out of the garbage collector's way), and
every worker forked from it starts that way.

:mod:`chainsim.executor` names this module (it never imports it), so the tasks may
use the executor without an import loop.
"""

from __future__ import annotations

import chainsim.compare
import chainsim.experiment  # noqa: F401
from chainsim.worker import prepare

prepare()

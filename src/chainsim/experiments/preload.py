"""Imported by the local pool's forkserver (and by a Dask worker) before any task.

It imports the tasks of ``run`` and ``compare`` (:mod:`chainsim.experiments.replications`,
:mod:`chainsim.experiments.compare`), then prepares the process once
(:func:`chainsim.experiments.worker_setup.prepare`: the engines, their compiled loops, memory kept
for reuse, the preloaded objects frozen out of the garbage collector's way), and
every worker forked from it starts that way.

:mod:`chainsim.experiments.pool` names this module (it never imports it), so the tasks may
use the pool without an import loop.
"""

from __future__ import annotations

import chainsim.experiments.compare
import chainsim.experiments.replications  # noqa: F401
from chainsim.experiments.worker_setup import prepare

prepare()

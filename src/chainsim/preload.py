"""Imported by the local pool's forkserver before it forks the workers.

It prepares the forkserver once (:func:`chainsim.worker.prepare`: the engines, their
compiled loops, memory kept for reuse, the preloaded objects frozen out of the
garbage collector's way), and every worker forked from it starts that way.
"""

from __future__ import annotations

from chainsim.worker import prepare

prepare()

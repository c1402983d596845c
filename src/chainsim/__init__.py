"""chainsim: human-trafficking offenders in the Dutch criminal justice chain.

An agent-based (Mesa) simulation of offenders moving from undetected offending
through signalling, investigation, prosecution, trial, sentencing, detention and
probation to desistance or reoffending, calibrated to the National Rapporteur's
Dadermonitor mensenhandel 2015-2019.

The library is the API; the ``chainsim`` command is a thin layer over it::

    import chainsim

    baseline = chainsim.load_scenario("scenarios/baseline.toml")
    result = chainsim.run(baseline, reps=20, seed=1)           # RunResult
    result.yearly()                                            # DataFrame
    comparison = chainsim.compare(baseline, "scenarios/more_probation.toml",
                                  reps=20, seed=1)             # Comparison
    comparison.deltas()                                        # DataFrame

- ``load_scenario(path)``: a validated scenario (:class:`chainsim.chain.config.Scenario`).
- ``run(scenario, reps=20, seed=0, engine="fast", ...)``: a
  :class:`chainsim.experiments.replications.RunResult`; ``yearly()`` and ``flows()`` are DataFrames.
- ``compare(baseline, *scenarios, reps=20, seed=0, engine="fast", ...)``: a
  :class:`chainsim.experiments.compare.Comparison`; ``deltas()``, ``proxies()``, ``yearly()``,
  ``survival()`` and ``draws()`` are DataFrames.

Scenarios may be given as paths. The vectorised engine is the default;
``engine="agents"`` runs the Mesa agent model (the reference: the same records,
slower). See :mod:`chainsim.api` for the arguments.

Nothing heavy is imported here: the API is imported when first used, so
``import chainsim`` and ``chainsim --help`` stay fast.

The package's layers, one folder each, from the bottom: :mod:`chainsim.chain` (the
chain table and the inputs), :mod:`chainsim.engines`, :mod:`chainsim.analysis` (beside
:mod:`chainsim.files`, atomic writes), :mod:`chainsim.experiments`,
:mod:`chainsim.outputs` and :mod:`chainsim.dashboard`, then :mod:`chainsim.cli` and
:mod:`chainsim.api`. The import-linter contracts in ``pyproject.toml`` keep them so.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

__all__ = ["__version__", "compare", "load_scenario", "run"]


def __getattr__(name: str) -> object:
    if name in ("compare", "load_scenario", "run"):
        return getattr(importlib.import_module("chainsim.api"), name)
    raise AttributeError(f"module 'chainsim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

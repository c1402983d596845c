"""The public Python API: what ``import chainsim`` offers (see :mod:`chainsim`).

Three functions, each returning the library's own result objects, whose tables are
pandas DataFrames:

- :func:`load_scenario` reads and validates a scenario file
  (:class:`chainsim.chain.config.Scenario`);
- :func:`run` runs a scenario's replications (:class:`chainsim.experiments.replications.RunResult`:
  ``yearly()`` the chain's metrics per replication and year, ``flows()`` the annual
  flows by event, form and age group);
- :func:`compare` runs a baseline and scenarios on common random numbers
  (:class:`chainsim.experiments.compare.Comparison`: ``deltas()`` the paired scenario-minus-baseline
  deltas with 95 % confidence intervals, ``proxies()`` every proxy per arm and
  replication, ``yearly()``, ``survival()``, ``draws()``).

They use the vectorised engine unless ``engine="agents"`` asks for the Mesa agent
model (the same records, slower): see :mod:`chainsim.engines`.
"""

from __future__ import annotations

from pathlib import Path

from chainsim.chain.config import Scenario
from chainsim.chain.config import load_scenario as _load_scenario
from chainsim.engines import DEFAULT_ENGINE
from chainsim.experiments.compare import Comparison, compare_scenarios
from chainsim.experiments.replications import RunResult
from chainsim.experiments.replications import run as _run

__all__ = ["compare", "load_scenario", "run"]


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file (``base = "..."`` inheritance resolved).

    Any file is read (relative, absolute or with ``..``; its bases too), and
    ``chainsim:NAME`` (as ``path`` or as a ``base``) names a shipped scenario.

    Args:
        path: The TOML file, e.g. ``scenarios/baseline.toml`` or ``~/study/mine.toml``
            (``~`` expanded by the caller), or ``chainsim:baseline``.

    Returns:
        The validated scenario.

    Raises:
        chainsim.chain.errors.InputError: If the file or any value in it is invalid; each
            problem names file, field, value and what is allowed.
    """
    return _load_scenario(path)


def run(scenario: Scenario | str | Path, reps: int = 20, seed: int = 0, *,
        engine: str = DEFAULT_ENGINE, workers: int | None = None, uncertainty: bool = False,
        scheduler: str | None = None) -> RunResult:
    """Run a scenario's replications.

    Replication ``i`` uses ``SeedSequence(seed).spawn(reps)[i]``: the results do not
    depend on ``workers`` or on the backend.

    Args:
        scenario: A scenario from :func:`load_scenario`, or the path of its file.
        reps: Replications.
        seed: The run's seed.
        engine: ``fast`` (default) or ``agents`` (the Mesa agent model, the reference).
        workers: Worker processes (default: one per core).
        uncertainty: Sample the declared unknowns per replication (default: their
            central values).
        scheduler: Address of a Dask scheduler (``tcp://host:port``) to run on.

    Returns:
        The run: ``result.yearly()`` (a DataFrame: ``year``, ``rep`` and every chain
        metric), ``result.flows()`` (``year``, ``event``, ``form``, ``age_group``,
        ``count``, ``rep``), ``result.reps`` (each replication's summaries).
    """
    if not isinstance(scenario, Scenario):
        scenario = _load_scenario(scenario)
    return _run(scenario, reps=reps, seed=seed, workers=workers, uncertainty=uncertainty,
                engine=engine, scheduler=scheduler)


def compare(baseline: Scenario | str | Path, *scenarios: Scenario | str | Path,
            reps: int = 20, seed: int = 0, engine: str = DEFAULT_ENGINE,
            workers: int | None = None, uncertainty: bool = False, costs=None,
            scheduler: str | None = None) -> Comparison:
    """Compare scenarios with a baseline on common random numbers.

    Replication ``i`` of every arm uses the same seed (and, with ``uncertainty``,
    the same draw of the unknowns), so the deltas are paired.

    Args:
        baseline: The baseline: a scenario or the path of its file.
        *scenarios: The scenarios to compare with it (scenarios or paths).
        reps: Replications per arm.
        seed: The comparison's seed.
        engine: ``fast`` (default) or ``agents``.
        workers: Worker processes (default: one per core).
        uncertainty: Sample the declared unknowns per replication (shared by the arms).
        costs: Unit costs (:func:`chainsim.chain.costs.load_costs`): adds ``cost_per_year``.
        scheduler: Address of a Dask scheduler to run on.

    Returns:
        The comparison: ``comparison.deltas()`` (a DataFrame: ``scenario``, ``proxy``,
        ``mean``, ``lo``, ``hi``, ``n``), ``comparison.proxies()`` (every proxy per
        ``arm``, ``scenario`` and ``rep``), ``yearly()``, ``survival()``, ``draws()``.
    """
    return compare_scenarios(baseline, *scenarios, reps=reps, seed=seed, engine=engine,
                             workers=workers, uncertainty=uncertainty, costs=costs,
                             scheduler=scheduler)

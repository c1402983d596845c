"""The engines, by name: what ``--engine`` chooses and every experiment runs.

An engine turns one replication's resolved parameters and seed sequence into its
event records (:class:`chainsim.engines.records.RecordArrays`, the arrays every analysis
shares). Both engines read the same chain and give the same records for the same
seed:

- ``fast`` (the default): the vectorised engine (:mod:`chainsim.engines.fast`); it also
  runs the arms of a comparison together, sharing their common start
  (:func:`chainsim.engines.fast.run_fast_arms`).
- ``agents``: the Mesa agent model (:mod:`chainsim.engines.model`), the reference, and
  what the dashboard's live run and inspector show.

The command line's ``--engine`` choices, sweep designs, :mod:`chainsim.experiments.replications`
and :mod:`chainsim.experiments.compare` read :data:`ENGINES`; nothing else names an engine. To
add one, write its ``records`` function (and ``arms`` if arms can share work) and
list it here. The engines' modules are imported only when a replication runs, so
this table is cheap to import (the CLI reads it to build its parser).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from chainsim.chain.parameters import ParameterSet
    from chainsim.engines.records import RecordArrays

Records = Callable[["ParameterSet", "np.random.SeedSequence"], "RecordArrays"]
ArmsRecords = Callable[[list["ParameterSet"], "np.random.SeedSequence"],
                       Iterator["RecordArrays"]]


@dataclass(frozen=True)
class Engine:
    """One engine.

    Attributes:
        name: Its name (``--engine NAME``).
        summary: One line for the command line's help.
        records: ``records(params, seed)``: one replication's event records.
        arms: ``arms(params_list, seed)``: the records of several arms on one seed
            (common random numbers), yielded in order, if the engine shares work
            between them; ``None`` runs :attr:`records` arm by arm.
    """

    name: str
    summary: str
    records: Records
    arms: ArmsRecords | None = None

    @property
    def shares_arms(self) -> bool:
        """Whether the arms of a replication are cheaper run together than apart."""
        return self.arms is not None

    def arms_records(self, params: list[ParameterSet], seed: np.random.SeedSequence
                     ) -> Iterator[RecordArrays]:
        """The records of several arms on one seed, one arm at a time, in order."""
        if self.arms is not None:
            yield from self.arms(params, seed)
            return
        for p in params:
            yield self.records(p, seed)


def _agents_records(params: ParameterSet, seed: np.random.SeedSequence) -> RecordArrays:
    from chainsim.engines.model import ChainModel
    from chainsim.engines.records import RecordArrays

    return RecordArrays(ChainModel(params, seed, keep_history=False).run().records.to_frame())


def _fast_records(params: ParameterSet, seed: np.random.SeedSequence) -> RecordArrays:
    # the engine hands over its columns and the rows' offender order (it knows it
    # from its offender indexes): no DataFrame is built unless an analysis asks
    from chainsim.engines.fast import run_fast

    return run_fast(params, seed).arrays()


def _fast_arms(params: list[ParameterSet], seed: np.random.SeedSequence
               ) -> Iterator[RecordArrays]:
    from chainsim.engines.fast import run_fast_arms

    for result in run_fast_arms(params, seed):
        yield result.arrays()


ENGINES: dict[str, Engine] = {engine.name: engine for engine in (
    Engine("fast", "the vectorised engine, the same records as agents, faster",
           _fast_records, _fast_arms),
    Engine("agents", "the Mesa agent model, the reference", _agents_records),
)}
"""Every engine, by name (the default first)."""

DEFAULT_ENGINE = "fast"
"""The engine of ``run``, ``compare``, sweeps and calibration checks unless told otherwise."""

REFERENCE_ENGINE = "agents"
"""The engine the others are checked against (and the dashboard's live run)."""


def get_engine(name: str) -> Engine:
    """The engine called ``name``.

    Raises:
        InputError: If there is none (the message lists the engines).
    """
    try:
        return ENGINES[name]
    except (KeyError, TypeError):
        from chainsim.chain.errors import InputError

        raise InputError.single("--engine", "engine", name,
                                "one of " + ", ".join(ENGINES)) from None


def engine_help() -> str:
    """The engines for ``--engine``'s help text."""
    return "; ".join(f"{e.name}: {e.summary}" + (" (default)" if e.name == DEFAULT_ENGINE else "")
                     for e in ENGINES.values())

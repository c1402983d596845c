"""The engines: one replication's parameters and seed in, its event records out.

- :mod:`~chainsim.engines.registry`: the engines by name (``--engine``); its names are
  re-exported here (``from chainsim.engines import DEFAULT_ENGINE, get_engine``).
- :mod:`~chainsim.engines.model` and :mod:`~chainsim.engines.agents`: the Mesa agent
  model, the reference.
- :mod:`~chainsim.engines.fast`: the vectorised engine (the same records, faster).
- :mod:`~chainsim.engines.twin`: the expected-flow twin (calibration's fast proxy).
- :mod:`~chainsim.engines.records`: the event-record format every engine writes.

Importing this package imports the registry only; an engine's module is imported
when a replication runs.
"""

from chainsim.engines.registry import (
    DEFAULT_ENGINE,
    ENGINES,
    REFERENCE_ENGINE,
    Engine,
    engine_help,
    get_engine,
)

__all__ = ["DEFAULT_ENGINE", "ENGINES", "REFERENCE_ENGINE", "Engine", "engine_help",
           "get_engine"]

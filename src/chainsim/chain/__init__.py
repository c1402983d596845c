"""The chain's declaration and its inputs: the lowest layer, importing nothing else of chainsim.

- :mod:`~chainsim.chain.steps`: the chain table (stages, events, random streams, steps
  and their branches, flow metrics), declared once; its names are re-exported here, so
  ``from chainsim import chain; chain.STEPS`` reads it. ``python -m chainsim.chain``
  regenerates the README's diagram and the ODD's stage table from it.
- :mod:`~chainsim.chain.spec`: the vocabulary (stages, events, forms, age groups) and
  the rule functions, and the declared parameters.
- :mod:`~chainsim.chain.config`: scenario files; :mod:`~chainsim.chain.parameters`: a
  scenario resolved into one replication's parameters; :mod:`~chainsim.chain.uncertainty`:
  the declared unknowns; :mod:`~chainsim.chain.costs`: unit-cost files.
- :mod:`~chainsim.chain.streams`: the random streams and replication seeds;
  :mod:`~chainsim.chain.months`: month arithmetic (``YYYY-MM``).
- :mod:`~chainsim.chain.schema`, :mod:`~chainsim.chain.tomlfile`,
  :mod:`~chainsim.chain.errors`: strict input models, TOML reading, the errors that name
  file, field and value.
"""

from chainsim.chain.steps import (
    EVENT_NAMES,
    EVENTS,
    FLOW_METRICS,
    MECHANISMS,
    STAGE_NAMES,
    STAGES,
    STEP,
    STEPS,
    Branch,
    Draw,
    EventDecl,
    FlowMetric,
    StageDecl,
    Step,
    check_events,
    draw_slots,
    draw_use,
    funnel_metrics,
    markdown_table,
    mermaid,
    metric_events,
    offending_stages,
    phase_draws,
    transitions,
)

__all__ = [
    "EVENTS", "EVENT_NAMES", "FLOW_METRICS", "MECHANISMS", "STAGES", "STAGE_NAMES", "STEP",
    "STEPS", "Branch", "Draw", "EventDecl", "FlowMetric", "StageDecl", "Step", "check_events",
    "draw_slots", "draw_use", "funnel_metrics", "markdown_table", "mermaid",
    "metric_events", "offending_stages", "phase_draws", "transitions",
]

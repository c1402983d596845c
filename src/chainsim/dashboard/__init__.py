"""The workshop dashboard: a Solara app over the chain model (``chainsim dashboard``).

Layers, each importable and testable without a browser:

- :mod:`~chainsim.dashboard.levers`: lever settings and unknowns -> a validated
  :class:`~chainsim.chain.config.Scenario` (baseline or a shipped preset plus dated
  interventions);
- :mod:`~chainsim.dashboard.live`: the Mesa agent model stepped month by month, with
  stage counts over time and each offender's life history;
- :mod:`~chainsim.dashboard.projection` and :mod:`~chainsim.dashboard.bands`: the fast
  engine's single-run projection and replication bands with paired deltas;
- :mod:`~chainsim.dashboard.i18n` (Dutch and English labels),
  :mod:`~chainsim.dashboard.svg` (charts as SVG), :mod:`~chainsim.dashboard.views`
  (chart and table builders);
- :mod:`~chainsim.dashboard.app` (the Solara page) and
  :mod:`~chainsim.dashboard.server` (starts it, binding 127.0.0.1 by default).
"""

"""Analyses of the event records: what a replication's outcomes are and how they fit.

- :mod:`~chainsim.analysis.flows`: annual flows and the chain's metrics.
- :mod:`~chainsim.analysis.recidivism`, :mod:`~chainsim.analysis.occupancy`:
  recidivism prevalence, custody occupancy.
- :mod:`~chainsim.analysis.proxies`: the proxies a comparison, a sweep and the
  dashboard report, and their paired deltas.
- :mod:`~chainsim.analysis.targets`: the calibration targets (source figures) and
  :mod:`~chainsim.analysis.fit`: how far a run is from them.
"""

"""Experiments: replications of scenarios, and where they run.

- :mod:`~chainsim.experiments.evaluate`: the replication evaluator, the per-replication
  work of run, compare (and the dashboard's bands) and sweeps: arms on one seed through
  the engine registry, the asked outcomes of each arm.
- :mod:`~chainsim.experiments.replications`: a scenario's replications (seeds, workers,
  :class:`~chainsim.experiments.replications.RunResult`).
- :mod:`~chainsim.experiments.compare`: a baseline and scenarios on common random numbers.
- :mod:`~chainsim.experiments.design`, :mod:`~chainsim.experiments.sweep`,
  :mod:`~chainsim.experiments.sensitivity`: sweep designs, running them, Sobol indices.
- :mod:`~chainsim.experiments.calibrate`: fitting the unknowns to the targets.
- :mod:`~chainsim.experiments.summary`: a run's summary document.
- :mod:`~chainsim.experiments.pool`: where tasks run (in-process, a local process
  pool, a Dask cluster); :mod:`~chainsim.experiments.worker_setup` and
  :mod:`~chainsim.experiments.preload`: setting up a worker process once;
  :mod:`~chainsim.experiments.progress`: progress bars.
"""

"""chainsim: human-trafficking offenders in the Dutch criminal justice chain.

An agent-based (Mesa) simulation of offenders moving from undetected offending
through signalling, investigation, prosecution, trial, sentencing, detention and
probation to desistance or reoffending, calibrated to the National Rapporteur's
Dadermonitor mensenhandel 2015-2019.

The library is the API; the ``chainsim`` command is a thin layer over it::

    from chainsim.config import load_scenario
    from chainsim.experiment import run
    result = run(load_scenario("scenarios/baseline.toml"), reps=20, seed=1)

Heavy modules are not imported here, so ``import chainsim`` stays cheap.
"""

__version__ = "0.1.0"

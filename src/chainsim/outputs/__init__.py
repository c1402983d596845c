"""Writing results: output folders, tables, figures and the HTML report.

- :mod:`~chainsim.outputs.folders`: a run's or a calibration's output folder.
- :mod:`~chainsim.outputs.tables`: the command line's text tables.
- :mod:`~chainsim.outputs.plots`: figures (funnel, fit).
- :mod:`~chainsim.outputs.report`: the HTML report of a comparison.

The files themselves are written atomically by :mod:`chainsim.files`, which sits
below the experiments (a sweep streams its parts through it).
"""

"""chainsim.analysis.proxies: the proxies, their period and the paired deltas, defined once."""

from __future__ import annotations

import chainsim.experiments.compare
from chainsim.analysis import proxies


def test_the_proxies_are_recidivism_then_harm_and_workload():
    assert proxies.PROXIES == (*proxies.RECIDIVISM_PROXIES, *proxies.HARM_PROXIES)
    assert len(proxies.RECIDIVISM_PROXIES) == 9 and len(set(proxies.PROXIES)) == 15
    assert proxies.RECIDIVISM_PROXIES[0] == "recid_observed_general_2y"


def test_compare_reads_the_outcomes_from_here():
    # compare imports what it uses from here rather than defining its own
    for name in ("PROXIES", "CONFIDENCE", "paired_delta", "default_period"):
        assert getattr(chainsim.experiments.compare, name) is getattr(proxies, name), name
    for name in ("HARM_PROXIES", "RECIDIVISM_PROXIES", "arm_proxies", "victims_per_offender",
                 "with_costs"):
        assert not hasattr(chainsim.experiments.compare, name), name


def test_with_costs_adds_the_cost_only_when_costs_are_given():
    class Costs:
        def per_year(self, proxies):
            return 2.0 * proxies["court_cases"]

    assert proxies.with_costs({"court_cases": 3.0}, None) == {"court_cases": 3.0}
    assert proxies.with_costs({"court_cases": 3.0}, Costs())["cost_per_year"] == 6.0

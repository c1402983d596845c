"""The batched twin: many parameter sets in one pass, each equal to its own run.

The twin carries a member axis on every state array (:class:`chainsim.engines.twin.Twin`
with a sequence of parameter sets); :func:`chainsim.engines.twin.expected_flows_batch`
returns one :class:`chainsim.engines.twin.ExpectedFlows` per set. Every member's events,
prison terms, stocks and re-entries must equal those of the one-at-a-time twin
(:func:`chainsim.engines.twin.expected_flows`) to ``rtol`` 1e-10, ``atol`` 1e-9: the
members share every array operation, so only the order of a few sums and the FFT's
round-off (set to 0 below 1e-14 of each member's own largest value) can differ, far
below these tolerances (measured: about 3e-16 relative).

The members differ in many parameters at once: durations and their spread (different
kernels per member, padded to the longest), investigation capacity (the queue binds in
some members and not in others), pre-trial detention, appeal and resumption shares,
probation places (a capacity in one member only), time trends (as interventions and as
trends in the scenario), and the chain mode's re-entries (one array per member).
"""

from __future__ import annotations

import numpy as np
import pytest

from chainsim.chain.spec import Event, Stage
from chainsim.engines.twin import Twin, expected_flows, expected_flows_batch
from conftest import NON_BINDING_CAPACITY, capped_params, make_params, set_param, short_doc

RTOL, ATOL = 1e-10, 1e-9
"""Batched against one at a time (see the module docstring)."""
FIELDS = ("events", "prison_terms", "stocks", "reentries")


def trend_doc(**changes: float) -> dict:
    """The short scenario with time trends: in the scenario and from interventions.

    Signal and dismissal trends (the OM's summons share then moves every month, so
    the detained registrations' releases are recomputed month by month), and an
    intervention that ramps the investigation capacity down and the pre-trial
    detention share up.
    """
    doc = short_doc()
    for name, value in changes.items():
        set_param(doc, name, value)
    p = doc["parameters"]
    p["signal_hazard"]["trend"] = {"2012-06": 0.7, "2015-06": 1.6}
    p["technical_dismissal_share"]["trend"] = {"2013-01": 0.6, "2016-06": 1.3}
    doc["interventions"] = [
        {"name": "fewer places", "parameter": "investigation_capacity", "operation": "multiply",
         "value": 0.5, "start": "2014-01", "ramp_months": 18, "note": "a test"},
        {"name": "more detention", "parameter": "pretrial_detention_share", "operation": "add",
         "value": 0.2, "start": "2015-01", "ramp_months": 12, "note": "a test"}]
    return doc


def time_varying_doc() -> dict:
    """Trends in sentences, trial times and convictions: the twin's time-varying paths."""
    doc = short_doc()
    p = doc["parameters"]
    p["prison_months_mean"]["trend"] = {"2013-01": 0.6, "2016-01": 1.5}
    doc.setdefault("interventions", []).append(  # trial_months is an unknown: no trend
        {"name": "slower trials", "parameter": "trial_months", "operation": "multiply",
         "value": 1.8, "start": "2013-01", "ramp_months": 36, "note": "a time-varying length"})
    p["conviction_prob"]["trend"] = {"2013-06": 1.2, "2016-06": 0.8}
    set_param(doc, "pretrial_detention_share", 0.6)
    return doc


def chain_members() -> list:
    """Parameter sets that differ in many parameters (see the module docstring)."""
    return [
        make_params(),
        make_params({"investigation_capacity": 60.0, "investigation_months": 9.0,
                     "investigation_cv": 0.9, "queue_drop_hazard": 0.01}),  # queue binds
        make_params({"investigation_capacity": NON_BINDING_CAPACITY,  # queue never binds
                     "pretrial_detention_share": 0.75, "appeal_share": 0.5,
                     "appeal_months": 20.0, "appeal_cv": 0.9, "om_decision_months": 5.0}),
        make_params({"resume_share": 0.85, "trial_months": 4.0, "trial_cv": 0.3,
                     "probation_months": 12.0, "probation_share_other": 0.6,
                     "supervision_risk_factor": 2.5, "inflow_rate": 900.0}),
        make_params(doc=trend_doc(appeal_share=0.2, prison_months_cv=0.5,
                                  known_signal_factor=4.0, exposure_share=0.15)),
        capped_params(),  # probation places from 2015, in this member only
    ]


def assert_same(batched, single) -> None:
    """Every field of a batched member equals the one-at-a-time run."""
    assert len(batched) == len(single)
    for i, (b, s) in enumerate(zip(batched, single, strict=True)):
        assert b.params is s.params
        for name in FIELDS:
            x, y = getattr(s, name), getattr(b, name)
            if x is None:
                assert y is None, (i, name)
                continue
            assert y.shape == x.shape, (i, name)
            np.testing.assert_allclose(y, x, rtol=RTOL, atol=ATOL, err_msg=f"member {i}: {name}")


@pytest.fixture(scope="module")
def members() -> list:
    return chain_members()


@pytest.fixture(scope="module")
def reentries(members) -> list[np.ndarray]:
    """Re-entries for the chain mode, one array per member, each different.

    A full run's (what calibration feeds the chain mode), scaled per member: the batch
    must add each member's own (one full run keeps the test quick).
    """
    base = expected_flows(members[0]).reentries
    return [base * (0.6 + 0.15 * i) for i in range(len(members))]


def test_members_differ_where_the_batch_must_keep_them_apart(members, reentries):
    """The premises: the queue binds in some members only, kernels and capacities differ."""
    single = [expected_flows(p, full=False, reentries=r) for p, r in zip(members, reentries,
                                                                          strict=True)]
    queue = np.array([ef.stocks[1:, Stage.SIGNALLED].max() for ef in single])
    assert queue[1] > 20 and queue[2] < 1e-9  # binding vs never
    refused = [ef.count(Event.PROBATION_REFUSED).sum() for ef in single]
    assert refused[-1] > 10 and not any(refused[:-1])
    totals = np.array([ef.count(Event.INVESTIGATION_STARTED).sum() for ef in single])
    assert np.ptp(totals) / totals.mean() > 0.2


def test_chain_mode_batch_equals_one_at_a_time(members, reentries):
    single = [expected_flows(p, full=False, reentries=r) for p, r in zip(members, reentries,
                                                                          strict=True)]
    assert_same(expected_flows_batch(members, full=False, reentries=reentries), single)
    # passes of two members: the same again
    assert_same(expected_flows_batch(members, full=False, reentries=reentries, members=2),
                single)


def test_chain_mode_batch_with_shared_or_no_reentries(members, reentries):
    """One re-entry array for every member, or none, as ``expected_flows`` takes them."""
    chosen = members[1:4]
    for arg in (reentries[0], None):
        single = [expected_flows(p, full=False, reentries=arg) for p in chosen]
        assert_same(Twin(chosen, full=False, reentries=arg).run_batch(), single)


def test_one_member_equals_expected_flows(members, reentries):
    """K = 1 is the one-at-a-time twin (``expected_flows`` runs it)."""
    p, r = members[4], reentries[4]
    one = Twin([p], full=False, reentries=r).run_batch()
    assert_same(one, [expected_flows(p, full=False, reentries=r)])
    assert_same(expected_flows_batch([p], full=False, reentries=[r]), one)


def test_full_mode_batch_equals_one_at_a_time(members):
    """Full mode (priors, birth years and life after the chain) batched: the same.

    A member whose queue binds beside one with probation places; ``expected_flows_batch``
    runs full mode one member at a time by default, ``members`` batches it.
    """
    chosen = [members[1], members[5]]
    single = [expected_flows(p) for p in chosen]
    assert_same(expected_flows_batch(chosen, full=True, members=2), single)


@pytest.mark.slow
@pytest.mark.parametrize("full", [False, True])
def test_time_varying_sentences_and_kernels_batched(members, full):
    """Sentences, trial times and convictions moving over time in one member (the slow paths).

    In full mode also the members with trends and with different durations.
    """
    chosen = [make_params(doc=time_varying_doc()), *members[:3], members[-1]]
    if full:
        chosen.insert(2, members[4])
    single = [expected_flows(p, full=full) for p in chosen]
    assert_same(expected_flows_batch(chosen, full=full, members=len(chosen)), single)


def test_a_batch_needs_one_horizon_and_one_reentry_array_per_member(members):
    doc = short_doc()
    doc["scenario"]["end"] = "2016-12"
    with pytest.raises(ValueError, match="same start and horizon"):
        Twin([members[0], make_params(doc=doc)])
    with pytest.raises(ValueError, match="re-entry arrays"):
        Twin(members[:2], full=False, reentries=[None])
    with pytest.raises(ValueError, match="re-entry arrays"):
        expected_flows_batch(members[:2], full=False, reentries=[None])
    with pytest.raises(ValueError, match="run_batch"):
        Twin(members[:2]).run()
    with pytest.raises(ValueError, match="at least one"):
        Twin([])

"""Transition rules of the Offender agent, checked on model runs with controlled parameters.

Every run is the short scenario (2012-2017) with one seed; each test states what the
parameters force and checks it on the record table, and checks that the situation it
tests actually occurred (so no test passes on an empty table).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from chainsim.chain import spec
from chainsim.chain.months import parse_month
from chainsim.chain.steps import STAGES as CHAIN_STAGES
from conftest import is_point, run_model, set_param, short_doc, with_order

ENTRY_EVENTS = ("pool", "inflow")
ACTIVE_ENTRIES = ("pool", "inflow", "dropped", "reoffended", "resumed")
NO_SANCTION = ("technical_dismissal", "policy_dismissal", "other_disposal", "acquitted")
POST_CHAIN_ENTRIES = ("technical_dismissal", "policy_dismissal", "other_disposal", "acquitted",
                      "non_custodial", "released", "probation_start", "probation_end")
# (a release after a recall also leads to life after the chain: "released" is in the list)
OM_DECISIONS = ("summoned", "summoned_detained", "technical_dismissal", "policy_dismissal",
                "other_disposal")

ALLOWED_PREVIOUS: dict[str, tuple[str, ...]] = {
    "signalled": ACTIVE_ENTRIES,
    "inspected": ACTIVE_ENTRIES,
    "exposed": ACTIVE_ENTRIES,
    "investigation_started": ("signalled", "exposed"),
    "dropped": ("signalled", "exposed"),
    "traced": ("investigation_started",),
    "registered_other": ("inspected",),
    **{d: ("traced", "registered_other") for d in OM_DECISIONS},
    "appealed": ("summoned",),
    "appealed_detained": ("summoned_detained",),
    "convicted": ("summoned", "summoned_detained", "appealed", "appealed_detained"),
    "acquitted": ("summoned", "summoned_detained", "appealed", "appealed_detained"),
    "prison": ("convicted",),
    "non_custodial": ("convicted",),
    "released": ("prison", "revoked"),
    "revoked": ("probation_start",),
    "probation_start": ("released", "non_custodial"),
    "probation_end": ("probation_start",),
    "resumed": NO_SANCTION,
    "reoffended": POST_CHAIN_ENTRIES,
    "desisted": ACTIVE_ENTRIES + POST_CHAIN_ENTRIES,
}
"""For each event, the events that may come directly before it for the same offender
(point events aside): the chain of the design brief (§3) written out by hand, an
oracle independent of chainsim.chain's table."""

SAME_MONTH = {"prison": "convicted", "non_custodial": "convicted", "resumed": NO_SANCTION,
              "probation_start": ("released", "non_custodial")}
"""Events that happen in the same month as the event before them."""


def chain_records(records: pd.DataFrame) -> pd.DataFrame:
    """Stage transitions only (point events dropped), with each offender's previous one."""
    rec = with_order(records)
    rec = rec[~is_point(rec)].copy()
    for col in ("event", "month", "from_stage", "to_stage", "priors"):
        rec[f"prev_{col}"] = rec.groupby("agent_id")[col].shift(1)
    # age at the charged offence: in the month the investigation (or inspection) began
    began = rec["event"].isin(("investigation_started", "inspected"))
    rec["charge_age"] = rec["age"].where(began).groupby(rec["agent_id"]).ffill()
    # pre-trial detention: since the arrest (a registration into detention)
    arrest = rec["event"].isin(("traced", "registered_other"))
    since = rec["month"].where(arrest & (rec["to_stage"].astype(str) == "prosecution_detained"))
    rec["detained_since"] = since.where(arrest | since.notna()).groupby(rec["agent_id"]).ffill()
    rec["event"] = rec["event"].astype(str)
    rec["prev_event"] = rec["prev_event"].astype(object).fillna("").astype(str)
    return rec


def count(records: pd.DataFrame, *events: str) -> int:
    return int(records["event"].isin(events).sum())


def years_of(records: pd.DataFrame, event: str) -> pd.Series:
    rec = records[records["event"] == event]
    return rec.groupby(rec["month"] // 12).size()


# ------------------------------------------------------------------ the baseline run


def test_every_transition_follows_the_chain(baseline_records):
    rec = chain_records(baseline_records)
    first = rec["prev_event"] == ""
    assert set(rec.loc[first, "event"]) <= set(ENTRY_EVENTS)
    assert set(rec.loc[~first, "event"]).isdisjoint(ENTRY_EVENTS)
    later = rec[~first]
    for event, allowed in ALLOWED_PREVIOUS.items():
        sub = later[later["event"] == event]
        assert len(sub) > 0, f"no {event} in the baseline run"
        bad = sub[~sub["prev_event"].isin(allowed)]
        assert bad.empty, f"{event} after {sorted(set(bad['prev_event']))}"
        assert (sub["month"] >= sub["prev_month"]).all()
    for event, before in SAME_MONTH.items():
        sub = later[later["event"] == event]
        assert sub["prev_event"].isin(np.atleast_1d(before)).all()
        assert (sub["month"] == sub["prev_month"]).all(), event


def test_traced_is_preceded_by_investigation_started_and_signalled(baseline_records):
    rec = chain_records(baseline_records)
    traced = rec[rec["event"] == "traced"]
    assert len(traced) > 100
    assert (traced["prev_event"] == "investigation_started").all()
    assert (traced["month"] > traced["prev_month"]).all()  # investigations take >= 1 month
    # the record before each 'investigation_started' is its 'signalled' (or 'exposed'),
    # no later than it
    starts = rec[rec["event"] == "investigation_started"]
    assert starts["prev_event"].isin(("signalled", "exposed")).all()
    assert (starts["month"] >= starts["prev_month"]).all()
    # and inspections lead to registrations by other services
    other = rec[rec["event"] == "registered_other"]
    assert len(other) > 20 and (other["prev_event"] == "inspected").all()


def test_prison_follows_conviction_in_the_same_month(baseline_records):
    rec = chain_records(baseline_records)
    prison = rec[rec["event"] == "prison"]
    assert len(prison) > 50
    assert (prison["prev_event"] == "convicted").all()
    assert (prison["month"] == prison["prev_month"]).all()
    assert (prison["from_stage"].astype(str) == "sentencing").all()
    # the conviction counts as a prior conviction from then on (one more than before)
    convicted = rec[rec["event"] == "convicted"]
    assert (convicted["priors"] == convicted["prev_priors"]).all()
    nxt = rec.groupby("agent_id")["priors"].shift(-1).loc[convicted.index]
    assert (nxt == convicted["priors"] + 1).all()


def test_desisted_agents_are_removed_but_keep_their_records(baseline_run):
    model, records = baseline_run
    desisted = set(records.loc[records["event"] == "desisted", "agent_id"])
    entered = set(records.loc[records["event"].isin(ENTRY_EVENTS), "agent_id"])
    alive = {a.offender_id for a in model.agents}
    assert len(desisted) > 100
    assert alive.isdisjoint(desisted)
    assert alive == entered - desisted
    assert len(alive) == len(model.agents)
    # nothing happens to an offender after desistance, and each desists once
    rec = with_order(records)
    last = rec.groupby("agent_id")["i"].max()
    des = rec[rec["event"] == "desisted"]
    assert des["agent_id"].is_unique
    assert (des["i"].to_numpy() == last.loc[des["agent_id"]].to_numpy()).all()
    assert (des["to_stage"].astype(str) == "desisted").all()


def test_reoffended_agents_return_to_active(baseline_run):
    model, records = baseline_run
    re = records[records["event"] == "reoffended"]
    assert len(re) > 20
    assert (re["to_stage"].astype(str) == "active").all()
    assert set(re["from_stage"].astype(str)) <= {"free", "probation"}
    assert not re["probation"].any()  # supervision ends with the new spell
    # the reoffended agents are in the model unless they desisted again
    alive = {a.offender_id: a for a in model.agents}
    for agent_id in re["agent_id"].unique()[:50]:
        if agent_id in alive:
            assert alive[agent_id].stage.name.lower() == str(
                records.loc[records["agent_id"] == agent_id, "to_stage"].iloc[-1])


def test_general_case_only_with_general_offence(baseline_records):
    rec = with_order(baseline_records)
    cases = rec[rec["event"] == "general_case"]
    offences = rec[rec["event"] == "general_offence"]
    assert len(cases) > 10
    assert len(offences) > len(cases)
    before = rec.set_index("pos").loc[cases["pos"].to_numpy() - 1]
    assert (before["event"].astype(str) == "general_offence").all()
    assert (before["agent_id"].to_numpy() == cases["agent_id"].to_numpy()).all()
    assert (before["month"].to_numpy() == cases["month"].to_numpy()).all()
    # other offences are point events of offenders at liberty after the chain, or
    # offending alongside trafficking (undetected)
    for sub in (cases, offences):
        assert (sub["from_stage"].astype(str) == sub["to_stage"].astype(str)).all()
        assert set(sub["from_stage"].astype(str)) == {"free", "probation", "active"}


def test_investigation_starts_follow_signal_order(baseline_records):
    # FIFO with a deterministic tie-break: the queue is served in order of (month
    # signalled, offender id), so over the run the keys of the suspects whose
    # investigation starts never decrease (a waiting suspect with a smaller key would
    # have been served first; a new arrival always has a later month).
    rec = chain_records(baseline_records)
    starts = rec[rec["event"] == "investigation_started"]
    assert starts["prev_event"].isin(("signalled", "exposed")).all()
    keys = list(zip(starts["prev_month"].astype(int), starts["agent_id"], strict=True))
    assert len(starts) > 100
    assert keys == sorted(keys)


def test_investigation_capacity_in_the_baseline(baseline_records, short_params):
    cap = short_params["investigation_capacity"][:, 0, 0, 0]
    assert np.all(cap == cap[0])  # constant on the short horizon
    starts = years_of(baseline_records, "investigation_started")
    assert starts.max() <= cap[0] + 1
    # capacity binds in the baseline (signals exceed it): full years use all of it
    assert starts.loc[2013:].min() >= cap[0] - 1


# ------------------------------------------------------------------ controlled runs


@pytest.fixture(scope="module")
def no_detection():
    return run_model({"signal_hazard": 0.0, "inspection_hazard": 0.0, "exposure_share": 0.0})[1]


def test_no_signal_no_inspection_means_nobody_enters_the_chain(no_detection):
    rec = no_detection
    assert set(rec["event"].astype(str)) == {"pool", "inflow", "desisted", "general_offence",
                                             "general_case"}  # (other offending goes on)
    assert count(rec, "desisted") > 100


@pytest.mark.slow
def test_a_signal_hazard_that_ends_before_anyone_is_exposed_signals_nobody():
    # A monthly signal probability of 1 in the start month only (trend to 0 a month
    # later): offenders are exposed from the month after they enter, when it is 0, so
    # nobody can be signalled (P(signal in month k) = p[k] = 0 for every k >= 1).
    doc = set_param(short_doc(), "signal_hazard", 1.0,
                    trend={"2012-01": 1.0, "2012-02": 0.0})
    _, rec = run_model(doc=doc)
    assert count(rec, "pool", "inflow") > 1000
    assert count(rec, "signalled") == 0


@pytest.fixture(scope="module")
def technical_only():
    return run_model({"technical_dismissal_share": 1.0, "policy_dismissal_share": 0.0,
                      "other_disposal_share": 0.0})[1]


@pytest.mark.slow
def test_all_om_decisions_are_technical_dismissals(technical_only):
    rec = technical_only
    assert count(rec, "technical_dismissal") > 100
    assert count(rec, "summoned", "summoned_detained", "policy_dismissal", "other_disposal",
                 "convicted", "acquitted", "prison", "non_custodial", "released") == 0
    chain = chain_records(rec)
    after_registration = chain[chain["prev_event"].isin(["traced", "registered_other"])]
    assert (after_registration["event"] == "technical_dismissal").all()
    assert (after_registration["to_stage"].astype(str) == "free").all()


@pytest.fixture(scope="module")
def never_convicted():
    return run_model({"conviction_prob": 0.0})[1]


@pytest.mark.slow
def test_conviction_prob_zero_acquits_everyone(never_convicted):
    rec = never_convicted
    assert count(rec, "summoned", "summoned_detained") > 100
    assert count(rec, "acquitted") > 100
    assert count(rec, "convicted", "prison", "non_custodial", "released") == 0
    chain = chain_records(rec)
    judged = chain[chain["prev_event"].isin(["summoned", "summoned_detained"])]
    assert (judged["event"] == "acquitted").all()


@pytest.fixture(scope="module")
def all_prison():
    """Every conviction brings prison, every release supervision; juvenile law for all
    under 23 (so whether a sentence is juvenile can be read off the records)."""
    return run_model({"prison_prob": 1.0, "probation_share_prison": 1.0,
                      "adolescent_law_share": 1.0})


def test_prison_prob_one_imprisons_every_conviction(all_prison):
    rec = all_prison[1]
    assert count(rec, "convicted") > 100
    assert count(rec, "non_custodial") == 0
    chain = chain_records(rec)
    after = chain[chain["prev_event"] == "convicted"]
    assert len(after) == count(rec, "convicted")
    assert (after["event"] == "prison").all()


def test_probation_share_one_supervises_every_release(all_prison):
    rec = all_prison[1]
    chain = chain_records(rec)
    releases = chain[(chain["event"] == "released") & (chain["prev_event"] == "prison")]
    assert len(releases) > 20  # (a release from a recall brings no new supervision)
    nxt = chain.groupby("agent_id")["event"].shift(-1).loc[releases.index]
    nxt_month = chain.groupby("agent_id")["month"].shift(-1).loc[releases.index]
    assert (nxt == "probation_start").all()
    assert (nxt_month == releases["month"]).all()
    starts = rec[rec["event"] == "probation_start"]
    assert starts["probation"].all()
    assert (starts["value"] >= 1).all()


def test_release_month_is_time_served_minus_pretrial_detention(all_prison):
    model, rec = all_prison
    end = model.params.months[-1]
    chain = chain_records(rec)
    prison = chain[chain["event"] == "prison"]
    by_pos = chain.set_index("pos")
    convicted = by_pos.loc[prison["pos"].to_numpy() - 1]
    assert (convicted["event"].to_numpy() == "convicted").all()
    nxt = chain.groupby("agent_id")[["event", "month", "value"]].shift(-1).loc[prison.index]
    appeals = chain[chain["event"] == "appealed_detained"].set_index(["agent_id", "month"])
    checked = detained = immediate = appealed_detained = 0
    for (_, p), (_, c), (_, n) in zip(prison.iterrows(), convicted.iterrows(), nxt.iterrows(),
                                      strict=True):
        juvenile = p["charge_age"] < spec.YOUNG_AGE_LIMIT  # adolescent_law_share = 1
        served = spec.time_served(int(p["value"]), juvenile)
        pretrial = 0
        if c["prev_event"] == "summoned_detained":  # detained since the arrest
            pretrial = int(c["month"] - c["detained_since"])
            detained += 1
        elif c["prev_event"] == "appealed_detained":  # detention went on through the appeal
            appeal = appeals.loc[(c["agent_id"], c["prev_month"])]
            assert appeal["prev_event"] == "summoned_detained"
            pretrial = int(c["month"] - c["detained_since"])
            detained += 1
            appealed_detained += 1
        else:
            assert c["prev_event"] in ("summoned", "appealed")
        expected = p["month"] + max(served - pretrial, 0)
        if expected <= end:
            assert n["event"] == "released", p.to_dict()
            assert n["month"] == expected
            assert n["value"] == max(served, pretrial)
            checked += 1
            immediate += expected == p["month"]
        else:
            assert pd.isna(n["event"]), "released after the end of the horizon"
    assert checked > 100 and detained > 30 and appealed_detained > 5
    assert immediate > 0  # pre-trial detention longer than the time to serve occurs


def test_juvenile_terms_respect_the_legal_maximum(all_prison):
    prison = chain_records(all_prison[1])
    prison = prison[prison["event"] == "prison"]
    young = prison[prison["charge_age"] < spec.YOUNG_AGE_LIMIT]  # adolescent_law_share = 1
    adult = prison[prison["charge_age"] >= spec.YOUNG_AGE_LIMIT]
    assert len(young) > 10
    assert young["value"].max() <= spec.JUVENILE_MAX_MONTHS
    assert adult["value"].max() > spec.JUVENILE_MAX_MONTHS


@pytest.fixture(scope="module")
def never_prison():
    return run_model({"prison_prob": 0.0, "probation_share_other": 1.0})[1]


@pytest.mark.slow
def test_probation_share_one_supervises_every_non_custodial_sentence(never_prison):
    rec = never_prison
    assert count(rec, "prison") == 0
    chain = chain_records(rec)
    assert (chain.loc[chain["event"] == "released", "prev_event"] == "revoked").all()
    nc = chain[chain["event"] == "non_custodial"]
    assert len(nc) > 100
    assert (nc["prev_event"] == "convicted").all()
    nxt = chain.groupby("agent_id")[["event", "month"]].shift(-1).loc[nc.index]
    assert (nxt["event"] == "probation_start").all()
    assert (nxt["month"] == nc["month"]).all()


@pytest.fixture(scope="module")
def never_supervised():
    return run_model({"probation_share_prison": 0.0, "probation_share_other": 0.0})[1]


@pytest.mark.slow
def test_probation_share_zero_supervises_nobody(never_supervised):
    rec = never_supervised
    assert count(rec, "released") > 50 and count(rec, "non_custodial") > 20
    assert count(rec, "probation_start", "probation_end") == 0
    assert not rec["probation"].any()


@pytest.fixture(scope="module")
def small_capacity():
    return run_model({"investigation_capacity": 30.0})[1]


@pytest.mark.slow
def test_investigation_capacity_limits_yearly_starts(small_capacity):
    starts = years_of(small_capacity, "investigation_started")
    signals = years_of(small_capacity, "signalled")
    assert starts.max() <= 30 + 1
    # the queue is long (signals far above capacity), so full years use the capacity
    assert (signals.loc[2013:] > 100).all()
    assert starts.loc[2013:].min() >= 30 - 1
    assert count(small_capacity, "dropped") > count(small_capacity, "investigation_started")


# ------------------------------------------------------------------ branching frequencies


@pytest.fixture(scope="module")
def branching():
    return run_model({"technical_dismissal_share": 0.3, "policy_dismissal_share": 0.1,
                      "other_disposal_share": 0.1, "pretrial_detention_share": 0.4,
                      "conviction_prob": 0.7, "prison_prob": 0.8,
                      "probation_share_prison": 0.5, "probation_share_other": 0.5,
                      "supervision_risk_factor": 1.0})[1]


def _assert_share(successes: int, n: int, p: float) -> None:
    # Binomial proportion with a fixed seed: tolerance 4 Monte Carlo standard errors,
    # sqrt(p (1 - p) / n).
    assert n > 50
    assert abs(successes / n - p) < 4 * math.sqrt(p * (1 - p) / n), (successes, n, p)


@pytest.mark.slow
def test_branch_frequencies_match_the_parameters(branching):
    rec = branching
    decisions = count(rec, *OM_DECISIONS)
    _assert_share(count(rec, "technical_dismissal"), decisions, 0.3)
    _assert_share(count(rec, "policy_dismissal"), decisions, 0.1)
    _assert_share(count(rec, "other_disposal"), decisions, 0.1)
    summons = count(rec, "summoned", "summoned_detained")
    _assert_share(summons, decisions, 0.5)
    _assert_share(count(rec, "summoned_detained"), summons, 0.4)
    judgments = count(rec, "convicted", "acquitted")
    _assert_share(count(rec, "convicted"), judgments, 0.7)
    _assert_share(count(rec, "prison"), count(rec, "convicted"), 0.8)
    chain = chain_records(rec)
    supervised = chain[chain["event"] == "probation_start"]
    from_prison = int(((chain["event"] == "released") & (chain["prev_event"] == "prison")).sum())
    _assert_share(int((supervised["prev_event"] == "released").sum()), from_prison, 0.5)
    _assert_share(int((supervised["prev_event"] == "non_custodial").sum()),
                  count(rec, "non_custodial"), 0.5)


def test_inflow_matches_the_rate(baseline_records, short_params):
    # Potential offenders are Poisson(2 x rate) a month thinned with probability 1/2, so
    # the inflow over the run is Poisson with mean rate x months (months 1..n: no inflow
    # step at time 0). Tolerance: 4 standard deviations, 4 sqrt(mean).
    monthly = short_params["inflow_stratum_rate"][1:].sum(axis=(1, 2, 3)) / 12
    mean = monthly.sum()
    n = count(baseline_records, "inflow")
    assert abs(n - mean) < 4 * math.sqrt(mean)
    inflow = baseline_records[baseline_records["event"] == "inflow"]
    assert inflow["month"].min() > parse_month("2012-01")
    # form mix of the inflow: multinomial shares within 4 standard errors
    shares = short_params["inflow_stratum_rate"][1].sum(axis=(1, 2))
    shares = shares / shares.sum()
    for f, form in enumerate(spec.FORMS):
        _assert_share(int((inflow["form"] == form).sum()), n, float(shares[f]))


def test_initial_pool(baseline_records, short_params):
    pool = baseline_records[baseline_records["event"] == "pool"]
    assert (pool["month"] == short_params.start).all()
    assert (pool["from_stage"].astype(str) == "none").all()
    assert (pool["to_stage"].astype(str) == "active").all()
    # the pool is one Poisson draw around the steady state: within 4 sd of its mean
    p = short_params
    exit_hazard = p["signal_hazard"][0] + p["inspection_hazard"][0] + p["desistance_hazard"][0]
    mean = float((p["inflow_stratum_rate"][0] / 12 / exit_hazard).sum())
    assert abs(len(pool) - mean) < 4 * math.sqrt(mean)
    assert pool["agent_id"].is_unique
    assert set(pool["agent_id"]).isdisjoint(
        baseline_records.loc[baseline_records["event"] == "inflow", "agent_id"])


# ------------------------------------------------------------------ around and after the chain


def test_juvenile_law_goes_by_the_age_at_the_charged_offence(all_prison):
    # adolescent law for everyone under 23 at the charge: offenders who started under 23
    # but were charged at 23 or older get adult terms (some above the juvenile maximum)
    prison = chain_records(all_prison[1])
    prison = prison[prison["event"] == "prison"]
    grown = prison[(prison["age_group"] == "under23")
                   & (prison["charge_age"] >= spec.YOUNG_AGE_LIMIT)]
    assert len(grown) > 5
    assert grown["value"].max() > spec.JUVENILE_MAX_MONTHS


@pytest.fixture(scope="module")
def always_resume():
    return run_model({"resume_share": 1.0})[1]


def test_every_case_without_sanction_resumes_offending_at_once(always_resume):
    chain = chain_records(always_resume)
    unsanctioned = chain[chain["event"].isin(NO_SANCTION)]
    assert len(unsanctioned) > 100
    nxt = chain.groupby("agent_id")[["event", "month"]].shift(-1).loc[unsanctioned.index]
    within = nxt["event"].notna()
    assert (nxt.loc[within, "event"] == "resumed").all()
    assert (nxt.loc[within, "month"] == unsanctioned.loc[within, "month"]).all()
    assert within.all()  # resumed in the same month, so never cut off by the horizon


def test_no_resumption_at_share_zero():
    rec = run_model({"resume_share": 0.0})[1]
    assert count(rec, "resumed") == 0 and count(rec, "technical_dismissal") > 100


def _signal_hazards(records: pd.DataFrame) -> dict[str, tuple[int, float]]:
    """Signals and months at risk of a signal in spells begun by each kind of start.

    A spell runs from its start record (inflow, pool, resumed; a dropped signal goes on
    with the spell it interrupted) to its signal, or to whatever else ends it, or to the
    horizon (censored); months at risk are counted from the month after the start.
    """
    chain = chain_records(records)
    end_month = int(records["month"].max())
    out: dict[str, tuple[int, float]] = {}
    starts = chain[chain["event"].isin(("inflow", "pool", "resumed"))]
    nxt = chain.groupby("agent_id")[["event", "month"]].shift(-1).loc[starts.index]
    for kind, group in (("first", ("inflow", "pool")), ("known", ("resumed",))):
        sel = starts["event"].isin(group).to_numpy()
        ends = nxt["month"].to_numpy()[sel]
        months = np.where(np.isnan(ends), end_month, ends) - starts["month"].to_numpy()[sel]
        out[kind] = (int((nxt["event"].to_numpy()[sel] == "signalled").sum()),
                     float(months.sum()))
    return out


def test_known_offenders_are_signalled_sooner():
    # Only police signals end a spell (no inspection, exposure or desistance), so a
    # spell's monthly signal hazard is estimated by signals / months at risk (the
    # maximum-likelihood estimate with censoring). Known offenders' integrated hazard is
    # known_signal_factor = 4 times a first-timer's: the ratio of the two monthly
    # probabilities is (1 - (1 - p)^4) / p, checked within 4 Monte Carlo standard errors
    # of the log-ratio, sqrt(1/signals_first + 1/signals_known).
    p = 0.01
    rec = run_model({"signal_hazard": p, "inspection_hazard": 0.0, "exposure_share": 0.0,
                     "desistance_hazard": 0.0, "resume_share": 1.0,
                     "known_signal_factor": 4.0, "investigation_capacity": 5000})[1]
    rates = _signal_hazards(rec)
    (n0, m0), (n1, m1) = rates["first"], rates["known"]
    assert n0 > 200 and n1 > 50
    expected = (1 - (1 - p) ** 4) / p
    ratio = (n1 / m1) / (n0 / m0)
    assert abs(math.log(ratio / expected)) < 4 * math.sqrt(1 / n0 + 1 / n1), (ratio, expected)


@pytest.fixture(scope="module")
def often_revoked():
    return run_model({"prison_prob": 1.0, "probation_share_prison": 1.0,
                      "revocation_hazard": 0.1})[1]


def test_revocation_returns_the_offender_to_custody(often_revoked):
    chain = chain_records(often_revoked)
    revoked = chain[chain["event"] == "revoked"]
    assert len(revoked) > 30
    assert (revoked["from_stage"].astype(str) == "probation").all()
    assert (revoked["to_stage"].astype(str) == "recalled").all()
    assert (revoked["value"] >= 1).all()
    nxt = chain.groupby("agent_id")[["event", "month", "value"]].shift(-1).loc[revoked.index]
    end = int(often_revoked["month"].max())
    due = revoked["month"] + revoked["value"]
    inside = (due <= end).to_numpy()
    assert inside.sum() > 20
    # released after the months the recall lasts, with no new supervision
    assert (nxt.loc[inside, "event"] == "released").all()
    assert (nxt.loc[inside, "month"] == due[inside]).all()
    after = chain.groupby("agent_id")["event"].shift(-2).loc[revoked.index[inside]]
    assert not (after == "probation_start").any()
    # custody months count the recall (its stage is a custody stage of the chain table)
    assert {s.name: s.custody for s in CHAIN_STAGES}["recalled"]


def test_exposure_by_another_arrest_brings_offenders_into_the_queue():
    rec = run_model({"signal_hazard": 0.0, "inspection_hazard": 0.0, "exposure_share": 1.0,
                     "general_registration_prob": 1.0})[1]
    assert count(rec, "exposed") > 100 and count(rec, "signalled") == 0
    assert count(rec, "investigation_started") > 50
    chain = chain_records(rec)
    starts = chain[chain["event"] == "investigation_started"]
    assert (starts["prev_event"] == "exposed").all()
    # every registered offence of an active offender exposes: none is left as a point event
    active_cases = rec[(rec["event"] == "general_case") & (rec["from_stage"] == "active")]
    assert active_cases.empty


def test_probation_capacity_caps_the_caseload_and_refuses_only_when_full():
    """Supervisions never exceed the places; a refusal only in a month that ends full."""
    from chainsim.engines.model import ChainModel
    from conftest import capped_params

    places = 8
    rec = ChainModel(capped_params(places, "2015-01"), 11).run().records.to_frame()
    event = rec["event"].astype(str)
    moved = rec["from_stage"] != rec["to_stage"]
    change = ((rec["to_stage"].astype(str) == "probation") & moved).astype(int) - (
        (rec["from_stage"].astype(str) == "probation") & moved).astype(int)
    caseload = change.groupby(rec["month"]).sum().cumsum()  # at each month's end
    capped = caseload.index >= parse_month("2015-01")
    assert caseload[~capped].iloc[-1] > places  # the capacity binds: above it when it starts
    # above the places nobody new starts (the caseload only falls), then it stays at most full
    before = caseload.shift(1)[capped]
    assert (caseload[capped] <= np.maximum(before, places)).all()
    assert (caseload[capped] <= places).any() and caseload.iloc[-1] <= places
    refused = rec[event == "probation_refused"]
    assert len(refused) > 20
    assert (caseload.loc[refused["month"].unique()] >= places).all()
    assert (refused["value"] >= 1).all()  # the months it would have lasted
    # no place, no supervision: the refused go on unsupervised
    assert not refused["probation"].any()
    assert (refused["from_stage"].astype(str) == "free").all()

"""The expected-flow twin: docking with the agent model, conservation, chain mode.

Docking is the twin's reason to exist (the design brief, §5): the agent model's Monte Carlo
mean must agree with the twin's expected counts within Monte Carlo error. The
comparison runs on the short horizon (2012-2017), every event, every year, and for
the sets with many young offenders every event by age group (over the six years).

Tolerance. For each (event, year) cell, with ``n`` replications, ``mean`` and ``sd``
their mean and standard deviation::

    |twin - mean| <= K_SD * sd / sqrt(n) + SLACK

``SLACK`` (0.5 events) absorbs discreteness where the agent model's count has (almost)
no variance, e.g. an event that occurs a handful of times in the first year or a
queue that serves exactly its capacity every month. ``K_SD`` is 4.5, not 4: the
docking tests make 5 parameter sets x (29 events + 2 prison-term checks) x 6 years
+ 3 sets x 29 events x 2 age groups = 1104 comparisons. At 4 sd a single comparison
fails falsely with probability 6.3e-5 (normal) or 2.7e-4 (Student t, 39 df, since
the sd is estimated from 40 runs), so the family-wise chance of a false failure
would be 1-(1-p)^1104 = 6.8 % (normal) to 26 % (t): too high. At 4.5 sd it is
6.8e-6 / 6.0e-5 per comparison and 0.7 % / 6.4 % family-wise. (Many cells are
degenerate, e.g. ``dropped`` without a queue, and the cells are correlated, so the
effective number is smaller.) Seeds are fixed, so the outcome is reproducible.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from chainsim.chain.parameters import cached_duration_pmf
from chainsim.chain.spec import (
    AGE_GROUPS,
    EVENT_NAMES,
    FORMS,
    VISIBILITY_FIRST,
    VISIBILITY_KNOWN,
    VISIBILITY_SUPERVISED,
    Event,
    Stage,
)
from chainsim.engines.twin import (
    ADULT_CLASS,
    CLASS_AGE_GROUP,
    CLASSES,
    ExpectedFlows,
    charge_class,
    expected_flows,
)
from chainsim.experiments.replications import iter_replications
from conftest import (
    NON_BINDING_CAPACITY,
    SEED,
    make_params,
    make_scenario,
    set_param,
    short_doc,
)

REPS = 40
"""Replications per docked parameter set."""
APPROX_REPS = 20
"""Replications for the capacity-approximation check (its quantities vary little)."""
WORKERS = 2
K_SD = 4.5
"""Monte Carlo standard errors allowed (see the module docstring for the family-wise rate)."""
SLACK = 0.5
"""Absolute slack in events, for discreteness."""
YEARS = tuple(range(2012, 2018))
"""Calendar years of the short horizon."""
TRACED_BOUND = 0.05
"""Largest relative difference allowed between the twin's and the agents' traced count
where the queue sometimes runs empty (the twin's one approximation)."""


# ------------------------------------------------------------------ parameter sets


def trends_doc() -> dict:
    """Set (c): strong trends and other values, with unlimited investigation capacity.

    Pre-trial detention, supervision and reoffending are high, half of the offenders
    start under 23 (about a third of those under 18: juvenile law), and the signal
    hazard, technical dismissals, convictions, prison terms and trial times all move
    over the horizon (time-varying sentences and kernels take the twin's slow paths).
    """
    doc = short_doc()
    set_param(doc, "investigation_capacity", NON_BINDING_CAPACITY)
    set_param(doc, "pretrial_detention_share", 0.8)
    set_param(doc, "probation_share_prison", 0.7)
    set_param(doc, "probation_share_other", 0.6)
    set_param(doc, "adolescent_law_share", 0.5)
    set_param(doc, "reoffend_hazard", 0.02)
    set_param(doc, "probation_hazard_ratio", 0.5)
    p = doc["parameters"]
    p["young_share"]["by_form"] = dict.fromkeys(FORMS, 0.6)
    p["female_share"]["value"] = 0.35
    p["signal_hazard"]["trend"] = {"2012-06": 0.6, "2014-06": 1.8, "2016-06": 0.9}
    p["signal_hazard"]["young_factor"] = 1.5
    p["technical_dismissal_share"]["trend"] = {"2013-01": 0.5, "2017-01": 1.4}
    p["conviction_prob"]["trend"] = {"2013-06": 1.2, "2016-06": 0.8}
    p["prison_months_mean"]["trend"] = {"2013-01": 0.6, "2016-01": 1.5}
    doc.setdefault("interventions", []).append(  # trial_months is an unknown: no trend
        {"name": "slower trials", "parameter": "trial_months", "operation": "multiply",
         "value": 1.8, "start": "2013-01", "ramp_months": 36, "note": "a time-varying length"})
    return doc


def offending_doc() -> dict:
    """Set (d): offending around the chain, with unlimited investigation capacity.

    Many re-entries into offending, each with its own visibility: most cases without
    sanction resume at once (known offenders), everyone sentenced is supervised and
    reoffends often while supervised (the supervised visibility), and known offenders
    are seen three times, supervised ones fifteen times as readily as first-timers.
    Most offenders start young, so the age at the charge decides juvenile and
    adolescent law for many.
    """
    doc = short_doc()
    for name, value in (("investigation_capacity", NON_BINDING_CAPACITY),
                        ("reoffend_hazard", 0.03), ("probation_share_prison", 1.0),
                        ("probation_share_other", 1.0), ("probation_hazard_ratio", 1.0),
                        ("known_signal_factor", 3.0), ("supervised_signal_factor", 5.0),
                        ("resume_share", 0.8), ("adolescent_law_share", 0.5)):
        set_param(doc, name, value)
    doc["parameters"]["young_share"]["by_form"] = dict.fromkeys(FORMS, 0.6)
    return doc


def custody_doc() -> dict:
    """Set (e): custody and supervision around the chain, with unlimited investigation capacity.

    Most suspects are detained from the arrest, and many of them are dismissed
    (technical dismissals are common) or acquitted after it; supervision follows risk
    steeply (each risk point triples the hazard of a low base share: earlier
    convictions, youth at the charge and conditional release decide most of it), is
    revoked often, and recalls are short; a third of the registered other offences of
    active traffickers expose the trafficking.
    """
    doc = short_doc()
    for name, value in (("investigation_capacity", NON_BINDING_CAPACITY),
                        ("pretrial_detention_share", 0.7), ("technical_dismissal_share", 0.4),
                        ("probation_share_prison", 0.15), ("probation_share_other", 0.15),
                        ("supervision_risk_factor", 3.0), ("revocation_hazard", 0.05),
                        ("recall_months", 4.0), ("exposure_share", 0.3),
                        ("reoffend_hazard", 0.015), ("adolescent_law_share", 0.5)):
        set_param(doc, name, value)
    doc["parameters"]["young_share"]["by_form"] = dict.fromkeys(FORMS, 0.5)
    return doc


SETS: dict[str, dict] = {
    # (a) the queue never binds: the twin is exact
    "unlimited": {"investigation_capacity": NON_BINDING_CAPACITY},
    # (b) the queue never empties (~200 signals a year against 60 places): exact again
    "binding": {"investigation_capacity": 60.0},
}
def capped_doc() -> dict:
    """The short scenario with 8 probation places from 2015 (below the caseload then)."""
    doc = short_doc()
    doc["interventions"] = [{"name": "probation places", "parameter": "probation_capacity",
                             "operation": "set", "value": 8, "start": "2015-01",
                             "note": "a test"}]
    return doc


DOCS = {"trends": trends_doc, "offending": offending_doc, "custody": custody_doc}
"""Sets (c), (d) and (e), built from a document."""


def set_params(name: str) -> tuple:
    """``(scenario, params)`` of a named parameter set."""
    if name in DOCS:
        doc = DOCS[name]()
        return make_scenario(doc=doc), make_params(doc=doc)
    if name == "baseline":
        return make_scenario(), make_params()
    if name == "probation_places":
        doc = capped_doc()
        return make_scenario(doc=doc), make_params(doc=doc)
    return make_scenario(SETS[name]), make_params(SETS[name])


# ------------------------------------------------------------------ twin and agents


def twin_yearly(ef: ExpectedFlows) -> tuple[np.ndarray, np.ndarray]:
    """The twin's expected ``(events per year (years, events), prison terms per year)``."""
    years = ef.params.months // 12
    per_month = ef.events.sum(axis=(2, 3, 4))
    terms = ef.prison_terms.sum(axis=(1, 2, 3))
    return (np.stack([per_month[years == y].sum(axis=0) for y in YEARS]),
            np.array([terms[years == y].sum() for y in YEARS]))


@dataclass
class MonteCarlo:
    """Agent-model replications of one parameter set.

    Attributes:
        counts: Events per replication, year and event ``(reps, years, events)``.
        terms: Sum of the prison terms imposed per replication and year ``(reps, years)``.
        groups: Events per replication, age group (at the start of the spell) and event
            over the six years ``(reps, age groups, events)``.
    """

    counts: np.ndarray
    terms: np.ndarray
    groups: np.ndarray

    @property
    def n(self) -> int:
        return len(self.counts)

    def mean(self, arr: np.ndarray) -> np.ndarray:
        return arr.mean(axis=0)

    def se(self, arr: np.ndarray) -> np.ndarray:
        return arr.std(axis=0, ddof=1) / np.sqrt(self.n)


def monte_carlo(name: str, reps: int) -> MonteCarlo:
    scenario, params = set_params(name)
    counts, terms, groups = [], [], []
    # the fast engine's records are the agent model's, bit for bit (tests/engines/test_fast.py,
    # tests/engines/test_registry.py), so its replications are the agent model's Monte Carlo sample
    for rep in iter_replications(scenario, params, SEED, reps, workers=WORKERS,
                                 keep_records=False, engine="fast"):
        fl = rep.flows
        table = pd.crosstab(fl["year"], fl["event"].astype(str), values=fl["count"],
                            aggfunc="sum")
        counts.append(table.reindex(index=list(YEARS), columns=list(EVENT_NAMES))
                      .fillna(0).to_numpy(dtype=float))
        by_group = pd.crosstab(fl["age_group"].astype(str), fl["event"].astype(str),
                               values=fl["count"], aggfunc="sum")
        groups.append(by_group.reindex(index=list(AGE_GROUPS), columns=list(EVENT_NAMES))
                      .fillna(0).to_numpy(dtype=float))
        # yearly mean term times the number of terms: the sum of the terms imposed
        y = rep.yearly.reindex(list(YEARS))
        terms.append((y["prison_months"] * y["prison"]).fillna(0.0).to_numpy())
    return MonteCarlo(np.stack(counts), np.stack(terms), np.stack(groups))


@functools.cache
def docking(name: str, reps: int = REPS) -> tuple[ExpectedFlows, MonteCarlo]:
    """The twin and the agent model's replications of a parameter set (computed once)."""
    _, params = set_params(name)
    return expected_flows(params), monte_carlo(name, reps)


def outside(twin: np.ndarray, mean: np.ndarray, se: np.ndarray) -> np.ndarray:
    """Where the twin is further from the mean than the tolerance allows."""
    return np.abs(twin - mean) > K_SD * se + SLACK


def z_scores(twin: np.ndarray, mean: np.ndarray, se: np.ndarray) -> np.ndarray:
    """(twin - mean) / se, 0 where the agents have no variance."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(se > 0, (twin - mean) / se, 0.0)


# ------------------------------------------------------------------ docking


DOCKED = ["unlimited", "binding", "trends", "offending", "custody"]
"""The docked parameter sets."""


@pytest.mark.slow
@pytest.mark.parametrize("name", DOCKED)
def test_twin_expected_counts_dock_with_agent_mean_for_every_event_and_year(name):
    ef, mc = docking(name)
    twin, _ = twin_yearly(ef)
    mean, se = mc.mean(mc.counts), mc.se(mc.counts)
    bad = outside(twin, mean, se)
    z = z_scores(twin, mean, se)
    failures = [f"{EVENT_NAMES[e]} {YEARS[y]}: twin {twin[y, e]:.2f}, agents {mean[y, e]:.2f} "
                f"(se {se[y, e]:.2f}, z {z[y, e]:.1f})" for y, e in zip(*np.nonzero(bad),
                                                                      strict=True)]
    assert not failures, f"{name}: twin outside {K_SD} se + {SLACK}:\n" + "\n".join(failures)
    # the comparison has power: the chain's events occur in numbers in the last years
    for event in (Event.SIGNALLED, Event.TRACED, Event.SUMMONED_DETAINED, Event.CONVICTED,
                  Event.PRISON, Event.RELEASED, Event.PROBATION_START, Event.REOFFENDED,
                  Event.GENERAL_CASE, Event.RESUMED):
        assert twin[-1, event] > 5 and mean[-1, event] > 5, EVENT_NAMES[event]


def twin_by_age_group(ef: ExpectedFlows) -> np.ndarray:
    """The twin's expected events by age group over the six years ``(age groups, events)``."""
    years = ef.params.months // 12
    ev = ef.events[np.isin(years, YEARS)].sum(axis=(0, 2, 3))  # (events, classes)
    return np.stack([ev[:, CLASS_AGE_GROUP == a].sum(axis=1) for a in range(len(AGE_GROUPS))])


@pytest.mark.slow
@pytest.mark.parametrize("name", ["trends", "offending", "custody"])
def test_twin_counts_dock_with_agent_mean_by_age_group(name):
    """Every event by the age group the agents record: that at the start of the spell.

    New spells (``reoffended``, ``resumed``) count in the age group of the new spell;
    the classes of the chain (age at the charge) keep the age group of the spell start.
    """
    ef, mc = docking(name)
    twin = twin_by_age_group(ef)
    mean, se = mc.mean(mc.groups), mc.se(mc.groups)
    bad = outside(twin, mean, se)
    z = z_scores(twin, mean, se)
    failures = [f"{EVENT_NAMES[e]} {AGE_GROUPS[a]}: twin {twin[a, e]:.2f}, agents "
                f"{mean[a, e]:.2f} (se {se[a, e]:.2f}, z {z[a, e]:.1f})"
                for a, e in zip(*np.nonzero(bad), strict=True)]
    assert not failures, f"{name}: twin outside {K_SD} se + {SLACK}:\n" + "\n".join(failures)
    for event in (Event.TRACED, Event.PRISON, Event.REOFFENDED, Event.RESUMED):
        assert (twin[:, event] > 20).all() and (mean[:, event] > 20).all(), EVENT_NAMES[event]


@pytest.mark.slow
@pytest.mark.parametrize("name", DOCKED)
def test_twin_prison_terms_dock_with_agent_mean(name):
    ef, mc = docking(name)
    twin_counts, twin_terms = twin_yearly(ef)
    # the sum of the terms imposed per year: an expectation like any count
    mean, se = mc.mean(mc.terms), mc.se(mc.terms)
    bad = outside(twin_terms, mean, se)
    assert not bad.any(), (name, twin_terms, mean, se)
    # the mean sentence per year: the twin's ratio of expectations against the pooled
    # ratio of the replications, with its delta-method standard error
    n_prison = mc.counts[:, :, Event.PRISON]
    ratio = mc.terms.sum(axis=0) / n_prison.sum(axis=0)
    resid = mc.terms - ratio * n_prison
    se_ratio = resid.std(axis=0, ddof=1) / np.sqrt(mc.n) / n_prison.mean(axis=0)
    twin_ratio = twin_terms / twin_counts[:, Event.PRISON]
    assert np.all(np.abs(twin_ratio - ratio) <= K_SD * se_ratio + 0.05), (
        name, twin_ratio, ratio, se_ratio)
    assert np.all((twin_ratio > 5) & (twin_ratio < 60))


@pytest.mark.slow
def test_unlimited_capacity_never_queues():
    """Premise of set (a): every signal is investigated at once, in both engines.

    Signals include the arrests for other offences that expose the trafficking.
    """
    ef, mc = docking("unlimited")
    twin, _ = twin_yearly(ef)
    assert np.all(mc.counts[:, :, Event.DROPPED] == 0)
    np.testing.assert_array_equal(mc.counts[:, :, Event.INVESTIGATION_STARTED],
                                  mc.counts[:, :, [Event.SIGNALLED, Event.EXPOSED]].sum(axis=2))
    assert np.all(twin[:, Event.DROPPED] < 1e-9)
    np.testing.assert_allclose(twin[:, Event.INVESTIGATION_STARTED],
                               twin[:, [Event.SIGNALLED, Event.EXPOSED]].sum(axis=1), rtol=1e-12)


@pytest.mark.slow
def test_binding_capacity_serves_exactly_the_capacity_in_both_engines():
    """Premise of set (b): the queue never empties, so starts are the capacity exactly."""
    ef, mc = docking("binding")
    twin, _ = twin_yearly(ef)
    started = mc.counts[:, :, Event.INVESTIGATION_STARTED]
    # the same in every replication: no replication's queue ever ran empty
    assert np.all(started == started[0])
    # 60 a year, 5 a month, served from month 1 (eleven months in the first year)
    np.testing.assert_array_equal(started[0], [55, 60, 60, 60, 60, 60])
    np.testing.assert_allclose(twin[:, Event.INVESTIGATION_STARTED], started[0], atol=1e-6)
    assert np.all(mc.counts[:, 1:, Event.DROPPED] > 0)
    assert np.all(ef.stocks[1:, Stage.SIGNALLED] > 5.0)  # the twin's queue stays long


@pytest.mark.slow
def test_trend_set_exercises_juvenile_law_and_time_varying_sentences():
    """Premise of set (c): the stratified and time-varying paths of the twin carry mass."""
    ef, _ = docking("trends")
    months = ef.params.values["prison_months_mean"][:, 0, 0, 0]
    assert np.ptp(months) > 5
    prison = ef.events[:, Event.PRISON].sum(axis=(0, 1, 2))  # by class
    share = dict(zip(CLASSES, prison / prison.sum(), strict=True))
    assert share["young_u18"] > 0.05  # under 18 at the charge: juvenile law
    assert share["young_18_22"] > 0.3  # adolescent law for half of them
    assert share["young_23plus"] > 0.05  # young at the spell start, adult law
    summoned = ef.events[:, [Event.SUMMONED, Event.SUMMONED_DETAINED]].sum(axis=(0, 2, 3, 4))
    assert summoned[1] / summoned.sum() == pytest.approx(0.8)


@pytest.mark.slow
def test_offending_set_exercises_reentries_with_every_visibility():
    """Premise of set (d): re-entries of both visibilities and both kinds carry mass."""
    ef, _ = docking("offending")
    by_visibility = ef.reentries.sum(axis=(0, 1, 2, 3, 4, 5))
    assert by_visibility[VISIBILITY_FIRST] == 0.0  # nobody re-enters unknown
    assert by_visibility[VISIBILITY_KNOWN] > 500 and by_visibility[VISIBILITY_SUPERVISED] > 100
    assert ef.count(Event.RESUMED).sum() > 500 and ef.count(Event.REOFFENDED).sum() > 200
    prison = ef.events[:, Event.PRISON].sum(axis=(0, 1, 2))
    assert (prison / prison.sum() > 0.05).all()  # every class is sentenced


@pytest.mark.slow
def test_custody_set_exercises_detention_supervision_by_risk_revocation_and_exposure():
    """Premise of set (e): the mechanisms it is for carry mass in both engines."""
    ef, mc = docking("custody")
    twin, _ = twin_yearly(ef)
    mean = mc.mean(mc.counts)
    # detention from the arrest, whatever the OM decides: 70 % of the summoned are detained
    summoned = ef.events[:, [Event.SUMMONED, Event.SUMMONED_DETAINED]].sum(axis=(0, 2, 3, 4))
    assert summoned[1] / summoned.sum() == pytest.approx(0.7)
    dismissed = twin[:, Event.TECHNICAL_DISMISSAL].sum()
    assert dismissed > 300 and mean[:, Event.TECHNICAL_DISMISSAL].sum() > 300
    # revocations and the releases from a recall
    for engine in (twin, mean):
        assert engine[:, Event.REVOKED].sum() > 100
        assert engine[-1, Event.REVOKED] > 20
        # a third of the signals come from an exposing arrest
        assert engine[:, Event.EXPOSED].sum() > 0.25 * engine[:, [Event.SIGNALLED,
                                                                   Event.EXPOSED]].sum()
    # supervision follows risk: the young at the charge (a risk point) are supervised far
    # more often than adults, on release and with a non-custodial sentence alike
    ev = ef.events.sum(axis=(0, 2, 3))  # (events, classes)
    decided = (ev[[Event.RELEASED, Event.NON_CUSTODIAL]].sum(axis=0)
               - recall_releases(ef).sum(axis=(0, 1, 2)))  # not after a recall
    rate = ev[Event.PROBATION_START] / decided
    assert rate[:2].min() > 1.3 * rate[ADULT_CLASS], rate
    assert rate.max() > 3 * 0.15  # far above the base share: priors and conditional release


@pytest.mark.slow
def test_twin_approximates_the_queue_at_baseline_capacity():
    """The intermediate regime (the queue sometimes empties): the stated approximation.

    The twin serves ``min(E[queue], capacity)``, the agents ``E[min(queue, capacity)]``;
    by Jensen's inequality the twin never serves fewer (beyond Monte Carlo error), and
    its traced count stays within TRACED_BOUND of the agents'.
    """
    ef, mc = docking("baseline", APPROX_REPS)
    twin, _ = twin_yearly(ef)
    started = mc.counts[:, :, Event.INVESTIGATION_STARTED]
    mean, se = mc.mean(started), mc.se(started)
    assert np.all(twin[:, Event.INVESTIGATION_STARTED] >= mean - K_SD * se - SLACK), (
        twin[:, Event.INVESTIGATION_STARTED], mean, se)
    traced = mc.mean(mc.counts[:, :, Event.TRACED])
    rel = (twin[:, Event.TRACED] - traced) / traced
    assert np.all(np.abs(rel) <= TRACED_BOUND), rel
    window = slice(YEARS.index(2015), None)
    total = twin[window, Event.TRACED].sum() / traced[window].sum() - 1
    assert abs(total) <= TRACED_BOUND / 2, total


CAPACITY_BOUND = 0.05
"""Largest relative difference allowed between the twin's and the agents' supervisions
started (and refused) under a probation capacity, 2015-2017 (the twin's approximation)."""


@pytest.mark.slow
def test_twin_approximates_the_probation_capacity():
    """Supervision places: the twin starts ``min(E[ordered], places - E[caseload])``.

    The agents start ``E[min(ordered, places - caseload)]`` one by one: the same
    approximation as the queue's. The supervisions started and refused from 2015 on agree
    within CAPACITY_BOUND (measured: 2 % and 1 %, 60 replications), the supervisions
    started add up to about the places freed, and the caseload never exceeds the places
    once it has come down to them.
    """
    ef, mc = docking("probation_places", APPROX_REPS)
    twin, _ = twin_yearly(ef)
    window = slice(YEARS.index(2015), None)
    for event in (Event.PROBATION_START, Event.PROBATION_REFUSED):
        agents = mc.counts[:, window, event].sum(axis=1)
        mean, se = agents.mean(), agents.std(ddof=1) / np.sqrt(len(agents))
        rel = twin[window, event].sum() / mean - 1
        assert abs(rel) <= CAPACITY_BOUND + K_SD * se / mean, (EVENT_NAMES[event], rel)
    assert twin[window, Event.PROBATION_REFUSED].sum() > 50
    assert twin[:window.start, Event.PROBATION_REFUSED].sum() == 0
    caseload = ef.stocks[:, Stage.PROBATION]
    months = ef.params.months
    full = np.nonzero((months >= 2015 * 12) & (caseload <= 8 + 1e-9))[0]
    assert len(full) and (caseload[full[0]:] <= 8 + 1e-9).all()


@pytest.mark.parametrize("full", [True, False])
def test_twin_chain_mode_follows_the_probation_capacity(full):
    """Chain mode (no life after the chain) ends supervisions by their length alone."""
    _, params = set_params("probation_places")
    ef = expected_flows(params, full=full)
    per_year = ef.events.sum(axis=(2, 3, 4))
    years = params.months // 12
    started = per_year[years >= 2015, Event.PROBATION_START].sum()
    refused = per_year[years >= 2015, Event.PROBATION_REFUSED].sum()
    assert refused > 2 * started > 0
    assert per_year[years < 2015, Event.PROBATION_REFUSED].sum() == 0


CHAIN_EXITS = ("technical_dismissal", "policy_dismissal", "other_disposal", "acquitted",
               "non_custodial", "released")
"""Events after which an offender is at liberty after the chain (supervised or not)."""


def test_after_chain_hazards_start_the_month_after_leaving_the_chain(short_params,
                                                                     baseline_records):
    """Whoever leaves the chain in month t is first at risk in month t + 1.

    The agent model draws reoffending, other offences, desistance and revocation after
    the chain from the next month on (``Offender.enter_after_chain``); the twin states
    the same convention ("whatever enters a stage in month t is first exposed in month
    t + 1"). The first month anyone leaves the chain can therefore have no other
    offence after the chain and no reoffending yet, in either engine. (Other offences
    while actively trafficking go on before; in the twin, before the charge the young
    count in class 0, so the classes 1 and 2 hold only offences after the chain.)
    """
    rec = baseline_records
    event = rec["event"].astype(str)
    last_exit = rec["month"].where(event.isin(CHAIN_EXITS)).groupby(rec["agent_id"]).ffill()
    after_chain = rec["from_stage"].astype(str).isin(["free", "probation"])
    after = event.isin(["general_offence", "reoffended", "revoked"]) & after_chain
    assert after.sum() > 50
    assert (last_exit[after] < rec.loc[after, "month"]).all()
    ef = expected_flows(short_params)
    left = ef.count(*(Event[e.upper()] for e in CHAIN_EXITS))
    t0 = int(np.argmax(left > 0))
    assert left[t0] > 0 and left[:t0].sum() == 0
    after_charge = ef.events[:, Event.GENERAL_OFFENCE][..., 1:3].sum(axis=(1, 2, 3))
    assert after_charge[: t0 + 1].sum() == 0, after_charge[t0]
    assert after_charge[t0 + 1] > 0
    for e in (Event.REOFFENDED, Event.REVOKED):
        assert ef.count(e)[: t0 + 1].sum() == 0, (e, ef.count(e)[t0])


# ------------------------------------------------------------------ internals


@pytest.fixture(scope="module", params=["short", "trends", "offending"])
def full_flows(request, short_params) -> ExpectedFlows:
    if request.param == "short":
        return expected_flows(short_params)
    return expected_flows(make_params(doc=DOCS[request.param]()))


def cumulative(ef: ExpectedFlows, *events: Event) -> np.ndarray:
    return np.cumsum(ef.count(*events))


def test_twin_conserves_offenders(full_flows):
    """Everyone who entered (pool + inflow) is in exactly one stage at every month end.

    Stocks the twin tracks (active, queue, free, probation, desisted) plus the mass in
    the pipelines, each computed from the event flows as entries minus exits.
    """
    ef = full_flows
    entered = cumulative(ef, Event.POOL, Event.INFLOW)
    pipelines = {
        "investigation": cumulative(ef, Event.INVESTIGATION_STARTED) - cumulative(ef,
                                                                                  Event.TRACED),
        "inspection": cumulative(ef, Event.INSPECTED) - cumulative(ef, Event.REGISTERED_OTHER),
        "prosecution": cumulative(ef, Event.TRACED, Event.REGISTERED_OTHER) - cumulative(
            ef, Event.SUMMONED, Event.SUMMONED_DETAINED, Event.TECHNICAL_DISMISSAL,
            Event.POLICY_DISMISSAL, Event.OTHER_DISPOSAL),
        "trial": cumulative(ef, Event.SUMMONED, Event.SUMMONED_DETAINED) - cumulative(
            ef, Event.ACQUITTED, Event.CONVICTED),
        "sentencing": cumulative(ef, Event.CONVICTED) - cumulative(ef, Event.PRISON,
                                                                   Event.NON_CUSTODIAL),
        # prison and a recall after a revocation both end in 'released'
        "prison and recall": cumulative(ef, Event.PRISON, Event.REVOKED) - cumulative(
            ef, Event.RELEASED),
    }
    stocks = ef.stocks[:, [Stage.ACTIVE, Stage.SIGNALLED, Stage.FREE, Stage.PROBATION,
                           Stage.DESISTED]].sum(axis=1)
    total = stocks + sum(pipelines.values())
    np.testing.assert_allclose(total, entered, rtol=1e-6)
    scale = entered[-1]
    for name, mass in pipelines.items():
        assert mass.min() >= -1e-9 * scale, name
    # sentencing takes no time: every conviction is sentenced in its month
    np.testing.assert_allclose(pipelines["sentencing"], 0.0, atol=1e-9 * scale)
    # the stocks are real: each of them holds mass by the end
    assert np.all(ef.stocks[-1, [Stage.ACTIVE, Stage.FREE, Stage.PROBATION,
                                 Stage.DESISTED]] > 10)


CHAIN_EVENTS = [e for e in Event if e not in (
    Event.PROBATION_END, Event.REOFFENDED, Event.GENERAL_OFFENCE, Event.GENERAL_CASE,
    Event.DESISTED, Event.RESUMED, Event.REVOKED, Event.RELEASED)]
"""Events the chain mode computes by class as the full twin does (desistance and other
offences there are only those of active offenders; ``resumed`` it computes by form and
sex, ``released`` only from prison, see the test)."""


def recall_releases(ef: ExpectedFlows) -> np.ndarray:
    """Releases from a recall implied by the revocations, ``(months + 1, F, S, C)``.

    Each revocation's mass spread over the months after it by the recall's length (the
    duration's distribution of the revocation month).
    """
    revoked = ef.events[:, Event.REVOKED]
    out = np.zeros_like(revoked)
    v = ef.params.values
    for t in np.flatnonzero(revoked.reshape(len(revoked), -1).any(axis=1)).tolist():
        pmf = cached_duration_pmf(float(v["recall_months"][t, 0, 0, 0]),
                                  float(v["recall_cv"][t, 0, 0, 0]))
        k = min(len(pmf), len(out) - t)
        out[t: t + k] += pmf[:k, None, None, None] * revoked[t]
    return out


def test_chain_mode_reproduces_the_full_twin(full_flows):
    full = full_flows
    chain = expected_flows(full.params, full=False, reentries=full.reentries)
    assert chain.reentries is None
    scale = full.events[:, CHAIN_EVENTS].max()
    np.testing.assert_allclose(chain.events[:, CHAIN_EVENTS], full.events[:, CHAIN_EVENTS],
                               rtol=1e-9, atol=1e-9 * scale)
    # supervisions by risk, exact: the chain mode keeps whether there was an earlier
    # conviction (its risk point), the class and conditional release
    assert full.count(Event.PROBATION_START).sum() > 10
    # revocations are in life after the chain, which the chain mode leaves out: its
    # releases are those from prison, the full twin's also those from a recall
    assert not chain.events[:, Event.REVOKED].any()
    assert full.count(Event.REVOKED).sum() > 1
    released = full.events[:, Event.RELEASED]
    np.testing.assert_allclose(chain.events[:, Event.RELEASED] + recall_releases(full),
                               released, rtol=1e-9, atol=1e-9 * released.max())
    # other offences: while actively trafficking, in both (before the charge, so in the
    # classes 0 and 3 only), after the chain only in the full twin
    general = chain.events[:, [Event.GENERAL_OFFENCE, Event.GENERAL_CASE]]
    assert not general[..., 1:3].any()
    assert (general <= full.events[:, [Event.GENERAL_OFFENCE, Event.GENERAL_CASE]]
            + 1e-9 * scale).all()
    np.testing.assert_allclose(chain.prison_terms, full.prison_terms, rtol=1e-9,
                               atol=1e-9 * full.prison_terms.max())
    # resumptions: computed by the chain mode too (not taken from the re-entries), exact
    # by form and sex; without birth years it counts whoever was charged under 23 as
    # young, so it can only overstate the young
    resumed, resumed_full = chain.events[:, Event.RESUMED], full.events[:, Event.RESUMED]
    assert resumed_full.sum() > 10
    np.testing.assert_allclose(resumed.sum(axis=3), resumed_full.sum(axis=3), rtol=1e-9,
                               atol=1e-9 * resumed_full.max())
    young = CLASS_AGE_GROUP == 0
    assert (resumed[..., young].sum(axis=3) >= resumed_full[..., young].sum(axis=3)
            - 1e-9 * resumed_full.max()).all()
    # the re-entries matter: without them the chain sees fewer offenders
    bare = expected_flows(full.params, full=False)
    assert full.reentries.sum() > 10
    assert bare.count(Event.SIGNALLED).sum() < full.count(Event.SIGNALLED).sum() - 1


def test_resumptions_and_reoffences_are_the_reentries(full_flows):
    """Cases without sanction resume at ``resume_share``; both kinds of new spell re-enter."""
    ef = full_flows
    share = ef.params.values["resume_share"]
    assert np.ptp(share) == 0  # the sets give it one value
    ended = ef.events[:, [Event.TECHNICAL_DISMISSAL, Event.POLICY_DISMISSAL,
                          Event.OTHER_DISPOSAL, Event.ACQUITTED]].sum(axis=(1, 4))
    resumed = ef.events[:, Event.RESUMED].sum(axis=3)
    np.testing.assert_allclose(resumed, share.flat[0] * ended, rtol=1e-9,
                               atol=1e-12 * ended.max())
    new_spells = ef.count(Event.REOFFENDED, Event.RESUMED)
    np.testing.assert_allclose(ef.reentries.sum(axis=(1, 2, 3, 4, 5, 6)), new_spells,
                               rtol=1e-9, atol=1e-12 * new_spells.max())
    by_visibility = ef.reentries.sum(axis=(0, 1, 2, 3, 4, 5))
    assert by_visibility[VISIBILITY_FIRST] == 0.0
    assert by_visibility[VISIBILITY_KNOWN] > 0 and by_visibility[VISIBILITY_SUPERVISED] > 0
    # new spells count in the age group of now: the class of the young or of the adults
    assert not ef.events[:, [Event.REOFFENDED, Event.RESUMED]][..., 1:3].any()


def test_expected_flows_yearly_sums_the_months(short_params):
    ef = expected_flows(short_params, full=False)
    yearly = ef.yearly(Event.SUMMONED, Event.SUMMONED_DETAINED)
    assert list(yearly) == list(YEARS)
    per_month = ef.events[:, [Event.SUMMONED, Event.SUMMONED_DETAINED]].sum(axis=(1, 2, 3, 4))
    assert yearly[2016] == pytest.approx(per_month[(ef.params.months // 12) == 2016].sum())
    assert sum(yearly.values()) == pytest.approx(per_month.sum())


def test_charge_class():
    ages = np.array([0, 16, 17, 18, 19, 22, 23, 24, 69])
    np.testing.assert_array_equal(charge_class(ages), [0, 0, 0, 1, 1, 1, 2, 2, 2])
    assert charge_class(np.array(17)) == 0 and charge_class(np.array(23)) == 2
    # the three young classes are the age group 'under23' at the spell start, 'adult' '23plus'
    assert len(CLASSES) == 4
    np.testing.assert_array_equal(CLASS_AGE_GROUP, [0, 0, 0, 1])


BEFORE_THE_CHARGE = (Event.POOL, Event.INFLOW, Event.SIGNALLED, Event.INSPECTED, Event.EXPOSED,
                     Event.DESISTED, Event.GENERAL_OFFENCE, Event.GENERAL_CASE,
                     Event.INVESTIGATION_STARTED, Event.TRACED, Event.REGISTERED_OTHER)


def test_the_chain_mode_feeds_nothing_back_from_after_the_charge():
    """In chain mode the re-entries come from outside, so nothing after the charge reaches
    undetected offending or the queue: changing the OM's, the court's and the sentences'
    parameters (and the resumption after a dismissal) leaves every event up to the
    registration exactly as it was, while the events after it move. The twin's notes on
    speed rely on this (the stages after the charge could run stage by stage)."""
    changes = {"om_decision_months": 5.0, "trial_months": 12.0, "conviction_prob": 0.9,
               "prison_months_mean": 30.0, "pretrial_detention_share": 0.7,
               "appeal_share": 0.45, "resume_share": 0.85}
    base, other = make_params(), make_params(changes)
    reentries = expected_flows(base).reentries
    a = expected_flows(base, full=False, reentries=reentries)
    b = expected_flows(other, full=False, reentries=reentries)
    for event in BEFORE_THE_CHARGE:
        assert a.count(event).sum() > 0, event
        np.testing.assert_array_equal(b.count(event), a.count(event), err_msg=event.name)
    for event in (Event.SUMMONED, Event.CONVICTED, Event.PRISON, Event.RESUMED):
        assert not np.allclose(b.count(event), a.count(event)), event

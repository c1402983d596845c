"""The chain's vocabulary and rules: stages, events, strata, parameters, decision rules.

The order of the chain (its steps, their draws and branches) is declared in
:mod:`chainsim.chain`; this module turns its stages and events into enumerations and
holds the parameter catalogue and small, vectorised rule functions (hazards, branch
probabilities, duration distributions, the conditional-release rule) that every
engine (the Mesa agent model, the vectorised engine, the expected-flow twin) calls.
Engines decide *how* to move offenders; these two modules decide *what* the rules are.

All rule functions accept NumPy arrays and broadcast, so the agent model can call
them for one offender and a vectorised engine for thousands at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Literal

import numpy as np
from scipy import special

from chainsim import chain

# --------------------------------------------------------------------------- strata

FORMS: tuple[str, ...] = ("domestic_sexual", "cross_border_sexual", "labour", "criminal", "other")
"""Forms of exploitation (the source's split of offenders in the chain)."""

AGE_GROUPS: tuple[str, ...] = ("under23", "23plus")
"""Age at the offence: under 23 (adolescent law can apply) or 23 and over."""

SEXES: tuple[str, ...] = ("male", "female")

YOUNG_AGE_LIMIT = 23
"""Age (years) below which an offender counts as young, as in the source."""

YOUNG_MIN_ONSET_AGE = 16
"""Youngest age at onset modelled (adolescent law starts at 16)."""

JUVENILE_LAW_AGE = 18
"""Offenders below this age at the offence are sentenced under juvenile law."""

MAX_ONSET_AGE = 70
"""Adult onset ages follow an exponential truncated below this age."""

JUVENILE_MAX_MONTHS = 24
"""Longest juvenile detention (jeugddetentie, offenders of 16-17: two years)."""

PRIOR_EFFECT_CAP = 3
"""Prior convictions beyond this number add no further reoffending risk."""

INFLOW_HEADROOM = 2.0
"""Potential offenders are drawn at this multiple of the baseline inflow and thinned.

Thinning keeps every potential offender's identity (and so its random draws)
identical across scenarios that change inflow, which is what common random
numbers need; a scenario may raise inflow up to this factor.
"""

POOL_ID_BASE = 1 << 36
"""Offenders of the initial pool get ids from here, so inflow ids never depend on the pool."""

COUNT_ID_BASE = 1 << 38
"""Ids from here key the monthly inflow-count draws (offender ids stay below)."""

AGE_REFERENCE = 30
"""Age (years) at which the desistance hazards take their stated value."""


Stage = IntEnum("Stage", [(s.name.upper(), i) for i, s in enumerate(chain.STAGES)])
"""Where an offender is: one member per :data:`chainsim.chain.STAGES` entry, in its order.

Every offender is in exactly one stage at every month; the declarations (labels,
what each stage means) are in :mod:`chainsim.chain`.
"""

Event = IntEnum("Event", [(e.name.upper(), i) for i, e in enumerate(chain.EVENTS)])
"""What happened at a transition: one member per :data:`chainsim.chain.EVENTS` entry."""


STAGE_NAMES: tuple[str, ...] = tuple(s.name.lower() for s in Stage)
EVENT_NAMES: tuple[str, ...] = tuple(e.name.lower() for e in Event)

OM_OUTCOMES: tuple[Event, ...] = (
    Event.SUMMONED,
    Event.TECHNICAL_DISMISSAL,
    Event.POLICY_DISMISSAL,
    Event.OTHER_DISPOSAL,
)
"""OM decisions in the order of :func:`om_decision_probabilities`."""

MECHANISMS: tuple[str, ...] = chain.MECHANISMS
"""Random streams, one per mechanism (declared in :mod:`chainsim.chain`).

``release`` serves supervision decisions (on release from prison or with a
non-custodial sentence); ``general`` the timing and registration of other offences;
``appeal`` whether a conviction is appealed, the appeal's length and its verdict.
"""


# ----------------------------------------------------------------------- parameters

Role = Literal["calibrated", "lever", "unknown", "fixed"]
Kind = Literal["probability", "hazard", "rate", "months", "cv", "factor", "years", "places"]


@dataclass(frozen=True)
class ParameterSpec:
    """One named parameter of the chain.

    Attributes:
        name: The key used in scenario files.
        kind: What the number is; sets its allowed range.
        role: ``calibrated`` (set from the source's figures), ``lever`` (policy
            controls it), ``unknown`` (nobody knows it; needs a central value and a
            range) or ``fixed`` (a rule or convention).
        by_form: Whether the value may differ by form of exploitation.
        by_age: Whether a factor for offenders under 23 may be given.
        by_sex: Whether a factor for female offenders may be given.
        description: One line saying what the parameter is.
    """

    name: str
    kind: Kind
    role: Role
    by_form: bool
    by_age: bool
    by_sex: bool
    description: str

    @property
    def bounds(self) -> tuple[float, float]:
        """The closed interval of allowed values for this kind."""
        return KIND_BOUNDS[self.kind]


KIND_BOUNDS: dict[str, tuple[float, float]] = {
    "probability": (0.0, 1.0),
    "hazard": (0.0, 1.0),
    "rate": (0.0, 1e7),
    "months": (1.0, 600.0),
    "cv": (0.01, 5.0),
    "factor": (0.0, 100.0),
    "years": (0.1, 60.0),
    "places": (0.0, 1e6),
}


def _p(name, kind, role, description, form=False, age=False, sex=False) -> ParameterSpec:
    return ParameterSpec(name, kind, role, form, age, sex, description)


PARAMETERS: dict[str, ParameterSpec] = {
    p.name: p
    for p in (
        # inflow into undetected offending
        _p("inflow_rate", "rate", "unknown",
           "new offenders starting to offend per year (the hidden pool's inflow)"),
        _p("inflow_form_share", "probability", "calibrated",
           "share of new offenders by form of exploitation (sums to 1)", form=True),
        _p("young_share", "probability", "calibrated",
           "share of new offenders under 23 at onset", form=True),
        _p("female_share", "probability", "calibrated",
           "share of new offenders who are female", form=True),
        _p("prior_conviction_share", "probability", "unknown",
           "share of new offenders with earlier convictions for other offences", form=True),
        _p("adult_onset_excess_years", "years", "unknown",
           "mean years above 23 at onset for offenders who start at 23 or older"),
        # undetected offending
        _p("desistance_hazard", "hazard", "unknown",
           "monthly probability an active offender aged 30 stops for good", form=True),
        _p("desistance_age_factor", "factor", "unknown",
           "multiplier of desistance hazards per ten years of age"),
        _p("signal_hazard", "hazard", "calibrated",
           "monthly probability an active offender is signalled to the police",
           form=True, age=True),
        _p("known_signal_factor", "factor", "unknown",
           "signal hazard of an offender registered at the OM before, relative to a "
           "first-timer's (re-detection of known offenders)"),
        _p("supervised_signal_factor", "factor", "unknown",
           "further multiplier of the signal hazard of a spell begun under probation "
           "supervision"),
        _p("exposure_share", "probability", "unknown",
           "share of an active trafficker's registered other offences that expose the "
           "trafficking to the police"),
        _p("inspection_hazard", "hazard", "calibrated",
           "monthly probability another service (inspectorate, KMar) takes a case up",
           form=True),
        # investigation
        _p("investigation_capacity", "rate", "lever",
           "police investigations that can start per year (traced suspects per year)"),
        _p("queue_drop_hazard", "hazard", "calibrated",
           "monthly probability a queued signal is not followed up"),
        _p("investigation_months", "months", "unknown", "mean investigation length"),
        _p("investigation_cv", "cv", "fixed", "coefficient of variation of investigation length"),
        # prosecution
        _p("om_decision_months", "months", "unknown",
           "mean months from OM registration to its decision"),
        _p("om_decision_cv", "cv", "fixed", "coefficient of variation of OM decision time"),
        _p("technical_dismissal_share", "probability", "calibrated",
           "share of OM decisions that are technical dismissals", form=True),
        _p("policy_dismissal_share", "probability", "unknown",
           "share of OM decisions that are policy dismissals", form=True),
        _p("other_disposal_share", "probability", "unknown",
           "share of OM decisions that are joinders, transactions or transfers", form=True),
        _p("pretrial_detention_share", "probability", "unknown",
           "share of arrested suspects (registered at the OM) held in pre-trial detention "
           "until the OM's decision, and if summoned until the judgment", form=True),
        # trial and sentence
        _p("trial_months", "months", "unknown", "mean months from summons to judgment"),
        _p("trial_cv", "cv", "fixed", "coefficient of variation of time to judgment"),
        _p("conviction_prob", "probability", "calibrated",
           "probability a summoned suspect is convicted at first instance", form=True),
        # appeal (hoger beroep)
        _p("appeal_share", "probability", "unknown",
           "share of first-instance convictions appealed (by the defendant or the OM)"),
        _p("appeal_months", "months", "unknown",
           "mean months from the first-instance judgment to the appeal judgment"),
        _p("appeal_cv", "cv", "unknown", "coefficient of variation of the appeal's length"),
        _p("appeal_acquittal_share", "probability", "unknown",
           "share of appealed convictions that end in acquittal"),
        _p("resume_share", "probability", "unknown",
           "share of suspects who go back to offending at once after a dismissal, other "
           "disposal or acquittal"),
        _p("prison_prob", "probability", "calibrated",
           "probability a conviction brings (partly) unconditional prison", form=True, age=True),
        _p("prison_months_mean", "months", "calibrated",
           "mean unconditional prison term imposed (adult law)", form=True),
        _p("prison_months_cv", "cv", "unknown",
           "coefficient of variation of prison terms (right-skewed, lognormal)"),
        _p("adolescent_law_share", "probability", "unknown",
           "share of offenders aged 18-22 at the offence sentenced under juvenile law"),
        _p("juvenile_sentence_factor", "factor", "unknown",
           "custody length under juvenile law relative to adult law"),
        # probation
        _p("probation_share_prison", "probability", "lever",
           "probability of supervision on release from prison", form=True, age=True),
        _p("probation_share_other", "probability", "lever",
           "probability of supervision with a non-custodial sentence", form=True, age=True),
        _p("supervision_risk_factor", "factor", "unknown",
           "multiplier of the supervision hazard per risk point (an earlier conviction; under "
           "23 at the charged offence; conditional release)"),
        _p("revocation_hazard", "hazard", "unknown",
           "monthly probability supervision is revoked (a breach of conditions or a new "
           "offence) and the offender returns to custody"),
        _p("recall_months", "months", "unknown",
           "mean months back in custody after a revocation"),
        _p("recall_cv", "cv", "fixed", "coefficient of variation of the months of a recall"),
        _p("probation_months", "months", "unknown", "mean length of probation supervision"),
        _p("probation_cv", "cv", "fixed", "coefficient of variation of supervision length"),
        _p("probation_capacity", "places", "lever",
           "trafficking offenders the probation service can supervise at once (0 = no "
           "limit); a supervision ordered when all places are taken does not start"),
        # after the chain
        _p("reoffend_hazard", "hazard", "unknown",
           "monthly probability of going back into trafficking after the chain", age=True),
        _p("general_offence_hazard", "hazard", "unknown",
           "monthly probability of another kind of offence after the chain", age=True),
        _p("general_registration_prob", "probability", "unknown",
           "probability such an offence is registered as a new case"),
        _p("post_desistance_hazard", "hazard", "unknown",
           "monthly probability an offender aged 30 stops for good after the chain",
           form=True),
        _p("probation_hazard_ratio", "factor", "unknown",
           "reoffending hazards under supervision relative to without", age=True),
        _p("prior_hazard_factor", "factor", "unknown",
           "multiplier of reoffending hazards per prior conviction (up to 3)"),
        _p("victims_per_offender", "factor", "unknown",
           "victims exploited at a time by one active offender (harm proxy)", form=True),
    )
}
"""The catalogue of parameters. Scenario files must set each of these, no others."""

BY_PROBATION: tuple[str, ...] = ("reoffend_hazard", "general_offence_hazard",
                                 "post_desistance_hazard")
"""After-chain parameters with a separate value under probation supervision.

Interventions can target supervised or unsupervised offenders for these; the
supervised value is further multiplied by ``probation_hazard_ratio`` for the two
reoffending hazards.
"""

SIGNAL_HAZARDS: tuple[str, ...] = ("signal_hazard", "signal_hazard@known",
                                   "signal_hazard@known_supervised")
"""The signal hazard by an offender's visibility: a first-timer, an offender registered at
the OM before (x ``known_signal_factor``), and one whose spell began under supervision
(x ``supervised_signal_factor`` too). The derived two are computed when a scenario is
resolved, after its interventions."""

VISIBILITY_FIRST, VISIBILITY_KNOWN, VISIBILITY_SUPERVISED = 0, 1, 2
"""Indices into :data:`SIGNAL_HAZARDS`."""

SUPERVISED_SUFFIX = "@supervised"
"""Key suffix of the supervised variant of a :data:`BY_PROBATION` parameter."""

NOT_INTERVENABLE: dict[str, str] = {
    "inflow_form_share": "change who starts offending with inflow_rate and a target instead",
    "young_share": "change who starts offending with inflow_rate and a target instead",
    "female_share": "change who starts offending with inflow_rate and a target instead",
}
"""Parameters interventions may not change, with the alternative to use."""


# ----------------------------------------------------------------------- rule functions


MAX_MONTHLY_HAZARD = 64.0
"""Integrated hazard standing for a certain event (monthly probability 1).

Draws are ``E = -log(u)`` with ``u >= 2**-53``, so ``E < 37``: a month with this
hazard always catches the event, and cumulative hazards stay finite (a certain
month in the past must not make every later event certain).
"""


def hazard_to_cumulative(p: np.ndarray) -> np.ndarray:
    """Cumulative integrated hazard of monthly event probabilities.

    Args:
        p: Monthly probabilities, last axis is time.

    Returns:
        ``H[..., k] = sum_{j<=k} h_j`` with ``h_j = -log(1 - p_j)``, where a
        certain month (``p_j = 1``) counts :data:`MAX_MONTHLY_HAZARD`.
    """
    return np.cumsum(monthly_hazard(p), axis=-1)


def first_passage(p: np.ndarray, u: float) -> int:
    """Month (0-based, within ``p``) at which an event with monthly probability ``p`` occurs.

    Inverse transform on the integrated hazard: with ``E = -log(u)``, the event
    falls in the first month whose cumulative hazard reaches ``E``. This gives
    ``P(event in month k | none before) = p[k]`` exactly, and it is monotone in
    ``u`` (common random numbers couple scenarios smoothly).

    Args:
        p: Monthly probabilities over the remaining horizon.
        u: A uniform draw in (0, 1).

    Returns:
        The month index, or ``-1`` if the event falls beyond the horizon.
    """
    if len(p) == 0:
        return -1
    return next_passage(hazard_to_cumulative(p), 0, u)


def next_passage(cum: np.ndarray, start: int, u: float) -> int:
    """First month ``k >= start`` at which an event occurs, from a cumulative hazard.

    Args:
        cum: Cumulative integrated hazard (:func:`hazard_to_cumulative`), month 0 first.
        start: The first month the event can fall in.
        u: A uniform draw in (0, 1).

    Returns:
        The month index, or ``-1`` if the event falls beyond ``cum``.
    """
    base = cum[start - 1] if start > 0 else 0.0
    k = start + int(np.searchsorted(cum[start:], base - np.log(u), side="left"))
    return k if k < len(cum) else -1


def first_passage_cumulative(cum: np.ndarray, t: int, u: float) -> int:
    """:func:`first_passage` for events after month ``t``, from a precomputed cumulative hazard.

    Args:
        cum: Cumulative integrated hazard over the whole horizon
            (:func:`hazard_to_cumulative` of the monthly probabilities).
        t: The current month index; events can happen in months ``t+1 ...``.
        u: A uniform draw in (0, 1).

    Returns:
        Months after ``t + 1`` (0 = next month), or ``-1`` beyond the horizon.
    """
    k = next_passage(cum, t + 1, u)
    return k - t - 1 if k >= 0 else -1


def age_factor(age_years: np.ndarray, factor_per_decade: float) -> np.ndarray:
    """Multiplier of a desistance hazard at the given ages (1 at age 30)."""
    return np.power(factor_per_decade, (np.asarray(age_years) - AGE_REFERENCE) / 10.0)


def monthly_hazard(p: np.ndarray) -> np.ndarray:
    """Integrated hazard ``-log(1 - p)`` of monthly probabilities (certain months capped)."""
    with np.errstate(divide="ignore"):
        h = -np.log1p(-np.asarray(p, dtype=float))
    return np.minimum(h, MAX_MONTHLY_HAZARD)


def scale_probability(p: np.ndarray, multiplier: np.ndarray | float) -> np.ndarray:
    """Monthly probability with its hazard multiplied: ``1 - (1 - p) ** multiplier``.

    Scaling on the integrated-hazard scale keeps the result a probability for any
    multiplier ``>= 0`` (a certain month stays certain unless the multiplier is 0).
    """
    return -np.expm1(-np.asarray(multiplier) * monthly_hazard(p))


def desistance_probability(base: np.ndarray, age_years: np.ndarray,
                           factor: np.ndarray | float) -> np.ndarray:
    """Monthly desistance probability rising with age.

    The base probability applies at age 30 and its hazard is multiplied by
    ``factor ** ((age - 30) / 10)`` (:func:`age_factor`).
    """
    return scale_probability(base, age_factor(age_years, factor))


def other_offending(general: np.ndarray, registration: np.ndarray, exposure: np.ndarray,
                    priors: np.ndarray | int, prior_factor: np.ndarray | float
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Monthly probabilities of other offending alongside active trafficking.

    Offences of other kinds occur with the (unsupervised) after-chain probability
    ``general`` (x ``prior_factor`` per prior, as after the chain); one is registered
    with probability ``registration`` and a registered one exposes the trafficking with
    probability ``exposure``. The process is split into two independent ones with the
    same monthly law: exposing arrests, and offences that expose nothing.

    Returns:
        ``expose`` (monthly probability of an exposing arrest), ``other`` (of an offence
        that exposes nothing, in a month without an exposing one) and ``registered``
        (probability such an offence is registered).
    """
    general = scale_probability(general, np.power(prior_factor,
                                                  np.minimum(priors, PRIOR_EFFECT_CAP)))
    exposed_share = registration * exposure
    expose = general * exposed_share
    with np.errstate(divide="ignore", invalid="ignore"):
        other = np.where(expose < 1.0, general * (1.0 - exposed_share) / (1.0 - expose), 0.0)
        registered = np.where(exposed_share < 1.0,
                              registration * (1.0 - exposure) / (1.0 - exposed_share), 0.0)
    return expose, other, registered


def supervision_probability(share: float, factor: float, risk_points: int) -> float:
    """Probability of supervision given its base share and the offender's risk points.

    The base share is scaled on the integrated-hazard scale (:func:`scale_probability`)
    by ``factor ** risk_points``: allocation follows risk, as the probation service's
    risk assessment (RISc) makes it, and a share stays a probability.
    """
    return scale_probability(share, np.power(factor, risk_points))


def supervision_risk_points(earlier_conviction, young, conditional_release):
    """Risk points for supervision (0 to 3), one for each that holds.

    An earlier conviction; under 23 at the charged offence; a conditional release (a
    prison term long enough for conditions, art. 6:2:10 Sv).
    """
    return (np.asarray(earlier_conviction, dtype=np.int64) + np.asarray(young, dtype=np.int64)
            + np.asarray(conditional_release, dtype=np.int64))


def reoffending_probability(base: np.ndarray, priors: np.ndarray | int,
                            prior_factor: np.ndarray | float, supervised: np.ndarray,
                            ratio: np.ndarray) -> np.ndarray:
    """Monthly probability of a new offence after the chain.

    Args:
        base: Baseline monthly probability (per month of the horizon).
        priors: Prior convictions; each multiplies the hazard by ``prior_factor``,
            up to :data:`PRIOR_EFFECT_CAP`.
        prior_factor: Hazard multiplier per prior conviction (per month).
        supervised: Boolean per month: under probation supervision.
        ratio: Hazard ratio under supervision (per month).

    Returns:
        Monthly probabilities, scaled on the integrated-hazard scale.
    """
    mult = np.power(prior_factor, np.minimum(priors, PRIOR_EFFECT_CAP)) * np.where(
        supervised, ratio, 1.0)
    return scale_probability(base, mult)


def om_decision_probabilities(technical: float, policy: float, other: float) -> np.ndarray:
    """Probabilities of the OM outcomes in :data:`OM_OUTCOMES` order.

    Summons is what remains after the three kinds of non-prosecution; the
    configuration is rejected if the three exceed one.
    """
    summons = 1.0 - technical - policy - other
    return np.array([summons, technical, policy, other])


def categorical(probabilities: np.ndarray, u: float) -> int:
    """Index drawn from ``probabilities`` by inverse transform of the uniform ``u``."""
    return categorical_cumulative(np.cumsum(probabilities), u)


def categorical_cumulative(cumulative: np.ndarray, u: float) -> int:
    """:func:`categorical` from precomputed cumulative weights (need not sum to 1)."""
    k = int(np.searchsorted(cumulative, u * cumulative[-1], side="right"))
    return min(k, len(cumulative) - 1)


def duration_pmf(mean: float, cv: float, max_months: int) -> np.ndarray:
    """Discretised gamma distribution of a duration in whole months (at least 1).

    Month ``k >= 1`` gets the gamma mass on ``[k - 0.5, k + 0.5)``; month 1 also
    takes ``[0, 0.5)``; the tail beyond ``max_months`` is put on the last month
    so no mass is lost (stated, not silent: keep ``max_months`` well past the mean).

    Args:
        mean: Mean duration in months.
        cv: Coefficient of variation.
        max_months: Longest representable duration.

    Returns:
        ``pmf[k]`` for ``k = 0..max_months``; ``pmf[0] == 0``.
    """
    shape = 1.0 / cv**2
    edges = np.arange(max_months + 1) + 0.5
    cdf = special.gammainc(shape, edges / (mean / shape))  # scipy.stats.gamma(...).cdf
    pmf = np.zeros(max_months + 1)
    pmf[1] = cdf[0] + (cdf[1] - cdf[0])
    pmf[2:] = np.diff(cdf[1:])
    pmf[max_months] += 1.0 - cdf[-1]
    return pmf


def sentence_pmf(mean: float, cv: float, max_months: int, cap: int | None = None) -> np.ndarray:
    """Right-skewed (lognormal) distribution of prison terms in whole months (at least 1).

    Args:
        mean: Mean term in months (before any cap).
        cv: Coefficient of variation.
        max_months: Longest representable term (the tail beyond is put there).
        cap: Legal maximum, if any (juvenile detention): the distribution is
            conditioned on terms up to ``cap`` (renormalised, not clipped).
    """
    sigma2 = np.log1p(cv**2)
    edges = np.arange(max_months + 1) + 0.5
    # scipy.stats.lognorm(s, scale=...).cdf
    cdf = special.ndtr(np.log(edges / (mean / np.exp(sigma2 / 2))) / np.sqrt(sigma2))
    pmf = np.zeros(max_months + 1)
    pmf[1] = cdf[1]
    pmf[2:] = np.diff(cdf[1:])
    pmf[max_months] += 1.0 - cdf[-1]
    if cap is not None:
        pmf[cap + 1:] = 0.0
        pmf /= pmf.sum()
    return pmf


def poisson_quantile(u: np.ndarray | float, mean: np.ndarray | float) -> np.ndarray:
    """The smallest ``k`` with ``P(X <= k) >= u`` for ``X ~ Poisson(mean)``.

    For ``0 < u < 1`` and ``mean > 0``. What ``scipy.stats.poisson.ppf`` computes, with
    the same special functions in the same order (tests/chain/test_spec.py checks they
    agree); the distributions here are written with :mod:`scipy.special` because
    importing ``scipy.stats`` takes half a second, paid by every command and worker.
    Floats, as scipy returns them.
    """
    vals = np.ceil(special.pdtrik(u, mean))
    below = np.maximum(vals - 1, 0)
    return np.where(special.pdtr(below, mean) >= u, below, vals)


def draw_from_pmf(pmf: np.ndarray, u: float) -> int:
    """Whole months drawn from a pmf by inverse transform."""
    return int(min(np.searchsorted(np.cumsum(pmf), u, side="right"), len(pmf) - 1))


def time_served(sentence_months: np.ndarray | int, juvenile: np.ndarray | bool = False):
    """Months served under the conditional-release rules in force 2015-2019.

    Voorwaardelijke invrijheidstelling (art. 6:2:10 Sv): none for terms up to one
    year; for more than one and up to two years, release after one year plus one
    third of the rest; above two years, after two thirds. Juvenile detention has
    no conditional release. Fractions of a month are rounded half up.

    Examples:
        10 months -> 10; 20 months -> 12 + 8/3 -> 15; 36 months -> 24.
    """
    s = np.asarray(sentence_months, dtype=float)
    served = np.where(s <= 12, s, np.where(s <= 24, 12 + (s - 12) / 3, 2 * s / 3))
    served = np.where(juvenile, s, served)
    out = np.floor(served + 0.5).astype(int)
    return int(out) if out.ndim == 0 else out


def onset_age(young: bool, u: float, adult_excess_years: float) -> int:
    """Age in whole years at onset, by inverse transform of ``u``.

    Young offenders: uniform over 16..22. Adults: 23 plus the whole years of an
    exponential with the given mean, truncated below :data:`MAX_ONSET_AGE` (a proper
    truncated distribution, not a clip).
    """
    if young:
        return int(YOUNG_MIN_ONSET_AGE + np.floor(u * (YOUNG_AGE_LIMIT - YOUNG_MIN_ONSET_AGE)))
    span = MAX_ONSET_AGE - YOUNG_AGE_LIMIT
    tail = -np.expm1(-span / adult_excess_years)
    return int(YOUNG_AGE_LIMIT + np.floor(-adult_excess_years * np.log1p(-u * tail)))


def onset_age_pmf(young: bool, adult_excess_years: float) -> np.ndarray:
    """Distribution of :func:`onset_age`: ``pmf[age]`` for ages 0..MAX_ONSET_AGE-1."""
    pmf = np.zeros(MAX_ONSET_AGE)
    if young:
        pmf[YOUNG_MIN_ONSET_AGE:YOUNG_AGE_LIMIT] = 1.0 / (YOUNG_AGE_LIMIT - YOUNG_MIN_ONSET_AGE)
        return pmf
    span = MAX_ONSET_AGE - YOUNG_AGE_LIMIT
    cdf = -np.expm1(-np.arange(span + 1) / adult_excess_years)
    pmf[YOUNG_AGE_LIMIT:] = np.diff(cdf) / cdf[-1]
    return pmf


def prior_convictions_pmf(share_with_priors: float) -> np.ndarray:
    """Distribution of :func:`prior_convictions`, capped: ``P(0), P(1), P(2), P(3 or more)``."""
    q = share_with_priors
    return np.array([1 - q, q / 2, q / 4, q / 4])


def prior_convictions(has_priors: bool, u: float) -> int:
    """Number of earlier convictions: 0, or 1 + geometric (mean 2 when any)."""
    if not has_priors:
        return 0
    return 1 + int(np.floor(np.log(u) / np.log(0.5)))

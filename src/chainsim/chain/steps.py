"""The chain, declared once: its stages, events, random streams and steps.

This table is the one statement of the order of the Dutch criminal justice chain for
human-trafficking offenders. Every engine, analysis and display reads it:

- :mod:`chainsim.chain.spec` builds the :class:`~chainsim.chain.spec.Stage` and
  :class:`~chainsim.chain.spec.Event` enumerations and the list of random streams from
  :data:`STAGES`, :data:`EVENTS` and :data:`MECHANISMS`;
- the Mesa agent model (:mod:`chainsim.engines.agents`) takes each step's durations and draws
  (stream and order) from :data:`STEPS` and records each move as a declared
  :class:`Branch`;
- the vectorised engine (:mod:`chainsim.engines.fast`) derives from the same steps which
  draws a batch takes, in which order (:func:`draw_slots`), and how many each step
  reached consumes (:func:`draw_use`);
- the expected-flow twin (:mod:`chainsim.engines.twin`) sends mass along the same branches;
- the flow metrics (:mod:`chainsim.analysis.flows`), the funnel of the dashboard and
  the report, the labels in English and Dutch, the README's diagram and the ODD's
  stage table come from :data:`FLOW_METRICS`, :data:`STAGES` and :data:`STEPS`.

A step is where an offender waits (one or more stages) and how the wait ends: the
draws taken on entering it (its duration, or competing latent times), the draws
taken when it ends (its decisions), and its branches (the event recorded, the stage
entered, the next step). ``tests/chain/test_steps.py`` walks the table: every engine must
have a handler for every step and produce every branch, and nothing undeclared.

To add a stage: declare its stage(s), event(s) and step here, its parameters in
:data:`chainsim.chain.spec.PARAMETERS` and ``scenarios/baseline.toml``, and one handler per
engine (the conformance test names what is missing).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

# ------------------------------------------------------------------------ vocabulary


@dataclass(frozen=True)
class StageDecl:
    """A stage: where an offender is (exactly one at every month).

    Attributes:
        name: Key (lower case; the enum member is its upper case).
        en: English label.
        nl: Dutch label (the Dadermonitor's terms).
        description: What being in the stage means.
        in_chain: Inside the criminal justice chain (shown in the chain's stage charts).
        custody: Deprived of liberty (pre-trial detention or prison).
        offending: Trafficking goes on while in it (undetected, or at liberty while the
            police investigate and the case is pending): counted in the harm proxies.
        transient: Left in the month it is entered (nobody is in it at a month's end).
        color: Its colour in the dashboard's charts.
    """

    name: str
    en: str
    nl: str
    description: str
    in_chain: bool = False
    custody: bool = False
    offending: bool = False
    transient: bool = False
    color: str = "#9e9e9e"


@dataclass(frozen=True)
class EventDecl:
    """An event: what happened at a transition (the records' ``event`` column).

    Attributes:
        name: Key (lower case; the enum member is its upper case).
        en: English label.
        nl: Dutch label.
        description: What the event is; what its ``value`` holds, if anything.
    """

    name: str
    en: str
    nl: str
    description: str


STAGES: tuple[StageDecl, ...] = (
    StageDecl("none", "not yet in the model", "nog niet in het model",
              "the from-stage of the inflow and pool records", color="#ffffff"),
    StageDecl("active", "offending, undetected", "actief, niet in beeld",
              "offending, not in view of the police", offending=True),
    StageDecl("signalled", "signalled, waiting", "signalering, wachtend",
              "in view of the police, waiting for investigation capacity (a FIFO queue)",
              in_chain=True, offending=True, color="#4C72B0"),
    StageDecl("investigation", "investigation (opsporing)", "opsporing",
              "under police investigation (offending goes on at liberty)", in_chain=True,
              offending=True, color="#64B5CD"),
    StageDecl("inspection", "inspectorate / KMar", "inspectie / KMar",
              "under investigation by another service (labour inspectorate, KMar)",
              in_chain=True, offending=True, color="#CCB974"),
    StageDecl("prosecution", "OM decision", "OM-beslissing",
              "registered at the OM, awaiting its decision at liberty", in_chain=True,
              offending=True, color="#8172B3"),
    StageDecl("prosecution_detained", "OM decision, detained", "OM-beslissing, voorlopig gehecht",
              "registered at the OM, awaiting its decision in pre-trial detention (from the "
              "arrest)", in_chain=True, custody=True, color="#5E4B8B"),
    StageDecl("trial", "trial (dagvaarding)", "berechting (dagvaarding)",
              "summoned, awaiting the first-instance judgment at liberty", in_chain=True,
              offending=True, color="#DD8452"),
    StageDecl("pretrial_detention", "pre-trial detention", "voorlopige hechtenis",
              "summoned, awaiting judgment in pre-trial detention", in_chain=True,
              custody=True, color="#937860"),
    StageDecl("appeal", "appeal (hoger beroep)", "hoger beroep",
              "convicted at first instance, the appeal pending, at liberty", in_chain=True,
              offending=True, color="#E6B655"),
    StageDecl("appeal_detained", "appeal, detained", "hoger beroep, in voorlopige hechtenis",
              "convicted at first instance, the appeal pending, still in pre-trial detention",
              in_chain=True, custody=True, color="#6B4E3D"),
    StageDecl("sentencing", "sentencing", "straftoemeting",
              "convicted by a final judgment; the sentence is decided in the same month",
              in_chain=True, transient=True),
    StageDecl("prison", "prison (vrijheidsstraf)", "vrijheidsstraf",
              "serving an unconditional prison sentence", in_chain=True, custody=True,
              color="#C44E52"),
    StageDecl("recalled", "recalled to custody", "herroepen, terug in detentie",
              "back in custody after supervision was revoked (conditional release or a "
              "suspended sentence)", in_chain=True, custody=True, color="#8C2D2F"),
    StageDecl("probation", "supervision (reclasseringstoezicht)", "reclasseringstoezicht",
              "under probation supervision, at liberty", in_chain=True, color="#55A868"),
    StageDecl("free", "free after the chain", "vrij na de keten",
              "out of the chain, at liberty and at risk of reoffending", color="#DA8BC3"),
    StageDecl("desisted", "desisted", "gestopt", "stopped offending for good (absorbing)",
              color="#cfcfcf"),
)
"""Every stage, in chain order (their enum values follow this order)."""

EVENTS: tuple[EventDecl, ...] = (
    EventDecl("inflow", "started offending", "start", "a new offender starts offending"),
    EventDecl("signalled", "signalled", "signalering",
              "police signal the suspect (enters the investigation queue)"),
    EventDecl("inspected", "taken up by an inspectorate", "inspectie",
              "another investigating service takes the case up"),
    EventDecl("investigation_started", "investigation started", "opsporing gestart",
              "investigation capacity frees up for a queued suspect"),
    EventDecl("dropped", "signal dropped", "signaal vervallen",
              "the signal is not followed up; back to undetected offending"),
    EventDecl("traced", "traced", "opgespoord",
              "a police investigation ends in registration at the OM"),
    EventDecl("registered_other", "registered by another service", "ingeschreven (overig)",
              "another service's investigation ends in registration at the OM"),
    EventDecl("summoned", "summoned", "dagvaarding", "OM decision: summons, at liberty"),
    EventDecl("summoned_detained", "summoned, detained", "dagvaarding, voorlopig gehecht",
              "OM decision: summons, the suspect in pre-trial detention"),
    EventDecl("technical_dismissal", "technical dismissal", "technisch sepot",
              "OM decision: technical dismissal, mostly lack of evidence"),
    EventDecl("policy_dismissal", "policy dismissal", "beleidssepot",
              "OM decision: policy dismissal"),
    EventDecl("other_disposal", "other disposal", "overige afdoening",
              "OM decision: joinder, transaction or transfer"),
    EventDecl("convicted", "convicted", "veroordeling",
              "final conviction (first instance not appealed, or on appeal)"),
    EventDecl("acquitted", "acquitted", "vrijspraak",
              "final acquittal (first instance, or on appeal)"),
    EventDecl("prison", "prison sentence", "vrijheidsstraf",
              "sentence: (partly) unconditional prison; value = months imposed"),
    EventDecl("non_custodial", "non-custodial sentence", "overige straf",
              "sentence: suspended sentence, community service or fine"),
    EventDecl("released", "released", "vrijlating",
              "release from prison (or from a recall); value = months in custody (incl. "
              "pre-trial)"),
    EventDecl("probation_start", "supervision started", "toezicht gestart",
              "start of probation supervision; value = months of supervision"),
    EventDecl("probation_end", "supervision ended", "toezicht beëindigd",
              "end of probation supervision"),
    EventDecl("reoffended", "back into trafficking", "recidive mensenhandel",
              "back into trafficking after the chain (specific recidivism, true)"),
    EventDecl("general_offence", "other offence", "ander delict",
              "an offence of another kind after the chain (true; a point event)"),
    EventDecl("general_case", "other offence registered", "ander delict geregistreerd",
              "that other offence is registered as a new case (observed; a point event)"),
    EventDecl("desisted", "desisted", "gestopt", "stops offending for good"),
    EventDecl("pool", "offending at the start", "actief bij de start",
              "already offending, undetected, when the run starts (the initial hidden pool)"),
    EventDecl("appealed", "appealed", "hoger beroep",
              "a first-instance conviction is appealed (by the defendant or the OM)"),
    EventDecl("appealed_detained", "appealed, detained", "hoger beroep, gedetineerd",
              "a first-instance conviction is appealed; pre-trial detention continues"),
    EventDecl("resumed", "back to offending after the case", "hervat na de zaak",
              "offending resumes after a dismissal, other disposal or acquittal (a new spell)"),
    EventDecl("exposed", "exposed by another arrest", "in beeld via ander delict",
              "an arrest for another offence (registered as a new case) exposes the "
              "trafficking: into the investigation queue"),
    EventDecl("revoked", "supervision revoked", "herroeping",
              "conditional release or a suspended sentence revoked for a breach or a new "
              "offence: back to custody; value = months to serve"),
    EventDecl("probation_refused", "no supervision place", "geen plaats in toezicht",
              "supervision was ordered but the probation capacity is full: no supervision; "
              "value = months it would have lasted"),
)
"""Every event (their enum values follow this order: new events go at the end)."""

MECHANISMS: tuple[str, ...] = ("inflow", "desistance", "detection", "investigation",
                               "prosecution", "trial", "sentencing", "release", "reoffending",
                               "general", "appeal", "resumption")
"""Random streams, one per mechanism, each derived from the run's seed.

Streams are spawned in this order, so a new stream goes at the end: the others keep
their numbers (common random numbers across versions as across scenarios).
"""

# ----------------------------------------------------------------------------- steps


@dataclass(frozen=True)
class Draw:
    """One uniform number a step takes from a mechanism's stream.

    Attributes:
        stream: The mechanism (:data:`MECHANISMS`).
        decides: What the number decides.
        repeated: Taken a variable number of times (e.g. one per other offence).
    """

    stream: str
    decides: str
    repeated: bool = False


@dataclass(frozen=True)
class Branch:
    """One way a step ends.

    Attributes:
        event: The event recorded (None: a decision that records nothing).
        to: The stage entered (equal to the step's stage for a point event).
        then: The next step (None: the offender leaves the model).
        when: The parameters or rule that decide this branch.
        draws: Draws taken only when this branch is taken.
        metric: The flow metric (:data:`FLOW_METRICS`) this event counts in.
        point: A point event: no change of stage (and the step goes on).
        source: The one stage of the step this branch leaves from (None: any).
    """

    event: str | None
    to: str
    then: str | None
    when: str
    draws: tuple[Draw, ...] = ()
    metric: str | None = None
    point: bool = False
    source: str | None = None


@dataclass(frozen=True)
class Step:
    """One step of the chain: where an offender waits and how the wait ends.

    Attributes:
        name: Key.
        stages: The stages an offender is in while in this step (empty: decided at once).
        en: English label.
        nl: Dutch label.
        duration: Mean and coefficient-of-variation parameters of the wait (gamma,
            whole months), or None (competing hazards, a rule, or no wait).
        on_entry: Draws taken on entering the step, in order.
        on_exit: Draws taken when the step ends (its decisions), in order.
        branches: The ways it ends.
        note: How the branches are decided, in a sentence.
    """

    name: str
    stages: tuple[str, ...]
    en: str
    nl: str
    duration: tuple[str, str] | None
    on_entry: tuple[Draw, ...]
    on_exit: tuple[Draw, ...]
    branches: tuple[Branch, ...]
    note: str = ""

    def branch(self, event: str | None, to: str | None = None) -> Branch:
        """The branch recording ``event`` (and entering ``to``, where the event has several)."""
        matches = [b for b in self.branches if b.event == event and to in (None, b.to)]
        if len(matches) != 1:
            raise KeyError(f"chain step {self.name!r} has no single branch {event!r}"
                           + (f" to {to!r}" if to else ""))
        return matches[0]


STEPS: tuple[Step, ...] = (
    Step("entry", (), "entry", "instroom", None,
         on_entry=(Draw("inflow", "stratum (form, age group, sex)"),
                   Draw("inflow", "thinning (kept at the scenario's inflow rate)"),
                   Draw("inflow", "onset age"), Draw("inflow", "earlier convictions or not"),
                   Draw("inflow", "number of earlier convictions")),
         on_exit=(),
         branches=(Branch("inflow", "active", "offending", "inflow_rate, strata shares"),
                   Branch("pool", "active", "offending", "the initial hidden pool")),
         note="New offenders by Poisson counts per month, thinned per stratum (common "
              "random numbers across inflow scenarios); the pool at the start."),
    Step("offending", ("active",), "undetected offending", "actief, niet in beeld", None,
         on_entry=(Draw("detection", "month of a police signal"),
                   Draw("detection", "month an inspectorate takes the case up"),
                   Draw("desistance", "month of desistance"),
                   Draw("detection", "month an arrest for another offence exposes the "
                                     "trafficking"),
                   Draw("general", "month of the next other offence (not exposing), then "
                                   "whether it registers", repeated=True)),
         on_exit=(),
         branches=(Branch("signalled", "signalled", "queue",
                          "signal_hazard (x known_signal_factor once registered at the OM "
                          "before; x supervised_signal_factor too if the spell began under "
                          "supervision)", metric="signalled"),
                   Branch("inspected", "inspection", "inspection", "inspection_hazard"),
                   Branch("desisted", "desisted", None,
                          "desistance_hazard, desistance_age_factor"),
                   Branch("exposed", "signalled", "queue",
                          "general_offence_hazard x general_registration_prob x "
                          "exposure_share (x prior_hazard_factor per prior)",
                          metric="signalled"),
                   Branch("general_offence", "active", "offending",
                          "general_offence_hazard: offences of other kinds go on alongside "
                          "trafficking", point=True),
                   Branch("general_case", "active", "offending",
                          "general_registration_prob (those not exposing the trafficking)",
                          point=True)),
         note="Four latent times compete; ties: signal, inspection, desistance, exposure. "
              "Other offences occur until one of them; a registered one exposes the "
              "trafficking with probability exposure_share (then the spell ends in the "
              "queue)."),
    Step("queue", ("signalled",), "investigation queue", "wachtrij opsporing", None,
         on_entry=(Draw("investigation", "month the signal is dropped"),),
         on_exit=(),
         branches=(Branch("investigation_started", "investigation", "investigation",
                          "investigation_capacity (first come, first served)"),
                   Branch("dropped", "active", "offending", "queue_drop_hazard")),
         note="Served in (month signalled, offender id) order up to the monthly capacity."),
    Step("investigation", ("investigation",), "police investigation", "opsporing",
         ("investigation_months", "investigation_cv"),
         on_entry=(Draw("investigation", "investigation length"),),
         on_exit=(Draw("prosecution", "pre-trial detention from the arrest"),),
         branches=(Branch("traced", "prosecution", "prosecution",
                          "at liberty: 1 - pretrial_detention_share", metric="traced"),
                   Branch("traced", "prosecution_detained", "prosecution",
                          "pretrial_detention_share", metric="traced")),
         note="The registration at the OM follows the arrest; a share of suspects is held "
              "in pre-trial detention from then on."),
    Step("inspection", ("inspection",), "other services' investigation",
         "onderzoek andere diensten", ("investigation_months", "investigation_cv"),
         on_entry=(Draw("investigation", "investigation length"),),
         on_exit=(Draw("prosecution", "pre-trial detention from the arrest"),),
         branches=(Branch("registered_other", "prosecution", "prosecution",
                          "at liberty: 1 - pretrial_detention_share"),
                   Branch("registered_other", "prosecution_detained", "prosecution",
                          "pretrial_detention_share"))),
    Step("prosecution", ("prosecution", "prosecution_detained"), "OM decision",
         "OM-beslissing", ("om_decision_months", "om_decision_cv"),
         on_entry=(Draw("prosecution", "time to the decision"),),
         on_exit=(Draw("prosecution", "the decision"),),
         branches=(Branch("summoned", "trial", "trial", "summons: what the dismissal "
                          "shares leave; at liberty", metric="summoned", source="prosecution"),
                   Branch("summoned_detained", "pretrial_detention", "trial",
                          "summons, detained since the arrest", metric="summoned",
                          source="prosecution_detained"),
                   Branch("technical_dismissal", "free", "resumption",
                          "technical_dismissal_share", metric="technical_dismissals"),
                   Branch("policy_dismissal", "free", "resumption", "policy_dismissal_share",
                          metric="policy_dismissals"),
                   Branch("other_disposal", "free", "resumption", "other_disposal_share")),
         note="A dismissal or other disposal ends pre-trial detention; a detained suspect "
              "summoned stays detained until the judgment."),
    Step("trial", ("trial", "pretrial_detention"), "trial (first instance)",
         "berechting (eerste aanleg)", ("trial_months", "trial_cv"),
         on_entry=(Draw("trial", "time to judgment"),),
         on_exit=(Draw("trial", "the verdict"), Draw("appeal", "appealed if convicted")),
         branches=(Branch("convicted", "sentencing", "sentencing",
                          "conviction_prob, not appealed", metric="convicted"),
                   Branch("acquitted", "free", "resumption", "1 - conviction_prob",
                          metric="acquitted"),
                   Branch("appealed", "appeal", "appeal", "conviction_prob x appeal_share",
                          metric="appealed", source="trial"),
                   Branch("appealed_detained", "appeal_detained", "appeal",
                          "conviction_prob x appeal_share, in pre-trial detention",
                          metric="appealed", source="pretrial_detention")),
         note="Pre-trial detention continues through an appeal and counts towards the "
              "sentence; the sentence is decided by the final judgment."),
    Step("appeal", ("appeal", "appeal_detained"), "appeal (hoger beroep)", "hoger beroep",
         ("appeal_months", "appeal_cv"),
         on_entry=(Draw("appeal", "time to the appeal judgment"),),
         on_exit=(Draw("appeal", "the verdict on appeal"),),
         branches=(Branch("convicted", "sentencing", "sentencing",
                          "1 - appeal_acquittal_share", metric="convicted"),
                   Branch("acquitted", "free", "resumption", "appeal_acquittal_share",
                          metric="acquitted")),
         note="The court of appeal confirms the conviction (and sets the sentence anew) or "
              "acquits."),
    Step("resumption", (), "after a case without sanction", "na een zaak zonder straf", None,
         on_entry=(Draw("resumption", "back to offending or not"),), on_exit=(),
         branches=(Branch("resumed", "active", "offending", "resume_share"),
                   Branch(None, "free", "after_chain", "otherwise")),
         note="After a dismissal, other disposal or acquittal (first instance or on appeal): "
              "offending resumes at once (a new spell, now known to the police) or life "
              "after the chain begins."),
    Step("sentencing", ("sentencing",), "sentencing", "straftoemeting", None,
         on_entry=(Draw("sentencing", "prison or not"),
                   Draw("sentencing", "juvenile law for 18-22 year olds"),
                   Draw("sentencing", "prison term")),
         on_exit=(),
         branches=(Branch("prison", "prison", "prison",
                          "prison_prob; term: prison_months_mean, prison_months_cv "
                          "(juvenile law by age at the charged offence: "
                          "x juvenile_sentence_factor, at most 24 months)",
                          metric="prison"),
                   Branch("non_custodial", "free", "supervision", "1 - prison_prob")),
         note="Zero-length: decided in the month of the final conviction."),
    Step("prison", ("prison",), "detention", "detentie", None,
         on_entry=(), on_exit=(),
         branches=(Branch("released", "free", "supervision",
                          "time served under conditional release (art. 6:2:10 Sv, "
                          "2015-2019) minus pre-trial detention"),),
         note="Released at once when pre-trial detention covers the time to serve."),
    Step("supervision", (), "supervision decision", "besluit toezicht", None,
         on_entry=(Draw("release", "supervised or not"),), on_exit=(),
         branches=(Branch("probation_start", "probation", "after_chain",
                          "probation_share_prison / probation_share_other, its hazard x "
                          "supervision_risk_factor per risk point (an earlier conviction; "
                          "under 23 at the charged offence; conditional release)",
                          draws=(Draw("release", "supervision length"),),
                          metric="probation"),
                   Branch("probation_refused", "free", "after_chain",
                          "supervised, but probation_capacity (places at once; 0 = no limit) "
                          "is full at the month's end",
                          draws=(Draw("release", "supervision length"),),
                          metric="probation_refused"),
                   Branch(None, "free", "after_chain", "otherwise")),
         note="On release from prison or with a non-custodial sentence. With a probation "
              "capacity, the month's supervisions are decided at its end, after the "
              "investigation queue, in offender-id order while places are free (places "
              "freed that month count)."),
    Step("recall", ("recalled",), "recall to custody", "herroeping", ("recall_months",
                                                                      "recall_cv"),
         on_entry=(), on_exit=(),
         branches=(Branch("released", "free", "after_chain", "recall_months, recall_cv"),),
         note="The months to serve are drawn with the revocation; no new supervision follows."),
    Step("after_chain", ("free", "probation"), "after the chain", "na de keten", None,
         on_entry=(Draw("reoffending", "month back into trafficking"),
                   Draw("desistance", "month of desistance"),
                   Draw("release", "month of a revocation while supervised"),
                   Draw("general", "month of the next other offence, then whether it "
                                   "registers", repeated=True)),
         on_exit=(),
         branches=(Branch("reoffended", "active", "offending",
                          "reoffend_hazard (x probation_hazard_ratio supervised, "
                          "x prior_hazard_factor per prior)"),
                   Branch("desisted", "desisted", None, "post_desistance_hazard"),
                   Branch("probation_end", "free", "after_chain", "probation_months",
                          source="probation"),
                   Branch("revoked", "recalled", "recall", "revocation_hazard while supervised",
                          draws=(Draw("release", "months back in custody"),),
                          source="probation"),
                   Branch("general_offence", "free", "after_chain", "general_offence_hazard",
                          point=True),
                   Branch("general_case", "free", "after_chain", "general_registration_prob",
                          point=True)),
         note="Reoffending, desistance and (while supervised) revocation compete (ties in "
              "that order); other offences occur until one of them; supervision ends on its "
              "own date."),
)
"""The chain's steps, in chain order."""


@dataclass(frozen=True)
class FlowMetric:
    """A yearly count of events shown as a flow.

    Attributes:
        name: Key (the metric in :mod:`chainsim.analysis.flows`).
        en: English label.
        nl: Dutch label (the Dadermonitor's term).
        funnel: Shown in the chain's funnel (beside the source's figures).
    """

    name: str
    en: str
    nl: str
    funnel: bool = False


FLOW_METRICS: tuple[FlowMetric, ...] = (
    FlowMetric("signalled", "signalled (signalering)", "signalering", funnel=True),
    FlowMetric("traced", "traced (opsporing)", "opsporing", funnel=True),
    FlowMetric("summoned", "summoned (dagvaarding)", "dagvaarding", funnel=True),
    FlowMetric("technical_dismissals", "technical dismissal (sepot)", "technisch sepot"),
    FlowMetric("policy_dismissals", "policy dismissal (beleidssepot)", "beleidssepot"),
    FlowMetric("appealed", "appealed (hoger beroep)", "hoger beroep", funnel=True),
    FlowMetric("convicted", "convicted (veroordeling)", "veroordeling", funnel=True),
    FlowMetric("acquitted", "acquitted (vrijspraak)", "vrijspraak"),
    FlowMetric("prison", "prison (vrijheidsstraf)", "vrijheidsstraf", funnel=True),
    FlowMetric("probation", "supervision (reclasseringstoezicht)", "reclasseringstoezicht",
               funnel=True),
    FlowMetric("probation_refused", "no supervision place (capacity)",
               "geen plaats in toezicht (capaciteit)"),
)
"""Flow metrics in chain order; their events are the branches that name them."""


# ------------------------------------------------------------------------- lookups

STAGE_NAMES: tuple[str, ...] = tuple(s.name for s in STAGES)
EVENT_NAMES: tuple[str, ...] = tuple(e.name for e in EVENTS)
STEP: dict[str, Step] = {s.name: s for s in STEPS}
"""Steps by name."""


def metric_events(metric: str) -> tuple[str, ...]:
    """The events a flow metric counts (in the order the chain declares them)."""
    if metric not in {m.name for m in FLOW_METRICS}:
        raise KeyError(f"unknown flow metric {metric!r}")
    out: list[str] = []
    for step in STEPS:
        for b in step.branches:
            if b.metric == metric and b.event not in out:
                out.append(b.event)
    return tuple(out)


def offending_stages() -> tuple[str, ...]:
    """The stages in which trafficking goes on (the harm proxies count months in them)."""
    return tuple(s.name for s in STAGES if s.offending)


def funnel_metrics() -> tuple[str, ...]:
    """The funnel's metrics, in chain order."""
    return tuple(m.name for m in FLOW_METRICS if m.funnel)


def check_events(names, where: str = "") -> tuple[str, ...]:
    """The names, checked against the declared events.

    Raises:
        KeyError: A name is not a declared event (never a silent zero count).
    """
    names = tuple(names)
    unknown = [n for n in names if n not in EVENT_NAMES]
    if unknown:
        raise KeyError(f"{where or 'chainsim'}: unknown event name(s) {unknown}; "
                       f"the chain declares {list(EVENT_NAMES)}")
    return names


def draw_slots(phases: tuple[tuple[str, str], ...],
               start: dict[str, int] | None = None) -> tuple[tuple[str, int, str, str], ...]:
    """The draws of a sequence of step phases, each with its place in its stream.

    Args:
        phases: ``(step, phase)`` pairs, ``phase`` one of ``entry``, ``exit`` or
            ``branch:<event>``, in the order an offender passes them.
        start: Draws already taken per stream before the first phase (default none).

    Returns:
        ``(stream, n-th draw of that stream, step, what it decides)`` per draw, in
        order. Repeated draws are skipped (engines handle them on their own).
    """
    taken = Counter(start or {})
    out = []
    for step_name, phase in phases:
        for d in phase_draws(step_name, phase):
            if d.repeated:
                continue
            out.append((d.stream, taken[d.stream], step_name, d.decides))
            taken[d.stream] += 1
    return tuple(out)


def phase_draws(step_name: str, phase: str) -> tuple[Draw, ...]:
    """The draws of one phase of a step (``entry``, ``exit`` or ``branch:<event>``)."""
    step = STEP[step_name]
    if phase == "entry":
        return step.on_entry
    if phase == "exit":
        return step.on_exit
    if phase.startswith("branch:"):
        return step.branch(phase.split(":", 1)[1]).draws
    raise ValueError(f"unknown phase {phase!r}")


def draw_use(step_name: str, phase: str) -> Counter:
    """Draws per stream one pass through a phase takes (repeated draws excluded)."""
    return Counter(d.stream for d in phase_draws(step_name, phase) if not d.repeated)


def transitions() -> set[tuple[str, str, str]]:
    """Every declared ``(from stage, event, to stage)`` of the chain's branches.

    The from-stages of a step's branches are the step's stages; a step without
    stages (a decision taken at once) is entered from the stages its incoming
    branches enter, and the entry step from ``none``.
    """
    incoming: dict[str, set[str]] = {s.name: set() for s in STEPS}
    for step in STEPS:
        for b in step.branches:
            if b.then is not None:
                incoming[b.then].add(b.to)
    out = set()
    for step in STEPS:
        sources = set(step.stages) or incoming[step.name] or {"none"}
        for b in step.branches:
            if b.event is None:
                continue
            for src in ({b.source} if b.source else sources):
                out.add((src, b.event, src if b.point else b.to))
    return out


# ------------------------------------------------------------------ generated documents


def mermaid() -> str:
    """The chain as a Mermaid flowchart (the README's diagram), from the table.

    One node per step, one edge per (step, next step) with its branches' events.
    """
    lines = ["```mermaid", "flowchart LR"]
    for step in STEPS:
        shape = ('(["{}"])' if not step.stages else '["{}"]').format(
            f"{step.en}<br/><i>{step.nl}</i>")
        lines.append(f"  {step.name}{shape}")
    lines.append('  gone(["desisted<br/><i>gestopt</i>"])')
    edges: dict[tuple[str, str], list[str]] = {}
    for step in STEPS:
        for b in step.branches:
            if b.point:
                continue
            target = b.then or "gone"
            if target == step.name and b.event is None:
                continue
            edges.setdefault((step.name, target), []).append(b.event or "otherwise")
    for (a, b), events in edges.items():
        lines.append(f"  {a} -->|{', '.join(events)}| {b}")
    lines.append("```")
    return "\n".join(lines) + "\n"


def markdown_table() -> str:
    """The steps, their draws and branches as a Markdown table (the ODD's), from the table."""

    def draws(ds: tuple[Draw, ...]) -> str:
        return "; ".join(f"`{d.stream}`: {d.decides}" for d in ds) or "—"

    rows = ["| step | stages | duration | draws on entry | draws at the end | branches: event "
            "→ stage → next step (decided by) |",
            "|---|---|---|---|---|---|"]
    for step in STEPS:
        branches = "<br>".join(
            f"`{b.event or '(none)'}` → {b.to} → {b.then or 'leaves'} ({b.when})"
            + (f"; draws {draws(b.draws)}" if b.draws else "")
            for b in step.branches)
        duration = " / ".join(f"`{p}`" for p in step.duration) if step.duration else "—"
        stages = ", ".join(f"`{s}`" for s in step.stages) or "(at once)"
        rows.append(f"| **{step.name}** ({step.en}; *{step.nl}*) | {stages} | {duration} | "
                    f"{draws(step.on_entry)} | {draws(step.on_exit)} | {branches} |")
    return "\n".join(rows) + "\n"


def _replace_block(path, marker: str, text: str) -> bool:
    """Put ``text`` between ``<!-- marker:start -->`` and ``<!-- marker:end -->`` in a file."""
    import re
    from pathlib import Path

    path = Path(path)
    old = path.read_text(encoding="utf-8")
    pattern = re.compile(rf"(<!-- {marker}:start -->\n).*?(<!-- {marker}:end -->)", re.S)
    if not pattern.search(old):
        raise SystemExit(f"{path}: no <!-- {marker}:start --> ... <!-- {marker}:end --> block")
    new = pattern.sub(lambda m: m.group(1) + text + m.group(2), old)
    if new != old:
        path.write_text(new, encoding="utf-8")
    return new != old


def write_documents() -> None:
    """Regenerate the chain blocks of README.md and docs/ODD.md (``python -m chainsim.chain``)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    for file, marker, text in ((root / "README.md", "chain-diagram", mermaid()),
                               (root / "docs" / "ODD.md", "chain-table", markdown_table())):
        changed = _replace_block(file, marker, text)
        print(f"{file.relative_to(root)}: {'updated' if changed else 'current'}")

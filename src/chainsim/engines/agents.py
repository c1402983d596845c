"""The Offender agent: one human-trafficking offender moving through the chain.

An offender owns its behaviour: on entering a stage it draws (from its own
per-mechanism random streams) how long it stays and where it goes next, and
schedules that as one event on the model's event list. Nothing counts down month
by month. The steps it passes, the draws each takes (stream and order), the
durations' parameters and every branch it records come from the chain table
(:mod:`chainsim.chain`): the method ``enter_<step>`` enters a step, and every move
goes through :meth:`Offender.take`. The rules themselves (hazards, branch
probabilities, duration distributions, the conditional-release rule) come from
:mod:`chainsim.chain.spec`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from chainsim import chain
from chainsim.chain import spec
from chainsim.chain.parameters import cached_duration_pmf, cached_sentence_pmf
from chainsim.chain.spec import AGE_GROUPS, FORMS, SEXES, Event, Stage

if TYPE_CHECKING:
    from chainsim.engines.model import ChainModel


class Offender(mesa.Agent):
    """A trafficking offender.

    Attributes:
        offender_id: Stable id (the potential-offender number; equal across
            scenarios under common random numbers).
        form: Index into :data:`chainsim.chain.spec.FORMS`.
        sex: Index into :data:`chainsim.chain.spec.SEXES`.
        birth_year: Year of birth; ``age`` is the age reached in the current calendar
            year (the CBS convention "leeftijd in het jaar"), so everyone ages on 1 January.
        spell_month: Absolute month the current offending spell started.
        age_group: 0 if under 23 at the start of the current offending spell, else 1.
        priors: Prior convictions.
        visibility: How visible to the police the current spell is: 0 a first-timer, 1
            registered at the OM before, 2 a spell begun under supervision (the row of
            :data:`chainsim.chain.spec.SIGNAL_HAZARDS` its signal hazard comes from).
        probation: Whether under probation supervision now.
        stage: Current :class:`chainsim.chain.spec.Stage`.
        history: Dated stage entries ``(month, stage name, event name)``.
    """

    model: ChainModel

    def __init__(self, model: ChainModel, offender_id: int, form: int, age_group: int, sex: int,
                 onset_age: int, priors: int):
        super().__init__(model)
        self.offender_id = offender_id
        self.form = form
        self.sex = sex
        self.age_group = age_group
        self.birth_year = model.month // 12 - onset_age
        self.spell_month = model.month
        self.priors = priors
        self.visibility = spec.VISIBILITY_FIRST
        self.probation = False
        self.stage = Stage.NONE
        self.history: list[tuple[int, str, str]] = []
        self._draws = dict.fromkeys(spec.MECHANISMS, 0)
        self._due = None  # bound method to run at the scheduled stage exit
        self._drop_event = None
        self._charge_month = 0
        self._pretrial_start = 0
        self._pretrial_months = 0
        self._general: list[tuple[int, bool]] = []
        self._custody = 0
        self._conditional = False

    # ------------------------------------------------------------------ helpers

    @property
    def age(self) -> int:
        """Age in years reached in the current calendar year."""
        return self.model.month // 12 - self.birth_year

    @property
    def charge_age(self) -> int:
        """Age at the charged offence: in the month the investigation (or inspection) began.

        The offending a case is about runs up to then (a signalled suspect offends on
        while waiting in the queue); juvenile and adolescent law go by this age.
        """
        return self._charge_month // 12 - self.birth_year

    @property
    def stratum(self) -> tuple[int, int, int]:
        """(form, age group, sex) indices."""
        return self.form, self.age_group, self.sex

    @property
    def labels(self) -> dict[str, str]:
        """Readable attributes."""
        return {"form": FORMS[self.form], "age_group": AGE_GROUPS[self.age_group],
                "sex": SEXES[self.sex]}

    def draw(self, mechanism: str) -> float:
        """This offender's next uniform draw from a mechanism's stream."""
        k = self._draws[mechanism]
        self._draws[mechanism] = k + 1
        return self.model.streams.uniform(mechanism, self.offender_id, k)

    def param(self, name: str) -> float:
        """A parameter's value now, for this offender's stratum."""
        return self.model.params.at(name, self.model.t, *self.stratum)

    def future(self, name: str) -> np.ndarray:
        """A parameter's values from next month to the horizon, for this stratum."""
        return self.model.params.series(name, self.model.t + 1, *self.stratum)

    def passage(self, hazard: str, u: float) -> int:
        """Months after next month until an event with a stratum-level hazard (-1: never).

        ``u`` is the uniform draw deciding it.
        """
        cum = self.model.params.cumulative(hazard)[self.form, self.age_group, self.sex]
        return spec.first_passage_cumulative(cum, self.model.t, u)

    def move(self, to: Stage, event: Event, value: float = np.nan) -> None:
        """Enter stage ``to`` now, recording the transition."""
        self.model.record(self, self.stage, to, event, value)
        self.stage = to
        if self.model.keep_history:
            self.history.append((self.model.month, to.name.lower(), event.name.lower()))

    def schedule(self, months_ahead: int, action) -> None:
        """Run ``action`` (a bound method) ``months_ahead`` months from now, within the horizon."""
        at = self.model.t + months_ahead
        if at <= self.model.params.n_months:
            self._due = action
            self.model.schedule_event(self._fire, at=at)

    def _fire(self) -> None:
        action, self._due = self._due, None
        action()

    def _ages_ahead(self, n: int) -> np.ndarray:
        """Ages in the months after this one (ageing on 1 January)."""
        return (self.model.month + np.arange(1, n + 1)) // 12 - self.birth_year

    # ------------------------------------------------------------ the chain table

    def take(self, step: str, event: str | None, to: str | None = None,
             value: float = np.nan) -> None:
        """Leave ``step`` by its declared branch recording ``event`` (:mod:`chainsim.chain`).

        Records the event and enters the branch's stage; a branch without an event
        (a decision that records nothing) changes nothing.
        """
        stage, ev = _BRANCHES[step, event, to]
        if ev is not None:
            self.move(stage, ev, value)

    def entry_draws(self, step: str) -> list[float]:
        """The draws the step takes on entry, in the declared order and streams."""
        return [self.draw(stream) for stream in _ENTRY[step]]

    def exit_draws(self, step: str) -> list[float]:
        """The draws the step takes when it ends (its decisions), in the declared order."""
        return [self.draw(stream) for stream in _EXIT[step]]

    def wait(self, step: str, u: float, then) -> None:
        """Schedule ``then`` after the step's declared duration (inverse transform of ``u``)."""
        mean, cv = chain.STEP[step].duration
        pmf = cached_duration_pmf(self.param(mean), self.param(cv))
        self.schedule(spec.draw_from_pmf(pmf, u), then)

    # ------------------------------------------------------ undetected offending

    def enter_offending(self, event: Event, new_spell: bool = True) -> None:
        """Enter active, undetected offending and schedule how it ends.

        Four latent times compete (ties in this order): police signal, another
        service's inspection, desistance, an arrest for another offence that exposes the
        trafficking. Until the spell ends, other offences that expose nothing occur
        and may be registered (:func:`chainsim.chain.spec.other_offending`).
        """
        if new_spell:
            self.spell_month = self.model.month
            self.age_group = 0 if self.age < spec.YOUNG_AGE_LIMIT else 1
        self.move(Stage.ACTIVE, event)
        u_signal, u_inspect, u_desist, u_expose = self.entry_draws("offending")
        t = self.model.t
        signal = self.passage(spec.SIGNAL_HAZARDS[self.visibility], u_signal)
        inspect = self.passage("inspection_hazard", u_inspect)
        desist = spec.first_passage_cumulative(
            self.model.desistance_cumulative(self.form, self.age_group, self.sex,
                                             self.birth_year), t, u_desist)
        other = self.model.params.active_offending()
        cell = (self.form, self.age_group, self.sex, min(self.priors, spec.PRIOR_EFFECT_CAP))
        expose = spec.first_passage_cumulative(other["expose_cum"][cell], t, u_expose)
        options = [(k, i) for i, k in enumerate((signal, inspect, desist, expose)) if k >= 0]
        end, which = min(options) if options else (self.model.params.n_months - t, -1)
        self.other_offences(other["other_h"][cell][t + 1: t + 1 + end],
                            other["registered"][t + 1:, self.form, self.age_group, self.sex])
        if which >= 0:
            self.schedule(end + 1, (self.enter_queue, self.enter_inspection, self.desist,
                                    self.exposed)[which])

    def other_offences(self, hazards: np.ndarray, registration: np.ndarray) -> None:
        """Offences of other kinds in the months ahead (one a month at most), scheduled now.

        Each is registered as a new case or not (a point event either way).

        ``hazards``: monthly integrated hazards from next month to the month before the
        spell ends; ``registration``: the probability each registers, from next month.
        """
        if not len(hazards):
            return
        t = self.model.t
        cum = np.cumsum(hazards)
        pos = spec.next_passage(cum, 0, self.draw(_GENERAL))
        while pos >= 0:
            registered = self.draw(_GENERAL) < registration[pos]
            self._general.append((pos + 1, registered))
            self.model.schedule_event(self._general_offence, at=t + pos + 1)
            pos = spec.next_passage(cum, pos + 1, self.draw(_GENERAL))

    def exposed(self) -> None:
        """An arrest for another offence exposes the trafficking: into the queue."""
        self.enter_queue("exposed")

    def desist(self) -> None:
        """Stop offending for good; the agent leaves the model."""
        step = "offending" if self.stage is Stage.ACTIVE else "after_chain"
        self.probation = False
        self.take(step, "desisted")
        self.model.deregister(self)

    # ------------------------------------------------------------ investigation

    def enter_queue(self, event: str = "signalled") -> None:
        """Signalled to the police (or exposed by another arrest): join the queue."""
        self.take("offending", event)
        self.model.enqueue(self)
        (u_drop,) = self.entry_draws("queue")
        drop = self.passage("queue_drop_hazard", u_drop)
        if drop >= 0 and self.model.t + drop + 1 <= self.model.params.n_months:
            self._drop_event = self.model.schedule_event(self.dropped, at=self.model.t + drop + 1)

    def dropped(self) -> None:
        """The signal is not followed up: back to undetected offending."""
        self._drop_event = None
        self.model.dequeue(self)
        self.enter_offending(Event.DROPPED, new_spell=False)

    def enter_investigation(self) -> None:
        """Investigation capacity reaches this suspect (called by the model's queue)."""
        if self._drop_event is not None:
            self._drop_event.cancel()
            self._drop_event = None
        self.take("queue", "investigation_started")
        self._charge_month = self.model.month
        (u,) = self.entry_draws("investigation")
        self.wait("investigation", u, self.traced)

    def enter_inspection(self) -> None:
        """Another service (labour inspectorate, KMar) takes the case up."""
        self.take("offending", "inspected")
        self._charge_month = self.model.month
        (u,) = self.entry_draws("inspection")
        self.wait("inspection", u, self.registered_other)

    def traced(self) -> None:
        """Police investigation ends in the arrest and registration at the OM."""
        self.registered("investigation", "traced")

    def registered_other(self) -> None:
        """Another service's investigation ends in the arrest and registration at the OM."""
        self.registered("inspection", "registered_other")

    def registered(self, step: str, event: str) -> None:
        """Registered at the OM after the arrest: in pre-trial detention or at liberty."""
        (u_detained,) = self.exit_draws(step)
        if u_detained < self.param("pretrial_detention_share"):
            self.take(step, event, "prosecution_detained")
            self._pretrial_start = self.model.t
        else:
            self.take(step, event, "prosecution")
        self.visibility = spec.VISIBILITY_KNOWN
        self.enter_prosecution()

    # ------------------------------------------------------------- prosecution

    def enter_prosecution(self) -> None:
        """Registered at the OM: schedule its decision."""
        (u,) = self.entry_draws("prosecution")
        self.wait("prosecution", u, self.om_decision)

    def om_decision(self) -> None:
        """The OM decides: summons, technical or policy dismissal, or other disposal."""
        (u_outcome,) = self.exit_draws("prosecution")
        probs = spec.om_decision_probabilities(
            self.param("technical_dismissal_share"), self.param("policy_dismissal_share"),
            self.param("other_disposal_share"))
        outcome = spec.OM_OUTCOMES[spec.categorical(probs, u_outcome)]
        if outcome is not Event.SUMMONED:
            self.take("prosecution", outcome.name.lower())
            self.enter_resumption()
            return
        if self.stage is Stage.PROSECUTION_DETAINED:
            self.take("prosecution", "summoned_detained")  # detained since the arrest
        else:
            self.take("prosecution", "summoned")
        self.enter_trial()

    def enter_trial(self) -> None:
        """Summoned: schedule the first-instance judgment."""
        (u,) = self.entry_draws("trial")
        self.wait("trial", u, self.judgment)

    def judgment(self) -> None:
        """First instance: conviction or acquittal; a conviction may be appealed.

        A conviction not appealed is final and sentenced at once; an appealed one
        waits for the appeal, in pre-trial detention if the suspect is detained.
        """
        u_verdict, u_appeal = self.exit_draws("trial")
        detained = self.stage is Stage.PRETRIAL_DETENTION
        if u_verdict >= self.param("conviction_prob"):
            self._end_pretrial(detained)
            self.take("trial", "acquitted")
            self.enter_resumption()
            return
        if u_appeal < self.param("appeal_share"):
            self.take("trial", "appealed_detained" if detained else "appealed")
            self.enter_appeal()
            return
        self._end_pretrial(detained)
        self.take("trial", "convicted")
        self.enter_sentencing()

    def _end_pretrial(self, detained: bool) -> None:
        """Months of pre-trial detention up to now (counted towards a sentence)."""
        self._pretrial_months = self.model.t - self._pretrial_start if detained else 0

    def enter_appeal(self) -> None:
        """The appeal (hoger beroep): schedule its judgment."""
        (u,) = self.entry_draws("appeal")
        self.wait("appeal", u, self.appeal_judgment)

    def appeal_judgment(self) -> None:
        """The court of appeal confirms the conviction (sentenced anew) or acquits."""
        (u_verdict,) = self.exit_draws("appeal")
        self._end_pretrial(self.stage is Stage.APPEAL_DETAINED)
        if u_verdict < self.param("appeal_acquittal_share"):
            self.take("appeal", "acquitted")
            self.enter_resumption()
            return
        self.take("appeal", "convicted")
        self.enter_sentencing()

    def enter_sentencing(self) -> None:
        """A final conviction: the sentence is decided in the same month."""
        self.priors += 1
        u_prison, u_juvenile, u_length = self.entry_draws("sentencing")
        charge_age = self.charge_age
        juvenile = charge_age < spec.JUVENILE_LAW_AGE or (
            charge_age < spec.YOUNG_AGE_LIMIT
            and u_juvenile < self.model.params.at("adolescent_law_share", self.model.t))
        if u_prison >= self.param("prison_prob"):
            self.take("sentencing", "non_custodial")
            self.enter_supervision("probation_share_other")
            return
        mean = self.param("prison_months_mean")
        if juvenile:
            mean *= self.model.params.at("juvenile_sentence_factor", self.model.t)
        pmf = cached_sentence_pmf(max(mean, 1.0), self.param("prison_months_cv"),
                                  spec.JUVENILE_MAX_MONTHS if juvenile else None)
        sentence = spec.draw_from_pmf(pmf, u_length)
        self.take("sentencing", "prison", value=float(sentence))
        served = int(spec.time_served(sentence, juvenile))
        self.enter_prison(served, conditional=served < sentence)

    def enter_prison(self, served: int, conditional: bool) -> None:
        """Serve the time the conditional-release rule leaves, less pre-trial detention."""
        remaining = served - self._pretrial_months
        self._custody = max(served, self._pretrial_months)
        self._conditional = conditional
        if remaining <= 0:
            self.released()
        else:
            self.schedule(remaining, self.released)

    def released(self) -> None:
        """Release from prison (conditional release where the rules allow it)."""
        self.take("prison", "released", value=float(self._custody))
        self.enter_supervision("probation_share_prison", self._conditional)

    def enter_supervision(self, share: str, conditional: bool = False) -> None:
        """Supervision or not, on release or with a non-custodial sentence.

        Allocation follows risk (:func:`chainsim.chain.spec.supervision_probability`).
        """
        (u,) = self.entry_draws("supervision")
        points = spec.supervision_risk_points(self.priors >= 2,
                                              self.charge_age < spec.YOUNG_AGE_LIMIT, conditional)
        p = spec.supervision_probability(self.param(share),
                                         self.param("supervision_risk_factor"), points)
        if u < p:
            pmf = cached_duration_pmf(self.param("probation_months"), self.param("probation_cv"))
            months = spec.draw_from_pmf(pmf, self.draw(_BRANCH_DRAW))
            if self.model.params.at("probation_capacity", self.model.t) > 0:
                self.model.request_supervision(self, months)  # decided at the month's end
            else:
                self.start_supervision(months)
        else:
            self.take("supervision", None)
            self.enter_after_chain()

    def start_supervision(self, months: int) -> None:
        """Supervision starts: ``months`` of it, then life after the chain."""
        self.probation = True
        self.take("supervision", "probation_start", value=float(months))
        self.enter_after_chain(months)

    def refuse_supervision(self, months: int) -> None:
        """No place under the probation capacity: life after the chain, unsupervised."""
        self.take("supervision", "probation_refused", value=float(months))
        self.enter_after_chain()

    def enter_resumption(self) -> None:
        """After a case without a sanction: back to offending at once, or life after the chain."""
        (u,) = self.entry_draws("resumption")
        if u < self.param("resume_share"):
            self.enter_offending(Event.RESUMED)
        else:
            self.take("resumption", None)
            self.enter_after_chain()

    # ----------------------------------------------------------- after the chain

    def enter_after_chain(self, supervised_months: int = 0) -> None:
        """At liberty after the chain: schedule reoffending, desistance, other offences.

        Reoffending (back into trafficking), desistance and, while supervised, revocation
        compete (ties in that order). Until the spell ends, offences of other kinds occur
        with a monthly probability and are registered with a probability.
        Supervision multiplies both reoffending hazards while it lasts.
        """
        params = self.model.params
        t = self.model.t
        n = params.n_months - t
        supervised = np.arange(n) < supervised_months
        ratio = self.future("probation_hazard_ratio")
        factor = params["prior_hazard_factor"][t + 1:, 0, 0, 0]
        reoffend_p = spec.reoffending_probability(
            self._after_chain("reoffend_hazard", supervised), self.priors, factor, supervised,
            ratio)
        general_p = spec.reoffending_probability(
            self._after_chain("general_offence_hazard", supervised), self.priors, factor,
            supervised, ratio)
        desist_p = spec.desistance_probability(
            self._after_chain("post_desistance_hazard", supervised), self._ages_ahead(n),
            params["desistance_age_factor"][t + 1:, 0, 0, 0])
        revoke_p = np.where(supervised, self.future("revocation_hazard"), 0.0)
        u_reoffend, u_desist, u_revoke = self.entry_draws("after_chain")
        reoffend = spec.first_passage(reoffend_p, u_reoffend)
        desist = spec.first_passage(desist_p, u_desist)
        revoke = spec.first_passage(revoke_p, u_revoke)
        ends = [(k, i) for i, k in enumerate((reoffend, desist, revoke)) if k >= 0]
        end, which = min(ends) if ends else (n, -1)
        # other offences, one month at most each, in the months before the spell ends
        self.other_offences(spec.monthly_hazard(general_p[:end]),
                            self.future("general_registration_prob"))
        if 0 < supervised_months < end + 1 and t + supervised_months <= params.n_months:
            self.model.schedule_event(self._end_probation, at=t + supervised_months)
        if which >= 0:
            self.schedule(end + 1, (self.reoffended, self.desist, self.revoked)[which])

    def _after_chain(self, name: str, supervised: np.ndarray) -> np.ndarray:
        """An after-chain parameter ahead: its supervised variant while supervised."""
        plain = self.future(name)
        if not supervised.any():
            return plain
        return np.where(supervised, self.future(name + spec.SUPERVISED_SUFFIX), plain)

    def _general_offence(self) -> None:
        _, registered = self._general.pop(0)
        self.model.record(self, self.stage, self.stage, Event.GENERAL_OFFENCE)
        if registered:
            self.model.record(self, self.stage, self.stage, Event.GENERAL_CASE)

    def _end_probation(self) -> None:
        self.probation = False
        self.take("after_chain", "probation_end")

    def revoked(self) -> None:
        """Supervision revoked: back to custody for the months a recall lasts."""
        pmf = cached_duration_pmf(self.param("recall_months"), self.param("recall_cv"))
        months = spec.draw_from_pmf(pmf, self.draw(_REVOKE_DRAW))
        self.probation = False
        self.take("after_chain", "revoked", value=float(months))
        self.enter_recall(months)

    def enter_recall(self, months: int) -> None:
        """Back in custody after a revocation; released without new supervision."""
        self._custody = months
        self.schedule(months, self.recall_released)

    def recall_released(self) -> None:
        """Released from a recall: life after the chain, unsupervised."""
        self.take("recall", "released", value=float(self._custody))
        self.enter_after_chain()

    def reoffended(self) -> None:
        """Back into trafficking: a new offending spell (seen sooner if begun under supervision)."""
        self.visibility = (spec.VISIBILITY_SUPERVISED if self.probation
                           else spec.VISIBILITY_KNOWN)
        self.probation = False
        self.enter_offending(Event.REOFFENDED)


def _branch_table() -> dict[tuple[str, str | None, str | None], tuple[Stage, Event | None]]:
    """Every declared branch as (stage entered, event), by (step, event) and (step, event, to)."""
    out = {}
    for step in chain.STEPS:
        for b in step.branches:
            value = (Stage[b.to.upper()], Event[b.event.upper()] if b.event else None)
            out[step.name, b.event, b.to] = value
            out.setdefault((step.name, b.event, None), value)
    return out


_BRANCHES = _branch_table()
_ENTRY = {s.name: [d.stream for d in s.on_entry if not d.repeated] for s in chain.STEPS}
_EXIT = {s.name: [d.stream for d in s.on_exit if not d.repeated] for s in chain.STEPS}
(_BRANCH_DRAW,) = (d.stream for d in chain.STEP["supervision"].branch("probation_start").draws)
(_REVOKE_DRAW,) = (d.stream for d in chain.STEP["after_chain"].branch("revoked").draws)
(_GENERAL,) = (d.stream for d in chain.STEP["after_chain"].on_entry if d.repeated)
if [d.stream for d in chain.STEP["offending"].on_entry if d.repeated] != [_GENERAL]:
    raise RuntimeError("chainsim.engines.agents: other offences draw from one stream")


def step_handlers() -> dict[str, object]:
    """The agent model's handler of every step of the chain: the method that enters it.

    The entry step is the model's (:meth:`chainsim.engines.model.ChainModel._new_offender`);
    the conformance test (``tests/chain/test_steps.py``) checks there is one per declared step.
    """
    from chainsim.engines.model import ChainModel

    handlers = {s.name: getattr(Offender, f"enter_{s.name}", None) for s in chain.STEPS}
    handlers["entry"] = getattr(ChainModel, "_new_offender", None)
    return {k: v for k, v in handlers.items() if v is not None}

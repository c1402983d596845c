"""The Offender agent: one human-trafficking offender moving through the chain.

An offender owns its behaviour: on entering a stage it draws (from its own
per-mechanism random streams) how long it stays and where it goes next, and
schedules that as one event on the model's event list. Nothing counts down month
by month. The rules themselves (hazards, branch probabilities, durations, the
conditional-release rule) come from :mod:`chainsim.spec`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from chainsim import spec
from chainsim.parameters import cached_duration_pmf, cached_sentence_pmf
from chainsim.spec import AGE_GROUPS, FORMS, SEXES, Event, Stage

if TYPE_CHECKING:
    from chainsim.model import ChainModel


class Offender(mesa.Agent):
    """A trafficking offender.

    Attributes:
        offender_id: Stable id (the potential-offender number; equal across
            scenarios under common random numbers).
        form: Index into :data:`chainsim.spec.FORMS`.
        sex: Index into :data:`chainsim.spec.SEXES`.
        birth_year: Year of birth; ``age`` is the age reached in the current calendar
            year (the CBS convention "leeftijd in het jaar"), so everyone ages on 1 January.
        spell_month: Absolute month the current offending spell started.
        age_group: 0 if under 23 at the start of the current offending spell, else 1.
        priors: Prior convictions.
        probation: Whether under probation supervision now.
        stage: Current :class:`chainsim.spec.Stage`.
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
        self.probation = False
        self.stage = Stage.NONE
        self.history: list[tuple[int, str, str]] = []
        self._draws = dict.fromkeys(spec.MECHANISMS, 0)
        self._due = None  # bound method to run at the scheduled stage exit
        self._drop_event = None
        self._pretrial_start = 0
        self._pretrial_months = 0
        self._general: list[tuple[int, bool]] = []
        self._custody = 0

    # ------------------------------------------------------------------ helpers

    @property
    def age(self) -> int:
        """Age in years reached in the current calendar year."""
        return self.model.month // 12 - self.birth_year

    @property
    def offence_age(self) -> int:
        """Age at the start of the current offending spell (the offence)."""
        return self.spell_month // 12 - self.birth_year

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

    def passage(self, hazard: str, mechanism: str) -> int:
        """Months after next month until an event with a stratum-level hazard (-1: never)."""
        cum = self.model.params.cumulative(hazard)[self.form, self.age_group, self.sex]
        return spec.first_passage_cumulative(cum, self.model.t, self.draw(mechanism))

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

    # ------------------------------------------------------ undetected offending

    def start_offending(self, event: Event, new_spell: bool = True) -> None:
        """Enter active, undetected offending and schedule how it ends.

        Three latent times compete (ties in this order): police signal,
        another service's inspection, desistance.
        """
        if new_spell:
            self.spell_month = self.model.month
            self.age_group = 0 if self.age < spec.YOUNG_AGE_LIMIT else 1
        self.move(Stage.ACTIVE, event)
        signal = self.passage("signal_hazard", "detection")
        inspect = self.passage("inspection_hazard", "detection")
        desist = spec.first_passage_cumulative(
            self.model.desistance_cumulative(self.form, self.age_group, self.sex,
                                             self.birth_year),
            self.model.t, self.draw("desistance"))
        options = [(k, i) for i, k in enumerate((signal, inspect, desist)) if k >= 0]
        if not options:
            return
        k, which = min(options)
        action = (self.signalled, self.inspected, self.desist)[which]
        self.schedule(k + 1, action)

    def desist(self) -> None:
        """Stop offending for good; the agent leaves the model."""
        self.probation = False
        self.move(Stage.DESISTED, Event.DESISTED)
        self.model.deregister(self)

    # ------------------------------------------------------------ investigation

    def signalled(self) -> None:
        """Signalled to the police: join the investigation queue."""
        self.move(Stage.SIGNALLED, Event.SIGNALLED)
        self.model.enqueue(self)
        drop = self.passage("queue_drop_hazard", "investigation")
        if drop >= 0 and self.model.t + drop + 1 <= self.model.params.n_months:
            self._drop_event = self.model.schedule_event(self.dropped, at=self.model.t + drop + 1)

    def dropped(self) -> None:
        """The signal is not followed up: back to undetected offending."""
        self._drop_event = None
        self.model.dequeue(self)
        self.start_offending(Event.DROPPED, new_spell=False)

    def start_investigation(self) -> None:
        """Investigation capacity reaches this suspect (called by the model's queue)."""
        if self._drop_event is not None:
            self._drop_event.cancel()
            self._drop_event = None
        self.move(Stage.INVESTIGATION, Event.INVESTIGATION_STARTED)
        self._investigate(self.traced)

    def inspected(self) -> None:
        """Another service (labour inspectorate, KMar) takes the case up."""
        self.move(Stage.INSPECTION, Event.INSPECTED)
        self._investigate(self.registered_other)

    def _investigate(self, then) -> None:
        pmf = cached_duration_pmf(self.param("investigation_months"),
                                  self.param("investigation_cv"))
        self.schedule(spec.draw_from_pmf(pmf, self.draw("investigation")), then)

    def traced(self) -> None:
        """Police investigation ends in registration at the OM."""
        self._register(Event.TRACED)

    def registered_other(self) -> None:
        """Another service's investigation ends in registration at the OM."""
        self._register(Event.REGISTERED_OTHER)

    def _register(self, event: Event) -> None:
        self.move(Stage.PROSECUTION, event)
        pmf = cached_duration_pmf(self.param("om_decision_months"), self.param("om_decision_cv"))
        self.schedule(spec.draw_from_pmf(pmf, self.draw("prosecution")), self.om_decision)

    # ------------------------------------------------------------- prosecution

    def om_decision(self) -> None:
        """The OM decides: summons, technical or policy dismissal, or other disposal."""
        probs = spec.om_decision_probabilities(
            self.param("technical_dismissal_share"), self.param("policy_dismissal_share"),
            self.param("other_disposal_share"))
        outcome = spec.OM_OUTCOMES[spec.categorical(probs, self.draw("prosecution"))]
        detained = self.draw("prosecution") < self.param("pretrial_detention_share")
        if outcome is not Event.SUMMONED:
            self.move(Stage.FREE, outcome)
            self.start_post_chain()
            return
        if detained:
            self.move(Stage.PRETRIAL_DETENTION, Event.SUMMONED_DETAINED)
            self._pretrial_start = self.model.t
        else:
            self.move(Stage.TRIAL, Event.SUMMONED)
        pmf = cached_duration_pmf(self.param("trial_months"), self.param("trial_cv"))
        self.schedule(spec.draw_from_pmf(pmf, self.draw("trial")), self.judgment)

    def judgment(self) -> None:
        """The court decides: conviction or acquittal; a conviction is sentenced at once."""
        self._pretrial_months = (self.model.t - self._pretrial_start
                                 if self.stage is Stage.PRETRIAL_DETENTION else 0)
        if self.draw("trial") >= self.param("conviction_prob"):
            self.move(Stage.FREE, Event.ACQUITTED)
            self.start_post_chain()
            return
        self.move(Stage.SENTENCING, Event.CONVICTED)
        self.priors += 1
        self._sentence()

    def _sentence(self) -> None:
        u_prison, u_juvenile, u_length = (self.draw("sentencing") for _ in range(3))
        offence_age = self.offence_age
        juvenile = offence_age < spec.JUVENILE_LAW_AGE or (
            offence_age < spec.YOUNG_AGE_LIMIT
            and u_juvenile < self.model.params.at("adolescent_law_share", self.model.t))
        if u_prison >= self.param("prison_prob"):
            self.move(Stage.FREE, Event.NON_CUSTODIAL)
            self._maybe_supervise("probation_share_other")
            return
        mean = self.param("prison_months_mean")
        if juvenile:
            mean *= self.model.params.at("juvenile_sentence_factor", self.model.t)
        pmf = cached_sentence_pmf(max(mean, 1.0), self.param("prison_months_cv"),
                                  spec.JUVENILE_MAX_MONTHS if juvenile else None)
        sentence = spec.draw_from_pmf(pmf, u_length)
        self.move(Stage.PRISON, Event.PRISON, float(sentence))
        served = int(spec.time_served(sentence, juvenile))
        remaining = served - self._pretrial_months
        self._custody = max(served, self._pretrial_months)
        if remaining <= 0:
            self.released()
        else:
            self.schedule(remaining, self.released)

    def released(self) -> None:
        """Release from prison (conditional release where the rules allow it)."""
        self.move(Stage.FREE, Event.RELEASED, float(self._custody))
        self._maybe_supervise("probation_share_prison")

    def _maybe_supervise(self, share: str) -> None:
        if self.draw("release") < self.param(share):
            pmf = cached_duration_pmf(self.param("probation_months"), self.param("probation_cv"))
            months = spec.draw_from_pmf(pmf, self.draw("release"))
            self.probation = True
            self.move(Stage.PROBATION, Event.PROBATION_START, float(months))
            self.start_post_chain(months)
        else:
            self.start_post_chain()

    # ----------------------------------------------------------- after the chain

    def start_post_chain(self, supervised_months: int = 0) -> None:
        """At liberty after the chain: schedule reoffending, desistance, other offences.

        Reoffending (back into trafficking) and desistance compete (ties:
        reoffending first). Until the spell ends, offences of other kinds occur
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
        reoffend = spec.first_passage(reoffend_p, self.draw("reoffending"))
        desist = spec.first_passage(desist_p, self.draw("desistance"))
        ends = [(k, i) for i, k in enumerate((reoffend, desist)) if k >= 0]
        end, which = min(ends) if ends else (n, -1)
        # other offences, one month at most each, in the months before the spell ends
        if end > 0:
            general_cum = spec.hazard_to_cumulative(general_p[:end])
            registration = self.future("general_registration_prob")
            pos = spec.next_passage(general_cum, 0, self.draw("general"))
            while pos >= 0:
                registered = self.draw("general") < registration[pos]
                self._general.append((pos + 1, registered))
                self.model.schedule_event(self._general_offence, at=t + pos + 1)
                pos = spec.next_passage(general_cum, pos + 1, self.draw("general"))
        if 0 < supervised_months < end + 1 and t + supervised_months <= params.n_months:
            self.model.schedule_event(self._end_probation, at=t + supervised_months)
        if which >= 0:
            self.schedule(end + 1, (self.reoffended, self.desist)[which])

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
        self.move(Stage.FREE, Event.PROBATION_END)

    def reoffended(self) -> None:
        """Back into trafficking: a new offending spell."""
        self.probation = False
        self.start_offending(Event.REOFFENDED)

"""The chain as a Mesa model on monthly calendar time.

Model time ``t`` counts months from the scenario's start month (``t = 0``). In each
month the events fire in this order:

1. inflow of new offenders (the model's ``step``, Mesa's high-priority schedule);
2. offenders' own scheduled events (stage exits, other offences), in the order
   they were scheduled;
3. the investigation queue is served up to this month's capacity (low priority);
4. with a probation capacity, the month's supervisions are decided (low priority).

The model owns what is shared: the parameter arrays, the random streams, the
investigation queue, the stage counts and the record log.
"""

from __future__ import annotations

import heapq
import math

import mesa
import numpy as np
from mesa.time import Priority, Schedule

from chainsim.chain import spec
from chainsim.chain.parameters import ParameterSet
from chainsim.chain.spec import INFLOW_HEADROOM, Event, Stage
from chainsim.chain.streams import Streams
from chainsim.engines.agents import Offender
from chainsim.engines.records import RecordLog


class ChainModel(mesa.Model):
    """Human-trafficking offenders moving through the Dutch criminal justice chain.

    Args:
        params: Resolved parameter arrays (see :func:`chainsim.chain.parameters.resolve`).
        seed: The replication's seed sequence (or int); it keys every mechanism's
            random stream (see :class:`chainsim.chain.streams.Streams`).
        keep_history: Keep each offender's life history on the agent (the
            records always hold it).

    Attributes:
        params: The parameter arrays.
        streams: The per-mechanism random streams.
        records: The event records.
        stage_counts: Offenders per stage now (index: :class:`Stage`).
        queue: Signalled suspects waiting for investigation, with their place
            ``(month signalled, offender id)``.
    """

    def __init__(self, params: ParameterSet, seed: np.random.SeedSequence | int = 0,
                 keep_history: bool = True):
        ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        super().__init__(rng=int(ss.generate_state(1)[0]))
        self.params = params
        self.streams = Streams(ss)
        self.records = RecordLog()
        self.stage_counts = np.zeros(len(Stage), dtype=np.int64)
        self.queue: dict[Offender, tuple[int, int]] = {}
        self.supervision_requests: list[tuple[Offender, int]] = []
        self.keep_history = keep_history
        self._next_offender_id = 1
        self._capacity_credit = 0.0
        self._desistance_cache: dict[tuple[int, int, int, int], np.ndarray] = {}
        self._initial_pool()
        self.schedule_recurring(self._end_of_month, Schedule(interval=1, start=1),
                                priority=Priority.LOW)

    # ------------------------------------------------------------------ time

    @property
    def t(self) -> int:
        """Model time in whole months since the start month."""
        return int(self.time)

    @property
    def month(self) -> int:
        """Absolute calendar month now."""
        return self.params.start + self.t

    def change_parameters(self, params: ParameterSet) -> None:
        """Go on from the current month with other parameters (the same horizon).

        What has happened stays (agents, records, queue); from the next month on every
        rule reads ``params``. Cached curves that follow the parameters are dropped.
        Used by the dashboard's live run when a lever moves.

        Raises:
            ValueError: If ``params`` covers other months than the run.
        """
        if (params.start, params.n_months) != (self.params.start, self.params.n_months):
            raise ValueError("the new parameters cover other months than the run")
        self.params = params
        self._desistance_cache = {}

    def run(self) -> ChainModel:
        """Run to the scenario's end month."""
        self.run_until(self.params.n_months)
        return self

    # ------------------------------------------------------------------ inflow

    def _initial_pool(self) -> None:
        """Active offenders at the start: the expected steady-state pool per stratum.

        Size: each stratum's monthly inflow divided by its monthly exit hazard at
        the start (signal + inspection + desistance at age 30); a burn-in period
        before the reporting window lets the pool and the chain settle.
        """
        expected = self.params.initial_pool_rates()
        n = self._poisson(expected.sum(), 0)
        for k in range(n):
            self._new_offender(np.cumsum(expected.ravel()), None, spec.POOL_ID_BASE + k, Event.POOL)

    def step(self) -> None:
        """Monthly inflow: potential offenders drawn at the baseline rate, then thinned.

        The count is Poisson with mean ``INFLOW_HEADROOM`` times the baseline
        inflow; each potential offender's stratum follows the baseline mix and it
        becomes an offender with probability (scenario rate / headroom / baseline
        rate) for its stratum, so scenarios that change inflow keep the same
        potential offenders (common random numbers).
        """
        t = self.t
        base_all, ratio_all = self.params.inflow_thinning()
        base, ratio = base_all[t], ratio_all[t]
        cumulative = np.cumsum(base)
        for _ in range(self._poisson(INFLOW_HEADROOM * base.sum(), t)):
            self._new_offender(cumulative, ratio, self._next_offender_id, Event.INFLOW)
            self._next_offender_id += 1

    def _poisson(self, mean: float, t: int) -> int:
        u = self.streams.uniform("inflow", spec.COUNT_ID_BASE + t, 0)
        return int(spec.poisson_quantile(u, mean)) if mean > 0 else 0

    def _new_offender(self, stratum_weights: np.ndarray, accept_ratio: np.ndarray | None,
                      oid: int, event: Event) -> None:
        """Draw one potential offender; thin it; create and start the agent.

        The stratum comes by inverse transform on the cumulative ``stratum_weights``;
        the offender is kept with probability ``accept_ratio[stratum]`` (always if None).
        """
        uniform = self.streams.uniform
        cell = spec.categorical_cumulative(stratum_weights, uniform("inflow", oid, 0))
        if accept_ratio is not None and uniform("inflow", oid, 1) >= accept_ratio[cell]:
            return
        draws = [None, None, *(uniform("inflow", oid, k) for k in range(2, 5))]
        form, age_group, sex = np.unravel_index(cell, (len(spec.FORMS), 2, 2))
        p = self.params
        onset = spec.onset_age(age_group == 0, draws[2], p.at("adult_onset_excess_years", self.t))
        has_priors = draws[3] < p.at("prior_conviction_share", self.t, form)
        priors = spec.prior_convictions(has_priors, draws[4])
        agent = Offender(self, oid, int(form), int(age_group), int(sex), onset, priors)
        agent.enter_offending(event)

    def desistance_cumulative(self, form: int, age_group: int, sex: int,
                              birth_year: int) -> np.ndarray:
        """Cumulative desistance hazard over the horizon, for active offenders.

        One array per stratum and birth year (ages change on 1 January), cached
        for the run.
        """
        key = (form, age_group, sex, birth_year)
        cum = self._desistance_cache.get(key)
        if cum is None:
            p = self.params
            ages = p.months // 12 - birth_year
            prob = spec.desistance_probability(p["desistance_hazard"][:, form, age_group, sex],
                                               ages, p["desistance_age_factor"][:, 0, 0, 0])
            cum = self._desistance_cache[key] = spec.hazard_to_cumulative(prob)
        return cum

    # --------------------------------------------------------- investigation queue

    def enqueue(self, agent: Offender) -> None:
        """Add a signalled suspect to the queue."""
        self.queue[agent] = (self.t, agent.offender_id)

    def dequeue(self, agent: Offender) -> None:
        """Remove a suspect from the queue (signal dropped)."""
        self.queue.pop(agent, None)

    def _end_of_month(self) -> None:
        """The month's last events: the investigation queue, then supervision places."""
        self._serve_queue()
        if self.supervision_requests:
            self._decide_supervision()

    # ------------------------------------------------------------ probation places

    def request_supervision(self, agent: Offender, months: int) -> None:
        """A supervision ordered while the probation capacity is set: decided at the month's end."""
        self.supervision_requests.append((agent, months))

    def _decide_supervision(self) -> None:
        """Start the month's supervisions while places are free, in offender-id order.

        The caseload is the number under supervision at the month's end: whoever left
        supervision this month has freed a place. Those who find no place get none
        (``probation_refused``) and go on unsupervised.
        """
        places = math.floor(self.params.at("probation_capacity", self.t))
        requests = sorted(self.supervision_requests, key=lambda r: r[0].offender_id)
        self.supervision_requests = []
        for agent, months in requests:
            if self.stage_counts[Stage.PROBATION] < places:
                agent.start_supervision(months)
            else:
                agent.refuse_supervision(months)

    def _serve_queue(self) -> None:
        """Start as many investigations as this month's capacity allows, first come first.

        Order: month signalled, then offender id (so the order never depends on
        how events within a month happen to be sequenced). Capacity is
        ``investigation_capacity / 12`` a month; the fractional part carries over,
        unused whole places do not, so starts in any year never exceed the year's
        capacity by more than one.
        """
        self._capacity_credit += self.params.at("investigation_capacity", self.t) / 12.0
        n = min(len(self.queue), math.floor(self._capacity_credit))
        self._capacity_credit = min(self._capacity_credit - n, 1.0)
        if n == 0:
            return
        for agent in heapq.nsmallest(n, self.queue, key=self.queue.__getitem__):
            del self.queue[agent]
            agent.enter_investigation()

    # ---------------------------------------------------------------- bookkeeping

    def record(self, agent: Offender, from_stage: Stage, to_stage: Stage, event: Event,
               value: float = np.nan) -> None:
        """Log a transition (or a point event when the stages are equal)."""
        if from_stage != to_stage:
            if from_stage != Stage.NONE:
                self.stage_counts[from_stage] -= 1
            self.stage_counts[to_stage] += 1
        self.records.append(agent.offender_id, self.month, int(from_stage), int(to_stage),
                            int(event), agent.form, agent.age, agent.age_group,
                            agent.sex, agent.priors, agent.probation, value)

    def deregister(self, agent: Offender) -> None:
        """Remove an offender who has desisted (its records stay)."""
        agent.remove()

"""The live run: the Mesa agent model stepped month by month for the dashboard.

:class:`LiveRun` wraps :class:`chainsim.engines.model.ChainModel` by composition: it steps
the model one month at a time, keeps the stage counts of every month for the
"over time" view, and reads each offender's life history from the model's event
records. The same parameters and seed give the same records as the fast engine's
projection, so the live run traces the projection exactly.

When the levers move mid-run the live run is not thrown away: :meth:`LiveRun.switch`
hands the model the new scenario's parameters and it goes on from the current month
(what has happened stays; every later draw uses the new levers). The months where
that happened are kept in :attr:`LiveRun.changes`, for the charts and the page.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from chainsim import chain
from chainsim.analysis.flows import WINDOW
from chainsim.chain.months import format_month
from chainsim.chain.parameters import ParameterSet
from chainsim.chain.spec import Stage
from chainsim.engines.model import ChainModel

CHAIN_STAGES: tuple[Stage, ...] = tuple(
    Stage[s.name.upper()] for s in chain.STAGES if s.in_chain and not s.transient)
"""Stages inside the criminal justice chain (shown in the stage-count chart): the chain table's."""

AGENT_VIEW_STAGES: tuple[Stage, ...] = (Stage.ACTIVE, *CHAIN_STAGES, Stage.FREE)
"""Stages of the agent view, in chain order."""


@dataclass(frozen=True)
class HistoryRow:
    """One dated entry of an offender's life history.

    Attributes:
        month: Absolute calendar month.
        event: Event name (:class:`chainsim.chain.spec.Event`).
        stage: Stage entered (the same stage for point events).
        value: Months for sentence, release and supervision events, else ``None``.
        age: Age in that year.
        probation: Under supervision at the event.
    """

    month: int
    event: str
    stage: str
    value: float | None
    age: int
    probation: bool

    @property
    def date(self) -> str:
        """``YYYY-MM``."""
        return format_month(self.month)


@dataclass(frozen=True)
class OffenderHistory:
    """An offender's attributes and life history (from the records).

    Attributes:
        offender_id: The offender's id.
        form: Form of exploitation.
        sex: Sex.
        age_group: Age group at the offence (latest spell).
        rows: The dated entries, oldest first.
    """

    offender_id: int
    form: str
    sex: str
    age_group: str
    rows: tuple[HistoryRow, ...]

    @property
    def summary(self) -> dict[str, int]:
        """Counts of the key events: convictions, prison terms, supervisions, reoffending."""
        events = [r.event for r in self.rows]
        return {name: events.count(name) for name in chain.check_events(
            ("convicted", "prison", "probation_start", "reoffended"), "OffenderHistory")}


class LiveRun:
    """The agent model of one scenario, stepped month by month.

    Args:
        params: Resolved parameters of the scenario.
        seed: The run's seed (the same seed as the projection gives the same records).

    Attributes:
        model: The Mesa model.
        lock: Held while stepping; hold it to read a consistent state from another thread.
        counts: Stage counts after every simulated month, shape ``(months so far + 1,
            stages)`` (row 0: the start).
    """

    def __init__(self, params: ParameterSet, seed: int = 1, key: str = ""):
        self.params = params
        self.seed = seed
        self.key = key
        self.lock = threading.RLock()
        self.changes: list[int] = []
        self._model: ChainModel | None = None
        self._counts: list[np.ndarray] = []

    def switch(self, params: ParameterSet, key: str = "") -> bool:
        """Go on from the current month with other parameters (the levers moved).

        Before the first month nothing has happened and the run simply takes the new
        parameters; later the model keeps its offenders, queue and records, and every
        draw from now on reads the new parameters (events already scheduled, such as a
        sentence being served, keep their dates). The month is added to
        :attr:`changes`.

        Args:
            params: The new scenario's resolved parameters.
            key: What identifies them (the scenario's config hash).

        Returns:
            ``False`` (and nothing changed) if the new scenario covers other months:
            the run must then restart.
        """
        with self.lock:
            if (params.start, params.n_months) != (self.params.start, self.params.n_months):
                return False
            self.params, self.key = params, key
            if self._model is None or self._model.t == 0:
                self._model = None
                self._counts = []
                return True
            self._model.change_parameters(params)
            if not self.changes or self.changes[-1] != self.month:
                self.changes.append(self.month)
            return True

    @property
    def model(self) -> ChainModel:
        """The Mesa model, built on first use (building it draws the initial pool)."""
        with self.lock:
            if self._model is None:
                self._model = ChainModel(self.params, self.seed, keep_history=True)
                self._counts = [self._model.stage_counts.copy()]
            return self._model

    @property
    def t(self) -> int:
        """Months simulated so far."""
        return self._model.t if self._model is not None else 0

    @property
    def month(self) -> int:
        """The current absolute calendar month."""
        return self.params.start + self.t

    @property
    def window_start(self) -> int:
        """January of the source's first year (2015), as an absolute month."""
        return WINDOW[0] * 12

    @property
    def done(self) -> bool:
        """Whether the run has reached the scenario's end."""
        return self.t >= self.params.n_months

    @property
    def counts(self) -> np.ndarray:
        """Stage counts per month so far."""
        _ = self.model
        return np.asarray(self._counts)

    @property
    def months(self) -> np.ndarray:
        """Absolute months of the rows of :attr:`counts`."""
        return self.params.start + np.arange(max(len(self._counts), 1))

    def step(self, months: int = 1) -> int:
        """Advance up to ``months`` months (not past the end); returns how many were run."""
        with self.lock:
            model = self.model
            n = max(0, min(int(months), self.params.n_months - model.t))
            for _ in range(n):
                model.run_for(1)
                self._counts.append(model.stage_counts.copy())
            return n

    def agents_by_stage(self, limit: int = 0) -> dict[Stage, list[int]]:
        """Offender ids per stage now, in id order (at most ``limit`` each if > 0)."""
        out: dict[Stage, list[int]] = {stage: [] for stage in AGENT_VIEW_STAGES}
        for agent in self.model.agents:
            ids = out.get(agent.stage)
            if ids is not None:
                ids.append(agent.offender_id)
        for stage, ids in out.items():
            ids.sort()
            if limit > 0:
                out[stage] = ids[:limit]
        return out

    def history(self, offender_id: int) -> OffenderHistory | None:
        """An offender's life history from the records (``None`` if unknown)."""
        records = self.model.records.to_frame()
        rows = records[records["agent_id"] == offender_id]
        if rows.empty:
            return None
        out = tuple(
            HistoryRow(month=int(r.month), event=str(r.event), stage=str(r.to_stage),
                       value=None if r.value != r.value else float(r.value), age=int(r.age),
                       probation=bool(r.probation))
            for r in rows.itertuples(index=False))
        last = rows.iloc[-1]
        return OffenderHistory(int(offender_id), str(last["form"]), str(last["sex"]),
                               str(last["age_group"]), out)

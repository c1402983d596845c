"""The vectorised engine: the agent model's chain computed for many offenders at once.

:func:`run_fast` reproduces :class:`chainsim.engines.model.ChainModel` exactly: the same
parameters and seed give the same records (the same rows; within one offender
and month, the same order of events) and the same stage counts at the end. It
reads the same chain specification (:mod:`chainsim.chain.spec`), the same parameter
arrays and cached distributions (:mod:`chainsim.chain.parameters`) and the same
counter-based random streams (:mod:`chainsim.chain.streams`), and makes every decision
from the same uniform number with the same floating-point operations.

Why it can be exact and fast: an offender's draws are keyed by (mechanism,
offender id, the offender's own draw count), so what happens to one offender
depends on nobody else, except through the police investigation queue (served in
(month signalled, offender id) order up to a monthly capacity). The engine runs
every offender's life forward in batches, with NumPy, until the life ends or
reaches the queue (a police signal); only the queue is simulated month by month,
in plain Python. When the queue serves or drops a suspect, the rest of that life
is again computed in batches, up to the next signal.

Batches are formed lazily, each as late as the first month in which its outcome
could reach the queue, so that few, large batches do the work. That month is known
in advance without consuming any draw, because a draw is a pure function of its
counter: a new offending spell is due by its signal month (or four months after
an inspection: investigation, OM decision and reoffending take a month each, and
the new spell's signal another), which its two detection draws give; an
investigation is due by a lower bound on when it could lead to a new signal (its
investigation and OM decision times, then the soonest reoffending and signal at
the highest hazards), which the draws it will take give. The records are written
at the end from what each batch logged, and the other offences after the chain
(which change nothing else) are drawn at the end too.

Within one offender and month, records are ordered as the agent model makes them
(:data:`_RANK`); across offenders the table is in month, then offender id, order.

Exactness rests on two things the tests check (``tests/engines/test_fast.py``): NumPy's
element-wise functions (``log``, ``log1p``, ``expm1``, ``power``) give an element the
same result alone or inside an array, and ``cumsum`` adds in order. The loops
NumPy cannot express without (offender x month) matrices or many small calls are
compiled with numba: month-by-month hazard sums and searches in non-decreasing
tables (``_passages``, ``_spell_outcomes``, ``_competing_passages``,
``_ragged_cumsum``, ``_upper_bounds``, ``_general_events``), the draws
(``_uniforms``: the streams' hash, checked against :mod:`chainsim.chain.streams`) and the
lag bounds. They add in the same order and compare the same numbers (no
fast-math), and every logarithm that decides an outcome is taken by NumPy. The
queue is served in plain Python on lists; offenders are indexed in id order, so the
queue and the records need no sort by id. Tables that depend on the parameters only
(:class:`_Tables`) are built once per parameter set and shared by its runs. What
:class:`chainsim.engines.model.ChainModel` computes itself rather than through
:mod:`chainsim.chain.spec` (the initial pool's size, the thinning of the inflow, the
desistance hazard of active offenders, the id bases) is restated here. The draws
each step takes, from which stream and in which order, come from the chain table
(:mod:`chainsim.chain.steps`): :data:`_SPELL_SLOTS` and :data:`_CHAIN_SLOTS` and the
draw counts are derived from it, as the agent model's draws are; what a batch
computes from those draws (:meth:`_Engine.run_chains`) is written here, once per
step, and ``tests/chain/test_steps.py`` checks every branch of the table is produced.
"""

from __future__ import annotations

import math
import weakref
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from itertools import chain as iter_chain
from itertools import repeat

import numpy as np
import pandas as pd
from numba import njit

from chainsim import chain
from chainsim.chain import spec, streams
from chainsim.chain.parameters import ParameterSet, cached_duration_pmf, cached_sentence_pmf
from chainsim.chain.spec import (
    AGE_GROUPS,
    FORMS,
    INFLOW_HEADROOM,
    PRIOR_EFFECT_CAP,
    SEXES,
    SUPERVISED_SUFFIX,
    Event,
    Stage,
)
from chainsim.chain.streams import Streams
from chainsim.engines.records import RecordArrays, records_frame

__all__ = ["FastResult", "run_fast", "run_fast_arms"]

POOL_ID_BASE = spec.POOL_ID_BASE
COUNT_ID_BASE = spec.COUNT_ID_BASE

(_INFLOW, _INVESTIGATION, _GENERAL, _RELEASE, _DETECTION) = (
    spec.MECHANISMS.index(m) for m in ("inflow", "investigation", "general", "release",
                                       "detection"))

_SERVED, _INSPECTED = 0, 1
_NEVER = np.iinfo(np.int64).max // 4
_N_STRATA = len(FORMS) * len(AGE_GROUPS) * len(SEXES)
_N_PRIORS = PRIOR_EFFECT_CAP + 1

_MECH = {name: i for i, name in enumerate(spec.MECHANISMS)}
if (chain.STEP["inspection"].duration != chain.STEP["investigation"].duration
        or chain.STEP["inspection"].on_exit != chain.STEP["investigation"].on_exit):
    raise RuntimeError("chainsim.engines.fast: a batch draws police and other services' "
                       "investigations from one duration and exit draw; the chain table gives "
                       "them different ones")

_CHAIN_PHASES: tuple[tuple[str, str], ...] = (
    ("investigation", "entry"), ("investigation", "exit"), ("prosecution", "entry"),
    ("prosecution", "exit"), ("trial", "entry"), ("trial", "exit"), ("appeal", "entry"),
    ("appeal", "exit"), ("resumption", "entry"), ("sentencing", "entry"),
    ("supervision", "entry"), ("supervision", "branch:probation_start"),
    ("after_chain", "entry"))
"""The phases of the chain a batch of investigations (or inspections) passes, in order.

:meth:`_Engine.run_chains` computes them; their draws, streams and order come from the
chain table (:func:`chainsim.chain.draw_slots`). An inspection's investigation length
and pre-trial detention are its ``inspection`` step's draws, in the same places of the
same streams.
"""

_CHAIN_DRAWS = tuple(d for d in chain.draw_slots((*_CHAIN_PHASES, ("offending", "entry")))
                     if not (d[2] == "offending" and d[0] == "desistance"))
_CHAIN_SLOTS = tuple((_MECH[stream], k) for stream, k, _, _ in _CHAIN_DRAWS)
"""The draws one investigation can take, in each mechanism's order: (mechanism, n-th).

The last three are not taken in the chain: they are the detection draws of a new spell
(after reoffending, or a resumption), looked at to know when it could reach the queue.
"""


def _chain_slot(step: str, k: int = 0) -> int:
    """Column of :data:`_CHAIN_SLOTS` holding the ``k``-th draw of ``step``."""
    return [i for i, d in enumerate(_CHAIN_DRAWS) if d[2] == step][k]


(_U_INVESTIGATION, _U_DECISION_TIME, _U_DECISION, _U_DETAINED, _U_TRIAL_TIME, _U_VERDICT,
 _U_APPEALED, _U_APPEAL_TIME, _U_APPEAL_VERDICT, _U_RESUME, _U_PRISON, _U_JUVENILE, _U_TERM,
 _U_SUPERVISED, _U_SUPERVISION_MONTHS, _U_AFTER) = (
    _chain_slot("investigation"), _chain_slot("prosecution"), _chain_slot("prosecution", 1),
    _chain_slot("investigation", 1), _chain_slot("trial"), _chain_slot("trial", 1),
    _chain_slot("trial", 2), _chain_slot("appeal"), _chain_slot("appeal", 1),
    _chain_slot("resumption"), _chain_slot("sentencing"), _chain_slot("sentencing", 1),
    _chain_slot("sentencing", 2), _chain_slot("supervision"), _chain_slot("supervision", 1),
    _chain_slot("after_chain"))
"""Columns of a batch's draws (:data:`_CHAIN_SLOTS`); from ``_U_AFTER`` on: the after-chain
spell's reoffending, desistance and revocation, then the next spell's three detection
draws."""

_SPELL_DRAWS = chain.draw_slots((("offending", "entry"), ("queue", "entry"),
                                 ("investigation", "entry"), ("investigation", "exit"),
                                 ("prosecution", "entry"), ("offending", "entry"),
                                 ("after_chain", "entry"), ("resumption", "entry")))
_SPELL_SLOTS = tuple((_MECH[stream], k) for stream, k, step, what in _SPELL_DRAWS
                     if not (stream == "desistance" and k > 0)
                     and not (step == "investigation" and stream == "prosecution")
                     and not (step == "after_chain" and stream == "release"))
"""The draws of a new offending spell (signal, inspection, desistance, exposure), then draws
its outcome takes or may take next, looked at (not taken) to know when later work is
due: a signal's drop; the investigation time (after the drop draw if signalled, at
once if inspected) and the OM decision time; the next spell's three detection draws
(after a drop, or after reoffending); the reoffending draw after the chain; the draw
deciding a resumption after a case without sanction. All from the chain table (the
later spells' desistance draws are not needed)."""

_SAFETY = 1.0 + 1e-6
"""Hazards are inflated by this factor in lower bounds on waiting times (rounding)."""

_FAR = 1e6
"""Months standing for "never" in lower bounds on waiting times."""

_SPELL_USE = np.array([chain.draw_use("offending", "entry")[m] for m in spec.MECHANISMS])

_SPELL_USE_SLOTS = _SPELL_SLOTS[:4]
"""The draws a new spell takes (the rest of :data:`_SPELL_SLOTS` is looked at when needed)."""
if not np.array_equal(np.bincount([m for m, _ in _SPELL_USE_SLOTS], minlength=len(_SPELL_USE)),
                      _SPELL_USE):
    raise RuntimeError("chainsim.engines.fast: a spell's own draws must come first in _SPELL_SLOTS")

_CHAIN_USE = np.array([[chain.draw_use(step, phase)[m] for m in spec.MECHANISMS]
                       for step, phase in _CHAIN_PHASES], dtype=np.int64)
"""Draws taken per mechanism for each phase of :data:`_CHAIN_PHASES` reached (rows)."""

_AFTER_STREAMS = tuple(spec.MECHANISMS.index(d.stream)
                       for d in chain.STEP["after_chain"].on_entry if not d.repeated)
"""The after-chain step's draws (reoffending, desistance, revocation), by mechanism."""
_AFTER_USE = np.array([chain.draw_use("after_chain", "entry")[m] for m in spec.MECHANISMS])
if [chain.STEP["offending"].on_entry[k].stream for k in (0, 1, 3)] != ["detection"] * 3:
    raise RuntimeError("chainsim.engines.fast: a spell's draws 0, 1 and 3 must be its detection")

_RANK = np.zeros(len(Event), dtype=np.int64)
"""Order of one offender's events within one month, as the agent model makes them.

Events that can share an offender's month: signalled, then investigation started
(the queue is served last); a dismissal or acquittal, then resumed; convicted, then
prison or non-custodial, then released (pre-trial detention covering the term), then
probation start; an other offence,
then its registration, then the end of probation (scheduled after the offences).
"""
_RANK[[Event.INVESTIGATION_STARTED, Event.PRISON, Event.NON_CUSTODIAL,
       Event.GENERAL_CASE]] = 1
_RANK[[Event.RELEASED, Event.PROBATION_END]] = 2
_RANK[[Event.PROBATION_START, Event.PROBATION_REFUSED]] = 3
_RANK[Event.RESUMED] = 1  # after the dismissal or acquittal of its month

_REQUEST_LAG = 3
"""Months at least from the start of an investigation (or inspection) to a supervision:
the investigation, the OM's decision and the trial last a month or more each
(:func:`chainsim.chain.spec.duration_pmf`)."""

_OM_EVENTS = np.array([int(e) for e in spec.OM_OUTCOMES], dtype=np.int64)


@dataclass
class FastResult:
    """What one run of the vectorised engine produced.

    Attributes:
        columns: The record table's columns (categorical ones as codes: see
            :func:`chainsim.engines.records.records_frame`), in chronological order
            (month, then offender id, then the offender's order of events).
        stage_counts: Offenders per stage at the end (index: :class:`Stage`), as
            :attr:`chainsim.engines.model.ChainModel.stage_counts`.
        by_agent: Row positions in offender order (each offender's rows in their
            order): what :attr:`chainsim.engines.records.RecordArrays.by_agent` computes,
            known here from the engine's offender indexes.
    """

    columns: dict[str, np.ndarray]
    stage_counts: np.ndarray
    by_agent: np.ndarray

    @cached_property
    def records(self) -> pd.DataFrame:
        """The event records (the columns and dtypes of RecordLog.to_frame)."""
        return records_frame(self.columns)

    def arrays(self) -> RecordArrays:
        """The records as the arrays the analyses share (no DataFrame is built)."""
        return RecordArrays.from_columns(self.columns, self.by_agent)


def run_fast(params: ParameterSet, seed: np.random.SeedSequence | int = 0) -> FastResult:
    """Run the chain with the vectorised engine.

    Args:
        params: Resolved parameter arrays (see :func:`chainsim.chain.parameters.resolve`).
        seed: The replication's seed sequence (or int), as for
            :class:`chainsim.engines.model.ChainModel`.

    Returns:
        The records and the final stage counts: identical to the agent model's for
        the same parameters and seed.
    """
    return _Engine(params, seed).run()


# --------------------------------------------------------------------------- helpers


def _cat(chunks: list[np.ndarray]) -> np.ndarray:
    return chunks[0] if len(chunks) == 1 else np.concatenate(chunks)


def _fields(log: list[tuple], n: int) -> list[np.ndarray]:
    return [_cat([entry[i] for entry in log]) for i in range(n)]


def _runs(values: np.ndarray) -> zip:
    """``(value, start, stop)`` of each run of equal values in a sorted array."""
    cut = (np.flatnonzero(values[1:] != values[:-1]) + 1).tolist()
    start = [0, *cut]
    return zip(values[start].tolist(), start, [*cut, len(values)], strict=True)


def _om_outcome(technical, policy, other, u) -> np.ndarray:
    """:func:`chainsim.chain.spec.categorical` on the OM outcome probabilities, for many.

    The cumulative probabilities are summed in NumPy's order and searched the way
    ``numpy.searchsorted`` bisects four entries, so even a summons share a rounding
    error below zero gives the agent model's index.
    """
    c0 = 1.0 - technical - policy - other
    c1 = c0 + technical
    c2 = c1 + policy
    c3 = c2 + other
    v = u * c3
    k = np.where(c2 <= v, np.where(c3 <= v, 4, 3), np.where(c1 <= v, 2, np.where(c0 <= v, 1, 0)))
    return np.minimum(k, len(spec.OM_OUTCOMES) - 1)


# Compiled loops (numba): month-by-month sums and searches on hazard tables, which
# NumPy can only do on whole (offender x month) matrices. They add in the same order
# as numpy.cumsum (no fast-math: no reassociation) and compare exactly, so they give
# the same numbers; logarithms stay in NumPy.


_U_GAMMA, _U_M1, _U_M2 = (np.uint64(v) for v in (streams._GAMMA, streams._M1, streams._M2))
_U_COUNTER_BITS, _U_SCALE = np.uint64(streams._COUNTER_BITS), streams._SCALE


@njit(cache=True, nogil=True, inline="always")
def _mix(z):  # pragma: no cover - compiled
    z = z + _U_GAMMA
    z = (z ^ (z >> np.uint64(30))) * _U_M1
    z = (z ^ (z >> np.uint64(27))) * _U_M2
    return z ^ (z >> np.uint64(31))


@njit(cache=True, nogil=True)
def _uniforms(keys, ids, counters):  # pragma: no cover - compiled
    """:func:`chainsim.chain.streams.uniform_array` of ``(keys[j], ids[i], counters[i, j])``.

    The same SplitMix64 mixing with the stream module's constants, in one pass and
    in unsigned 64-bit arithmetic throughout; ``tests/engines/test_fast.py`` checks it
    against :func:`chainsim.chain.streams.uniform_array`.
    """
    n, k = counters.shape
    out = np.empty((n, k))
    for i in range(n):
        base = np.uint64(ids[i]) << _U_COUNTER_BITS
        for j in range(k):
            z = keys[j] ^ _mix(base | np.uint64(counters[i, j]))
            z = _mix(z)
            out[i, j] = (np.float64(z >> np.uint64(12)) + 0.5) * _U_SCALE
    return out


@njit(cache=True, nogil=True)
def _lower_bound(values, lo, hi, target):  # pragma: no cover - compiled
    """First position in ``values[lo:hi]`` (non-decreasing) holding ``>= target``, else ``hi``."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if values[mid] < target:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True)
def _upper_bounds(cum, rows, u):  # pragma: no cover - compiled
    """Per ``i``: how many of ``cum[rows[i]]`` (non-decreasing) are ``<= u[i]``."""
    width = cum.shape[1]
    out = np.empty(len(rows), dtype=np.int64)
    for i in range(len(rows)):
        lo = 0
        hi = width
        while lo < hi:
            mid = (lo + hi) >> 1
            if cum[rows[i], mid] <= u[i]:
                lo = mid + 1
            else:
                hi = mid
        out[i] = lo
    return out


@njit(cache=True, nogil=True)
def _passages(table, rows, t, target, never):  # pragma: no cover - compiled
    """Per row: the first month ``k > t`` with ``table[row, k] >= target``, else ``never``."""
    width = table.shape[1]
    flat = table.ravel()
    out = np.empty(len(rows), dtype=np.int64)
    for i in range(len(rows)):
        base = rows[i] * width
        k = _lower_bound(flat, base + t[i] + 1, base + width, target[i]) - base
        out[i] = k if k < width else never
    return out


@njit(cache=True, nogil=True)
def _spell_outcomes(signal, inspect, desist, expose, rows_s, c, rows, rows_e, t, target_s,
                    target_i, target_d, target_e, never):  # pragma: no cover - compiled
    """A new spell's first event (signal 0, inspection 1, desistance 2, exposure 3), its month.

    :func:`_passages` of the four tables (rows ``rows_s``, ``c``, ``rows`` and
    ``rows_e``); the earliest wins, ties in that order; ``-1`` and ``never`` if none
    falls within the horizon.
    """
    n = len(t)
    month = np.empty(n, dtype=np.int64)
    which = np.empty(n, dtype=np.int64)
    for i in range(n):
        best = never
        kind = -1
        for k in range(4):
            if k == 0:
                table, row, target = signal, rows_s[i], target_s[i]
            elif k == 1:
                table, row, target = inspect, c[i], target_i[i]
            elif k == 2:
                table, row, target = desist, rows[i], target_d[i]
            else:
                table, row, target = expose, rows_e[i], target_e[i]
            width = table.shape[1]
            flat = table.ravel()
            base = row * width
            at = _lower_bound(flat, base + t[i] + 1, base + width, target) - base
            if at < width and at < best:
                best = at
                kind = k
        month[i] = best
        which[i] = kind
    return month, which


@njit(cache=True, nogil=True)
def _months_bound(log_u, slowness, slack):  # pragma: no cover - compiled
    """A lower bound on :func:`chainsim.chain.spec.first_passage` (0-based), highest hazard given.

    The event needs an integrated hazard ``-log(u)`` (``log_u`` is taken by NumPy),
    so it takes at least ``-log(u) / hazard`` months. ``slowness`` is
    ``1 / (hazard * _SAFETY)`` (infinite for a zero hazard); ``slack`` is taken off
    the integrated hazard needed (the rounding of a cumulative sum searched from its
    middle), and one month less absorbs the rest. Nothing needed is no wait.
    """
    need = max(-log_u - slack, 0.0)
    if need == 0.0:
        return 0
    return max(np.int64(min(np.ceil(need * slowness), _FAR)) - 2, 0)


@njit(cache=True, nogil=True)
def _lag_bound(lag, log_r, log_s, log_i, log_e, slow_r, slow_s, slow_i, slow_e, slack_s,
               slack_i, slack_e, resumes):  # pragma: no cover - compiled
    """:meth:`_Engine.chain_lag` after the investigation and OM decision times ``lag``.

    ``resumes[i]``: the offender could go back to offending at the OM decision (a spell
    starting then, a month sooner than the soonest reoffending). A signal or an exposing
    arrest reaches the queue a month after its spell's soonest month; an inspection five.
    """
    out = np.empty(len(lag), dtype=np.int64)
    for i in range(len(lag)):
        signal = min(_months_bound(log_s[i], slow_s[i], slack_s),
                     _months_bound(log_e[i], slow_e[i], slack_e))
        inspect = _months_bound(log_i[i], slow_i[i], slack_i)
        if resumes[i]:
            out[i] = lag[i] + min(signal + 1, inspect + 5)
            continue
        reoffend = _months_bound(log_r[i], slow_r[i], 0.0)
        out[i] = lag[i] + reoffend + 1 + min(signal + 1, inspect + 5)
    return out


@njit(cache=True, nogil=True)
def _competing_passages(table_r, table_d, table_v, start_r, start_d, start_v, supervised,
                        offset_r, offset_d, target_r, target_d, target_v, ahead,
                        never):  # pragma: no cover - compiled
    """Months (from 0) at which three cumulative hazards first reach their targets.

    Row ``i`` sums ``table_x[start_x[i] + j]`` over months ``j = 0, 1, ...`` (reading
    ``offset_x`` further on while ``j < supervised[i]``; the third only while
    ``j < supervised[i]``, zero after) until a sum reaches its target or ``ahead[i]``
    months have passed; one not reached by then stays ``never`` (all reached in the
    same month are set).
    """
    n = len(start_r)
    first_r = np.full(n, never, dtype=np.int64)
    first_d = np.full(n, never, dtype=np.int64)
    first_v = np.full(n, never, dtype=np.int64)
    for i in range(n):
        sum_r = 0.0
        sum_d = 0.0
        sum_v = 0.0
        for j in range(ahead[i]):
            on = j < supervised[i]
            sum_r += table_r[start_r[i] + j + (offset_r if on else 0)]
            sum_d += table_d[start_d[i] + j + (offset_d if on else 0)]
            if on:
                sum_v += table_v[start_v[i] + j]
            hit_r = sum_r >= target_r[i]
            hit_d = sum_d >= target_d[i]
            hit_v = sum_v >= target_v[i]
            if hit_r or hit_d or hit_v:
                if hit_r:
                    first_r[i] = j
                if hit_d:
                    first_d[i] = j
                if hit_v:
                    first_v[i] = j
                break
    return first_r, first_d, first_v


@njit(cache=True, nogil=True)
def _ragged_cumsum(table, start, supervised, offset, length, out_start,
                   out):  # pragma: no cover - compiled
    """Row ``i``'s cumulative hazard over months ``0 .. length[i] - 1`` into ``out``.

    Month ``j`` reads ``table[start[i] + j]`` (``offset`` further on while
    ``j < supervised[i]``); the sums go to ``out[out_start[i] + j]``.
    """
    for i in range(len(start)):
        total = 0.0
        for j in range(length[i]):
            total += table[start[i] + j + (offset if j < supervised[i] else 0)]
            out[out_start[i] + j] = total
    return out


@njit(cache=True, nogil=True)
def _counting_order(keys, n_keys, order):  # pragma: no cover - compiled
    """``order`` stably re-sorted by ``keys[order]`` (integers in ``0 .. n_keys - 1``).

    One counting-sort pass: rows with equal keys keep their order in ``order``, so
    passes on the less significant key first sort by several keys (LSD).
    """
    start = np.zeros(n_keys + 1, dtype=np.int64)
    for i in range(len(order)):
        start[keys[order[i]] + 1] += 1
    for k in range(n_keys):
        start[k + 1] += start[k]
    out = np.empty(len(order), dtype=np.int64)
    for i in range(len(order)):
        k = keys[order[i]]
        out[start[k]] = order[i]
        start[k] += 1
    return out


def load_compiled() -> None:
    """Load every compiled loop (from numba's cache, or compile it) with the run's types.

    The first call of a compiled function in a process sets up numba's code
    generator (about 0.3 s) and loads the function; the local pool's forkserver
    calls this once (:func:`chainsim.experiments.worker_setup.prepare`), so the workers it
    forks start ready.
    Calls with one-element arrays of the types a run passes; computes nothing useful.
    """
    one_i = np.zeros(1, dtype=np.int64)
    one_f = np.ones(1)
    table = np.ones((1, 2))
    keys = np.zeros(1, dtype=np.uint64)
    for counters in (np.zeros((1, 1), dtype=np.int64), np.zeros((1, 1), dtype=np.int64, order="F")):
        _uniforms(keys, one_i, counters)
    _upper_bounds(table, one_i, one_f)
    _passages(table, one_i, one_i, one_f, _NEVER)
    _spell_outcomes(table, table, table, table, one_i, one_i, one_i, one_i, one_i, one_f, one_f,
                    one_f, one_f, _NEVER)
    _lag_bound(one_i, one_f, one_f, one_f, one_f, one_f, one_f, one_f, one_f, 0.0, 0.0, 0.0,
               np.zeros(1, dtype=np.bool_))
    _competing_passages(one_f, one_f, one_f, one_i, one_i, one_i, one_i, 0, 0, one_f, one_f,
                        one_f, one_i, _NEVER)
    _ragged_cumsum(one_f, one_i, one_i, 0, one_i, one_i, np.empty(1))
    _general_events(one_f, one_i, one_i, one_i, np.zeros((1, 2)), np.ones((1, 2)), one_i,
                    one_i.copy(), one_i.copy(), one_i.copy())
    _counting_order(one_i, 1, one_i)


class _Table:
    """A cumulative-hazard table: rows of non-decreasing sums, searched by :func:`_passages`.

    Attributes:
        table: The rows (C-contiguous).
        filled: How many rows are in use.
    """

    def __init__(self, table: np.ndarray):
        self.table = np.ascontiguousarray(table)
        self.filled = len(table)


class _Rows(_Table):
    """Per-(stratum, birth year) tables over the horizon, computed when first needed.

    Strata whose parameter series are identical share rows.

    Args:
        compute: ``compute(strata, birth_years) -> array (len * per_key, months)``.
        series: The parameter series that distinguish strata, ``(strata, ...)``.
        birth_min: Earliest birth year.
        birth_max: Latest birth year.
        per_key: Rows per (stratum, birth year).
        width: Columns of a row.
    """

    def __init__(self, compute, series: np.ndarray, birth_min: int, birth_max: int,
                 per_key: int, width: int):
        self.compute = compute
        self.per_key = per_key
        self.birth_min = birth_min
        seen: dict[bytes, int] = {}
        self.group = np.array([seen.setdefault(row.tobytes(), len(seen)) for row in
                               np.ascontiguousarray(series.reshape(len(series), -1))])
        self.stratum_of = np.unique(self.group, return_index=True)[1]
        self.index = np.full((len(seen), birth_max - birth_min + 1), -1, dtype=np.int64)
        super().__init__(np.empty((self.index.size * per_key, width)))
        self.filled = 0

    def rows(self, c: np.ndarray, birth_year: np.ndarray) -> np.ndarray:
        """Row numbers (the first of ``per_key``) for strata ``c`` and birth years."""
        g, col = self.group[c], birth_year - self.birth_min
        rows = self.index[g, col]
        missing = rows < 0
        if missing.any():
            width = self.index.shape[1]
            keys = np.unique(g[missing] * width + col[missing])
            kg, kcol = np.divmod(keys, width)
            new = self.compute(self.stratum_of[kg], kcol + self.birth_min)
            self.table[self.filled:self.filled + len(new)] = new
            self.index[kg, kcol] = self.filled + self.per_key * np.arange(len(keys))
            self.filled += len(new)
            rows = self.index[g, col]
        return rows


class _Pmfs:
    """Cumulative duration (or sentence) pmfs by (month, stratum), computed when first needed.

    Args:
        mean: Means ``(months, strata)``.
        cv: Coefficients of variation, same shape.
        sentence: Lognormal prison terms (:func:`chainsim.chain.spec.sentence_pmf`) instead
            of gamma durations (:func:`chainsim.chain.spec.duration_pmf`).
        cap: The juvenile cap of prison terms, or None.
    """

    def __init__(self, mean: np.ndarray, cv: np.ndarray, sentence: bool = False,
                 cap: int | None = None):
        if (mean == mean.flat[0]).all() and (cv == cv.flat[0]).all():
            self.values = np.array([[mean.flat[0], cv.flat[0]]])
            self.ids = np.zeros(mean.shape, dtype=np.int64)
        else:
            pairs = np.empty(mean.shape, dtype=complex)
            pairs.real, pairs.imag = mean, cv
            values, inv = np.unique(pairs.ravel(), return_inverse=True)
            self.values = np.stack([values.real, values.imag], axis=1)
            self.ids = inv.reshape(mean.shape)
        self.sentence = sentence
        self.cap = cap
        self.cum: np.ndarray | None = None
        self.ready = np.zeros(len(self.values), dtype=bool)
        self.single = len(self.values) == 1

    def draw(self, t: np.ndarray, c: np.ndarray, u: np.ndarray) -> np.ndarray:
        """:func:`chainsim.chain.spec.draw_from_pmf` for each row's pmf."""
        if self.single and self.cum is not None:
            return np.minimum(np.searchsorted(self.cum[0], u, side="right"), self.cum.shape[1] - 1)
        ids = self.ids[t, c]
        if not len(ids):
            return ids
        if not self.ready[ids].all():
            for i in np.unique(ids[~self.ready[ids]]).tolist():
                m, v = float(self.values[i, 0]), float(self.values[i, 1])
                pmf = (cached_sentence_pmf(m, v, self.cap) if self.sentence
                       else cached_duration_pmf(m, v))
                if self.cum is None:
                    self.cum = np.zeros((len(self.values), len(pmf)))
                self.cum[i] = np.cumsum(pmf)
                self.ready[i] = True
        if (ids == ids[0]).all():
            k = np.searchsorted(self.cum[ids[0]], u, side="right")
        else:
            k = _upper_bounds(self.cum, ids, u)
        return np.minimum(k, self.cum.shape[1] - 1)


# --------------------------------------------------------------------------- engine


class _Tables:
    """What a run needs from its parameters alone: hazard tables, pmfs, bounds.

    Built once per :class:`ParameterSet` in a process and shared by its runs
    (:func:`_tables`): replications of one scenario differ only in their seeds.
    Every table is a pure function of the parameters (the desistance rows of
    :class:`_Rows` of a (stratum, birth year) too), so sharing changes no number.
    """

    def __init__(self, params: ParameterSet):
        n = params.n_months
        self.n = n
        # a weak proxy: _TABLES must not keep the parameter set (and so itself) alive
        self.params = weakref.proxy(params)
        self.span = 2 * (n + 1)
        self.pool_rates = params.initial_pool_rates()
        self.inflow = params.inflow_thinning()
        # parameters as (time, stratum) tables; stratum = form * 4 + age group * 2 + sex
        self.P = {name: arr.reshape(n + 1, -1) for name, arr in params.values.items()}
        # signal hazards by visibility (spec.SIGNAL_HAZARDS): row visibility * strata + stratum
        self.cum_signal = _Table(np.concatenate([params.cumulative(k).reshape(-1, n + 1)
                                                 for k in spec.SIGNAL_HAZARDS]))
        self.max_resume = self.P["resume_share"].max(axis=0)  # by stratum
        # other offending alongside trafficking: rows stratum * priors
        other = params.active_offending()
        self.cum_expose = _Table(other["expose_cum"].reshape(-1, n + 1))
        self.h_other = np.ascontiguousarray(other["other_h"]).ravel()
        self.reg_other = other["registered"].reshape(n + 1, -1)
        self.cum_inspect = _Table(params.cumulative("inspection_hazard").reshape(-1, n + 1))
        self.cum_drop = _Table(params.cumulative("queue_drop_hazard").reshape(-1, n + 1))
        self.capacity = [float(v) / 12.0 for v in params["investigation_capacity"][:, 0, 0, 0]]
        # probation places by month (0: no limit); ``capped``: a limit in some month
        self.places = params["probation_capacity"][:, 0, 0, 0]
        self.capped = bool((self.places > 0).any())
        self.h_reoffend = self._after_table("reoffend_hazard")
        self.h_general = self._after_table("general_offence_hazard")
        self.h_revoke = np.ascontiguousarray(
            spec.monthly_hazard(self.P["revocation_hazard"]).T).ravel()  # (stratum, month)
        # the highest monthly hazards, for lower bounds on when work can reach the queue
        # (as slowness 1 / hazard: see _months_bound)
        with np.errstate(divide="ignore"):
            self.slow_reoffend = 1.0 / (_SAFETY * self.h_reoffend.reshape(2, _N_STRATA, -1)
                                        .max(axis=(0, 2)))
            self.slow_signal, self.slow_inspect = (
                1.0 / (_SAFETY * np.max([spec.monthly_hazard(self.P[name]).max(axis=0)
                                         for name in names], axis=0)
                       .reshape(-1, 2, 2).max(axis=1).ravel())  # by form * 2 + sex
                for names in (spec.SIGNAL_HAZARDS, ("inspection_hazard",)))
            self.slow_expose = 1.0 / (_SAFETY * other["expose_h"].reshape(
                len(FORMS), 2, 2, -1).max(axis=(1, 3)).ravel())  # by form * 2 + sex
        self.slack_signal, self.slack_inspect, self.slack_expose = (
            8 * float(np.spacing(t.table.max()))
            for t in (self.cum_signal, self.cum_inspect, self.cum_expose))
        # the durations of the chain's steps (by step), and the supervision's length
        self.pmfs = {step.name: _Pmfs(self.P[step.duration[0]], self.P[step.duration[1]])
                     for step in chain.STEPS if step.duration is not None}
        self.pmfs["probation"] = _Pmfs(self.P["probation_months"], self.P["probation_cv"])
        mean, cv = self.P["prison_months_mean"], self.P["prison_months_cv"]
        juvenile = np.maximum(mean * self.P["juvenile_sentence_factor"][:, :1], 1.0)
        self.sentences = (_Pmfs(np.maximum(mean, 1.0), cv, sentence=True),
                          _Pmfs(juvenile, cv, sentence=True, cap=spec.JUVENILE_MAX_MONTHS))
        # every birth year an offender can have: onset ages 16 .. 70 over the horizon
        first, last = params.start // 12, (params.start + n) // 12
        self.birth_range = (first - spec.MAX_ONSET_AGE, last - spec.YOUNG_MIN_ONSET_AGE)
        self.desistance = self._desistance_tables(*self.birth_range)

    def _desistance_tables(self, lo: int, hi: int) -> tuple[_Rows, _Rows]:
        """Desistance rows (while offending, after the chain) for birth years ``lo .. hi``."""
        P, n = self.P, self.n
        return (_Rows(self._desistance_rows, P["desistance_hazard"].T, lo, hi, 1, n + 1),
                _Rows(self._post_desistance_rows,
                      np.stack([P["post_desistance_hazard"].T,
                                P["post_desistance_hazard" + SUPERVISED_SUFFIX].T], axis=1),
                      lo, hi, 2, self.span))

    def desistance_for(self, lo: int, hi: int) -> tuple[_Rows, _Rows]:
        """The shared desistance rows, or new ones if birth years ``lo .. hi`` fall outside."""
        if self.birth_range[0] <= lo and hi <= self.birth_range[1]:
            return self.desistance
        return self._desistance_tables(lo, hi)  # pragma: no cover - onset ages are bounded

    def _after_table(self, name: str) -> np.ndarray:
        """Monthly integrated hazard after the chain by (supervised, stratum, priors, month).

        :func:`chainsim.chain.spec.reoffending_probability` then
        :func:`chainsim.chain.spec.monthly_hazard`
        for every value it can take (priors capped at :data:`PRIOR_EFFECT_CAP`): what
        Offender.enter_after_chain computes month by month for one offender.
        """
        P = self.P
        factor = P["prior_hazard_factor"][:, 0]
        ratio = P["probation_hazard_ratio"].T
        out = np.zeros((2, _N_STRATA, _N_PRIORS, self.span))
        for s, key in enumerate((name, name + SUPERVISED_SUFFIX)):
            supervised = np.full(ratio.shape, bool(s))
            for k in range(_N_PRIORS):
                p = spec.reoffending_probability(P[key].T, k, factor, supervised, ratio)
                out[s, :, k, :self.n + 1] = spec.monthly_hazard(p)
        return out.ravel()

    def _desistance_rows(self, c: np.ndarray, birth_year: np.ndarray) -> np.ndarray:
        """ChainModel.desistance_cumulative for (stratum, birth year) pairs."""
        p = self.params
        ages = p.months[None, :] // 12 - birth_year[:, None]
        prob = spec.desistance_probability(self.P["desistance_hazard"][:, c].T, ages,
                                           p["desistance_age_factor"][:, 0, 0, 0])
        return spec.hazard_to_cumulative(prob)

    def _post_desistance_rows(self, c: np.ndarray, birth_year: np.ndarray) -> np.ndarray:
        """Monthly integrated desistance hazard after the chain: unsupervised, supervised rows."""
        p = self.params
        ages = p.months[None, :] // 12 - birth_year[:, None]
        out = np.zeros((len(c), 2, self.span))
        for s, key in enumerate(("post_desistance_hazard",
                                 "post_desistance_hazard" + SUPERVISED_SUFFIX)):
            prob = spec.desistance_probability(self.P[key][:, c].T, ages,
                                               p["desistance_age_factor"][:, 0, 0, 0])
            out[:, s, :self.n + 1] = spec.monthly_hazard(prob)
        return out.reshape(-1, self.span)


_TABLES: dict[int, tuple[weakref.ref, _Tables]] = {}
"""The tables of the parameter sets in use, by ``id`` (with a weak reference to check it)."""


def _tables(params: ParameterSet) -> _Tables:
    """The parameters' :class:`_Tables`, built on first use and kept while ``params`` lives."""
    key = id(params)
    entry = _TABLES.get(key)
    if entry is not None and entry[0]() is params:
        return entry[1]
    tables = _Tables(params)
    _TABLES[key] = (weakref.ref(params, lambda _, key=key: _TABLES.pop(key, None)), tables)
    return tables


GENERAL_LOOKAHEAD = 8
"""Draws of the ``general`` stream looked at per offender and round (two per offence)."""


@njit(cache=True, nogil=True)
def _general_events(flat, offset, end, stops, log_u, u, active, counter, row,
                    at):  # pragma: no cover - compiled
    """Other offences after the chain, per offender, from its lookahead of draws.

    Offender ``a = active[i]`` searches spell ``row[a]`` (months ``offset .. offset +
    end``, cumulative hazards in ``flat``) from position ``at[a]``: a draw's
    ``-log u`` beyond the last offence's cumulative hazard gives the next offence (then
    the next draw decides its registration) or, if not reached within the spell, moves
    on to the offender's next spell (up to ``stops[a]``). The search stops when the
    lookahead (row ``i`` of ``log_u``/``u``) runs out; ``counter``, ``row`` and ``at``
    keep where each offender is. Returns ``(spell row, month within it, registration
    draw)`` of every offence found, and how many.
    """
    width = log_u.shape[1]
    out = np.empty((len(active) * (width // 2), 3))
    count = 0
    for i in range(len(active)):
        a = active[i]
        j = row[a]
        pos = at[a]
        d = 0
        while j < stops[a] and d < width:
            base = offset[j]
            prev = flat[base + pos - 1] if pos > 0 else 0.0
            k = _lower_bound(flat, base + pos, base + end[j], prev - log_u[i, d]) - base
            if k < end[j]:
                if d + 1 >= width:
                    break  # its registration draw is in the next round
                out[count, 0] = j
                out[count, 1] = k
                out[count, 2] = u[i, d + 1]
                count += 1
                d += 2
                pos = k + 1
            else:
                d += 1
                j += 1
                pos = 0
        counter[a] += d
        row[a] = j
        at[a] = pos
    return out, count


_TABLE_ATTRIBUTES = ("cum_signal", "cum_inspect", "cum_drop", "max_resume", "cum_expose",
                     "h_other", "reg_other", "slow_expose", "slack_expose", "capacity",
                     "places", "capped",
                     "h_reoffend", "h_revoke",
                     "h_general", "slow_reoffend", "slow_signal", "slow_inspect",
                     "slack_signal", "slack_inspect", "pmfs", "sentences")
"""The :class:`_Tables` an engine reads as its own attributes."""

_START_VALUES = ("adult_onset_excess_years", "prior_conviction_share", "desistance_hazard",
                 "desistance_age_factor", "investigation_months", "investigation_cv",
                 "om_decision_months", "om_decision_cv", "resume_share")
"""Parameters :meth:`_Engine.begin` reads directly (the rest through tables: _same_start)."""


def _same_start(a: ParameterSet, b: ParameterSet) -> bool:
    """Whether :meth:`_Engine.begin` does the same on both parameter sets.

    It reads the initial pool and the inflow (create_offenders); the signal,
    inspection, desistance and queue-drop hazards (the spells' outcomes); the
    investigation and OM decision times and the highest hazards (the lower bounds
    on when work is due, chain_lag). Arms of a comparison usually differ in the
    chain after the police, so they begin alike and one begun engine serves them all
    (:func:`run_fast_arms`).
    """
    if (a.start, a.n_months) != (b.start, b.n_months):
        return False
    ta, tb = _tables(a), _tables(b)
    arrays = [(ta.pool_rates, tb.pool_rates), *zip(ta.inflow, tb.inflow, strict=True),
              *((a.values[k], b.values[k]) for k in _START_VALUES)]
    arrays += [(getattr(ta, k).table, getattr(tb, k).table)
               for k in ("cum_signal", "cum_inspect", "cum_drop", "cum_expose")]
    arrays += [(getattr(ta, k), getattr(tb, k)) for k in ("slow_expose", "slow_reoffend",
                                                          "slow_signal",
                                                          "slow_inspect")]
    return (ta.slack_signal, ta.slack_inspect, ta.slack_expose) == (
        tb.slack_signal, tb.slack_inspect, tb.slack_expose) and all(
        np.array_equal(x, y) for x, y in arrays)


def run_fast_arms(params: list[ParameterSet],
                  seed: np.random.SeedSequence | int = 0) -> Iterator[FastResult]:
    """:func:`run_fast` for several parameter sets on one seed (the arms of a comparison).

    Arms that begin alike (:func:`_same_start`) share the work up to every
    offender's first outcome (about a quarter of a run); the results are those of
    separate runs. They are yielded one at a time, so a caller that analyses each
    before asking for the next holds one arm's records at a time (and the begun
    engines of the arms still to come).

    Args:
        params: The arms' resolved parameters.
        seed: The replication's seed sequence (or int).

    Yields:
        One result per parameter set, in order.
    """
    first = _Engine(params[0], seed)
    first.begin()
    branches = [first.branch(p) if _same_start(params[0], p) else None for p in params[1:]]
    yield first.finish()
    del first
    for i, p in enumerate(params[1:]):
        engine, branches[i] = branches[i], None
        yield engine.finish() if engine is not None else _Engine(p, seed).run()


class _Engine:
    """One replication: offender tables, the queue, pending work and logs."""

    def __init__(self, params: ParameterSet, seed: np.random.SeedSequence | int):
        self.n = n = params.n_months
        self.start = params.start
        streams = Streams(seed)
        self.keys = np.array([streams.keys[m] for m in spec.MECHANISMS], dtype=np.uint64)
        self.slot_keys = self.keys[[m for m, _ in _CHAIN_SLOTS]]
        self.slot_mech = np.array([m for m, _ in _CHAIN_SLOTS])
        self.slot_offset = np.array([k for _, k in _CHAIN_SLOTS])
        self.spell_keys = self.keys[[m for m, _ in _SPELL_SLOTS]]
        self.spell_mech = np.array([m for m, _ in _SPELL_SLOTS])
        self.spell_offset = np.array([k for _, k in _SPELL_SLOTS])
        self.span = 2 * (n + 1)  # after-chain tables run on with zero hazard past the horizon
        self.use_tables(params)
        self.pending_spells: list[tuple] = []
        self.pending_chains: list[tuple] = []
        self.spell_due = _NEVER
        self.chain_due = _NEVER
        self.arrivals: list[list[np.ndarray]] = [[] for _ in range(n + 2)]
        self.drops: list[list[tuple]] = [[] for _ in range(n + 2)]
        self.queue_month = 0
        self.spell_log: list[tuple] = []
        self.signal_log: list[tuple] = []
        self.desist_log: list[tuple] = []
        self.chain_log: list[tuple] = []
        self.post_log: list[tuple] = []
        self.recall_log: list[tuple] = []
        self.active_log: list[tuple] = []
        # supervision under a probation capacity: requests waiting for their month's end,
        # the caseload's changes by month, and the decisions taken
        self.requests: list[tuple] = []
        self.request_due = _NEVER
        self.caseload_change = np.zeros(n + 2, dtype=np.int64)
        self.supervision_log: list[tuple] = []

    # ------------------------------------------------------------------ draws

    def draws(self, mechanism: int, ids: np.ndarray, first, count: int) -> np.ndarray:
        """Draws ``first .. first + count - 1`` of a mechanism for ids: (n, count), not consumed.

        ``first`` is a counter for all or one per id. :func:`chainsim.chain.streams.uniform_array`
        with the counters given, compiled.
        """
        counters = np.add.outer(np.broadcast_to(first, len(ids)), np.arange(count))
        return _uniforms(self.keys[[mechanism] * count], ids, counters.astype(np.int64))

    def stratum(self, idx: np.ndarray, age_group: np.ndarray | None = None) -> np.ndarray:
        """Stratum index ``form * 4 + age group * 2 + sex`` (the current age group by default)."""
        ag = self.age_group[idx] if age_group is None else age_group
        return self.form_sex[idx] + 2 * ag

    def passage(self, table: _Table, rows: np.ndarray, t: np.ndarray,
                u: np.ndarray) -> np.ndarray:
        """Month of the first event after ``t`` on cumulative hazards ``table[rows]``.

        :func:`chainsim.chain.spec.first_passage_cumulative` for many offenders: the first
        month ``k > t`` with ``table[row, k] >= table[row, t] - log(u)``; ``_NEVER`` if
        none within the horizon (a binary search in each row).
        """
        target = table.table[rows, t] - np.log(u)
        return _passages(table.table[:table.filled], rows, t, target, _NEVER)

    # ------------------------------------------------------------------ offenders

    def _poisson(self, mean: np.ndarray, t: np.ndarray) -> np.ndarray:
        u = self.draws(_INFLOW, COUNT_ID_BASE + t, 0, 1)[:, 0]
        out = np.zeros(len(t), dtype=np.int64)
        pos = mean > 0
        out[pos] = spec.poisson_quantile(u[pos], mean[pos]).astype(np.int64)
        return out

    def create_offenders(self) -> None:
        """The initial pool (month 0) and every month's inflow, drawn all at once."""
        n = self.n
        # initial pool: ChainModel._initial_pool
        expected = self.tables.pool_rates
        n_pool = int(self._poisson(np.array([expected.sum()]), np.array([0]))[0])
        pool_ids = POOL_ID_BASE + np.arange(n_pool, dtype=np.int64)
        pool_cum = np.cumsum(expected.ravel())
        u0 = self.draws(_INFLOW, pool_ids, 0, 1)[:, 0]
        pool_cell = np.minimum(np.searchsorted(pool_cum, u0 * pool_cum[-1], side="right"),
                               len(pool_cum) - 1)
        # inflow: ChainModel.step at t = 1..n, potential offenders thinned
        base_all, ratio_all = self.tables.inflow
        base, ratio = base_all[1:], ratio_all[1:]
        cumulative = np.cumsum(base, axis=1)
        means = INFLOW_HEADROOM * np.array([row.sum() for row in base])
        months = np.arange(1, n + 1)
        counts = self._poisson(means, months)
        pid = np.arange(1, counts.sum() + 1, dtype=np.int64)
        row = np.repeat(np.arange(n), counts)
        u = self.draws(_INFLOW, pid, 0, 2)
        cumulative = np.ascontiguousarray(cumulative)
        cell = _upper_bounds(cumulative, row, u[:, 0] * cumulative[row, -1])
        cell = np.minimum(cell, base.shape[1] - 1)
        keep = ~(u[:, 1] >= ratio[row, cell])
        # offenders in id order (the kept inflow, then the pool): an offender's index in
        # the engine's tables ranks its id, which orders the queue and the records
        oid = np.concatenate([pid[keep], pool_ids])
        t = np.concatenate([months[row[keep]], np.zeros(n_pool, dtype=np.int64)])
        cell = np.concatenate([cell[keep], pool_cell])
        if len(oid) > 1 and not (oid[1:] > oid[:-1]).all():
            raise RuntimeError("chainsim.engines.fast: offender ids out of order (spec id bases)")
        m = len(oid)
        u = self.draws(_INFLOW, oid, 2, 3)
        form, age_group, sex = np.unravel_index(cell, (len(FORMS), len(AGE_GROUPS), len(SEXES)))
        excess = self.P["adult_onset_excess_years"][t, 0]
        tail = -np.expm1(-(spec.MAX_ONSET_AGE - spec.YOUNG_AGE_LIMIT) / excess)
        adult = spec.YOUNG_AGE_LIMIT + np.floor(-excess * np.log1p(-u[:, 0] * tail))
        young = spec.YOUNG_MIN_ONSET_AGE + np.floor(
            u[:, 0] * (spec.YOUNG_AGE_LIMIT - spec.YOUNG_MIN_ONSET_AGE))
        onset = np.where(age_group == 0, young, adult).astype(np.int64)
        has_priors = u[:, 1] < self.P["prior_conviction_share"][t, form * 4]
        priors = np.where(has_priors, 1 + np.floor(np.log(u[:, 2]) / np.log(0.5)), 0)
        self.oid = oid
        self.form = form.astype(np.int64)
        self.sex = sex.astype(np.int64)
        self.form_sex = self.form * 4 + self.sex
        self.age_group = age_group.astype(np.int64)
        self.priors = priors.astype(np.int64)
        self.birth_year = (self.start + t) // 12 - onset
        self.spell_month = self.start + t
        self.visibility = np.full(m, spec.VISIBILITY_FIRST, dtype=np.int64)
        self.counters = np.zeros((m, len(spec.MECHANISMS)), dtype=np.int64)
        self.q_token = [-1] * m
        self.served: tuple[list[int], list[int]] = ([], [])
        self.dropped: tuple[list[int], list[int]] = ([], [])
        self.lag = [4] * m  # per offender: see chain_lag (a list: read one by one by the queue)
        lo, hi = int(self.birth_year.min()), int(self.birth_year.max())
        self.desistance, self.post_desistance = self.tables.desistance_for(lo, hi)
        idx = np.arange(m, dtype=np.int64)
        event = np.where(t == 0, int(Event.POOL), int(Event.INFLOW))
        self.add_spells(idx, t, event, np.ones(m, dtype=bool), np.full(m, int(Stage.NONE)),
                        due=1)

    # ------------------------------------------------------------------ offending spells

    def add_spells(self, idx, t, event, new_spell, from_stage, due: int) -> None:
        """Offending spells to start in months ``t``, the first of them due in month ``due``."""
        if len(idx):
            self.pending_spells.append((idx, t, event, new_spell, from_stage))
            self.spell_due = min(self.spell_due, due)

    def first_due(self, idx, t, c, u: np.ndarray) -> np.ndarray:
        """For spells starting at ``t``: the first month their outcome could reach the queue.

        The month of a signal or an exposing arrest, or four months after an inspection
        (the soonest an inspection can lead to a signal), from the spells' three
        detection draws ``u`` (signal, inspection, exposure).
        """
        return np.minimum(np.minimum(
            self.passage(self.cum_signal, self.signal_rows(idx, c), t, u[:, 0]),
            self.passage(self.cum_expose, self.expose_rows(idx, c), t, u[:, 2])),
            self.passage(self.cum_inspect, c, t, u[:, 1]) + 4)

    def expose_rows(self, idx: np.ndarray, c: np.ndarray) -> np.ndarray:
        """Rows of the exposure table: by stratum, then prior convictions (capped)."""
        return c * _N_PRIORS + np.minimum(self.priors[idx], PRIOR_EFFECT_CAP)

    def signal_rows(self, idx: np.ndarray, c: np.ndarray) -> np.ndarray:
        """Rows of the signal table: by the offenders' visibility, then stratum."""
        return self.visibility[idx] * _N_STRATA + c

    def chain_lag(self, idx, t, c, u_investigation, u_decision, u_signal, u_inspect,
                  u_expose, u_reoffend, u_resume) -> np.ndarray:
        """Months after an investigation (or inspection) starts before it could lead to a signal.

        A lower bound: the investigation and OM decision times (exactly, if their
        distributions are the same in every month, else one month each), then the
        soonest reoffending (none if the resumption draw could send the offender back
        to offending at the OM decision) and the soonest signal or inspection of the new
        spell with the highest monthly hazards (a spell after the chain starts at the OM
        decision at the earliest, and hazards only add up). The ``u_*`` are the
        offenders' next draws of each kind, looked at.
        """
        investigation, decision = self.pmfs["investigation"], self.pmfs["prosecution"]
        lag = np.full(len(idx), 2)
        if investigation.single and decision.single:
            lag = investigation.draw(t, c, u_investigation) + decision.draw(t, c, u_decision)
        fs = self.form[idx] * 2 + self.sex[idx]
        return _lag_bound(lag, np.log(u_reoffend), np.log(u_signal), np.log(u_inspect),
                          np.log(u_expose), self.slow_reoffend[c], self.slow_signal[fs],
                          self.slow_inspect[fs], self.slow_expose[fs], self.slack_signal,
                          self.slack_inspect, self.slack_expose, u_resume < self.max_resume[c])

    def add_chains(self, idx, t, kind, due: int) -> None:
        """Investigations (or inspections) started in months ``t``, the first due in ``due``."""
        if len(idx):
            self.pending_chains.append((idx, t, kind))
            self.chain_due = min(self.chain_due, due)

    def run_spells(self) -> None:
        """Offender.enter_offending for every pending spell, up to its outcome."""
        self.flush_queue()
        idx, t, event, new, frm = _fields(self.pending_spells, 5)
        self.pending_spells, self.spell_due = [], _NEVER
        new = new.astype(bool)
        if new.any():
            ni, month = idx[new], self.start + t[new]
            self.spell_month[ni] = month
            self.age_group[ni] = month // 12 - self.birth_year[ni] >= spec.YOUNG_AGE_LIMIT
        self.spell_log.append((idx, t, frm, event, self.priors[idx], self.age_group[idx]))
        c = self.stratum(idx)
        counts = self.counters[idx]
        own = len(_SPELL_USE_SLOTS)  # the spell's own draws; the others are looked at later
        u = _uniforms(self.spell_keys[:own], self.oid[idx],
                      counts[:, self.spell_mech[:own]] + self.spell_offset[:own])
        self.counters[idx] = counts + _SPELL_USE
        rows = self.desistance.rows(c, self.birth_year[idx])
        log_u = np.log(u)
        signal, inspect, desist, expose = (self.cum_signal, self.cum_inspect, self.desistance,
                                           self.cum_expose)
        rows_s, rows_e = self.signal_rows(idx, c), self.expose_rows(idx, c)
        month, which = _spell_outcomes(
            signal.table, inspect.table, desist.table[:desist.filled], expose.table, rows_s, c,
            rows, rows_e, t, signal.table[rows_s, t] - log_u[:, 0],
            inspect.table[c, t] - log_u[:, 1], desist.table[rows, t] - log_u[:, 2],
            expose.table[rows_e, t] - log_u[:, 3], _NEVER)
        # other offences until the spell ends (drawn with the records: they change nothing)
        end = np.where(which < 0, self.n - t, month - t - 1)
        self.active_log.append((idx, t, end, self.priors[idx], self.age_group[idx], c))
        sel = (which == 0) | (which == 3)  # a police signal or an exposing arrest: the queue
        if sel.any():
            event = np.where(which[sel] == 3, int(Event.EXPOSED), int(Event.SIGNALLED))
            self.signal(idx[sel], month[sel], c[sel], self.next_draws(idx[sel], counts[sel]),
                        event)
        sel = which == 1
        if sel.any():
            ahead = self.next_draws(idx[sel], counts[sel])
            lag = self.chain_lag(idx[sel], month[sel], c[sel], ahead[:, 0], *ahead[:, 2:].T)
            self.add_chains(idx[sel], month[sel], np.full(sel.sum(), _INSPECTED),
                            due=int((month[sel] + lag).min()))
        sel = which == 2
        if sel.any():
            self.desist_log.append((idx[sel], month[sel], np.full(sel.sum(), int(Stage.ACTIVE)),
                                    self.priors[idx[sel]], self.age_group[idx[sel]]))

    def next_draws(self, idx: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """The draws of :data:`_SPELL_SLOTS` after a spell's own, looked at (not taken).

        ``counts``: the offenders' draw counters when the spell started.
        """
        own = len(_SPELL_USE_SLOTS)
        return _uniforms(self.spell_keys[own:], self.oid[idx],
                         counts[:, self.spell_mech[own:]] + self.spell_offset[own:])

    def signal(self, idx, t, c, u, event: np.ndarray) -> None:
        """Offender.enter_queue: into the queue's arrivals, with the month the signal drops.

        ``u``: the draws of :data:`_SPELL_SLOTS` after the spell's own; ``event``: per
        offender, a police signal or an exposing arrest.
        """
        if t.min() <= self.queue_month:
            raise RuntimeError("chainsim.engines.fast: a signal arrived in a month already served")
        self.signal_log.append((idx, t, self.priors[idx], self.age_group[idx], event))
        self.counters[idx, _INVESTIGATION] += 1
        drop = self.passage(self.cum_drop, c, t, u[:, 0])
        # an investigation started in month v cannot lead to a new signal before v + lag
        lag = self.lag
        for j, v in zip(idx.tolist(), self.chain_lag(idx, t, c, *u[:, 1:].T).tolist(),
                        strict=True):
            lag[j] = v
        order = np.lexsort((idx, t))  # month, then id
        idx, t, drop, c, u = idx[order], t[order], drop[order], c[order], u[order]
        ids = idx.tolist()
        for a, lo, hi in _runs(t):
            self.arrivals[a].append(ids[lo:hi])
        dropping = drop < _NEVER
        if dropping.any():
            idx, t, drop = idx[dropping], t[dropping], drop[dropping]
            due = self.first_due(idx, drop, c[dropping], u[dropping, 3:])
            order = np.argsort(drop, kind="stable")
            ids, t, drop, due = idx[order].tolist(), t[order].tolist(), drop[order], due[order]
            due = due.tolist()
            for d, lo, hi in _runs(drop):
                self.drops[d].append((ids[lo:hi], t[lo:hi], due[lo:hi]))

    # ------------------------------------------------------------------ the queue

    def serve_queue(self, m: int, queue: deque) -> None:
        """Month ``m``'s signals, drops and investigation starts (ChainModel._serve_queue).

        Plain Python on lists (a month has few suspects); the suspects dropped and
        served are buffered (:attr:`dropped`, :attr:`served`) and become spells and
        investigations in the next batch (:meth:`flush_queue`).
        """
        token = self.q_token
        arrivals = self.arrivals[m]
        if arrivals:
            ids = arrivals[0] if len(arrivals) == 1 else sorted(iter_chain.from_iterable(arrivals))
            for j in ids:
                token[j] = m
            queue.extend(zip(ids, repeat(m)))
            self.queue_len += len(ids)
        dropped = self.dropped[0]
        before = len(dropped)
        due = _NEVER
        for i, a, when in self.drops[m]:
            for j, aj, w in zip(i, a, when, strict=True):
                if token[j] == aj:
                    token[j] = -1
                    dropped.append(j)
                    if w < due:
                        due = w
        self.queue_month = m
        if len(dropped) > before:
            self.queue_len -= len(dropped) - before
            self.dropped[1].extend(repeat(m, len(dropped) - before))
            self.spell_due = min(self.spell_due, due)
        self.credit += self.capacity[m]
        k = min(self.queue_len, math.floor(self.credit))
        self.credit = min(self.credit - k, 1.0)
        if k == 0:
            return
        served = []
        while len(served) < k:
            j, a = queue.popleft()
            if token[j] == a:
                token[j] = -1
                served.append(j)
        self.queue_len -= k
        self.served[0].extend(served)
        self.served[1].extend(repeat(m, k))
        lag = self.lag
        self.chain_due = min(self.chain_due, m + min([lag[j] for j in served]))

    def flush_queue(self) -> None:
        """The suspects the queue dropped or served since the last batch, as pending work."""
        for (idx, t), add in ((self.dropped, self._add_dropped), (self.served, self._add_served)):
            if idx:
                add(np.array(idx, dtype=np.int64), np.array(t, dtype=np.int64))
                idx.clear()
                t.clear()

    def _add_dropped(self, idx: np.ndarray, t: np.ndarray) -> None:
        k = len(idx)
        self.pending_spells.append((idx, t, np.full(k, int(Event.DROPPED)),
                                    np.zeros(k, dtype=bool), np.full(k, int(Stage.SIGNALLED))))

    def _add_served(self, idx: np.ndarray, t: np.ndarray) -> None:
        self.pending_chains.append((idx, t, np.full(len(idx), _SERVED)))

    # ------------------------------------------------------------------ the chain

    def run_chains(self) -> None:
        """From the start of an investigation (or inspection) to the end of the sanction.

        Offender.enter_investigation / enter_inspection, traced / registered_other,
        om_decision, judgment, appeal_judgment, enter_sentencing, released and
        enter_supervision, for every pending investigation at once (the phases of
        :data:`_CHAIN_PHASES`); then :meth:`after_chain`.
        """
        self.flush_queue()
        idx, t0, kind = _fields(self.pending_chains, 3)
        self.pending_chains, self.chain_due = [], _NEVER
        n, P = self.n, self.P
        c = self.stratum(idx)
        counts = self.counters[idx]
        u = _uniforms(self.slot_keys, self.oid[idx], counts[:, self.slot_mech] + self.slot_offset)
        # investigation, then registration at the OM
        pmfs = self.pmfs
        t1 = t0 + pmfs["investigation"].draw(t0, c, u[:, _U_INVESTIGATION])
        registered = t1 <= n
        t1c = np.minimum(t1, n)
        # the arrest: pre-trial detention from the registration on, or at liberty
        detained = registered & (u[:, _U_DETAINED] < P["pretrial_detention_share"][t1c, c])
        t2 = t1 + pmfs["prosecution"].draw(t1c, c, u[:, _U_DECISION_TIME])
        decided = registered & (t2 <= n)
        t2c = np.minimum(t2, n)
        # OM decision
        outcome = _om_outcome(P["technical_dismissal_share"][t2c, c],
                              P["policy_dismissal_share"][t2c, c],
                              P["other_disposal_share"][t2c, c], u[:, _U_DECISION])
        dismissed = decided & (outcome > 0)
        summoned = decided & (outcome == 0)
        t3 = t2 + pmfs["trial"].draw(t2c, c, u[:, _U_TRIAL_TIME])
        judged = summoned & (t3 <= n)
        t3c = np.minimum(t3, n)
        # first-instance judgment; a conviction may be appealed
        guilty = u[:, _U_VERDICT] < P["conviction_prob"][t3c, c]
        appealed = judged & guilty & (u[:, _U_APPEALED] < P["appeal_share"][t3c, c])
        ta = t3.copy()
        ta[appealed] += pmfs["appeal"].draw(t3c[appealed], c[appealed],
                                            u[appealed, _U_APPEAL_TIME])
        appeal_judged = appealed & (ta <= n)
        tac = np.minimum(ta, n)
        overturned = appeal_judged & (u[:, _U_APPEAL_VERDICT]
                                      < P["appeal_acquittal_share"][tac, c])
        final = (judged & ~appealed) | appeal_judged  # a final judgment within the horizon
        tj = np.where(appealed, ta, t3)  # the month of the final judgment
        tjc = np.minimum(tj, n)
        acquitted = final & (~guilty | overturned)
        convicted = final & ~acquitted
        # a case without sanction: back to offending at once, or life after the chain
        unsanctioned = dismissed | acquitted
        tu = np.where(dismissed, t2, tj)
        resumed = unsanctioned & (u[:, _U_RESUME] < P["resume_share"][np.minimum(tu, n), c])
        # sentence (by the final judgment); juvenile law by the age at the charged offence
        charge_age = (self.start + t0) // 12 - self.birth_year[idx]
        juvenile = (charge_age < spec.JUVENILE_LAW_AGE) | (
            (charge_age < spec.YOUNG_AGE_LIMIT)
            & (u[:, _U_JUVENILE] < P["adolescent_law_share"][tjc, 0]))
        other = convicted & (u[:, _U_PRISON] >= P["prison_prob"][tjc, c])
        prison = convicted & ~other
        adult, young = self.sentences
        sentence = np.zeros(len(idx), dtype=np.int64)
        for law, jail in ((young, prison & juvenile), (adult, prison & ~juvenile)):
            if jail.any():
                sentence[jail] = law.draw(tjc[jail], c[jail], u[jail, _U_TERM])
        # pre-trial detention runs from the arrest to the first-instance judgment, or on
        # through an appeal
        pretrial = np.where(detained, tj - t1, 0)
        served = np.asarray(spec.time_served(sentence, juvenile), dtype=np.int64)
        custody = np.maximum(served, pretrial)
        t4 = tj + np.maximum(served - pretrial, 0)
        released = prison & (t4 <= n)
        # supervision, with a non-custodial sentence or on release
        decide = other | released
        t5 = np.where(other, tj, t4)
        t5c = np.minimum(t5, n)
        share = np.where(other, P["probation_share_other"][t5c, c],
                         P["probation_share_prison"][t5c, c])
        points = spec.supervision_risk_points(self.priors[idx] + convicted >= 2,
                                              charge_age < spec.YOUNG_AGE_LIMIT,
                                              prison & (served < sentence))
        share = spec.supervision_probability(share, P["supervision_risk_factor"][t5c, c], points)
        supervised = decide & (u[:, _U_SUPERVISED] < share)
        months = np.where(supervised,
                          pmfs["probation"].draw(t5c, c, u[:, _U_SUPERVISION_MONTHS]), 0)
        post = (unsanctioned & ~resumed) | decide
        # under a probation capacity the month's supervisions wait for its end
        ask = supervised & (self.places[t5c] > 0) if self.capped else np.zeros(0, dtype=bool)
        # bookkeeping: the draws made (the phases of _CHAIN_PHASES reached), priors, the log
        made = np.stack([np.ones(len(idx), dtype=bool), registered, registered, decided,
                         summoned, judged, appealed, appeal_judged, unsanctioned, convicted,
                         decide, supervised, post], axis=1)
        self.counters[idx] = counts + made @ _CHAIN_USE
        priors = self.priors[idx]
        self.priors[idx] = priors + convicted
        self.visibility[idx[registered]] = spec.VISIBILITY_KNOWN
        if ask.any():
            self.requests.append((idx[ask], t5[ask], months[ask], u[ask, _U_AFTER:_U_AFTER + 3],
                                  u[ask, -3:], c[ask]))
            self.request_due = min(self.request_due, int(t5[ask].min()))
            post &= ~ask
            supervised = supervised & ~ask  # recorded when decided (supervision_log)
        self.chain_log.append((idx, kind, t0, t1, t2, t3, t4, t5, registered, decided, outcome,
                               detained, summoned, acquitted, convicted, other, prison,
                               released, supervised, sentence, custody, months, priors,
                               self.age_group[idx], appealed, tj))
        p = np.where(dismissed, t2, np.where(released, t4, tj))
        self.after_chain(idx[post], p[post], months[post], u[post, _U_AFTER:_U_AFTER + 3],
                         u[post, -3:], c[post])
        if resumed.any():
            # a new spell from the month of the decision (the next spell's detection draws
            # are the last three columns: no after-chain draws were taken)
            r, tr = idx[resumed], tu[resumed]
            self.start_spells(r, tr, Event.RESUMED, np.full(len(r), int(Stage.FREE)),
                              u[resumed, -3:])

    def after_chain(self, idx, t, supervised, u, u_detect, c) -> None:
        """Offender.enter_after_chain: reoffending, desistance, revocation (other offences later).

        The three first passages are searched on the cumulative hazards, summed month
        by month until one of them is reached (:func:`_competing_passages`); revocation
        only while supervised. ``u``: the after-chain draws (reoffending, desistance,
        revocation); ``u_detect``: the next spell's three detection draws (looked at).
        A revoked offender serves the recall and starts life after the chain again,
        unsupervised (:meth:`recall`).
        """
        if not len(idx):
            return
        n, span = self.n, self.span
        ahead = n - t
        priors = self.priors[idx]
        first = t + 1
        cell_r = (c * _N_PRIORS + np.minimum(priors, PRIOR_EFFECT_CAP)) * span + first
        cell_d = self.post_desistance.rows(c, self.birth_year[idx]) * span + first
        cell_v = c * (n + 1) + first
        target_r = 0.0 - np.log(u[:, 0])
        target_d = 0.0 - np.log(u[:, 1])
        target_v = 0.0 - np.log(u[:, 2])
        table_d = self.post_desistance.table[:self.post_desistance.filled].ravel()
        reoffend, desist, revoke = _competing_passages(
            self.h_reoffend, table_d, self.h_revoke, cell_r, cell_d, cell_v, supervised,
            len(self.h_reoffend) // 2, span, target_r, target_d, target_v, ahead, _NEVER)
        end = np.minimum(np.minimum(reoffend, desist), revoke)
        which = np.where(end >= _NEVER, -1,
                         np.where(reoffend == end, 0, np.where(desist == end, 1, 2)))
        end = np.where(which < 0, ahead, end)
        stage = np.where(supervised > end, int(Stage.PROBATION), int(Stage.FREE))
        if self.capped:  # the caseload: in supervision from t until it ends (or the horizon)
            on = supervised > 0
            np.add.at(self.caseload_change, t[on], 1)
            out = (t + np.minimum(supervised, end + 1))[on]
            np.add.at(self.caseload_change, out[out <= n], -1)
        self.post_log.append((idx, t, supervised, end, which, stage, priors, self.age_group[idx],
                              c))
        back = which == 0
        if back.any():
            i, stage_b = idx[back], stage[back]
            self.visibility[i] = np.where(stage_b == int(Stage.PROBATION),
                                          spec.VISIBILITY_SUPERVISED, spec.VISIBILITY_KNOWN)
            self.start_spells(i, (t + end + 1)[back], Event.REOFFENDED, stage_b, u_detect[back])
        revoked = which == 2
        if revoked.any():
            self.recall(idx[revoked], (t + end + 1)[revoked], c[revoked])

    def recall(self, idx, t, c) -> None:
        """Offender.revoked: back to custody, then life after the chain again (unsupervised)."""
        counters = self.counters
        u = self.draws(_RELEASE, self.oid[idx], counters[idx, _RELEASE], 1)[:, 0]
        counters[idx, _RELEASE] += 1
        months = self.pmfs["recall"].draw(t, c, u)
        self.recall_log.append((idx, t, months, self.priors[idx], self.age_group[idx]))
        out = t + months
        back = out <= self.n
        if not back.any():
            return
        idx, out, c = idx[back], out[back], c[back]
        ids = self.oid[idx]
        draws = [self.draws(m, ids, counters[idx, m], 1)[:, 0] for m in _AFTER_STREAMS]
        detect = self.draws(_DETECTION, ids, counters[idx, _DETECTION], 3)
        counters[idx] += _AFTER_USE
        self.after_chain(idx, out, np.zeros(len(idx), dtype=np.int64), np.stack(draws, axis=1),
                         detect, c)

    def decide_supervision(self, m: int) -> None:
        """ChainModel._decide_supervision: month ``m``'s supervisions, while places are free.

        Every request of month ``m`` is known (:meth:`finish` has run all pending work);
        the caseload is the number under supervision at the month's end; places go in
        offender-id order; the others get none and go on unsupervised.
        """
        if self.request_due > m:
            return
        idx, t, months, u_after, u_detect, c = (np.concatenate(a) for a in zip(*self.requests,
                                                                               strict=True))
        if t.min() < m:
            raise RuntimeError("chainsim.engines.fast: a supervision request was left undecided")
        now = t == m
        later = ~now
        self.requests = [tuple(a[later] for a in (idx, t, months, u_after, u_detect, c))]
        self.request_due = int(t[later].min()) if later.any() else _NEVER
        order = np.argsort(self.oid[idx[now]], kind="stable")
        idx, months, u_after, u_detect, c = (a[now][order]
                                             for a in (idx, months, u_after, u_detect, c))
        free = max(math.floor(self.places[m]) - int(self.caseload_change[:m + 1].sum()), 0)
        admitted = np.arange(len(idx)) < free
        t = np.full(len(idx), m)
        self.supervision_log.append((idx, t, months, admitted, self.priors[idx],
                                     self.age_group[idx]))
        self.after_chain(idx, t, np.where(admitted, months, 0), u_after, u_detect, c)

    def start_spells(self, idx, t, event: Event, from_stage, u_detect) -> None:
        """New offending spells from months ``t`` (a reoffence, or a resumption).

        ``u_detect``: the new spells' three detection draws, looked at to know when they
        are due (the age group is the one the spell will have).
        """
        age_group = (self.start + t) // 12 - self.birth_year[idx] >= spec.YOUNG_AGE_LIMIT
        c = self.stratum(idx, age_group)
        due = self.first_due(idx, t, c, u_detect)
        k = len(idx)
        self.add_spells(idx, t, np.full(k, int(event)), np.ones(k, dtype=bool), from_stage,
                        due=int(due.min()))

    # ------------------------------------------------------------------ run

    _SHARED = frozenset({"n", "start", "keys", "slot_keys", "slot_mech", "slot_offset",
                         "spell_keys", "spell_mech", "spell_offset", "span", "oid", "form",
                         "sex", "form_sex", "birth_year", "spell_due", "chain_due",
                         "queue_month", "request_due"})
    """Attributes a branch shares with its engine (never changed in place, or numbers)."""
    _COPIED = frozenset({"counters", "priors", "age_group", "spell_month", "visibility",
                         "q_token", "lag",
                         "served", "dropped", "arrivals", "drops", "pending_spells",
                         "pending_chains", "spell_log", "signal_log", "desist_log",
                         "chain_log", "post_log", "recall_log", "active_log",
                         "requests", "caseload_change", "supervision_log"})
    """Attributes a branch gets its own copy of (changed in place as the run goes on)."""
    _OWN = frozenset({"params", "tables", "P", "desistance", "post_desistance",
                      *_TABLE_ATTRIBUTES})
    """Attributes a branch takes from its own parameters."""

    def branch(self, params: ParameterSet) -> _Engine:
        """This engine, just after :meth:`begin`, continuing on other parameters.

        Only valid if :func:`_same_start` holds for the two parameter sets: the
        branch then is what ``_Engine(params, seed)`` would be after its own
        :meth:`begin` (the same offenders, draws, outcomes, queue and logs).
        """
        unknown = set(vars(self)) - self._SHARED - self._COPIED - self._OWN
        if unknown:  # a new attribute must be classified above
            raise RuntimeError(f"chainsim.engines.fast: branch() does not know {sorted(unknown)}")
        other = _Engine.__new__(_Engine)
        for name in self._SHARED:
            setattr(other, name, getattr(self, name))
        other.counters, other.priors, other.age_group, other.spell_month, other.visibility = (
            self.counters.copy(), self.priors.copy(), self.age_group.copy(),
            self.spell_month.copy(), self.visibility.copy())
        other.q_token, other.lag = list(self.q_token), list(self.lag)
        other.served = (list(self.served[0]), list(self.served[1]))
        other.dropped = (list(self.dropped[0]), list(self.dropped[1]))
        other.arrivals = [list(a) for a in self.arrivals]
        other.drops = [list(d) for d in self.drops]
        for name in ("pending_spells", "pending_chains", "spell_log", "signal_log",
                     "desist_log", "chain_log", "post_log", "recall_log", "active_log",
                     "requests", "supervision_log"):
            setattr(other, name, list(getattr(self, name)))
        other.caseload_change = self.caseload_change.copy()
        other.use_tables(params)
        other.desistance, other.post_desistance = other.tables.desistance_for(
            int(self.birth_year.min()), int(self.birth_year.max()))
        return other

    def use_tables(self, params: ParameterSet) -> None:
        """Read the parameters through their shared :class:`_Tables`."""
        self.params = params
        tables = _tables(params)
        self.tables = tables
        self.P = tables.P
        for name in _TABLE_ATTRIBUTES:
            setattr(self, name, getattr(tables, name))

    def expand(self) -> None:
        """Compute everything pending, up to the next signals."""
        self.flush_queue()
        while self.pending_spells or self.pending_chains:
            if self.pending_spells:
                self.run_spells()
            if self.pending_chains:
                self.run_chains()

    def settle(self, m: int) -> None:
        """Run the pending work that can still lead to a supervision request in month ``m``.

        A request of month ``m`` comes from an investigation or inspection begun by then;
        work that starts later (a chain, or a spell, from a later month) cannot make one.
        Running work early is safe: whatever it sends to the queue arrives after month
        ``m`` (the due months of :meth:`finish`'s loop bound it).
        """
        self.flush_queue()
        last = m - _REQUEST_LAG  # work begun after this month requests after month m
        while True:
            if self.pending_chains and min(int(w[1].min()) for w in self.pending_chains) <= last:
                self.run_chains()
            elif self.pending_spells and min(int(w[1].min())
                                             for w in self.pending_spells) <= last:
                self.run_spells()
            else:
                break

    def run(self) -> FastResult:
        self.begin()
        return self.finish()

    def begin(self) -> None:
        """The offenders and their first offending spells, up to each one's first outcome.

        What it reads from the parameters is listed in :func:`_same_start`: arms that
        agree there can continue from one begun engine (:meth:`branch`).
        """
        self.create_offenders()
        self.flush_queue()
        self.run_spells()

    def finish(self) -> FastResult:
        """Everything after :meth:`begin`: the queue month by month, then the records."""
        self.expand()
        queue: deque = deque()
        self.queue_len = 0
        self.credit = 0.0
        for m in range(1, self.n + 1):
            while True:
                if self.chain_due <= m:
                    self.run_chains()
                elif self.spell_due <= m:
                    self.run_spells()
                else:
                    break
            self.serve_queue(m, queue)
            if self.capped:  # the month's supervision requests, once every one is known
                self.settle(m)
                self.decide_supervision(m)
        self.queue_month = self.n + 1
        self.expand()
        if self.request_due < _NEVER:
            raise RuntimeError("chainsim.engines.fast: supervision requests left undecided")
        columns, counts, by_agent = _Writer(self).columns()
        return FastResult(columns=columns, stage_counts=counts, by_agent=by_agent)


# --------------------------------------------------------------------------- records


class _Writer:
    """Turns the engine's logs into the record table."""

    def __init__(self, engine: _Engine):
        self.e = engine
        self.parts: list[tuple] = []

    def add(self, mask, idx, t, frm, to, event, priors, age_group, value=None,
            probation=None) -> None:
        """Records of the rows of ``mask`` (``None``: all); scalars broadcast."""
        if mask is not None:
            if not mask.any():
                return
            idx, t, priors, age_group = idx[mask], t[mask], priors[mask], age_group[mask]
            frm, to, event, value, probation = (
                a[mask] if isinstance(a, np.ndarray) else a
                for a in (frm, to, event, value, probation))
        m = len(idx)
        if not m:
            return

        def full(a, dtype=np.int64):
            return a if isinstance(a, np.ndarray) else np.full(m, a, dtype=dtype)

        self.parts.append((idx, t, full(frm), full(to), full(event), priors, age_group,
                           np.full(m, np.nan) if value is None else value.astype(float),
                           full(bool(probation), bool) if not isinstance(probation, np.ndarray)
                           else probation))

    def spells(self) -> None:
        e = self.e
        if e.spell_log:
            idx, t, frm, event, priors, ag = _fields(e.spell_log, 6)
            self.add(None, idx, t, frm, int(Stage.ACTIVE), event, priors, ag)
        if e.signal_log:
            idx, t, priors, ag, event = _fields(e.signal_log, 5)
            self.add(None, idx, t, int(Stage.ACTIVE), int(Stage.SIGNALLED), event, priors, ag)
        if e.desist_log:
            idx, t, frm, priors, ag = _fields(e.desist_log, 5)
            self.add(None, idx, t, frm, int(Stage.DESISTED), int(Event.DESISTED), priors, ag)

    def chains(self) -> None:
        e = self.e
        if not e.chain_log:
            return
        (idx, kind, t0, t1, t2, t3, t4, t5, registered, decided, outcome, detained, summoned,
         acquitted, convicted, other, prison, released, supervised, sentence, custody, months,
         priors, ag, appealed, tj) = _fields(e.chain_log, 26)
        police = kind == _SERVED
        first = np.where(police, int(Stage.INVESTIGATION), int(Stage.INSPECTION))
        self.add(None, idx, t0, np.where(police, int(Stage.SIGNALLED), int(Stage.ACTIVE)), first,
                 np.where(police, int(Event.INVESTIGATION_STARTED), int(Event.INSPECTED)),
                 priors, ag)
        om = np.where(detained, int(Stage.PROSECUTION_DETAINED), int(Stage.PROSECUTION))
        self.add(registered, idx, t1, first, om,
                 np.where(police, int(Event.TRACED), int(Event.REGISTERED_OTHER)), priors, ag)
        self.add(decided & ~summoned, idx, t2, om, int(Stage.FREE), _OM_EVENTS[outcome],
                 priors, ag)
        trial = np.where(detained, int(Stage.PRETRIAL_DETENTION), int(Stage.TRIAL))
        self.add(summoned, idx, t2, om, trial,
                 np.where(detained, int(Event.SUMMONED_DETAINED), int(Event.SUMMONED)),
                 priors, ag)
        appeal = np.where(detained, int(Stage.APPEAL_DETAINED), int(Stage.APPEAL))
        self.add(appealed, idx, t3, trial, appeal,
                 np.where(detained, int(Event.APPEALED_DETAINED), int(Event.APPEALED)), priors, ag)
        judge = np.where(appealed, appeal, trial)  # the stage the final judgment ends
        self.add(acquitted, idx, tj, judge, int(Stage.FREE), int(Event.ACQUITTED), priors, ag)
        self.add(convicted, idx, tj, judge, int(Stage.SENTENCING), int(Event.CONVICTED),
                 priors, ag)
        after = priors + convicted
        self.add(other, idx, tj, int(Stage.SENTENCING), int(Stage.FREE),
                 int(Event.NON_CUSTODIAL), after, ag)
        self.add(prison, idx, tj, int(Stage.SENTENCING), int(Stage.PRISON), int(Event.PRISON),
                 after, ag, value=sentence)
        self.add(released, idx, t4, int(Stage.PRISON), int(Stage.FREE), int(Event.RELEASED),
                 after, ag, value=custody)
        self.add(supervised, idx, t5, int(Stage.FREE), int(Stage.PROBATION),
                 int(Event.PROBATION_START), after, ag, value=months, probation=True)

    def supervisions(self) -> None:
        """Supervisions decided under a probation capacity: started, or no place."""
        e = self.e
        if not e.supervision_log:
            return
        idx, t, months, admitted, priors, ag = _fields(e.supervision_log, 6)
        admitted = admitted.astype(bool)
        self.add(admitted, idx, t, int(Stage.FREE), int(Stage.PROBATION),
                 int(Event.PROBATION_START), priors, ag, value=months, probation=True)
        self.add(~admitted, idx, t, int(Stage.FREE), int(Stage.FREE),
                 int(Event.PROBATION_REFUSED), priors, ag, value=months)

    def posts(self) -> None:
        e = self.e
        if not e.post_log:
            none = np.zeros(0, dtype=np.int64)
            self.general_offences(none, none, none, none, none, none, none)
            return
        idx, t, supervised, end, which, stage, priors, ag, c = _fields(e.post_log, 9)
        ending = (supervised > 0) & (supervised < end + 1) & (t + supervised <= e.n)
        self.add(ending, idx, t + supervised, int(Stage.PROBATION), int(Stage.FREE),
                 int(Event.PROBATION_END), priors, ag)
        self.add(which == 1, idx, t + end + 1, stage, int(Stage.DESISTED),
                 int(Event.DESISTED), priors, ag)
        self.general_offences(idx, t, supervised, end, priors, ag, c)

    def recalls(self) -> None:
        """Revocations (at the end of their after-chain spell) and releases from recall."""
        e = self.e
        if not e.recall_log:
            return
        idx, t, months, priors, ag = _fields(e.recall_log, 5)
        value = months.astype(float)
        self.add(None, idx, t, int(Stage.PROBATION), int(Stage.RECALLED), int(Event.REVOKED),
                 priors, ag, value=value)
        out = t + months
        self.add(out <= e.n, idx, out, int(Stage.RECALLED), int(Stage.FREE),
                 int(Event.RELEASED), priors, ag, value=value)

    def general_offences(self, idx, t, supervised, end, priors, ag, c) -> None:
        """Other offences (Offender.other_offences), every spell at once.

        After the chain (the after-chain spells given) and alongside active trafficking
        (the engine's active spells: offences that expose nothing).

        They change nothing else, so they are drawn last. The cumulative hazards of
        all spells are laid end to end in one array; each offender's spells are searched
        one after the other, in time order (the ``general`` stream's counter runs on
        from one to the next), by :func:`_general_events`.
        """
        e = self.e
        n = e.n
        active = np.zeros(len(idx), dtype=bool)
        if e.active_log:
            a_idx, a_t, a_end, a_priors, a_ag, a_c = _fields(e.active_log, 6)
            idx, t, end, priors, ag, c = (np.concatenate(pair) for pair in (
                (idx, a_idx), (t, a_t), (end, a_end), (priors, a_priors), (ag, a_ag),
                (c, a_c)))
            supervised = np.concatenate((supervised, np.zeros(len(a_idx), dtype=np.int64)))
            active = np.concatenate((active, np.ones(len(a_idx), dtype=bool)))
        keep = end > 0
        order = np.lexsort((t[keep], idx[keep]))
        idx, t, supervised, end, priors, ag, c, active = (
            a[keep][order] for a in (idx, t, supervised, end, priors, ag, c, active))
        m = len(idx)
        if not m:
            return
        first = np.r_[True, idx[1:] != idx[:-1]]
        prior_row = c * _N_PRIORS + np.minimum(priors, PRIOR_EFFECT_CAP)
        offset = np.r_[0, np.cumsum(end)[:-1]]
        flat = np.empty(int(end.sum()))
        post = ~active
        _ragged_cumsum(e.h_general, prior_row[post] * e.span + t[post] + 1, supervised[post],
                       len(e.h_general) // 2, end[post], offset[post], flat)
        _ragged_cumsum(e.h_other, prior_row[active] * (n + 1) + t[active] + 1,
                       supervised[active], 0, end[active], offset[active], flat)
        # each offender's spells one after the other, with the draws of the ``general``
        # stream from its counter on: GENERAL_LOOKAHEAD at a time, their logarithms taken
        # by NumPy, consumed by a compiled loop until they run out or the spells end
        starts = np.flatnonzero(first)
        stops = np.r_[starts[1:], m]
        who = idx[starts]
        counter = e.counters[who, _GENERAL].copy()
        row, at = starts.copy(), np.zeros(len(starts), dtype=np.int64)
        alive = np.arange(len(starts))
        found = []
        while len(alive):
            u = e.draws(_GENERAL, e.oid[who[alive]], counter[alive], GENERAL_LOOKAHEAD)
            hits, count = _general_events(flat, offset, end, stops, np.log(u), u, alive,
                                          counter, row, at)
            found.append(hits[:count])
            alive = alive[row[alive] < stops[alive]]
        e.counters[who, _GENERAL] = counter
        j, k, u1 = _fields([(h[:, 0].astype(np.int64), h[:, 1].astype(np.int64), h[:, 2])
                            for h in found], 3)
        month = t[j] + k + 1
        registration = np.where(active[j], e.reg_other[month, c[j]],
                                e.P["general_registration_prob"][month, c[j]])
        registered = u1 < registration
        on = ~active[j] & (k + 1 <= supervised[j])
        stage = np.where(active[j], int(Stage.ACTIVE),
                         np.where(on, int(Stage.PROBATION), int(Stage.FREE)))
        self.add(None, idx[j], month, stage, stage, int(Event.GENERAL_OFFENCE), priors[j],
                 ag[j], probation=on)
        self.add(registered, idx[j], month, stage, stage, int(Event.GENERAL_CASE), priors[j],
                 ag[j], probation=on)

    def columns(self) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
        """The record columns (chronological), the stage counts and the offender order.

        The columns as :attr:`FastResult.columns`; the offender order as
        :attr:`FastResult.by_agent`.

        Stage counts as ChainModel.record keeps them: every transition adds one to its
        to-stage and takes one from its from-stage.
        """
        self.spells()
        self.chains()
        self.supervisions()
        self.posts()
        self.recalls()
        e = self.e
        idx, t, frm, to, event, priors, ag, value, probation = _fields(self.parts, 9)
        # chronological: by month, then offender (indexes rank ids: create_offenders),
        # then the offender's order of events within the month (_RANK); stable
        m = len(e.oid)
        order = _counting_order(idx * 4 + _RANK[event], 4 * m, np.arange(len(idx)))
        order = _counting_order(t, int(t.max(initial=0)) + 1, order)  # t >= 0: months
        codes = [a.astype(np.int16)[order] for a in (frm, to, event, priors, ag)]
        idx, t, value, probation = idx[order], t[order], value[order], probation[order]
        moved = codes[0] != codes[1]
        counts = (np.bincount(codes[1][moved], minlength=len(Stage))
                  - np.bincount(codes[0][moved & (codes[0] != Stage.NONE)], minlength=len(Stage)))
        month = e.start + t
        cols = {
            "agent_id": e.oid[idx],
            "month": month.astype(np.int32),
            "from_stage": codes[0],
            "to_stage": codes[1],
            "event": codes[2],
            "form": e.form[idx].astype(np.int16),
            "age": (month // 12 - e.birth_year[idx]).astype(np.int16),
            "age_group": codes[4],
            "sex": e.sex[idx].astype(np.int16),
            "priors": codes[3],
            "probation": probation.astype(bool),
            "value": value.astype(np.float32),
        }
        by_agent = _counting_order(idx, m, np.arange(len(idx)))
        return cols, counts.astype(np.int64), by_agent


STEP_HANDLERS: dict[str, object] = {
    "entry": _Engine.create_offenders,
    "offending": _Engine.run_spells,
    "queue": _Engine.serve_queue,
    **dict.fromkeys(("investigation", "inspection", "prosecution", "trial", "appeal",
                     "resumption", "sentencing", "prison", "supervision"), _Engine.run_chains),
    "recall": _Engine.recall,
    "after_chain": _Engine.after_chain,
}
"""The vectorised engine's handler of every step of the chain table.

A batch of investigations passes the steps from ``investigation`` to ``supervision`` in
one vectorised pass (:meth:`_Engine.run_chains`, the phases of :data:`_CHAIN_PHASES`);
``tests/chain/test_steps.py`` checks every step has a handler and every branch is produced.
"""

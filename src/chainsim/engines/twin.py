"""The expected-flow twin: the agent model's expected counts, computed with NumPy.

The twin follows the same chain specification (:mod:`chainsim.chain.spec`) and the same
parameter arrays as the agent model, but moves expected masses instead of
offenders: every random decision becomes a split of the mass by its probability,
every duration a spread of the mass over future months by its distribution. Its
output is the expected number of every event per month, form, age group and sex.

State. Undetected offending (the active mass and the investigation queue) is held
over (form, sex, age group, prior convictions, birth year, visibility): the age group
(under 23 or not) is the age at the start of the current offending spell (it selects
the stratified parameters), visibility the row of
:data:`chainsim.chain.spec.SIGNAL_HAZARDS` the signal hazard comes from (0 a
first-timer, 1 registered at the OM before, 2 a spell begun under supervision), the
priors set the hazard of an arrest for another offence that exposes the trafficking
and of the other offences that go on while active. From the charge on (the month an
investigation or inspection begins) the mass is in the chain, held over (form, sex,
class, prior convictions, birth year) without visibility (it only acts while
offending, and whoever leaves the chain has been registered at the OM; a new spell
sets its own). The four classes (:data:`CLASSES`) combine the age group with the age
at the charge, which decides juvenile and adolescent law and the supervision's risk
point for youth: young at the spell start and under 18 at the charge, young and
18-22, young and 23 or over, adult at the spell start (23 or over at the charge as
well). The young mass is re-classed by its age at the charge when an investigation
starts (the month the queue serves it) or an inspection takes the case up. Priors are
capped at 3 (their effect is), and the birth year gives the age in every calendar year
(ages change on 1 January, as in the agent model). Stages with a duration keep a buffer
of what is due in each future month.

The steps (:data:`STEP_HANDLERS`), in the agents' order within a month:

- *Undetected offending*: four exits in the agents' tie order (signal, inspection,
  desistance, an exposing arrest: signalled and exposed join the same queue); who
  stays commits other offences (``general_offence``, registered ``general_case``),
  which fall in the months before the one a spell ends in, as after the chain.
- *Registration* (``traced``, ``registered_other``): a share waits for the OM in
  pre-trial detention. Detained and at liberty have their own OM buffer; a dismissal
  or other disposal ends the detention. A detained suspect summoned stays detained to
  the final judgment, whose outcomes are scheduled at the summons; the months from the
  registration count towards a prison term, so the release (at ``max(registration +
  served, final judgment)``) is scheduled at the registration, from the OM's delay,
  its summons share in the month it decides, and the summons cohorts' prison kernels.
- *Sentence and release*: months served by conditional release, kept apart for terms
  with and without it (a risk point).
- *Supervision* on release or with a non-custodial sentence, with the base share's
  hazard x ``supervision_risk_factor`` per risk point: an earlier conviction (two
  priors counting this one), under 23 at the charge (classes 0 and 1), conditional
  release (:func:`chainsim.chain.spec.supervision_probability`).
- *After the chain*: reoffending, desistance and, while supervised, revocation
  compete (ties in that order); a revocation sends the mass to a recall (its length
  drawn at the revocation) and then into life after the chain unsupervised.

Events are counted by (form, sex, class). Before the charge the class is not known
yet: events of undetected offending (``pool``, ``inflow``, ``signalled``,
``exposed``, ``dropped``, desistance and other offences while active) and the starts
of new spells (``reoffended``, ``resumed``) count the young in class 0 and the adults
in class 3, so :data:`CLASS_AGE_GROUP` gives every event's age group (at the start of
the spell).

Exactness. Everything is exact in expectation except the stated approximations:

- *Capacity.* The agent model serves ``min(queue, capacity)`` suspects a month
  (first come, first served). The twin serves ``min(E[queue], capacity)`` from
  the expected queue, oldest signal cohorts first. Where the queue is long (the
  baseline: capacity binds every month) the numbers served agree exactly; where the
  queue runs empty the twin serves slightly too many (Jensen's inequality). Within
  a signal month the agents serve in offender-id order, the twin pro rata to the
  month's composition, so where a month's signals are only partly served the mix
  of who is served (form, age, priors) can differ slightly.
- *Tails.* Duration distributions, and the outcome kernels of a detained summons
  cohort (the trial's and the appeal's delays together), are cut where less than
  ``tail`` (1e-12) of their mass remains, and at the horizon (what falls after the
  last month is never used; since the cut at the horizon the outcome kernels' tails
  are measured within it, which moves results by at most 1e-13 relative).
- *Round-off.* The appeal's delay within a detained cohort's outcome kernels is
  convolved by FFT, whose round-off (below 1e-14 of each member's largest value) is
  set to 0; every other sum is direct (in compiled loops: the exits of undetected
  offending, the entries, the charge, the detained registrations' releases, spreading
  mass over future months), in NumPy's order of operations for every element, so
  against a direct computation the events differ by at most about 5e-16 relative.

Speed. ``full=False`` ("chain mode", what calibration iterates on) leaves out what
happens after the chain and keeps of the chain's priors only whether there was a
conviction before the case (the supervision's risk point, so supervisions stay
exact), and birth years only before the charge. Re-entries into offending from after
the chain (reoffences and resumptions after a case without sanction, by priors and
visibility) are taken from a full run (``reentries``). So the chain mode has no
revocations, its ``released`` are the releases from prison (not from a recall), its
other offences those while active, and its free and supervised stocks count everyone
who ever got there. It computes the ``resumed`` events itself (exact totals per form
and sex), but without birth years in the chain it cannot tell who turned 23 between
the charge and the resumption: it counts those charged under 23 as young (class 0).

Batches. :class:`Twin` takes a sequence of parameter sets (the same start, horizon and
strata) and carries a leading member axis ``K`` on every state array: one code path,
``K = 1`` for :func:`expected_flows`. Members may differ in every parameter: duration
distributions are per member (padded with zeros to the longest, each row spread only
to its own length), so are trends, capacities (each member's queue serves
``min(E[queue], capacity)`` from its own credit, its own oldest cohorts first) and
probation places; re-entries are one array for all or one per member.
:func:`expected_flows_batch` runs the sets in passes of :data:`CHAIN_MODE_MEMBERS`
(chain mode) and one at a time in full mode, where a batch gains nothing. Every
member's results equal its own run's to round-off (``tests/engines/test_twin_batch.py``;
about 4e-16 relative).

Timings (``benchmarks/bench_twin_batch.py``: chain mode on the baseline to 2019, as
calibration runs it, with perturbed knobs, unknowns and durations; 2 shared cores, so
absolute times vary by 2x from day to day, the ratios are measured in one run). Per
parameter set, for K = 64 / 256 sets: the twin before the batch axis 0.57 / 0.62 s,
this twin one at a time 0.36 / 0.43 s, batched 0.17 / 0.19 s: 3.3x the throughput of
the twin before and 2.1-2.3x of one at a time, short of the 20x issue 14 asks for. The
work is bound by memory traffic, not by Python's per-call overhead, so a batch shares
little of it: per set and month the exits and the entries read and write the state of
undetected offending (16,320 numbers: forms x sexes x age groups x priors x 68 birth
years x visibility), and spreading each month's entries over future months updates
some 75,000 numbers of due buffers (kernels of 50-180 months). A full run takes about
3 s (5-6 s before the compiled loops). Measured again on 2026-12-03 (``--quick``, K = 64):
0.35 s before the batch axis, 0.22 s one at a time, 0.13 s batched (1.7x; 10,000
evaluations in about 11 minutes on 2 cores, against the issue's aim of about 5); the
time per member does not fall with the pass size (8 to 64 members a pass: 108-121 ms),
so it is work per member, not per call. About 44 % of it is before the charge
(undetected offending, the queue); the rest is the chain after it, which in chain mode
feeds nothing back (the re-entries come from outside): the chain-mode events up to the
charge do not change when the parameters after it do, so those stages could be computed
stage by stage over the whole horizon after the month loop instead of spread month by
month. What that would gain (measured 2026-12-03, 32 members in passes of 16): spreading
mass over the due buffers is 23 % of the batched time (5,666 calls, 33 ms a member). Its
arithmetic is already what a convolution needs: per stage and series, the horizon times
the mean kernel length (about 180 x 90 = 16,000 multiply-adds), about what an FFT of the
whole series costs at this horizon (length 512), so a stage-major twin gains nothing in
arithmetic, only in memory traffic. That is where the time goes: the compiled loop runs at
3.3-4.5 us a member and call when its buffer stays in cache, 15-16 us when, as in the
twin, a month's 16 buffers of a pass (about 2 MB each for 16 members) take turns (6.9 us
for one member alone). A stage-major pass would keep each series in cache; with undetected
offending's state (16,320 numbers a member and month: about 3 million element updates, some
30 million floating-point operations a run) and some 20 million multiply-adds of spreading,
that bounds the twin at roughly 15-20 ms a member, some 10-15x one at a time: the issue's
20x would need a coarser state as well.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numba import njit

from chainsim.chain import spec
from chainsim.chain.parameters import ParameterSet, cached_duration_pmf, cached_sentence_pmf
from chainsim.chain.spec import FORMS, Event

CLASSES: tuple[str, ...] = ("young_u18", "young_18_22", "young_23plus", "adult")
"""Classes of the chain: the age group at the spell start and the age at the charge."""
N_FORMS, N_SEXES, N_CLASSES, N_PRIORS = len(FORMS), 2, len(CLASSES), spec.PRIOR_EFFECT_CAP + 1
N_AGE_GROUPS, N_VISIBILITY = len(spec.AGE_GROUPS), len(spec.SIGNAL_HAZARDS)
CLASS_AGE_GROUP = np.array([0, 0, 0, 1])
"""Age group at the start of the offending spell (0 = under 23) of each class."""
ADULT_CLASS = CLASSES.index("adult")
AGE_GROUP_CLASS = np.array([0, ADULT_CLASS])
"""Class in which events before the charge count each age group (the young: class 0)."""
N_EVENTS = len(Event)
_ROUNDOFF = 1e-14
"""Below this share of a member's largest value a convolution is round-off (:func:`_convolve`)."""
_ROWS_KEPT = 64
"""Kernels kept as rows for :meth:`Twin._due` (the most recent)."""
_QUEUE_EMPTY = 1e-300
"""A queue cohort with less mass than this is gone (after the drops)."""
CHAIN_MODE_MEMBERS = 16
"""Members per pass of :func:`expected_flows_batch` in chain mode (see the module's notes)."""
FULL_MODE_MEMBERS = 1
"""Members per pass of :func:`expected_flows_batch` in full mode: one at a time (a full
run's arrays are large enough that a batch gains nothing and needs ~0.2 GB a member)."""


def charge_class(age: np.ndarray) -> np.ndarray:
    """Class of offenders young at the spell start, by their age at the charge.

    0 below 18 (juvenile law), 1 for 18-22 (adolescent law possible), 2 from 23.
    """
    return np.where(age < spec.JUVENILE_LAW_AGE, 0, np.where(age < spec.YOUNG_AGE_LIMIT, 1, 2))


def _cut(pmf: np.ndarray, tail: float, total: float = 1.0) -> np.ndarray:
    """The pmf up to where less than ``tail`` of its mass (``total``) remains."""
    remaining = total - np.cumsum(pmf)
    k = int(np.argmax(remaining < tail)) if (remaining < tail).any() else len(pmf) - 1
    return pmf[: k + 1]


def _cut_lengths(stack: np.ndarray, tail: float) -> np.ndarray:
    """Per member, the length up to where less than ``tail`` remains of every distribution.

    ``stack`` is ``(n, K, ...)``: per member ``K`` a stack of distributions over the
    first axis, each with its own total. Returns the lengths ``(K,)``.
    """
    n, k = stack.shape[:2]
    flat = stack.reshape(n, k, -1)
    remaining = (flat.sum(axis=0) - np.cumsum(flat, axis=0)).max(axis=2)  # (n, K)
    below = remaining < tail
    return np.where(below.any(axis=0), np.argmax(below, axis=0), n - 1) + 1


def _truncate(arr: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``arr`` ``(n, K, ...)`` with member ``k`` zero from ``lengths[k]`` on, cut to the longest.

    Each member's distributions end where its own would end on its own: zero beyond.
    """
    n = int(lengths.max())
    out = arr[:n]
    beyond = np.arange(n)[:, None] >= lengths[None]
    if beyond.any():
        out = out.copy()
        out[beyond] = 0.0
    return out


def _drop_roundoff(out: np.ndarray, members: int, axis: int) -> None:
    """Set to 0 what is below :data:`_ROUNDOFF` of each member's largest value, in place.

    ``out``'s axis ``axis`` is the member axis (all axes before it and its own are
    flattened as ``(..., K, rest)``).
    """
    flat = out.reshape(*out.shape[:axis], members, -1)
    other = tuple(i for i in range(flat.ndim) if i != axis)
    top = flat.max(axis=other, initial=0.0, keepdims=True)
    flat[flat < _ROUNDOFF * top] = 0.0


def _convolve(x: np.ndarray, pmf: np.ndarray, n: int) -> np.ndarray:
    """``out[i] = sum_l pmf[l] * x[i - l]`` for ``i < n``, along the first axis (by FFT).

    The mass ``x`` ``(m, K, ...)`` entering by month, spread by the delays ``pmf``: one
    distribution per member ``(J, K)``, or one per member and stratum (the shape of
    ``x``). The inputs are non-negative, so values below :data:`_ROUNDOFF` of a
    member's largest are the transform's round-off and set to 0 (a direct product
    would be slower, and a matrix product waits on BLAS threads).
    """
    size = len(x) + len(pmf) - 1
    length = 1 << (size - 1).bit_length()
    k = x.shape[1]
    flat = x.reshape(len(x), k, -1)
    spectrum = np.fft.rfft(pmf.reshape(len(pmf), k, -1), length, axis=0)
    out = np.fft.irfft(spectrum * np.fft.rfft(flat, length, axis=0),
                       length, axis=0)[: min(n, size)]
    _drop_roundoff(out, k, 1)
    if n > size:
        out = np.concatenate([out, np.zeros((n - size, *out.shape[1:]))])
    return out.reshape(n, *x.shape[1:])


@njit(cache=True, nogil=True)
def _spread(buffer, t, k, kernel, lengths, rows, mass, skip):  # pragma: no cover - compiled
    """``buffer[r, q, t + j] += kernel[rows[r], skip + j] * mass[r, q]`` for ``j < k``.

    ``kernel`` ``(rows, J)`` holds one distribution per row (``lengths``: up to its last
    mass); the product first, then the sum (as NumPy's ``buffer += kernel * mass``; no
    fast-math), so the numbers are NumPy's. Time is the last axis of ``buffer`` and of
    ``kernel``, so the inner loop runs over contiguous months.
    """
    n_rows, n_cols = mass.shape
    for r in range(n_rows):
        kr = rows[r]
        n = min(lengths[kr] - skip, k)
        if n <= 0:
            continue
        w = kernel[kr, skip: skip + n]
        for q in range(n_cols):
            m = mass[r, q]
            if m != 0.0:
                out = buffer[r, q, t: t + n]
                for j in range(n):
                    out[j] += w[j] * m


@njit(cache=True, nogil=True)
def _causal_convolve(x, h, out):  # pragma: no cover - compiled
    """``out[r, i] += sum_k x[r, k] * h[r, i - k]`` for ``i < out.shape[1]``, per row ``r``.

    Direct sums (exact up to the order of addition, no transform round-off); rows
    whose input or kernel is 0 are skipped.
    """
    n_rows, n_out = out.shape
    n, m = x.shape[1], h.shape[1]
    for r in range(n_rows):
        if not h[r].any():
            continue
        for k in range(min(n, n_out)):
            w = x[r, k]
            if w != 0.0:
                for i in range(min(m, n_out - k)):
                    out[r, k + i] += w * h[r, i]


@njit(cache=True, nogil=True)
def _release(judged, served, cdf, served_row, out):  # pragma: no cover - compiled
    """Releases of detained suspects by months from their registration, ``out +=``.

    ``judged[r, n]``: the mass of row ``r`` sent to prison by a judgment ``n`` months
    after the registration; released at ``max(served, n)`` with the months served of
    row ``served_row[r]`` (``served`` and its cumulative ``cdf``, rows of months).
    """
    n_rows, n = judged.shape
    for r in range(n_rows):
        pmf = served[served_row[r]]
        cum = cdf[served_row[r]]
        before = 0.0  # judged strictly before offset j
        for j in range(n):
            x = judged[r, j]
            out[r, j] += pmf[j] * before + x * cum[j]
            before += x


@njit(cache=True, nogil=True)
def _exits(active, p_sig, p_ins, p_des, p_exp, p_other, signals, inspected, sums
           ):  # pragma: no cover - compiled
    """Undetected offending's exits of one month, in place (see :meth:`Twin._active_exits`).

    ``active`` ``(K, X, P, B, V)`` (``X`` the strata forms x sexes x age groups) keeps
    who stays; ``signals`` gets the signalled and exposed, ``inspected`` the
    inspected, ``sums[k, x]`` the signalled, desisted, exposed and the other offences
    of who stays (summed in four interleaved parts). Each element in NumPy's order of
    operations (signal, inspection, desistance, exposure), without fast-math.
    """
    n_k, n_x, n_p, n_b, n_v = active.shape
    n_e = n_b * n_v
    rows = n_k * n_x * n_p
    a2 = active.reshape(rows, n_e)
    s2 = signals.reshape(rows, n_e)
    i2 = inspected.reshape(rows, n_e)
    p_s = np.empty(n_e)  # by (birth year, visibility): the signal's and desistance's
    p_d = np.empty(n_e)
    acc = np.zeros((4, 4))
    for k in range(n_k):
        for x in range(n_x):
            p_i = p_ins[k, x]
            for b in range(n_b):
                for v in range(n_v):
                    p_s[b * n_v + v] = p_sig[k, x, v]
                    p_d[b * n_v + v] = p_des[k, x, b]
            acc[:] = 0.0
            for p in range(n_p):
                row = (k * n_x + x) * n_p + p
                p_e = p_exp[k, x, p]
                p_o = p_other[k, x, p]
                a_row, s_row, i_row = a2[row], s2[row], i2[row]
                for e in range(n_e):
                    a = a_row[e]
                    sig = a * p_s[e]
                    rest = a - sig
                    ins = rest * p_i
                    rest = rest - ins
                    des = rest * p_d[e]
                    rest = rest - des
                    exposed = rest * p_e
                    rest = rest - exposed
                    a_row[e] = rest
                    s_row[e] = sig + exposed
                    i_row[e] = ins
                    lane = e & 3
                    acc[lane, 0] += sig
                    acc[lane, 1] += des
                    acc[lane, 2] += exposed
                    acc[lane, 3] += rest * p_o
            for j in range(4):
                sums[k, x, j] = (acc[0, j] + acc[1, j]) + (acc[2, j] + acc[3, j])


@njit(cache=True, nogil=True)
def _enter(active, queued, p_drop, rate, priors, ages, reentries, signals, sums
           ):  # pragma: no cover - compiled
    """The month's entries into undetected offending and the queue, in place.

    ``active`` and ``queued`` ``(K, X, P, B, V)``: first-timers ``rate[k, x] *
    priors[k, x, p] * ages[k, x, b]`` (visibility 0), the queue's drops (a share
    ``p_drop[k]`` of it, back to offending) and the re-entries (``reentries`` ``(n, X,
    P, B, V)``: none (``n`` 0), one for every member (1) or one per member (``K``)) enter
    offending, in NumPy's order of addition; the month's ``signals`` join the queue.
    ``sums[k, x]``: the first-timers and the drops.
    """
    n_k, n_x, n_p, n_b, n_v = active.shape
    n_re = reentries.shape[0]
    for k in range(n_k):
        p_k = p_drop[k]
        k_re = 0 if n_re == 1 else k
        for x in range(n_x):
            s_in = 0.0
            s_drop = 0.0
            r = rate[k, x]
            for p in range(n_p):
                rp = r * priors[k, x, p]
                for b in range(n_b):
                    for v in range(n_v):
                        a = active[k, x, p, b, v]
                        if v == 0:
                            new = rp * ages[k, x, b]
                            a = a + new
                            s_in += new
                        q = queued[k, x, p, b, v]
                        if p_k > 0.0:
                            d = q * p_k
                            q = q - d
                            a = a + d
                            s_drop += d
                        if n_re > 0:
                            a = a + reentries[k_re, x, p, b, v]
                        active[k, x, p, b, v] = a
                        queued[k, x, p, b, v] = q + signals[k, x, p, b, v]
            sums[k, x, 0] = s_in
            sums[k, x, 1] = s_drop


@njit(cache=True, nogil=True)
def _charge(m, members, targets, young_class, prior_index, birth_index, out
            ):  # pragma: no cover - compiled
    """Undetected offending's mass ``m[members[i]]`` charged: ``out[targets[i]] +=``.

    ``m`` ``(K, F, S, A, P, B, V)``, ``out`` ``(K, F, S, C, P', B')``: visibility summed,
    the young (``A`` 0) in the class ``young_class[b]`` of their birth year, the adults
    in the adult class (the last); priors to ``prior_index[p]``, birth years to
    ``birth_index[b]``.
    """
    n_f, n_s, n_a, n_p, n_b, n_v = m.shape[1:]
    adult = out.shape[3] - 1
    for i in range(len(members)):
        k, o = members[i], targets[i]
        for f in range(n_f):
            for s in range(n_s):
                for a in range(n_a):
                    for p in range(n_p):
                        q = prior_index[p]
                        for b in range(n_b):
                            total = 0.0
                            for v in range(n_v):
                                total += m[k, f, s, a, p, b, v]
                            if total != 0.0:
                                c = young_class[b] if a == 0 else adult
                                out[o, f, s, c, q, birth_index[b]] += total


@lru_cache(maxsize=4096)
def _served_pmf(mean: float, cv: float, juvenile: bool, tail: float
                ) -> tuple[np.ndarray, np.ndarray | None, float]:
    """Months served (conditional release applied), split by conditional release.

    Returns the distribution of months served of the terms without conditional release
    and of those with it (``None`` under juvenile law, which has none), each a part of
    one pmf, and the mean term. A term is conditional where fewer months are served
    than imposed (adult law, over 12 months): a risk point at the supervision decision.
    """
    cap = spec.JUVENILE_MAX_MONTHS if juvenile else None
    terms = cached_sentence_pmf(mean, cv, cap)
    months = np.arange(len(terms))
    served = spec.time_served(months, juvenile)
    conditional = served < months
    n = served.max() + 1
    plain = np.bincount(served[~conditional], weights=terms[~conditional], minlength=n)
    mean_term = float(np.dot(months, terms))
    if not conditional.any():
        return _cut(plain, tail), None, mean_term
    cond = np.bincount(served[conditional], weights=terms[conditional], minlength=n)
    return (_cut(plain, tail, float(plain.sum())), _cut(cond, tail, float(cond.sum())),
            mean_term)


class _Due:
    """Mass due in future months, ``(K, F, S, C, P, B, months + 2)``: time last.

    ``due[t]`` is the mass due in month ``t`` (a view); :meth:`Twin._due` spreads mass
    over a row's future months, which are contiguous.
    """

    def __init__(self, shape: tuple[int, ...], months: int):
        self.a = np.zeros((*shape, months))

    def __getitem__(self, t: int) -> np.ndarray:
        return self.a[..., t]

    def __setitem__(self, t: int, value: np.ndarray) -> None:
        self.a[..., t] = value


@dataclass
class ExpectedFlows:
    """The twin's output.

    Attributes:
        params: The parameters it was computed from.
        events: Expected events, shape ``(months + 1, events, forms, sexes, classes)``
            (:data:`CLASSES`; before the charge the young count in class 0, see the
            module's docstring).
        prison_terms: Expected sum of prison terms imposed (months), shape
            ``(months + 1, forms, sexes, classes)``; divided by the ``prison`` events
            it gives the mean term.
        reentries: Expected re-entries into offending from after the chain
            (reoffences and resumptions after a case without sanction), shape
            ``(months + 1, forms, sexes, age groups, priors, birth years, visibility)``
            (full mode; the chain mode takes them as its ``reentries``).
        stocks: Expected offenders per stage at the end of every month that the
            twin tracks as a stock (``active``, ``signalled``, ``free``,
            ``probation``, ``desisted``), shape ``(months + 1, stages)`` in
            :class:`chainsim.chain.spec.Stage` order (other stages left 0; in chain
            mode ``free`` and ``probation`` count everyone who ever got there).
    """

    params: ParameterSet
    events: np.ndarray
    prison_terms: np.ndarray
    reentries: np.ndarray | None
    stocks: np.ndarray

    def count(self, *events: Event) -> np.ndarray:
        """Expected count per month of the given events (all strata)."""
        return self.events[:, list(events)].sum(axis=(1, 2, 3, 4))

    def yearly(self, *events: Event) -> dict[int, float]:
        """Expected count per calendar year of the given events."""
        per_month = self.count(*events)
        years = self.params.months // 12
        return {int(y): float(per_month[years == y].sum()) for y in np.unique(years)}


Reentries = np.ndarray | Sequence[np.ndarray | None] | None
"""Re-entries for the chain mode: none, one array for every member, or one per member."""


class Twin:
    """Expected flows of the chain for one parameter set, or for a batch of them.

    Every state array has a leading member axis ``K`` (1 for one parameter set): the
    members share the code, each month's loop and every array operation, and differ
    in every parameter (durations, trends, capacities, shares). Buffers of what is
    due in future months are ``(months + 2, K, ...)``, duration distributions
    ``(J, K, ...)`` (padded with zeros to the longest member's).

    Args:
        params: Resolved parameters (the same the agent model takes), or a sequence
            of them with the same start, horizon and strata (a batch).
        full: Track priors and birth years through the chain and what happens
            after it (exact); ``False`` for the fast chain mode (see the module's
            docstring).
        reentries: In chain mode, expected re-entries into offending per month
            (reoffences and resumptions, by priors and visibility: a full run's
            :attr:`ExpectedFlows.reentries`): one array for every member, or a
            sequence with one per member (``None`` for none); none if omitted.
        tail: Cut duration distributions where less than this mass remains.

    Raises:
        ValueError: An empty batch, members with different horizons or strata, or
            not one re-entry array per member.
    """

    def __init__(self, params: ParameterSet | Sequence[ParameterSet], full: bool = True,
                 reentries: Reentries = None, tail: float = 1e-12):
        self.ps = (params,) if isinstance(params, ParameterSet) else tuple(params)
        if not self.ps:
            raise ValueError("the twin needs at least one parameter set")
        self.p = self.ps[0]
        for p in self.ps[1:]:
            if p.start != self.p.start or p.n_months != self.p.n_months:
                raise ValueError("every member of a batch needs the same start and horizon")
            if p.values.keys() != self.p.values.keys() or any(
                    p.values[n].shape != v.shape for n, v in self.p.values.items()):
                raise ValueError("every member of a batch needs the same strata")
        self.K = len(self.ps)
        self.full = full
        self.tail = tail
        self.reentries_in: np.ndarray | None = None
        self.reentries_each: list[np.ndarray | None] | None = None
        if isinstance(reentries, np.ndarray):
            self.reentries_in = reentries
        elif reentries is not None:
            self.reentries_each = list(reentries)
            if len(self.reentries_each) != self.K:
                raise ValueError(f"{len(self.reentries_each)} re-entry arrays for "
                                 f"{self.K} members")
        self._memo: dict = {}
        self.T = self.p.n_months
        self._sentences_vary = any(self._varies(n) for n in (
            "prison_months_mean", "prison_months_cv", "juvenile_sentence_factor"))
        self.years = self.p.months // 12
        first, last = int(self.years[0]), int(self.years[-1])
        self.birth_years = np.arange(first - spec.MAX_ONSET_AGE + 1,
                                     last - spec.YOUNG_MIN_ONSET_AGE + 1)
        self.B = len(self.birth_years)
        # undetected offending: (forms, sexes, age groups, priors, birth years, visibility)
        self.active_shape = (N_FORMS, N_SEXES, N_AGE_GROUPS, N_PRIORS, self.B, N_VISIBILITY)
        # the chain: (forms, sexes, classes, priors, birth years); the chain mode keeps
        # birth years only until the charge, and of the priors only whether there was a
        # conviction before this case (the supervision decision's risk point)
        self.shape = (N_FORMS, N_SEXES, N_CLASSES, N_PRIORS, self.B)
        self.chain_shape = self.shape if full else (N_FORMS, N_SEXES, N_CLASSES, 2, 1)
        # the risk point of an earlier conviction, by the chain's prior index at the
        # supervision decision: two priors counting this conviction (full mode), or a
        # conviction before this case (chain mode: priors are not shifted at conviction)
        self.earlier = np.arange(self.chain_shape[3]) >= (2 if full else 1)

    # ------------------------------------------------------------------ helpers

    def stacked(self, name: str) -> np.ndarray:
        """A parameter of every member, ``(months + 1, K, forms, age groups, sexes)`` (cached)."""
        key = ("stacked", name)
        arr = self._memo.get(key)
        if arr is None:
            arr = self._memo[key] = np.stack([p.values[name] for p in self.ps], axis=1)
        return arr

    def strat(self, name: str, t: int) -> np.ndarray:
        """A parameter at month ``t`` as ``(K, forms, sexes, classes, 1, 1)``."""
        return self.strata(name)[t]

    def strata(self, name: str) -> np.ndarray:
        """A parameter over time as ``(months + 1, K, forms, sexes, classes, 1, 1)`` (cached)."""
        arr = self._memo.get(name)
        if arr is None:
            v = self.stacked(name)[:, :, :, CLASS_AGE_GROUP, :]  # (T, K, F, C, S)
            arr = self._memo[name] = np.ascontiguousarray(
                v.transpose(0, 1, 2, 4, 3))[..., None, None]
        return arr

    def active_strat(self, name: str, t: int) -> np.ndarray:
        """A parameter at month ``t`` for undetected offending: ``(K, F, S, A, 1, 1, 1)``."""
        return self.active_strata(name)[t]

    def active_strata(self, name: str) -> np.ndarray:
        """A parameter over time as ``(months + 1, K, F, S, A, 1, 1, 1)`` (cached)."""
        key = ("active", name)
        arr = self._memo.get(key)
        if arr is None:
            v = self.stacked(name)  # (T, K, F, A, S)
            arr = self._memo[key] = np.ascontiguousarray(
                v.transpose(0, 1, 2, 4, 3))[..., None, None, None]
        return arr

    def _exit_probabilities(self) -> tuple[np.ndarray, ...]:
        """Monthly probabilities of undetected offending's exits over time (cached).

        By stratum ``X`` (forms x sexes x age groups): signal by visibility ``(months + 1,
        K, X, V)``, inspection ``(months + 1, K, X)``, the integrated hazard of
        desistance at age 30 ``(months + 1, K, X)`` (the age factor is applied month by
        month, :meth:`_desistance`) and an exposing arrest by priors ``(months + 1, K, X,
        P)``; then the other offending that goes on while active: an offence that
        exposes nothing (in a month without an exposing arrest) by priors ``(months + 1,
        K, X, P)``, and the probability it registers ``(months + 1, K, F, S, A)``
        (:meth:`chainsim.chain.parameters.ParameterSet.active_offending`).
        """
        out = self._memo.get("exits")
        if out is None:
            n, k = self.T + 1, self.K
            x = N_FORMS * N_SEXES * N_AGE_GROUPS
            signal = spec.scale_probability(np.concatenate(
                [self.active_strata(name) for name in spec.SIGNAL_HAZARDS], axis=-1), 1.0)
            inspect = spec.scale_probability(self.active_strata("inspection_hazard"), 1.0)
            desist = spec.monthly_hazard(self.active_strata("desistance_hazard"))
            other = [p.active_offending() for p in self.ps]

            def by_priors(key: str) -> np.ndarray:
                # K x (F, A, S, P, T) -> (T, K, F, S, A, P) -> (T, K, X, P)
                h = np.stack([o[key] for o in other])
                return np.ascontiguousarray(
                    (-np.expm1(-h)).transpose(5, 0, 1, 3, 2, 4)).reshape(n, k, x, N_PRIORS)

            registered = np.ascontiguousarray(
                np.stack([o["registered"] for o in other], axis=1).transpose(0, 1, 2, 4, 3))
            out = self._memo["exits"] = (
                np.ascontiguousarray(signal.reshape(n, k, x, N_VISIBILITY)),
                np.ascontiguousarray(inspect.reshape(n, k, x)),
                np.ascontiguousarray(desist.reshape(n, k, x)),
                by_priors("expose_h"), by_priors("other_h"), registered)
        return out

    def _desistance(self, t: int, hazard: np.ndarray) -> np.ndarray:
        """Monthly desistance probability of undetected offending at ``t`` by birth year.

        ``hazard``: the integrated hazard at age 30 by stratum, ``(K, X)``; returns
        ``(K, X, B)`` (:func:`chainsim.chain.spec.desistance_probability`).
        """
        factor = self.scalar("desistance_age_factor", t)[:, None]
        mult = spec.age_factor(self.ages(t), factor)  # (K, B)
        return -np.expm1(-mult[:, None, :] * hazard[:, :, None])

    def scalars(self, name: str) -> np.ndarray:
        """A parameter that does not vary by stratum, ``(months + 1, K)`` (cached)."""
        key = ("scalar", name)
        arr = self._memo.get(key)
        if arr is None:
            arr = self._memo[key] = np.ascontiguousarray(self.stacked(name)[:, :, 0, 0, 0])
        return arr

    def scalar(self, name: str, t: int) -> np.ndarray:
        """A parameter that does not vary by stratum, at month ``t``: one per member ``(K,)``."""
        return self.scalars(name)[t]

    def ages(self, t: int) -> np.ndarray:
        """Age in month ``t`` of every birth year."""
        return self.years[t] - self.birth_years

    def _charged(self, t: int, m: np.ndarray, members: np.ndarray | None = None,
                 out: np.ndarray | None = None) -> np.ndarray:
        """Mass ``m`` of undetected offending charged at month ``t``, as the chain holds it.

        Visibility is dropped; the young are classed by their age at the charge (now),
        the adults stay adult. The chain mode keeps of the priors whether there are any,
        and no birth years (compiled, :func:`_charge`). Only the ``members`` given (all
        by default), added to ``out`` if given.
        """
        if out is None:
            out = np.zeros((self.K, *self.chain_shape))
        members = np.arange(self.K) if members is None else members
        _charge(np.ascontiguousarray(m), members, members, *self._charge_maps(t), out)
        return out

    def _charge_maps(self, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For :func:`_charge` at ``t``: birth years' young class, priors' and births' places."""
        key = ("charge", int(self.years[t]))
        young = self._memo.get(key)
        if young is None:
            young = self._memo[key] = charge_class(self.ages(t)).astype(np.int64)
        maps = self._memo.get("charge_maps")
        if maps is None:
            priors = np.arange(N_PRIORS) if self.full else np.minimum(np.arange(N_PRIORS), 1)
            births = np.arange(self.B) if self.full else np.zeros(self.B, dtype=np.int64)
            maps = self._memo["charge_maps"] = (priors.astype(np.int64), births.astype(np.int64))
        return young, *maps

    def _new_spell(self, t: int, m: np.ndarray, visibility: int) -> np.ndarray:
        """Chain mass ``m`` starting a new spell at ``t``: age group of now, ``visibility``."""
        by_birth = m.sum(axis=3)  # (K, F, S, P, B)
        young = self.ages(t) < spec.YOUNG_AGE_LIMIT
        out = np.zeros((self.K, *self.active_shape))
        out[:, :, :, 0, :, :, visibility] = by_birth * young
        out[:, :, :, 1, :, :, visibility] = by_birth * ~young
        return out

    def _kernel(self, name_mean: str, name_cv: str, t: int) -> np.ndarray:
        """Duration distributions per member and stratum at ``t``: ``(J, K, F, S, C, 1, 1)``."""
        key = ("kernel", name_mean, name_cv,
               t if self._varies(name_mean) or self._varies(name_cv) else 0)
        cached = self._memo.get(key)
        if cached is None:
            cached = self._memo[key] = self._kernel_uncached(name_mean, name_cv, t)
        return cached

    def _kernel_uncached(self, name_mean: str, name_cv: str, t: int) -> np.ndarray:
        """Each member's and stratum's distribution, cut on its own, padded with zeros.

        Cut at the horizon too (``T + 1`` months; nothing later is used).
        """
        means = self.strat(name_mean, t)[..., 0, 0]
        cvs = self.strat(name_cv, t)[..., 0, 0]
        pairs, where = np.unique(np.stack([means.ravel(), cvs.ravel()], axis=1), axis=0,
                                 return_inverse=True)
        pmfs = [_cut(cached_duration_pmf(float(m), float(c)), self.tail) for m, c in pairs]
        # to the horizon: a duration starting at t >= 0 needs at most T + 1 months
        table = np.zeros((min(max(len(x) for x in pmfs), self.T + 1), len(pmfs)))
        for i, pmf in enumerate(pmfs):
            table[: len(pmf), i] = pmf[: len(table)]
        return np.ascontiguousarray(table[:, where.ravel()]).reshape(
            len(table), *means.shape, 1, 1)

    def _due(self, buffer: _Due, t: int, kernel: np.ndarray, mass: np.ndarray,
             skip: int = 0) -> None:
        """Spread ``mass`` entering at ``t`` over future months by ``kernel[skip:]``.

        ``buffer`` holds ``(K, F, S, C, ...)`` by month, ``mass`` is ``(K, F, S, C, ...)``
        and ``kernel`` ``(J, K, F or 1, S or 1, C or 1, 1, 1)``; compiled
        (:func:`_spread`), each row up to its last mass.
        """
        if min(len(kernel) - skip, self.T + 1 - t) <= 0:
            return
        self._spread(buffer, t, self._kernel_rows(kernel, buffer.a.shape[:4]), mass, skip)

    def _spread(self, buffer: _Due, t: int, kernel: tuple[np.ndarray, np.ndarray, np.ndarray],
                mass: np.ndarray, skip: int = 0) -> None:
        """:meth:`_due` with the kernel as rows, their lengths and each stratum's row."""
        rows, lengths, mapping = kernel
        k = min(rows.shape[1] - skip, self.T + 1 - t)
        if k <= 0:
            return
        arr = buffer.a
        n_rows = len(mapping)
        if mass.size != n_rows * math.prod(arr.shape[4:-1]):
            raise ValueError(f"mass {mass.shape} does not fit the buffer {arr.shape}")
        _spread(arr.reshape(n_rows, -1, arr.shape[-1]), t, k, rows, lengths, mapping,
                np.ascontiguousarray(mass).reshape(n_rows, -1), skip)

    def _kernel_rows(self, kernel: np.ndarray, head: tuple[int, ...]
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A kernel as rows ``(K x F x S x C, J)``, each row's length, and the row of each stratum.

        Kept for the last :data:`_ROWS_KEPT` kernels (with the kernel, so its ``id`` is
        not reused while kept).
        """
        cache = self._memo.setdefault("kernel_rows", {})
        hit = cache.get(id(kernel))
        if hit is not None and hit[0] is kernel:
            return hit[1]
        rows = np.ascontiguousarray(kernel.reshape(len(kernel), -1).T)
        nonzero = rows != 0
        lengths = np.where(nonzero.any(axis=1),
                           rows.shape[1] - np.argmax(nonzero[:, ::-1], axis=1), 0)
        kshape = kernel.shape[1:5]
        mapping = np.ascontiguousarray(np.broadcast_to(
            np.arange(math.prod(kshape)).reshape(kshape), head)).ravel()
        if len(cache) >= _ROWS_KEPT:
            del cache[next(iter(cache))]
        cache[id(kernel)] = (kernel, (rows, lengths.astype(np.int64), mapping))
        return cache[id(kernel)][1]

    def _record(self, t: int, event: Event, mass: np.ndarray) -> None:
        """Count chain mass ``(K, F, S, C, P, B)`` as ``event`` at month ``t``."""
        self.ev[t, event] += mass.sum(axis=(4, 5))

    def _record_active(self, t: int, event: Event, mass: np.ndarray) -> None:
        """Count undetected offending's mass ``(K, F, S, A, ...)`` (by age group, :meth:`run`)."""
        self.ev_active[t, event] += mass.reshape(
            self.K, N_FORMS, N_SEXES, N_AGE_GROUPS, -1).sum(axis=4)

    def _total(self, m: np.ndarray) -> np.ndarray:
        """Each member's total of ``m`` ``(K, ...)``."""
        return m.reshape(self.K, -1).sum(axis=1)

    # --------------------------------------------------------------------- run

    def run(self) -> ExpectedFlows:
        """Compute the expected flows over the whole horizon (one parameter set).

        Raises:
            ValueError: The twin holds a batch (use :meth:`run_batch`).
        """
        if self.K != 1:
            raise ValueError(f"a batch of {self.K} members: use run_batch()")
        return self.run_batch()[0]

    def run_batch(self) -> list[ExpectedFlows]:
        """Compute the expected flows over the whole horizon, one per member."""
        T, K = self.T, self.K
        self.ev = np.zeros((T + 1, N_EVENTS, K, N_FORMS, N_SEXES, N_CLASSES))
        self.ev_active = np.zeros((T + 1, N_EVENTS, K, N_FORMS, N_SEXES, N_AGE_GROUPS))
        self.terms = np.zeros((T + 1, K, N_FORMS, N_SEXES, N_CLASSES))
        self.stocks = np.zeros((T + 1, K, len(spec.Stage)))
        chain = (K, *self.chain_shape)
        self.inv_due = _Due(chain, T + 2)       # police investigation ends -> traced
        self.insp_due = _Due(chain, T + 2)      # other services' investigation ends
        self.om_due = _Due(chain, T + 2)        # OM decisions at liberty
        self.om_due_detained = _Due(chain, T + 2)  # OM decisions in pre-trial detention
        self.trial_due = _Due(chain, T + 2)     # judgments of suspects at liberty
        self.appeal_due = _Due(chain, T + 2)    # appeal judgments of appellants at liberty
        # outcomes of the suspects detained from the arrest after a summons, scheduled
        # when detention begins; releases without and with conditional release (a risk
        # point for supervision); what is only recorded needs no priors or birth years
        self.sentenced = {k: _Due(chain, T + 2) for k in ("acquitted", "non_custodial",
                                                          "release", "release_cond")}
        self.sentenced.update({k: _Due((K, N_FORMS, N_SEXES, N_CLASSES, 1, 1), T + 2)
                               for k in ("appealed", "convicted", "prison")})
        self.terms_due = np.zeros((T + 2, K, N_FORMS, N_SEXES, N_CLASSES))
        self.recall_due = _Due(chain, T + 2) if self.full else None  # releases from a recall
        self.reentries = np.zeros((T + 1, K, *self.active_shape)) if self.full else None
        self.active = np.zeros((K, *self.active_shape))
        self.no_sanction = np.zeros((K, *self.chain_shape))  # this month's cases without sanction
        self.free = np.zeros((K, *self.chain_shape))
        # supervision: the supervised mass, and the endings scheduled for each month in
        # units of the supervised survival up to entry (exits hit every remaining
        # length alike, so an ending is the scheduled amount times the survival since)
        self.supervised = np.zeros((K, *self.chain_shape))
        self.survival = np.ones((K, *self.chain_shape)) if self.full else None
        self.ends_due = _Due(chain, T + 2) if self.full else None
        # under a probation capacity: the month's supervisions ordered (decided at its
        # end), and in chain mode the caseload by month from the supervision's length only
        self.requests: np.ndarray | None = None
        self.open_supervisions = np.zeros((T + 2, K))
        # the queue: signal cohorts oldest first, their masses per member (K, cohorts)
        # and their signals (K, *active_shape) each; all cohorts' mass together
        self.queue_mass = np.zeros((K, 0))
        self.queue_total = np.ones((K, 0))  # each cohort's mass when it arrived
        self.queue: list[np.ndarray] = []
        self.queued = np.zeros((K, *self.active_shape))
        self.credit = np.zeros(K)
        self._initial_pool()
        self._stock(0)
        for t in range(1, T + 1):
            self._month(t)
            self._stock(t)
        self.ev[..., AGE_GROUP_CLASS] += self.ev_active  # the young in class 0
        return [ExpectedFlows(p, np.ascontiguousarray(self.ev[:, :, k]),
                              np.ascontiguousarray(self.terms[:, k]),
                              None if self.reentries is None
                              else np.ascontiguousarray(self.reentries[:, k]),
                              np.ascontiguousarray(self.stocks[:, k]))
                for k, p in enumerate(self.ps)]

    def _stock(self, t: int) -> None:
        s = self.stocks[t]
        s[:, spec.Stage.ACTIVE] = self._total(self.active)
        s[:, spec.Stage.SIGNALLED] = self.queue_mass.sum(axis=1)
        s[:, spec.Stage.FREE] = self._total(self.free)
        s[:, spec.Stage.PROBATION] = self._total(self.supervised)
        s[:, spec.Stage.DESISTED] = (self.stocks[t - 1, :, spec.Stage.DESISTED] if t > 0
                                     else 0.0) + (self._total(self.ev[t, Event.DESISTED])
                                                  + self._total(self.ev_active[t, Event.DESISTED]))

    def _varies(self, name: str) -> bool:
        """Whether a parameter changes over time in any member."""
        key = ("varies", name)
        if key not in self._memo:
            self._memo[key] = any(bool((p.values[name] != p.values[name][0]).any())
                                  for p in self.ps)
        return self._memo[key]

    # ------------------------------------------------------------------ inflow

    def _newcomer_factors(self, t: int, stratum_rate: np.ndarray
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """First-timers' factors by stratum ``X`` (their product: :meth:`_newcomers`).

        Counts ``(K, X)``, priors ``(K, X, P)`` and onset ages as birth years ``(K, X, B)``.
        """
        k = self.K
        ages = self._age_matrices(t)                                     # (K, A, B)
        q = self.stacked("prior_conviction_share")[t, :, :, 0, 0]        # (K, F)
        priors = np.stack([1 - q, q / 2, q / 4, q / 4], axis=-1)  # spec.prior_convictions_pmf
        rate = stratum_rate.transpose(0, 1, 3, 2)                        # (K, F, S, A)
        shape = (k, N_FORMS, N_SEXES, N_AGE_GROUPS)
        return (np.ascontiguousarray(rate).reshape(k, -1),
                np.ascontiguousarray(np.broadcast_to(priors[:, :, None, None, :],
                                                     (*shape, N_PRIORS))).reshape(k, -1,
                                                                                  N_PRIORS),
                np.ascontiguousarray(np.broadcast_to(ages[:, None, None, :, :],
                                                     (*shape, self.B))).reshape(k, -1, self.B))

    def _newcomers(self, t: int, stratum_rate: np.ndarray) -> np.ndarray:
        """Expected offenders starting at month ``t`` from per-stratum counts ``(K, F, A, S)``.

        Returned as ``(K, F, S, A, P, B)``: first-timers, whose visibility is 0.
        """
        ages = self._age_matrices(t)                                     # (K, A, B)
        q = self.stacked("prior_conviction_share")[t, :, :, 0, 0]        # (K, F)
        priors = np.stack([1 - q, q / 2, q / 4, q / 4], axis=-1)  # spec.prior_convictions_pmf
        rate = stratum_rate.transpose(0, 1, 3, 2)[:, :, :, :, None, None]  # (K, F, S, A, 1, 1)
        return (rate * priors[:, :, None, None, :, None]) * ages[:, None, None, :, None, :]

    def _age_matrices(self, t: int) -> np.ndarray:
        """Onset-age distributions of every member at ``t``, by birth year ``(K, A, B)``."""
        year = int(self.years[t])
        key = ("ages", year, t if self._varies("adult_onset_excess_years") else 0)
        out = self._memo.get(key)
        if out is None:
            out = self._memo[key] = np.stack([self._age_matrix(year, float(e)) for e in
                                              self.scalar("adult_onset_excess_years", t)])
        return out

    def _age_matrix(self, year: int, excess: float) -> np.ndarray:
        """Onset-age distribution by age group, as birth year ``(A, B)``."""
        key = ("age", year, excess)
        out = self._memo.get(key)
        if out is None:
            out = np.zeros((N_AGE_GROUPS, self.B))
            for a, young in ((0, True), (1, False)):
                pmf = spec.onset_age_pmf(young, excess)
                ages = np.nonzero(pmf)[0]
                out[a, year - ages - self.birth_years[0]] = pmf[ages]
            self._memo[key] = out
        return out

    def _initial_pool(self) -> None:
        pool = self._newcomers(0, np.stack([p.initial_pool_rates() for p in self.ps]))
        self.active[..., spec.VISIBILITY_FIRST] += pool
        self._record_active(0, Event.POOL, pool)

    # ------------------------------------------------------------------- month

    def _month(self, t: int) -> None:
        self.t_now = t
        # events of month t are computed from the masses present before it; whatever
        # enters a stage in month t is first exposed in month t + 1 (as in the agents)
        signals, inspected, arrived = self._active_exits(t)
        p_drop = self._queue_drops(t)
        # life after the chain first: who leaves the chain in month t is exposed from t + 1
        reentries = self._after_chain(t) if self.full else None
        self._investigations_end(t)
        self._om_decisions(t)
        self._judgments(t)
        resumed = self._resumption(t)
        self._releases(t)
        self._recalls(t)
        self._decide_supervision(t)
        # entries of month t: first-timers, the queue's drops, re-entries; the signals
        # join the queue
        if reentries is not None:
            reentries += resumed
            self.reentries[t] = reentries
        elif self.reentries_in is not None:
            reentries = self.reentries_in[t][None]
        elif self.reentries_each is not None:
            reentries = np.stack([np.zeros(self.active_shape) if arr is None else arr[t]
                                  for arr in self.reentries_each])
        self._enter(t, p_drop, reentries, signals)
        insp = self._charged(t, inspected)
        self._record(t, Event.INSPECTED, insp)
        self._due(self.insp_due, t + 1, self._kernel("investigation_months",
                                                     "investigation_cv", t), insp, 1)
        self._queue_arrivals(t, signals, arrived)
        self._serve_queue(t)

    def _enter(self, t: int, p_drop: np.ndarray, reentries: np.ndarray | None,
               signals: np.ndarray) -> None:
        """Entries of month ``t`` (compiled, :func:`_enter`); first-timers and drops counted.

        First-timers (:meth:`_newcomers`), the queue's drops (a share ``p_drop`` per
        member), re-entries ``(1 or K, F, S, A, P, B, V)`` (or none) enter offending; the
        month's ``signals`` join the queue's mass.
        """
        k, x = self.K, N_FORMS * N_SEXES * N_AGE_GROUPS
        rate, priors, ages = self._newcomer_factors(t, self.stacked("inflow_stratum_rate")[t]
                                                    / 12.0)
        flat = (k, x, N_PRIORS, self.B, N_VISIBILITY)
        if reentries is None:
            reentries = np.zeros((0, *self.active_shape))
        sums = np.empty((k, x, 2))
        _enter(self.active.reshape(flat), self.queued.reshape(flat), p_drop, rate, priors,
               ages, np.ascontiguousarray(reentries).reshape(len(reentries), *flat[1:]),
               signals.reshape(flat), sums)
        sums = sums.reshape(k, N_FORMS, N_SEXES, N_AGE_GROUPS, 2)
        self.ev_active[t, Event.INFLOW] += sums[..., 0]
        self.ev_active[t, Event.DROPPED] += sums[..., 1]

    def _active_exits(self, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Undetected offending in month ``t``: its exits, and the other offences of who stays.

        The exits in the agents' tie order: signalled, inspected, desisted, exposed by an
        arrest for another offence. Returns the mass for the queue (signalled and
        exposed), the inspected, and each member's total for the queue. Offences that
        expose nothing fall in the months before the one the spell ends in (as after the
        chain): from the mass that stays. One compiled pass over the state (:func:`_exits`).
        """
        a = self.active
        p_sig, p_ins, h_des, p_exp, p_other, registered = (
            arr[t] for arr in self._exit_probabilities())
        k, x = self.K, N_FORMS * N_SEXES * N_AGE_GROUPS
        signals, inspected = np.empty_like(a), np.empty_like(a)
        sums = np.empty((k, x, 4))
        flat = (k, x, N_PRIORS, self.B, N_VISIBILITY)
        _exits(a.reshape(flat), p_sig, p_ins, self._desistance(t, h_des), p_exp, p_other,
               signals.reshape(flat), inspected.reshape(flat), sums)
        sums = sums.reshape(k, N_FORMS, N_SEXES, N_AGE_GROUPS, 4)
        ev = self.ev_active[t]
        ev[Event.SIGNALLED] += sums[..., 0]
        ev[Event.DESISTED] += sums[..., 1]
        ev[Event.EXPOSED] += sums[..., 2]
        ev[Event.GENERAL_OFFENCE] += sums[..., 3]
        ev[Event.GENERAL_CASE] += sums[..., 3] * registered
        return signals, inspected, (sums[..., 0] + sums[..., 2]).reshape(k, -1).sum(axis=1)

    # ------------------------------------------------------------------- queue

    def _queue_arrivals(self, t: int, signals: np.ndarray, total: np.ndarray) -> None:
        """The month's signals (their totals ``total``) join the queue as one cohort.

        Kept as they are with their totals (a member without signals has a cohort of 0);
        their mass joined the queue's with the entries (:meth:`_enter`).
        """
        if not (total > 0).any():
            return
        self.queue.append(signals)
        mass = np.where(total > 0, total, 0.0)[:, None]
        self.queue_mass = np.concatenate([self.queue_mass, mass], axis=1)
        self.queue_total = np.concatenate([self.queue_total, np.where(mass > 0, mass, 1.0)],
                                          axis=1)

    def _trim_queue(self) -> None:
        """Forget the cohorts no member has left."""
        keep = (self.queue_mass > 0).any(axis=0)
        if not keep.all():
            self.queue_mass = self.queue_mass[:, keep]
            self.queue_total = self.queue_total[:, keep]
            self.queue = [c for c, k in zip(self.queue, keep, strict=True) if k]

    def _queue_drops(self, t: int) -> np.ndarray:
        """Signals not followed up: back to offending, their visibility unchanged.

        Every cohort loses the same share, so the drops are that share of the queue;
        returns the share per member (0 for a member without a queue), which the
        month's entries take from the queue's mass (:meth:`_enter`).
        """
        p = spec.scale_probability(self.scalar("queue_drop_hazard", t), 1.0)
        p = np.where((self.queue_mass > 0).any(axis=1), p, 0.0)  # (K,): members with a queue
        if (p > 0).any():
            self.queue_mass -= self.queue_mass * p[:, None]
            self.queue_mass[self.queue_mass <= _QUEUE_EMPTY] = 0.0
            self._trim_queue()
        return p

    def _serve_queue(self, t: int) -> None:
        """Investigations start: the charge, at the age of this month.

        Each member serves ``min(queue, floor(credit))``, its oldest cohorts first.
        """
        self.credit += self.scalar("investigation_capacity", t) / 12.0
        total = self.queue_mass.sum(axis=1)
        n = np.minimum(total, np.floor(self.credit))
        self.credit = np.minimum(self.credit - n, 1.0)
        whole = n >= total  # the whole queue
        charged = np.zeros((self.K, *self.chain_shape))
        served = np.flatnonzero(whole)
        if len(served):
            self._charged(t, self.queued, served, charged)
            if len(served) == self.K:
                self.queued.fill(0.0)
                self.queue_mass.fill(0.0)
            else:
                self.queued[served] = 0.0
                self.queue_mass[served] = 0.0
        part = np.flatnonzero(~whole)
        if len(part):
            mass = self.queue_mass
            ahead = np.cumsum(mass[part], axis=1) - mass[part]
            take = np.clip(np.minimum(mass[part], n[part, None] - ahead), 0.0, None)
            taken = np.zeros((len(part), *self.active_shape))
            for i, k in enumerate(part.tolist()):
                for c in np.flatnonzero(take[i]).tolist():  # oldest first
                    taken[i] += take[i, c] / self.queue_total[k, c] * self.queue[c][k]
                self.queued[k] -= taken[i]
            _charge(taken, np.arange(len(part)), part, *self._charge_maps(t), charged)
            mass[part] -= take
            mass[mass <= 1e-12 * np.maximum(total, 1.0)[:, None]] = 0.0
            self.queued[part[~(mass[part] > 0).any(axis=1)]] = 0.0
        self._trim_queue()
        self._record(t, Event.INVESTIGATION_STARTED, charged)
        self._due(self.inv_due, t + 1,
                  self._kernel("investigation_months", "investigation_cv", t), charged, 1)

    # ----------------------------------------------------------- prosecution

    def _investigations_end(self, t: int) -> None:
        """Arrests and registrations at the OM: at liberty, or detained from now on."""
        share = self.strat("pretrial_detention_share", t)
        registered = self.inv_due[t] + self.insp_due[t]
        for buffer, event in ((self.inv_due, Event.TRACED),
                              (self.insp_due, Event.REGISTERED_OTHER)):
            self._record(t, event, buffer[t])
        detained = registered * share
        self._due(self.om_due, t + 1, self._kernel("om_decision_months", "om_decision_cv", t),
                  registered - detained, 1)
        self._detained(t, detained)

    def _om_decisions(self, t: int) -> None:
        """OM decisions of month ``t``, at liberty and in pre-trial detention.

        A detained suspect summoned stays detained: the judgments and sentences are
        scheduled now (:meth:`_detained_summoned`), the releases were with the detention.
        """
        m = self.om_due[t]
        held = self.om_due_detained[t]
        technical = self.strat("technical_dismissal_share", t)
        policy = self.strat("policy_dismissal_share", t)
        other = self.strat("other_disposal_share", t)
        summons = self._summons()[t]
        both = m + held
        for share, event in ((technical, Event.TECHNICAL_DISMISSAL),
                             (policy, Event.POLICY_DISMISSAL),
                             (other, Event.OTHER_DISPOSAL)):
            self._record(t, event, both * share)
        self.no_sanction += both * (1 - summons)
        at_liberty = m * summons
        self._record(t, Event.SUMMONED, at_liberty)
        held_summoned = held * summons
        self._record(t, Event.SUMMONED_DETAINED, held_summoned)
        self._detained_summoned(t, held_summoned)
        self._due(self.trial_due, t + 1, self._kernel("trial_months", "trial_cv", t),
                  at_liberty, 1)

    def _summons(self) -> np.ndarray:
        """Share of OM decisions that summon, ``(months + 1, K, F, S, C, 1, 1)`` (cached)."""
        out = self._memo.get("summons")
        if out is None:
            out = self._memo["summons"] = 1.0 - (
                self.strata("technical_dismissal_share") + self.strata("policy_dismissal_share")
                + self.strata("other_disposal_share"))
        return out

    def _resumption(self, t: int) -> np.ndarray | None:
        """The month's cases without sanction: back to offending at once, or free.

        Whoever a dismissal, another disposal or an acquittal (``no_sanction``) let go
        in month ``t``. The resumed start a new spell (age group of now, visibility 1:
        registered at the OM), offending from ``t + 1``: returned (full mode) to enter
        with the other re-entries. In the chain mode their re-entry comes from the full
        run's (``reentries``), so only the event is counted here.
        """
        m = self.no_sanction
        self.no_sanction = np.zeros((self.K, *self.chain_shape))
        resumed = m * self.strat("resume_share", t)
        self.free += m - resumed
        if self.full:
            spell = self._new_spell(t, resumed, spec.VISIBILITY_KNOWN)
            self._record_active(t, Event.RESUMED, spell)
            return spell
        # no birth years: who was charged under 23 counts as young still
        ev = self.ev[t, Event.RESUMED]
        ev[..., 0] += resumed[:, :, :, :2].sum(axis=(3, 4, 5))
        ev[..., ADULT_CLASS] += resumed[:, :, :, 2:].sum(axis=(3, 4, 5))
        return None

    def _conviction_split(self, t: int) -> dict[str, np.ndarray]:
        """Shares of the mass judged at month ``t`` by outcome (see :meth:`_splits_uncached`)."""
        return {key: arr[t] for key, arr in self._splits_over_time().items()}

    def _splits_over_time(self) -> dict[str, np.ndarray]:
        cached = self._memo.get("splits")
        if cached is None:
            cached = self._memo["splits"] = self._splits_uncached()
        return cached

    def _splits_uncached(self) -> dict[str, np.ndarray]:
        """The branch shares of judgments and sentences over time, ``(months + 1, K, ...)``.

        At first instance: ``acquitted``, ``convicted`` (and of these, ``appealed``); on
        appeal: ``appeal_acquitted``; a final conviction's sentence: ``non_custodial``,
        ``prison_juvenile``, ``prison_adult`` (shares of the convicted).
        """
        conv = self.strata("conviction_prob")
        prison = self.strata("prison_prob")
        adolescent = self.scalars("adolescent_law_share")
        juvenile = np.zeros((len(adolescent), self.K, 1, 1, N_CLASSES, 1, 1))
        juvenile[:, :, 0, 0, 0] = 1.0
        juvenile[:, :, 0, 0, 1] = adolescent[:, :, None, None]
        return {"acquitted": 1 - conv, "convicted": conv,
                "appealed": self.strata("appeal_share"),
                "appeal_acquitted": self.strata("appeal_acquittal_share"),
                "non_custodial": 1 - prison, "prison_juvenile": prison * juvenile,
                "prison_adult": prison * (1 - juvenile)}

    def _served(self, t: int, juvenile: bool) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        key = ("served", t if self._sentences_vary else 0, juvenile)
        cached = self._memo.get(key)
        if cached is None:
            cached = self._memo[key] = self._served_uncached(t, juvenile)
        return cached

    def _served_uncached(self, t: int, juvenile: bool
                         ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """Months-served distributions per member and form ``(J, K, F)``, mean terms ``(K, F)``.

        Two parts of one distribution: the terms without conditional release, and those
        with it (``None`` under juvenile law).
        """
        factors = self.scalar("juvenile_sentence_factor", t) if juvenile else np.ones(self.K)
        cvs = self.scalar("prison_months_cv", t)
        means = self.stacked("prison_months_mean")[t, :, :, 0, 0]  # (K, F)
        parts = [[_served_pmf(max(float(means[k, f]) * float(factors[k]), 1.0),
                              float(cvs[k]), juvenile, self.tail) for f in range(N_FORMS)]
                 for k in range(self.K)]

        def stack(pmfs: list[list[np.ndarray | None]]) -> np.ndarray:
            out = np.zeros((max(len(x) for row in pmfs for x in row if x is not None),
                            self.K, N_FORMS))
            for k, row in enumerate(pmfs):
                for f, pmf in enumerate(row):
                    if pmf is not None:
                        out[: len(pmf), k, f] = pmf
            return out

        plain = stack([[part[0] for part in row] for row in parts])
        conds = [[part[1] for part in row] for row in parts]
        cond = None if all(c is None for row in conds for c in row) else stack(conds)
        return plain, cond, np.array([[part[2] for part in row] for row in parts])

    def _served_kernel(self, served: np.ndarray) -> np.ndarray:
        """Months served ``(J, K, F)`` as a kernel ``(J, K, F, 1, 1, 1, 1)`` (one view each)."""
        key = ("served_kernel", id(served))
        hit = self._memo.get(key)
        if hit is None or hit[0] is not served:
            hit = self._memo[key] = (served, served[:, :, :, None, None, None, None])
        return hit[1]

    def _shift_priors(self, m: np.ndarray) -> np.ndarray:
        """A conviction adds one prior (capped at 3 in the state; not in the chain mode)."""
        if not self.full:
            return m
        out = np.zeros_like(m)
        out[:, :, :, :, 1:] = m[:, :, :, :, :-1]
        out[:, :, :, :, -1] += m[:, :, :, :, -1]
        return out

    def _judgments(self, t: int) -> None:
        """Judgments of month ``t``: first instance and on appeal, at liberty and detained.

        The final convictions at liberty of both instances are sentenced together.
        """
        split = self._conviction_split(t)
        convicted = self._judge(t, self.trial_due[t], split)
        convicted = convicted + self._appeal_judgments(t, split)
        # detained suspects' outcomes were scheduled when detention began
        for key, event in (("appealed", Event.APPEALED_DETAINED), ("acquitted", Event.ACQUITTED),
                           ("convicted", Event.CONVICTED), ("prison", Event.PRISON),
                           ("non_custodial", Event.NON_CUSTODIAL)):
            self._record(t, event, self.sentenced[key][t])
        self.no_sanction += self.sentenced["acquitted"][t]
        self.terms[t] += self.terms_due[t]
        self._sentence(t, convicted, split, self.sentenced["non_custodial"][t])

    def _judge(self, t: int, m: np.ndarray, split: dict) -> np.ndarray:
        """First-instance judgments at liberty: acquitted, appealed, or (returned) final."""
        acquitted = m * split["acquitted"]
        self._record(t, Event.ACQUITTED, acquitted)
        self.no_sanction += acquitted
        guilty = m * split["convicted"]
        appealed = guilty * split["appealed"]
        self._record(t, Event.APPEALED, appealed)
        self._due(self.appeal_due, t + 1, self._kernel("appeal_months", "appeal_cv", t),
                  appealed, 1)
        return guilty * (1 - split["appealed"])

    def _appeal_judgments(self, t: int, split: dict) -> np.ndarray:
        """Appeal judgments of appellants at liberty: acquitted, or (returned) convicted."""
        m = self.appeal_due[t]
        acquitted = m * split["appeal_acquitted"]
        self._record(t, Event.ACQUITTED, acquitted)
        self.no_sanction += acquitted
        return m * (1 - split["appeal_acquitted"])

    def _sentence(self, t: int, convicted: np.ndarray, split: dict,
                  non_custodial_detained: np.ndarray) -> None:
        """Final convictions at liberty at ``t``: the sentence, and prison or supervision.

        ``non_custodial_detained``: the detained suspects' non-custodial sentences of
        this month (recorded already), supervised together with these.
        """
        m_shift = self._shift_priors(convicted)
        self._record(t, Event.CONVICTED, m_shift)
        non_custodial = m_shift * split["non_custodial"]
        self._record(t, Event.NON_CUSTODIAL, non_custodial)
        for juvenile in (True, False):
            prison = m_shift * split["prison_juvenile" if juvenile else "prison_adult"]
            if not prison.any():
                continue
            self._record(t, Event.PRISON, prison)
            plain, cond, terms = self._served(t, juvenile)
            self.terms[t] += prison.sum(axis=(4, 5)) * terms[:, :, None, None]
            for key, served in (("release", plain), ("release_cond", cond)):
                if served is None:
                    continue
                kernel = self._served_kernel(served)  # (J, K, F, 1, 1, 1, 1)
                self.sentenced[key][t] += kernel[0] * prison  # served 0 months: out at once
                self._due(self.sentenced[key], t + 1, kernel, prison, 1)
        self._supervise(t, non_custodial + non_custodial_detained, "probation_share_other")

    def _detained(self, t0: int, x: np.ndarray) -> None:
        """Suspects registered at ``t0`` in pre-trial detention.

        The OM decides ``k`` months later (its distribution at ``t0``), from the detained
        OM buffer: a dismissal or another disposal ends the detention; a summoned suspect
        stays detained until the final judgment (:meth:`_detained_summoned` schedules
        its outcomes at the summons). Pre-trial detention counts towards the sentence,
        so a prison term imposed by the final judgment ``n`` months after ``t0``
        releases at ``t0 + max(served, n)``: the releases are scheduled now
        (:meth:`_registration_release`), as only now the start of the detention is known.
        """
        if not x.any():
            return
        om = self._kernel("om_decision_months", "om_decision_cv", t0)
        self._due(self.om_due_detained, t0 + 1, om, x, 1)
        x_shift = self._shift_priors(x)
        for key, release in self._registration_release(t0, om).items():
            self._spread(self.sentenced[key], t0, release, x_shift)

    def _detained_summoned(self, t1: int, y: np.ndarray) -> None:
        """Detained suspects summoned at ``t1``: their judgments and sentences, scheduled now.

        The first-instance judgment falls ``j`` months later (the trial's distribution);
        an appealed conviction stays in detention until the appeal judgment. What only
        is recorded needs no priors or birth years. (Their releases were scheduled at
        the registration.)
        """
        if not y.any():
            return
        kern = self._summoned_kernels(t1)
        y_shift = self._shift_priors(y)
        self._due(self.sentenced["acquitted"], t1, kern["acquitted"], y)
        self._due(self.sentenced["non_custodial"], t1, kern["non_custodial"], y_shift)
        total = y.sum(axis=(4, 5), keepdims=True)  # events only: the same for y_shift
        for key in ("appealed", "convicted", "prison"):
            self._due(self.sentenced[key], t1, kern[key], total)
        k = min(len(kern["terms"]), self.T + 1 - t1)
        self.terms_due[t1: t1 + k] += kern["terms"][:k] * y_shift.sum(axis=(4, 5))[None]

    def _summoned_vary(self) -> bool:
        """Whether a detained summons cohort's kernels depend on its month."""
        out = self._memo.get("summoned_vary")
        if out is None:
            out = self._memo["summoned_vary"] = self._sentences_vary or any(
                self._varies(n) for n in ("trial_months", "trial_cv", "appeal_months",
                                          "appeal_cv")) or any(
                bool((arr != arr[0]).any()) for arr in self._splits_over_time().values())
        return out

    def _summoned_kernels(self, t1: int) -> dict[str, np.ndarray]:
        """Outcome kernels of a detained cohort summoned at ``t1``, by months from ``t1``.

        ``acquitted``, ``appealed``, ``convicted``, ``non_custodial``, the prison terms
        by law (``prison_juvenile``, ``prison_adult``) and their sum ``prison``, all
        ``(n, K, F, S, C, 1, 1)``, and ``terms`` (the prison terms imposed, ``(n, K, F, S,
        C)``). One set if nothing they depend on changes over time, else one per month
        (kept from the registrations that need them ahead until their month has passed).
        """
        varies = self._summoned_vary()
        memo = self._memo.setdefault("summoned", {})
        key = t1 if varies else 0
        out = memo.get(key)
        if out is not None:
            return out
        if varies:
            for old in [k for k in memo if k < self.t_now]:
                del memo[old]
        trial = self._kernel("trial_months", "trial_cv", t1)
        appeal = self._kernel("appeal_months", "appeal_cv", t1)
        # to the horizon: a cohort summoned at t1 (or at any month, if one set serves all)
        n = min(len(trial) + len(appeal) - 1, self.T + 1 - (t1 if varies else 0))
        trial = trial[:n]
        splits = self._splits_over_time()
        stack = {}
        for name, arr in splits.items():  # beyond the horizon: the last month's (never used)
            part = arr[min(t1, self.T): t1 + n]
            stack[name] = np.concatenate([part, np.repeat(part[-1:], n - len(part), 0)])
        judged = np.zeros((n, *trial.shape[1:]))
        judged[: len(trial)] = trial
        judged[0] = 0.0
        guilty = judged * stack["convicted"]
        appealed = guilty * stack["appealed"]
        later = self._appeal_convolution(t1, appealed, self._varies("appeal_months")
                                         or self._varies("appeal_cv"))
        convicted = guilty - appealed + later * (1 - stack["appeal_acquitted"])
        out = {"acquitted": judged * stack["acquitted"] + later * stack["appeal_acquitted"],
               "appealed": appealed, "convicted": convicted,
               "non_custodial": convicted * stack["non_custodial"],
               "prison": np.zeros_like(judged)}
        terms = np.zeros((n, self.K, N_FORMS, N_SEXES, N_CLASSES))
        for juvenile in (True, False):
            name = "prison_juvenile" if juvenile else "prison_adult"
            share = out[name] = convicted * stack[name]
            out["prison"] += share
            if self._sentences_vary:
                means = np.stack([self._served(min(t1 + j, self.T), juvenile)[2]
                                  for j in range(n)])
            else:
                means = self._served(0, juvenile)[2][None]
            terms += share[..., 0, 0] * means[:, :, :, None, None]
        out["terms"] = terms
        # the tails: per member, where less than ``tail`` of every outcome's mass remains
        lengths = np.maximum(_cut_lengths(out["acquitted"], self.tail),
                             _cut_lengths(out["convicted"], self.tail))
        out = memo[key] = {k: _truncate(v, lengths) for k, v in out.items()}
        return out

    def _registration_release(self, t0: int, om: np.ndarray
                              ) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Release kernels (months from ``t0``) of suspects detained from ``t0``.

        Summoned ``k`` months after ``t0`` with the OM's delay ``om`` and its summons
        share then, sent to prison by the final judgment ``n`` months after ``t0``
        (the summons cohorts' prison kernels, :meth:`_summoned_kernels`), released at
        ``max(served, n)``: the terms without and with conditional release (keys
        ``release`` and ``release_cond``), to the horizon (``T + 1 - t0`` months: what
        comes later is never used), as rows for :meth:`_spread`. Reused while the
        summons shares and kernels are those of the previous registration.
        """
        horizon = self.T + 1 - t0
        n = min(len(om), horizon)
        window = self._summons()[t0: t0 + n]
        varies = self._summoned_vary()
        cached = self._memo.get("registration")
        if (cached is not None and not varies and cached[0] is om and len(cached[1]) >= n
                and np.array_equal(cached[1][:n], window)):
            return cached[2]
        summoned = om[:n] * window  # (n, K, F, S, C, 1, 1): summoned k months after t0
        release: dict[str, np.ndarray] = {}
        for juvenile, judged in self._registration_prison(t0, summoned, varies,
                                                          horizon).items():
            self._detained_release(t0, judged, juvenile, release)
        n_rows = self.K * N_FORMS * N_SEXES * N_CLASSES
        every = np.arange(n_rows)
        out = {key: (rows, np.full(n_rows, horizon, dtype=np.int64), every)
               for key, rows in release.items()}
        self._memo["registration"] = (om, window, out)
        return out

    def _registration_prison(self, t0: int, summoned: np.ndarray, varies: bool, horizon: int
                             ) -> dict[bool, np.ndarray]:
        """Prison sentences by months from a detained registration at ``t0`` to the judgment.

        ``summoned[k]``: the share summoned ``k`` months after ``t0``. By law (juvenile or
        not), each as rows ``(K x F x S x C, horizon)``: the summons cohorts' prison
        kernels, shifted by their summons month. Where those are the same every month,
        one compiled convolution by direct sums (:func:`_causal_convolve`) over the
        strata whose kernel is not 0.
        """
        names = {True: "prison_juvenile", False: "prison_adult"}
        n_om = len(summoned)
        if varies:
            out = {}
            ks = [k for k in range(1, n_om) if summoned[k].any()]
            for juvenile, name in names.items():
                kerns = {k: self._summoned_kernels(t0 + k)[name][: horizon - k] for k in ks}
                if not any(kern.any() for kern in kerns.values()):
                    continue
                judged = np.zeros((horizon, *summoned.shape[1:]))
                for k in ks:
                    judged[k: k + len(kerns[k])] += kerns[k] * summoned[k]
                out[juvenile] = np.ascontiguousarray(judged.reshape(horizon, -1).T)
            return out
        kern = self._summoned_kernels(t0)
        x = np.ascontiguousarray(summoned.reshape(n_om, -1).T)
        out = {}
        for juvenile, name in names.items():
            key = ("prison_rows", name)
            rows = self._memo.get(key)
            if rows is None:  # the same kernel for every registration: kept as rows
                rows = self._memo[key] = np.ascontiguousarray(
                    kern[name].reshape(len(kern[name]), -1).T)
            if not rows.any():
                continue
            judged = np.zeros((x.shape[0], horizon))
            _causal_convolve(x, rows, judged)
            out[juvenile] = judged
        return out

    def _appeal_convolution(self, t0: int, appealed: np.ndarray, varies: bool) -> np.ndarray:
        """Appeal judgments by months from ``t0`` of the appeals ``appealed`` lodged then."""
        kmax = len(appealed)
        if not varies:
            a = self._kernel("appeal_months", "appeal_cv", t0)
            flat = a.reshape(len(a), self.K, -1)
            if (flat == flat[:, :, :1]).all():  # one distribution for every stratum
                return _convolve(appealed, flat[:, :, 0], kmax)
        later = np.zeros_like(appealed)
        for j in np.flatnonzero(appealed.reshape(kmax, -1).any(axis=1)).tolist():
            a = self._kernel("appeal_months", "appeal_cv", min(t0 + j, self.T))
            m = min(len(a), kmax - j)
            later[j: j + m] += a[:m] * appealed[j][None]
        return later

    def _detained_release(self, t0: int, judged: np.ndarray, juvenile: bool,
                          out: dict[str, np.ndarray]) -> None:
        """Release kernels (offsets from ``t0``) of detained suspects sentenced to prison.

        ``judged[r, k]`` is the mass of row ``r`` (``K x F x S x C``) judged after ``k``
        months and sent to prison; each is released at ``max(served, k)``. Adds the
        kernels of the terms without and with conditional release (keys ``release``,
        ``release_cond``) as rows like ``judged``: a release at offset ``j`` comes from
        judgments at ``k <= j``, so the offsets ``judged`` covers are complete.
        """
        n_rows, kmax = judged.shape
        if not self._sentences_vary:  # the same months served in every month: compiled
            plain, cond, _ = self._served(0, juvenile)
            for key, served in (("release", plain), ("release_cond", cond)):
                if served is None:
                    continue
                memo = ("served_rows", juvenile, key)
                cached = self._memo.get(memo)
                if cached is None:
                    padded = np.pad(served, [(0, max(self.T + 2 - len(served), 0)), (0, 0),
                                             (0, 0)])
                    rows = np.ascontiguousarray(padded.reshape(len(padded), -1).T)  # (K x F, J)
                    row = np.repeat(np.arange(len(rows)), N_SEXES * N_CLASSES)
                    cached = self._memo[memo] = (rows, np.cumsum(rows, axis=1), row)
                if key not in out:
                    out[key] = np.zeros((n_rows, kmax))
                _release(judged, *cached, out[key])
            return
        share = np.ascontiguousarray(judged.T).reshape(kmax, self.K, N_FORMS, N_SEXES,
                                                       N_CLASSES, 1, 1)
        per_k = [self._served(min(t0 + k, self.T), juvenile) for k in range(kmax)]
        for part, key in ((0, "release"), (1, "release_cond")):
            if per_k[0][part] is None:
                continue
            rel = np.zeros(share.shape)
            for k in range(1, kmax):
                served = per_k[k][part]
                cdf = np.cumsum(served, axis=0)
                rel[k] += share[k] * cdf[min(k, len(cdf) - 1)][:, :, None, None, None, None]
                if len(served) > k + 1:
                    rel[k + 1: min(len(served), kmax)] += share[k][None] * served[
                        k + 1: kmax, :, :, None, None, None, None]
            rows = np.ascontiguousarray(rel.reshape(kmax, -1).T)
            out[key] = rows if key not in out else out[key] + rows

    # ----------------------------------------------------------- release and after

    def _releases(self, t: int) -> None:
        """Releases from prison at ``t``, then the supervision decision."""
        plain = self.sentenced["release"][t]
        cond = self.sentenced["release_cond"][t]
        self._record(t, Event.RELEASED, plain + cond)
        self._supervise(t, plain, "probation_share_prison", cond)

    def _recalls(self, t: int) -> None:
        """Releases from a recall at ``t``: life after the chain, without supervision."""
        if self.recall_due is None:  # chain mode: no revocations
            return
        m = self.recall_due[t]
        if m.any():
            self._record(t, Event.RELEASED, m)
            self.free += m

    def _supervision_probability(self, t: int, share_name: str) -> np.ndarray:
        """Probability of supervision ``(2, K, F, S, C, P, 1)``: without, with conditional release.

        The base share with its hazard x ``supervision_risk_factor`` per risk point: an
        earlier conviction (two priors counting this one), under 23 at the charged
        offence (classes ``young_u18``, ``young_18_22``), conditional release.
        """
        varies = self._varies(share_name) or self._varies("supervision_risk_factor")
        key = ("supervision", share_name, t if varies else 0)
        out = self._memo.get(key)
        if out is None:
            earlier = self.earlier[None, None, None, None, :, None]
            young = (np.arange(N_CLASSES) < 2)[None, None, None, :, None, None]
            points = (earlier.astype(int) + young
                      + np.arange(2)[:, None, None, None, None, None, None])
            out = self._memo[key] = spec.supervision_probability(
                self.strat(share_name, t), self.strat("supervision_risk_factor", t), points)
        return out

    def _supervise(self, t: int, m: np.ndarray, share_name: str,
                   conditional: np.ndarray | None = None) -> None:
        """Mass entering life after the chain at ``t``: supervised or free.

        ``m`` without conditional release, ``conditional`` with it (a risk point).
        Members with a probation capacity order their supervisions (decided at the
        month's end, :meth:`_decide_supervision`); the others start them now.
        """
        if conditional is not None and conditional.any():
            p = self._supervision_probability(t, share_name)
            supervised = m * p[0] + conditional * p[1]
            m = m + conditional
        elif m.any():
            supervised = m * self._supervision_probability(t, share_name)[0]
        else:
            return
        self.free += m - supervised
        capped = self.scalar("probation_capacity", t) > 0
        if capped.any():
            ordered = supervised * capped[:, None, None, None, None, None]
            self.requests = ordered if self.requests is None else self.requests + ordered
            if capped.all():
                return
            supervised = supervised * ~capped[:, None, None, None, None, None]
        self._start_supervision(t, supervised)

    def _start_supervision(self, t: int, supervised: np.ndarray) -> None:
        """Supervised mass ``supervised`` starts at ``t``; its endings are scheduled."""
        self._record(t, Event.PROBATION_START, supervised)
        self.supervised += supervised
        kernel = self._kernel("probation_months", "probation_cv", t)
        if not self.full:  # no life after the chain: the caseload ends by length alone
            key = ("staying", id(kernel))
            staying = self._memo.get(key)
            if staying is None:  # P(length > j), (J, K, F, S, C)
                staying = self._memo[key] = 1.0 - np.cumsum(kernel[..., 0, 0], axis=0)
            open_ = (staying * supervised.sum(axis=(4, 5))[None]).sum(axis=(2, 3, 4))
            k = min(len(open_), self.T + 2 - t)
            self.open_supervisions[t: t + k] += open_[:k]
            return
        with np.errstate(divide="ignore", invalid="ignore"):
            scaled = np.where(self.survival > 0, supervised / self.survival, 0.0)
        self._due(self.ends_due, t + 1, kernel, scaled, 1)

    def _decide_supervision(self, t: int) -> None:
        """Under a probation capacity: the month's supervisions while places are free.

        The agents start them one by one, in offender-id order, while the caseload at
        the month's end is below the places; the twin starts
        ``min(E[ordered], places - E[caseload])`` pro rata to the month's composition
        (the queue's approximation, see the module's notes), and the rest get none.
        """
        if self.requests is None:
            return
        requested, self.requests = self.requests, None
        total = self._total(requested)
        if not (total > 0).any():
            return
        caseload = self._total(self.supervised) if self.full else self.open_supervisions[t]
        free = np.maximum(np.floor(self.scalar("probation_capacity", t)) - caseload, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(total > 0, np.minimum(1.0, free / total), 1.0)
        share = share[:, None, None, None, None, None]
        self._start_supervision(t, requested * share)
        refused = requested * (1.0 - share)
        self._record(t, Event.PROBATION_REFUSED, refused)
        self.free += refused

    def _after_chain(self, t: int) -> np.ndarray:
        """Exits of month ``t`` from life after the chain; returns re-entries into offending.

        Reoffending, desistance and, while supervised, revocation (ties in that order).
        A reoffence starts a new spell (age group of now) seen sooner if it began under
        supervision (visibility 2), else as a known offender's (visibility 1). A
        revocation ends the supervision: back to custody (recalled) for the months a
        recall lasts (its distribution now), then released without supervision.
        """
        member = (slice(None), None, None, None, None, None)  # (K,) -> (K, 1, 1, 1, 1, 1)
        ages = self.ages(t)
        factor = self.scalar("prior_hazard_factor", t)[member]
        age_factor = self.scalar("desistance_age_factor", t)[member]
        ratio = self.strat("probation_hazard_ratio", t)
        priors = np.arange(N_PRIORS)[None, None, None, None, :, None]
        reg = self.scalar("general_registration_prob", t)[member]
        out = np.zeros((self.K, *self.active_shape))
        for supervised, mass in ((False, self.free), (True, self.supervised)):
            suffix = spec.SUPERVISED_SUFFIX if supervised else ""
            p_re = spec.reoffending_probability(self.strat("reoffend_hazard" + suffix, t),
                                                priors, factor, supervised, ratio)
            p_gen = spec.reoffending_probability(
                self.strat("general_offence_hazard" + suffix, t), priors, factor, supervised,
                ratio)
            p_des = spec.desistance_probability(self.strat("post_desistance_hazard" + suffix, t),
                                                ages, age_factor)
            keep = (1 - p_re) * (1 - p_des)
            re = mass * p_re
            des = mass * (1 - p_re) * p_des
            if supervised:
                p_rev = self.strat("revocation_hazard", t)
                revoked = mass * keep * p_rev
                keep = keep * (1 - p_rev)
                self._record(t, Event.REVOKED, revoked)
                self._due(self.recall_due, t + 1,
                          self._kernel("recall_months", "recall_cv", t), revoked, 1)
            stay = mass * keep
            gen = stay * p_gen
            spell = self._new_spell(t, re, spec.VISIBILITY_SUPERVISED if supervised
                                    else spec.VISIBILITY_KNOWN)
            self._record_active(t, Event.REOFFENDED, spell)
            out += spell
            self._record(t, Event.DESISTED, des)
            self._record(t, Event.GENERAL_OFFENCE, gen)
            self._record(t, Event.GENERAL_CASE, gen * reg)
            if supervised:
                self.supervised = stay
                self.survival = self.survival * keep
            else:
                self.free = stay
        # supervision ends: those whose last supervised month was t
        ending = np.minimum(self.ends_due[t] * self.survival, self.supervised)
        self._record(t, Event.PROBATION_END, ending)
        self.supervised = self.supervised - ending
        self.free += ending
        return out


def expected_flows(params: ParameterSet, full: bool = True,
                   reentries: np.ndarray | None = None) -> ExpectedFlows:
    """Run the twin for one parameter set (see :class:`Twin`)."""
    return Twin(params, full=full, reentries=reentries).run()


def expected_flows_batch(params: Sequence[ParameterSet], full: bool = True,
                         reentries: Reentries = None, members: int | None = None
                         ) -> list[ExpectedFlows]:
    """Run the twin for many parameter sets at once; one :class:`ExpectedFlows` each.

    The same numbers as :func:`expected_flows` on each set, computed in vectorised
    passes over ``members`` sets at a time (:class:`Twin` with a batch).

    Args:
        params: Parameter sets with the same start, horizon and strata.
        full: Full mode, or the fast chain mode (see the module's docstring).
        reentries: In chain mode, re-entries into offending: one array for every set,
            or one per set (``None`` for none).
        members: Sets per vectorised pass; default :data:`CHAIN_MODE_MEMBERS` in chain
            mode (throughput is flat from about 8 on: the work is bound by memory
            traffic, not by Python's per-call overhead, see the module's notes) and
            :data:`FULL_MODE_MEMBERS` (one at a time) in full mode.

    Returns:
        The expected flows of every set, in order.
    """
    params = list(params)
    if reentries is not None and not isinstance(reentries, np.ndarray):
        reentries = list(reentries)
        if len(reentries) != len(params):
            raise ValueError(f"{len(reentries)} re-entry arrays for {len(params)} sets")
    size = members or (FULL_MODE_MEMBERS if full else CHAIN_MODE_MEMBERS)
    out: list[ExpectedFlows] = []
    for i in range(0, len(params), size):
        part = reentries if reentries is None or isinstance(reentries, np.ndarray) \
            else reentries[i: i + size]
        out += Twin(params[i: i + size], full=full, reentries=part).run_batch()
    return out


STEP_HANDLERS: dict[str, object] = {
    "entry": Twin._newcomers, "offending": Twin._active_exits, "queue": Twin._serve_queue,
    "investigation": Twin._investigations_end, "inspection": Twin._investigations_end,
    "prosecution": Twin._om_decisions, "trial": Twin._judgments,
    "appeal": Twin._appeal_judgments, "sentencing": Twin._sentence, "prison": Twin._releases,
    "supervision": Twin._supervise, "recall": Twin._recalls, "resumption": Twin._resumption,
    "after_chain": Twin._after_chain,
}
"""The twin's handler of every step of the chain table (``tests/chain/test_steps.py`` checks it)."""

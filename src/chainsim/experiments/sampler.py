"""The ensemble sampler of the posterior (emcee) and its convergence diagnostics (ArviZ).

:func:`sample` runs emcee's affine-invariant ensemble sampler with differential-evolution
moves on any vectorised log posterior (the twin's, :class:`chainsim.experiments.posterior.
LogPosterior`, or an emulator's, :class:`chainsim.experiments.emulated.
EmulatedLogPosterior`), keeping its state for checkpoints; :func:`diagnostics` reports
R-hat, the effective sample sizes and the autocorrelation time of the chain it returns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from chainsim.experiments.checkpoint import SamplerCheckpoint

if TYPE_CHECKING:
    from chainsim.experiments.posterior import LogPosterior, ParameterSpace


@dataclass
class Chain:
    """An ensemble sampler's chain after burn-in.

    Attributes:
        points: ``(steps, walkers, d)`` on the sampling scale.
        log_posterior: ``(steps, walkers)``.
        log_likelihood: ``(steps, walkers)``.
        acceptance: Mean acceptance fraction of the walkers.
        autocorrelation: Integrated autocorrelation time per dimension (steps; emcee's
            estimate, ``nan`` where the chain is too short to estimate it).
        every: Steps between the rows kept (the last step is always kept).
    """

    points: np.ndarray
    log_posterior: np.ndarray
    log_likelihood: np.ndarray
    acceptance: float
    autocorrelation: np.ndarray
    every: int = 1


def initial_walkers(space: ParameterSpace, centre: np.ndarray, walkers: int,
                    rng: np.random.Generator, spread: float = 0.02) -> np.ndarray:
    """Walkers in a small ball around ``centre``: ``spread`` of each prior's width, inside it."""
    lo, hi = np.array([d.bounds for d in space.dimensions]).T
    width = hi - lo
    pts = centre + spread * width * rng.standard_normal((walkers, len(centre)))
    return np.clip(pts, lo + 1e-6 * width, hi - 1e-6 * width)


def sample(post: LogPosterior, start: np.ndarray, steps: int, burn: int, seed: int,
           progress: bool = False, resume: SamplerCheckpoint | None = None,
           on_checkpoint: Callable[[SamplerCheckpoint], None] | None = None,
           every: int = 20, keep_every: int = 1) -> Chain:
    """Run emcee's ensemble sampler from walkers ``start`` ``(walkers, d)``.

    Differential-evolution moves (80 %, with 20 % snooker moves) suit correlated,
    moderately high-dimensional posteriors better than the default stretch move. Every
    step scores all walkers in one batch of the twin. Seeded: the same seed and start
    give the same chain.

    Args:
        post: The log posterior.
        start: The walkers' start (ignored when resuming).
        steps: Steps in all (burn-in included; a resumed run's steps count).
        burn: Steps discarded.
        seed: Seed of the sampler's random state.
        progress: emcee's own progress bar.
        resume: A checkpoint of this run to go on from (at most ``steps`` steps): its
            steps are kept and the sampler continues from its last state and random
            state, so the chain is the uninterrupted run's, bit for bit.
        on_checkpoint: Called with the run's state every ``every`` steps and at the end
            (``start``, ``fingerprint``, ``evaluations`` and ``commits`` are the caller's
            to fill in).
        every: Steps between checkpoints.
        keep_every: Keep one step in this many (counted back from the last), so that a
            chain far longer than its autocorrelation time fits in memory; the
            autocorrelation time is still in steps. Not with checkpoints.
    """
    import emcee

    walkers, d = start.shape
    if keep_every > 1 and (resume is not None or on_checkpoint is not None):
        raise ValueError("keep_every above 1 is not for a chain with checkpoints")
    sampler = emcee.EnsembleSampler(
        walkers, d, post, vectorize=True, blobs_dtype=float,
        moves=[(emcee.moves.DEMove(), 0.8), (emcee.moves.DESnookerMove(), 0.2)])
    # the chain is kept in arrays of its full length, filled step by step (emcee's own
    # store is off): one copy of it in memory, not four (a chain of 100,000 steps of 110
    # walkers in 54 dimensions is 4.8 GB); with keep_every > 1 one row per keep_every steps
    rows = -(-steps // keep_every)
    first_kept = steps - 1 - (rows - 1) * keep_every  # the step of row 0
    points = np.empty((rows, walkers, d))
    lp = np.empty((rows, walkers))
    ll = np.empty((rows, walkers))
    if resume is not None and resume.steps > 0:
        if resume.steps > steps:
            raise ValueError(f"the checkpoint holds {resume.steps} steps, more than the "
                             f"{steps} asked for: ask for at least {resume.steps}")
        held = resume.steps
        points[:held], lp[:held], ll[:held] = (resume.points, resume.log_posterior,
                                               resume.log_likelihood)
        accepted = resume.accepted.astype(float)
        state = emcee.State(points[held - 1], log_prob=lp[held - 1], blobs=ll[held - 1],
                            random_state=resume.random_state)
    else:
        held = 0
        accepted = np.zeros(walkers)
        sampler.random_state = np.random.RandomState(seed).get_state()
        state = emcee.State(start)
    previous = np.array(state.coords, dtype=float)

    def snapshot(done: int) -> SamplerCheckpoint:
        return SamplerCheckpoint("", points[:done], lp[:done], ll[:done], accepted.copy(),
                                 sampler.random_state, {}, 0, [])

    todo = steps - held
    if todo > 0:
        for done, current in enumerate(sampler.sample(state, iterations=todo, store=False,
                                                      progress=progress), start=1):
            i = held + done - 1
            coords = np.asarray(current.coords, dtype=float)
            # a walker that moved accepted its proposal (a differential-evolution proposal
            # equals the walker's own point with probability 0)
            accepted += np.any(coords != previous, axis=1)
            previous = coords.copy()
            if i >= first_kept and (i - first_kept) % keep_every == 0:
                row = (i - first_kept) // keep_every
                points[row], lp[row], ll[row] = (coords, current.log_prob,
                                                 np.asarray(current.blobs, dtype=float))
            if on_checkpoint is not None and (done % every == 0 or done == todo):
                on_checkpoint(snapshot(i + 1))
    kept_from = max(0, -(-(burn - first_kept) // keep_every))  # rows of steps >= burn
    kept = points[kept_from:]
    tau = emcee.autocorr.integrated_time(kept, quiet=True, tol=0) * keep_every \
        if len(kept) else np.full(d, np.nan)
    return Chain(points=kept, log_posterior=lp[kept_from:], log_likelihood=ll[kept_from:],
                 acceptance=float(np.mean(accepted / max(steps, 1))),
                 autocorrelation=np.asarray(tau, dtype=float), every=keep_every)


def diagnostics(chain: Chain, names: list[str]) -> dict[str, dict[str, float]]:
    """Per dimension: ArviZ's R-hat, bulk and tail ESS, and emcee's autocorrelation time.

    R-hat is the rank-normalised split R-hat with the walkers as chains (walkers of an
    ensemble sampler are not independent, so it is a check, not a proof, of mixing).
    """
    import arviz as az

    draws = {name: chain.points[:, :, i].T for i, name in enumerate(names)}  # (chains, draws)
    rhat = az.rhat(draws)
    bulk = az.ess(draws, method="bulk")
    tail = az.ess(draws, method="tail")
    return {name: {"r_hat": float(np.asarray(rhat[name])),
                   "ess_bulk": float(np.asarray(bulk[name])),
                   "ess_tail": float(np.asarray(tail[name])),
                   "autocorrelation_steps": float(chain.autocorrelation[i])}
            for i, name in enumerate(names)}

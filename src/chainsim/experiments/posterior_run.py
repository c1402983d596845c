"""A posterior run: from the calibrated baseline to the ensemble of members.

:func:`run_posterior` strings the steps together: the history-matching wave and the log
posterior (:mod:`chainsim.experiments.posterior`), the Laplace start
(:mod:`chainsim.experiments.laplace`), the chain on the twin with its checkpoints or on an
emulator (:mod:`chainsim.experiments.sampler`, :mod:`chainsim.experiments.emulated`), the
thinning, and the reweighting of the candidates to the joint posterior with the
after-chain unknowns (:mod:`chainsim.experiments.reweight`).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chainsim.analysis.targets import Target
from chainsim.chain.config import Scenario
from chainsim.experiments.calibrate import CALIBRATION_END
from chainsim.experiments.checkpoint import (
    SamplerCheckpoint,
    fingerprint,
    load_checkpoint,
    save_checkpoint,
)
from chainsim.experiments.emulated import emulated_sampling, joint_emulated_sampling
from chainsim.experiments.journal import Journal
from chainsim.experiments.journal import digest as journal_digest
from chainsim.experiments.laplace import Laplace, laplace, laplace_walkers
from chainsim.experiments.posterior import LogPosterior, ParameterSpace, Wave, history_match
from chainsim.experiments.sampler import Chain, diagnostics, sample


@dataclass
class PosteriorRun:
    """A posterior run: its settings, chain, ensemble and diagnostics.

    Attributes:
        space: The parameter space sampled (the joint one in the joint mode).
        chain: The chain after burn-in.
        members: The ensemble: one row per member, the sampled dimensions and the free
            unknowns on the natural scale, with ``log_likelihood``, ``log_posterior``,
            ``step`` and ``walker`` (``pandas.DataFrame``).
        diagnostics: Per dimension (:func:`diagnostics`).
        wave: The history-matching wave (its share of the prior not ruled out).
        settings: Walkers, steps, burn-in, thinning, seed, wave size.
        evaluations: Twin evaluations used.
        seconds: Wall time, the earlier sittings of a resumed run included (as far as their
            checkpoints kept it).
    """

    space: ParameterSpace
    chain: Chain
    members: object
    diagnostics: dict[str, dict[str, float]]
    wave: Wave | None
    settings: dict
    evaluations: int
    seconds: float


def run_posterior(scenario: Scenario, targets: dict[str, Target], members: int = 1000,
                  walkers: int | None = None, steps: int = 2000, burn: int = 500,
                  wave_size: int = 256, seed: int = 0,
                  evaluate: Callable | None = None, progress=None,
                  space: ParameterSpace | None = None, workers: int = 1,
                  checkpoint: Path | None = None, commit: str | None = None,
                  reweight: bool = False, draws: int = 1, thin: int | None = None,
                  on_candidate: Callable[[], None] | None = None, design: int = 0,
                  design_waves: int = 2, candidates: int | None = None,
                  on_stage: Callable[[str], None] | None = None,
                  joint: bool = False, journal: Path | None = None) -> PosteriorRun:
    """Sample the joint posterior and take an ensemble of ``members`` from it.

    Steps: a history-matching wave over the prior (reported: how much of the prior the
    figures rule out); re-entries from a full twin run at the scenario's values (its
    calibration: the start); ``walkers`` (default ``2 d + 2``) in a small ball around
    that start; ``steps`` of the ensemble sampler, the first ``burn`` discarded (the
    re-entries stay those of the start); the chain thinned by half its longest
    autocorrelation time (or by ``thin``; less if the chain is too short to give
    ``members`` points so thinned: ``settings["thin"]`` below ``settings["thin_wanted"]``
    says so), each point with a draw of the after-chain unknowns from their prior
    (``draws`` of them with ``reweight``). Without ``reweight`` the latest ``members`` of
    those points are the ensemble; with it every thinned point is a candidate, run with
    the full twin once per draw, and the ensemble is resampled from the candidates by
    their importance weights to the joint posterior (:mod:`chainsim.experiments.reweight`).

    Args:
        scenario: The calibrated baseline.
        targets: The source's figures.
        members: Ensemble size.
        walkers: Walkers of the sampler.
        steps: Steps of the sampler (burn-in included).
        burn: Steps discarded.
        wave_size: Points of the history-matching wave (0: none).
        seed: Seed of the wave, the walkers, the sampler and the free unknowns.
        evaluate: Batched twin evaluation (see :class:`LogPosterior`).
        progress: Called with the number of points scored after every batch.
        space: The parameter space (default: every knob and chain unknown of ``scenario``).
        workers: Processes scoring the walkers (the results do not depend on it).
        checkpoint: A file to keep the run's state in (every 20 steps): if it holds a
            checkpoint of this run (:mod:`chainsim.experiments.checkpoint`), the run goes
            on from there (the wave and the Laplace start are not recomputed); the
            result is the uninterrupted run's, bit for bit.
        commit: The code's commit, recorded in the checkpoint.
        reweight: Reweight the thinned chain to the joint posterior with the after-chain
            unknowns (:func:`chainsim.experiments.reweight.reweight`) and resample the
            ensemble from it.
        draws: With ``reweight``, draws of the after-chain unknowns per candidate (its
            weight averages over them; ``draws`` full-twin runs per candidate).
        thin: Keep every ``thin``-th step of the chain (default: half its longest
            autocorrelation time).
        on_candidate: Called after every full-twin run of the reweighting (a progress bar).
        design: Twin runs of an emulator's design (0: the sampler runs on the twin
            itself). With a design the walkers sample an emulator of the twin fitted in
            ``design_waves`` waves
            (:func:`chainsim.experiments.emulated.emulated_sampling`; ``checkpoint`` is
            not used, ``journal`` is), and the candidates' chain log-likelihood is the
            emulated one, so ``reweight`` corrects the emulator's error as well.
        design_waves: Waves of the emulator's design.
        candidates: At most this many thinned points become candidates (thinned more
            where the chain holds more; default: all).
        on_stage: Called with a line of text as each stage of an emulated run begins.
        joint: The joint mode (needs a ``design``): the after-chain unknowns are sampled
            too, on an emulator of the full twin with each point's own re-entries
            (:func:`chainsim.experiments.emulated.joint_emulated_sampling`; ``walkers``
            default ``2 d + 2`` of the joint space's ``d``). Each candidate is a thinned
            chain point with its own after-chain values (one draw: the chain's), so the
            weights carry only the emulator's error; the members, the diagnostics and
            :attr:`PosteriorRun.space` cover every dimension.
        journal: A folder to keep an emulated run's costly steps in as they are done
            (:mod:`chainsim.experiments.journal`: the wave, the Laplace start, the twin
            runs of the design and of the reweighting, the fits, the chains): run again,
            the run goes on from them, to the uninterrupted run's result bit for bit.
            Steps read back and the commits that computed them go into the settings.

    Raises:
        ValueError: If the thinned chain holds fewer than ``members`` points (run longer),
            or ``joint`` without a ``design`` or with ``draws`` above 1.
        InputError: If ``checkpoint`` holds another run's state, or ``journal`` the steps
            of another scenario or other figures.
    """
    import time

    import pandas as pd

    t0 = time.perf_counter()
    _check_joint(joint, design, draws)
    space = space or ParameterSpace(scenario)
    post = LogPosterior(space, targets, evaluate=evaluate, on_batch=progress, workers=workers)
    sampled = space.joint_space() if joint else space  # the chain's dimensions
    d = len(sampled.dimensions)
    walkers = walkers or 2 * d + 2
    rng = np.random.default_rng(seed)
    digest = fingerprint({"seed": seed, "walkers": walkers, "wave_size": wave_size,
                          "dimensions": [dataclasses.astuple(dim) for dim in space.dimensions],
                          "start": space.start.tolist(),
                          "targets": sorted((k, repr(v)) for k, v in targets.items())})
    kept = Journal(journal if design > 0 else None, digest, commit or "unknown")
    # the steps also hang on everything the twin reads (the whole scenario) and on the
    # figures' notes of conflict (the stated likelihood), which the digest leaves out: a
    # journal of another scenario or other notes is refused
    kept.claim(journal_digest(scenario.model_dump_json(),
                              [t.model_dump_json() for t in targets.values()]))
    if design > 0:
        checkpoint = None  # an emulated run keeps its steps in the journal instead
    saved = load_checkpoint(checkpoint, digest) if checkpoint is not None else None
    commits = (saved.commits if saved is not None else []) + [commit or "unknown"]
    before = saved.seconds if saved is not None else 0.0  # the earlier sittings' wall time
    try:
        post.refresh(space.start)
        if saved is None:
            wave = kept.counted("wave", (wave_size,), lambda: history_match(post, wave_size, seed),
                                post)[0] if wave_size else None
            approx = kept.counted("laplace", (), lambda: laplace(post, space.start), post)[0]
            start = laplace_walkers(post, approx, walkers, rng)
            begun = {"mode": approx.mode, "covariance": approx.covariance,
                     "laplace": np.array([approx.log_posterior, approx.iterations,
                                          approx.evaluations]), "walkers": start,
                     "rng": np.array(json.dumps(rng.bit_generator.state))}
            if wave is not None:
                begun |= {"wave_points": wave.points, "wave_log_posterior": wave.log_posterior,
                          "wave_implausibility": wave.implausibility}
        else:
            begun = saved.start
            post.evaluations += saved.evaluations
            wave = (Wave(begun["wave_points"], begun["wave_log_posterior"],
                         begun["wave_implausibility"]) if "wave_points" in begun else None)
            lap = begun["laplace"]
            approx = Laplace(begun["mode"], float(lap[0]), begun["covariance"], int(lap[1]),
                             int(lap[2]))
            start = begun["walkers"]
            rng.bit_generator.state = json.loads(str(begun["rng"]))

        def keep(state: SamplerCheckpoint) -> None:
            state.fingerprint, state.start = digest, begun
            state.evaluations, state.commits = post.evaluations, commits
            state.seconds = before + time.perf_counter() - t0
            save_checkpoint(checkpoint, state)

        emulated = None
        if joint:
            post.close()  # the chain mode's scoring workers are not needed again
            chain, _, emulated = joint_emulated_sampling(post, approx, start, design,
                                                         design_waves, steps, burn, seed, rng,
                                                         workers=workers, progress=on_stage,
                                                         journal=kept)
        elif design > 0:
            chain, _, emulated = emulated_sampling(post, approx, start, design,
                                                   design_waves, steps, burn, seed, rng,
                                                   progress=on_stage, journal=kept)
        else:
            chain = sample(post, start, steps, burn, seed, resume=saved,
                           on_checkpoint=keep if checkpoint is not None else None)
    finally:
        post.close()
    tau = chain.autocorrelation
    if thin is not None:
        wanted = thin
    else:
        wanted = max(1, int(np.ceil(np.nanmax(tau) / 2))) if np.isfinite(tau).any() else 1
    # in rows of the chain as kept (one per chain.every steps); a chain too short for
    # that thinning keeps more correlated points (stated in settings)
    every = chain.every
    rows = chain.points.shape[0]
    stride = max(1, min(int(np.ceil(wanted / every)), rows * walkers // members))
    if candidates is not None:  # no more candidates than asked for
        stride = max(stride, int(np.ceil(rows * walkers / max(candidates, 1))))
    thin = stride * every  # in steps
    pts = chain.points[::-1][::stride]  # latest first
    lp = chain.log_posterior[::-1][::stride]
    ll = chain.log_likelihood[::-1][::stride]
    n_steps = pts.shape[0]
    if n_steps * walkers < members:
        raise ValueError(f"the thinned chain has {n_steps * walkers} points, fewer than the "
                         f"{members} members asked for: run more steps")
    step_index = (steps - 1 - np.arange(n_steps) * thin)[:, None].repeat(walkers, axis=1)
    walker_index = np.arange(walkers)[None, :].repeat(n_steps, axis=0)
    flat, lp, ll = pts.reshape(-1, d), lp.ravel(), ll.ravel()
    step_index, walker_index = step_index.ravel(), walker_index.ravel()
    reweighting = None
    if reweight:
        from chainsim.experiments.reweight import reweight as reweight_candidates

        points, free = _candidates(space, flat, joint, draws, rng)
        reweighting = reweight_candidates(space, targets, points, free, ll, members, rng,
                                          workers=workers, progress=on_candidate,
                                          journal=kept)
        chosen, drawn = reweighting.chosen, reweighting.chosen_draw
        member_free = free[chosen, drawn]
    else:
        chosen = np.arange(members)
        member_free = sampled.draw_free(rng, members)
    table = {dim.name: dim.to_value(flat[chosen, i])
             for i, dim in enumerate(sampled.dimensions)}
    table |= {dim.name: member_free[:, i] for i, dim in enumerate(sampled.free)}
    if reweighting is None:
        table |= {"log_likelihood": ll[chosen], "log_posterior": lp[chosen]}
    else:
        own = reweighting.own_log_likelihood[chosen, drawn]
        table |= {"log_likelihood": own, "log_posterior": lp[chosen] - ll[chosen] + own,
                  "chain_log_likelihood": ll[chosen],
                  "log_weight": reweighting.log_weights[chosen], "candidate": chosen,
                  "draw": drawn}
    table |= {"step": step_index[chosen], "walker": walker_index[chosen]}
    frame = pd.DataFrame(table)
    frame.insert(0, "member", np.arange(members))
    settings = {"walkers": walkers, "steps": steps, "burn": burn, "thin": thin,
                "thin_wanted": wanted,
                "members": members, "seed": seed, "wave_size": wave_size,
                "moves": "emcee DEMove 0.8, DESnookerMove 0.2",
                "start": "walkers drawn from a Laplace approximation at the mode (L-BFGS-B "
                         "from the calibrated values, second differences of the twin)",
                "mode_log_posterior": approx.log_posterior,
                "optimizer_iterations": approx.iterations,
                "laplace_evaluations": approx.evaluations,
                "twin": "chain mode to " + CALIBRATION_END + ", re-entries of a full run at "
                        "the start",
                "code_commits": commits}
    if kept.reused:  # a run that went on from its journal says from which steps and code
        settings["journal"] = {"steps_read_back": kept.reused,
                               "code_commits": sorted(kept.commits)}
    if joint:
        settings["sampler"] = "emulator (joint)"
        settings["emulator"] = emulated
        settings["twin"] = ("an emulator of the full twin to " + CALIBRATION_END + " (each "
                            "point with its own re-entries into offending), fitted on "
                            f"{emulated['design_runs']} full twin runs; the after-chain "
                            "unknowns sampled with the rest")
    elif emulated is not None:
        settings["sampler"] = "emulator"
        settings["emulator"] = emulated
        settings["twin"] = ("an emulator of the twin's chain mode to " + CALIBRATION_END
                            + " (re-entries of a full run at the start), fitted on "
                            f"{emulated['design_runs']} twin runs")
    else:
        settings["sampler"] = "twin"
    if reweighting is not None:
        settings["reweighting"] = reweighting.summary()
        if joint:
            settings["reweighting"]["after_chain"] = ("each candidate's own values from the "
                                                      "chain (one draw)")
    evaluations = post.evaluations + (emulated["design_runs"] if joint else 0)
    return PosteriorRun(sampled, chain, frame, diagnostics(chain, sampled.names), wave,
                        settings, evaluations, before + time.perf_counter() - t0)


def _check_joint(joint: bool, design: int, draws: int) -> None:
    """The joint mode's conditions (a ``ValueError`` if one fails)."""
    if joint and design <= 0:
        raise ValueError("the joint mode samples an emulator of the full twin: it needs a "
                         "design (design > 0)")
    if joint and draws > 1:
        raise ValueError(f"draws = {draws}: the joint mode's candidates carry their own "
                         "after-chain values from the chain (one draw each)")


def _candidates(space: ParameterSpace, flat: np.ndarray, joint: bool, draws: int,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The candidates' chain parts ``(n, d)`` and after-chain values ``(n, draws, f)``.

    In the joint mode the chain's points are split: the after-chain values are each
    point's own (one draw). Otherwise they are ``draws`` draws from their prior per point,
    draw by draw (the first draws are those of a run with one draw per candidate).
    """
    if joint:
        d = len(space.dimensions)
        return flat[:, :d], flat[:, None, d:]
    free = np.stack([space.draw_free(rng, len(flat)) for _ in range(draws)], axis=1)
    return flat, free

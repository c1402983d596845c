"""Sampling the posterior on an emulator of the twin (``calibrate --posterior --emulator``).

:class:`EmulatedLogPosterior` is the log posterior with the twin's quantities replaced by an
emulator's predictions (:mod:`chainsim.experiments.emulator`); :func:`emulated_sampling` fits
the emulator on twin runs in design waves and runs the chain on it. The reweighting with the
full twin (:mod:`chainsim.experiments.reweight`) divides the emulated likelihood out again.
:func:`joint_emulated_sampling` is the joint mode: the after-chain unknowns are sampled too,
on an emulator of the full twin (each point with its own re-entries into offending), so the
reweighting only corrects the emulator's error (and the likelihood's defensive form).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from chainsim.analysis.likelihood import log_likelihood
from chainsim.analysis.targets import Target
from chainsim.experiments.journal import Journal
from chainsim.experiments.laplace import Laplace, laplace_design
from chainsim.experiments.posterior import LogPosterior, ParameterSpace, full_twin_quantities
from chainsim.experiments.sampler import Chain, sample

if TYPE_CHECKING:
    from chainsim.experiments.emulator import Design


class EmulatedLogPosterior:
    """Log prior + the figures' log-likelihood at an emulator's predictions (vectorised).

    The sampler's stand-in for :class:`LogPosterior` (:mod:`chainsim.experiments.emulator`):
    the same prior and likelihood (its defensive form by default), the twin's quantities
    replaced by the emulator's.

    Args:
        space: The parameter space.
        targets: The figures.
        emulator: A fitted emulator of the targets' quantities.
        robust_everywhere: As for :class:`LogPosterior`.
    """

    def __init__(self, space: ParameterSpace, targets: dict[str, Target], emulator,
                 robust_everywhere: bool = True):
        self.space = space
        self.targets = targets
        self.emulator = emulator
        self.robust_everywhere = robust_everywhere
        self.evaluations = 0

    def log_likelihood(self, metrics: dict, trials: dict) -> np.ndarray:
        """The figures' log-likelihood of quantities by key (arrays, one per point)."""
        with np.errstate(all="ignore"):
            total, _ = log_likelihood(self.targets, metrics, trials, self.robust_everywhere)
        total = np.asarray(total, dtype=float)
        return np.where(np.isnan(total), -np.inf, total)

    def likelihood_at(self, xs: np.ndarray) -> np.ndarray:
        """The log likelihood of points inside the prior (the emulator's predictions)."""
        self.evaluations += len(xs)
        return self.log_likelihood(*self.emulator.predict(xs))

    score = LogPosterior.score
    __call__ = LogPosterior.__call__


def design_runs(post: LogPosterior, points: np.ndarray, journal: Journal | None = None,
                step: str = "design"):
    """The twin's runs at ``points`` as an emulator's design (the valid ones).

    With a ``journal`` the runs are kept as the step ``step`` (and read back when kept).
    """
    from chainsim.experiments.emulator import Design

    (metrics, trials), _ = (journal or Journal(None)).counted(
        step, (points,), lambda: post.metrics(points), post)
    return Design.from_runs(points, metrics, trials, post.keys)


def _full_run(shared: tuple, x: np.ndarray) -> tuple[dict | None, dict | None]:
    """One point's full-twin quantities (a task of :func:`full_design_runs`)."""
    space, keys = shared
    return full_twin_quantities(space, keys, x)


def full_design_runs(space: ParameterSpace, keys: list, points: np.ndarray,
                     workers: int = 1, journal: Journal | None = None,
                     step: str = "design"):
    """The full twin's runs at points of ``space`` as an emulator's design (the valid ones).

    Each point runs with all its values (:func:`chainsim.experiments.posterior.
    full_twin_quantities`), over ``workers`` processes; the results do not depend on their
    number. Points whose values are invalid are dropped, as :meth:`Design.from_runs` does.

    Args:
        space: The parameter space (the joint one: every value is in the point).
        keys: The targets' quantities.
        points: ``(n, d)`` on the sampling scale.
        workers: Processes running the full twin.
        journal: Keeps the runs as they finish, as the step ``step``
            (:meth:`chainsim.experiments.journal.Journal.mapped`): an interrupted design
            goes on from them.
        step: The step's name in the journal.
    """
    from chainsim.experiments.emulator import Design

    runs = (journal or Journal(None)).mapped(step, (), _full_run, list(points),
                                            workers=workers, shared=(space, keys))
    return Design.from_runs(points, [m for m, _ in runs], [tr for _, tr in runs], keys)


EMULATOR_PILOT_STEPS = 3000
"""Steps of each pilot chain on the emulator (the first half discarded) that draws the
next design wave."""

LAPLACE_WIDENING = 1.5
"""How much wider than the Laplace approximation the first design wave is drawn."""


def emulated_sampling(post: LogPosterior, approx: Laplace, start: np.ndarray, design: int,
                      waves: int, steps: int, burn: int, seed: int,
                      rng: np.random.Generator, emulator_seed: int | None = None,
                      progress: Callable[[str], None] | None = None,
                      journal: Journal | None = None
                      ) -> tuple[Chain, EmulatedLogPosterior, dict]:
    """The chain on an emulator of the twin, fitted in ``waves`` design waves.

    Wave 1: ``design // waves`` points of the Laplace approximation widened
    :data:`LAPLACE_WIDENING` times, run with the twin; the emulator is fitted on them.
    Each further wave: a pilot chain of :data:`EMULATOR_PILOT_STEPS` steps on the
    emulator from ``start``, as many of its later points (drawn at random) run with the
    twin, predicted by the emulator first (the held-out error) and then added to the
    design, and the emulator fitted again. The final chain: ``steps`` steps from
    ``start`` on the last emulator, ``burn`` of them discarded. With a ``journal`` every
    step (twin runs, fits, chains) is kept as it is done and read back when the run is
    made again (:mod:`chainsim.experiments.journal`): the same result, bit for bit.

    Returns:
        The chain, the emulated log posterior it sampled (the candidates' chain
        log-likelihood is its), and the provenance (design sizes, held-out errors, times).
    """
    per_wave = _per_wave(design, waves)
    first = laplace_design(post.space, approx, per_wave, LAPLACE_WIDENING, rng)
    return _sample_in_waves(post.space, post.targets,
                            lambda pts, step: design_runs(post, pts, journal, step),
                            first, start, waves, steps, burn, seed, rng, emulator_seed,
                            progress, journal=journal)


def joint_emulated_sampling(post: LogPosterior, approx: Laplace, start: np.ndarray,
                            design: int, waves: int, steps: int, burn: int, seed: int,
                            rng: np.random.Generator, workers: int = 1,
                            emulator_seed: int | None = None,
                            progress: Callable[[str], None] | None = None,
                            journal: Journal | None = None
                            ) -> tuple[Chain, EmulatedLogPosterior, dict]:
    """The chain of every dimension and the after-chain unknowns on an emulator of the full twin.

    As :func:`emulated_sampling`, in the joint space (``post.space.joint_space()``: the
    after-chain unknowns sampled too) and with the full twin, each point with its own
    re-entries into offending (:func:`full_design_runs`, over ``workers`` processes).
    Wave 1: the chain part from the widened Laplace approximation of ``post`` (the chain
    mode's), the after-chain part from its prior. The walkers: ``start`` (the chain part,
    from the Laplace approximation) with draws of the after-chain unknowns from their
    prior. Pilot chains and the final chain run in the joint space.

    Args:
        post: The chain mode's log posterior (its space, targets and keys).
        approx: Its Laplace approximation.
        start: Walkers of the chain part ``(walkers, d)``.
        design: Full-twin runs of the design in all.
        waves: Design waves.
        steps: Steps of the final chain (burn-in included).
        burn: Steps discarded.
        seed: Seed of the chains (and of the networks without ``emulator_seed``).
        rng: Random numbers of the design and of the walkers' after-chain values.
        workers: Processes running the full twin.
        emulator_seed: Seed of the networks.
        progress: Called with a line of text as each stage begins.
        journal: Keeps every step as it is done (see :func:`emulated_sampling`).

    Returns:
        The chain (joint points), the emulated log posterior it sampled (on the joint
        space), and the provenance (with ``"twin": "full"``).
    """
    space = post.space
    joint = space.joint_space()
    per_wave = _per_wave(design, waves)
    first = np.hstack([laplace_design(space, approx, per_wave, LAPLACE_WIDENING, rng),
                       space.draw_free(rng, per_wave)])
    walkers = np.hstack([start, space.draw_free(rng, len(start))])
    chain, epost, doc = _sample_in_waves(
        joint, post.targets,
        lambda pts, step: full_design_runs(joint, post.keys, pts, workers, journal, step),
        first, walkers, waves, steps, burn, seed, rng, emulator_seed, progress,
        first_from=f"Laplace approximation x {LAPLACE_WIDENING}, after-chain unknowns "
                   "from their prior", journal=journal)
    return chain, epost, doc | {"twin": "full, with each point's own re-entries"}


def _per_wave(design: int, waves: int) -> int:
    """Twin runs of each design wave."""
    return max(1, design // max(1, waves))


MAX_KEPT_STEPS = 100_000
"""Rows of a chain on the emulator held in memory (110 walkers in 54 dimensions: 4.8 GB);
a longer chain keeps one step in :func:`kept_every` of them."""


def kept_every(steps: int) -> int:
    """Keep one step in this many of an emulated chain of ``steps`` steps.

    At most :data:`MAX_KEPT_STEPS` rows are held. The posterior's autocorrelation time is
    hundreds to thousands of steps, so keeping one in a few loses nothing the thinning
    for the candidates would keep.
    """
    return max(1, -(-steps // MAX_KEPT_STEPS))


def _sample_in_waves(space: ParameterSpace, targets: dict[str, Target],
                     run_twin: Callable[[np.ndarray, str], Design], first: np.ndarray,
                     start: np.ndarray, waves: int, steps: int, burn: int, seed: int,
                     rng: np.random.Generator, emulator_seed: int | None,
                     progress: Callable[[str], None] | None,
                     first_from: str = f"Laplace approximation x {LAPLACE_WIDENING}",
                     journal: Journal | None = None
                     ) -> tuple[Chain, EmulatedLogPosterior, dict]:
    """The design waves and the final chain on the emulator (both samplings' common part).

    Wave 1 runs ``first`` with ``run_twin(points, step)``; each further wave as many
    points of a pilot chain on the emulator so far (see :func:`emulated_sampling`). The
    fits and the chains are kept in ``journal`` (keyed by the design's points and the
    chain's start and settings); the twin runs by ``run_twin``.
    """
    from chainsim.experiments.emulator import Emulator, held_out_error

    journal = journal or Journal(None)
    seed_e = seed if emulator_seed is None else emulator_seed
    log_inputs = tuple(not dim.log and dim.low > 0 for dim in space.dimensions)
    seconds = {"twin": 0.0, "fit": 0.0}

    def twin(points: np.ndarray, step: str) -> Design:
        runs = run_twin(points, step)
        seconds["twin"] += journal.last_seconds
        return runs

    def fitted(design_so_far: Design, step: str) -> Emulator:
        fresh = Emulator(seed=seed_e, log_inputs=log_inputs)
        settings = (seed_e, log_inputs, fresh.networks, fresh.hidden, fresh.penalty,
                    fresh.max_iterations)
        emulator, took = journal.value(
            step, (design_so_far.points, design_so_far.metrics, design_so_far.trials,
                   settings), lambda: fresh.fit(design_so_far))
        seconds["fit"] += took
        return emulator

    def chain_on(epost: EmulatedLogPosterior, design_so_far: Design, step: str, n: int,
                 discard: int, chain_seed: int) -> tuple[Chain, float]:
        keep = kept_every(n)
        # keep_every enters the key only above 1: the keys of shorter chains stay as they were
        extra = (keep,) if keep > 1 else ()
        return journal.counted(step, (design_so_far.points, seed_e, start, n, discard,
                                      chain_seed, *extra),
                               lambda: sample(epost, start, n, discard, chain_seed,
                                              keep_every=keep), epost)

    per_wave = len(first)
    say = progress or (lambda _text: None)
    say(f"emulator design wave 1: {per_wave} twin runs")
    runs = twin(first, "design-1")
    emulator = fitted(runs, "emulator-1")
    waves_doc = [{"wave": 1, "from": first_from, "runs": len(runs)}]
    d = start.shape[1]
    for w in range(2, waves + 1):
        epost = EmulatedLogPosterior(space, targets, emulator)
        say(f"emulator pilot chain {w - 1}: {EMULATOR_PILOT_STEPS} steps")
        pilot, _ = chain_on(epost, runs, f"pilot-{w - 1}", EMULATOR_PILOT_STEPS,
                            EMULATOR_PILOT_STEPS // 2, seed + w)
        pool = pilot.points.reshape(-1, d)
        pick = rng.choice(len(pool), size=min(per_wave, len(pool)), replace=False)
        say(f"emulator design wave {w}: {len(pick)} twin runs")
        new = twin(pool[np.sort(pick)], f"design-{w}")
        error = held_out_error(emulator, new, epost.log_likelihood)
        waves_doc.append({"wave": w, "from": "the emulated posterior (pilot chain)",
                          "runs": len(new), "held_out": error.summary()})
        runs = runs + new
        emulator = fitted(runs, f"emulator-{w}")
    epost = EmulatedLogPosterior(space, targets, emulator)
    say(f"final chain on the emulator: {steps} steps")
    chain, chain_seconds = chain_on(epost, runs, "chain", steps, burn, seed)
    doc = {"design_runs": len(runs), "waves": waves_doc,
           "network": {"networks": emulator.networks,
                       "hidden_layers": list(emulator.hidden), "activation": "tanh",
                       "penalty": emulator.penalty,
                       "max_iterations": emulator.max_iterations, "seed": seed_e,
                       "log_inputs": [dim.name for dim, lg in
                                      zip(space.dimensions, log_inputs, strict=True) if lg],
                       "library": "scikit-learn MLPRegressor (L-BFGS), predictions averaged"},
           "twin_seconds": round(seconds["twin"], 1), "fit_seconds": round(seconds["fit"], 1),
           "chain_seconds": round(chain_seconds, 1),
           "emulator_evaluations": epost.evaluations}
    return chain, epost, doc

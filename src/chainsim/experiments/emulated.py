"""Sampling the posterior on an emulator of the twin (``calibrate --posterior --emulator``).

:class:`EmulatedLogPosterior` is the log posterior with the twin's quantities replaced by an
emulator's predictions (:mod:`chainsim.experiments.emulator`); :func:`emulated_sampling` fits
the emulator on twin runs in design waves and runs the chain on it. The reweighting with the
full twin (:mod:`chainsim.experiments.reweight`) divides the emulated likelihood out again.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from chainsim.analysis.likelihood import log_likelihood
from chainsim.analysis.targets import Target
from chainsim.experiments.laplace import Laplace, laplace_design
from chainsim.experiments.posterior import LogPosterior, ParameterSpace
from chainsim.experiments.sampler import Chain, sample


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


def design_runs(post: LogPosterior, points: np.ndarray):
    """The twin's runs at ``points`` as an emulator's design (the valid ones)."""
    from chainsim.experiments.emulator import Design

    metrics, trials = post.metrics(points)
    return Design.from_runs(points, metrics, trials, post.keys)


EMULATOR_PILOT_STEPS = 3000
"""Steps of each pilot chain on the emulator (the first half discarded) that draws the
next design wave."""

LAPLACE_WIDENING = 1.5
"""How much wider than the Laplace approximation the first design wave is drawn."""


def emulated_sampling(post: LogPosterior, approx: Laplace, start: np.ndarray, design: int,
                      waves: int, steps: int, burn: int, seed: int,
                      rng: np.random.Generator, emulator_seed: int | None = None,
                      progress: Callable[[str], None] | None = None
                      ) -> tuple[Chain, EmulatedLogPosterior, dict]:
    """The chain on an emulator of the twin, fitted in ``waves`` design waves.

    Wave 1: ``design // waves`` points of the Laplace approximation widened
    :data:`LAPLACE_WIDENING` times, run with the twin; the emulator is fitted on them.
    Each further wave: a pilot chain of :data:`EMULATOR_PILOT_STEPS` steps on the
    emulator from ``start``, as many of its later points (drawn at random) run with the
    twin, predicted by the emulator first (the held-out error) and then added to the
    design, and the emulator fitted again. The final chain: ``steps`` steps from
    ``start`` on the last emulator, ``burn`` of them discarded.

    Returns:
        The chain, the emulated log posterior it sampled (the candidates' chain
        log-likelihood is its), and the provenance (design sizes, held-out errors, times).
    """
    import time

    from chainsim.experiments.emulator import Emulator, held_out_error

    seed_e = seed if emulator_seed is None else emulator_seed
    log_inputs = tuple(not dim.log and dim.low > 0 for dim in post.space.dimensions)

    def fitted(design_so_far) -> Emulator:
        return Emulator(seed=seed_e, log_inputs=log_inputs).fit(design_so_far)

    per_wave = max(1, design // max(1, waves))
    say = progress or (lambda _text: None)
    t0 = time.perf_counter()
    say(f"emulator design wave 1: {per_wave} twin runs")
    runs = design_runs(post, laplace_design(post.space, approx, per_wave, LAPLACE_WIDENING,
                                            rng))
    twin_seconds = time.perf_counter() - t0
    t1 = time.perf_counter()
    emulator = fitted(runs)
    fit_seconds = time.perf_counter() - t1
    waves_doc = [{"wave": 1, "from": f"Laplace approximation x {LAPLACE_WIDENING}",
                  "runs": len(runs)}]
    d = start.shape[1]
    for w in range(2, waves + 1):
        epost = EmulatedLogPosterior(post.space, post.targets, emulator)
        say(f"emulator pilot chain {w - 1}: {EMULATOR_PILOT_STEPS} steps")
        pilot = sample(epost, start, EMULATOR_PILOT_STEPS, EMULATOR_PILOT_STEPS // 2,
                       seed + w)
        pool = pilot.points.reshape(-1, d)
        pick = rng.choice(len(pool), size=min(per_wave, len(pool)), replace=False)
        say(f"emulator design wave {w}: {len(pick)} twin runs")
        t = time.perf_counter()
        new = design_runs(post, pool[np.sort(pick)])
        twin_seconds += time.perf_counter() - t
        error = held_out_error(emulator, new, epost.log_likelihood)
        waves_doc.append({"wave": w, "from": "the emulated posterior (pilot chain)",
                          "runs": len(new), "held_out": error.summary()})
        runs = runs + new
        t = time.perf_counter()
        emulator = fitted(runs)
        fit_seconds += time.perf_counter() - t
    epost = EmulatedLogPosterior(post.space, post.targets, emulator)
    say(f"final chain on the emulator: {steps} steps")
    t = time.perf_counter()
    chain = sample(epost, start, steps, burn, seed)
    doc = {"design_runs": len(runs), "waves": waves_doc,
           "network": {"networks": emulator.networks,
                       "hidden_layers": list(emulator.hidden), "activation": "tanh",
                       "penalty": emulator.penalty,
                       "max_iterations": emulator.max_iterations, "seed": seed_e,
                       "log_inputs": [dim.name for dim, lg in
                                      zip(post.space.dimensions, log_inputs, strict=True) if lg],
                       "library": "scikit-learn MLPRegressor (L-BFGS), predictions averaged"},
           "twin_seconds": round(twin_seconds, 1), "fit_seconds": round(fit_seconds, 1),
           "chain_seconds": round(time.perf_counter() - t, 1),
           "emulator_evaluations": epost.evaluations}
    return chain, epost, doc

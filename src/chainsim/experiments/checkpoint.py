"""Checkpoints of a posterior run, so a sampling that outlives a session can go on.

A converged posterior of chainsim's 46 dimensions takes thousands of sampler steps, hours
on a small machine. :class:`SamplerCheckpoint` holds everything the run needs to carry on
exactly where it stopped: the chain so far (points, log posterior, log likelihood), each
walker's accepted moves, the sampler's random state, and the run's start (the
history-matching wave and the Laplace approximation, so they are not recomputed). A run
resumed from a checkpoint gives the same chain, bit for bit, as one that was never
interrupted (tested), and asking for more steps than a checkpoint holds extends it.

A checkpoint belongs to one run: its *fingerprint* (seed, walkers, the dimensions and
their priors, the figures) must match, otherwise :func:`load_checkpoint` refuses it with
an input error rather than silently mixing two posteriors. The code's commit is recorded
too; a different commit is reported, not refused (a fix of a docstring does not change a
chain), so the note of the run says which code produced which steps.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chainsim.chain.errors import InputError
from chainsim.files import atomic_path

CHECKPOINT_NAME = ".posterior_checkpoint.npz"
"""File name of a posterior run's checkpoint in its output folder (not committed)."""


@dataclass
class SamplerCheckpoint:
    """The state of a posterior run after some steps.

    Attributes:
        fingerprint: Digest of the run's definition (see :func:`fingerprint`).
        points: ``(steps, walkers, d)``, every step so far (burn-in included).
        log_posterior: ``(steps, walkers)``.
        log_likelihood: ``(steps, walkers)``.
        accepted: Accepted moves per walker.
        random_state: The sampler's ``numpy.random.RandomState`` state after the last step.
        start: Arrays of the run's start: ``wave_points``, ``wave_log_posterior``,
            ``wave_implausibility`` (may be empty), ``mode``, ``covariance``, and
            ``laplace`` = ``[log posterior, iterations, evaluations]``.
        evaluations: Twin evaluations used so far (start included).
        commits: The code commits that produced the steps, one per resumption.
        seconds: Wall time of the sittings so far (0 for those before checkpoints kept
            it).
    """

    fingerprint: str
    points: np.ndarray
    log_posterior: np.ndarray
    log_likelihood: np.ndarray
    accepted: np.ndarray
    random_state: tuple
    start: dict[str, np.ndarray]
    evaluations: int
    commits: list[str]
    seconds: float = 0.0

    @property
    def steps(self) -> int:
        """Steps held."""
        return int(self.points.shape[0])


def fingerprint(definition: dict) -> str:
    """A digest of a run's definition (any JSON-serialisable document)."""
    text = json.dumps(definition, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def save_checkpoint(path: Path, checkpoint: SamplerCheckpoint) -> None:
    """Write ``checkpoint`` to ``path`` atomically (a crash leaves the previous one)."""
    name, keys, pos, has_gauss, cached = checkpoint.random_state
    arrays = {f"start_{k}": np.asarray(v) for k, v in checkpoint.start.items()}
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, fingerprint=np.array(checkpoint.fingerprint),
                 points=checkpoint.points, log_posterior=checkpoint.log_posterior,
                 log_likelihood=checkpoint.log_likelihood, accepted=checkpoint.accepted,
                 rs_name=np.array(name), rs_keys=np.asarray(keys), rs_pos=np.array(pos),
                 rs_has_gauss=np.array(has_gauss), rs_cached=np.array(cached),
                 evaluations=np.array(checkpoint.evaluations),
                 commits=np.array(json.dumps(checkpoint.commits)),
                 seconds=np.array(checkpoint.seconds), **arrays)


def load_checkpoint(path: Path, expected: str) -> SamplerCheckpoint | None:
    """The checkpoint at ``path`` if there is one (``None`` otherwise).

    Args:
        path: The checkpoint file.
        expected: The fingerprint of the run that wants to resume.

    Raises:
        InputError: The file is not a checkpoint, or one of another run (other seed,
            walkers, priors or figures): the message says to remove it or start afresh.
    """
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as f:
            data = {k: f[k] for k in f.files}
    except (OSError, ValueError) as exc:
        raise InputError.single(str(path), "checkpoint", str(exc),
                         "a checkpoint written by chainsim calibrate --posterior; remove "
                         "it or pass --fresh") from None
    if str(data["fingerprint"]) != expected:
        raise InputError.single(str(path), "checkpoint", "another run's checkpoint",
                         "the same seed, walkers, priors and figures as this run; remove "
                         "it or pass --fresh to start afresh")
    random_state = (str(data["rs_name"]), data["rs_keys"], int(data["rs_pos"]),
                    int(data["rs_has_gauss"]), float(data["rs_cached"]))
    start = {k.removeprefix("start_"): v for k, v in data.items() if k.startswith("start_")}
    return SamplerCheckpoint(str(data["fingerprint"]), data["points"], data["log_posterior"],
                             data["log_likelihood"], data["accepted"], random_state, start,
                             int(data["evaluations"]), json.loads(str(data["commits"])),
                             float(data["seconds"]) if "seconds" in data else 0.0)

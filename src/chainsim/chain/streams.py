"""Counter-based random streams, one per mechanism.

Each replication's :class:`numpy.random.SeedSequence` is spawned into one child per
mechanism (:data:`chainsim.chain.spec.MECHANISMS`); each child gives a 64-bit key. A draw
is a pure function of ``(key, offender id, counter)``: the ``counter``-th draw an
offender makes from that mechanism. So the draws an offender gets from one
mechanism never depend on what happened to other offenders or in other
mechanisms, which is the strongest form of common random numbers: a scenario that
changes sentencing leaves every inflow, detection and prosecution draw unchanged.

The mixing function is SplitMix64's finaliser applied twice (a bijective 64-bit
hash with full avalanche), the same construction counter-based generators such as
Random123 use. A scalar version serves the agent model; :func:`uniform_array`
gives the same numbers vectorised for array engines.
"""

from __future__ import annotations

import numpy as np

from chainsim.chain.spec import MECHANISMS

_MASK = (1 << 64) - 1
_GAMMA = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
_COUNTER_BITS = 24
_SCALE = 2.0**-52


def _mix(z: int) -> int:
    z = (z + _GAMMA) & _MASK
    z = ((z ^ (z >> 30)) * _M1) & _MASK
    z = ((z ^ (z >> 27)) * _M2) & _MASK
    return z ^ (z >> 31)


def uniform(key: int, offender: int, counter: int) -> float:
    """One uniform draw in the open interval (0, 1).

    Args:
        key: The mechanism's 64-bit key.
        offender: The offender's id (or another non-negative id).
        counter: Which draw of this offender from this mechanism.

    Returns:
        A float strictly between 0 and 1.
    """
    z = _mix(key ^ _mix((offender << _COUNTER_BITS) | counter))
    # 52 random bits, centred in their cell: (k + 0.5) / 2**52 is exact, in (0, 1) strictly
    return ((z >> 12) + 0.5) * _SCALE


def uniform_array(key: int, offenders: np.ndarray, counters: np.ndarray) -> np.ndarray:
    """Vectorised :func:`uniform`: identical numbers for identical inputs."""
    with np.errstate(over="ignore"):
        x = (np.asarray(offenders, dtype=np.uint64) << np.uint64(_COUNTER_BITS)) | np.asarray(
            counters, dtype=np.uint64
        )
        z = np.uint64(key) ^ _mix_array(x)
        z = _mix_array(z)
    return ((z >> np.uint64(12)).astype(np.float64) + 0.5) * _SCALE


def _mix_array(z: np.ndarray) -> np.ndarray:
    z = z + np.uint64(_GAMMA)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(_M1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(_M2)
    return z ^ (z >> np.uint64(31))


class Streams:
    """The per-mechanism keys of one replication.

    Args:
        seed: The replication's seed sequence (or an int, for convenience).

    Attributes:
        keys: Mechanism name -> 64-bit key.
    """

    def __init__(self, seed: np.random.SeedSequence | int):
        ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        # Derive the children explicitly (not ss.spawn, which mutates ss): the same
        # seed sequence always gives the same keys.
        children = [
            np.random.SeedSequence(ss.entropy, spawn_key=(*ss.spawn_key, i), pool_size=ss.pool_size)
            for i in range(len(MECHANISMS))
        ]
        self.keys: dict[str, int] = {
            name: int(child.generate_state(1, dtype=np.uint64)[0])
            for name, child in zip(MECHANISMS, children, strict=True)
        }

    def uniform(self, mechanism: str, offender: int, counter: int) -> float:
        """The ``counter``-th draw of ``offender`` from ``mechanism``."""
        return uniform(self.keys[mechanism], offender, counter)


def replication_seeds(seed: int, reps: int) -> list[np.random.SeedSequence]:
    """Seed sequences of ``reps`` replications: ``SeedSequence(seed).spawn(reps)``."""
    return np.random.SeedSequence(seed).spawn(reps)

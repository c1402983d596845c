"""Sampling the declared unknowns: one draw per replication, shared by every arm.

Each unknown (a parameter under ``[unknowns]`` or an intervention with ``low`` and
``high``) is drawn from a triangular distribution on ``[low, high]`` with its
central value as the mode: the central value is the most plausible, the range's
ends are possible but unlikely. The draw for an unknown depends only on the
replication's seed and the unknown's name, so all arms of a comparison share it
and adding an unknown does not change the others' draws.
"""

from __future__ import annotations

import math
import zlib

import numpy as np

from chainsim.chain.config import Scenario
from chainsim.chain.errors import InputError, Problem
from chainsim.chain.parameters import unknown_keys
from chainsim.chain.streams import uniform

_UNKNOWNS_SPAWN_KEY = 1_000_003
"""Spawn key of the unknowns' stream (apart from the mechanisms' streams)."""


def triangular_ppf(u: float, low: float, mode: float, high: float) -> float:
    """Inverse CDF of the triangular distribution (returns ``mode`` if ``low == high``)."""
    if high <= low:
        return mode
    cut = (mode - low) / (high - low)
    if u < cut:
        return low + math.sqrt(u * (high - low) * (mode - low))
    return high - math.sqrt((1 - u) * (high - low) * (high - mode))


def declared_unknowns(scenarios: list[Scenario]) -> dict[str, tuple[float, float, float]]:
    """Every unknown of the given scenarios: ``key -> (central, low, high)``.

    Raises:
        InputError: If two scenarios declare the same unknown with different
            central values or ranges (they would share one draw).
    """
    out: dict[str, tuple[float, float, float]] = {}
    owner: dict[str, str] = {}
    problems = []
    for sc in scenarios:
        for key, triple in unknown_keys(sc).items():
            if key in out and out[key] != triple:
                problems.append(Problem(sc.name, key, triple,
                                        f"the same unknown as in {owner[key]} {out[key]}: "
                                        "arms share one draw per unknown, so declare it "
                                        "identically or give the intervention another name"))
                continue
            out[key] = triple
            owner.setdefault(key, sc.name)
    if problems:
        raise InputError(problems)
    return out


def sample_unknowns(unknowns: dict[str, tuple[float, float, float]],
                    seed: np.random.SeedSequence) -> dict[str, float]:
    """One draw of every unknown for a replication.

    Args:
        unknowns: ``key -> (central, low, high)``.
        seed: The replication's seed sequence.

    Returns:
        ``key -> sampled value``.
    """
    child = np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, _UNKNOWNS_SPAWN_KEY))
    key = int(child.generate_state(1, dtype=np.uint64)[0])
    out = {}
    for name, (central, low, high) in sorted(unknowns.items()):
        u = uniform(key, zlib.crc32(name.encode()), 0)
        out[name] = triangular_ppf(u, low, central, high)
    return out

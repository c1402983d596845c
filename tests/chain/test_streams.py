"""Counter-based random streams: keys, the (0, 1) contract, scalar = vectorised, uniformity."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from chainsim.chain import streams
from chainsim.chain.spec import MECHANISMS
from chainsim.chain.streams import Streams, replication_seeds, uniform, uniform_array

KEY = 0x243F6A8885A308D3


def test_same_seed_sequence_gives_the_same_keys():
    ss = np.random.SeedSequence(12345)
    a, b = Streams(ss), Streams(ss)
    assert a.keys == b.keys
    assert ss.n_children_spawned == 0  # deriving the keys does not mutate the sequence
    assert Streams(12345).keys == a.keys
    assert Streams(np.random.SeedSequence(12345)).keys == a.keys


def test_keys_differ_between_mechanisms_and_seeds():
    a = Streams(1)
    assert list(a.keys) == list(MECHANISMS)
    assert len(set(a.keys.values())) == len(MECHANISMS)
    assert all(0 <= k < 2**64 for k in a.keys.values())
    b = Streams(2)
    assert not set(a.keys.values()) & set(b.keys.values())


def test_replication_seeds_are_spawned_children():
    seeds = replication_seeds(7, 3)
    expected = np.random.SeedSequence(7).spawn(3)
    assert [s.spawn_key for s in seeds] == [s.spawn_key for s in expected]
    assert [Streams(s).keys for s in seeds] == [Streams(s).keys for s in expected]
    assert len({Streams(s).keys["inflow"] for s in seeds}) == 3
    # the first replications do not depend on how many are run
    assert Streams(replication_seeds(7, 5)[1]).keys == Streams(seeds[1]).keys


def test_streams_uniform_is_the_module_function_with_the_mechanism_key():
    s = Streams(3)
    for mech in MECHANISMS:
        assert s.uniform(mech, 42, 7) == uniform(s.keys[mech], 42, 7)
    assert s.uniform("inflow", 1, 0) != s.uniform("detection", 1, 0)


def test_uniform_is_a_pure_function():
    assert uniform(KEY, 5, 3) == uniform(KEY, 5, 3)
    assert uniform(KEY, 5, 3) != uniform(KEY, 5, 4)
    assert uniform(KEY, 5, 3) != uniform(KEY, 6, 3)
    assert uniform(KEY, 5, 3) != uniform(KEY + 1, 5, 3)


def test_uniform_in_open_unit_interval():
    u = [uniform(KEY, o, c) for o in range(200) for c in range(50)]
    assert all(isinstance(x, float) for x in u)
    assert 0.0 < min(u) and max(u) < 1.0


def test_uniform_array_equals_scalar_uniform_elementwise():
    rng = np.random.default_rng(0)
    offenders = np.concatenate([np.arange(50), rng.integers(0, 2**38, 200), [2**38 - 1]])
    counters = np.concatenate([np.arange(50) % 7, rng.integers(0, 2**24, 200), [2**24 - 1]])
    for key in (0, KEY, 2**64 - 1, *Streams(9).keys.values()):
        vec = uniform_array(key, offenders, counters)
        scalar = np.array([uniform(key, int(o), int(c))
                           for o, c in zip(offenders, counters, strict=True)])
        np.testing.assert_array_equal(vec, scalar)
        assert vec.dtype == np.float64


def test_uniform_array_broadcasts_over_offenders():
    vec = uniform_array(KEY, np.arange(10), np.zeros(10, dtype=np.int64))
    assert vec.shape == (10,)
    assert vec[3] == uniform(KEY, 3, 0)


def test_draws_are_uniform_ks():
    # Kolmogorov-Smirnov against U(0, 1) with a fixed key: the tolerance is the KS
    # critical value at alpha = 0.001, c(alpha) / sqrt(n) with
    # c(alpha) = sqrt(-ln(alpha / 2) / 2) = 1.949.
    n = 50_000
    ids = np.arange(n)
    for key, offenders, counters in (
        (KEY, ids, np.zeros(n, dtype=np.int64)),  # across offenders
        (Streams(1).keys["trial"], np.full(n, 17), ids % 2**24),  # one offender's counter
    ):
        u = uniform_array(key, offenders, counters)
        d = stats.kstest(u, "uniform").statistic
        crit = math.sqrt(-math.log(0.001 / 2) / 2) / math.sqrt(n)
        assert d < crit


def test_consecutive_draws_and_mechanisms_are_uncorrelated():
    # Pearson correlation of independent uniforms has sd 1/sqrt(n); tolerance 4 sd.
    n = 50_000
    ids = np.arange(n)
    keys = Streams(5).keys
    first = uniform_array(keys["trial"], ids, np.zeros(n, dtype=np.int64))
    second = uniform_array(keys["trial"], ids, np.ones(n, dtype=np.int64))
    other = uniform_array(keys["sentencing"], ids, np.zeros(n, dtype=np.int64))
    tol = 4 / math.sqrt(n)
    assert abs(np.corrcoef(first, second)[0, 1]) < tol
    assert abs(np.corrcoef(first, other)[0, 1]) < tol
    # mean 1/2 with sd sqrt(1/12)/sqrt(n); 4 standard errors
    assert abs(first.mean() - 0.5) < 4 * math.sqrt(1 / 12) / math.sqrt(n)


# ----------------------------------------------------- the (0, 1) contract at the extreme

_M64 = (1 << 64) - 1
_GAMMA = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB


def _unxorshift(z: int, s: int) -> int:
    x = z
    for _ in range(64 // s + 1):
        x = z ^ (x >> s)
    return x & _M64


def _mix_inverse(z: int) -> int:
    """Inverse of the SplitMix64 finaliser (the documented mixing function)."""
    z = _unxorshift(z, 31)
    z = (z * pow(_M2, -1, 1 << 64)) & _M64
    z = _unxorshift(z, 27)
    z = (z * pow(_M1, -1, 1 << 64)) & _M64
    z = _unxorshift(z, 30)
    return (z - _GAMMA) & _M64


def test_mix_inverse_matches_the_streams_hash():
    # guards the next test: if the hash changes, the constructed key below is meaningless
    for z in (0, 1, KEY, _M64, 2**63 + 12345):
        assert _mix_inverse(streams._mix(z)) == z


@pytest.mark.parametrize("hashed", [_M64, (1 << 64) - (1 << 11)])
def test_uniform_stays_below_one_at_the_largest_hash(hashed):
    # Keys are arbitrary 64-bit numbers (from SeedSequence), so some key makes the
    # final hash of (offender 0, draw 0) any value we like; the top 53 bits all set is
    # the largest draw the generator can make. The docstring promises "strictly
    # between 0 and 1"; (2**53 - 1) * 2**-53 + 2**-54 rounds to 1.0 in float64.
    key = _mix_inverse(hashed) ^ streams._mix(0)
    assert streams._mix(key ^ streams._mix(0)) == hashed
    assert uniform(key, 0, 0) < 1.0
    assert uniform_array(key, np.array([0]), np.array([0]))[0] < 1.0

"""Sampling the unknowns: triangular draws keyed by replication seed and unknown name."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from chainsim.chain.config import scenario_from_dict
from chainsim.chain.parameters import unknown_keys
from chainsim.chain.streams import replication_seeds
from chainsim.chain.uncertainty import declared_unknowns, sample_unknowns, triangular_ppf
from conftest import short_doc

UNKNOWNS = {"a": (0.3, 0.1, 0.9), "b": (600.0, 300.0, 1300.0), "c": (1.0, 1.0, 1.0),
            "d": (0.0, 0.0, 3.0), "e": (2.0, 1.0, 2.0)}


# ------------------------------------------------------------------ triangular_ppf


@pytest.mark.parametrize(("low", "mode", "high"), [(0.1, 0.3, 0.9), (0.0, 0.0, 3.0),
                                                   (1.0, 2.0, 2.0), (-2.0, 0.5, 1.0)])
def test_triangular_ppf_endpoints_mode_and_monotone(low, mode, high):
    assert triangular_ppf(0.0, low, mode, high) == pytest.approx(low)
    assert triangular_ppf(1.0, low, mode, high) == pytest.approx(high)
    cut = (mode - low) / (high - low)  # the CDF at the mode
    assert triangular_ppf(cut, low, mode, high) == pytest.approx(mode)
    u = np.linspace(0.0, 1.0, 1001)
    x = np.array([triangular_ppf(v, low, mode, high) for v in u])
    assert np.all(np.diff(x) >= 0)
    assert np.all((low <= x) & (x <= high))
    # the textbook inverse CDF (SciPy's triangular: c = (mode - low) / (high - low))
    np.testing.assert_allclose(x, stats.triang.ppf(u, cut, loc=low, scale=high - low),
                               atol=1e-12)


def test_triangular_ppf_with_an_empty_range_returns_the_mode():
    for u in (0.0, 0.3, 0.999):
        assert triangular_ppf(u, 2.5, 2.5, 2.5) == 2.5


# ------------------------------------------------------------------ sample_unknowns


def test_sampling_is_deterministic_for_a_seed():
    seed = replication_seeds(7, 3)[1]
    first = sample_unknowns(UNKNOWNS, seed)
    assert set(first) == set(UNKNOWNS)
    assert sample_unknowns(UNKNOWNS, seed) == first
    assert sample_unknowns(UNKNOWNS, replication_seeds(7, 3)[1]) == first  # a fresh equal seed
    assert sample_unknowns(UNKNOWNS, replication_seeds(7, 5)[1]) == first  # same spawn key


def test_replications_get_different_draws():
    draws = [sample_unknowns(UNKNOWNS, s) for s in replication_seeds(7, 4)]
    for key in ("a", "b", "d", "e"):
        assert len({d[key] for d in draws}) == 4, key
    other_seed = sample_unknowns(UNKNOWNS, replication_seeds(8, 4)[0])
    assert other_seed["a"] != draws[0]["a"]


def test_draws_lie_in_their_ranges():
    for seed in replication_seeds(3, 300):
        for key, value in sample_unknowns(UNKNOWNS, seed).items():
            _, low, high = UNKNOWNS[key]
            assert low <= value <= high, (key, value)
    assert sample_unknowns(UNKNOWNS, replication_seeds(3, 1)[0])["c"] == 1.0


def test_a_draw_does_not_change_when_another_unknown_is_added():
    for seed in replication_seeds(11, 5):
        alone = sample_unknowns({"a": UNKNOWNS["a"]}, seed)
        together = sample_unknowns(UNKNOWNS | {"zzz": (1.0, 0.0, 2.0), "0": (1.0, 0.0, 2.0)},
                                   seed)
        assert together["a"] == alone["a"]
        # and the draw depends on the name, not on the position among the unknowns
        assert together["zzz"] != together["0"]


def test_the_sample_mean_matches_the_triangular_mean():
    n = 4000
    draws = [sample_unknowns(UNKNOWNS, s) for s in replication_seeds(2024, n)]
    for key in ("a", "b", "d"):
        central, low, high = UNKNOWNS[key]
        x = np.array([d[key] for d in draws])
        mean = (low + central + high) / 3
        var = (low**2 + central**2 + high**2 - low * central - low * high - central * high) / 18
        # Monte Carlo error: the sample mean has standard error sqrt(var / n); 4 standard
        # errors leave a false-alarm chance of about 6e-5 per unknown (and the seed is fixed)
        assert abs(x.mean() - mean) < 4 * np.sqrt(var / n), key
        # the mode splits the mass as the triangle does: P(X < mode) = (mode - low) / (high - low)
        share = (central - low) / (high - low)
        se = np.sqrt(share * (1 - share) / n)
        assert abs((x < central).mean() - share) <= 4 * se + 1e-12, key


def test_declared_unknowns_of_a_scenario_include_uncertain_interventions():
    doc = short_doc()
    doc["interventions"] = [
        {"name": "certain", "parameter": "trial_months", "operation": "add", "value": 1,
         "start": "2014-01", "note": "no range"},
        {"name": "unsure", "parameter": "trial_months", "operation": "add", "value": 1,
         "low": 0, "high": 3, "start": "2014-01", "note": "a range"},
    ]
    sc = scenario_from_dict(doc)
    keys = unknown_keys(sc)
    assert set(keys) == set(doc["unknowns"]) | {"interventions.unsure"}
    assert keys["interventions.unsure"] == (1, 0, 3)
    for name, entry in doc["unknowns"].items():
        assert keys[name] == (entry["central"], entry["low"], entry["high"])
    assert declared_unknowns([scenario_from_dict(short_doc()), sc]) == keys

"""The engine registry: one table names the engines; the CLI and experiments read it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from chainsim import cli, engines
from chainsim.chain.errors import InputError
from chainsim.chain.streams import replication_seeds
from chainsim.engines import DEFAULT_ENGINE, ENGINES, REFERENCE_ENGINE, Engine, get_engine
from chainsim.experiments.compare import arms_together
from chainsim.experiments.evaluate import simulate_arms, simulate_records
from conftest import SEED


def test_the_registry_names_both_engines_with_fast_the_default():
    assert list(ENGINES) == ["fast", "agents"]
    assert (DEFAULT_ENGINE, REFERENCE_ENGINE) == ("fast", "agents")
    assert all(name == engine.name for name, engine in ENGINES.items())
    assert ENGINES["fast"].shares_arms and not ENGINES["agents"].shares_arms
    assert "(default)" in engines.engine_help() and "agents" in engines.engine_help()


def test_an_unknown_engine_is_bad_input_naming_the_engines():
    with pytest.raises(InputError) as err:
        get_engine("turbo")
    text = str(err.value.problems[0])
    assert "turbo" in text and "fast" in text and "agents" in text


@pytest.mark.parametrize("command", ["run", "compare", "calibrate"])
def test_the_cli_offers_the_registry_and_defaults_to_fast(command):
    parser = cli.build_parser()
    argv = {"run": ["run", "s.toml"], "compare": ["compare", "a.toml", "b.toml"],
            "calibrate": ["calibrate"]}[command]
    assert parser.parse_args(argv).engine == "fast"
    assert parser.parse_args([*argv, "--engine", "agents"]).engine == "agents"
    with pytest.raises(SystemExit):
        parser.parse_args([*argv, "--engine", "turbo"])


def test_compare_runs_arms_together_only_with_an_engine_that_shares_them():
    assert arms_together("fast", 4, 2) and not arms_together("agents", 4, 2)


def test_an_engine_without_shared_arms_runs_them_one_by_one(short_params):
    seed = replication_seeds(SEED, 1)[0]
    calls = []

    def records(params, s):
        calls.append(params)
        return get_engine("fast").records(params, s)

    plain = Engine("plain", "runs arms apart", records)
    out = list(plain.arms_records([short_params, short_params], seed))
    assert len(out) == 2 and calls == [short_params, short_params]
    assert np.array_equal(out[0].values("month"), out[1].values("month"))


def by_offender(records):
    # the engines write a month's records in different offender orders (see test_fast)
    return records.sort_values(["agent_id", "month"], kind="stable").reset_index(drop=True)


@pytest.mark.slow
def test_the_engines_give_the_same_records(short_params):
    seed = replication_seeds(SEED, 1)[0]
    fast = simulate_records(short_params, seed, "fast").frame
    agents = simulate_records(short_params, seed, "agents").frame
    pd.testing.assert_frame_equal(by_offender(fast), by_offender(agents))
    together = next(simulate_arms([short_params], seed, "fast")).frame
    pd.testing.assert_frame_equal(together, fast)

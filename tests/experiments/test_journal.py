"""The journal of a long run's steps (chainsim.experiments.journal)."""

from __future__ import annotations

import numpy as np
import pytest

import chainsim.experiments.emulated as emulated
import chainsim.experiments.journal as journal_module
from chainsim.experiments.journal import Journal, digest


class _Stop(Exception):
    """Stands for a session that ends in the middle of a step."""


def _square(x: int) -> int:
    return x * x


def _square_unless(shared: int, x: int) -> int:
    if x == shared:
        raise _Stop
    return x * x


def test_a_kept_value_is_read_back_and_other_inputs_compute_afresh(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return {"a": np.arange(3)}

    first = Journal(tmp_path, run="r", commit="c1")
    value, _ = first.value("fit", (np.arange(4),), compute)
    again = Journal(tmp_path, run="r", commit="c2")
    same, _ = again.value("fit", (np.arange(4),), compute)
    assert len(calls) == 1 and again.last_reused and again.reused == ["fit"]
    assert again.commits == {"c1"}  # the commit that computed it, not this one
    np.testing.assert_array_equal(same["a"], value["a"])
    again.value("fit", (np.arange(4) + 1,), compute)  # other inputs
    Journal(tmp_path, run="other").value("fit", (np.arange(4),), compute)  # another run
    assert len(calls) == 3


def test_a_folder_is_claimed_for_one_definition(tmp_path):
    from chainsim.chain.errors import InputError

    Journal(None).claim("anything")  # no folder: nothing to claim
    Journal(tmp_path, run="r").claim("scenario A")
    Journal(tmp_path, run="other seed").claim("scenario A")  # the same scenario: fine
    with pytest.raises(InputError, match="another scenario or other figures"):
        Journal(tmp_path, run="r").claim("scenario B")
    assert (tmp_path / "definition.txt").read_text(encoding="utf-8") == "scenario A\n"


def test_without_a_folder_nothing_is_kept(tmp_path):
    calls = []
    for _ in range(2):
        Journal(None).value("fit", (), lambda: calls.append(1))
    assert len(calls) == 2 and not list(tmp_path.iterdir())


def test_an_unreadable_step_is_computed_again(tmp_path):
    journal = Journal(tmp_path, run="r")
    journal.value("fit", (), lambda: 1)
    (path,) = tmp_path.iterdir()
    path.write_bytes(b"cut off")
    assert Journal(tmp_path, run="r").value("fit", (), lambda: 2)[0] == 2


def test_an_interrupted_map_goes_on_from_the_tasks_done(tmp_path, monkeypatch):
    """A map stopped at task 5 kept tasks 0-4; run again it computes only 5-9, and the
    results are the uninterrupted map's."""
    monkeypatch.setattr(journal_module, "SAVE_EVERY_SECONDS", 0.0)  # save after every task
    tasks = list(range(10))
    with pytest.raises(_Stop):
        Journal(tmp_path, run="r").mapped("runs", (), _square_unless, tasks, shared=5)
    seen = []
    resumed = Journal(tmp_path, run="r")
    out = resumed.mapped("runs", (), _square_unless, tasks, shared=-1, on_result=seen.append)
    assert out == [x * x for x in tasks] and seen == out
    assert resumed.reused == ["runs (5 of 10)"] and resumed.last_reused
    # once complete, nothing is computed: a function that would fail is not called
    assert Journal(tmp_path, run="r").mapped("runs", (), _square_unless, tasks,
                                             shared=0) == out
    assert Journal(tmp_path, run="r").mapped("runs", (), _square, tasks[:4]) == [0, 1, 4, 9]


def test_a_map_stopped_by_an_error_keeps_what_it_finished(tmp_path):
    """No periodic save happens within a minute, yet the tasks done before an error are kept."""
    with pytest.raises(_Stop):
        Journal(tmp_path, run="r").mapped("runs", (), _square_unless, list(range(6)), shared=3)
    resumed = Journal(tmp_path, run="r")
    assert resumed.mapped("runs", (), _square_unless, list(range(6)), shared=-1) == [
        0, 1, 4, 9, 16, 25]
    assert resumed.reused == ["runs (3 of 6)"]


def test_a_file_without_a_steps_fields_is_computed_again(tmp_path):
    import pickle

    Journal(tmp_path, run="r").value("fit", (), lambda: 1)
    (path,) = tmp_path.iterdir()
    path.write_bytes(pickle.dumps({"something": "else"}))
    assert Journal(tmp_path, run="r").value("fit", (), lambda: 2)[0] == 2


def test_the_digest_sees_every_byte_dtype_and_shape():
    a = np.arange(6, dtype=float)
    assert digest(a) == digest(a.copy())
    assert digest(a) != digest(a.reshape(2, 3))
    assert digest(a) != digest(a.astype(np.float32))
    b = a.copy()
    b[3] = np.nextafter(b[3], 10)
    assert digest(a) != digest(b)
    assert digest([a, 1]) != digest(a, 1)


@pytest.mark.slow
def test_an_emulated_run_interrupted_in_its_reweighting_goes_on_to_the_same_members(
        tmp_path, monkeypatch):
    """A joint emulated run (3 dimensions, 2 design waves) stopped in its reweighting (the
    progress callback raises after the 6th full-twin run) is run again with the same
    journal: it reads back the design, fits, chains and the 6 runs, and its members are the
    uninterrupted run's, bit for bit."""
    from chainsim.analysis.targets import load_targets
    from chainsim.experiments.calibrate import DEFAULT_KNOBS
    from chainsim.experiments.posterior import ParameterSpace
    from chainsim.experiments.posterior_run import run_posterior
    from conftest import make_scenario

    monkeypatch.setattr(emulated, "EMULATOR_PILOT_STEPS", 20)
    sc = make_scenario()
    targets = load_targets()

    def once(journal=None, on_candidate=None):
        space = ParameterSpace(sc, knobs=DEFAULT_KNOBS[:1],
                               unknowns=("resume_share", "reoffend_hazard"))
        return run_posterior(sc, targets, members=8, walkers=8, steps=30, burn=10,
                             wave_size=4, seed=3, space=space, design=32, design_waves=2,
                             candidates=16, reweight=True, joint=True, journal=journal,
                             on_candidate=on_candidate, commit="abc")

    done = []

    def stop_after_five():
        done.append(1)
        if len(done) == 6:
            raise _Stop

    with pytest.raises(_Stop):
        once(tmp_path / "journal", stop_after_five)
    resumed = once(tmp_path / "journal")
    kept = resumed.settings["journal"]["steps_read_back"]
    assert kept[:2] == ["wave", "laplace"] and "design-1 (16 of 16)" in kept
    assert {"emulator-1", "pilot-1", "emulator-2", "chain"} <= set(kept)
    assert kept[-1].startswith("reweighting (6 of ")  # kept although the 6th's callback failed
    assert resumed.settings["journal"]["code_commits"] == ["abc"]
    whole = once()
    assert "journal" not in whole.settings
    np.testing.assert_array_equal(resumed.members.to_numpy(float),
                                  whole.members.to_numpy(float))
    assert resumed.evaluations == whole.evaluations
    assert (resumed.settings["emulator"]["design_runs"]
            == whole.settings["emulator"]["design_runs"])

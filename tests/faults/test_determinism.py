"""Determinism: the same seed gives byte-identical result files, whatever the workers or backend.

Each command runs with 1, 2 and 4 local workers, twice with 1 worker (a repeat),
and on a real Dask cluster (``dask scheduler`` + 2 workers); every file it writes
must be byte-identical across all of them (figures included). Counted in the fault
table as "determinism".
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chainsim.cli import main
from faults.harness import count

pytestmark = pytest.mark.slow  # every command on 5 backends: full suite only

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"

COMMANDS = {
    "run": ["run", str(DATA / "short.toml"), "--engine", "fast", "--reps", "6", "--seed", "5"],
    "compare": ["compare", str(DATA / "short.toml"), str(DATA / "short_probation.toml"),
                "--engine", "fast", "--reps", "6", "--seed", "5", "--report"],
    "sweep": ["sweep", str(DATA / "sweeps" / "small_lhs.toml")],
}
BACKENDS = {
    "1 worker": ["--workers", "1"],
    "1 worker again": ["--workers", "1"],
    "2 workers": ["--workers", "2"],
    "4 workers": ["--workers", "4"],
}


def _files(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_identical_files_across_workers_and_backends(command, tmp_path, dask_scheduler, capsys):
    backends = {**BACKENDS, "dask, 2 workers": ["--scheduler", dask_scheduler]}
    outputs = {}
    with count("determinism", f"{command}: {len(backends)} configurations", len(backends)):
        for name, extra in backends.items():
            out = tmp_path / name.replace(" ", "_").replace(",", "")
            assert main([*COMMANDS[command], *extra, "--out", str(out), "--json"]) == 0
            capsys.readouterr()
            outputs[name] = _files(out)
        reference = outputs["1 worker"]
        assert reference, "nothing written"
        for name, files in outputs.items():
            assert files.keys() == reference.keys(), name
            different = [f for f in files if files[f] != reference[f]]
            assert not different, f"{name}: {different} differ from the 1-worker run"

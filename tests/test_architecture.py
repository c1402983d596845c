"""The architecture: the import-linter contracts of pyproject.toml hold.

The layers (one folder each: cli/api -> outputs/dashboard -> experiments -> analysis
(beside files) -> engines -> chain) and the absence of import loops are declared in
``[tool.importlinter]``; this runs ``lint-imports`` from the environment's scripts, as a
developer would.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _lint_imports() -> str:
    here = Path(sys.executable).parent / "lint-imports"
    found = str(here) if here.exists() else shutil.which("lint-imports")
    if found is None:
        pytest.fail("lint-imports is not installed: pip install -e '.[dev]' (import-linter)")
    return found


def test_the_import_contracts_hold():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    assert {c["type"] for c in contracts} >= {"layers", "acyclic_siblings"}
    proc = subprocess.run([_lint_imports(), "--no-cache", "--no-logo"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # every contract was loaded and checked, none broken
    assert f"Contracts: {len(contracts)} kept, 0 broken." in proc.stdout, proc.stdout

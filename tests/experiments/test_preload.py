"""The local pool's forkserver preload (chainsim.experiments.preload), in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import gc, json, sys
import chainsim.experiments.preload
from chainsim.engines import fast
from chainsim.experiments import worker_setup
print(json.dumps({
    "frozen": gc.get_freeze_count(),
    "mallopt": worker_setup.keep_freed_memory(),
    "compiled": all(len(getattr(fast, name).signatures) >= 1 for name in (
        "_uniforms", "_upper_bounds", "_passages", "_spell_outcomes", "_lag_bound",
        "_competing_passages", "_ragged_cumsum", "_counting_order",
        "_general_events")),
    "scipy_stats": "scipy.stats" in sys.modules,  # not needed: spec uses scipy.special
}))
"""


def test_preload_loads_the_compiled_loops_and_freezes_what_it_made():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         check=True, timeout=300)
    probe = json.loads(out.stdout)
    assert probe["compiled"] and not probe["scipy_stats"]
    assert probe["frozen"] > 10_000  # modules, functions and compiled code, out of the GC's way
    if sys.platform.startswith("linux"):
        assert probe["mallopt"]  # glibc took the settings


def test_the_cli_does_not_import_scipy_stats_for_compare():
    # scipy.stats takes half a second to import: compare's process needs only the t
    # quantile and the engines the distributions of chainsim.chain.spec (scipy.special)
    code = ("import sys, chainsim.experiments.compare, chainsim.outputs.folders, chainsim.cli; "
            "print('scipy.stats' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "False"

"""The public API (``import chainsim``): load_scenario, run, compare; results as pandas."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pandas as pd
import pytest

import chainsim
from chainsim.experiments.compare import Comparison, comparison_document
from chainsim.experiments.replications import RunResult
from conftest import DATA, ROOT, SHORT

PROBATION = DATA / "short_probation.toml"


def test_import_chainsim_imports_nothing_heavy():
    code = ("import sys, time; t = time.perf_counter(); import chainsim; "
            "t = time.perf_counter() - t; import json; print(json.dumps({'seconds': t, "
            "'loaded': sorted(m for m in sys.modules if m.split('.')[0] in "
            "('chainsim', 'numpy', 'pandas', 'mesa', 'scipy'))}))")
    out = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                    text=True, check=True, timeout=60).stdout)
    assert out["loaded"] == ["chainsim"]
    assert out["seconds"] < 0.1


def test_the_api_names_are_listed():
    assert {"load_scenario", "run", "compare"} <= set(chainsim.__all__) <= set(dir(chainsim))
    with pytest.raises(AttributeError):
        chainsim.no_such_thing  # noqa: B018


@pytest.fixture(scope="module")
def result():
    return chainsim.run(chainsim.load_scenario(SHORT), reps=2, seed=3, workers=1)


def test_run_returns_the_run_result_with_dataframes(result):
    assert isinstance(result, RunResult)
    assert result.engine == "fast" and len(result.reps) == 2
    yearly = result.yearly()
    assert isinstance(yearly, pd.DataFrame)
    assert {"year", "rep", "signalled"} <= set(yearly.columns)
    assert sorted(set(yearly["rep"])) == [0, 1]
    assert isinstance(result.flows(), pd.DataFrame)


def test_run_takes_a_path_and_gives_the_same_numbers(result):
    again = chainsim.run(str(SHORT), reps=2, seed=3, workers=1)
    pd.testing.assert_frame_equal(again.yearly(), result.yearly())


@pytest.fixture(scope="module")
def comparison():
    return chainsim.compare(chainsim.load_scenario(SHORT), PROBATION, reps=2, seed=4, workers=1)


def test_compare_returns_the_comparison_and_its_deltas(comparison):
    assert isinstance(comparison, Comparison) and comparison.engine == "fast"
    deltas = comparison.deltas()
    assert list(deltas.columns) == ["scenario", "proxy", "mean", "lo", "hi", "n"]
    assert list(deltas["proxy"]) == list(comparison.proxy_names)
    assert set(deltas["scenario"]) == {comparison.scenarios[0].name}
    # the same numbers as the JSON document of `chainsim compare`
    doc = comparison_document(comparison)["scenarios"][comparison.scenarios[0].name]["deltas"]
    for row in deltas.itertuples():
        want = doc[row.proxy]  # None where no replication has the proxy: NaN here
        got = {k: None if pd.isna(v) else v for k, v in row._asdict().items()}
        assert [got[k] for k in ("mean", "lo", "hi", "n")] == [want[k] for k in (
            "mean", "lo", "hi", "n")]
    assert isinstance(comparison.proxies(), pd.DataFrame)


def test_chainsim_compare_is_the_api_function(comparison):
    import chainsim.experiments.compare

    # importing the module chainsim.experiments.compare does not shadow the API's compare
    assert chainsim.compare is chainsim.api.compare
    assert not callable(chainsim.experiments.compare)
    several = chainsim.compare(SHORT, PROBATION, PROBATION, reps=1, seed=4, workers=1)
    assert len(several.scenarios) == 2
    assert len(several.deltas()) == 2 * len(several.proxy_names)


# ------------------------------------------------------------------ the README's example


def readme_example() -> tuple[str, str]:
    """The README's first ```python block if tagged ``# readme-example``, else docs/example.py."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"^```python\n(.*?)^```", readme, flags=re.DOTALL | re.MULTILINE)
    if block and block.group(1).lstrip().startswith("# readme-example"):
        return "README.md", block.group(1)
    return "docs/example.py", (ROOT / "docs" / "example.py").read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_readme_example_runs(tmp_path):
    source, code = readme_example()
    script = tmp_path / "example.py"
    script.write_text(code, encoding="utf-8")
    # run as a user would: a script, from the repository's root
    proc = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, f"{source}:\n{proc.stderr}"
    assert "recid_observed_general_2y" in proc.stdout, proc.stdout

from chainsim.analysis.flows import METRICS, SHARES
from chainsim.outputs.tables import run_table


def _doc():
    entry = {"mean": 1.0, "lo": 0.5, "hi": 1.5}
    return {"scenario": "x", "config_hash": "h", "seed": 1, "reps": 2, "engine": "agents",
            "window_mean": dict.fromkeys(METRICS, entry), "shares": dict.fromkeys(SHARES, entry)}


def test_run_table_shows_the_all_forms_figure_not_a_per_form_target():
    # calibration/targets.toml also has per-form targets for summoned (labour: 15) and
    # convicted (labour: 7); the table must show the all-forms figures 145 and 95-105
    lines = {line.split()[0]: line for line in run_table(_doc()).splitlines() if line.strip()}
    assert lines["summoned"].rstrip().endswith("145")
    assert lines["convicted"].rstrip().endswith("95-105")
    assert lines["signalled"].rstrip().endswith("> 200")

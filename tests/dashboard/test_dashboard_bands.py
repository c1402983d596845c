"""Comparison mode (chainsim.dashboard.bands) on the short test scenario."""

from __future__ import annotations

import pytest

from chainsim.chain.config import scenario_from_dict
from chainsim.chain.months import parse_month
from chainsim.dashboard import bands as bands_module
from chainsim.dashboard.bands import run_bands
from chainsim.dashboard.views import DELTA_PROXIES, bands_svg, delta_rows

PERIOD = (parse_month("2015-01"), parse_month("2017-12"))


@pytest.fixture(scope="module")
def more_probation(short_scenario):
    doc = short_scenario.model_dump(mode="json", exclude_none=True)
    doc["scenario"]["name"] = "short_probation"
    doc["interventions"] = [{"name": "p", "parameter": "probation_share_prison",
                             "operation": "set", "value": 0.9, "start": "2015-01",
                             "note": "test lever"}]
    return scenario_from_dict(doc)


def test_same_scenario_gives_exactly_zero(short_scenario):
    result = run_bands(short_scenario, short_scenario, reps=3, seed=5, period=PERIOD)
    for d in result.deltas(DELTA_PROXIES).values():
        assert d["mean"] in (0.0, None)


def test_bands_deltas_and_baseline_cache(short_scenario, more_probation):
    calls = []
    first = run_bands(short_scenario, more_probation, reps=3, seed=5, period=PERIOD,
                      progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (6, 6) or calls[-1][0] == calls[-1][1]
    again = []
    second = run_bands(short_scenario, more_probation, reps=3, seed=5, period=PERIOD,
                       progress=lambda done, total: again.append((done, total)))
    assert second.baseline is first.baseline  # the baseline arm is reused
    assert again[-1] == (3, 3)
    delta = second.deltas(("probation_caseload",))["probation_caseload"]
    assert delta["mean"] > 0 and delta["lo"] <= delta["mean"] <= delta["hi"]
    band = second.yearly_band("current", "probation")
    assert list(band.columns) == ["year", "mean", "lo", "hi"]
    assert (band["lo"] <= band["mean"] + 1e-9).all() and (band["mean"] <= band["hi"] + 1e-9).all()
    level = second.level("current", "probation_caseload")
    assert level["lo"] <= level["mean"] <= level["hi"]
    assert "data-band" in bands_svg(second, "probation", "en")
    rows = delta_rows(second, "en")
    assert len(rows) == len(DELTA_PROXIES)


def test_cache_is_bounded():
    assert bands_module._CACHE_SIZE >= 1


def test_parameter_uncertainty_uses_posterior_members_or_says_how_to_make_them(
        short_scenario, tmp_path, monkeypatch):
    import numpy as np
    import pandas as pd

    from chainsim.chain.errors import InputError
    from chainsim.experiments import ensemble
    from conftest import ENSEMBLE_PRIORS, write_ensemble

    monkeypatch.setattr(ensemble, "DEFAULT_ENSEMBLE", tmp_path / "posterior.parquet")
    with pytest.raises(InputError, match="calibrate --posterior"):
        run_bands(short_scenario, short_scenario, reps=3, seed=5, period=PERIOD,
                  uncertainty=True)
    write_ensemble(tmp_path / "posterior.parquet", pd.DataFrame({
        "member": range(12), "signal_hazard.scale": np.linspace(0.8, 1.2, 12),
        "conviction_prob.scale": np.ones(12), "resume_share": np.linspace(0.3, 0.7, 12)}),
        {"priors": ENSEMBLE_PRIORS})
    result = run_bands(short_scenario, short_scenario, reps=3, seed=6, period=PERIOD,
                       uncertainty=True)
    assert [r.rep for r in result.baseline] == [0, 1, 2]  # not the members run twice
    assert result.caveat is None  # a final ensemble (no status): nothing to warn about
    assert result.baseline[2].draws["knob:signal_hazard.scale"] == pytest.approx(0.8 + 0.4 * 2 / 11)


@pytest.fixture
def small_ensemble(tmp_path, monkeypatch):
    """A 12-member ensemble as the dashboard's default one."""
    import numpy as np
    import pandas as pd

    from chainsim.experiments import ensemble
    from conftest import ENSEMBLE_PRIORS, write_ensemble

    path = tmp_path / "posterior.parquet"
    write_ensemble(path, pd.DataFrame({
        "member": range(12), "signal_hazard.scale": np.linspace(0.8, 1.2, 12),
        "conviction_prob.scale": np.linspace(1.05, 0.95, 12),
        "resume_share": np.linspace(0.3, 0.7, 12)}), {"priors": ENSEMBLE_PRIORS})
    monkeypatch.setattr(ensemble, "DEFAULT_ENSEMBLE", path)
    return ensemble.load_ensemble(path)


def test_under_uncertainty_the_compare_view_shows_the_effect_over_the_posterior(
        short_scenario, more_probation, small_ensemble):
    """Each proxy's 90 % interval over the members, as the CLI and report compute it."""
    from chainsim.dashboard.html import table
    from chainsim.dashboard.i18n import t
    from chainsim.dashboard.views import delta_header, prediction_note, proxy_change
    from chainsim.experiments.compare import compare, comparison_document

    result = run_bands(short_scenario, more_probation, reps=4, seed=8, period=PERIOD,
                       uncertainty=True)
    assert [r.rep for r in result.current] == [0, 1, 2, 3]
    assert [r.rep for r in result.current_repeats] == [4, 5, 6, 7]  # members 0-3 again
    effects = result.effects(DELTA_PROXIES)
    # the same summary as `chainsim compare --uncertainty` (comparison.json, the report)
    cmp = compare(short_scenario, [more_probation], reps=4, seed=8, workers=1,
                  uncertainty=True, period=PERIOD, ensemble=small_ensemble)
    cli = comparison_document(cmp)["scenarios"]["short_probation"]["under_uncertainty"]
    for proxy in DELTA_PROXIES:
        assert effects[proxy]["prediction"] == pytest.approx(cli[proxy]["prediction"])
        assert effects[proxy]["mean"] == pytest.approx(cli[proxy]["mean"])
    lo, hi = effects["probation_caseload"]["prediction"]
    assert lo <= effects["probation_caseload"]["mean"] <= hi and hi > 0
    rows = delta_rows(result, "nl")
    header = delta_header(result, "nl")
    assert header[-1] == t("prediction", "nl") == "90% over de parametersets"
    row = rows[DELTA_PROXIES.index("probation_caseload")]
    assert len(row) == len(header) == 6
    shown = (f"{proxy_change('probation_caseload', lo, 'nl')} … "
             f"{proxy_change('probation_caseload', hi, 'nl')}")
    assert row[-1] == shown
    html = table(delta_header(result, "nl"), delta_rows(result, "nl"), "delta-table")
    assert "90% over de parametersets" in html and shown in html
    note = prediction_note(result, "en")
    assert "90% of the parameter sets" in note and "not the 95% interval" in note
    assert "90% van de parametersets" in prediction_note(result, "nl")
    # without the ensemble: no such column and no line
    fixed = run_bands(short_scenario, more_probation, reps=3, seed=8, period=PERIOD)
    assert fixed.effects(DELTA_PROXIES) is None and prediction_note(fixed, "en") is None
    assert len(delta_header(fixed, "en")) == 5 == len(delta_rows(fixed, "en")[0])


def test_under_uncertainty_levers_that_set_what_members_set_are_refused(short_scenario,
                                                                        small_ensemble):
    from chainsim.chain.errors import InputError

    doc = short_scenario.model_dump(mode="json", exclude_none=True)
    doc["scenario"]["name"] = "own_resume"
    doc["unknowns"]["resume_share"]["central"] = 0.3
    with pytest.raises(InputError, match="sets resume_share per member"):
        run_bands(short_scenario, scenario_from_dict(doc), reps=3, seed=8, period=PERIOD,
                  uncertainty=True)

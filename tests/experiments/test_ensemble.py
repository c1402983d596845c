"""The posterior ensemble file and how a replication uses a member."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from chainsim.chain.errors import InputError
from chainsim.chain.parameters import resolve
from chainsim.experiments.ensemble import (
    KNOB_PREFIX,
    load_ensemble,
    split_draws,
    with_knobs,
)
from chainsim.experiments.evaluate import resolve_cached
from conftest import ENSEMBLE_PRIORS as PRIORS
from conftest import make_scenario, write_ensemble


@pytest.fixture
def ensemble_file(tmp_path):
    frame = pd.DataFrame({"member": [0, 1, 2], "signal_hazard.scale": [0.9, 1.0, 1.2],
                          "conviction_prob.scale": [1.0, 0.95, 1.05],
                          "resume_share": [0.3, 0.5, 0.7],
                          "log_likelihood": [-60.0, -61.0, -62.0]})
    path = tmp_path / "posterior.parquet"
    write_ensemble(path, frame, {"priors": PRIORS, "seed": 1})
    return path


def test_a_missing_ensemble_says_how_to_make_one(tmp_path):
    with pytest.raises(InputError, match="calibrate --posterior"):
        load_ensemble(tmp_path / "posterior.parquet")


@pytest.mark.parametrize("content", ["not parquet", "no provenance"])
def test_a_file_that_is_not_an_ensemble_is_refused(tmp_path, content):
    path = tmp_path / "posterior.parquet"
    if content == "not parquet":
        path.write_text("member,x\n0,1\n")
    else:
        write_ensemble(path, pd.DataFrame({"member": [0], "resume_share": [0.5]}))
    with pytest.raises(InputError, match="written by chainsim calibrate --posterior"):
        load_ensemble(path)


def test_members_become_draws_with_their_knobs_marked(ensemble_file):
    ens = load_ensemble(ensemble_file)
    assert len(ens) == 3
    assert ens.knobs == ("signal_hazard.scale", "conviction_prob.scale")
    assert ens.unknowns == ("resume_share",)
    draws = ens.draws(2)
    assert draws == {KNOB_PREFIX + "signal_hazard.scale": 1.2,
                     KNOB_PREFIX + "conviction_prob.scale": 1.05, "resume_share": 0.7}
    knobs, rest = split_draws(draws)
    assert knobs == {"signal_hazard.scale": 1.2, "conviction_prob.scale": 1.05}
    assert rest == {"resume_share": 0.7}


def test_a_members_knobs_and_unknowns_reach_the_parameters(ensemble_file):
    sc = make_scenario()
    base = resolve(sc)
    assert with_knobs(sc, {}) is sc
    member = load_ensemble(ensemble_file).draws(2)
    params = resolve_cached(sc, member)
    np.testing.assert_allclose(params["signal_hazard"], base["signal_hazard"] * 1.2)
    np.testing.assert_allclose(params["conviction_prob"], base["conviction_prob"] * 1.05)
    assert np.all(params["resume_share"] == 0.7)
    # everything else as the scenario has it
    np.testing.assert_array_equal(params["trial_months"], base["trial_months"])


def test_replication_i_uses_member_i_in_every_arm(ensemble_file):
    from chainsim.experiments.compare import compare
    from chainsim.experiments.replications import run
    from conftest import short_doc

    ens = load_ensemble(ensemble_file)
    sc = make_scenario()
    result = run(sc, reps=3, seed=2, workers=1, uncertainty=True, ensemble=ens)
    for i, rep in enumerate(result.reps):
        assert {k: v for k, v in rep.draws.items() if k in ens.draws(i)} == ens.draws(i)
    # unknowns this small ensemble lacks are drawn from their declared ranges
    lo, hi = sc.unknowns["inflow_rate"].low, sc.unknowns["inflow_rate"].high
    assert all(lo <= r.draws["inflow_rate"] <= hi for r in result.reps)
    doc = short_doc()
    doc["scenario"]["name"] = "policy"
    doc["interventions"] = [{"name": "better evidence", "parameter": "technical_dismissal_share",
                             "operation": "multiply", "value": 0.7, "low": 0.5, "high": 0.9,
                             "start": "2016-01", "note": "a test with an uncertain effect"}]
    policy = make_scenario(doc=doc)
    cmp = compare(sc, [policy], reps=2, seed=2, workers=1, uncertainty=True, ensemble=ens)
    for i in range(2):
        base, arm = (r.draws for r in cmp.results if r.rep == i)
        assert base == arm  # common parameters, as common random numbers
        assert {k: v for k, v in base.items() if k in ens.draws(i)} == ens.draws(i)
        # the effect size is not in the ensemble: drawn from its declared range
        assert 0.5 <= base["interventions.better evidence"] <= 0.9


def test_more_replications_than_members_is_an_input_error(ensemble_file):
    from chainsim.experiments.replications import run

    with pytest.raises(InputError, match="at least one per replication"):
        run(make_scenario(), reps=4, uncertainty=True, ensemble=load_ensemble(ensemble_file))


def test_under_uncertainty_the_document_splits_the_variance_and_states_probabilities(
        ensemble_file, tmp_path):
    """A comparison on a small ensemble: repeats for the Monte Carlo part, the summary per
    proxy, influence over the members."""
    from chainsim.experiments.compare import compare, comparison_document, monte_carlo_repeats
    from conftest import short_doc

    frame = pd.DataFrame({"member": range(12),
                          "signal_hazard.scale": np.linspace(0.8, 1.2, 12),
                          "conviction_prob.scale": np.linspace(1.05, 0.95, 12),
                          "resume_share": np.linspace(0.3, 0.7, 12)})
    path = tmp_path / "posterior.parquet"
    write_ensemble(path, frame, {"priors": PRIORS})
    ens = load_ensemble(path)
    doc = short_doc()
    doc["scenario"]["name"] = "more_convictions"
    doc["interventions"] = [{"name": "more convictions", "parameter": "conviction_prob",
                             "operation": "multiply", "value": 1.2, "start": "2014-01",
                             "note": "a test"}]
    cmp = compare(make_scenario(), [make_scenario(doc=doc)], reps=12, seed=4, workers=1,
                  uncertainty=True, ensemble=ens)
    assert cmp.repeats == monte_carlo_repeats(12) == 10
    assert len(cmp.results) == 2 * (12 + 10)
    deltas = cmp.deltas().set_index("proxy")
    assert len(deltas) == len(cmp.proxy_names) and deltas.loc["court_cases", "n"] == 12
    out = comparison_document(cmp, min_effect=0.01)
    entry = out["scenarios"]["more_convictions"]
    court = entry["under_uncertainty"]["court_cases"]
    assert court["n"] == 12 and court["mean"] > 0
    assert court["prediction"][0] <= court["mean"] <= court["prediction"][1]
    assert 0 <= court["p_reduction"] <= court["p_reduction"] + 1e-12 <= 1
    assert court["variance"]["monte_carlo"] is not None
    assert set(entry["unknown_influence"]) >= {"knob:signal_hazard.scale", "resume_share"}
    assert out["ensemble_repeats"] == 10


def test_a_member_is_applied_exactly_as_the_posterior_scored_it():
    """Knobs in the calibration's order: a form's value and a scale of the same parameter."""
    from chainsim.experiments.posterior import ParameterSpace

    sc = make_scenario()
    space = ParameterSpace(sc, unknowns=("resume_share",))
    x = space.start.copy()
    names = space.names
    x[names.index("conviction_prob.scale")] = np.log(1.1)
    x[names.index("conviction_prob.by_form:labour")] = np.log(0.5)
    x[names.index("resume_share")] = 0.6
    scored = space.params(x)
    member = {("knob:" + k if d.kind == "knob" else k): v
              for (k, v), d in zip(space.values(x).items(), space.dimensions, strict=True)}
    applied = resolve_cached(sc, member)
    for name in ("conviction_prob", "resume_share", "signal_hazard"):
        np.testing.assert_allclose(applied[name][:-1], scored[name][:len(applied[name]) - 1],
                                   rtol=1e-12, err_msg=name)


def test_an_ensemble_sampled_on_another_calibration_is_refused(tmp_path):
    import hashlib

    cal = tmp_path / "parameters.toml"
    cal.write_text("# calibrated values\n")
    frame = pd.DataFrame({"member": [0], "signal_hazard.scale": [1.0],
                          "conviction_prob.scale": [1.0], "resume_share": [0.5]})
    provenance = {"priors": PRIORS, "calibration_file": "parameters.toml",
                  "calibration_sha256": hashlib.sha256(cal.read_bytes()).hexdigest()}
    write_ensemble(tmp_path / "posterior.parquet", frame, provenance)
    assert len(load_ensemble(tmp_path / "posterior.parquet")) == 1
    cal.write_text("# calibrated again\n")
    with pytest.raises(InputError, match="has changed since"):
        load_ensemble(tmp_path / "posterior.parquet")


def test_a_provisional_ensemble_carries_its_caveat_into_the_comparison(tmp_path):
    from chainsim.experiments.compare import compare, comparison_document

    frame = pd.DataFrame({"member": range(12), "signal_hazard.scale": np.ones(12),
                          "conviction_prob.scale": np.ones(12), "resume_share": np.full(12, .5)})
    status = {"converged": False, "note": "provisional: too few steps"}
    write_ensemble(tmp_path / "posterior.parquet", frame, {"priors": PRIORS, "status": status})
    ens = load_ensemble(tmp_path / "posterior.parquet")
    assert ens.caveat == "provisional: too few steps"
    cmp = compare(make_scenario(), [], reps=3, seed=1, workers=1, uncertainty=True,
                  ensemble=ens, repeats=0)
    assert comparison_document(cmp)["ensemble_caveat"] == "provisional: too few steps"
    cmp = compare(make_scenario(), [], reps=12, seed=1, workers=1, uncertainty=True, ensemble=ens)
    assert comparison_document(cmp)["ensemble_caveat"] == "provisional: too few steps"


def test_the_committed_ensemble_loads_and_says_whether_it_is_final():
    ens = load_ensemble()
    assert len(ens) >= 1000
    assert set(ens.knobs) == {k.name for k in __import__(
        "chainsim.experiments.calibrate", fromlist=["DEFAULT_KNOBS"]).DEFAULT_KNOBS}
    assert ens.provenance["seed"] == 7
    converged = ens.provenance.get("status", {}).get("converged", True)
    assert (ens.caveat is None) == converged


def _arm(name: str, **tables) -> dict:
    """The short scenario named ``name``, with some entries or interventions replaced."""
    from conftest import short_doc

    doc = short_doc()
    doc["scenario"]["name"] = name
    for table, entries in tables.items():
        if table == "interventions":
            doc["interventions"] = entries
        else:
            doc[table] = {**doc.get(table, {}), **entries}
    return doc


def test_an_arm_that_sets_a_parameter_the_ensemble_draws_is_refused(ensemble_file):
    """A member would replace the arm's own [parameters]/[unknowns] entry: an input error."""
    from chainsim.experiments.compare import compare
    from chainsim.experiments.ensemble import check_arms

    ens = load_ensemble(ensemble_file)
    assert set(ens.parameters) == {"signal_hazard", "conviction_prob", "resume_share"}
    base = make_scenario()
    doc = _arm("own_settings",
               parameters={"conviction_prob": {"value": 0.9, "note": "a knob's parameter"}},
               unknowns={"resume_share": {"central": 0.3, "low": 0.2, "high": 0.8,
                                          "note": "an ensemble unknown"}})
    arm = make_scenario(doc=doc)
    with pytest.raises(InputError) as caught:
        compare(base, [arm], reps=2, seed=1, workers=1, uncertainty=True, ensemble=ens)
    fields = {p.field: p for p in caught.value.problems}
    assert "unknowns.resume_share.central" in fields
    assert "parameters.conviction_prob.by_form" in fields
    central = fields["unknowns.resume_share.central"]
    assert central.file == "own_settings" and central.value == 0.3  # no file: its name
    assert "the baseline's 0.5" in central.allowed
    assert "sets resume_share per member" in central.allowed
    assert "as an intervention instead" in central.allowed
    # the baseline itself, another unknown, a note or a parameter the ensemble leaves alone
    other = _arm("other_settings",
                 parameters={"probation_share_other": {"value": 0.5,
                                                       "note": "not in the ensemble"}})
    other["unknowns"]["resume_share"]["note"] = "only the note differs"
    check_arms(base, [base, make_scenario(doc=other)], ens)
    # what cannot be an intervention says what to do instead
    shares = _arm("other_mix", parameters={"female_share": {"value": 0.3, "note": "more"}})
    frame = pd.DataFrame({"member": [0], "female_share.value": [0.2], "resume_share": [0.5]})
    write_ensemble(ensemble_file.parent / "mix.parquet", frame,
                   {"priors": {"female_share.value": {}, "resume_share": {}}})
    with pytest.raises(InputError, match="with inflow_rate and a target instead"):
        check_arms(base, [make_scenario(doc=shares)], load_ensemble(
            ensemble_file.parent / "mix.parquet"))


def test_an_intervention_on_a_drawn_parameter_applies_on_top_of_the_member(ensemble_file):
    """Interventions come after the member's knobs and unknowns: the arm's change is kept."""
    from chainsim.experiments.ensemble import check_arms

    ens = load_ensemble(ensemble_file)
    base = make_scenario()
    doc = _arm("interventions", interventions=[
        {"name": "fewer resume", "parameter": "resume_share", "operation": "set",
         "value": 0.2, "start": "2012-01", "note": "test"},
        {"name": "more convictions", "parameter": "conviction_prob", "operation": "multiply",
         "value": 1.2, "start": "2012-01", "note": "test"}])
    arm = make_scenario(doc=doc)
    check_arms(base, [arm], ens)  # not refused
    member = ens.draws(2)  # resume_share 0.7, conviction_prob.scale 1.05
    params, base_params = resolve_cached(arm, member), resolve_cached(base, member)
    assert np.all(base_params["resume_share"] == 0.7)
    np.testing.assert_allclose(params["resume_share"], 0.2)
    np.testing.assert_allclose(params["conviction_prob"], base_params["conviction_prob"] * 1.2)

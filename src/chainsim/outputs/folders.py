"""Run a scenario and write everything a run produces to one directory.

Files (written as one :class:`~chainsim.files.OutputSet`: temporaries renamed
into place together when everything is written, so a run that fails or is
killed leaves an earlier run's files intact):

- ``records.parquet``: every event record of every replication (column ``rep``
  added), with provenance (scenario, config hash, seed, versions) in the file's
  metadata; streamed one replication at a time.
- ``annual_flows.csv``: flows by replication, year, event, form and age group.
- ``yearly_metrics.csv``: every metric by replication and year.
- ``summary.json``: the summary document (see :mod:`chainsim.experiments.summary`).
- ``funnel.png``: the 2015-2019 yearly average per stage beside the source.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from chainsim.analysis.targets import DEFAULT_TARGETS, load_targets
from chainsim.chain.config import Scenario
from chainsim.chain.numbers import format_count
from chainsim.chain.parameters import ParameterSet
from chainsim.engines import DEFAULT_ENGINE
from chainsim.experiments.progress import progress_bar
from chainsim.experiments.replications import Replication, run
from chainsim.experiments.summary import summary_document, versions
from chainsim.files import OutputSet, check_output_dir


def run_to_directory(scenario: Scenario, params: ParameterSet, out: Path, reps: int, seed: int,
                     workers: int | None = None, progress: bool = False,
                     uncertainty: bool = False, engine: str = DEFAULT_ENGINE,
                     scheduler: str | None = None, ensemble=None) -> dict:
    """Run ``reps`` replications and write the run's files to ``out``.

    Args:
        scenario: The validated scenario.
        params: Its resolved parameters.
        out: Output directory (created if needed).
        reps: Replications.
        seed: The run's seed.
        workers: Worker processes (default: one per core).
        progress: Show a progress bar on stderr.
        uncertainty: Replication ``i`` uses member ``i`` of ``ensemble``.
        engine: ``fast`` (default) or ``agents`` (see :mod:`chainsim.engines`).
        scheduler: Address of a Dask scheduler to run on (same results as local).
        ensemble: The posterior ensemble ``uncertainty`` draws members from.

    Returns:
        The summary document.
    """
    out = Path(out)
    provenance = {"scenario": scenario.name, "config_hash": scenario.config_hash(),
                  "seed": str(seed), "reps": str(reps), "engine": engine,
                  "uncertainty": str(uncertainty).lower(),
                  "versions": json.dumps(versions(), sort_keys=True)}
    with OutputSet(out) as files:
        stream = files.parquet("records.parquet", provenance)
        bar = progress_bar(reps, "replications", "rep", progress)

        def on_replication(rep: Replication) -> None:
            stream.write(rep.records.assign(rep=rep.rep))
            bar.update(1)

        try:
            result = run(scenario, reps=reps, seed=seed, workers=workers,
                         on_replication=on_replication, params=params,
                         uncertainty=uncertainty, engine=engine, scheduler=scheduler,
                         ensemble=ensemble)
        finally:
            bar.close()
        doc = summary_document(result)
        files.csv("annual_flows.csv", result.flows())
        files.csv("yearly_metrics.csv", result.yearly())
        targets = load_targets(DEFAULT_TARGETS) if DEFAULT_TARGETS.exists() else None
        window = pd.DataFrame([r.window for r in result.reps])
        from chainsim.outputs.plots import funnel_figure

        files.figure("funnel.png", lambda p: funnel_figure(
            window, targets, p, f"{scenario.name}: the chain, 2015-2019 yearly average "
                                f"({format_count(reps, 'replication', 'replications')})"))
        files.json("summary.json", doc)
    return doc



def save_comparison(cmp, doc: dict, out: Path) -> None:
    """Write a comparison's tables to ``out`` (what :mod:`chainsim.outputs.report` reads).

    Files: ``comparison.json`` (the document), ``proxies.csv`` (every proxy per arm
    and replication), ``yearly.csv`` (chain metrics per arm, replication and year),
    ``survival.csv`` (Kaplan-Meier curves), ``draws.csv`` (the unknowns' sampled
    values, with ``--uncertainty``), ``scenarios.json`` (the validated scenarios).
    """
    with OutputSet(Path(out)) as files:
        files.csv("proxies.csv", cmp.proxies())
        files.csv("yearly.csv", cmp.yearly())
        files.csv("survival.csv", cmp.survival())
        files.csv("draws.csv", cmp.draws())
        files.json("scenarios.json", [sc.model_dump(mode="json") for sc in cmp.arms])
        files.json("comparison.json", doc)


def _toml_value(v) -> str:
    if isinstance(v, dict):
        return "{ " + ", ".join(f'"{k}" = {_toml_value(x)}' if "-" in str(k) else
                                f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, str):
        return json.dumps(v)
    return repr(round(float(v), 8))


def calibrated_toml(entries: dict[str, dict], meta: dict) -> str:
    """The text of ``calibration/parameters.toml``."""
    lines = ["# Calibrated parameter values, written by `chainsim calibrate` (do not edit).",
             "# scenarios/baseline.toml points here with calibration = \"../calibration/"
             "parameters.toml\".", "", "[meta]"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in meta.items()]
    for name, entry in entries.items():
        lines += ["", f"[parameters.{name}]"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in entry.items()]
    return "\n".join(lines) + "\n"


def calibrate_to_directory(scenario_path: Path, targets_path: Path, out: Path,
                           backtest: bool = False, verify: int = 0, seed: int = 0,
                           workers: int | None = None, engine: str = DEFAULT_ENGINE,
                           progress: bool = False) -> dict:
    """Calibrate, then write parameters, fit table and figure, identifiability, ensemble.

    Args:
        scenario_path: The scenario to calibrate (its hand-set values are the start
            and the prior centre; calibrated values it points to are not applied).
        targets_path: The targets file.
        out: Output directory (``calibration/`` for the committed results).
        backtest: Also calibrate without the 2019 points and report how well they
            are predicted (``backtest.csv``).
        verify: Replications of the model to verify the fit with (0: none).
        seed: Seed of the verification runs and of the ensemble.
        workers: Worker processes for the verification.
        engine: Engine of the verification (``fast``, the default, or ``agents``,
            the reference: the same records, slower).
        progress: Progress bars on stderr (twin evaluations, verification runs).

    Returns:
        A summary document (also written as ``calibration.json``); its
        ``validation`` block lists the targets file's validation targets (never
        fitted), evaluated on the verification replications when ``verify`` is
        given (see :func:`chainsim.analysis.validation.validation_block`).
    """
    from chainsim.analysis.targets import load_targets, load_validation_targets
    from chainsim.analysis.validation import LABEL, validation_block
    from chainsim.chain.config import load_scenario
    from chainsim.experiments.calibrate import Calibrator
    from chainsim.outputs.plots import fit_figure

    scenario = load_scenario(scenario_path, calibrated=False)
    targets_path = _relative(Path(targets_path))
    targets = load_targets(targets_path)
    check_output_dir(Path(out))  # before minutes of fitting
    bar = progress_bar(None, "fitting (twin evaluations)", "eval", progress)
    cal = Calibrator(targets, seed=seed, on_evaluation=lambda: bar.update(1)).fit(scenario)
    bar.close()
    fit = cal.fit_table()
    summary = {"scenario": str(scenario_path), "targets_file": str(targets_path),
               "seconds": round(cal.seconds_, 1), "twin_evaluations": cal.evaluations_,
               "cost": round(cal.cost_, 4), "targets_met": int(fit["met"].sum()),
               "targets": len(fit), "ensemble": len(cal.ensemble_),
               "ensemble_proposal_scale": cal.proposal_scale_,
               "versions": versions()}
    validation = load_validation_targets(targets_path)
    if verify:
        fit, result = _verify(cal, fit, targets, verify, seed, workers, engine, progress)
        summary["verification_reps"] = verify
        summary["verification_engine"] = engine
        summary["verified_met"] = int(fit["agent_met"].sum())
        if validation:
            summary["validation"] = validation_block(
                [r.recidivism["cohort"] for r in result.reps], validation, str(targets_path))
    elif validation:  # recidivism needs the agent model's records: the twin has none
        summary["validation"] = {
            "label": LABEL, "file": str(targets_path), "evaluated": 0,
            "total": len(validation),
            "note": "not evaluated: give --verify REPS (the recidivism proxies need "
                    "replications of the model)",
            "by_target": {n: {"proxy": t.proxy, "low": t.low, "high": t.high, "value": None}
                          for n, t in validation.items()}}
    entries = cal.calibrated_entries()
    meta = {"generated_by": "chainsim calibrate", "chainsim": versions()["chainsim"],
            "scenario": str(scenario_path), "targets": str(targets_path),
            "cost": round(cal.cost_, 6), "targets_met": f"{summary['targets_met']} of "
                                                         f"{summary['targets']}"}
    backtest_rows = _backtest(targets, scenario, seed) if backtest else None
    with OutputSet(Path(out)) as files:
        files.text("parameters.toml", calibrated_toml(entries, meta))
        files.csv("fit.csv", fit)
        files.csv("identifiability.csv", cal.identifiability_table(scenario))
        files.csv("ensemble.csv", pd.DataFrame(cal.ensemble_,
                                               columns=[k.name for k in cal.knobs]))
        files.figure("fit.png", lambda p: fit_figure(
            fit, p, "Calibration: the Dadermonitor 2015-2019 vs chainsim"))
        if backtest_rows is not None:
            files.csv("backtest.csv", backtest_rows)
            summary["backtest"] = backtest_rows.to_dict(orient="records")
        files.json("calibration.json", summary)
    return summary


def _relative(path: Path) -> Path:
    """``path`` relative to the working directory where possible (for provenance)."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


BACKTEST_TARGETS = ("signalled_2019", "traced_2019", "technical_dismissal_share_2019")


def _backtest(targets, scenario, seed: int) -> pd.DataFrame:
    from chainsim.experiments.calibrate import Calibrator

    held = tuple(n for n in BACKTEST_TARGETS if n in targets)
    cal = Calibrator(targets, exclude=held, seed=seed).fit(scenario)
    table = cal.fit_table()
    rows = table[table["target"].isin(held)][["target", "observed", "model", "model_lo",
                                               "model_hi", "residual", "met"]].copy()
    rows["error"] = [round(m - float(o), 4) for m, o in zip(rows["model"], rows["observed"],
                                                             strict=True)]
    rows["relative_error"] = [round((m - float(o)) / float(o), 4)
                              for m, o in zip(rows["model"], rows["observed"], strict=True)]
    return rows


def _verify(cal, fit: pd.DataFrame, targets, reps: int, seed: int, workers,
            engine: str = DEFAULT_ENGINE, progress: bool = False):
    """Add the model's mean and 5-95 % range over ``reps`` replications to the fit table.

    Returns:
        The fit table and the verification run (its replications' recidivism cohorts
        are what the validation targets are evaluated on).
    """
    from chainsim.analysis.fit import target_check
    from chainsim.experiments.replications import run

    bar = progress_bar(reps, "verification", "rep", progress)
    result = run(cal.scenario_, reps=reps, seed=seed, workers=workers, engine=engine,
                 on_replication=lambda _: bar.update(1))
    bar.close()
    check = target_check(result.reps, targets)
    # a target the run cannot show (a year it does not simulate) is left empty
    empty = {"mean": float("nan"), "lo": float("nan"), "hi": float("nan"), "met": None}
    rows = [check.get(name, empty) for name in targets]
    return fit.assign(agent_mean=[r["mean"] for r in rows], agent_lo=[r["lo"] for r in rows],
                      agent_hi=[r["hi"] for r in rows],
                      agent_met=[r["met"] for r in rows]), result


def posterior_to_directory(scenario_path: Path, targets_path: Path, out: Path,
                           members: int = 1000, walkers: int | None = None, steps: int = 2000,
                           burn: int = 500, wave_size: int = 256, seed: int = 0,
                           progress: bool = False, verify: int = 0, workers: int | None = None,
                           backtest: bool = False, fresh: bool = False,
                           reweight: bool = True, draws: int = 1,
                           thin: int | None = None, design: int = 0, design_waves: int = 3,
                           candidates: int | None = None, joint: bool = False) -> dict:
    """Sample the posterior; write the ensemble (Parquet), its provenance and diagnostics.

    Files: ``posterior.parquet`` (one row per member: every sampled parameter and free
    unknown on its natural scale, log likelihood and posterior, step and walker; its
    metadata holds the provenance), ``posterior_diagnostics.csv`` (per parameter: prior,
    posterior mean and 90 % interval, R-hat, ESS, autocorrelation time) and
    ``posterior.json`` (the provenance: targets, priors, sampler settings, seed,
    versions; and the run's figures), ``posterior.png`` (prior against posterior per
    parameter) and ``posterior_pairs.png`` (the most strongly correlated pairs).
    Re-running with the same seed reproduces them. With ``verify``: the posterior
    predictive check on that many members (:mod:`chainsim.experiments.ppc`), written as
    ``predictive.csv`` and ``predictive.png`` and summarised in ``posterior.json``. With
    ``backtest``: the out-of-sample back-test (:mod:`chainsim.experiments.backtest`:
    importance sampling from the prior on the figures up to 2017), written as
    ``posterior_backtest.csv`` and ``posterior_backtest.png`` and summarised (coverage,
    the weights' diagnostics) in ``posterior.json``.

    The sampler keeps its state in ``.posterior_checkpoint.npz`` in ``out`` every 20
    steps; run again with the same settings, it goes on from there, and with more
    ``steps`` it extends the chain (the result is the uninterrupted run's, bit for bit).
    ``fresh`` removes it first. With ``reweight`` (the default) the thinned chain's points
    (every ``thin``-th step; default half the longest autocorrelation time) are run once
    more with the full twin and all their values, ``draws`` times with draws of the
    after-chain unknowns, and the members are resampled by their importance weights to
    the joint posterior with the after-chain unknowns
    (:mod:`chainsim.experiments.reweight`; its figures under ``settings.reweighting``).
    With ``design`` twin runs the walkers sample an emulator of the twin fitted on them in
    ``design_waves`` waves (:mod:`chainsim.experiments.emulator`) and the reweighting
    corrects it as well; its design and held-out errors are under ``settings.emulator``.
    Such a run keeps its costly steps (twin runs, fits, chains, the predictive check and
    the back-test) in
    ``.posterior_journal/`` in ``out`` as they are done
    (:mod:`chainsim.experiments.journal`); run again with the same settings, it goes on
    from them (bit for bit the uninterrupted run), and ``fresh`` removes them first.
    ``candidates`` caps the points reweighted (the chain is thinned more where it holds
    more). With ``joint`` (and a ``design``) the after-chain unknowns are sampled too, on
    an emulator of the full twin, and each candidate is reweighted with its own values
    from the chain
    (:func:`chainsim.experiments.posterior_run.run_posterior`'s joint mode).

    Returns:
        The ``posterior.json`` document.
    """
    from chainsim.chain.config import load_scenario
    from chainsim.experiments.checkpoint import CHECKPOINT_NAME
    from chainsim.experiments.journal import JOURNAL_NAME, Journal
    from chainsim.experiments.posterior import ParameterSpace
    from chainsim.experiments.posterior_run import run_posterior

    scenario = load_scenario(scenario_path)
    targets_path = _relative(Path(targets_path))
    targets = load_targets(targets_path)
    check_output_dir(Path(out))
    checkpoint = Path(out) / CHECKPOINT_NAME
    journal = Path(out) / JOURNAL_NAME
    if fresh:
        checkpoint.unlink(missing_ok=True)
        Journal(journal).clear()
    commit = _code_commit()
    space = ParameterSpace(scenario, hand_set=load_scenario(scenario_path, calibrated=False))
    workers = workers or os.cpu_count() or 1
    bar = progress_bar(None, "posterior (twin evaluations)", "eval", progress)
    reweighting_bar = None

    def candidate_done() -> None:
        nonlocal reweighting_bar
        if reweighting_bar is None:
            bar.close()
            reweighting_bar = progress_bar(None, "reweighting (full twin per candidate and "
                                           "draw)", "run", progress)
        reweighting_bar.update(1)

    result = run_posterior(scenario, targets, members=members, walkers=walkers, steps=steps,
                           burn=burn, wave_size=wave_size, seed=seed,
                           progress=lambda n: bar.update(n), space=space,
                           workers=workers, checkpoint=checkpoint, commit=commit,
                           reweight=reweight, draws=draws, thin=thin,
                           on_candidate=candidate_done, design=design,
                           design_waves=design_waves, candidates=candidates,
                           on_stage=(lambda text: bar.set_description(text)) if progress
                           else None, joint=joint, journal=journal)
    (bar if reweighting_bar is None else reweighting_bar).close()
    # an emulated run keeps its checks in its journal too (they take minutes each); the
    # folder is claimed for this scenario and these figures (run_posterior)
    checks = Journal(journal if design > 0 else None, commit=commit or "unknown")
    check = None
    if verify:
        from chainsim.experiments.ensemble import Ensemble
        from chainsim.experiments.ppc import predictive_check

        names = [d.name for d in (*result.space.dimensions, *result.space.free)]
        knobs = tuple(d.name for d in result.space.dimensions if d.kind == "knob")
        unknowns = tuple(n for n in names if n not in knobs)
        ensemble = Ensemble(Path(out) / "posterior.parquet", knobs, unknowns,
                            result.members[list(knobs + unknowns)].to_numpy(float), {})
        vbar = progress_bar(verify * 4, "predictive check", "rep", progress)
        check, _ = checks.value(
            "predictive", (ensemble.values, knobs, unknowns, verify, seed),
            lambda: predictive_check(scenario, targets, ensemble, members=verify, seed=seed,
                                     workers=workers, on_replication=lambda: vbar.update(1)))
        vbar.close()
    held_out = None
    if backtest:
        from chainsim.experiments.backtest import DRAWS, posterior_backtest

        bbar = progress_bar(DRAWS, "back-test (prior draws)", "eval", progress)
        held_out, _ = checks.value("backtest", (seed,), lambda: posterior_backtest(
            scenario, targets, seed=seed, progress=lambda n: bbar.update(n), space=space,
            workers=workers))  # the same space: sampling does not change it
        bbar.close()
    if checks.reused:  # the provenance says which checks were read back
        kept = result.settings.setdefault("journal", {"steps_read_back": [],
                                                      "code_commits": []})
        kept["steps_read_back"] = kept["steps_read_back"] + checks.reused
        kept["code_commits"] = sorted(set(kept["code_commits"]) | checks.commits)
    calibration = None
    if scenario.calibration:
        calibration = (Path(scenario_path).parent / scenario.calibration).resolve()
    return write_posterior(result, str(scenario_path), targets_path, targets, out, check,
                           calibration, held_out)


def write_posterior(result, scenario_name: str, targets_path: Path, targets: dict,
                    out: Path, check=None, calibration: Path | None = None,
                    backtest=None) -> dict:
    """Write a posterior run's files (see :func:`posterior_to_directory`).

    Args:
        result: A :class:`chainsim.experiments.posterior_run.PosteriorRun`.
        scenario_name: The scenario's file, for the provenance.
        targets_path: The targets file (hashed into the provenance).
        targets: Its targets.
        out: Output directory.
        check: A :class:`chainsim.experiments.ppc.PredictiveCheck`, or ``None``.
        calibration: The calibrated values the scale knobs are relative to
            (``calibration/parameters.toml``): its name and hash go into the provenance,
            and :func:`chainsim.experiments.ensemble.load_ensemble` refuses the ensemble
            once that file has changed.
        backtest: A :class:`chainsim.experiments.backtest.Backtest`, or ``None``.

    Returns:
        The ``posterior.json`` document.
    """
    import hashlib

    import numpy as np

    from chainsim.outputs.plots import (
        posterior_figure,
        posterior_pairs_figure,
        predictive_figure,
        strongest_pairs,
    )

    frame = result.members
    rows = []
    for dim in [*result.space.dimensions, *result.space.free]:
        col = frame[dim.name].to_numpy()
        stats = result.diagnostics.get(dim.name, {})
        p5, p95 = (float(dim.to_value(dim.from_uniform(np.array(u)))) for u in (0.05, 0.95))
        q5, q95 = float(np.percentile(col, 5)), float(np.percentile(col, 95))
        scale = np.log if dim.log else (lambda v: v)
        ratio = (scale(q95) - scale(q5)) / (scale(p95) - scale(p5))
        rows.append({"parameter": dim.name, "kind": dim.kind,
                     "sampled": dim.name in result.diagnostics, "log": dim.log,
                     "prior": ("log-uniform" if dim.log else "triangular"),
                     "prior_low": dim.low, "prior_mode": dim.mode, "prior_high": dim.high,
                     "prior_5": p5, "prior_95": p95,
                     "posterior_mean": float(col.mean()), "posterior_5": q5,
                     "posterior_95": q95, "width_ratio": float(ratio),
                     "status": ("informed" if ratio < 0.3 else "partly informed"
                                if ratio < 0.8 else "prior-dominated"),
                     "r_hat": stats.get("r_hat"), "ess_bulk": stats.get("ess_bulk"),
                     "ess_tail": stats.get("ess_tail"),
                     "autocorrelation_steps": stats.get("autocorrelation_steps")})
    table = pd.DataFrame(rows)
    sampled = table[table["sampled"]]
    doc = {"generated_by": "chainsim calibrate --posterior", "scenario": scenario_name,
           "targets_file": str(targets_path),
           "targets_sha256": hashlib.sha256(Path(targets_path).read_bytes()).hexdigest(),
           "calibration_file": None if calibration is None else calibration.name,
           "calibration_sha256": None if calibration is None
           else hashlib.sha256(calibration.read_bytes()).hexdigest(),
           "targets": sorted(targets), "seed": result.settings["seed"],
           "members": len(frame), "settings": result.settings,
           "priors": {r["parameter"]: {"kind": r["kind"], "prior": r["prior"],
                                       "low": r["prior_low"], "mode": r["prior_mode"],
                                       "high": r["prior_high"], "sampled": bool(r["sampled"])}
                      for r in rows},
           "acceptance": round(result.chain.acceptance, 4),
           "max_r_hat": _finite(sampled["r_hat"].max()),
           "min_ess_bulk": _finite(sampled["ess_bulk"].min()),
           "max_autocorrelation_steps": _finite(sampled["autocorrelation_steps"].max()),
           "history_matching": None if result.wave is None else {
               "points": len(result.wave.points),
               "not_ruled_out": int(result.wave.plausible.sum()),
               "cut": "second-largest |scaled residual| <= 3"},
           "twin_evaluations": result.evaluations, "seconds": round(result.seconds, 1),
           "versions": versions() | _sampler_versions()}
    pairs = strongest_pairs(frame, list(result.space.names))
    doc["strongest_correlations"] = [{"a": a, "b": b, "spearman": round(r, 3)}
                                     for a, b, r in pairs]
    doc["prior_dominated"] = table.loc[table["status"] == "prior-dominated",
                                       "parameter"].tolist()
    by_target = None
    if check is not None:
        by_target = check.by_target()
        doc["predictive_check"] = {
            "members": check.members, "reps_per_member": check.reps,
            "tolerance_sd": 2.0, "share_meeting_all": round(check.share_all_met, 4),
            "share_meeting_all_observation": round(check.share_all_met_observation, 4),
            "joint_tolerance_sd": round(check.joint_tolerance, 3),
            "share_meeting_all_jointly": round(check.share_all_met_jointly, 4),
            "by_target": {r["target"]: {"p5": r["p5"], "p50": r["p50"], "p95": r["p95"],
                                        "members_meeting": r["members_meeting"],
                                        "members_meeting_observation":
                                            r["members_meeting_observation"],
                                        "members_meeting_jointly":
                                            r["members_meeting_jointly"]}
                          for r in by_target.to_dict(orient="records")}}
    if backtest is not None:
        doc["backtest"] = {
            "fitted": backtest.fitted, "held_out": len(backtest.table),
            "coverage_90": round(backtest.coverage, 4),
            "method": "Pareto-smoothed importance sampling from the prior (ArviZ psislw)",
            "draws": backtest.draws, "valid_draws": backtest.valid,
            "ess": round(backtest.ess, 1), "pareto_k": _finite(round(backtest.pareto_k, 3)),
            "reliable": backtest.reliable, "seconds": round(backtest.seconds, 1)}
    doc["code_commit"] = _code_commit()
    doc["status"] = posterior_status(doc)
    with OutputSet(Path(out)) as files:
        stream = files.parquet("posterior.parquet",
                               {"chainsim_posterior": json.dumps(doc, sort_keys=True)})
        stream.write(frame)
        files.csv("posterior_diagnostics.csv", table)
        files.figure("posterior.png", lambda p: posterior_figure(
            table, p, "What the Dadermonitor figures taught: prior vs posterior"))
        files.figure("posterior_pairs.png", lambda p: posterior_pairs_figure(
            frame, pairs, p, "Posterior: the most strongly correlated parameters"))
        if by_target is not None:
            files.csv("predictive.csv", by_target)
            files.figure("predictive.png", lambda p: predictive_figure(
                by_target, p, "Posterior predictive check: the agent model vs the "
                              "Dadermonitor 2015-2019"))
        if backtest is not None:
            files.csv("posterior_backtest.csv", backtest.table)
            files.figure("posterior_backtest.png", lambda p: predictive_figure(
                backtest.table, p, "Back-test: fitted to the figures up to 2017, the rest "
                                   "predicted (90 % intervals)"))
        files.json("posterior.json", doc)
    return doc


R_HAT_LIMIT = 1.01
"""Largest R-hat of a converged posterior (Vehtari et al. 2021)."""
ESS_MIN = 400
"""Smallest bulk effective sample size of a converged posterior (Vehtari et al. 2021)."""


def posterior_status(doc: dict) -> dict:
    """Whether a posterior run converged, and a note saying what the numbers are.

    Converged: every sampled parameter's R-hat at most :data:`R_HAT_LIMIT` and bulk ESS at
    least :data:`ESS_MIN` (the thresholds of Vehtari et al. 2021) and, if the chain was
    reweighted, importance weights that can be trusted (Pareto k at most 0.7). Anything
    less is *provisional*; ``run``/``compare --uncertainty``, ``comparison.json`` and the
    report then say so (:attr:`chainsim.experiments.ensemble.Ensemble.caveat`).
    """
    r_hat, ess = doc.get("max_r_hat"), doc.get("min_ess_bulk")
    mixed = (r_hat is not None and ess is not None and r_hat <= R_HAT_LIMIT
             and ess >= ESS_MIN)
    s = doc["settings"]
    weights_reliable = s.get("reweighting", {}).get("reliable", True)
    converged = mixed and weights_reliable
    text = (f"{s['steps']} steps ({s['burn']} burn-in) of {s['walkers']} walkers: max R-hat "
            f"{r_hat if r_hat is None else round(r_hat, 3)}, min bulk ESS "
            f"{ess if ess is None else round(ess)}")
    ppc = doc.get("predictive_check")
    rw = s.get("reweighting")
    if rw:
        draws = rw.get("draws_per_candidate", 1)
        text += (f"; reweighted to the joint posterior with the after-chain unknowns: "
                 f"{rw['candidates']} candidates"
                 f"{'' if draws == 1 else f' x {draws} after-chain draws'}"
                 f", Pareto k {rw['pareto_k']}"
                 f"{'' if rw['reliable'] else ' (above 0.7: not reliable)'}, effective "
                 f"sample size {rw['ess']:.0f}, {rw['unique_members']} distinct members")
    if ppc:
        text += (f"; predictive check: {ppc['share_meeting_all']:.0%} of {ppc['members']} "
                 f"members meet every figure within 2 of its sds, "
                 f"{ppc['share_meeting_all_observation']:.0%} within 2 sds of the observation "
                 "model")
        if "share_meeting_all_jointly" in ppc:
            text += (f", {ppc['share_meeting_all_jointly']:.0%} by the joint criterion "
                     f"(each within {ppc['joint_tolerance_sd']:g} sds, all together 90 % for a "
                     "model true to the data; goal 90 %)")
    if converged:
        return {"converged": True, "note": "converged: " + text}
    if not mixed:
        return {"converged": False,
                "note": f"provisional (R-hat above {R_HAT_LIMIT} or bulk ESS below {ESS_MIN}): "
                        + text + ". Re-sample with more steps."}
    return {"converged": False,
            "note": "provisional (the reweighting's Pareto k above 0.7): " + text
                    + ". Re-sample with more candidates or more --draws."}


def _code_commit() -> str | None:
    """The git commit of the code (``None`` outside a git checkout)."""
    import subprocess

    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent,
                             capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _finite(x) -> float | None:
    """``x`` as a float, ``None`` if it is not finite (a chain too short to estimate it)."""
    import math

    x = float(x)
    return x if math.isfinite(x) else None


def _sampler_versions() -> dict[str, str]:
    from importlib import metadata

    return {pkg: metadata.version(pkg) for pkg in ("emcee", "arviz", "scikit-learn")}

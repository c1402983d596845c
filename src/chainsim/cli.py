"""The ``chainsim`` command line: a thin layer over the library.

Heavy libraries (Mesa, pandas, SciPy, matplotlib) are imported inside the
commands, so ``chainsim --help`` starts quickly.

Exit codes: 0 success, 2 bad input (the message names file, field, value and what
is allowed), 1 internal error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT = 0, 1, 2


def _whole_number(minimum: int, maximum: int = 1_000_000):
    """An argparse type: a whole number from ``minimum`` to ``maximum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(
                f"{value} is not allowed; give a whole number from {minimum} to {maximum:,}")
        return value

    return parse


_positive_int = _whole_number(1)
_seed = _whole_number(0, 2**63 - 1)
_workers = _whole_number(1, 1024)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``chainsim``."""
    from chainsim.engines import DEFAULT_ENGINE, ENGINES, engine_help

    parser = argparse.ArgumentParser(
        prog="chainsim",
        description="Human-trafficking offenders in the Dutch criminal justice chain: "
                    "an agent-based simulation calibrated to the Dadermonitor 2015-2019.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run a scenario's replications and report the chain",
                         description="Run N replications of a scenario (with the vectorised "
                                     "engine unless --engine agents asks for the Mesa agent "
                                     "model: the same records); write records, flows, summary "
                                     "and a funnel figure.")
    run.add_argument("scenario", help="scenario TOML file, e.g. scenarios/baseline.toml")
    run.add_argument("--reps", type=_positive_int, default=20,
                     help="replications (default 20)")
    run.add_argument("--seed", type=_seed, default=0, help="seed of the run (default 0)")
    run.add_argument("--out", type=Path, default=None,
                     help="output directory (default results/<scenario name>)")
    run.add_argument("--workers", type=_workers, default=None,
                     help="worker processes (default: one per core); results do not depend on it")
    run.add_argument("--engine", choices=tuple(ENGINES), default=DEFAULT_ENGINE,
                     help=engine_help())
    run.add_argument("--scheduler", default=None, metavar="ADDRESS",
                     help="run on a Dask cluster, e.g. tcp://127.0.0.1:8786 (same results)")
    run.add_argument("--uncertainty", action="store_true",
                     help="replication i uses member i of the posterior ensemble (parameter "
                          "sets that reproduce the data; default: the calibrated values)")
    run.add_argument("--ensemble", type=Path, default=None, metavar="FILE",
                     help="posterior ensemble for --uncertainty (default "
                          "calibration/posterior.parquet)")
    run.add_argument("--json", action="store_true",
                     help="print the summary document (JSON) on stdout instead of a table")

    cmp = sub.add_parser("compare", help="compare scenarios with a baseline (paired, with CIs)",
                         description="Run the baseline and each scenario on common random "
                                     "numbers; report scenario-minus-baseline differences in "
                                     "recidivism, harm and workload with 95 % confidence "
                                     "intervals.")
    cmp.add_argument("baseline", help="baseline scenario TOML, e.g. scenarios/baseline.toml")
    cmp.add_argument("scenarios", nargs="+", help="scenario TOML file(s) to compare with it")
    cmp.add_argument("--reps", type=_positive_int, default=20, help="replications per arm "
                                                                    "(default 20)")
    cmp.add_argument("--seed", type=_seed, default=0, help="seed (default 0)")
    cmp.add_argument("--engine", choices=tuple(ENGINES), default=DEFAULT_ENGINE,
                     help=engine_help())
    cmp.add_argument("--uncertainty", action="store_true",
                     help="replication i of every arm uses member i of the posterior ensemble: "
                          "reports the effect's spread over the posterior, the probability of "
                          "a reduction, and Monte Carlo vs parameter uncertainty")
    cmp.add_argument("--ensemble", type=Path, default=None, metavar="FILE",
                     help="posterior ensemble for --uncertainty (default "
                          "calibration/posterior.parquet)")
    cmp.add_argument("--min-effect", type=float, default=0.0, metavar="FRACTION",
                     help="with --uncertainty, also the probability of a reduction by more "
                          "than this fraction of the baseline level (e.g. 0.01 for 1%%)")
    cmp.add_argument("--out", type=Path, default=None,
                     help="output directory (default results/compare-<scenarios>)")
    cmp.add_argument("--workers", type=_workers, default=None,
                     help="worker processes (default: one per core)")
    cmp.add_argument("--scheduler", default=None, metavar="ADDRESS",
                     help="run on a Dask cluster, e.g. tcp://127.0.0.1:8786 (same results)")
    cmp.add_argument("--json", action="store_true", help="print the comparison document (JSON)")
    cmp.add_argument("--report", action="store_true", help="also write DIR/report.html")
    cmp.add_argument("--costs", type=Path, default=None, metavar="FILE",
                     help="unit costs (TOML [costs] table) to add a cost_per_year proxy")

    rep = sub.add_parser("report", help="build the HTML report of a saved comparison",
                         description="Write DIR/report.html from the files 'chainsim compare "
                                     "--out DIR' saved.")
    rep.add_argument("directory", type=Path, help="a directory written by chainsim compare")

    cal = sub.add_parser("calibrate", help="calibrate the chain to the Dadermonitor figures",
                         description="Fit the parameters the source's figures cannot pin "
                                     "down directly, on the expected-flow twin; write "
                                     "calibrated parameters, fit table and figure, "
                                     "identifiability table and parameter ensemble.")
    cal.add_argument("--scenario", type=Path, default=Path("scenarios/baseline.toml"),
                     help="scenario to calibrate (default scenarios/baseline.toml)")
    cal.add_argument("--targets", type=Path, default=None,
                     help="targets file (default calibration/targets.toml)")
    cal.add_argument("--out", type=Path, default=Path("calibration"),
                     help="output directory (default calibration/)")
    cal.add_argument("--backtest", action="store_true",
                     help="also fit without the 2019 points and report how they are predicted; "
                          "with --posterior: weigh prior draws by the figures up to 2017 "
                          "(importance sampling) and report the coverage of the rest's 90%% "
                          "intervals")
    cal.add_argument("--verify", type=_whole_number(0), default=0, metavar="N",
                     help="verify the fit with N replications of the model (e.g. 200); with "
                          "--posterior: the predictive check on N members")
    cal.add_argument("--seed", type=_seed, default=0, help="seed (ensemble, verification)")
    cal.add_argument("--workers", type=_workers, default=None,
                     help="worker processes for the verification and the posterior's "
                          "sampler (default: all cores; results do not depend on it)")
    cal.add_argument("--engine", choices=tuple(ENGINES), default=DEFAULT_ENGINE,
                     help="engine of the verification runs: " + engine_help())
    cal.add_argument("--posterior", action="store_true",
                     help="sample the joint posterior of the knobs and the unknowns instead "
                          "and write the ensemble (posterior.parquet, posterior.json)")
    cal.add_argument("--members", type=_positive_int, default=1000,
                     help="posterior ensemble size (default 1000)")
    cal.add_argument("--steps", type=_whole_number(2), default=2000,
                     help="posterior sampler steps, burn-in included (default 2000)")
    cal.add_argument("--burn", type=_whole_number(0), default=500,
                     help="posterior sampler steps discarded (default 500)")
    cal.add_argument("--walkers", type=_whole_number(4), default=None,
                     help="posterior sampler walkers (default 2 x dimensions + 2)")
    cal.add_argument("--fresh", action="store_true",
                     help="--posterior: start afresh instead of going on from the checkpoint "
                          "or journal in --out (the sampler saves its state every 20 steps, "
                          "an --emulator run every step it finishes; run again with the same "
                          "settings to resume, with more --steps to extend a twin chain)")
    cal.add_argument("--no-reweight", dest="reweight", action="store_false",
                     help="--posterior: keep the chain's latest points as the members instead "
                          "of reweighting them to the joint posterior with the after-chain "
                          "unknowns (one full twin run per thinned chain point)")
    cal.add_argument("--draws", type=_positive_int, default=1,
                     help="--posterior: draws of the after-chain unknowns per candidate in the "
                          "reweighting (default 1); a candidate's weight averages over them, "
                          "one full twin run each")
    cal.add_argument("--thin", type=_positive_int, default=None,
                     help="--posterior: keep every THIN-th step of the chain as candidates "
                          "(default: half the longest autocorrelation time)")
    cal.add_argument("--emulator", type=_whole_number(0), default=0, metavar="RUNS",
                     help="--posterior: sample an emulator of the twin fitted on RUNS twin "
                          "runs in --waves design waves, instead of the twin itself (0, the "
                          "default); the reweighting with the full twin corrects it exactly")
    cal.add_argument("--waves", type=_positive_int, default=3,
                     help="--posterior --emulator: design waves (default 3)")
    cal.add_argument("--joint", action="store_true",
                     help="--posterior --emulator: sample the after-chain unknowns too, on an "
                          "emulator of the full twin (each point with its own re-entries into "
                          "offending), so that the reweighting mainly corrects the emulator's "
                          "error: the design's full-twin runs cost about 5 times as much, "
                          "but the weights spread far less, so far fewer candidates give the "
                          "same effective sample size (one run each: --draws 1)")
    cal.add_argument("--candidates", type=_positive_int, default=None,
                     help="--posterior: at most this many thinned chain points are reweighted "
                          "(the chain is thinned more where it holds more; default: all)")
    cal.add_argument("--json", action="store_true", help="print the summary as JSON")

    swp = sub.add_parser("sweep", help="run a design over levers and unknowns (LHS, factorial, "
                                       "Sobol)",
                         description="Run every point of a sweep design (replications x arms), "
                                     "streaming results to Parquet; an interrupted sweep "
                                     "resumes when run again with the same --out.")
    swp.add_argument("design", type=Path, help="design TOML, e.g. scenarios/sweeps/levers_lhs.toml")
    swp.add_argument("--out", type=Path, default=None,
                     help="output directory (default results/sweep-<name>)")
    swp.add_argument("--workers", type=_workers, default=None,
                     help="local worker processes (default: one per core)")
    swp.add_argument("--scheduler", default=None, metavar="ADDRESS",
                     help="run on a Dask cluster, e.g. tcp://127.0.0.1:8786 (same results)")
    swp.add_argument("--restart", action="store_true",
                     help="discard what an earlier run of --out left and start again")
    swp.add_argument("--json", action="store_true", help="print the sweep's manifest (JSON)")

    sen = sub.add_parser("sensitivity", help="Sobol indices and what would change the answer",
                         description="Sobol first-order and total indices (with 95 % "
                                     "confidence intervals) of chosen "
                                     "outcomes and scenario-minus-baseline deltas, and which "
                                     "factors can reverse the ranking of the arms. Give a "
                                     "Sobol design (it is run first, resuming if it can) or a "
                                     "finished sweep directory.")
    sen.add_argument("source", type=Path, help="Sobol design TOML or a sweep output directory")
    sen.add_argument("--outcome", action="append", default=None, metavar="PROXY",
                     help="outcome to analyse (repeatable; default: the design's outcomes)")
    sen.add_argument("--out", type=Path, default=None,
                     help="sweep output directory when a design is given "
                          "(default results/sweep-<name>)")
    sen.add_argument("--workers", type=_workers, default=None,
                     help="local worker processes (default: one per core)")
    sen.add_argument("--scheduler", default=None, metavar="ADDRESS",
                     help="run on a Dask cluster (same results)")
    sen.add_argument("--json", action="store_true", help="print the indices document (JSON)")

    dash = sub.add_parser("dashboard", help="serve the workshop dashboard in the browser",
                          description="Serve the workshop dashboard (Solara). It listens on "
                                      "127.0.0.1 unless --host says otherwise.")
    dash.add_argument("--host", default="127.0.0.1",
                      help="address to listen on (default 127.0.0.1: this computer only)")
    dash.add_argument("--port", type=_whole_number(0, 65535), default=8765,
                      help="port (default 8765)")
    dash.add_argument("--scenarios", type=Path, default=None, metavar="DIR",
                      help="also offer the scenario files in DIR as presets (e.g. your own, "
                           "with base = \"chainsim:baseline\"); each is checked at start")

    room = sub.add_parser("workshop", help="serve the workshop room (participants on their "
                          "own devices)", description="Serve the workshop room: a facilitator "
                          "view and a participant view (join with a room code), prediction "
                          "and policy-package rounds, reveal and export. Listens on 127.0.0.1 "
                          "unless --lan or --host says otherwise.")
    room.add_argument("--host", default="127.0.0.1",
                      help="address to listen on (default 127.0.0.1: this computer only)")
    room.add_argument("--lan", action="store_true",
                      help="listen on the local network (0.0.0.0) for participants' devices")
    room.add_argument("--port", type=_whole_number(0, 65535), default=8770,
                      help="port (default 8770)")
    room.add_argument("--reps", type=_whole_number(2, 1000), default=20,
                      help="replications per arm of a round's simulation (default 20)")
    room.add_argument("--precompute", action="store_true",
                      help="simulate every shipped question at start (reveals are instant)")
    room.add_argument("--costs", type=Path, default=None, metavar="FILE",
                      help="unit costs for package rounds (default docs/unit_costs_example.toml)")

    val = sub.add_parser("validate", help="check a scenario file",
                         description="Validate a scenario file: every problem is reported "
                                     "with file, field, value and what is allowed.")
    val.add_argument("scenario", nargs="+",
                     help="scenario TOML file(s), or chainsim:NAME for a shipped one")

    par = sub.add_parser("parameters", help="list every parameter with unit, role and range",
                         description="Every parameter a scenario sets: name, unit, role "
                                     "(lever, unknown, calibrated, fixed), the baseline's "
                                     "value, range, strata and meaning.")
    par.add_argument("--role", choices=("lever", "unknown", "calibrated", "fixed"),
                     default=None, help="only parameters of this role")
    par.add_argument("--markdown", action="store_true",
                     help="print docs/parameters.md (a Markdown table of all parameters)")

    new = sub.add_parser("new", help="write a commented starting scenario",
                         description="Write a commented scenario that inherits a shipped one "
                                     "by name (base = \"chainsim:baseline\"), so it works "
                                     "in any folder; it loads and runs as written. An "
                                     "existing file is never overwritten.")
    new.add_argument("name", help="the scenario's name (letters, digits, '_', '.', '-')")
    new.add_argument("--from", dest="base", default="baseline", metavar="SHIPPED",
                     help="the shipped scenario to start from (default baseline; e.g. "
                          "more_probation)")
    new.add_argument("--out", type=Path, default=None, metavar="FILE",
                     help="file to write (default NAME.toml in the current directory)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``chainsim`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from importlib.metadata import version

        print(f"chainsim {version('chainsim')}")
        return EXIT_OK
    if args.command is None:
        parser.print_help()
        return EXIT_INPUT
    handler = {"run": cmd_run, "validate": cmd_validate, "compare": cmd_compare,
               "report": cmd_report, "calibrate": cmd_calibrate,
               "dashboard": cmd_dashboard, "sweep": cmd_sweep,
               "sensitivity": cmd_sensitivity, "parameters": cmd_parameters,
               "new": cmd_new, "workshop": cmd_workshop}[args.command]
    from chainsim.chain.errors import InputError

    try:
        return handler(args)
    except InputError as exc:
        for problem in exc.problems:
            print(f"chainsim: error: {problem}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("chainsim: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        print("chainsim: error: out of memory: the run creates more offenders or records "
              "than this computer holds; shorten the horizon or lower inflow and recurring "
              "hazards", file=sys.stderr)
        return EXIT_INTERNAL
    except Exception as exc:
        if os.environ.get("CHAINSIM_DEBUG"):
            raise
        print(f"chainsim: internal error: {type(exc).__name__}: {exc}\n"
              "(set CHAINSIM_DEBUG=1 for the traceback; please report it)", file=sys.stderr)
        return EXIT_INTERNAL


def cmd_validate(args: argparse.Namespace) -> int:
    """``chainsim validate``: check scenario files."""
    from chainsim.chain.config import load_scenario
    from chainsim.chain.errors import InputError
    from chainsim.chain.parameters import resolve

    problems = []
    for path in args.scenario:
        try:
            resolve(load_scenario(path), path)
            print(f"{path}: ok")
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    return EXIT_OK


def cmd_parameters(args: argparse.Namespace) -> int:
    """``chainsim parameters``: the parameter catalogue as a table or Markdown."""
    from chainsim.outputs.parameters import parameters_markdown, print_parameters

    if args.markdown:
        if args.role is not None:
            from chainsim.chain.errors import InputError, Problem

            raise InputError([Problem("<command line>", "--role", args.role,
                                      "not with --markdown (docs/parameters.md lists all)")])
        sys.stdout.write(parameters_markdown())
    else:
        print_parameters(args.role)
    return EXIT_OK


def cmd_new(args: argparse.Namespace) -> int:
    """``chainsim new NAME``: write a commented starting scenario, never over a file."""
    from chainsim.chain.errors import InputError
    from chainsim.chain.starter import starting_scenario
    from chainsim.files import atomic_path

    out = args.out if args.out is not None else Path(f"{args.name}.toml")
    text = starting_scenario(args.name, args.base, str(out))
    if out.exists() or out.is_symlink():
        raise InputError.single("<command line>", "--out", str(out),
                                "a file that does not exist yet (chainsim new never "
                                "overwrites); give another --out or NAME")
    if out.suffix != ".toml":
        raise InputError.single("<command line>", "--out", str(out), "a file name ending "
                                "in .toml")
    with atomic_path(out) as tmp:
        tmp.write_text(text, encoding="utf-8")
    print(f"{out}: written; check it with: chainsim validate {out}")
    return EXIT_OK


def _ensemble(args: argparse.Namespace):
    """The posterior ensemble ``--uncertainty`` draws from (an input error if missing)."""
    if not args.uncertainty:
        from chainsim.chain.errors import InputError, Problem

        given = [(flag, value) for flag, value in (
            ("--ensemble", args.ensemble), ("--min-effect", getattr(args, "min_effect", 0.0)))
            if value]
        if given:
            raise InputError([Problem("<command line>", flag, str(value),
                                      "only with --uncertainty") for flag, value in given])
        return None
    from chainsim.experiments.ensemble import load_ensemble

    ensemble = load_ensemble(args.ensemble)
    if args.reps > len(ensemble):
        from chainsim.chain.errors import InputError, Problem

        raise InputError([Problem("<command line>", "--reps", args.reps,
                                  f"at most the ensemble's {len(ensemble)} members "
                                  f"({ensemble.path})")])
    if ensemble.caveat and not args.json:
        print(f"chainsim: caution: {ensemble.caveat}", file=sys.stderr)
    return ensemble


def cmd_run(args: argparse.Namespace) -> int:
    """``chainsim run``: replications, files, and a table or the JSON summary."""
    from chainsim.experiments.pool import start_local_pool

    start_local_pool(args.reps, args.workers, args.scheduler)
    from chainsim.chain.config import load_scenario
    from chainsim.chain.parameters import resolve
    from chainsim.outputs.folders import run_to_directory

    scenario = load_scenario(args.scenario)
    params = resolve(scenario, args.scenario)
    ensemble = _ensemble(args)
    out = args.out if args.out is not None else Path("results") / scenario.name
    doc = run_to_directory(scenario, params, out, reps=args.reps, seed=args.seed,
                           workers=args.workers, progress=not args.json,
                           uncertainty=args.uncertainty, engine=args.engine,
                           scheduler=args.scheduler, ensemble=ensemble)
    if args.json:
        json.dump(doc, sys.stdout, indent=2, allow_nan=False)
        sys.stdout.write("\n")
    else:
        from chainsim.outputs.tables import run_table

        print(run_table(doc))
        print(f"\nresults written to {out}/")
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    """``chainsim compare``: paired deltas with confidence intervals, optional report."""
    from chainsim.experiments.pool import start_local_pool

    start_local_pool(args.reps * (1 + len(args.scenarios)), args.workers, args.scheduler)
    from chainsim.chain.config import load_scenario
    from chainsim.chain.parameters import resolve
    from chainsim.experiments.compare import compare, comparison_document
    from chainsim.outputs.folders import save_comparison

    baseline = load_scenario(args.baseline)
    resolve(baseline, args.baseline)
    ensemble = _ensemble(args)
    if not 0.0 <= args.min_effect < 1.0:
        from chainsim.chain.errors import InputError, Problem

        raise InputError([Problem("<command line>", "--min-effect", args.min_effect,
                                  "a fraction of the baseline level from 0 to below 1")])
    costs = None
    if args.costs is not None:
        from chainsim.chain.costs import load_costs

        costs = load_costs(args.costs)
    scenarios = []
    for path in args.scenarios:
        sc = load_scenario(path)
        resolve(sc, path)
        scenarios.append(sc)
    if ensemble is not None:  # before any output: a member would undo an arm's own setting
        from chainsim.experiments.ensemble import check_arms

        check_arms(baseline, scenarios, ensemble)
    names = [sc.name for sc in scenarios]
    if len(set(names)) < len(names) or (baseline.name in names and args.baseline not in (
            args.scenarios)):
        pass  # the same file twice is allowed (a self-comparison); names are labels
    label = "-".join(dict.fromkeys(names))  # scenario names are safe path parts
    if len(label) > 100:
        import hashlib

        label = label[:80] + "-" + hashlib.sha256(label.encode()).hexdigest()[:8]
    out = args.out if args.out is not None else Path("results") / ("compare-" + label)
    from chainsim.files import check_output_dir

    check_output_dir(out)  # before the runs, not after them
    from chainsim.experiments.compare import monte_carlo_repeats
    from chainsim.experiments.progress import progress_bar

    runs = args.reps + (monte_carlo_repeats(args.reps) if ensemble is not None else 0)
    bar = progress_bar((1 + len(scenarios)) * runs, "runs", "run", enabled=not args.json)
    cmp = compare(baseline, scenarios, reps=args.reps, seed=args.seed, workers=args.workers,
                  uncertainty=args.uncertainty, on_result=lambda _: bar.update(1), costs=costs,
                  engine=args.engine, scheduler=args.scheduler, ensemble=ensemble)
    bar.close()
    doc = comparison_document(cmp, min_effect=args.min_effect)
    save_comparison(cmp, doc, out)
    if args.report:
        from chainsim.outputs.report import build_report

        build_report(out)
    if args.json:
        json.dump(doc, sys.stdout, indent=2, allow_nan=False)
        sys.stdout.write("\n")
    else:
        from chainsim.outputs.tables import compare_table

        print(compare_table(doc))
        print(f"\nresults written to {out}/" + (" (report.html)" if args.report else ""))
    return EXIT_OK


def cmd_calibrate(args: argparse.Namespace) -> int:
    """``chainsim calibrate``: fit, write the calibration files, print the fit."""
    from chainsim.analysis.targets import DEFAULT_TARGETS, load_targets
    from chainsim.chain.config import load_scenario
    from chainsim.outputs.folders import calibrate_to_directory

    targets = args.targets if args.targets is not None else DEFAULT_TARGETS
    load_targets(targets)  # bad input fails here, before any work
    load_scenario(args.scenario, calibrated=False)
    if args.posterior:
        return _calibrate_posterior(args, targets)
    summary = calibrate_to_directory(args.scenario, targets, args.out, backtest=args.backtest,
                                     verify=args.verify, seed=args.seed, workers=args.workers,
                                     engine=args.engine, progress=not args.json)
    if args.json:
        json.dump(summary, sys.stdout, indent=2, allow_nan=False)
        sys.stdout.write("\n")
    else:
        import pandas as pd

        from chainsim.outputs.tables import calibration_summary, calibration_table

        print(calibration_table(pd.read_csv(args.out / "fit.csv")))
        print("\n" + calibration_summary(summary, args.out))
        from chainsim.outputs.tables import validation_lines

        lines = validation_lines(summary.get("validation") or {})
        if lines:
            print("\n".join(lines))
    return EXIT_OK


def _calibrate_posterior(args: argparse.Namespace, targets: Path) -> int:
    """``chainsim calibrate --posterior``: sample, write the ensemble, print diagnostics."""
    from chainsim.chain.config import load_scenario
    from chainsim.chain.errors import InputError, Problem
    from chainsim.experiments.posterior import ParameterSpace
    from chainsim.outputs.folders import posterior_to_directory

    problems = []
    if args.burn >= args.steps:
        problems.append(Problem("<command line>", "--burn", args.burn,
                                f"fewer than --steps ({args.steps})"))
    space = ParameterSpace(load_scenario(args.scenario))
    dims = len((space.joint_space() if args.joint else space).dimensions)
    problems += _joint_problems(args)
    if args.walkers is not None and args.walkers < 2 * dims:
        problems.append(Problem("<command line>", "--walkers", args.walkers,
                                f"at least twice the {dims} sampled parameters ({2 * dims})"))
    walkers = args.walkers or 2 * dims + 2
    if args.burn < args.steps and (args.steps - args.burn) * walkers < args.members:
        problems.append(Problem("<command line>", "--members", args.members,
                                f"at most (steps - burn) x walkers = {(args.steps - args.burn)}"
                                f" x {walkers}: fewer members, or more steps"))
    if args.emulator and args.emulator < 2 * args.waves * dims:
        problems.append(Problem("<command line>", "--emulator", args.emulator,
                                f"0, or at least {2 * args.waves * dims} twin runs (twice the "
                                f"{dims} sampled parameters in each of --waves {args.waves})"))
    if args.candidates is not None and args.candidates < args.members:
        problems.append(Problem("<command line>", "--candidates", args.candidates,
                                f"at least --members ({args.members})"))
    if problems:
        raise InputError(problems)
    doc = posterior_to_directory(args.scenario, targets, args.out, members=args.members,
                                 walkers=args.walkers, steps=args.steps, burn=args.burn,
                                 seed=args.seed, progress=not args.json, verify=args.verify,
                                 workers=args.workers, backtest=args.backtest,
                                 fresh=args.fresh, reweight=args.reweight,
                                 draws=args.draws, thin=args.thin, design=args.emulator,
                                 design_waves=args.waves, candidates=args.candidates,
                                 joint=args.joint)
    if args.json:
        json.dump(doc, sys.stdout, indent=2, allow_nan=False)
        sys.stdout.write("\n")
    else:
        import pandas as pd

        from chainsim.outputs.tables import posterior_summary, posterior_table

        print(posterior_table(pd.read_csv(args.out / "posterior_diagnostics.csv")))
        print("\n" + posterior_summary(doc, args.out))
    return EXIT_OK


def _joint_problems(args: argparse.Namespace) -> list:
    """What is wrong with ``--joint`` on this command line (nothing without it)."""
    from chainsim.chain.errors import Problem

    if not args.joint:
        return []
    problems = []
    if not args.emulator:
        problems.append(Problem("<command line>", "--joint", True,
                                "only with --emulator RUNS (the joint mode samples an "
                                "emulator of the full twin)"))
    if args.draws > 1:
        problems.append(Problem("<command line>", "--draws", args.draws,
                                "1 with --joint (each candidate's after-chain values are "
                                "its own from the chain)"))
    return problems


def cmd_report(args: argparse.Namespace) -> int:
    """``chainsim report DIR``: rebuild the HTML report of a saved comparison."""
    from chainsim.outputs.report import build_report

    print(f"report written to {build_report(args.directory)}")
    return EXIT_OK


def cmd_sweep(args: argparse.Namespace) -> int:
    """``chainsim sweep``: run (or resume) a design; print where the results are."""
    from chainsim.experiments.design import load_design
    from chainsim.experiments.sweep import default_out, run_sweep

    design = load_design(args.design)
    out = args.out if args.out is not None else default_out(design)
    frame = run_sweep(design, out, workers=args.workers, scheduler=args.scheduler,
                      progress=not args.json, restart=args.restart)
    manifest = json.loads((out / "sweep.json").read_text(encoding="utf-8"))
    if args.json:
        json.dump(manifest, sys.stdout, indent=2, allow_nan=False)
        sys.stdout.write("\n")
    else:
        from chainsim.outputs.tables import sweep_summary

        print(sweep_summary(design.meta.name, manifest["points"], design.meta.reps,
                            len(design.arms), design.runs, len(frame), out))
    return EXIT_OK


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """``chainsim sensitivity``: Sobol indices, ranking reversals, a figure."""
    from chainsim.experiments.sensitivity import analyse_to_directory
    from chainsim.outputs.tables import sensitivity_table

    doc = analyse_to_directory(args.source, outcomes=args.outcome, out=args.out,
                               workers=args.workers, scheduler=args.scheduler,
                               progress=not args.json)
    if args.json:
        json.dump(doc, sys.stdout, indent=2, allow_nan=False)
        sys.stdout.write("\n")
    else:
        print(sensitivity_table(doc))
    return EXIT_OK


def cmd_dashboard(args: argparse.Namespace) -> int:
    """``chainsim dashboard``: serve the workshop dashboard until interrupted."""
    from chainsim.dashboard.server import serve

    return serve(host=args.host, port=args.port, scenarios=args.scenarios)


def cmd_workshop(args: argparse.Namespace) -> int:
    """``chainsim workshop``: serve the workshop room until interrupted."""
    from chainsim.dashboard.room.server import serve

    return serve(host="0.0.0.0" if args.lan else args.host, port=args.port, reps=args.reps,
                 precompute=args.precompute, costs_file=args.costs)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""Batched twin: many parameter sets in one vectorised pass against one at a time.

Usage: ``python benchmarks/bench_twin_batch.py [--quick] [--members K ...] [--rounds N]
[--single N] [--reference REV]``

What inference iterates on (issue 14, item 3): the twin in chain mode
(:func:`chainsim.engines.twin.expected_flows` with ``full=False`` and the re-entries of
a full run, as :class:`chainsim.experiments.calibrate.Calibrator` calls it) on the
baseline cut to calibration's horizon (2005-01 to 2019-12, interventions removed, as
``Calibrator.fit`` does), for ``K`` parameter sets drawn by perturbing the calibrated
knobs (:data:`chainsim.experiments.calibrate.DEFAULT_KNOBS`: hazards and their trends,
capacity and its trend, OM shares and trends, conviction and prison, terms, inflow
shares), declared unknowns drawn from their ranges (inflow, desistance and its age
gradient, signal factors, exposure, resumption, pre-trial detention, supervision risk,
the appeal's parameters, the investigation's, OM's, trial's and probation's lengths,
the prison terms' spread, juvenile law) and the durations' spread (log-normal factors).

For each ``K`` (64 and 256; 64 with ``--quick``) it times, alternately in the same run
(the machine is shared, so load hits all alike), seconds per member:

- *reference*: the twin as it was before the batch axis (``--reference``, a git
  revision; its ``twin.py`` is loaded from git into a module of its own), one set at
  a time, on a sample of the members (``--single`` of them, 4 by default);
- *one at a time*: this twin's ``expected_flows(params, full=False, reentries=...)``
  (a batch of one), on the same sample;
- *batched*: :func:`chainsim.engines.twin.expected_flows_batch` on all ``K`` members
  (passes of :data:`chainsim.engines.twin.CHAIN_MODE_MEMBERS`);

and prints the medians over ``--rounds`` rounds, the throughput ratios (seconds per
member one at a time / batched; the issue's goal is 20) and what they are for: the minutes
10,000 evaluations take on ``--cores`` cores scoring in parallel (the issue's aim: about 5).
It checks that every sampled member's batched events, prison terms and stocks equal this
twin's one-at-a-time run (rtol 1e-10, atol 1e-9) and the reference's (rtol 1e-9: the twin
now cuts kernels at the horizon, which moves results by at most 1e-12 of the tail), and
prints the largest differences. Exit status 1 if they differ (not if a ratio misses the
goal: the machine decides that).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from chainsim.chain.config import load_scenario, scenario_from_dict
from chainsim.chain.errors import InputError
from chainsim.chain.parameters import ParameterSet, resolve
from chainsim.chain.spec import PARAMETERS
from chainsim.engines.twin import expected_flows, expected_flows_batch
from chainsim.experiments.calibrate import (
    CALIBRATION_END,
    DEFAULT_KNOBS,
    apply_knobs,
    knob_values,
)

GOAL = 20.0
"""Throughput ratio the issue asks for."""
AIM_EVALUATIONS, AIM_MINUTES = 10_000, 5.0
"""What the ratio is for (issue 14): 10,000 evaluations within about 5 minutes on 2 cores."""
REFERENCE = "703ef85"
"""The last revision before the twin's batch axis."""
ROOT = Path(__file__).resolve().parents[1]
UNKNOWNS = ("inflow_rate", "desistance_hazard", "known_signal_factor",
            "supervised_signal_factor", "exposure_share", "resume_share",
            "pretrial_detention_share", "supervision_risk_factor", "appeal_share",
            "appeal_months", "appeal_cv", "appeal_acquittal_share", "investigation_months",
            "om_decision_months", "trial_months", "probation_months", "prison_months_cv",
            "adolescent_law_share", "juvenile_sentence_factor", "desistance_age_factor")
"""Declared unknowns drawn from their ranges (uniform)."""
DURATIONS = ("investigation_cv", "om_decision_cv", "trial_cv")
"""Parameters scaled by a log-normal factor (sd 0.25 on the log scale)."""


def calibration_doc() -> dict:
    """The baseline as ``Calibrator.fit`` runs it: to 2019-12, without interventions."""
    scenario = load_scenario(ROOT / "scenarios" / "baseline.toml")
    doc = scenario.model_dump(mode="json", exclude_none=True)
    doc.pop("base", None)
    doc["scenario"]["end"] = CALIBRATION_END
    doc["interventions"] = []
    return doc


def draw_member(doc: dict, rng: np.random.Generator) -> ParameterSet:
    """One parameter set: knobs, unknowns and durations perturbed (redrawn if invalid)."""
    x0 = knob_values(doc, DEFAULT_KNOBS)
    lo = np.array([k.low for k in DEFAULT_KNOBS])
    hi = np.array([k.high for k in DEFAULT_KNOBS])
    while True:
        knobs = np.clip(x0 * np.exp(rng.normal(0.0, 0.2, len(x0))), lo, hi)
        member = apply_knobs(doc, DEFAULT_KNOBS, knobs)
        for name in UNKNOWNS:
            entry = member["unknowns"][name]
            entry["central"] = float(rng.uniform(entry["low"], entry["high"]))
        for name in DURATIONS:
            entry = member["parameters"][name]
            factor = float(np.exp(rng.normal(0.0, 0.25)))
            low, high = PARAMETERS[name].bounds
            entry["value"] = float(np.clip(entry["value"] * factor, low, high))
            if entry.get("by_form"):
                entry["by_form"] = {f: float(np.clip(v * factor, low, high))
                                    for f, v in entry["by_form"].items()}
        try:
            return resolve(scenario_from_dict(member, "<bench>"), "<bench>")
        except InputError:
            continue


def reference_twin(rev: str):
    """The twin module of git revision ``rev`` (``None`` if git or the revision is missing)."""
    try:
        source = subprocess.run(["git", "show", f"{rev}:src/chainsim/engines/twin.py"],
                                cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    spec = importlib.util.spec_from_loader(f"twin_{rev}", loader=None)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    exec(compile(source, f"<twin.py at {rev}>", "exec"), module.__dict__)
    return module


def largest_difference(single, batched, rtol: float = 1e-10, atol: float = 1e-9) -> float:
    """Largest ``|batched - single| / max(|single|, 1)`` over events, terms and stocks.

    Raises:
        AssertionError: A difference beyond ``rtol`` and ``atol``.
    """
    worst = 0.0
    for name in ("events", "prison_terms", "stocks"):
        a, b = getattr(single, name), getattr(batched, name)
        np.testing.assert_allclose(b, a, rtol=rtol, atol=atol, err_msg=name)
        worst = max(worst, float(np.max(np.abs(b - a) / np.maximum(np.abs(a), 1.0))))
    return worst


def bench(k: int, single_n: int, rounds: int, seed: int, reference) -> dict[str, float]:
    """Median seconds per member (reference, one at a time, batched) and largest differences."""
    doc = calibration_doc()
    rng = np.random.default_rng(seed)
    members = [draw_member(doc, rng) for _ in range(k)]
    reentries = expected_flows(members[0], full=True).reentries  # as calibration does
    sample = list(range(0, k, max(1, k // single_n)))[:single_n]
    expected_flows(members[0], full=False, reentries=reentries)  # compile, warm caches
    times: dict[str, list[float]] = {"reference": [], "one": [], "batched": []}
    worst = {"one": 0.0, "reference": 0.0}
    for _ in range(rounds):
        if reference is not None:
            t0 = time.perf_counter()
            refs = [reference.expected_flows(members[i], full=False, reentries=reentries)
                    for i in sample]
            times["reference"].append((time.perf_counter() - t0) / len(sample))
        t0 = time.perf_counter()
        singles = [expected_flows(members[i], full=False, reentries=reentries)
                   for i in sample]
        t1 = time.perf_counter()
        batched = expected_flows_batch(members, full=False, reentries=reentries)
        t2 = time.perf_counter()
        times["one"].append((t1 - t0) / len(sample))
        times["batched"].append((t2 - t1) / k)
        for j, i in enumerate(sample):
            worst["one"] = max(worst["one"], largest_difference(singles[j], batched[i]))
            if reference is not None:
                worst["reference"] = max(worst["reference"], largest_difference(
                    refs[j], batched[i], rtol=1e-9, atol=1e-9))
    out = {key: statistics.median(v) for key, v in times.items() if v}
    out.update({f"diff_{key}": v for key, v in worst.items()})
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="K = 64 only, 2 rounds")
    parser.add_argument("--members", type=int, nargs="*", default=None, metavar="K",
                        help="batch sizes (default 64 256)")
    parser.add_argument("--single", type=int, default=4,
                        help="members timed one at a time per round (default 4)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default 3)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cores", type=int, default=2,
                        help="cores scoring in parallel, as the sampler's workers (default 2)")
    parser.add_argument("--reference", default=REFERENCE,
                        help=f"git revision of the one-at-a-time reference twin ({REFERENCE}; "
                             "'none' to skip it)")
    args = parser.parse_args()
    sizes = args.members or ([64] if args.quick else [64, 256])
    rounds = args.rounds or (2 if args.quick else 3)
    reference = None if args.reference == "none" else reference_twin(args.reference)
    if reference is None and args.reference != "none":
        print(f"(reference twin {args.reference} not available: git or the revision missing)")
    print(f"chain mode, baseline 2005-01..{CALIBRATION_END}; seconds per member, medians of "
          f"{rounds} rounds; one at a time on {args.single} members per round")
    print(f"{'K':>5} {'reference':>10} {'one':>9} {'batched':>9} {'ref/batched':>12} "
          f"{'one/batched':>12} {'largest diff':>13}")
    ok = True
    for k in sizes:
        try:
            r = bench(k, args.single, rounds, args.seed, reference)
        except AssertionError as err:
            print(f"{k:>5} batched and one-at-a-time results differ:\n{err}")
            ok = False
            continue
        ref = r.get("reference")
        ratios = [ref / r["batched"] if ref else None, r["one"] / r["batched"]]
        cells = [f"{x:>11.1f}x" if x is not None else f"{'-':>12}" for x in ratios]
        ref_ms = f"{ref * 1e3:>7.0f} ms" if ref else f"{'-':>10}"
        print(f"{k:>5} {ref_ms} {r['one'] * 1e3:>6.0f} ms {r['batched'] * 1e3:>6.0f} ms "
              f"{cells[0]} {cells[1]} {r['diff_one']:>13.1e}"
              + (f"  (vs reference {r['diff_reference']:.1e})" if ref else ""))
        print(f"{'':>5} {k} evaluations: {r['batched'] * k:.1f} s batched, "
              f"{r['one'] * k:.1f} s one at a time"
              + (f", {ref * k:.1f} s with the reference" if ref else ""))
        print(f"{'':>5} {AIM_EVALUATIONS:,} evaluations on {args.cores} cores: "
              f"{r['batched'] * AIM_EVALUATIONS / args.cores / 60:.1f} min batched, "
              f"{r['one'] * AIM_EVALUATIONS / args.cores / 60:.1f} min one at a time "
              f"(the issue's aim: about {AIM_MINUTES:g} min)")
    print(f"goal: {GOAL:g}x the one-at-a-time throughput")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

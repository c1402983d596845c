"""Batched twin: many parameter sets in one vectorised pass against one at a time.

Usage: ``python benchmarks/bench_twin_batch.py [--quick] [--members K ...] [--rounds N]``

What inference iterates on (issue 14, item 3): the twin in chain mode
(:func:`chainsim.engines.twin.expected_flows` with ``full=False`` and the re-entries of
a full run, as :class:`chainsim.experiments.calibrate.Calibrator` calls it) on the
baseline cut to calibration's horizon (2005-01 to 2019-12, interventions removed, as
``Calibrator.fit`` does), for ``K`` parameter sets drawn by perturbing the calibrated
knobs (:data:`chainsim.experiments.calibrate.DEFAULT_KNOBS`: hazards and their trends,
capacity and its trend, OM shares and trends, conviction and prison, terms, inflow
shares) and declared unknowns and durations (inflow, desistance, signal factors,
exposure, resumption, pre-trial detention, supervision risk, the appeal's parameters,
the investigation's, OM's and trial's durations and their spread, probation length).

For each ``K`` (64 and 256; 64 with ``--quick``) it times, alternately in the same run
(the machine is shared, so load hits both alike):

- *one at a time*: ``expected_flows(params, full=False, reentries=...)`` for a sample
  of the members (``--single`` of them, 8 by default), seconds per member;
- *batched*: :func:`chainsim.engines.twin.expected_flows_batch` on all ``K`` members
  (default passes of :data:`chainsim.engines.twin.CHAIN_MODE_MEMBERS`), seconds per
  member;

and prints the medians over ``--rounds`` rounds and the throughput ratio
(one-at-a-time seconds per member / batched seconds per member; goal >= 20). It
checks that every sampled member's batched events, prison terms and stocks equal the
one-at-a-time twin's (rtol 1e-10, atol 1e-9) and prints the largest difference.
Exit status 1 if they differ (not if the ratio misses the goal: the machine decides that).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

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
UNKNOWNS = ("inflow_rate", "desistance_hazard", "known_signal_factor",
            "supervised_signal_factor", "exposure_share", "resume_share",
            "pretrial_detention_share", "supervision_risk_factor", "appeal_share",
            "appeal_months", "appeal_cv", "appeal_acquittal_share")
"""Declared unknowns drawn from their ranges (uniform)."""
DURATIONS = ("investigation_months", "investigation_cv", "om_decision_months",
             "om_decision_cv", "trial_months", "trial_cv", "probation_months")
"""Parameters scaled by a log-normal factor (sd 0.25 on the log scale)."""


def calibration_doc() -> dict:
    """The baseline as ``Calibrator.fit`` runs it: to 2019-12, without interventions."""
    scenario = load_scenario("scenarios/baseline.toml")
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


def largest_difference(single, batched) -> float:
    """Largest ``|batched - single| / max(|single|, 1)`` over events, terms and stocks;
    raises AssertionError beyond rtol 1e-10, atol 1e-9."""
    worst = 0.0
    for name in ("events", "prison_terms", "stocks"):
        a, b = getattr(single, name), getattr(batched, name)
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-9, err_msg=name)
        worst = max(worst, float(np.max(np.abs(b - a) / np.maximum(np.abs(a), 1.0))))
    return worst


def bench(k: int, single_n: int, rounds: int, seed: int) -> tuple[float, float, float]:
    """Median seconds per member one at a time and batched, and the largest difference."""
    doc = calibration_doc()
    rng = np.random.default_rng(seed)
    members = [draw_member(doc, rng) for _ in range(k)]
    reentries = expected_flows(members[0], full=True).reentries  # as calibration does
    sample = list(range(0, k, max(1, k // single_n)))[:single_n]
    expected_flows(members[0], full=False, reentries=reentries)  # compile, warm caches
    one, many, worst = [], [], 0.0
    for _ in range(rounds):
        t0 = time.perf_counter()
        singles = [expected_flows(members[i], full=False, reentries=reentries)
                   for i in sample]
        t1 = time.perf_counter()
        batched = expected_flows_batch(members, full=False, reentries=reentries)
        t2 = time.perf_counter()
        one.append((t1 - t0) / len(sample))
        many.append((t2 - t1) / k)
        for i, ef in zip(sample, singles, strict=True):
            worst = max(worst, largest_difference(ef, batched[i]))
    return statistics.median(one), statistics.median(many), worst


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="K = 64 only, 2 rounds")
    parser.add_argument("--members", type=int, nargs="*", default=None, metavar="K",
                        help="batch sizes (default 64 256)")
    parser.add_argument("--single", type=int, default=8,
                        help="members timed one at a time per round (default 8)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default 3)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    sizes = args.members or ([64] if args.quick else [64, 256])
    rounds = args.rounds or (2 if args.quick else 3)
    print(f"chain mode, baseline 2005-01..{CALIBRATION_END}; medians of {rounds} rounds")
    print(f"{'K':>5} {'one at a time':>15} {'batched':>12} {'ratio':>7} "
          f"{'K evaluations':>15} {'largest diff':>13}")
    ok = True
    for k in sizes:
        try:
            one, many, worst = bench(k, args.single, rounds, args.seed)
        except AssertionError as err:
            print(f"{k:>5} batched and one-at-a-time results differ:\n{err}")
            ok = False
            continue
        ratio = one / many
        print(f"{k:>5} {one * 1e3:>12.1f} ms {many * 1e3:>9.1f} ms {ratio:>6.1f}x "
              f"{one * k:>6.1f} -> {many * k:>4.1f} s {worst:>13.1e}"
              + ("" if ratio >= GOAL else f"  (below the goal of {GOAL:g}x)"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

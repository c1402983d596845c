"""Every benchmark, one command: ``python benchmarks/run_all.py [--quick]``.

Runs each ``benchmarks/bench_*.py`` in turn (a fresh process each, so one
benchmark's memory and caches do not affect the next) with the same interpreter,
prints their output and the wall time of each, and exits non-zero if one fails.
Times depend on the machine and on what else runs on it; the ratios each script
prints are measured within one run and so compare like with like.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="pass --quick to every benchmark")
    parser.add_argument("--only", nargs="*", default=None, metavar="NAME",
                        help="run only these (e.g. engines sweep)")
    args = parser.parse_args()
    scripts = sorted(HERE.glob("bench_*.py"))
    if args.only:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in args.only]
    failed = []
    for script in scripts:
        extra = ["--quick"] if args.quick else []
        if script.stem == "bench_sweep" and not args.quick:
            extra.append("--full-sweep")
        print(f"\n=== {script.name} {' '.join(extra)}".rstrip(), flush=True)
        t0 = time.perf_counter()
        code = subprocess.call([sys.executable, str(script), *extra])
        print(f"--- {script.name}: {time.perf_counter() - t0:.1f} s wall"
              + ("" if code == 0 else f", FAILED (exit {code})"), flush=True)
        if code:
            failed.append(script.name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

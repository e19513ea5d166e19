"""Coverage of the few-cluster 95% intervals (模擬データ): TWFE, staggered (Callaway–Sant'Anna) and the
event-study average, for G ∈ {10, 15, 30} clusters with 2–5 treated, AR(1) errors and heteroskedastic
clusters. The design is in tests/coverage_sim.py; tests/test_methods_coverage.py runs a subset.

Usage: ``.venv/bin/python bench/few_cluster_coverage.py [--reps 300] [--seed 1]``

Prints one row per (estimator, G, treated): coverage and its Monte Carlo SE. The figures in
docs/methods.md come from this command with the defaults.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from coverage_sim import coverage  # noqa: E402

CELLS = [(10, 2), (10, 3), (15, 3), (15, 5), (30, 2), (30, 5)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print("| estimator | G | treated | coverage | MC SE | seconds |")
    print("|---|---|---|---|---|---|")
    for est in ("twfe", "staggered", "event_study"):
        for g, g1 in CELLS:
            start = time.perf_counter()
            cov = coverage(est, g, g1, args.reps, args.seed)
            se = (cov * (1 - cov) / args.reps) ** 0.5
            secs = time.perf_counter() - start
            print(f"| {est} | {g} | {g1} | {cov:.3f} | {se:.3f} | {secs:.0f} |", flush=True)


if __name__ == "__main__":
    main()

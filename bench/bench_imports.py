"""Benchmark: the cost of `import ebpm` and a first estimator call in a new process, against `import pandas`.

Run from the project root::

    .venv/bin/python bench/bench_imports.py [--rounds N]

Each case is a new Python process (the way a planner's kernel, a CLI call or a report kernel starts),
timed on the wall clock, rounds interleaved so that load from other processes hits every case alike:

- baseline: ``import pandas``;
- ``import ebpm`` alone (the lazy public API: should pull almost nothing);
- ``import ebpm; ebpm.did`` (attribute access imports the estimator and what it needs: statsmodels);
- ``import ebpm; ebpm.load`` (the data layer: duckdb, no statsmodels/altair).

Also records which heavy modules each case imported (statsmodels, altair, scipy) from ``sys.modules``,
so that a regression in laziness shows up as a name, not only as a number. Goal (issue 13):
``import ebpm; ebpm.did`` ≤ 1.5 × ``import pandas``. Results go to bench/results/imports.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ["pandas", "duckdb", "statsmodels", "scipy", "altair", "vl_convert"]
CASES = {
    "import pandas": "import pandas",
    "import ebpm": "import ebpm",
    "import ebpm; ebpm.did": "import ebpm; ebpm.did",
    "import ebpm; ebpm.load": "import ebpm; ebpm.load",
}
PROBE = "\nimport json, sys\nprint(json.dumps([m for m in {heavy!r} if m in sys.modules]))\n"


def run(code: str) -> tuple[float, list[str]]:
    t = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code + PROBE.format(heavy=HEAVY)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    elapsed = time.perf_counter() - t
    if done.returncode != 0:
        raise SystemExit(f"failed: {code}\n{done.stderr[-2000:]}")
    return elapsed, json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7, help="interleaved rounds (median is reported)")
    args = ap.parse_args()
    for code in CASES.values():  # warm the OS file cache once, untimed
        run(code)
    times: dict[str, list[float]] = {name: [] for name in CASES}
    loaded: dict[str, list[str]] = {}
    for _ in range(args.rounds):
        for name, code in CASES.items():
            elapsed, modules = run(code)
            times[name].append(elapsed)
            loaded[name] = modules
    med = {name: round(statistics.median(v), 3) for name, v in times.items()}
    base = med["import pandas"]
    report = {
        "machine": {"cpus": os.cpu_count(), "load_1m": os.getloadavg()[0]},
        "rounds": args.rounds,
        "median_s": med,
        "ratio_over_import_pandas": {name: round(v / base, 3) for name, v in med.items()},
        "heavy_modules_loaded": loaded,
        "goal": "import ebpm; ebpm.did ≤ 1.5 × import pandas",
    }
    out = ROOT / "bench" / "results" / "imports.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    for name in CASES:
        print(
            f"{name:<26} {med[name]:6.3f}s  {report['ratio_over_import_pandas'][name]:5.2f}× pandas"
            f"  loads: {', '.join(loaded[name]) or '-'}"
        )
    print(f"goal: {report['goal']} → {out}")


if __name__ == "__main__":
    main()

"""Benchmark: a report kernel forked from a pre-imported parent against a new process (issue 13, point 2).

Run from the project root::

    .venv/bin/python bench/bench_fork.py [--rounds N]

Times (wall clock, medians) what a kernel pays before it can run a report:

- new process: a new Python that imports what the warm spare imports (``HOUSE_WARMUP``'s libraries and
  ipykernel) and starts vl-convert's engine;
- fork: a parent that has imported the same libraries forks; the child only starts vl-convert's engine
  (a JavaScript engine with its own threads, which cannot be inherited across a fork).

It also lists the native threads the parent has at the moment of the fork: a fork copies only the calling
thread, so any other thread's locks (OpenBLAS workers, pyarrow's jemalloc background thread) are copied in
whatever state they were, which is why CPython 3.12 warns against forking a multi-threaded process.
Results go to bench/results/fork.json; the decision they support is written in docs/reports.md.
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
IMPORTS = (
    "import numpy, pandas, duckdb, scipy.stats, statsmodels.api, altair, IPython.display\n"
    "import ebpm.report.kernel, ebpm.data.access, ebpm.disclosure.protect, ebpm.methods.did\n"
    "import ipykernel.kernelapp\n"
)
CHILD = "import ebpm.charts.core as c\nc.warm_renderer()\n"


def new_process() -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", IMPORTS + CHILD], check=True)
    return time.perf_counter() - t


def forked(rounds: int) -> tuple[list[float], list[str]]:
    exec(IMPORTS, {})
    threads = sorted(
        Path(f"/proc/self/task/{t}/comm").read_text().strip() for t in os.listdir("/proc/self/task")
    )
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        pid = os.fork()
        if pid == 0:  # the child: what a forked kernel would still have to do
            code = 0
            try:
                exec(CHILD, {})
            except BaseException:
                code = 1
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        if status != 0:
            raise SystemExit("the forked child failed")
        times.append(time.perf_counter() - t)
    return times, threads


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    fresh = [new_process() for _ in range(args.rounds)]
    fork_times, threads = forked(args.rounds)
    report = {
        "machine": {"cpus": os.cpu_count(), "load_1m": round(os.getloadavg()[0], 2)},
        "rounds": args.rounds,
        "new_process_s": round(statistics.median(fresh), 3),
        "fork_s": round(statistics.median(fork_times), 3),
        "ratio_fork_over_new_process": round(
            statistics.median(fork_times) / statistics.median(fresh), 3
        ),
        "native_threads_in_parent_at_fork": threads,
    }
    out = ROOT / "bench" / "results" / "fork.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    print(
        f"new process {report['new_process_s']}s, fork {report['fork_s']}s "
        f"→ {report['ratio_fork_over_new_process']}×; threads at fork: {threads}"
    )
    print(f"→ {out}")


if __name__ == "__main__":
    main()

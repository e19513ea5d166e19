"""Benchmark: the eight study-library templates as `make demo` renders them, against a new kernel each.

Run from the project root::

    .venv/bin/python bench/bench_library.py [--pdf] [--towns N | --all-towns] [--workers N] [--towns-only]

It builds the whole catalog into a temporary curated database, then times (wall clock, same machine):

- baseline: the eight templates one after the other, ``ebpm run --cold`` (a new kernel each, no spare);
- make demo: the same renders as the Makefile's ``reports`` target (``ebpm run`` one after the other;
  each run adopts the warm spare kernel the previous one left);
- one batch: the eight templates as one batch in this process (``ebpm.report.batch.run_batch``, kernels
  reused between reports with the namespace reset, ``--workers`` processes);
- ``population_profile`` over 町字: ``ebpm run population_profile --grid`` over the first N towns
  (``--all-towns``: ``--over town=all``, about 300 reports), per-report cost on a warm pool.

Ratios (baseline ÷ variant) and the per-template split (kernel start, warm-up, execute, HTML, PDF) from
each report's result.json go to stdout and bench/results/library.json. PDFs are off unless ``--pdf``
(CPU is scarce on the shared machine; the split then shows PDF as 0).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TEMPLATES = [
    "dx_kpi_dashboard",
    "did_study",
    "its_study",
    "rdd_study",
    "synth_study",
    "population_profile",
    "survey_analysis",
    "power_plan",
]
SPLIT = ("kernel_start", "kernel_ready", "execute", "html", "pdf")


def sh(cmd: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{done.stderr[-2000:]}")
    return elapsed


def run_one(template: str, out: Path, env: dict[str, str], *, pdf: bool, cold: bool) -> dict:
    cmd = [str(BIN / "ebpm"), "run", template, "--out", str(out)]
    cmd += [] if pdf else ["--no-pdf"]
    cmd += ["--cold"] if cold else ["--keep-warm"]
    total = sh(cmd, env)
    res = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert res["status"] == "ok", res["error"]
    return {"total": round(total, 2), "timings": res.get("timings", {})}


def sequence(work: Path, name: str, env: dict[str, str], *, pdf: bool, cold: bool) -> dict:
    t = time.perf_counter()
    per = {tpl: run_one(tpl, work / name / tpl, env, pdf=pdf, cold=cold) for tpl in TEMPLATES}
    return {"wall": round(time.perf_counter() - t, 2), "per_template": per}


def one_batch(work: Path, env: dict[str, str], *, pdf: bool, workers: int) -> dict:
    os.environ.update(env)
    from ebpm.report import batch

    jobs = []
    for tpl in TEMPLATES:
        jobs += batch.plan(tpl, [{}], out_root=work / "batch" / tpl)
    t = time.perf_counter()
    outcomes = batch.run_batch(jobs, workers=workers, pdf=pdf)
    wall = time.perf_counter() - t
    bad = [o for o in outcomes if o.status != "ok"]
    assert not bad, [o.error for o in bad]
    return {"wall": round(wall, 2), "workers": workers}


def towns(work: Path, env: dict[str, str], *, n: int | None, workers: int) -> dict:
    cmd = [str(BIN / "ebpm"), "run", "population_profile", "--no-pdf", "--workers", str(workers)]
    cmd += ["--out", str(work / "towns")]
    if n is None:
        cmd += ["--over", "town=all"]
        code = "from ebpm.studies.queries import town_choices; print(len(town_choices()))"
        count = int(
            subprocess.run(
                [sys.executable, "-c", code], env=env, capture_output=True, text=True
            ).stdout
        )
    else:
        code = "import json; from ebpm.studies.queries import town_choices; print(json.dumps(town_choices()[1:]))"
        names = json.loads(
            subprocess.run(
                [sys.executable, "-c", code], env=env, capture_output=True, text=True
            ).stdout
        )
        step = max(1, len(names) // n)
        picked = names[::step][:n]
        grid = work / "towns.yml"
        grid.write_text(
            yaml.safe_dump([{"town": t} for t in picked], allow_unicode=True), encoding="utf-8"
        )
        cmd += ["--grid", str(grid)]
        count = len(picked)
    wall = sh(cmd, env)
    return {
        "reports": count,
        "wall": round(wall, 2),
        "per_report_s": round(wall / count, 2),
        "workers": workers,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pdf", action="store_true", help="also print PDFs (slow on a shared machine)")
    ap.add_argument("--towns", type=int, default=12, help="population_profile over this many 町字")
    ap.add_argument("--all-towns", action="store_true", help="--over town=all (about 300 reports)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument(
        "--towns-only",
        action="store_true",
        help="only population_profile over 町字 (skips the eight-template sequences)",
    )
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="ebpm-bench-library-"))
    env = {**os.environ}
    env.update(
        EBPM_CURATED=str(work / "curated"),
        EBPM_REPORTS=str(work / "reports"),
        JUPYTER_RUNTIME_DIR=str(work / "runtime"),
        PYDEVD_DISABLE_FILE_VALIDATION="1",
    )
    sh([str(BIN / "ebpm"), "build", "-q"], env)
    run_one("power_plan", work / "warm-cache", env, pdf=args.pdf, cold=True)  # OS file cache
    if args.towns_only:
        profile = towns(work, env, n=None if args.all_towns else args.towns, workers=args.workers)
        print(
            f"population_profile over {profile['reports']} 町字: {profile['wall']:.1f} s, "
            f"{profile['per_report_s']:.2f} s per report ({profile['workers']} workers, warm pool)"
        )
        return

    baseline = sequence(work, "cold", env, pdf=args.pdf, cold=True)
    demo = sequence(work, "demo", env, pdf=args.pdf, cold=False)
    batched = one_batch(work, env, pdf=args.pdf, workers=args.workers)
    profile = towns(work, env, n=None if args.all_towns else args.towns, workers=args.workers)

    result = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "pdf": args.pdf,
        "baseline_cold_sequential": baseline,
        "make_demo_sequential_warm": demo,
        "one_batch": batched,
        "ratio_baseline_over_make_demo": round(baseline["wall"] / demo["wall"], 2),
        "ratio_baseline_over_one_batch": round(baseline["wall"] / batched["wall"], 2),
        "population_profile_towns": profile,
    }
    print(f"eight templates, new kernel each: {baseline['wall']:.1f} s")
    print(
        f"make demo (warm spare adopted):  {demo['wall']:.1f} s  ratio {result['ratio_baseline_over_make_demo']}×"
    )
    print(
        f"one batch ({args.workers} workers):       {batched['wall']:.1f} s  ratio {result['ratio_baseline_over_one_batch']}×"
    )
    print(
        "per template (cold): "
        + ", ".join(f"{t} {v['total']:.1f}s" for t, v in baseline["per_template"].items())
    )
    for tpl, v in baseline["per_template"].items():
        split = " ".join(f"{k}={v['timings'].get(k, 0) or 0:.2f}" for k in SPLIT)
        print(f"  {tpl:20s} cold {split}")
    for tpl, v in demo["per_template"].items():
        split = " ".join(f"{k}={v['timings'].get(k, 0) or 0:.2f}" for k in SPLIT)
        print(f"  {tpl:20s} demo {split}")
    print(
        f"population_profile over {profile['reports']} 町字: {profile['wall']:.1f} s, "
        f"{profile['per_report_s']:.2f} s per report ({profile['workers']} workers, warm pool)"
    )
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "library.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8"
    )


if __name__ == "__main__":
    main()

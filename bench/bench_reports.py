"""Benchmark: `ebpm run` against naive `papermill` + `jupyter nbconvert --no-input`, single and batch of 24.

Run from the project root::

    .venv/bin/python bench/bench_reports.py [--naive-sample N] [--workers N]

It builds the six DX tables into a temporary curated database, then times (wall clock, same machine,
same notebook and parameters):

- naive single: `papermill` CLI, then `jupyter nbconvert --to html --no-input` (no PDF);
- ebpm single: `ebpm run` with PDF, and with `--no-pdf` (cold: a new kernel each time);
- ebpm single, warm: `ebpm run` handed to the warm service an earlier `ebpm run --keep-warm` left
  (ebpm.report.service: pipeline imported, Chromium up), which runs the notebook on the spare kernel;
- naive batch: the naive pair in a sequential loop over 24 parameter sets (``--naive-sample N`` times
  only the first N and scales up linearly; the JSON says so);
- ebpm batch: `ebpm run --grid` over the same 24 sets (PDFs included).

Ratios are printed and written with a breakdown (kernel start, warm-up imports, execution, HTML, PDF)
to bench/results/reports.json. Goals (issue 13): single with a new kernel ≤ 0.5× naive, with a warm spare ≤ 0.15×; batch ≥ 10× faster than naive.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TEMPLATE = "dx_kpi_dashboard"
TABLES = [
    "procedure",
    "procedure_usage",
    "core_system",
    "staff_training",
    "digital_workshop",
    "counter_visit",
]
KERNEL_BOOT = """
from jupyter_client.manager import start_new_kernel
km, kc = start_new_kernel(kernel_name="python3")
kc.stop_channels()
km.shutdown_kernel(now=True)
"""
GRID = [
    {"start_fy": s, "end_fy": e, "projection_to_fy": p}
    for s, e, p in itertools.product([2021, 2022, 2023], [2024, 2025], [2027, 2028, 2029, 2030])
]


def children_cpu() -> float:
    """User + system CPU-seconds of the child processes this script has waited for so far."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def sh(cmd: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{done.stderr[-2000:]}")
    return elapsed


def naive_one(nb: Path, params: dict, out: Path, env: dict[str, str]) -> dict[str, float]:
    out.mkdir(parents=True, exist_ok=True)
    executed = out / "executed.ipynb"
    cmd = [str(BIN / "papermill"), str(nb), str(executed), "-k", "python3", "--no-progress-bar"]
    for k, v in params.items():
        cmd += ["-p", k, str(v)]
    t_pm = sh(cmd, env)
    t_nb = sh([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(executed)], env)
    return {"papermill": t_pm, "nbconvert": t_nb, "total": t_pm + t_nb}


def ebpm_one(
    params: dict,
    out: Path,
    env: dict[str, str],
    pdf: bool,
    keep_warm: bool = False,
    cold: bool = False,
) -> dict:
    cmd = [str(BIN / "ebpm"), "run", TEMPLATE, "--out", str(out)] + ([] if pdf else ["--no-pdf"])
    cmd += ["--cold"] if cold else (["--keep-warm"] if keep_warm else ["--no-keep-warm"])
    for k, v in params.items():
        cmd += ["-p", f"{k}={v}"]
    total = sh(cmd, env)
    res = json.loads((out / "result.json").read_text(encoding="utf-8"))
    return {"total": total, "timings": res["timings"]}


def wait_for_spare(env: dict[str, str]) -> None:
    code = (
        "import sys\nfrom ebpm.report import service, warm\n"
        "keys = [p.stem for p in warm.warm_dir().glob('*.json')\n"
        "        if not p.name.startswith(('kernel-', 'service-'))]\n"
        "ok = keys and warm.wait_warm(keys[0], 300) and service.wait_ready(keys[0], 300)\n"
        "sys.exit(0 if ok else 1)\n"
    )
    sh([sys.executable, "-c", code], env)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--naive-sample", type=int, default=len(GRID), help="naive batch: time only N sets"
    )
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the single runs")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="ebpm-bench-"))
    env = {**os.environ}
    env.update(
        EBPM_CATALOG=str(work / "catalog"),
        EBPM_CURATED=str(work / "curated"),
        EBPM_REPORTS=str(work / "reports"),
        JUPYTER_RUNTIME_DIR=str(work / "runtime-cold"),  # cold runs never find a spare kernel
        PYDEVD_DISABLE_FILE_VALIDATION="1",
    )
    (work / "catalog").mkdir()
    for t in TABLES:
        shutil.copy(ROOT / "data" / "catalog" / f"{t}.yml", work / "catalog")
    sh([str(BIN / "ebpm"), "build", "-q"], env)
    nb = ROOT / "notebooks" / "templates" / f"{TEMPLATE}.ipynb"
    first = GRID[0]

    # warm the OS file cache once so neither side pays for cold disk reads
    naive_one(nb, first, work / "warm-naive", env)
    ebpm_one(first, work / "warm-ebpm", env, pdf=True, cold=True)

    # Single runs, interleaved round by round so that load from other processes hits every variant
    # alike. Warm: the previous `ebpm run --keep-warm` left a spare kernel that has finished warming
    # (a planner reading one report before running the next); the next run adopts it. The spare
    # warms between rounds (wait_for_spare), never while another variant is being timed.
    env_warm = {**env, "JUPYTER_RUNTIME_DIR": str(work / "runtime-warm")}
    ebpm_one(first, work / "ebpm-warm-0", env_warm, pdf=True, keep_warm=True)
    wait_for_spare(env_warm)
    naive_single, ebpm_single, ebpm_single_nopdf, ebpm_single_warm = [], [], [], []
    for i in range(args.rounds):
        naive_single.append(naive_one(nb, first, work / f"naive-single-{i}", env))
        ebpm_single.append(ebpm_one(first, work / f"ebpm-single-{i}", env, pdf=True, cold=True))
        ebpm_single_nopdf.append(
            ebpm_one(first, work / f"ebpm-nopdf-{i}", env, pdf=False, cold=True)
        )
        last = i == args.rounds - 1
        ebpm_single_warm.append(
            ebpm_one(first, work / f"ebpm-warm-{i + 1}", env_warm, pdf=True, keep_warm=not last)
        )
        if not last:
            wait_for_spare(env_warm)

    sample = GRID[: max(1, min(args.naive_sample, len(GRID)))]
    t, cpu0 = time.perf_counter(), children_cpu()
    naive_batch_runs = [
        naive_one(nb, p, work / f"naive-batch-{i}", env) for i, p in enumerate(sample)
    ]
    naive_batch_measured = time.perf_counter() - t
    naive_batch = naive_batch_measured * len(GRID) / len(sample)
    naive_batch_cpu = (children_cpu() - cpu0) * len(GRID) / len(sample)

    grid_file = work / "grid.yml"
    grid_file.write_text(json.dumps(GRID), encoding="utf-8")  # JSON is YAML
    cpu0 = children_cpu()
    t_batch = sh(
        [str(BIN / "ebpm"), "run", TEMPLATE, "--grid", str(grid_file), "--out", str(work / "ebpm-batch"),
         "--workers", str(args.workers)],
        env,
    )  # fmt: skip
    batch_cpu = children_cpu() - cpu0
    batch_results = [json.loads(p.read_text()) for p in (work / "ebpm-batch").glob("*/result.json")]
    assert len(batch_results) == len(GRID) and all(r["status"] == "ok" for r in batch_results)

    # where start-up time goes, measured alone
    import nbformat
    from ebpm.report.runner import warmup_source

    warm_code = warmup_source(nbformat.read(nb, as_version=4))
    parts = {
        "python_start_s": sh([sys.executable, "-c", "pass"], env),
        "papermill_import_s": sh([sys.executable, "-c", "import papermill"], env),
        "template_imports_s": sh([sys.executable, "-c", warm_code], env),
        "kernel_boot_s": sh([sys.executable, "-c", KERNEL_BOOT], env),
    }

    def med(values: list[float]) -> float:
        return round(statistics.median(values), 3)

    def breakdown(results: list[dict]) -> dict[str, float]:
        keys = ["kernel_start", "kernel_ready", "execute", "html", "pdf"]
        return {k: med([r["timings"].get(k, 0.0) for r in results]) for k in keys}

    n_single = med([r["total"] for r in naive_single])
    e_single = med([r["total"] for r in ebpm_single])
    e_single_nopdf = med([r["total"] for r in ebpm_single_nopdf])
    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_1m": os.getloadavg()[0],
        },
        "template": TEMPLATE,
        "startup_parts": {k: (round(v, 3) if v is not None else None) for k, v in parts.items()},
        "single": {
            "naive_s": n_single,
            "naive_breakdown": {
                "papermill_cli": med([r["papermill"] for r in naive_single]),
                "nbconvert_cli": med([r["nbconvert"] for r in naive_single]),
            },
            "ebpm_s": e_single,
            "ebpm_no_pdf_s": e_single_nopdf,
            "ebpm_breakdown": breakdown(ebpm_single),
            "ebpm_warm_s": med([r["total"] for r in ebpm_single_warm]),
            "ebpm_warm_breakdown": breakdown(ebpm_single_warm),
            "ratio_ebpm_warm_over_naive": round(
                med([r["total"] for r in ebpm_single_warm]) / n_single, 3
            ),
            "ratio_ebpm_over_naive": round(e_single / n_single, 3),
            "ratio_ebpm_no_pdf_over_naive": round(e_single_nopdf / n_single, 3),
            "goal": "≤ 0.5 (new kernel), ≤ 0.15 (warm)",
        },
        "batch": {
            "n": len(GRID),
            "workers": args.workers,
            "naive_s": round(naive_batch, 2),
            "naive_measured_sets": len(sample),
            "naive_extrapolated": len(sample) < len(GRID),
            "naive_per_report_s": med([r["total"] for r in naive_batch_runs]),
            "ebpm_s": round(t_batch, 2),
            "ebpm_per_report_breakdown": breakdown(batch_results),
            "speedup_naive_over_ebpm": round(naive_batch / t_batch, 2),
            # CPU-seconds of the processes each side started (and reaped): a 2-core batch is bound by
            # CPU, and this ratio moves less than the wall-clock one when other work shares the machine
            "naive_cpu_s": round(naive_batch_cpu, 1),
            "ebpm_cpu_s": round(batch_cpu, 1),
            "cpu_ratio_naive_over_ebpm": round(naive_batch_cpu / batch_cpu, 2),
            "goal": "≥ 10",
            "ebpm_includes_pdf": True,
            "naive_includes_pdf": False,
        },
    }
    out = ROOT / "bench" / "results" / "reports.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    s, b = report["single"], report["batch"]
    print(f"single: naive {s['naive_s']}s, ebpm {s['ebpm_s']}s (PDF 込み) → {s['ratio_ebpm_over_naive']}×"
          f"（PDF なし {s['ebpm_no_pdf_s']}s → {s['ratio_ebpm_no_pdf_over_naive']}×、目標 ≤ 0.5）")  # fmt: skip
    print(f"  naive: {s['naive_breakdown']}  ebpm: {s['ebpm_breakdown']}")
    print(f"single with a warm spare kernel (--keep-warm): ebpm {s['ebpm_warm_s']}s (PDF 込み) → "
          f"{s['ratio_ebpm_warm_over_naive']}×  {s['ebpm_warm_breakdown']}")  # fmt: skip
    print(f"batch of {b['n']}: naive {b['naive_s']}s"
          f"{'（' + str(b['naive_measured_sets']) + '組から外挿）' if b['naive_extrapolated'] else ''}, "
          f"ebpm {b['ebpm_s']}s ({b['workers']} workers, PDF 込み) → {b['speedup_naive_over_ebpm']}× faster（目標 ≥ 10）")  # fmt: skip
    print(f"  ebpm per report: {b['ebpm_per_report_breakdown']}")
    print(f"  start-up parts (each alone): {report['startup_parts']}")
    print(f"→ {out}")
    stop = (
        "from ebpm.report import warm; warm.stop_all()"  # the warm kernel and printer left behind
    )
    sh([sys.executable, "-c", stop], env_warm)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

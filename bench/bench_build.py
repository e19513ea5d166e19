"""Benchmark `ebpm build` against a bare DuckDB CSV load (5M rows; UTF-8 and CP932), time and peak memory.

Usage: ``.venv/bin/python bench/bench_build.py [--rows 5000000] [--repeat 3]``

Each case runs in its own Python subprocess, which reports its wall time and peak RSS
(``getrusage``). Ratios are against bare DuckDB ``CREATE TABLE t AS SELECT * FROM read_csv(...)``
on the UTF-8 file, measured in the same run. Goals: UTF-8 ≤ 1.5×, CP932 ≤ 3×, peak < 2 GB.
Results go to bench/results/build.json (git-ignored).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
GOALS = {"utf8_ratio": 1.5, "cp932_ratio": 3.0, "peak_mb": 2048}

CATALOG = """\
name: bench_t
title: ベンチマーク用の表（模擬データ）
synthetic: true
sources:
  - {{name: src, path: bench/{file}, reader: csv, options: {{encoding: {encoding}}}}}
schema:
  fields:
    - {{name: id, type: integer, title: ID, constraints: {{required: true}}}}
    - {{name: area_code, type: string, title: 団体コード, constraints: {{pattern: '^\\d{{5}}$'}}}}
    - {{name: date, type: date, title: 日付}}
    - {{name: procedure, type: string, title: 手続}}
    - {{name: town, type: string, title: 町名}}
    - {{name: amount, type: number, title: 金額, unit: 円}}
    - {{name: visits, type: integer, title: 件数, unit: 件, constraints: {{minimum: 0}}}}
    - {{name: note, type: string, title: 備考}}
  primaryKey: [id]
checks:
  - {{type: row_count, min: 1}}
"""


def generate(folder: Path, rows: int) -> tuple[Path, Path]:
    """Write the same rows as UTF-8 (by DuckDB) and CP932 (streamed by Python); deterministic."""
    import duckdb

    utf8 = folder / "bench_utf8.csv"
    cp932 = folder / "bench_cp932.csv"
    procedures = [
        "住民票の写し",
        "印鑑登録証明書",
        "戸籍謄本",
        "転入届",
        "児童手当の申請",
        "税務証明",
    ]
    towns = ["中央通１丁目", "大通三丁目", "本町通", "菜園二丁目", "上田四丁目", "津志田", "みたけ"]
    con = duckdb.connect()
    con.execute(
        f"""
        COPY (
          SELECT i AS id,
                 '03' || lpad(CAST(201 + i % 33 AS VARCHAR), 3, '0') AS area_code,
                 DATE '2024-04-01' + CAST(i % 365 AS INTEGER) AS date,
                 list_element($procs, CAST(i % 6 AS INTEGER) + 1) AS procedure,
                 list_element($towns, CAST(i % 7 AS INTEGER) + 1) AS town,
                 round((i * 7919 % 100000) / 7.0, 2) AS amount,
                 CAST(i * 31 % 50 AS INTEGER) AS visits,
                 CASE WHEN i % 10 = 0 THEN '窓口で受付（模擬データ）' ELSE NULL END AS note
          FROM range({int(rows)}) t(i)
        ) TO '{utf8}' (HEADER, DELIMITER ',')
        """,
        {"procs": procedures, "towns": towns},
    )
    con.close()
    with (
        open(utf8, encoding="utf-8", newline="") as fi,
        open(cp932, "w", encoding="cp932", newline="") as fo,
    ):
        while chunk := fi.read(1 << 22):
            fo.write(chunk)
    return utf8, cp932


def make_project(root: Path, csv: Path, encoding: str) -> dict[str, str]:
    raw = root / "raw" / "bench"
    raw.mkdir(parents=True)
    os.link(csv, raw / csv.name)
    digest = hashlib.sha256()
    with open(csv, "rb") as fh:
        while block := fh.read(1 << 22):
            digest.update(block)
    (raw / "SOURCE.yml").write_text(
        "source: bench\ntitle_ja: ベンチマーク（模擬データ）\npublisher: ebpm\nlicence: CC0 1.0\n"
        "attribution: 模擬データ\nretrieved: null\norigin: {generator: bench/bench_build.py}\n"
        f"synthetic: true\nfiles:\n  - {{path: {csv.name}, sha256: {digest.hexdigest()}}}\n",
        encoding="utf-8",
    )
    (root / "catalog").mkdir()
    (root / "catalog" / "bench_t.yml").write_text(
        CATALOG.format(file=csv.name, encoding=encoding), encoding="utf-8"
    )
    (root / "curated").mkdir()
    return {
        "EBPM_RAW": str(root / "raw"),
        "EBPM_CATALOG": str(root / "catalog"),
        "EBPM_CURATED": str(root / "curated"),
    }


def child(case: str, arg: str) -> None:
    """Run one case in this process; print JSON with seconds and peak RSS (MB)."""
    import resource

    start = time.perf_counter()
    if case == "duckdb":
        import duckdb

        out = Path(arg).with_suffix(".bare.duckdb")
        out.unlink(missing_ok=True)
        con = duckdb.connect(str(out))
        con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{arg}')")
        rows = con.execute("SELECT count(*) FROM t").fetchall()[0][0]
        con.close()
        out.unlink()
    else:
        from ebpm.data.builder import build

        manifest = build()
        rows = manifest["tables"]["bench_t"]["rows"]
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "rows": rows}))


def run_case(case: str, arg: str, env: dict[str, str]) -> dict[str, float]:
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, __file__, "--child", case, arg],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"{case} が失敗しました:\n{out.stderr}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["process_seconds"] = (
        time.perf_counter() - start
    )  # includes interpreter start and imports
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("CASE", "ARG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    with tempfile.TemporaryDirectory(prefix="ebpm-bench-") as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        utf8, cp932 = generate(tmp, args.rows)
        print(
            f"生成: {args.rows:,}行  UTF-8 {utf8.stat().st_size / 1e6:.0f} MB / CP932 "
            f"{cp932.stat().st_size / 1e6:.0f} MB（{time.perf_counter() - t0:.1f}秒）"
        )
        env_utf8 = make_project(tmp / "p_utf8", utf8, "utf-8")
        env_cp932 = make_project(tmp / "p_cp932", cp932, "cp932")
        cases = {
            "duckdb_bare": ("duckdb", str(utf8), {}),
            "ebpm_build_utf8": ("build", "-", env_utf8),
            "ebpm_build_cp932": ("build", "-", env_cp932),
        }
        results: dict[str, list[dict[str, float]]] = {k: [] for k in cases}
        for i in range(args.repeat):
            for name, (case, arg, env) in cases.items():  # interleaved so that noise hits all cases
                r = run_case(case, arg, env)
                results[name].append(r)
                print(
                    f"  {i + 1}/{args.repeat} {name:18s} {r['seconds']:6.2f}秒  最大メモリ {r['peak_mb']:7.0f} MB"
                )

    def med(name: str, key: str) -> float:
        return statistics.median(r[key] for r in results[name])

    base = med("duckdb_bare", "seconds")
    summary = {
        "rows": args.rows,
        "repeat": args.repeat,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "median_seconds": {k: med(k, "seconds") for k in results},
        "median_process_seconds": {k: med(k, "process_seconds") for k in results},
        "peak_mb": {k: max(r["peak_mb"] for r in results[k]) for k in results},
        "utf8_ratio": med("ebpm_build_utf8", "seconds") / base,
        "cp932_ratio": med("ebpm_build_cp932", "seconds") / base,
        "goals": GOALS,
        "runs": results,
    }
    # each round runs the three cases back to back: the per-round ratio is less exposed to other load
    summary["paired_ratio_median"] = {
        k: statistics.median(
            r["seconds"] / b["seconds"]
            for r, b in zip(results[k], results["duckdb_bare"], strict=True)
        )
        for k in ("ebpm_build_utf8", "ebpm_build_cp932")
    }
    summary["peak_mb_max"] = max(summary["peak_mb"].values())
    summary["goals_met"] = {
        "utf8_ratio": summary["utf8_ratio"] <= GOALS["utf8_ratio"],
        "cp932_ratio": summary["cp932_ratio"] <= GOALS["cp932_ratio"],
        "peak_mb": summary["peak_mb_max"] < GOALS["peak_mb"],
    }
    out = HERE / "results" / "build.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    print(
        f"UTF-8: {summary['utf8_ratio']:.2f}×（目標 ≤ {GOALS['utf8_ratio']}×）  "
        f"CP932: {summary['cp932_ratio']:.2f}×（目標 ≤ {GOALS['cp932_ratio']}×）  "
        f"最大メモリ {summary['peak_mb_max']:.0f} MB（目標 < {GOALS['peak_mb']} MB）"
    )
    paired = summary["paired_ratio_median"]
    print(
        f"回ごとの比の中央値: UTF-8 {paired['ebpm_build_utf8']:.2f}×、CP932 {paired['ebpm_build_cp932']:.2f}×"
    )
    print(f"結果: {out}")


if __name__ == "__main__":
    main()

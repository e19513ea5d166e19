"""Benchmark `ebpm publish population --areas 03` (all Iwate municipalities) against a bare DuckDB COPY.

Usage: ``.venv/bin/python bench/bench_publish.py [--repeat 3]`` (needs ``ebpm build`` first).

The baseline is DuckDB alone writing the same 33 rows (the same pivot to the standard's wide layout)
with ``COPY … TO 'x.csv' (HEADER)`` from the curated database. ``ebpm publish`` adds the standard's
header and types, disclosure suppression with LP verification, the machine-readability check,
Frictionless validation, the atomic swap, the log and the catalogue page. Both run warm (imports and
a first run excluded); the first, cold publish is reported separately. Results go to
bench/results/publish.json (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

PIVOT = """
COPY (
  WITH p AS (
    SELECT m.code6, m.name, a.date,
           CASE WHEN a.age_from >= 85 THEN '85歳以上' ELSE a.age_band || '歳' END
             || 'の' || CASE a.sex WHEN 'male' THEN '男性' ELSE '女性' END AS col,
           a.population
    FROM population_by_age a JOIN municipality m ON m.code5 = a.area_code
    WHERE starts_with(a.area_code, '03') AND m.level = 'municipality' AND a.sex <> 'total'
  )
  PIVOT p ON col USING sum(population) GROUP BY code6, name, date ORDER BY code6
) TO '{target}' (HEADER, DELIMITER ',')
"""


def _duckdb_copy(target: Path) -> float:
    import duckdb
    from ebpm.config import paths

    start = time.perf_counter()
    con = duckdb.connect(str(paths().database), read_only=True)
    con.execute(PIVOT.format(target=str(target).replace("'", "''")))
    con.close()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    start = time.perf_counter()
    from ebpm.publish import publish

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        result = publish("population", out=out / "cold", areas="03")
        cold = time.perf_counter() - start
        _duckdb_copy(out / "warm.csv")
        ours, base = [], []
        for i in range(args.repeat):
            t0 = time.perf_counter()
            publish("population", out=out / f"run{i}", areas="03")
            ours.append(time.perf_counter() - t0)
            base.append(_duckdb_copy(out / f"copy{i}.csv"))
        rows = sum(1 for _ in open(out / f"copy{args.repeat - 1}.csv", encoding="utf-8")) - 1
    med_ours, med_base = statistics.median(ours), statistics.median(base)
    report = {
        "rows": result["rows"],
        "duckdb_copy_rows": rows,
        "cold_publish_s": round(cold, 3),
        "publish_s": round(med_ours, 3),
        "duckdb_copy_s": round(med_base, 4),
        "ratio": round(med_ours / med_base, 1),
        "repeat": args.repeat,
        "python": sys.version.split()[0],
    }
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "publish.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(
        f"population（岩手県 {report['rows']} 市町村）: ebpm publish {med_ours:.2f} s / "
        f"DuckDB COPY {med_base * 1000:.0f} ms = {report['ratio']}×（初回 {cold:.1f} s、import を含む）"
    )


if __name__ == "__main__":
    main()

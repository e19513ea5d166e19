"""Benchmark: parse_stats_data on a large getStatsData response, as a ratio to json.loads of the same bytes.

Run: ``.venv/bin/python bench/bench_estat_parse.py [copies]``. The response is the recorded 2020 census
response (5,895 VALUEs) from ../shared, with its VALUE list repeated ``copies`` times (default 17, about
100,000 rows, the most one e-Stat page holds). Prints seconds and the ratio parse / json.loads.
"""

from __future__ import annotations

import json
import sys
import time

from ebpm import config
from ebpm.estat.client import parse_stats_data

NAME = "getStatsData_0003433219_census2020_prelim_pop_by_sex_all_municipalities.json"


def main(copies: int = 17) -> None:
    path = config.paths().shared / "data" / "public" / "estat_api_responses" / NAME
    if not path.is_file():
        print(f"記録済み応答がありません: {path}")
        return
    data = json.loads(path.read_text(encoding="utf-8"))
    stat = data["GET_STATS_DATA"]["STATISTICAL_DATA"]
    stat["DATA_INF"]["VALUE"] = stat["DATA_INF"]["VALUE"] * copies
    body = json.dumps(data, ensure_ascii=False)
    parse_stats_data(json.loads(body))  # warm-up: pandas/pyarrow imports

    started = time.perf_counter()
    loaded = json.loads(body)
    baseline = time.perf_counter() - started
    started = time.perf_counter()
    frame = parse_stats_data(loaded)
    parsed = time.perf_counter() - started
    print(
        f"rows={len(frame):,} json.loads={baseline:.3f}s parse={parsed:.3f}s ratio={parsed / baseline:.1f}"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 17)

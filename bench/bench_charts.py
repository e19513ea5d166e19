"""Benchmark: building the DX dashboard's 4 KPI charts with channel objects vs Altair shorthands.

Run from the project root after ``.venv/bin/ebpm build``::

    .venv/bin/python bench/bench_charts.py [--reps N]

Altair 6.3 turns a shorthand string (``y="target:Q"``), a list of them or an ``alt.value(...)`` dict into a
channel object through ``SchemaBase.from_dict``, which builds ``_FromDict`` afresh and json-hashes every
schema class on each call (~10 ms per channel; vega/altair#3547). ``ebpm.charts.kpi.kpi_trend_chart``
passes channel objects (``alt.Y(...)``, ``alt.XValue(0)``) instead. The baseline in this script builds the
same 4 charts from the same data with the shorthands the library used before (``_shorthand_chart``, a
copy of the old code); the script first checks that both give the same Vega-Lite spec.

Timed (median of ``--reps`` runs, same process, same data):

- build: the 4 chart objects (``dx_dashboard(...).charts()`` vs the shorthand copy);
- build + SVG: the same, then ``ebpm.charts.core.to_svg`` of each (the render cache is cleared first,
  so every run renders; vl-convert is started and the fonts are loaded before timing);
- first build in a new process: what a report pays, since it draws its charts once (imports and the
  dashboard's data are loaded before the clock starts; ``--first-reps`` processes per variant).

Ratios (library / shorthand baseline) are printed and written to bench/results/charts.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent


def _shorthand_chart(actual, projection, *, label, unit, target, synthetic):
    """The KPI trend chart as built before issue 13's fix: shorthand strings and ``alt.value``."""
    import altair as alt
    from ebpm.charts.core import FONT, PALETTE, enable_theme
    from ebpm.charts.kpi import ACTUAL, PROJECTED, fy_axis_label

    enable_theme()
    frame = actual[["fy", "value"]].assign(系列=ACTUAL)
    last = frame.tail(1)
    bridge = pd.concat(
        [
            last.assign(系列=PROJECTED, lower=last["value"], upper=last["value"]),
            projection[["fy", "value", "lower", "upper"]].assign(系列=PROJECTED),
        ]
    )
    both = pd.concat([frame, bridge], ignore_index=True)
    both["年度"] = both["fy"].map(fy_axis_label)
    fys = range(int(both["fy"].min()), int(both["fy"].max()) + 1)
    x = alt.X(
        "年度:N",
        sort=[fy_axis_label(fy) for fy in fys],
        title=None,
        axis=alt.Axis(labelAngle=0, labelExpr="split(datum.label, '|')"),
    )
    domain = [ACTUAL, PROJECTED]
    band = alt.Chart(bridge.assign(年度=bridge["fy"].map(fy_axis_label)))
    layers = [
        band.mark_area(opacity=0.18, color=PALETTE[1]).encode(
            x=x, y=alt.Y("lower:Q"), y2="upper:Q"
        ),
        alt.Chart(both)
        .mark_line(point=True)
        .encode(
            x=x,
            y=alt.Y("value:Q", title=f"{label}（{unit}）"),
            color=alt.Color(
                "系列:N", scale=alt.Scale(domain=domain, range=[PALETTE[0], PALETTE[1]]), title=None
            ),
            strokeDash=alt.StrokeDash(
                "系列:N", scale=alt.Scale(domain=domain, range=[[1, 0], [5, 4]]), legend=None
            ),
        ),
    ]
    goal = alt.Chart(pd.DataFrame({"target": [target], "label": [f"目標値 {target:,.0f}{unit}"]}))
    layers.append(goal.mark_rule(color=PALETTE[3], strokeDash=[2, 2]).encode(y="target:Q"))
    layers.append(
        goal.mark_text(align="left", dx=4, dy=-6, color=PALETTE[3]).encode(
            y="target:Q", text="label:N", x=alt.value(0)
        )
    )
    chart = alt.layer(*layers).properties(
        title={"text": label, "subtitle": "帯は見通しの95%予測区間"}, width=560, height=240
    )
    if not synthetic:
        return chart
    caption = (
        alt.Chart(alt.Data(values=[{"t": "※模擬データ。実在の記録ではない。", "i": 0}]))
        .mark_text(align="left", baseline="top", fontSize=11, color="#555", font=FONT)
        .encode(text="t:N", x=alt.value(0), y=alt.Y("i:O", axis=None))
        .properties(height=16, width=560)
    )
    return alt.vconcat(chart, caption, spacing=4)


def _baseline_charts(board) -> list:
    from ebpm.data.kpi import DX_KPIS

    out = []
    for key in board.kpis:
        spec = DX_KPIS[key]
        out.append(
            _shorthand_chart(
                board.actual[board.actual["kpi"] == key],
                board.projections[key].rename(columns={"year": "fy"}),
                label=spec.label,
                unit=spec.unit,
                target=spec.target,
                synthetic=board.synthetic,
            )
        )
    return out


def _median(fn, reps: int) -> float:
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _first_build(variant: str) -> None:
    """Child process: time the first build of the 4 charts (altair and the data already loaded)."""
    import altair  # noqa: F401
    from ebpm.report.kpi import dx_dashboard

    board = dx_dashboard(start_fy=2021, end_fy=2025, projection_to_fy=2027)
    t = time.perf_counter()
    board.charts() if variant == "library" else _baseline_charts(board)
    print(time.perf_counter() - t)


def _first_in_new_process(variant: str, reps: int) -> float:
    times = []
    for _ in range(reps):
        done = subprocess.run(
            [sys.executable, __file__, "--first", variant],
            capture_output=True,
            text=True,
            check=True,
        )
        times.append(float(done.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--first-reps", type=int, default=3)
    parser.add_argument("--first", choices=["library", "shorthand"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "lib"))
    if args.first:
        _first_build(args.first)
        return
    from ebpm.charts import core
    from ebpm.report.kpi import dx_dashboard

    board = dx_dashboard(start_fy=2021, end_fy=2025, projection_to_fy=2027)
    library = [c.to_dict() for c in board.charts()]
    baseline = [c.to_dict() for c in _baseline_charts(board)]
    if library != baseline:
        raise SystemExit("the shorthand baseline no longer draws the library's charts; update it")
    core.warm_renderer()

    def render(charts):
        core._svg_of.cache_clear()
        for chart in charts:
            core.to_svg(chart)

    timings = {
        "build_library_s": _median(board.charts, args.reps),
        "build_shorthand_s": _median(lambda: _baseline_charts(board), args.reps),
        "build_svg_library_s": _median(lambda: render(board.charts()), args.reps),
        "build_svg_shorthand_s": _median(lambda: render(_baseline_charts(board)), args.reps),
        "first_build_library_s": _first_in_new_process("library", args.first_reps),
        "first_build_shorthand_s": _first_in_new_process("shorthand", args.first_reps),
    }
    result = {
        "what": "4 DX dashboard KPI charts: channel objects (library) vs shorthand strings (baseline)",
        "reps": args.reps,
        "python": platform.python_version(),
        **{k: round(v, 4) for k, v in timings.items()},
        "ratio_build": round(timings["build_library_s"] / timings["build_shorthand_s"], 3),
        "ratio_build_svg": round(
            timings["build_svg_library_s"] / timings["build_svg_shorthand_s"], 3
        ),
        "ratio_first_build": round(
            timings["first_build_library_s"] / timings["first_build_shorthand_s"], 3
        ),
    }
    out = ROOT / "bench" / "results" / "charts.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()

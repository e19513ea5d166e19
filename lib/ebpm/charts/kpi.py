"""The KPI trend chart: actuals by fiscal year, the target line and a labelled projection band."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ebpm.charts.core import PALETTE, enable_theme, with_footer
from ebpm.ingest.wareki import fiscal_year_label

ACTUAL = "実績値"
PROJECTED = "見通し（直線）"


def fy_axis_label(fy: int) -> str:
    """Two-line axis label ``令和3年度|（2021年度）`` (split on ``|`` by the axis)."""
    return fiscal_year_label(int(fy)).replace("（", "|（", 1)


def kpi_trend_chart(
    actual: pd.DataFrame,
    projection: pd.DataFrame | None,
    *,
    label: str,
    unit: str,
    target: float,
    synthetic: bool = False,
    width: int = 560,
    height: int = 240,
) -> Any:
    """Line chart of one KPI by fiscal year against its target, with the projection if given.

    Parameters
    ----------
    actual : DataFrame
        ``fy`` and ``value`` of the observed years.
    projection : DataFrame, optional
        ``fy``, ``value``, ``lower``, ``upper`` of the projected years (drawn dashed with a band).
    label, unit : str
        Japanese name and unit of the KPI (the y axis title).
    target : float
        Drawn as a labelled horizontal rule.
    synthetic : bool
        Adds the 模擬データ footer.
    """
    import altair as alt

    enable_theme()
    frame = actual[["fy", "value"]].assign(系列=ACTUAL)
    parts = [frame]
    bridge = None
    if projection is not None and len(projection):
        last = frame.tail(1)
        bridge = pd.concat(
            [
                last.assign(系列=PROJECTED, lower=last["value"], upper=last["value"]),
                projection[["fy", "value", "lower", "upper"]].assign(系列=PROJECTED),
            ]
        )
        parts.append(bridge)
    both = pd.concat(parts, ignore_index=True)
    both["年度"] = both["fy"].map(fy_axis_label)
    fys = range(int(both["fy"].min()), int(both["fy"].max()) + 1)
    x = alt.X(
        "年度:N",
        sort=[fy_axis_label(fy) for fy in fys],
        title=None,
        axis=alt.Axis(labelAngle=0, labelExpr="split(datum.label, '|')"),
    )
    domain = [ACTUAL, PROJECTED] if bridge is not None else [ACTUAL]
    layers = []
    if bridge is not None:
        band = alt.Chart(bridge.assign(年度=bridge["fy"].map(fy_axis_label)))
        layers.append(
            band.mark_area(opacity=0.18, color=PALETTE[1]).encode(
                x=x, y=alt.Y("lower:Q"), y2=alt.Y2("upper:Q")
            )
        )
    layers.append(
        alt.Chart(both)
        .mark_line(point=True)
        .encode(
            x=x,
            y=alt.Y("value:Q", title=f"{label}（{unit}）"),
            color=alt.Color(
                "系列:N",
                scale=alt.Scale(domain=domain, range=[PALETTE[0], PALETTE[1]][: len(domain)]),
                title=None,
            ),
            strokeDash=alt.StrokeDash(
                "系列:N",
                scale=alt.Scale(domain=domain, range=[[1, 0], [5, 4]][: len(domain)]),
                legend=None,
            ),
        )
    )
    goal = alt.Chart(pd.DataFrame({"target": [target], "label": [f"目標値 {target:,.0f}{unit}"]}))
    layers.append(goal.mark_rule(color=PALETTE[3], strokeDash=[2, 2]).encode(y=alt.Y("target:Q")))
    layers.append(
        goal.mark_text(align="left", dx=4, dy=-6, color=PALETTE[3]).encode(
            y=alt.Y("target:Q"), text=alt.Text("label:N"), x=alt.XValue(0)
        )
    )
    subtitle = "帯は見通しの95%予測区間" if bridge is not None else ""
    chart = alt.layer(*layers).properties(
        title={"text": label, "subtitle": subtitle}, width=width, height=height
    )
    return with_footer(chart, synthetic=synthetic)


def rehearse() -> None:
    """Build, validate and render one KPI chart from constant numbers, then forget it.

    A kernel's first chart pays for Altair's schema validator and for Vega's code paths in vl-convert
    (about half a second); warm spare kernels (``ebpm.report.warm``) pay it while they wait instead.
    The numbers are made up for this and no report shows the chart.
    """
    from ebpm.charts.core import to_svg

    actual = pd.DataFrame({"fy": [2021, 2022, 2023], "value": [1.0, 2.0, 3.0]})
    projection = pd.DataFrame({"fy": [2024], "value": [4.0], "lower": [3.5], "upper": [4.5]})
    to_svg(kpi_trend_chart(actual, projection, label="練習", unit="件", target=5.0, synthetic=True))

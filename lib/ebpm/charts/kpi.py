"""The KPI trend chart: actuals by fiscal year, the target line and a labelled projection band."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ebpm.charts.core import PALETTE, enable_theme, footer_layer, footer_lines, house_chart
from ebpm.ingest.wareki import fiscal_year_label

ACTUAL = "実績値"
PROJECTED = "見通し（直線）"
# px between the bottom of the plot and the footer: under the two-line year labels
FOOTER_BELOW_PLOT = 44


def fy_axis_label(fy: int) -> str:
    """Two-line axis label ``令和3年度|（2021年度）`` (split on ``|`` by the axis)."""
    return fiscal_year_label(int(fy)).replace("（", "|（", 1)


def _number(value: Any) -> float | None:
    """A plain float for the chart's JSON (a missing value becomes null, a gap in the line)."""
    return None if pd.isna(value) else float(value)


@house_chart
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
    # The rows go in as plain values (``alt.Data``) rather than DataFrames: Altair then neither
    # sanitises nor hashes the frames, which was a fifth of the time a dashboard spent on its charts.
    line = [
        {"年度": fy_axis_label(fy), "value": _number(v), "系列": ACTUAL}
        for fy, v in zip(actual["fy"], actual["value"], strict=True)
    ]
    band: list[dict[str, Any]] = []
    projected = projection is not None and len(projection) > 0
    if projected:
        if line:  # the projection starts from the last observed year
            last = line[-1]
            band = [{"年度": last["年度"], "lower": last["value"], "upper": last["value"]}]
            line.append({**last, "系列": PROJECTED})
        for fy, v, lo, hi in zip(
            projection["fy"],
            projection["value"],
            projection["lower"],
            projection["upper"],
            strict=True,
        ):
            band.append({"年度": fy_axis_label(fy), "lower": _number(lo), "upper": _number(hi)})
            line.append({"年度": fy_axis_label(fy), "value": _number(v), "系列": PROJECTED})
    years = [int(fy) for fy in actual["fy"]]
    if projected:
        years += [int(fy) for fy in projection["fy"]]
    x = alt.X(
        "年度:N",
        sort=[fy_axis_label(fy) for fy in range(min(years), max(years) + 1)],
        title=None,
        axis=alt.Axis(labelAngle=0, labelExpr="split(datum.label, '|')"),
    )
    domain = [ACTUAL, PROJECTED] if band else [ACTUAL]
    layers = []
    if band:
        layers.append(
            alt.Chart(alt.Data(values=band))
            .mark_area(opacity=0.18, color=PALETTE[1])
            .encode(x=x, y=alt.Y("lower:Q"), y2=alt.Y2("upper:Q"))
        )
    layers.append(
        alt.Chart(alt.Data(values=line))
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
    goal = alt.Chart(
        alt.Data(values=[{"target": _number(target), "label": f"目標値 {target:,.0f}{unit}"}])
    )
    layers.append(goal.mark_rule(color=PALETTE[3], strokeDash=[2, 2]).encode(y=alt.Y("target:Q")))
    layers.append(
        goal.mark_text(align="left", dx=4, dy=-6, color=PALETTE[3]).encode(
            y=alt.Y("target:Q"), text=alt.Text("label:N"), x=alt.XValue(0)
        )
    )
    lines = footer_lines(synthetic=synthetic)
    if lines:  # under the two-line year labels, as with_footer would put it
        layers.append(footer_layer(lines, y=height + FOOTER_BELOW_PLOT))
    subtitle = "帯は見通しの95%予測区間" if band else ""
    chart = alt.layer(
        *layers, title={"text": label, "subtitle": subtitle}, width=width, height=height
    )
    return chart


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

"""Chart assembly templates share: bandwidth sensitivity, yearly trends with projections, shares with CIs."""

from __future__ import annotations

import pandas as pd

from ebpm.charts.core import PALETTE, enable_theme, house_chart, with_footer

__all__ = ["rdd_sensitivity_chart", "share_chart", "trend_chart"]


def rdd_sensitivity_chart(res, *, source: str | None = None):
    """Estimate and robust 95% CI of an RDD at multiples of the chosen bandwidth.

    Parameters
    ----------
    res : EstimationResult
        Result of :func:`ebpm.rdd` (``details["bandwidth_sensitivity"]``).
    source : str, optional
        Source line.

    Returns
    -------
    altair.Chart
    """
    import altair as alt

    enable_theme()
    sens = res.details["bandwidth_sensitivity"].dropna(subset=["estimate"]).copy()
    sens["帯域幅"] = sens["bandwidth"].round(1)
    x = alt.X("帯域幅:Q", title=f"帯域幅（{res.details.get('running_label', '')}）")
    bars = (
        alt.Chart(sens)
        .mark_rule(strokeWidth=2, color=PALETTE[0])
        .encode(x=x, y=alt.Y("ci_low:Q", title=f"推定値（{res.unit}）"), y2=alt.Y2("ci_high:Q"))
    )
    points = (
        alt.Chart(sens)
        .mark_point(filled=True, size=60, color=PALETTE[0])
        .encode(
            x=x,
            y=alt.Y("estimate:Q"),
            tooltip=[
                alt.Tooltip("帯域幅:Q"),
                alt.Tooltip("estimate:Q", title="推定値", format=".3f"),
                alt.Tooltip("n_effective:Q", title="帯域内の件数"),
            ],
        )
    )
    zero = alt.Chart(pd.DataFrame({"y": [0]})).mark_rule(color="#555").encode(y=alt.Y("y:Q"))
    chart = (bars + points + zero).properties(
        title=alt.TitleParams(
            "帯域幅を変えたときの推定値（感度分析）",
            subtitle="点: 推定値　縦線: 頑健な95%信頼区間　中央が選んだ帯域幅",
        ),
        height=240,
    )
    return with_footer(chart, source=source, synthetic=res.synthetic)


@house_chart
def trend_chart(
    frame: pd.DataFrame,
    *,
    x: str,
    y: str,
    series: str | None = None,
    title: str,
    y_title: str,
    dashed: str | None = None,
    source: str | None = None,
    synthetic: bool = False,
):
    """A yearly line chart; rows where ``dashed`` is true are drawn dashed (projections).

    Parameters
    ----------
    frame : DataFrame
        Long table.
    x, y : str
        Year and value columns.
    series : str, optional
        Column naming the lines.
    title, y_title : str
        Chart and axis titles.
    dashed : str, optional
        Boolean column marking projected points.
    source : str, optional
        Source line.
    synthetic : bool
        Add the 模擬データ notice.

    Returns
    -------
    altair.Chart
    """
    import altair as alt

    enable_theme()
    data = frame.copy()
    data["_kind"] = (
        data[dashed].map({True: "推計", False: "実績"})
        if dashed
        else pd.Series("実績", index=data.index)
    )
    enc = {
        "x": alt.X(f"{x}:O", title=None, axis=alt.Axis(labelAngle=0)),
        "y": alt.Y(f"{y}:Q", title=y_title, scale=alt.Scale(zero=False)),
        "strokeDash": alt.StrokeDash(
            "_kind:N",
            title=None,
            scale=alt.Scale(domain=["実績", "推計"], range=[[1, 0], [5, 4]]),
        ),
        "tooltip": [
            alt.Tooltip(x),
            alt.Tooltip(f"{y}:Q", format=",.0f"),
            *([alt.Tooltip(series)] if series else []),
        ],
    }
    if series:
        enc["color"] = alt.Color(f"{series}:N", title=None)
    chart = alt.Chart(data).mark_line(point=True).encode(**enc).properties(title=title, height=260)
    return with_footer(chart, source=source, synthetic=synthetic)


def share_chart(
    table: pd.DataFrame,
    *,
    group: str,
    title: str,
    x_title: str = "割合（%）",
    source: str | None = None,
    synthetic: bool = False,
):
    """Weighted shares by group with their 95% CIs (suppressed groups, ``"x"``, are left out).

    Parameters
    ----------
    table : DataFrame
        Output of :func:`ebpm.methods.survey.weighted_proportions` (shares in 0–1).
    group : str
        Group column.
    title, x_title : str
        Titles.
    source : str, optional
        Source line.
    synthetic : bool
        Add the 模擬データ notice.

    Returns
    -------
    altair.Chart
    """
    import altair as alt

    enable_theme()
    data = table[table["share"] != "x"].copy()
    for col in ("share", "ci_low", "ci_high"):
        data[col] = 100 * pd.to_numeric(data[col])
    data[group] = data[group].astype(str)
    y = alt.Y(f"{group}:N", title=None, sort=list(data[group]))
    points = (
        alt.Chart(data)
        .mark_point(filled=True, size=70, color=PALETTE[0])
        .encode(
            y=y,
            x=alt.X("share:Q", title=x_title, scale=alt.Scale(zero=False)),
            tooltip=[
                alt.Tooltip(group),
                alt.Tooltip("share:Q", title="割合", format=".1f"),
                alt.Tooltip("ci_low:Q", title="下限", format=".1f"),
                alt.Tooltip("ci_high:Q", title="上限", format=".1f"),
                alt.Tooltip("n:Q", title="回答数"),
            ],
        )
    )
    bars = (
        alt.Chart(data)
        .mark_rule(strokeWidth=2, color=PALETTE[0])
        .encode(y=y, x=alt.X("ci_low:Q"), x2=alt.X2("ci_high:Q"))
    )
    chart = (bars + points).properties(
        title=alt.TitleParams(title, subtitle="点: ウェイト付きの割合　横線: 95%信頼区間"),
        height=max(120, 28 * len(data)),
    )
    return with_footer(chart, source=source, synthetic=synthetic)

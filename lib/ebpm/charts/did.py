"""Charts for a rollout study a manager reads: before/after levels and raw means around adoption."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ebpm.charts.core import PALETTE, enable_theme, with_footer


def _one(value: float) -> str:
    return f"{value:,.1f}"


def before_after_chart(
    effect: dict[str, Any],
    *,
    label: str,
    synthetic: bool = False,
    source: str | None = None,
    width: int = 260,
    height: int = 120,
) -> Any:
    """Two bars: the level before adoption and after it (baseline plus the estimated effect).

    The title states the message (「平均待ち時間は導入前の約13.1分から約8.9分に短縮」); values are
    labelled at the bar ends with one decimal.
    """
    import altair as alt

    enable_theme()
    unit = effect.get("unit") or ""
    before, after = float(effect["baseline"]), float(effect["after"])
    timed = unit in ("分", "秒", "時間", "日")
    word = ("短縮" if timed else "減少") if after < before else ("延長" if timed else "増加")
    rows = pd.DataFrame(
        {
            "時点": ["導入前の平均", "導入後の推定"],
            "値": [before, after],
            "表示": [f"約{_one(before)}{unit}", f"約{_one(after)}{unit}"],
        }
    )
    title = [f"{label}は導入前の約{_one(before)}{unit}から", f"約{_one(after)}{unit}に{word}"]
    subtitle = [
        f"変化は{effect['relative_text']}。導入後は導入前に推定した効果を加えた値"
        if effect.get("relative_text")
        else "導入後は導入前に推定した効果を加えた値"
    ]
    base = alt.Chart(rows).encode(
        y=alt.Y("時点:N", sort=None, title=None, axis=alt.Axis(labelLimit=240)),
        x=alt.X("値:Q", title=f"{label}（{unit}）", axis=alt.Axis(format=",.0f")),
    )
    bars = base.mark_bar(height=28, color=PALETTE[0])
    text = base.mark_text(align="left", dx=4, fontSize=12).encode(text=alt.Text("表示:N"))
    chart = (bars + text).properties(
        width=width, height=height, title=alt.TitleParams(title, subtitle=subtitle)
    )
    return with_footer(chart, source=source, synthetic=synthetic, width=width)


def raw_means_chart(
    data: pd.DataFrame,
    *,
    y: str,
    unit: str,
    time: str,
    first_treated: str,
    label: str,
    unit_word: str = "",
    synthetic: bool = False,
    source: str | None = None,
    window: tuple[int, int] = (-6, 6),
    lower_is_better: bool = True,
    width: int = 520,
    height: int = 220,
) -> Any:
    """Raw mean of ``y`` in adopting units by months since adoption (導入からの月数), no model.

    Drawn beside the event study so a reader sees the data before the estimate.
    """
    import altair as alt

    enable_theme()
    when = pd.to_datetime(data[time], errors="coerce")
    since = pd.to_datetime(data[first_treated], errors="coerce")
    rel = (when.dt.year - since.dt.year) * 12 + (when.dt.month - since.dt.month)
    frame = pd.DataFrame({"rel": rel, "y": data[y].astype(float)}).dropna()
    frame = frame[(frame["rel"] >= window[0]) & (frame["rel"] <= window[1])]
    means = frame.groupby("rel", as_index=False)["y"].mean()
    means["区分"] = ["導入前" if r < 0 else "導入後" for r in means["rel"]]
    direction = "下ほど短い" if lower_is_better else "上ほど多い"
    title = f"導入窓口の{label}の実測の平均（導入月を0とした月ごと）"
    line = (
        alt.Chart(means)
        .mark_line(point=True, color=PALETTE[0])
        .encode(
            x=alt.X("rel:Q", title="導入からの月数", axis=alt.Axis(format="d", tickMinStep=1)),
            y=alt.Y("y:Q", title=f"{label}（{unit}、{direction}）", axis=alt.Axis(format=",.0f")),
            tooltip=[
                alt.Tooltip("rel:Q", title="導入からの月数"),
                alt.Tooltip("y:Q", format=",.1f"),
            ],
        )
    )
    rule = (
        alt.Chart(pd.DataFrame({"x": [-0.5]}))
        .mark_rule(strokeDash=[4, 4], color="#888")
        .encode(x=alt.X("x:Q"))
    )
    chart = (line + rule).properties(
        width=width,
        height=height,
        title=alt.TitleParams(title, subtitle=["点線が導入の時点。推定ではなく記録の平均である"]),
    )
    return with_footer(chart, source=source, synthetic=synthetic, width=width)


def event_chart(
    coefficients: pd.DataFrame,
    *,
    label: str,
    unit: str,
    average: float | None = None,
    pre_p: float | None = None,
    synthetic: bool = False,
    source: str | None = None,
    lower_is_better: bool = True,
    width: int = 520,
    height: int = 240,
) -> Any:
    """The event study for managers: monthly differences around adoption with a message title.

    ``coefficients`` is the tidy frame of an event study (``rel_time``, ``estimate``, ``ci_low``,
    ``ci_high``). The average effect after adoption is drawn as a dashed line; the y axis says which
    way is better (下ほど短い).
    """
    import altair as alt

    enable_theme()
    frame = coefficients[["rel_time", "estimate", "ci_low", "ci_high"]].copy()
    frame["区分"] = ["導入前" if r < 0 else "導入後" for r in frame["rel_time"]]
    timed = unit in ("分", "秒", "時間", "日")
    less = "短縮" if timed else "減少"
    direction = ("下ほど短い" if timed else "下ほど少ない") if lower_is_better else "上ほど多い"
    pre_ok = pre_p is not None and pre_p >= 0.05
    head = "導入前は差がほぼなく" if pre_ok else "導入前から差が動いており"
    if average is not None and average < 0:
        title = f"{head}、導入後は{label}が平均約{abs(average):,.1f}{unit}{less}"
    elif average is not None:
        title = f"{head}、導入後の{label}の差は平均約{abs(average):,.1f}{unit}"
    else:
        title = f"導入前後の{label}の差"
    subtitle = ["比較の窓口との差を月ごとに推定した補助分析。縦線は95%信頼区間"]
    if pre_p is not None:
        subtitle.append(f"導入前の差がそろっているかの検定のp値は{pre_p:.2f}")
    base = alt.Chart(frame).encode(
        x=alt.X("rel_time:Q", title="導入からの月数", axis=alt.Axis(format="d", tickMinStep=1))
    )
    color = alt.Color(
        "区分:N",
        title=None,
        scale=alt.Scale(domain=["導入前", "導入後"], range=[PALETTE[0], PALETTE[3]]),
    )
    y_title = f"比較の窓口との差（{unit}、{direction}）"
    rules = base.mark_rule(strokeWidth=2).encode(
        y=alt.Y("ci_low:Q", title=y_title, axis=alt.Axis(format=",.0f")),
        y2=alt.Y2("ci_high:Q"),
        color=color,
    )
    points = base.mark_point(filled=True, size=55).encode(y=alt.Y("estimate:Q"), color=color)
    layers = [
        alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="#888").encode(y=alt.Y("y:Q")),
        rules,
        points,
    ]
    if average is not None:
        post = frame[frame["rel_time"] >= 0]["rel_time"]
        avg = pd.DataFrame({"x": [post.min()], "x2": [post.max()], "y": [average]})
        layers.append(
            alt.Chart(avg)
            .mark_rule(strokeDash=[6, 4], color=PALETTE[3])
            .encode(x=alt.X("x:Q"), x2=alt.X2("x2:Q"), y=alt.Y("y:Q"))
        )
    chart = alt.layer(*layers).properties(
        width=width, height=height, title=alt.TitleParams(title, subtitle=subtitle)
    )
    return with_footer(chart, source=source, synthetic=synthetic, width=width)

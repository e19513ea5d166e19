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
    width: int = 420,
    height: int = 150,
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
            "時点": ["導入前の平均", "導入後（推定した効果を反映）"],
            "値": [before, after],
            "表示": [f"約{_one(before)}{unit}", f"約{_one(after)}{unit}"],
        }
    )
    title = f"{label}は導入前の約{_one(before)}{unit}から約{_one(after)}{unit}に{word}"
    share = effect.get("relative")
    subtitle = [f"変化は約{abs(share) * 100:.0f}%の{word}" if share is not None else ""]
    base = alt.Chart(rows).encode(
        y=alt.Y("時点:N", sort=None, title=None, axis=alt.Axis(labelLimit=240)),
        x=alt.X("値:Q", title=f"{label}（{unit}）", axis=alt.Axis(format=",.0f")),
    )
    bars = base.mark_bar(height=28, color=PALETTE[0])
    text = base.mark_text(align="left", dx=4, fontSize=12).encode(text="表示:N")
    chart = (bars + text).properties(
        width=width, height=height, title=alt.TitleParams(title, subtitle=subtitle)
    )
    return with_footer(chart, source=source, synthetic=synthetic)


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
        .encode(x="x:Q")
    )
    chart = (line + rule).properties(
        width=width,
        height=height,
        title=alt.TitleParams(title, subtitle=["点線が導入の時点。推定ではなく記録の平均である"]),
    )
    return with_footer(chart, source=source, synthetic=synthetic)

"""Descriptive peer comparison: indexed trends of one unit against peers chosen by a rule, and its rank."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from ebpm.errors import EstimationError, ParameterError
from ebpm.methods import _common as c
from ebpm.methods._inputs import as_time_column, check_columns, check_number, match_time, suggest
from ebpm.methods.grading import descriptive
from ebpm.result import EstimationResult

PeerRule = Literal["all", "same_prefecture", "population_band"]


def _peers(
    frame: pd.DataFrame,
    unit: str,
    focus: Any,
    peers: Any,
    size: str | None,
    band: tuple[float, float],
    base_rows: pd.DataFrame,
) -> tuple[list[Any], str]:
    units = list(pd.unique(frame[unit]))
    if isinstance(peers, (list, tuple, set)):
        chosen = [u for u in peers if u != focus]
        unknown = [u for u in chosen if u not in units]
        if unknown:
            raise ParameterError(
                f"比較対象「{unknown[0]}」がデータにありません。{suggest(unknown[0], units)}",
                parameter="peers",
            )
        return chosen, "指定した団体"
    c.check_option(peers, PeerRule, "peers")
    others = [u for u in units if u != focus]
    if peers == "all":
        return others, "データのすべての団体"
    if peers == "same_prefecture":
        code = str(focus)
        if not (code.isdigit() and len(code) in (5, 6)):
            raise ParameterError(
                "peers=「same_prefecture」は、unit が団体コード（5桁か6桁）のときに使えます"
                f"（focus: {focus!r}）。",
                parameter="peers",
            )
        pref = code[:2]
        chosen = [
            u
            for u in others
            if str(u)[:2] == pref and not str(u).endswith("000")  # not the prefecture total
        ]
        return chosen, f"同じ都道府県（コード{pref}）の団体"
    # population band
    if size is None:
        raise ParameterError(
            "peers=「population_band」には、人口などの規模の列 size を指定してください。",
            parameter="size",
        )
    sizes = base_rows.set_index(unit)[size].astype(float)
    own = float(sizes.get(focus, np.nan))
    if not np.isfinite(own):
        raise EstimationError(f"基準時点の{focus}の規模（{size}）がありません。", column=size)
    lo, hi = own * band[0], own * band[1]
    chosen = [u for u in others if lo <= float(sizes.get(u, np.nan)) <= hi]
    return chosen, f"規模（{c.title_of(frame, size)}）が{band[0]:g}〜{band[1]:g}倍の団体"


def compare(
    data: pd.DataFrame,
    *,
    y: str,
    unit: str,
    time: str,
    focus: Any,
    peers: PeerRule | Sequence[Any] = "all",
    size: str | None = None,
    band: tuple[float, float] = (0.5, 2.0),
    base: Any = None,
    names: str | None = None,
    outcome_label: str = "",
    source: str | None = None,
    synthetic: bool | None = None,
) -> EstimationResult:
    """Indexed trends of one unit (for example 盛岡市) against peers chosen by a rule, and its rank.

    Descriptive only: no confidence interval (the peers are a whole set, not a sample) and grade D.

    Parameters
    ----------
    data : DataFrame
        One row per unit and time.
    y, unit, time : str
        Value, unit (for example ``area_code``) and time columns (numbers, dates, periods, 和暦 text).
    focus : object
        The unit to compare (a value of ``unit``).
    peers : {"all", "same_prefecture", "population_band"} or list
        ``same_prefecture``: units whose 団体コード starts with the same two digits (prefecture
        totals ``xx000`` left out). ``population_band``: units whose ``size`` at the base time is
        within ``band`` times the focus's. A list names the peers.
    size : str, optional
        Size column for ``population_band`` (for example ``total`` population).
    band : (float, float), default (0.5, 2.0)
        Size range relative to the focus for ``population_band``.
    base : time, optional
        Base time of the index (=100); default the first time.
    names : str, optional
        Column with display names (for example ``area_name``), used in the summary and chart.
    outcome_label, source : str, optional
        Japanese name of ``y``; source line for the chart.
    synthetic : bool, optional
        Mark as 模擬データ; default from the data.

    Returns
    -------
    EstimationResult
        ``estimate`` is the focus's index at the last time; ``diagnostics`` holds ``rank`` (1 = highest
        index among the focus and its peers), ``n_peers``, ``peer_median`` and ``rule``;
        ``details["index"]`` the indexed series (unit, name, time, value, index, focus).
    """
    c.require_frame(data)
    check_columns(data, y=y, unit=unit, time=time, size=size, names=names)
    lo_band, hi_band = (check_number(b, "band", minimum=0) for b in band)
    if not lo_band < hi_band:
        raise ParameterError("band は（下限, 上限）で下限 < 上限にしてください。", parameter="band")
    frame = data.copy()
    frame[time] = as_time_column(frame[time], time)
    values = c.require_numeric(frame, y)
    frame[y] = values
    dup = frame.duplicated([unit, time])
    if dup.any():
        row = frame.loc[dup].iloc[0]
        raise EstimationError(
            f"同じ単位・時点（{row[unit]}・{row[time]}）の行が複数あります。単位×時点で1行に"
            "集計してから渡してください。",
            column=unit,
        )
    units = list(pd.unique(frame[unit]))
    if focus not in units:
        shown = "、".join(map(str, units[:10])) + (" …" if len(units) > 10 else "")
        raise EstimationError(
            f"focus「{focus}」がデータにありません。{suggest(focus, units)}（ある単位: {shown}）",
            parameter="focus",
            column=unit,
        )
    times = sorted(pd.unique(frame[time]))
    base_t = times[0] if base is None else match_time(base, frame[time], "base")
    if base_t not in set(times):
        raise ParameterError(
            f"基準時点 {base} がデータにありません（最初 {times[0]}・最後 {times[-1]}）。",
            parameter="base",
        )
    base_rows = frame[frame[time] == base_t]
    chosen, rule = _peers(frame, unit, focus, peers, size, (lo_band, hi_band), base_rows)
    if not chosen:
        raise EstimationError(
            f"規則「{rule}」に当てはまる比較対象がありません。peers や band を見直してください。",
            parameter="peers",
        )
    keep = frame[frame[unit].isin([focus, *chosen])]
    base_val = keep[keep[time] == base_t].set_index(unit)[y]
    if (base_val <= 0).any() or base_val.isna().any():
        raise EstimationError(
            "基準時点の値が0以下か欠測の団体があり、指数にできません。base を変えてください。",
            column=y,
        )
    label_of = (
        keep.drop_duplicates(unit).set_index(unit)[names].astype(str).to_dict()
        if names
        else {u: str(u) for u in keep[unit].unique()}
    )
    index = keep.assign(
        index=lambda f: 100 * f[y] / f[unit].map(base_val),
        name=lambda f: f[unit].map(label_of),
        focus=lambda f: f[unit] == focus,
    )[[unit, "name", time, y, "index", "focus"]].rename(
        columns={unit: "unit", time: "time", y: "value"}
    )
    last_t = times[-1]
    last = index[index["time"] == last_t].set_index("unit")["index"]
    if focus not in last.index:
        raise EstimationError(f"最後の時点 {last_t} に {focus} の値がありません。", column=y)
    rank = int((last > last[focus]).sum()) + 1
    peer_last = last.drop(focus)
    grading = descriptive(
        [
            "記述的な比較であり、差の原因（施策の効果かどうか）は示さない。比較対象は全数で、"
            "標本誤差の信頼区間は付けない。"
        ]
    )
    return EstimationResult(
        method="compare",
        method_ja="記述的な比較（指数化した推移と順位）",
        estimate=float(last[focus]),
        se=float("nan"),
        ci=(float("nan"), float("nan")),
        pvalue=float("nan"),
        n=int(len(index)),
        se_type="なし（全数の記述）",
        unit="（基準時点=100）",
        outcome_label=outcome_label or c.title_of(data, y),
        diagnostics={
            "rank": rank,
            "n_compared": int(len(last)),
            "n_peers": int(len(peer_last)),
            "peer_median": float(peer_last.median()) if len(peer_last) else float("nan"),
            "rule": rule,
            "base": _when(base_t),
            "last": _when(last_t),
            "focus_name": label_of.get(focus, str(focus)),
        },
        grading=grading,
        warnings=[],
        synthetic=c.is_synthetic(data, synthetic),
        details={"index": index, "source": source, "peers": chosen},
        _chart_builder=_chart,
        _summary_builder=_summary,
    )


def _when(t: Any) -> str:
    """A time as a reader says it: 2023年4月1日, 2020年 (a year number), else as written."""
    if isinstance(t, (pd.Timestamp, np.datetime64)):
        ts = pd.Timestamp(t)
        return f"{ts.year}年{ts.month}月{ts.day}日"
    if isinstance(t, (int, np.integer)) and 1800 <= int(t) <= 2200:
        return f"{int(t)}年"
    return str(t.item() if hasattr(t, "item") else t)


def _summary(res: EstimationResult) -> str:
    d = res.diagnostics
    text = (
        f"{d['focus_name']}の{res.outcome_label}は、{d['base']}を100とすると{d['last']}に"
        f"{c.fmt_num(res.estimate)}で、比較した{d['n_compared']}団体（{d['rule']}）の中で"
        f"高い方から{d['rank']}位（比較対象の中央値 {c.fmt_num(d['peer_median'])}）。"
        "記述的な比較であり、差の原因は示さない。"
    )
    return c.close_summary(text, res)


def _chart(res: EstimationResult):
    import altair as alt

    from ebpm.charts.core import PALETTE, enable_theme, with_footer

    enable_theme()
    data = res.details["index"].copy()
    data["系列"] = np.where(data["focus"], data["name"], "比較対象")
    peers = (
        alt.Chart(data[~data["focus"]])
        .mark_line(color="#bbbbbb", strokeWidth=1)
        .encode(
            x=alt.X("time", title=None),
            y=alt.Y("index:Q", title=f"{res.outcome_label}（基準時点=100）"),
            detail=alt.Detail("name:N"),
            tooltip=[
                alt.Tooltip("name:N"),
                alt.Tooltip("time"),
                alt.Tooltip("index:Q", format=",.1f"),
            ],
        )
    )
    own = (
        alt.Chart(data[data["focus"]])
        .mark_line(color=PALETTE[0], strokeWidth=3, point=True)
        .encode(
            x=alt.X("time"),
            y=alt.Y("index:Q"),
            tooltip=[alt.Tooltip("name:N"), alt.Tooltip("time"), alt.Tooltip("index:Q")],
        )
    )
    chart = (peers + own).properties(
        title={
            "text": f"{res.diagnostics['focus_name']}と比較対象の{res.outcome_label}の推移",
            "subtitle": f"{res.diagnostics['base']}=100・灰色は{res.diagnostics['rule']}",
        }
    )
    return with_footer(chart, source=res.details.get("source"), synthetic=res.synthetic)

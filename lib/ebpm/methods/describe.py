"""Descriptive statistics with 95% CIs: counts, means, shares and quantiles, optionally survey-weighted.

Weighted estimates are design-based: the mean is the ratio Σwy/Σw and its variance is the Taylor
linearisation for a single-stage with-replacement design, n/(n−1)·Σw²(y−ȳ)²/(Σw)² (Wolter 2007, ch. 6;
the same as R ``survey::svymean`` with ``ids=~1`` and as a weighted intercept-only regression with HC1
SEs). Quantile CIs use Woodruff's (1952) method; share CIs are Wilson intervals with the Kish effective
sample size when weighted.

A table that counts every unit (a census or a full register; catalog ``census: true``, 全数) has no
sampling error: for it — or with ``census=True`` — the statistics are given without standard errors
or confidence intervals, and the summary says why (全数のため信頼区間は示さない).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ebpm.charts.core import house_chart
from ebpm.errors import EstimationError, ParameterError
from ebpm.methods import _common as c
from ebpm.methods._inputs import check_columns, check_number
from ebpm.methods.grading import descriptive
from ebpm.result import EstimationResult

__all__ = ["describe", "weighted_mean", "weighted_quantile", "weighted_share"]

ALL = "全体"
CENSUS_NOTE = (
    "全数のため信頼区間は示さない（すべての単位を数えた値で、標本から推し量る誤差がない）。"
)


def weighted_mean(y: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Ratio mean Σwy/Σw and its linearised SE (with-replacement, n/(n−1) factor)."""
    n = len(y)
    total = w.sum()
    mean = float((w * y).sum() / total)
    if n < 2:
        return mean, float("nan")
    var = n / (n - 1) * float((w**2 * (y - mean) ** 2).sum()) / total**2
    return mean, math.sqrt(var)


def weighted_quantile(y: np.ndarray, w: np.ndarray, p: float) -> float:
    """Smallest y whose cumulative weight share reaches p (inverse CDF; unweighted = 'inverted_cdf')."""
    order = np.argsort(y, kind="mergesort")
    ys, ws = y[order], w[order]
    cum = np.cumsum(ws) / ws.sum()
    idx = int(np.searchsorted(cum, min(max(p, 0.0), 1.0) - 1e-12, side="left"))
    return float(ys[min(idx, len(ys) - 1)])


def weighted_share(
    x: np.ndarray, w: np.ndarray, weighted: bool
) -> tuple[float, float, float, float]:
    """Share of ``x`` (0/1) with linearised SE and a Wilson 95% CI (Kish effective n when weighted)."""
    n = len(x)
    p, se = weighted_mean(x.astype(float), w)
    if not weighted:
        n_eff = float(n)
    elif se and se > 0:
        n_eff = p * (1 - p) / se**2
    else:
        n_eff = float(n)
    z = c.Z95
    denom = 1 + z**2 / n_eff
    centre = (p + z**2 / (2 * n_eff)) / denom
    half = z * math.sqrt(p * (1 - p) / n_eff + z**2 / (4 * n_eff**2)) / denom
    return p, se, max(centre - half, 0.0), min(centre + half, 1.0)


def _numeric_rows(
    column: str, group, y: np.ndarray, w: np.ndarray, weighted: bool, quantiles
) -> list[dict]:
    n = len(y)
    rows = [
        {
            "column": column,
            "group": group,
            "stat": "count",
            "level": None,
            "estimate": float(w.sum()) if weighted else float(n),
            "se": np.nan,
            "ci_low": np.nan,
            "ci_high": np.nan,
            "n": n,
        }
    ]
    mean, se = weighted_mean(y, w)
    # imported here, not at the top: `ebpm.did` loads this package and needs no scipy.stats
    from scipy import stats

    q = stats.t.ppf(0.975, n - 1) if n > 1 else np.nan
    rows.append(
        {
            "column": column,
            "group": group,
            "stat": "mean",
            "level": None,
            "estimate": mean,
            "se": se,
            "ci_low": mean - q * se,
            "ci_high": mean + q * se,
            "n": n,
        }
    )
    for p in quantiles:
        est = weighted_quantile(y, w, p)
        # Woodruff: CI for F(q_p) by linearisation, mapped back through the quantile function
        _, se_f = weighted_mean((y <= est).astype(float), w)
        lo_p, hi_p = p - q * se_f, p + q * se_f
        lo = weighted_quantile(y, w, lo_p) if n > 1 else np.nan
        hi = weighted_quantile(y, w, hi_p) if n > 1 else np.nan
        rows.append(
            {
                "column": column,
                "group": group,
                "stat": f"q{round(p * 100):02d}",
                "level": None,
                "estimate": est,
                "se": np.nan,
                "ci_low": lo,
                "ci_high": hi,
                "n": n,
            }
        )
    return rows


def _share_rows(column: str, group, x: pd.Series, w: np.ndarray, weighted: bool) -> list[dict]:
    rows = []
    values = x.to_numpy()
    for level in sorted(pd.unique(values), key=str):
        p, se, lo, hi = weighted_share((values == level).astype(float), w, weighted)
        rows.append(
            {
                "column": column,
                "group": group,
                "stat": "share",
                "level": level,
                "estimate": p,
                "se": se,
                "ci_low": lo,
                "ci_high": hi,
                "n": int((values == level).sum()),
            }
        )
    return rows


@house_chart
def _chart(result: EstimationResult):
    import altair as alt

    from ebpm.charts.core import enable_theme, with_footer

    enable_theme()
    table = result.details["table"]
    col = result.details["columns"][0]
    sub = table[table["column"] == col]
    name = result.details.get("titles", {}).get(col, col)
    means = sub[sub["stat"] == "mean"]
    if len(means):
        data, label, y_title = (
            means,
            "平均",
            f"{name}の平均{f'（{result.unit}）' if result.unit else ''}",
        )
        x = alt.X("group:N", title=None, sort=None)
    else:
        data = sub[sub["stat"] == "share"].assign(level=lambda f: f["level"].astype(str))
        label, y_title = "割合", f"{name}の割合"
        x = alt.X("level:N", title=None, sort=None)
    base = alt.Chart(data).encode(x=x)
    bars = base.mark_bar(opacity=0.85).encode(
        y=alt.Y("estimate:Q", title=y_title),
        color=alt.Color("group:N", title=None) if len(means) == 0 else alt.ColorValue("#0072B2"),
        xOffset=alt.XOffset("group:N") if len(means) == 0 else alt.XOffsetValue(0),
    )
    weighted = "（調査ウェイト付き）" if result.details["weighted"] else ""
    if result.details.get("census"):
        chart = bars.properties(
            title={"text": f"{name}の{label}（全数）", "subtitle": "全数のため信頼区間は示さない"}
        )
        return with_footer(chart, synthetic=result.synthetic)
    errs = base.mark_rule(color="#333", strokeWidth=2).encode(
        y=alt.Y("ci_low:Q"),
        y2=alt.Y2("ci_high:Q"),
        xOffset=alt.XOffset("group:N") if len(means) == 0 else alt.XOffsetValue(0),
    )
    chart = (bars + errs).properties(
        title={"text": f"{name}の{label}{weighted}", "subtitle": "縦線は95%信頼区間"}
    )
    return with_footer(chart, synthetic=result.synthetic)


def _summary(result: EstimationResult) -> str:
    table = result.details["table"]
    parts = []
    titles = result.details.get("titles", {})
    census = bool(result.details.get("census"))
    for col in result.details["columns"][:3]:
        sub = table[(table["column"] == col) & (table["group"] == ALL)]
        name = titles.get(col, col)
        mean = sub[sub["stat"] == "mean"]
        if len(mean):
            r = mean.iloc[0]
            if census:
                parts.append(
                    f"{name}の平均は{c.fmt_num(r['estimate'])}{result.unit}（{int(r['n']):,}件）"
                )
                continue
            parts.append(
                f"{name}の平均は{c.fmt_num(r['estimate'])}{result.unit}（95%信頼区間 {c.fmt_num(r['ci_low'])}〜{c.fmt_num(r['ci_high'])}{result.unit}、{int(r['n']):,}件）"
            )
        else:
            shares = sub[sub["stat"] == "share"].sort_values("estimate", ascending=False)
            if len(shares):
                r = shares.iloc[0]
                if census:
                    parts.append(
                        f"{name}で最も多いのは「{r['level']}」で{r['estimate'] * 100:.1f}%"
                    )
                    continue
                parts.append(
                    f"{name}で最も多いのは「{r['level']}」で{r['estimate'] * 100:.1f}%（95%信頼区間 {r['ci_low'] * 100:.1f}〜{r['ci_high'] * 100:.1f}%）"
                )
    text = "。".join(parts) + "。" if parts else ""
    if result.details["by"]:
        text += f"{result.details['by']}別の値は表を参照。"
    if result.details["weighted"]:
        text += (
            "重みは調査ウェイトとして扱い、標準誤差は線形化法で求めた（層・集落を考慮しない近似）。"
        )
    if census:
        text += CENSUS_NOTE
    text += "記述統計であり、差があっても原因を示すものではない。"
    return text


def describe(
    data: pd.DataFrame,
    columns: str | Sequence[str],
    by: str | None = None,
    weights: str | None = None,
    *,
    quantiles: Sequence[float] = (0.25, 0.5, 0.75),
    effect_unit: str = "",
    synthetic: bool | None = None,
    census: bool | None = None,
) -> EstimationResult:
    """Counts, means, shares and quantiles with 95% CIs, overall and by group.

    Parameters
    ----------
    data : DataFrame
    columns : str or list of str
        Numeric columns get count, mean and quantiles; other columns get the share of each value.
    by : str, optional
        Grouping column; every statistic is given for each group and for 全体.
    weights : str, optional
        Survey weights (positive numbers); estimates are design-based (see module docstring).
    quantiles : sequence of float
        Quantiles to report for numeric columns.
    effect_unit : str
        Natural unit of the numeric columns for the summary.
    synthetic : bool, optional
        Mark as 模擬データ; default ``data.attrs.get("synthetic")``.
    census : bool, optional
        The data count every unit (全数: a census, a full register, all 14 cities …), so there is
        nothing to infer about: no standard errors or confidence intervals, and the summary says
        so. Default: the catalog flag ``census: true`` of the tables the frame was loaded from.
        Survey weights cannot be combined with ``census=True``.

    Returns
    -------
    EstimationResult
        ``method="describe"``, grade D (descriptive). ``details["table"]`` is tidy: column, group, stat
        (count, mean, qNN, share), level, estimate, se, ci_low, ci_high, n. ``estimate``/``ci`` are the
        overall mean of the first numeric column (or the largest share of the first column).
    """
    c.require_frame(data)
    if not isinstance(columns, (str, list, tuple)):
        raise ParameterError(
            "columns は列名か列名のリストで指定してください。", parameter="columns"
        )
    cols = [columns] if isinstance(columns, str) else list(columns)
    if not cols:
        raise EstimationError("集計する列を1つ以上指定してください。", parameter="columns")
    check_columns(data, columns=cols, by=by, weights=weights)
    c.require_columns(data, cols + [by, weights])
    for p in quantiles:
        check_number(p, "quantiles")
        if not 0 < p < 1:
            raise EstimationError(
                f"分位点は0と1の間で指定してください（{p}）。", parameter="quantiles"
            )
    weighted = weights is not None
    if census is not None and not isinstance(census, bool):
        raise ParameterError(
            f"census は True か False で指定してください（受け取った値: {census!r}）。",
            parameter="census",
        )
    if census is None:
        from ebpm import labels

        census = labels.census(data) and not weighted
    elif census and weighted:
        raise ParameterError(
            "全数（census=True）には調査ウェイト（weights）を使えません。標本調査なら census=False に"
            "してください。",
            parameter="census",
        )
    if weighted:
        wcol = c.require_numeric(data, weights, "重み")
        if (wcol.dropna() <= 0).any():
            raise EstimationError(
                "重みに0以下の値があります。正の値にしてください。", column=weights
            )
    warnings: list[str] = []
    rows: list[dict] = []
    groups = [(ALL, data)] + (list(data.groupby(by, sort=True, dropna=False)) if by else [])
    for col in cols:
        numeric = pd.api.types.is_numeric_dtype(data[col]) and not pd.api.types.is_bool_dtype(
            data[col]
        )
        if numeric:
            c.require_numeric(data, col, "集計する列")
        for label, part in groups:
            subset = part.dropna(subset=[col] + ([weights] if weighted else []))
            if len(subset) == 0:
                continue
            w = subset[weights].to_numpy(dtype=float) if weighted else np.ones(len(subset))
            group = label if label == ALL else (label[0] if isinstance(label, tuple) else label)
            if numeric:
                rows.extend(
                    _numeric_rows(
                        col, group, subset[col].to_numpy(dtype=float), w, weighted, quantiles
                    )
                )
            else:
                rows.extend(_share_rows(col, group, subset[col].astype(str), w, weighted))
        missing = int(data[col].isna().sum())
        if missing:
            warnings.append(f"列「{col}」の欠測{missing:,}件を除いて集計した。")
    table = pd.DataFrame(rows)
    if census:
        table[["se", "ci_low", "ci_high"]] = np.nan
    overall = table[table["group"] == ALL]
    head = overall[overall["stat"] == "mean"]
    if len(head) == 0:
        head = overall[overall["stat"] == "share"].sort_values("estimate", ascending=False)
    first = head.iloc[0]
    grading = descriptive(
        ["調査ウェイトを使い、標準誤差は線形化法（単段・復元抽出の近似）で求めた。"]
        if weighted
        else ([CENSUS_NOTE] if census else [])
    )
    return EstimationResult(
        method="describe",
        method_ja="記述統計",
        estimate=float(first["estimate"]),
        se=float(first["se"]),
        ci=(float(first["ci_low"]), float(first["ci_high"])),
        pvalue=float("nan"),
        n=int(len(data)),
        se_type="線形化法（調査ウェイト）" if weighted else ("なし（全数）" if census else "通常"),
        unit=effect_unit or c.unit_of(data, str(first["column"])),
        outcome_label=c.title_of(data, str(first["column"])),
        diagnostics={"weighted": weighted, "n_groups": len(groups) - 1, "census": census},
        grading=grading,
        warnings=warnings,
        synthetic=c.is_synthetic(data, synthetic),
        details={
            "table": table,
            "columns": cols,
            "titles": {col: c.title_of(data, col) for col in cols},
            "by": by,
            "weighted": weighted,
            "census": census,
        },
        _chart_builder=_chart,
        _summary_builder=_summary,
    )

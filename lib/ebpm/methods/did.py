"""Difference-in-differences: 2×2 in regression form, two-way fixed effects, and staggered adoption."""

from __future__ import annotations

import math
import warnings as warnings_mod
from typing import Any, Literal

import numpy as np
import pandas as pd

from ebpm.charts.core import house_chart
from ebpm.errors import EstimationError, ParameterError
from ebpm.methods import _common as c
from ebpm.methods._inference import describe, needs_bootstrap
from ebpm.methods._inputs import check_columns, use_log_units
from ebpm.methods._panel import fit_twfe, t_interval, treated_clusters, wild_bootstrap
from ebpm.methods.grading import Check, decide
from ebpm.result import EstimationResult

__all__ = ["did", "bacon_chart", "FORBIDDEN_SHARE_LIMIT"]

Method = Literal["twfe", "staggered"]
Control = Literal["never", "notyet"]
FORBIDDEN_SHARE_LIMIT = (
    0.10  # TWFE weight on later-vs-earlier comparisons above this lowers the grade
)
SMALL_CELL = 30  # fewer observations than this in a 2×2 cell lowers the grade
METHOD_JA = "差の差分析（DiD）"


# --- 2×2 --------------------------------------------------------------------------------------------


def _two_by_two(
    data, y, treat, post, se, warnings, effect_unit, outcome_label, synthetic
) -> EstimationResult:
    se = se or "HC2"
    kind, cluster_col = c.parse_se(se, data)
    cols = [y, treat, post] + ([cluster_col] if cluster_col else [])
    frame = c.drop_missing(data, cols, warnings)
    work = pd.DataFrame(
        {
            "y": frame[y].astype(float),
            "treat": c.require_binary(frame, treat, "介入群の指標"),
            "post": c.require_binary(frame, post, "介入後の指標"),
        }
    )
    if cluster_col:
        # keep the user's column name so that warnings name it (unless it clashes with ours)
        cl_name = cluster_col if cluster_col not in work.columns else f"{cluster_col}_cluster"
        work[cl_name] = frame[cluster_col].to_numpy()
    cells = work.groupby(["treat", "post"])["y"].agg(["count", "mean", "std"])
    for t in (0.0, 1.0):
        for p in (0.0, 1.0):
            if (t, p) not in cells.index or cells.loc[(t, p), "count"] < 2:
                who = "介入群" if t else "比較群"
                when = "介入後" if p else "介入前"
                missing = {
                    (0.0, 0.0): "比較群の介入前",
                    (1.0, 0.0): "介入群の介入前（介入前の期間がありません）",
                }.get((t, p), f"{who}の{when}")
                raise EstimationError(
                    f"{missing}の観測が2件未満で、差の差を計算できません。",
                    column=treat if p else post,
                )
    fitted = _fit_2x2(work, f"cluster:{cl_name}" if cluster_col else kind)
    coefs = fitted["coefficients"].set_index("term")
    row = coefs.loc["treat:post"]
    cells = cells.reset_index()
    cells["se"] = cells["std"] / np.sqrt(cells["count"])
    cells["group"] = np.where(cells["treat"] == 1, "介入群", "比較群")
    cells["period"] = np.where(cells["post"] == 1, "介入後", "介入前")
    se_type = c.se_type_ja(se, fitted["n_clusters"])
    checks = [
        Check(
            "pre_trend",
            None,
            "介入前が1期だけで、平行トレンドの仮定を確かめられない（複数期のデータなら unit と time を指定）。",
            severity=2,
        )
    ]
    smallest = int(cells["count"].min())
    if smallest < SMALL_CELL:
        checks.append(
            Check(
                "sample_size",
                False,
                f"最も小さい群・期間の観測数が{smallest}で、{SMALL_CELL}未満と少ない。",
            )
        )
    else:
        checks.append(Check("sample_size", True, f"各群・期間の観測数は{smallest:,}以上ある。"))
    ci = (float(row["ci_low"]), float(row["ci_high"]))
    pvalue = float(row["pvalue"])
    inference = None
    boot = None
    if cluster_col:
        from ebpm.methods._inference import describe, needs_bootstrap, wild_cluster_linear
        from ebpm.methods.event_study import inference_check

        g_codes = pd.factorize(work[cl_name])[0]
        n_treated_cl = int(work.loc[work["treat"] == 1, cl_name].nunique())
        if needs_bootstrap(fitted["n_clusters"], n_treated_cl):
            x = np.column_stack(
                [np.ones(len(work)), work["treat"], work["post"], work["treat"] * work["post"]]
            )
            boot = wild_cluster_linear(
                x, work["y"].to_numpy(dtype=float), np.array([0.0, 0.0, 0.0, 1.0]), g_codes
            )
        inference = describe(
            boot,
            fitted["n_clusters"],
            n_treated_cl,
            cluster_col,
            (ci, pvalue),
            f"クラスター頑健標準誤差（CR1）と自由度{fitted['n_clusters'] - 1}のt分布",
        )
        if boot is not None:
            ci, pvalue = boot["ci"], boot["pvalue"]
        checks.append(inference_check(inference))
    if fitted["cluster_warning"] and boot is None:
        checks.append(
            Check("clusters", False, fitted["cluster_warning"], fitted["cluster_severity"])
        )
    grade, reasons = grading = decide("did", checks)
    return EstimationResult(
        method="did",
        method_ja=METHOD_JA,
        estimate=float(row["estimate"]),
        se=float(row["se"]),
        ci=ci,
        pvalue=pvalue,
        n=int(fitted["fit"].nobs),
        se_type=se_type,
        unit=effect_unit or c.unit_of(data, y),
        outcome_label=outcome_label or c.title_of(data, y),
        diagnostics={
            "design": "2x2",
            "smallest_cell": smallest,
            "n_clusters": fitted["n_clusters"],
            "inference": inference,
        },
        grade=grade,
        reasons=reasons,
        grading=grading,
        warnings=warnings + fitted["warnings"],
        synthetic=synthetic,
        details={
            "design": "2x2",
            "coefficients": fitted["coefficients"].assign(
                term=lambda f: f["term"].str.replace("treat", treat).str.replace("post", post)
            ),
            "cells": cells[["group", "period", "treat", "post", "count", "mean", "se"]],
        },
        _chart_builder=_means_chart,
        _summary_builder=_summary,
    )


def _fit_2x2(work: pd.DataFrame, se: str) -> dict[str, Any]:
    """``fit_ols(work, "y ~ treat + post + treat:post", se)`` without building the design by formula.

    The design matrix is the one patsy builds for that formula (same columns, names and order), so
    the fit is the same; patsy's parsing and evaluation cost most of a 2×2 call. ``work`` has no
    missing values (dropped before).
    """
    import statsmodels.api as sm

    from ebpm.methods.regress import fit_model

    kind, cluster_col = c.parse_se(se, work)
    treat = work["treat"].to_numpy(dtype=float)
    post = work["post"].to_numpy(dtype=float)
    exog = pd.DataFrame(
        {
            "Intercept": np.ones(len(work)),
            "treat": treat,
            "post": post,
            "treat:post": treat * post,
        },
        index=work.index,
    )
    model = sm.OLS(work["y"].astype(float), exog)
    return fit_model(model, work, se, kind, cluster_col, [])


@house_chart
def _means_chart(result: EstimationResult):
    """Group means before and after, with the parallel-trend counterfactual for the treated group."""
    import altair as alt

    from ebpm.charts.core import PALETTE, enable_theme, with_footer

    enable_theme()
    cells = result.details["cells"].copy()
    m = cells.set_index(["treat", "post"])["mean"]
    counterfactual = pd.DataFrame(
        {
            "period": ["介入前", "介入後"],
            "mean": [m[(1.0, 0.0)], m[(1.0, 0.0)] + m[(0.0, 1.0)] - m[(0.0, 0.0)]],
            "group": "介入群（介入がなかった場合の想定）",
        }
    )
    order = ["介入前", "介入後"]
    y_title = f"{result.outcome_label}の平均{f'（{result.unit}）' if result.unit else ''}"
    scale = alt.Scale(
        domain=["介入群", "比較群", "介入群（介入がなかった場合の想定）"],
        range=[PALETTE[3], PALETTE[0], "#999999"],
    )
    lines = (
        alt.Chart(cells)
        .mark_line(point=True)
        .encode(
            x=alt.X("period:N", sort=order, title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("mean:Q", title=y_title, scale=alt.Scale(zero=False)),
            color=alt.Color(
                "group:N", title=None, scale=scale, legend=alt.Legend(labelLimit=0, columns=1)
            ),
            tooltip=[
                alt.Tooltip("group:N", title="群"),
                alt.Tooltip("period:N", title="期間"),
                alt.Tooltip("mean:Q", title="平均", format=",.4g"),
                alt.Tooltip("count:Q", title="観測数"),
            ],
        )
    )
    dashed = (
        alt.Chart(counterfactual)
        .mark_line(strokeDash=[5, 4])
        .encode(
            x=alt.X("period:N", sort=order),
            y=alt.Y("mean:Q"),
            color=alt.Color("group:N", scale=scale),
        )
    )
    chart = (dashed + lines).properties(
        width=360,
        title={
            "text": f"差の差分析: {result.outcome_label}",
            "subtitle": f"推定値 {c.fmt_num(result.estimate)}{result.unit}（標準誤差: {result.se_type}）",
        },
    )
    return with_footer(chart, synthetic=result.synthetic)


# --- panel: TWFE and staggered ----------------------------------------------------------------------


def _panel_inputs(data, y, treat, post, unit, time, first_treated, warnings):
    c.require_columns(data, [y, treat, post, unit, time, first_treated])
    c.require_numeric(data, y, "結果変数")
    c.require_numeric(data, time, "時点")
    frame = c.drop_missing(
        data, [y, post, unit, time] + ([treat] if treat else []), warnings
    ).copy()
    d = c.require_binary(frame, post, "介入後の指標")
    if treat is not None:
        d = d * c.require_binary(frame, treat, "介入群の指標")
    frame["_d"] = d
    if frame["_d"].sum() == 0:
        raise EstimationError("介入を受けた観測（介入群かつ介入後）がありません。", column=post)
    if (frame.groupby(unit)["_d"].max() == 0).sum() == 0 and frame.groupby(unit)[
        "_d"
    ].min().min() == 1:
        raise EstimationError(
            "すべての単位がすべての時点で介入を受けており、介入前の期間も比較群もありません。",
            column=treat or post,
        )
    firsts = frame.loc[frame["_d"] == 1].groupby(unit)[time].min()
    if len(firsts) == frame[unit].nunique() and firsts.nunique() == 1:
        raise EstimationError(
            "比較群がありません（すべての単位が同じ時期に介入を受けています）。介入を受けない単位が必要です。",
            column=treat or post,
        )
    if first_treated is None:
        frame["_first"] = frame[unit].map(firsts).astype(float)
        first_col = "_first"
    else:
        first_col = first_treated
    return frame, first_col


def _drop_always_treated(frame, unit, time, first_col, notes, warnings):
    """Drop units treated at or before the first observed period (no pre-period to compare).

    Returns the frame without them and their names; a reason line goes to ``notes`` (shown with the
    grade) and a warning to ``warnings``.
    """
    first = frame.groupby(unit)[first_col].first()
    t_min = frame[time].min()
    always = sorted(map(str, first[first.notna() & (first <= t_min)].index))
    if not always:
        return frame, []
    shown = "、".join(always[:8]) + (" …" if len(always) > 8 else "")
    line = (
        f"当初から介入済みの単位{len(always)}個（{shown}）は、観測の最初の時点より前に介入を受けて"
        "いて介入前の期間がないため、推定から除いた。"
    )
    notes.append(line)
    warnings.append(line)
    kept = frame[~frame[unit].astype(str).isin(always)]
    if kept[first_col].notna().sum() == 0:
        raise EstimationError(
            "介入を受けた単位がすべて当初から介入済みで、介入前の期間のある介入群がありません。",
            column=first_col,
        )
    return kept, always


def _eligibility_check(frame, unit, first_col, eligible, warnings, from_catalog=False):
    """Warn (and lower the grade) when never-treated units could not have been treated by definition."""
    if eligible is None:
        return None, 0
    flags = c.require_binary(frame, eligible, "介入の対象になりうるかの列")
    never = frame[first_col].isna()
    ineligible = sorted(map(str, frame.loc[never & (flags == 0), unit].unique()))
    source = (
        f"列 {eligible}。カタログが介入の対象になりうるかの列としているため自動で使った"
        if from_catalog
        else f"列 {eligible}"
    )
    if not ineligible:
        return (
            Check(
                "comparability",
                True,
                f"比較群の単位はすべて介入の対象になりうる単位である（{source}）。",
            ),
            0,
        )
    shown = "、".join(ineligible[:8]) + (" …" if len(ineligible) > 8 else "")
    text = (
        f"比較群（未介入）のうち{len(ineligible)}単位（{shown}）は、定義上介入を受けられない単位である"
        f"（{source}）。介入群と性質が違うため比較可能性が疑わしい。対象になりうる単位だけで"
        "比べることを検討する。"
    )
    warnings.append(text)
    return Check("comparability", False, text, 1), len(ineligible)


def _window(frame: pd.DataFrame, time: str, first_col: str, window) -> tuple[int, int]:
    if window is not None:
        return int(window[0]), int(window[1])
    rel = frame[time].astype(float) - frame[first_col].astype(float)
    rel = rel.dropna()
    lo = int(max(rel.min(), -5)) if len(rel) else -1
    hi = int(min(rel.max(), 5)) if len(rel) else 0
    if lo >= 0:
        raise EstimationError(
            "介入を受けた単位に介入前の期間がありません。介入前の時点を含むデータが必要です。",
            column=time,
        )
    return min(lo, -1), max(hi, 0)


def _bacon(frame, y, unit, time, first_col, notes):
    from ebpm.methods.staggered import bacon_decomposition, make_panel, twfe_coefficient

    try:
        panel = make_panel(frame, y, unit, time, "_d")
        table = bacon_decomposition(panel)
        return table, twfe_coefficient(panel)
    except EstimationError as err:
        notes.append(f"Goodman-Bacon 分解は行わなかった（{err}）。")
        return None, None


def _forbidden_share(table: pd.DataFrame | None) -> float | None:
    if table is None or len(table) == 0:
        return None
    bad = table["type"].isin(["later_vs_earlier", "treated_vs_always"])
    return float(table.loc[bad, "weight"].sum())


def _forbidden_check(share: float | None, method: str) -> Check | None:
    if share is None:
        if method == "staggered":  # this estimator never uses the forbidden comparisons
            return None
        return Check(
            "forbidden_comparisons",
            None,
            "Goodman-Bacon 分解ができず、二方向固定効果（TWFE）推定が既に介入を受けた群との"
            "問題のある比較にどれだけ頼るかを確かめていない。",
        )
    pct = f"{share * 100:.1f}%"
    if method == "staggered":
        return Check(
            "forbidden_comparisons",
            True,
            f"通常の二方向固定効果（TWFE）推定では、既に介入を受けた群を比較群とする問題のある比較の重みが{pct}あるが、"
            "この推定（Callaway–Sant'Anna）はそれを使わない。",
        )
    if share > FORBIDDEN_SHARE_LIMIT:
        return Check(
            "forbidden_comparisons",
            False,
            f"二方向固定効果（TWFE）推定の{pct}が、既に介入を受けた群を比較群とする問題のある比較から来ている"
            f"（Goodman-Bacon 分解、基準{FORBIDDEN_SHARE_LIMIT * 100:.0f}%）。効果が時期で変わると推定値が歪む。method='staggered' で確かめること。",
        )
    return Check(
        "forbidden_comparisons",
        True,
        f"既に介入を受けた群を比較群とする問題のある比較の重みは{pct}と小さい（Goodman-Bacon 分解）。",
    )


def _units_check(n_treated: int, n_control: int) -> Check:
    if n_treated < 5 or n_control < 5:
        return Check(
            "sample_size",
            False,
            f"介入単位が{n_treated}、比較単位が{n_control}と少なく、推定値が個別の単位の事情に左右されやすい。",
        )
    return Check("sample_size", True, f"介入単位が{n_treated}、比較単位が{n_control}ある。")


def _cluster_of_units(frame, unit, cluster, units) -> np.ndarray:
    """Each unit's cluster (in ``units`` order); refuse in Japanese if a unit spans several clusters."""
    if cluster == unit:
        return np.asarray(units)
    per_unit = frame.groupby(unit)[cluster].nunique()
    if (per_unit > 1).any():
        bad = per_unit[per_unit > 1].index[0]
        raise ParameterError(
            f"method='staggered' のクラスター「{cluster}」は単位ごとに一つでなければなりません"
            f"（{unit}={bad} が複数のクラスターにまたがっています）。単位と同じか、単位をまとめた列"
            "（地域など）を指定してください。",
            parameter="se",
        )
    return frame.groupby(unit)[cluster].first().reindex(units).to_numpy()


def _panel_did(
    data,
    y,
    treat,
    post,
    unit,
    time,
    se,
    method,
    first_treated,
    control,
    window,
    warnings,
    effect_unit,
    outcome_label,
    synthetic,
    eligible=None,
    eligible_from_catalog=False,
):
    from ebpm.methods.event_study import (
        event_study,
        few_cluster_check,
        honest_check,
        inference_check,
        pre_trend_check,
    )
    from ebpm.methods.staggered import (
        callaway_santanna,
        cs_overall_batch,
        cs_wild_bootstrap,
        make_panel,
    )

    if unit is None or time is None:
        raise ParameterError(
            "パネルデータの差の差分析には unit と time の両方を指定してください。",
            parameter="unit" if unit is None else "time",
        )
    cluster = unit
    if se is not None:
        kind, col = c.parse_se(se, data)
        if kind != "cluster":
            raise ParameterError(
                "パネルの差の差分析の標準誤差は「cluster:列名」だけが使えます（既定は単位でのクラスター）。",
                parameter="se",
            )
        cluster = col
    frame, first_col = _panel_inputs(data, y, treat, post, unit, time, first_treated, warnings)
    notes: list[str] = []
    frame, always = _drop_always_treated(frame, unit, time, first_col, notes, warnings)
    eligibility, n_ineligible = _eligibility_check(
        frame, unit, first_col, eligible, warnings, from_catalog=eligible_from_catalog
    )
    lo, hi = _window(frame, time, first_col, window)
    bacon, twfe_b = _bacon(frame, y, unit, time, first_col, notes)
    share = _forbidden_share(bacon)
    fit = fit_twfe(frame, y, ["_d"], unit, time, cluster)
    twfe_est = float(fit["params"]["_d"])
    twfe_se = float(math.sqrt(fit["cov"].loc["_d", "_d"]))
    treated_units = frame.loc[frame[first_col].notna(), unit].nunique()
    control_units = frame[unit].nunique() - treated_units
    es = None
    try:
        es = event_study(
            frame,
            y,
            unit,
            time,
            first_col,
            window=(lo, hi),
            cluster=cluster if cluster != unit else None,
            bootstrap=False,
        )
    except (EstimationError, ParameterError) as err:
        notes.append(f"イベントスタディによる介入前の確認はできなかった（{err}）。")
    details: dict[str, Any] = {
        "design": method,
        "bacon": bacon,
        "twfe": {"estimate": twfe_est, "se": twfe_se},
    }
    if es is not None:
        details["event_study"] = es.details["coefficients"]
    n_treated_cl = treated_clusters(frame, frame[first_col].notna(), cluster)
    few = needs_bootstrap(fit["n_clusters"], n_treated_cl)
    if method == "twfe":
        estimate, se_value = twfe_est, twfe_se
        ci, p = t_interval(estimate, se_value, fit["df"])
        boot = wild_bootstrap(fit, np.array([1.0])) if few else None
        analytic_ja = f"クラスター頑健標準誤差（CR1）と自由度{fit['df']}のt分布"
        pre = es.diagnostics["pre_trend"] if es is not None else {"q": 0}
        checks = [pre_trend_check(pre)]
        se_type = c.se_type_ja(f"cluster:{cluster}", fit["n_clusters"])
        method_ja = f"{METHOD_JA}・二方向固定効果（TWFE）"
    else:
        panel = make_panel(frame, y, unit, time, "_d", first_col)
        cl_of_unit = _cluster_of_units(frame, unit, cluster, panel.units)
        cells, overall, dynamic = callaway_santanna(panel, control, pre_window=-lo)
        estimate, se_value = overall["estimate"], overall["se"]
        if cluster != unit:
            _, psi = cs_overall_batch(panel, panel.y[:, :, None], control)
            codes = pd.factorize(cl_of_unit[panel.first > panel.times[0]])[0]
            sums = np.zeros(int(codes.max()) + 1)
            np.add.at(sums, codes, psi[:, 0])
            se_value = float(np.sqrt(np.sum(sums**2)) / len(psi))
            details_cluster_se = {"unit_se": overall["se"]}
        else:
            details_cluster_se = {}
        if not (se_value > 0):
            raise EstimationError(
                "標準誤差が計算できませんでした（介入群か比較群の単位が少なすぎます）。"
            )
        ci = (estimate - c.Z95 * se_value, estimate + c.Z95 * se_value)
        from scipy import stats

        p = float(2 * stats.norm.sf(abs(estimate / se_value)))
        boot = cs_wild_bootstrap(panel, cl_of_unit, control) if few else None
        analytic_ja = "影響関数によるクラスター頑健標準誤差と正規分布"
        pre = overall["pre_trend"]
        if pre["q"]:
            # same small-sample F (Hotelling T², η = G − 1) as the event study's test
            eta = max(fit["n_clusters"] - 1, 1)
            q = pre["q"]
            pre["test_ja"] = "Hotelling 補正のF検定"
            pre["f_plain_p"] = float(stats.f.sf(pre["wald"] / q, q, eta))
            pre["f"], pre["f_p"] = None, None
            if eta - q + 1 >= 1:
                pre["f"] = (eta - q + 1) / (eta * q) * pre["wald"]
                pre["f_p"] = float(stats.f.sf(pre["f"], q, eta - q + 1))
        checks = [pre_trend_check(pre)]
        details.update(
            {
                "group_time": cells,
                "dynamic": dynamic,
                "event_study": dynamic.assign(
                    ci_low=lambda f: f["estimate"] - c.Z95 * f["se"],
                    ci_high=lambda f: f["estimate"] + c.Z95 * f["se"],
                    reference=False,
                ),
            }
        )
        n_cl = len(set(cl_of_unit.tolist()))
        se_type = f"クラスター頑健（{cluster}、G={n_cl:,}、影響関数による）"
        control_ja = "未介入の単位" if control == "never" else "未介入とまだ介入前の単位"
        method_ja = f"{METHOD_JA}・介入時期のずれに対応（Callaway–Sant'Anna、比較群: {control_ja}）"
    inference = describe(boot, fit["n_clusters"], n_treated_cl, cluster, (ci, p), analytic_ja)
    if method != "twfe" and details_cluster_se:
        inference.update(details_cluster_se)
    if boot is not None:
        ci, p = boot["ci"], boot["pvalue"]
    checks.append(inference_check(inference))
    honest = es.diagnostics.get("honest_did") if es is not None else None
    checks.append(
        honest_check(honest, effect_unit or c.unit_of(data, y))
        if honest is not None
        else Check(
            "pretrend_sensitivity",
            None,
            "介入前の期間が足りず、平行トレンドからのずれに対する感度分析（Rambachan–Roth）ができなかった。",
        )
    )
    if fit["cluster_warning"]:
        warnings.append(fit["cluster_warning"])
    if fit["cluster_warning"] and boot is None:
        checks.append(Check("clusters", False, fit["cluster_warning"], fit["cluster_severity"]))
    elif fit["cluster_warning"]:
        checks.append(few_cluster_check(fit["n_clusters"]))
    else:
        checks.append(
            Check(
                "clusters",
                True,
                f"クラスターは{fit['n_clusters']}個あり、クラスター頑健標準誤差を使える。",
            )
        )
    forbidden = _forbidden_check(share, method)
    if forbidden is not None:
        checks.append(forbidden)
    checks.append(_units_check(int(treated_units), int(control_units)))
    if eligibility is not None:
        checks.append(eligibility)
    grade, reasons = grading = decide("did", checks, notes)
    return EstimationResult(
        method="did",
        method_ja=method_ja,
        estimate=float(estimate),
        se=float(se_value),
        ci=(float(ci[0]), float(ci[1])),
        pvalue=float(p),
        n=int(fit["n"]),
        se_type=se_type,
        unit=effect_unit or c.unit_of(data, y),
        outcome_label=outcome_label or c.title_of(data, y),
        diagnostics={
            "design": method,
            "pre_trend": pre,
            "n_clusters": fit["n_clusters"],
            "n_treated_units": int(treated_units),
            "n_control_units": int(control_units),
            "n_always_treated_dropped": len(always),
            "always_treated_units": always,
            "n_ineligible_controls": n_ineligible,
            "eligibility_column": eligible,
            "eligibility_from_catalog": bool(eligible_from_catalog),
            "forbidden_share": share,
            "twfe_estimate": twfe_est,
            "bacon_twfe_check": twfe_b,
            "bacon_weight_sum": None if bacon is None else float(bacon["weight"].sum()),
            "bacon_weighted_estimate": None
            if bacon is None
            else float((bacon["weight"] * bacon["estimate"]).sum()),
            "n_timing_groups": int(frame.loc[frame[first_col].notna(), first_col].nunique()),
            "window": [lo, hi],
            "inference": inference,
            "honest_did": honest,
            "analytic_se": float(se_value),
        },
        grade=grade,
        reasons=reasons,
        grading=grading,
        warnings=warnings,
        synthetic=synthetic,
        details=details,
        _chart_builder=_panel_chart,
        _summary_builder=_summary,
    )


def _panel_chart(result: EstimationResult):
    """Event-time effects (TWFE event study, or Callaway–Sant'Anna dynamic aggregation)."""
    from ebpm.methods.event_study import event_study_chart

    frame = result.details.get("event_study")
    if frame is None:
        return bacon_chart(result)
    proxy = EstimationResult(
        method="event_study",
        method_ja=result.method_ja,
        estimate=result.estimate,
        se=result.se,
        ci=result.ci,
        pvalue=result.pvalue,
        n=result.n,
        se_type=result.se_type,
        unit=result.unit,
        outcome_label=result.outcome_label,
        diagnostics={"pre_trend": result.diagnostics.get("pre_trend")},
        synthetic=result.synthetic,
        details={"coefficients": frame},
    )
    return event_study_chart(proxy)


def bacon_chart(result: EstimationResult):
    """Goodman-Bacon decomposition: each 2×2 estimate against its weight, by comparison type."""
    import altair as alt

    from ebpm.charts.core import enable_theme, with_footer

    enable_theme()
    table = result.details.get("bacon")
    if table is None:
        raise EstimationError(
            "Goodman-Bacon 分解がありません（バランスパネルで吸収的な介入のときだけ計算します）。"
        )
    twfe = result.diagnostics.get("twfe_estimate")
    points = (
        alt.Chart(table)
        .mark_point(filled=True, size=70)
        .encode(
            x=alt.X("weight:Q", title="重み"),
            y=alt.Y(
                "estimate:Q", title=f"2×2 の推定値{f'（{result.unit}）' if result.unit else ''}"
            ),
            color=alt.Color("type_ja:N", title=None, legend=alt.Legend(labelLimit=0, columns=1)),
            shape=alt.Shape("type_ja:N", title=None),
            tooltip=[
                alt.Tooltip("type_ja:N", title="比較"),
                alt.Tooltip("treated:Q", title="介入群（開始時点）"),
                alt.Tooltip("control:Q", title="比較群（開始時点）"),
                alt.Tooltip("estimate:Q", format=",.4g", title="推定値"),
                alt.Tooltip("weight:Q", format=".3f", title="重み"),
            ],
        )
    )
    line = (
        alt.Chart(pd.DataFrame({"y": [twfe]}))
        .mark_rule(color="#D55E00", strokeDash=[5, 4])
        .encode(y=alt.Y("y:Q"))
    )
    chart = (line + points).properties(
        title={
            "text": "Goodman-Bacon 分解",
            "subtitle": f"破線は二方向固定効果（TWFE）推定値 {c.fmt_num(twfe)}（各2×2推定値の重み付き平均）",
        }
    )
    return with_footer(chart, synthetic=result.synthetic)


# --- summary ----------------------------------------------------------------------------------------


def _summary(result: EstimationResult) -> str:
    d = result.diagnostics
    outcome = result.outcome_label or "結果変数"
    pct = d.get("percent_change")
    if pct:  # log outcome: the natural unit is the percentage change
        head = (
            c.effect_phrase(pct["estimate"], (pct["ci_low"], pct["ci_high"]), "%", outcome)
            + f"（対数の差 {c.fmt_num(result.estimate)} を 100×(exp(b)−1) で換算"
        )
    else:
        head = c.effect_phrase(result.estimate, result.ci, result.unit, outcome) + "（"
    text = (
        head
        + f"{'、' if pct else ''}{result.method_ja}、介入群の変化から比較群の変化を差し引いた値、標準誤差は{result.se_type}）。"
        + c.ci_sentence(result.ci)
    )
    if d.get("design") == "2x2":
        text += "介入前が1期だけなので、介入がなくても両群が同じように変化したはず（平行トレンドの仮定）かは確かめられていない。"
    else:
        pre = d.get("pre_trend") or {}
        p = pre.get("f_p")
        if p is None:
            text += "介入前の合同検定ができず（介入前の期間かクラスターが足りない）、平行トレンドの仮定を確かめられていない。"
        elif p < 0.05:
            text += f"介入前から両群の差が動いており（合同検定 {c.fmt_p(p)}）、平行トレンドの仮定が疑わしい。"
        else:
            text += f"介入前の両群の差に目立った動きはない（合同検定 {c.fmt_p(p)}）が、仮定が正しいことの証明ではない。"
        share = d.get("forbidden_share")
        if d.get("design") == "twfe" and share is not None and share > FORBIDDEN_SHARE_LIMIT:
            text += f"推定値の{share * 100:.0f}%は既に介入を受けた群を比較群とする比較から来ており、効果が時期で変わると歪む。"
        if d.get("design") == "staggered" and d.get("twfe_estimate") is not None:
            twfe_unit = "（対数の差）" if pct else result.unit
            text += f"参考: 通常の二方向固定効果（TWFE）推定値は{c.fmt_num(d['twfe_estimate'])}{twfe_unit}。"
    from ebpm.methods.event_study import honest_sentence, inference_sentence

    text += inference_sentence(d.get("inference"))
    if d.get("design") != "2x2":
        text += honest_sentence(d.get("honest_did"), "（対数の差）" if pct else result.unit)
    text += "同じ時期に介入群だけに起きた別の変化があると、それも効果に含まれてしまう。"
    return text


# --- public -----------------------------------------------------------------------------------------


_DERIVED_POST = "_ebpm_post"


def _post_from_first_treated(data: pd.DataFrame, time: str, first_treated: str) -> pd.DataFrame:
    """Treated-and-after indicator from each unit's first treated period (missing/0 = never)."""
    c.require_columns(data, [time, first_treated])
    periods = c.to_periods(data, time, first_treated)
    first = pd.to_numeric(periods[first_treated], errors="coerce")
    now = pd.to_numeric(periods[time], errors="coerce")
    treated = first.notna() & (first > 0) & (now >= first)
    out = data.copy()
    out[_DERIVED_POST] = treated.astype(int).to_numpy()
    return out


_OLD_POSITIONAL = ("y", "treat", "post", "unit", "time", "se", "method", "first_treated", "control")


def did(
    data: pd.DataFrame,
    *args: Any,
    y: str | None = None,
    treat: str | None = None,
    post: str | None = None,
    unit: str | None = None,
    time: str | None = None,
    first_treated: str | None = None,
    method: Method | None = None,
    control: Control = "never",
    se: str | None = None,
    window: tuple[int, int] | None = None,
    effect_unit: str = "",
    outcome_label: str = "",
    synthetic: bool | None = None,
    eligible: str | bool | None = None,
) -> EstimationResult:
    """Difference-in-differences estimate of a policy effect.

    Parameters
    ----------
    data : DataFrame
        Without ``unit``/``time``: one row per observation with 0/1 ``treat`` and ``post``.
        With them: a long panel, one row per unit and period.
    *args
        Deprecated positional form ``did(df, y, treat, post, unit, time, se, method,
        first_treated, control)``; still accepted for one release with a ``DeprecationWarning``.
        Every argument after ``data`` is keyword-only.
    y : str
        Numeric outcome column.
    treat : str, optional
        0/1 treated-group indicator. In a panel it may be omitted when ``post`` already is the unit's
        own treatment indicator (1 from its adoption on) or when ``first_treated`` is given.
    post : str, optional
        0/1 after-treatment indicator (in a panel: the treated-and-after indicator is ``treat × post``).
        With ``first_treated`` in a panel it may be omitted: it is derived as ``time >= first_treated``.
    unit, time : str, optional
        Panel unit and (numeric) period columns. Given both, the model has unit and period fixed effects.
    se : str, optional
        2×2: ``classical``, ``HC0``–``HC3`` (default ``HC2``, which for this saturated model equals the
        unequal-variance SE of the difference of means) or ``cluster:<column>``. Panel: ``cluster:<column>``
        (default: cluster by ``unit``).
    method : {"twfe", "staggered"}, optional
        Default ``staggered`` when ``first_treated`` is given, else ``twfe``. ``twfe``: one coefficient on treat × post with unit and period FE. ``staggered``: Callaway &
        Sant'Anna (2021) group-time ATTs averaged over post-treatment cells, robust to effects that
        vary with adoption time; the Goodman-Bacon decomposition of TWFE is reported in both cases.
    first_treated : str, optional
        Column with each unit's first treated period (missing/0 = never); default read off treat × post.
    control : {"never", "notyet"}
        Staggered only: compare with never-treated units, or with never- and not-yet-treated units.
    window : (int, int), optional
        Event-time window for the pre-trend test (default up to 5 periods each side).
    effect_unit, outcome_label : str
        Natural unit and Japanese name of the outcome for the summary.
    eligible : str or False, optional
        Panel only: a 0/1 column, 1 where the unit could be treated at all (for example offices
        that handle the procedure). Never-treated units with 0 are questioned: a warning and one
        grade step (``comparability``). Default: the column a curated table declares with the
        catalog key ``eligibility`` (for example ``online_legally_possible`` of ``procedure``),
        when the data have it — kept through merges by column name; ``False`` switches this off. Units treated before the first period are always dropped,
        with a reason line and ``diagnostics["n_always_treated_dropped"]``.
    synthetic : bool, optional
        Mark as 模擬データ; default ``data.attrs.get("synthetic")``.

    Returns
    -------
    EstimationResult
        Panel results carry ``details["bacon"]`` (Goodman-Bacon table), ``details["event_study"]`` and,
        for ``staggered``, ``details["group_time"]`` and ``details["dynamic"]``.
    """
    c.require_frame(data)
    if args:
        if len(args) > len(_OLD_POSITIONAL):
            raise ParameterError(
                f"did の位置引数が多すぎます（{len(args)}個）。data 以外は名前を付けて指定してください。",
                parameter="args",
            )
        warnings_mod.warn(
            "ebpm.did の位置引数は非推奨です。名前を付けて指定してください"
            "（例: ebpm.did(df, y=..., unit=..., time=..., first_treated=...)）。",
            DeprecationWarning,
            stacklevel=2,
        )
        given = dict(zip(_OLD_POSITIONAL, args, strict=False))
        y, treat, post = given.get("y", y), given.get("treat", treat), given.get("post", post)
        unit, time, se = given.get("unit", unit), given.get("time", time), given.get("se", se)
        method = given.get("method", method)
        first_treated = given.get("first_treated", first_treated)
        control = given.get("control", control)
    if y is None:
        raise ParameterError("y（結果変数の列名）を指定してください。", parameter="y")
    if eligible is not None and not isinstance(eligible, (str, bool)):
        raise ParameterError(
            "eligible は列名（文字列）か、カタログの列を使わないときは False で指定してください"
            f"（受け取った型: {type(eligible).__name__}）。",
            parameter="eligible",
        )
    if eligible is True:
        raise ParameterError(
            "eligible には介入の対象になりうるかの列名を指定してください（True は使えません。"
            "カタログの列を使わないときは False）。",
            parameter="eligible",
        )
    eligible_from_catalog = False
    if eligible is None and unit is not None:
        from ebpm import labels

        eligible = labels.eligibility(data)
        eligible_from_catalog = eligible is not None
    elif eligible is False:
        eligible = None
    check_columns(
        data,
        y=y,
        treat=treat,
        post=post,
        unit=unit,
        time=time,
        first_treated=first_treated,
        eligible=eligible,
    )
    if method is None:
        method = "staggered" if first_treated is not None and unit is not None else "twfe"
    if post is None:
        if first_treated is None or unit is None or time is None:
            raise ParameterError(
                "post（介入後の指標の列名）を指定してください。パネルでは first_treated"
                "（各単位の最初の介入時点）を指定すれば省略できます。",
                parameter="post",
            )
        data = _post_from_first_treated(data, time, first_treated)
        post = _DERIVED_POST
    c.check_option(method, Method, "method")
    c.check_option(control, Control, "control")
    c.require_columns(data, [y, treat, post, unit, time, first_treated])
    c.require_numeric(data, y, "結果変数")
    synthetic_flag = c.is_synthetic(data, synthetic)
    warnings: list[str] = []
    if unit is None and time is None:
        if method == "staggered":
            raise ParameterError(
                "method='staggered' には unit と time の指定が必要です。", parameter="method"
            )
        if treat is None:
            raise ParameterError(
                "単位・時点なしの差の差分析には treat（介入群の指標）が必要です。",
                parameter="treat",
            )
        res = _two_by_two(
            data, y, treat, post, se, warnings, effect_unit, outcome_label, synthetic_flag
        )
        return use_log_units(res, data, y, outcome_label)
    res = _panel_did(
        c.to_periods(data, time, first_treated) if time is not None else data,
        y,
        treat,
        post,
        unit,
        time,
        se,
        method,
        first_treated,
        control,
        window,
        warnings,
        effect_unit,
        outcome_label,
        synthetic_flag,
        eligible=eligible,
        eligible_from_catalog=eligible_from_catalog,
    )
    return use_log_units(res, data, y, outcome_label)


def adoption_overview(
    data: pd.DataFrame,
    *,
    unit: str,
    first_treated: str,
    y: str,
    kind: str | None = None,
    time: str | None = None,
) -> pd.DataFrame:
    """One row per unit: its kind, adoption month (or 導入なし), number of periods and mean outcome.

    Rows are ordered by adoption date (never-adopting units last), then by name, so that a reader
    sees the rollout in order. Column names are the catalog's Japanese titles. With ``time`` (the
    period column) the mean is split into 導入前 and 導入後 (empty for units that never adopt).
    """
    c.require_frame(data)
    c.require_columns(data, [unit, first_treated, y, kind] + ([time] if time else []))
    keys = [unit] + ([kind] if kind else [])
    since = pd.to_datetime(data[first_treated], errors="coerce")
    grouped = (
        data.assign(_since=since)
        .groupby(keys, as_index=False, dropna=False)
        .agg(_since=("_since", "min"), _n=(y, "size"), _mean=(y, "mean"))
        .sort_values(["_since", unit], na_position="last", kind="stable")
    )
    label = c.title_of(data, y)
    unit_name = c.unit_of(data, y)
    out = pd.DataFrame(
        {
            c.title_of(data, unit): grouped[unit].to_numpy(),
            **({c.title_of(data, kind): grouped[kind].to_numpy()} if kind else {}),
            "導入月": [
                f"{d.year}年{d.month}月" if pd.notna(d) else "導入なし（比較群）"
                for d in grouped["_since"]
            ],
            "期間数": grouped["_n"].to_numpy(),
            f"{label}の平均" + (f"（{unit_name}）" if unit_name else ""): grouped["_mean"]
            .round(1)
            .to_numpy(),
        }
    )
    if time:
        when = pd.to_datetime(data[time], errors="coerce")
        after = when >= since
        suffix = f"（{unit_name}）" if unit_name else ""
        for name, mask in (("導入前", ~after & since.notna()), ("導入後", after)):
            means = data[mask].groupby(unit)[y].mean().round(1)
            out[f"{name}の{label}{suffix}"] = [means.get(u) for u in grouped[unit]]
    return out

"""Event study: leads and lags of adoption with unit and period fixed effects and a joint pre-trend test."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ebpm.charts.core import house_chart
from ebpm.errors import EstimationError, ParameterError
from ebpm.methods import _common as c
from ebpm.methods._inference import describe, needs_bootstrap
from ebpm.methods._inputs import check_columns, check_number
from ebpm.methods._panel import fit_twfe, t_interval, treated_clusters, wild_bootstrap
from ebpm.methods.grading import Check, decide
from ebpm.result import EstimationResult

__all__ = [
    "event_study",
    "event_study_chart",
    "prepare_event_time",
    "joint_wald",
    "pretrend_sensitivity",
    "honest_sentence",
]

HONEST_M_GRID = 6  # M values (0 … 2 × the breakdown) tabulated for the report


def _name(e: int) -> str:
    return f"rel_m{-e}" if e < 0 else f"rel_p{e}"


def prepare_event_time(
    data: pd.DataFrame, unit: str, time: str, first_treated: str
) -> tuple[pd.DataFrame, pd.Series]:
    """Validate the panel columns; return the frame and event time (NaN for never-treated units).

    ``first_treated`` holds each unit's first treated period; missing, 0 or infinite means never
    treated. It must be constant within a unit.
    """
    c.require_columns(data, [unit, time, first_treated])
    c.require_numeric(data, time, "時点")
    first = c.require_numeric(data, first_treated, "介入開始時点")
    first = first.where(first.notna() & (first != 0) & np.isfinite(first.fillna(0)))
    varies = first.groupby(data[unit]).nunique(dropna=False)
    if (varies > 1).any():
        bad = varies[varies > 1].index[0]
        raise EstimationError(
            f"介入開始時点が単位の中で一定ではありません（{unit}={bad}）。単位ごとに一つの値にしてください。",
            column=first_treated,
        )
    rel = data[time].astype(float) - first
    return data, rel


def joint_wald(
    params: pd.Series, cov: pd.DataFrame, names: list[str], df_denom: int
) -> dict[str, Any]:
    """Joint Wald test that ``params[names]`` are all zero, using their full covariance block.

    ``wald`` = b'V⁻¹b. Because V is estimated from G clusters, the p-value used for the grade
    (``f_p``) is the Hotelling T² approximation F = (η − q + 1)/(η q)·W ~ F(q, η − q + 1) with
    η = G − 1 (Pustejovsky & Tipton 2018, JBES 36(4), §3); the χ² (``chi2_p``) and the plain
    W/q ~ F(q, G − 1) (``f_plain_p``) versions are kept for reference. With 30 clusters the χ² test
    rejected true parallel trends 12% of the time, W/q 8% and Hotelling 4% in our simulation.
    If q ≥ G − 1 the test cannot be run (``f_p`` is None).
    """
    from scipy.special import chdtrc, fdtrc

    def chi2_sf(x, dof):  # = scipy.stats.chi2.sf (1 at and below 0), without its overhead
        return 1.0 if x <= 0 else float(chdtrc(dof, x))

    def f_sf(x, dfn, dfd):  # = scipy.stats.f.sf
        return 1.0 if x <= 0 else float(fdtrc(dfn, dfd, x))

    empty = {"q": 0, "wald": None, "chi2_p": None, "f": None, "f_p": None, "f_plain_p": None}
    if not names:
        return empty
    b = params[names].to_numpy(dtype=float)
    v = cov.loc[names, names].to_numpy(dtype=float)
    wald = float(b @ np.linalg.pinv(v) @ b)
    q = len(names)
    eta = max(df_denom, 1)
    out = {
        "q": q,
        "wald": wald,
        "chi2_p": chi2_sf(wald, q),
        "f_plain_p": f_sf(wald / q, q, eta),
        "f": None,
        "f_p": None,
        "test_ja": "Hotelling 補正のF検定",
    }
    if eta - q + 1 >= 1:
        f = (eta - q + 1) / (eta * q) * wald
        out.update({"f": f, "f_p": f_sf(f, q, eta - q + 1)})
    return out


@house_chart
def event_study_chart(result: EstimationResult):
    """Coefficients by event time with 95% CIs; reference period marked; vertical line at 0."""
    import altair as alt

    from ebpm.charts.core import PALETTE, enable_theme, with_footer

    enable_theme()
    frame = result.details["coefficients"].copy()
    frame["kind"] = np.where(
        frame["reference"],
        "基準期間（0に固定）",
        np.where(frame["rel_time"] < 0, "介入前", "介入後"),
    )
    y_title = f"効果{f'（{result.unit}）' if result.unit else ''}"
    base = alt.Chart(frame).encode(
        x=alt.X(
            "rel_time:Q", title="介入開始からの期間（0 = 介入開始）", axis=alt.Axis(tickMinStep=1)
        )
    )
    color = alt.Color(
        "kind:N",
        title=None,
        scale=alt.Scale(
            domain=["介入前", "基準期間（0に固定）", "介入後"],
            range=[PALETTE[0], "#888888", PALETTE[3]],
        ),
    )
    rules = base.mark_rule(strokeWidth=2).encode(
        y=alt.Y("ci_low:Q", title=y_title), y2=alt.Y2("ci_high:Q"), color=color
    )
    points = base.mark_point(filled=True, size=60).encode(
        y=alt.Y("estimate:Q"),
        color=color,
        shape=alt.ShapeValue("circle", condition={"test": "datum.reference", "value": "diamond"}),
        tooltip=[
            alt.Tooltip("rel_time:Q", title="介入からの期間"),
            alt.Tooltip("estimate:Q", title="推定値", format=",.4g"),
            alt.Tooltip("ci_low:Q", title="95%信頼区間（下限）", format=",.4g"),
            alt.Tooltip("ci_high:Q", title="95%信頼区間（上限）", format=",.4g"),
        ],
    )
    zero_y = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="#888").encode(y=alt.Y("y:Q"))
    start = (
        alt.Chart(pd.DataFrame({"x": [0.0]}))
        .mark_rule(color="#555", strokeDash=[5, 4])
        .encode(x=alt.X("x:Q"))
    )
    pt = result.diagnostics.get("pre_trend") or {}
    sub = f"標準誤差: {result.se_type}。縦線は95%信頼区間。"
    if pt.get("f_p") is not None:
        sub += f"介入前の係数の合同検定: {c.fmt_p(pt['f_p'])}"
    chart = (zero_y + start + rules + points).properties(
        title={"text": f"イベントスタディ: {result.outcome_label or '結果変数'}", "subtitle": sub}
    )
    return with_footer(chart, synthetic=result.synthetic)


def _summary(result: EstimationResult) -> str:
    outcome = result.outcome_label or "結果変数"
    d = result.diagnostics
    text = (
        c.effect_phrase(result.estimate, result.ci, result.unit, f"介入後の{outcome}")
        + f"（イベントスタディ、介入後{d['n_post']}期の係数の平均、標準誤差は{result.se_type}）。"
        + c.ci_sentence(result.ci)
    )
    pt = d.get("pre_trend") or {}
    if pt.get("f_p") is None:
        text += "介入前の合同検定ができず（介入前の期間かクラスターが足りない）、平行トレンドの仮定を確かめられていない。"
    elif pt["f_p"] < 0.05:
        text += f"介入前にすでに差の動きがあり（合同検定 {c.fmt_p(pt['f_p'])}）、平行トレンドの仮定が疑わしい。"
    else:
        text += f"介入前の係数は全体として0と区別できない（合同検定 {c.fmt_p(pt['f_p'])}）が、これは平行トレンドの仮定の証明ではない。"
    text += inference_sentence(d.get("inference"))
    text += honest_sentence(d.get("honest_did"), result.unit)
    if d.get("staggered") and not d.get("has_never_treated"):
        text += "介入時期がずれていて未介入の単位がないため、効果が時期で異なると係数が混ざりうる（did の method='staggered' も確認すること）。"
    return text


def event_study(
    data: pd.DataFrame,
    y: str,
    unit: str,
    time: str,
    first_treated: str,
    window: tuple[int, int] = (-4, 4),
    reference: int = -1,
    *,
    cluster: str | None = None,
    bootstrap: bool | None = None,
    effect_unit: str = "",
    outcome_label: str = "",
    synthetic: bool | None = None,
) -> EstimationResult:
    """Event-study regression with binned endpoints, unit and period FE and unit-clustered SEs.

    Parameters
    ----------
    data : DataFrame
        Long panel, one row per unit and period.
    y, unit, time : str
        Outcome, unit id and (numeric) period columns.
    first_treated : str
        Column with the unit's first treated period (missing, 0 or inf = never treated).
    window : (int, int), default (-4, 4)
        Event times kept as separate dummies; earlier periods are binned into the first, later ones
        into the last.
    reference : int, default -1
        Omitted event time (coefficients are relative to it).
    cluster : str, optional
        Cluster column for SEs (default ``unit``).
    bootstrap : bool, optional
        Interval for the headline average: ``None`` (default) uses the restricted wild cluster
        bootstrap when clusters are few (< 50) or few are treated (< 10), else CR1 with t(G−1);
        ``False`` always the analytic interval; ``True`` always the bootstrap.
    effect_unit, outcome_label : str
        Natural unit and Japanese name of the outcome for the summary.
    synthetic : bool, optional
        Mark as 模擬データ; default ``data.attrs.get("synthetic")``.

    Returns
    -------
    EstimationResult
        ``estimate`` is the average of the post-period coefficients (0 … m), its SE from their full
        covariance; ``details["coefficients"]`` is tidy (rel_time, estimate, se, ci_low, ci_high,
        pvalue, reference); ``diagnostics["pre_trend"]`` the joint Wald test of all leads (full covariance).
    """
    c.require_frame(data)
    check_columns(data, y=y, unit=unit, time=time, first_treated=first_treated, cluster=cluster)
    check_number(reference, "reference", integer=True, maximum=-1)
    try:
        lo, hi = int(window[0]), int(window[1])
    except (TypeError, ValueError, IndexError) as err:
        raise ParameterError(
            "window は (-k, m) の形の整数の組で指定してください。", parameter="window"
        ) from err
    if not (lo < 0 <= hi):
        raise ParameterError(
            "window は (-k, m) で k ≥ 1、m ≥ 0 としてください（例: (-4, 4)）。", parameter="window"
        )
    if not (lo <= reference < 0):
        raise ParameterError(
            f"基準期間 reference は {lo}〜-1 の整数にしてください。", parameter="reference"
        )
    c.require_numeric(data, y, "結果変数")
    warnings: list[str] = []
    frame = c.drop_missing(c.to_periods(data, time, first_treated), [unit, time, y], warnings)
    frame, rel = prepare_event_time(frame, unit, time, first_treated)
    treated = rel.notna()
    if not treated.any():
        raise EstimationError(
            "介入を受けた単位がありません（介入開始時点がすべて空です）。", column=first_treated
        )
    if (rel[treated] >= 0).all():
        raise EstimationError(
            "介入を受けた単位に介入前の期間がありません。介入前の時点を含むデータが必要です。",
            column=time,
        )
    if not (rel[treated] >= 0).any():
        raise EstimationError("介入後の時点がありません。", column=time)
    has_never = bool((~treated).any())
    if not has_never and frame.loc[treated, first_treated].nunique() < 2:
        raise EstimationError(
            "比較群がありません（全単位が同じ時期に介入を受けています）。", column=first_treated
        )
    binned = rel.clip(lower=lo, upper=hi)
    events = [e for e in range(lo, hi + 1) if e != reference]
    work = frame[
        [unit, time, y] + ([cluster] if cluster and cluster not in (unit, time, y) else [])
    ].copy()
    observed = set(binned.dropna().astype(int).unique())
    names = [_name(e) for e in events if e in observed]
    binned_values = binned.to_numpy()
    dummies = {_name(e): (binned_values == e).astype(float) for e in events if e in observed}
    work = pd.concat([work, pd.DataFrame(dummies, index=work.index)], axis=1)
    fit = fit_twfe(work, y, names, unit, time, cluster)
    params, cov = fit["params"], fit["cov"]
    position = {name: i for i, name in enumerate(params.index)}
    beta, variance = params.to_numpy(), np.diag(cov.to_numpy())
    rows = []
    for e in range(lo, hi + 1):
        if e == reference:
            rows.append((e, 0.0, 0.0, 0.0, 0.0, float("nan"), True))
            continue
        i = position.get(_name(e))
        if i is None:
            continue
        est, se = float(beta[i]), float(math.sqrt(variance[i]))
        (l_, h_), p = t_interval(est, se, fit["df"])
        rows.append((e, est, se, l_, h_, p, False))
    coefs = pd.DataFrame(
        rows, columns=["rel_time", "estimate", "se", "ci_low", "ci_high", "pvalue", "reference"]
    )
    leads = [_name(e) for e in range(lo, 0) if e != reference and _name(e) in params.index]
    lags = [_name(e) for e in range(0, hi + 1) if _name(e) in params.index]
    pre = joint_wald(params, cov, leads, fit["df"])
    a = np.ones(len(lags)) / len(lags)
    estimate = float(a @ params[lags].to_numpy())
    se = float(math.sqrt(a @ cov.loc[lags, lags].to_numpy() @ a))
    ci, p = t_interval(estimate, se, fit["df"])
    staggered = frame.loc[treated, first_treated].nunique() > 1
    cl_name = cluster or unit
    n_treated_cl = treated_clusters(frame, treated, cl_name)
    boot = None
    if bootstrap if bootstrap is not None else needs_bootstrap(fit["n_clusters"], n_treated_cl):
        a_full = np.array([1.0 / len(lags) if nm in lags else 0.0 for nm in names])
        boot = wild_bootstrap(fit, a_full)
    inference = describe(
        boot,
        fit["n_clusters"],
        n_treated_cl,
        cl_name,
        (ci, p),
        f"クラスター頑健標準誤差（CR1）と自由度{fit['df']}のt分布",
    )
    if boot is not None:
        ci, p = boot["ci"], boot["pvalue"]
    honest = pretrend_sensitivity(params, cov, leads, lags, lo, reference)
    checks = _checks(pre, fit, staggered, has_never, boot is not None)
    checks.append(inference_check(inference))
    if honest is not None:
        checks.append(honest_check(honest, effect_unit or c.unit_of(data, y)))
    if fit["cluster_warning"]:
        warnings.append(fit["cluster_warning"])
    grade, reasons = grading = decide("did", checks)
    return EstimationResult(
        method="event_study",
        method_ja="イベントスタディ",
        estimate=estimate,
        se=se,
        ci=ci,
        pvalue=p,
        n=fit["n"],
        se_type=c.se_type_ja(f"cluster:{cluster or unit}", fit["n_clusters"]),
        unit=effect_unit or c.unit_of(data, y),
        outcome_label=outcome_label or c.title_of(data, y),
        diagnostics={
            "pre_trend": pre,
            "n_clusters": fit["n_clusters"],
            "n_units": fit["n_units"],
            "n_treated_units": int(frame.loc[treated, unit].nunique()),
            "n_post": len(lags),
            "window": [lo, hi],
            "reference": reference,
            "staggered": bool(staggered),
            "has_never_treated": has_never,
            "inference": inference,
            "honest_did": honest,
        },
        grade=grade,
        reasons=reasons,
        grading=grading,
        warnings=warnings,
        synthetic=c.is_synthetic(data, synthetic),
        details={"coefficients": coefs, "vcov": cov},
        _chart_builder=event_study_chart,
        _summary_builder=_summary,
    )


def pre_trend_check(pre: dict[str, Any]) -> Check:
    """Grade check from the joint pre-trend test (fails at p < 0.05, costs two steps)."""
    if not pre.get("q"):
        return Check(
            "pre_trend",
            None,
            "介入前の期間が足りず、平行トレンドの仮定を検定できなかった。",
            severity=2,
        )
    if pre.get("f_p") is None:
        return Check(
            "pre_trend",
            None,
            f"介入前の係数（{pre['q']}個）に対してクラスターが少なく、合同検定ができなかった。",
            severity=2,
        )
    test = pre.get("test_ja", "F検定")
    if pre["f_p"] < 0.05:
        return Check(
            "pre_trend",
            False,
            f"介入前の係数（{pre['q']}個）の合同検定で、介入前から差の動きがあった（{test} {c.fmt_p(pre['f_p'])}）。平行トレンドの仮定が疑わしい。",
            severity=2,
        )
    return Check(
        "pre_trend",
        True,
        f"介入前の係数（{pre['q']}個）は全体として0と区別できない（共分散全体を使った{test} {c.fmt_p(pre['f_p'])}）。",
    )


def _checks(
    pre: dict[str, Any], fit: dict[str, Any], staggered: bool, has_never: bool, booted: bool = False
) -> list[Check]:
    checks = [pre_trend_check(pre)]
    if fit["cluster_warning"] and booted:
        checks.append(few_cluster_check(fit["n_clusters"]))
    elif fit["cluster_warning"]:
        checks.append(Check("clusters", False, fit["cluster_warning"], fit["cluster_severity"]))
    else:
        checks.append(
            Check(
                "clusters",
                True,
                f"クラスター（単位）は{fit['n_clusters']}個あり、クラスター頑健標準誤差を使える。",
            )
        )
    if staggered and not has_never:
        checks.append(
            Check(
                "staggered_no_never",
                False,
                "介入時期がずれていて未介入の単位がなく、時期による効果の違いがあると係数が混ざりうる。",
            )
        )
    return checks


# --- few-cluster inference and pre-trend sensitivity (shared with did) --------------------------------


def inference_sentence(inference: dict[str, Any] | None) -> str:
    """One Japanese sentence: which interval method was used and why."""
    if not inference:
        return ""
    return str(inference["reason_ja"])


def inference_check(inference: dict[str, Any]) -> Check:
    """Grade check: the headline interval is valid for the cluster count, or it is not (−2 steps)."""
    if not inference.get("valid", True):
        return Check("inference", False, inference["reason_ja"], severity=2)
    return Check("inference", True, inference["reason_ja"])


def few_cluster_check(n_clusters: int) -> Check:
    """Cluster-count check when the interval already comes from the wild cluster bootstrap.

    From :data:`~ebpm.methods._common.FEW_CLUSTERS_STRONG` clusters on, the bootstrap interval is
    valid and the count costs nothing; below it the bootstrap is still the best available but has
    little power and few distinct draws, so the grade drops one step.
    """
    if n_clusters < c.FEW_CLUSTERS_STRONG:
        return Check(
            "clusters",
            False,
            f"クラスターが{n_clusters}個と非常に少なく（{c.FEW_CLUSTERS_STRONG}個未満）、"
            "少数クラスター向けのブートストラップでも区間は不安定になりうる。",
        )
    return Check(
        "clusters",
        True,
        f"クラスターは{n_clusters}個と少ないが、少数クラスターでも使える方法で区間を求めた。",
    )


def pretrend_sensitivity(
    params: pd.Series,
    cov: pd.DataFrame,
    leads: list[str],
    lags: list[str],
    lo: int,
    reference: int,
) -> dict[str, Any] | None:
    """Rambachan–Roth smoothness sensitivity of the post-period average (None if it cannot be run).

    Needs the reference period at −1 and at least two consecutive pre-period coefficients before it
    (the slope of the pre-trend must be estimable).
    """
    from ebpm.methods.honest import breakdown_sd, sensitivity_sd

    expected = [_name(e) for e in range(lo, -1)]
    if reference != -1 or len(leads) < 2 or leads != expected or not lags:
        return None
    names = leads + lags
    b = params[names].to_numpy(dtype=float)
    v = cov.loc[names, names].to_numpy(dtype=float)
    lv = np.ones(len(lags)) / len(lags)
    try:
        bd = breakdown_sd(b, v, len(leads), len(lags), lv)
    except (np.linalg.LinAlgError, ValueError):
        return None
    # second differences of the pre-period path (reference 0 appended) and their standard errors
    k = len(leads)
    d2 = np.zeros((k - 1, k + 1))
    for i in range(k - 1):
        d2[i, i : i + 3] = (1.0, -2.0, 1.0)
    path_cov = np.zeros((k + 1, k + 1))
    path_cov[:k, :k] = v[:k, :k]
    bends = d2 @ np.append(b[:k], 0.0)
    bend_se = np.sqrt(np.maximum(np.diag(d2 @ path_cov @ d2.T), 0.0))
    detected = bool(np.any(np.abs(bends) > c.Z95 * bend_se))
    top = bd["breakdown_m"] or bd["pre_curvature"] or 0.0
    grid = np.linspace(0, 2 * top, HONEST_M_GRID) if top > 0 else np.array([0.0])
    table = sensitivity_sd(b, v, len(leads), len(lags), grid, lv)
    return {
        "restriction": "smoothness",
        "method_ja": "Rambachan–Roth の感度分析（平滑性制約 Δ^SD(M)、固定長信頼区間）",
        "breakdown_m": bd["breakdown_m"],
        "pre_curvature": bd["pre_curvature"],
        "pre_curvature_detected": detected,
        "sign": bd["sign"],
        "at_zero": [bd["at_zero"]["lb"], bd["at_zero"]["ub"]],
        "table": [{"m": r["m"], "lb": r["lb"], "ub": r["ub"]} for r in table],
    }


def honest_sentence(honest: dict[str, Any] | None, unit: str = "") -> str:
    """One Japanese sentence stating the breakdown value of the pre-trend sensitivity analysis."""
    if not honest:
        return "介入前の期間が足りず、平行トレンドからのずれに対する感度分析はできなかった。"
    direction = "プラス" if honest["sign"] > 0 else "マイナス"
    curv = honest.get("pre_curvature")
    seen = ""
    if curv is not None and honest.get("pre_curvature_detected"):
        seen = f"（介入前にも1期あたり最大{c.fmt_num(curv)}{unit}の曲がりがはっきり見られる）"
    if honest["breakdown_m"] is None:
        return (
            "感度分析（Rambachan–Roth）では、介入前の傾きをそのまま延ばしただけでも効果の向きが"
            f"{direction}とは言い切れなくなる。"
        )
    return (
        "感度分析（Rambachan–Roth）では、介入がなかった場合の両群の差の傾きが1期あたり"
        f"{c.fmt_num(honest['breakdown_m'])}{unit}まで変わっても効果の向き（{direction}）は保たれる{seen}。"
    )


def honest_check(honest: dict[str, Any], unit: str = "") -> Check:
    """Grade check from the breakdown value.

    Fails (one step) when even a linear extrapolation of the pre-trend (M = 0) leaves the sign open,
    or when a bend in the pre-period coefficients that is statistically detectable (|Δ²β| > 1.96 SE)
    is larger than the breakdown value — a violation of a size already seen before adoption would
    overturn the sign (the smoothness analogue of a relative-magnitude breakdown M̄ < 1). A bend that
    is within noise is reported but does not cost the grade.
    """
    sentence = honest_sentence(honest, unit)
    bd, curv = honest["breakdown_m"], honest.get("pre_curvature")
    seen = honest.get("pre_curvature_detected", True)
    if bd is None or (seen and curv is not None and bd < curv):
        return Check(
            "pretrend_sensitivity",
            False,
            sentence + "介入前に見られた程度のずれで結論が変わりうる。",
        )
    return Check("pretrend_sensitivity", True, sentence)

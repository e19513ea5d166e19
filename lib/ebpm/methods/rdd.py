"""Regression discontinuity (回帰不連続デザイン, RDD), sharp or fuzzy: rdrobust estimate, density test,
first stage, sensitivity, plot."""

from __future__ import annotations

import contextlib
import io
import math
import warnings as pywarnings
from typing import Any, Literal

import numpy as np
import pandas as pd

from ebpm.errors import EstimationError, ParameterError
from ebpm.methods._common import (
    change_range,
    check_option,
    close_summary,
    drop_missing,
    fmt_num,
    fmt_p,
    is_synthetic,
    require_columns,
    require_frame,
    require_numeric,
    title_of,
    unit_of,
)
from ebpm.methods._inputs import check_columns, check_number
from ebpm.methods.grading import Check, decide
from ebpm.result import EstimationResult

Kernel = Literal["triangular", "uniform", "epanechnikov"]

MIN_SIDE = 10  # fewer observations than this on one side of the cutoff: no local fit is possible
MIN_EFFECTIVE = 20  # effective observations (inside the bandwidth) wanted on each side
BANDWIDTH_MULTIPLIERS = (0.5, 0.75, 1.0, 1.5, 2.0)
ALPHA = 0.05
PLOT_BINS = 20  # evenly spaced bins on each side for the RD plot
# first-stage F (the squared t of the jump in treatment) wanted for a fuzzy design: below it the
# instrument is weak and the ratio estimate is biased with too narrow intervals (Staiger & Stock 1997)
MIN_FIRST_STAGE_F = 10.0


def _run_rdrobust(y, x, cutoff, **kw) -> tuple[Any, list[str]]:
    """Call rdrobust, turning its printed/raised complaints into Japanese errors or notes."""
    from rdrobust import rdrobust

    out = io.StringIO()
    with pywarnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(out):
        pywarnings.simplefilter("always")
        try:
            fit = rdrobust(y, x, c=cutoff, **kw)
        except Exception as err:  # rdrobust raises bare Exceptions on degenerate input
            raise EstimationError(
                f"局所多項式回帰（rdrobust）を計算できませんでした（原文: {err}）。"
                "しきい値の両側に十分な観測があるか、帯域幅が狭すぎないかを確かめてください。"
            ) from err
    notes = [str(w.message) for w in caught] + [ln for ln in out.getvalue().splitlines() if ln]
    return fit, notes


def _values(fit, row: str, what: str) -> float:
    table = {"coef": fit.coef, "se": fit.se, "pv": fit.pv}[what]
    return float(table.loc[row].iloc[0])


def rdd(
    data: pd.DataFrame,
    y: str,
    x: str,
    cutoff: float = 0.0,
    bandwidth: float | None = None,
    kernel: Kernel = "triangular",
    p: int = 1,
    *,
    treatment: str | None = None,
    controls: list[str] | None = None,
    covariates: list[str] | None = None,
    cluster: str | None = None,
    density_test: bool = True,
    effect_unit: str = "",
    outcome_label: str | None = None,
    running_label: str | None = None,
    treatment_label: str | None = None,
    synthetic: bool | None = None,
    source: str | None = None,
) -> EstimationResult:
    """Regression discontinuity by local polynomial regression (rdrobust): sharp, or fuzzy when
    ``treatment`` names what each unit actually received.

    Parameters
    ----------
    data : DataFrame
    y : str
        Outcome column.
    x : str
        Running variable; units with ``x >= cutoff`` are treated (sharp design) or are offered the
        treatment (fuzzy design).
    cutoff : float
        The threshold.
    bandwidth : float, optional
        Main bandwidth h; default the MSE-optimal common bandwidth (rdrobust ``mserd``).
    kernel : {"triangular", "uniform", "epanechnikov"}
    p : int
        Order of the local polynomial (1 = local linear).
    treatment : str, optional
        Treatment actually received (0/1, or a share), for a fuzzy design: not everyone above the
        cutoff takes the treatment, or some below it do. The estimate is then the jump in the outcome
        divided by the jump in treatment (rdrobust ``fuzzy``): the effect for those whose treatment the
        cutoff changed (compliers), at the cutoff. The first stage is graded (F ≥ 10).
    controls : list of str, optional
        Pre-determined covariates added to the local regression for precision (rdrobust ``covs``,
        Calonico, Cattaneo, Farrell & Titiunik 2019): with the same slopes on both sides they do not
        move what is estimated, only narrow the interval when they explain the outcome.
    covariates : list of str, optional
        Pre-determined covariates to test for balance at the cutoff (each as an RD outcome).
    cluster : str, optional
        Cluster column for the variance (rdrobust ``cluster``).
    density_test : bool
        Run the manipulation test of Cattaneo, Jansson & Ma (rddensity).
    effect_unit, outcome_label, running_label, treatment_label : str
        Natural unit and Japanese names for the summary and chart.
    synthetic : bool, optional
        Mark the result as 模擬データ; defaults to ``data.attrs["synthetic"]``.
    source : str, optional
        Source line for the chart footer.

    Returns
    -------
    EstimationResult
        ``estimate`` and ``se`` are rdrobust's conventional ones; ``ci`` and ``pvalue`` are the robust
        bias-corrected ones (Calonico, Cattaneo & Titiunik 2014), as rdrobust reports them.
    """
    require_frame(data)
    check_option(kernel, Kernel, "kernel")
    check_columns(
        data,
        y=y,
        x=x,
        treatment=treatment,
        cluster=cluster,
        controls=controls,
        covariates=covariates,
    )
    cutoff = check_number(cutoff, "cutoff")
    if not isinstance(p, (int, np.integer)) or isinstance(p, bool) or not 0 <= p <= 4:
        raise ParameterError("p（多項式の次数）は0〜4の整数で指定してください。", parameter="p")
    if bandwidth is not None:
        bandwidth = check_number(bandwidth, "bandwidth", minimum=0, exclusive_minimum=True)
    covariates, controls = list(covariates or []), list(controls or [])
    require_columns(data, [y, x, treatment, cluster, *controls, *covariates])
    warnings: list[str] = []
    synthetic = is_synthetic(data, synthetic)

    frame = drop_missing(data, [y, x, treatment, cluster, *controls], warnings)
    yv = require_numeric(frame, y).to_numpy()
    xv = require_numeric(frame, x, "割当変数").to_numpy()
    tv = None if treatment is None else require_numeric(frame, treatment, "処置変数").to_numpy()
    lo_x, hi_x = float(xv.min()), float(xv.max())
    if not lo_x < cutoff <= hi_x:
        raise EstimationError(
            f"しきい値 {fmt_num(cutoff)} が割当変数の範囲（{fmt_num(lo_x)}〜{fmt_num(hi_x)}）の外です。",
            parameter="cutoff",
            column=x,
        )
    n_left, n_right = int((xv < cutoff).sum()), int((xv >= cutoff).sum())
    if min(n_left, n_right) < MIN_SIDE:
        raise EstimationError(
            f"しきい値の片側の観測が少なすぎます（左{n_left}件・右{n_right}件、"
            f"各{MIN_SIDE}件以上が必要）。",
            parameter="cutoff",
        )

    treatment_label = treatment_label or (title_of(data, treatment) if treatment else None)
    kw: dict[str, Any] = {"kernel": kernel, "p": p}
    if tv is not None:
        _require_first_stage(tv, xv, cutoff, treatment, treatment_label)
        kw["fuzzy"] = tv
    if controls:
        kw["covs"] = np.column_stack(
            [require_numeric(frame, c, "調整に使う共変量").to_numpy() for c in controls]
        )
    if cluster:
        kw["cluster"] = frame[cluster].to_numpy()
    if bandwidth is not None:
        kw["h"] = float(bandwidth)
    fit, notes = _run_rdrobust(yv, xv, cutoff, **kw)
    if notes:
        warnings.append("rdrobust からの注意: " + " / ".join(dict.fromkeys(notes)))

    h = float(fit.bws.loc["h"].iloc[0])
    b = float(fit.bws.loc["b"].iloc[0])
    estimate = _values(fit, "Conventional", "coef")
    se = _values(fit, "Conventional", "se")
    ci = tuple(float(v) for v in fit.ci.loc["Robust"])
    pvalue = _values(fit, "Robust", "pv")
    eff_left, eff_right = (int(v) for v in fit.N_h)

    diagnostics: dict[str, Any] = {
        "cutoff": cutoff,
        "bandwidth_h": h,
        "bandwidth_b": b,
        "bandwidth_rule": "指定値" if bandwidth is not None else "MSE最適（mserd）",
        "kernel": kernel,
        "p": p,
        "n_left": n_left,
        "n_right": n_right,
        "n_effective_left": eff_left,
        "n_effective_right": eff_right,
        "conventional_ci": [float(v) for v in fit.ci.loc["Conventional"]],
        "bias_corrected_estimate": _values(fit, "Bias-Corrected", "coef"),
        "robust_se": _values(fit, "Robust", "se"),
        "design": "fuzzy" if tv is not None else "sharp",
        "controls": controls,
    }
    checks: list[Check] = []
    if tv is not None:
        diagnostics["first_stage"], check = _first_stage(fit, tv, treatment_label)
        checks.append(check)

    # effective sample on each side
    small = min(eff_left, eff_right)
    checks.append(
        Check(
            "effective_n",
            small >= MIN_EFFECTIVE,
            f"帯域幅の内側の観測は左{eff_left:,}件・右{eff_right:,}件"
            f"（各{MIN_EFFECTIVE}件以上が目安）。",
            severity=1 if small >= MIN_EFFECTIVE // 2 else 2,
        )
    )

    # manipulation (density) test
    if density_test:
        diagnostics["density"], check = _density(xv, cutoff)
    else:
        diagnostics["density"] = {"ran": False, "switched_off": True}
        check = Check(
            "density",
            None,
            "密度検定（操作の検定）を行っていない（density_test=False）ため、割当変数の操作がないことを"
            "確かめていない。",
            severity=2,
        )
    checks.append(check)

    # bandwidth sensitivity
    sens = _sensitivity(yv, xv, cutoff, h, b, kw)
    diagnostics["bandwidth_sensitivity"] = sens
    main_lo, main_hi = ci
    ests = sens["estimate"]
    same_sign = bool((np.sign(ests) == np.sign(estimate)).all())  # a NaN row counts as unstable
    inside = bool(ests.between(main_lo, main_hi).all())
    checks.append(
        Check(
            "bandwidth_sensitivity",
            same_sign and inside,
            "帯域幅を0.5倍〜2倍に変えた推定値は"
            + change_range(
                sens["estimate"].min(), sens["estimate"].max(), effect_unit, num=fmt_num
            )  # fmt: skip
            + "で、"
            + (
                "符号が変わらず主推定の95%信頼区間に収まる（安定）。"
                if same_sign and inside
                else "主推定の95%信頼区間から外れるか符号が変わり、帯域幅の選び方に左右される。"
            ),
        )
    )

    # covariate balance
    if covariates:
        balance = _balance(frame, covariates, xv, cutoff, kernel, p)
        diagnostics["covariate_balance"] = balance
        threshold = ALPHA / len(covariates)
        worst = balance.loc[balance["pvalue"].idxmin()]
        ok = bool(worst["pvalue"] >= threshold)
        checks.append(
            Check(
                "covariate_balance",
                ok,
                f"事前に決まっている共変量{len(covariates)}個のしきい値での差は"
                + (
                    f"いずれも有意でない（最小 {fmt_p(worst['pvalue'])}、Bonferroni 補正後の水準"
                    f" {threshold:.3g}）。"
                    if ok
                    else f"「{worst['label']}」で有意（{fmt_p(worst['pvalue'])}）で、しきい値の"
                    "前後で比べる集団が違う可能性がある。"
                ),
            )
        )
    else:
        checks.append(
            Check(
                "covariate_balance",
                None,
                "共変量（covariates）が指定されておらず、しきい値前後の集団の似かたを確かめていない。",
            )
        )

    grade, reasons = grading = decide("rdd", checks)
    plot_data = _plot_data(yv, xv, cutoff, h, kernel, p)
    if tv is not None:
        plot_data["first_stage"] = _plot_data(tv, xv, cutoff, h, kernel, p)
    return EstimationResult(
        method="rdd",
        method_ja="回帰不連続デザイン（RDD）"
        if tv is None
        else "ファジー回帰不連続デザイン（ファジーRDD）",
        estimate=estimate,
        se=se,
        ci=ci,
        pvalue=pvalue,
        n=eff_left + eff_right,
        se_type=(
            "通常（rdrobust、近傍法による分散推定"
            + (f"・クラスター頑健（{cluster}）" if cluster else "")
            + "）。信頼区間とp値は頑健バイアス補正"
            + (f"。共変量（{'、'.join(controls)}）で調整" if controls else "")
        ),
        unit=effect_unit or unit_of(data, y),
        outcome_label=outcome_label or title_of(data, y),
        diagnostics=diagnostics,
        grade=grade,
        reasons=reasons,
        grading=grading,
        warnings=warnings,
        synthetic=synthetic,
        details={
            "bandwidth_sensitivity": sens,
            "plot_data": plot_data,
            "running_label": running_label or x,
            "treatment_label": treatment_label,
            "control_labels": [title_of(data, c) for c in controls],
            "source": source,
        },
        _chart_builder=_chart,
        _summary_builder=_summary,
    )


def _is_share(tv: np.ndarray) -> bool:
    return bool(np.isin(tv, (0.0, 1.0)).all())


def _require_first_stage(tv, xv, cutoff, treatment, label) -> None:
    """A fuzzy design needs the treatment to change at the cutoff; say so in Japanese if it cannot."""
    left, right = tv[xv < cutoff], tv[xv >= cutoff]
    if np.ptp(left) == 0 and np.ptp(right) == 0 and left[0] == right[0]:
        raise EstimationError(
            f"処置変数「{label}」（{treatment}）がしきい値の両側で同じ値（{fmt_num(left[0])}）のため、"
            "しきい値で処置の受け方が変わらず、ファジーRDDの効果は推定できません。"
            "実際に処置を受けたかどうかの列を指定してください。",
            parameter="treatment",
            column=treatment,
        )


def _first_stage_jump(first: dict[str, Any], label: str) -> str:
    """「処置（給付）を受ける割合が約59ポイント低い」: the first stage, right side minus left."""
    estimate = first["estimate"]
    if first["share"]:
        return f"処置（{label}）を受ける割合が約{fmt_num(abs(estimate) * 100)}ポイント" + (
            "高い" if estimate >= 0 else "低い"
        )
    return f"処置（{label}）の量が約{fmt_num(abs(estimate))}" + (
        "多い" if estimate >= 0 else "少ない"
    )


def _first_stage(fit, tv, label) -> tuple[dict[str, Any], Check]:
    """The jump in treatment at the cutoff (rdrobust's T-component) and its F statistic."""
    estimate = float(fit.tau_T.loc["Conventional"].iloc[0])
    se = float(fit.se_T.loc["Conventional"].iloc[0])
    f_stat = (estimate / se) ** 2 if se > 0 else math.inf
    info = {
        "estimate": estimate,
        "se": se,
        "ci": [float(v) for v in fit.ci_T.loc["Robust"]],
        "pvalue": float(fit.pv_T.loc["Robust"].iloc[0]),
        "f_stat": f_stat,
        "share": _is_share(tv),
    }
    ok = f_stat >= MIN_FIRST_STAGE_F
    return info, Check(
        "first_stage",
        ok,
        f"しきい値の右側では{_first_stage_jump(info, label)}（第1段階のF値 {fmt_num(f_stat)}、"
        f"{MIN_FIRST_STAGE_F:g}以上が目安）"
        + (
            "。"
            if ok
            else "。処置の受け方の変化が小さく、効果の推定値は偏りやすく信頼区間も当てにならない。"
        ),
        severity=2,
    )


def _density(xv: np.ndarray, cutoff: float) -> tuple[dict[str, Any], Check]:
    """Manipulation test of Cattaneo, Jansson & Ma (2020) via rddensity (jackknife p-value)."""
    from rddensity import rddensity

    out = io.StringIO()
    try:
        with pywarnings.catch_warnings(), contextlib.redirect_stdout(out):
            pywarnings.simplefilter("ignore")
            res = rddensity(X=xv, c=cutoff)
        pv = float(res.test["p_jk"])
        t = float(res.test["t_jk"])
    except Exception as err:  # noqa: BLE001 - any failure means the check could not run
        return {"ran": False, "error": str(err)}, Check(
            "density", None, "密度検定（操作の検定）を計算できなかった。", severity=2
        )
    if not math.isfinite(pv):
        return {"ran": False}, Check(
            "density", None, "密度検定（操作の検定）の値が得られなかった。", severity=2
        )
    ok = pv >= ALPHA
    info = {"ran": True, "t": t, "pvalue": pv, "h_left": float(res.h["left"]),
            "h_right": float(res.h["right"])}  # fmt: skip
    return info, Check(
        "density",
        ok,
        "しきい値の前後で観測の密度に"
        + ("不自然な段差はない" if ok else "段差があり、割当変数が操作されている可能性がある")
        + f"（密度検定 {fmt_p(pv)}）。",
        severity=2,
    )


def _sensitivity(yv, xv, cutoff, h, b, kw) -> pd.DataFrame:
    """Re-estimate at multiples of h, scaling the bias bandwidth b alike (so ×1 is the main fit)."""
    rows = []
    base = {k: v for k, v in kw.items() if k != "h"}
    for m in BANDWIDTH_MULTIPLIERS:
        try:
            fit, _ = _run_rdrobust(yv, xv, cutoff, h=h * m, b=b * m, **base)
        except EstimationError:  # too few points inside a narrow bandwidth: leave the row empty
            rows.append({"multiplier": m, "bandwidth": h * m, "estimate": np.nan, "se": np.nan,
                         "ci_low": np.nan, "ci_high": np.nan, "n_effective": 0})  # fmt: skip
            continue
        rows.append(
            {
                "multiplier": m,
                "bandwidth": h * m,
                "estimate": _values(fit, "Conventional", "coef"),
                "se": _values(fit, "Conventional", "se"),
                "ci_low": float(fit.ci.loc["Robust"].iloc[0]),
                "ci_high": float(fit.ci.loc["Robust"].iloc[1]),
                "n_effective": int(sum(fit.N_h)),
            }
        )
    return pd.DataFrame(rows)


def _balance(frame, covariates, xv, cutoff, kernel, p) -> pd.DataFrame:
    rows = []
    for cov in covariates:
        values = require_numeric(frame, cov, "共変量")
        keep = values.notna().to_numpy()
        fit, _ = _run_rdrobust(values.to_numpy()[keep], xv[keep], cutoff, kernel=kernel, p=p)
        rows.append(
            {
                "covariate": cov,
                "label": title_of(frame, cov),
                "unit": unit_of(frame, cov),
                "estimate": _values(fit, "Conventional", "coef"),
                "ci_low": float(fit.ci.loc["Robust"].iloc[0]),
                "ci_high": float(fit.ci.loc["Robust"].iloc[1]),
                "pvalue": _values(fit, "Robust", "pv"),
                "bandwidth": float(fit.bws.loc["h"].iloc[0]),
            }
        )
    return pd.DataFrame(rows)


def _kernel_weights(u: np.ndarray, kernel: str) -> np.ndarray:
    a = np.abs(u)
    if kernel == "uniform":
        return (a <= 1).astype(float)
    if kernel == "epanechnikov":
        return np.where(a <= 1, 0.75 * (1 - a**2), 0.0)
    return np.where(a <= 1, 1 - a, 0.0)


def _plot_data(yv, xv, cutoff, h, kernel, p) -> dict[str, pd.DataFrame]:
    """Binned means (evenly spaced bins each side) and the local fits within the bandwidth."""
    bins = []
    for side, mask in (("left", xv < cutoff), ("right", xv >= cutoff)):
        xs, ys = xv[mask], yv[mask]
        edges = np.linspace(xs.min(), xs.max(), PLOT_BINS + 1)
        idx = np.clip(np.digitize(xs, edges[1:-1]), 0, PLOT_BINS - 1)
        frame = pd.DataFrame({"bin": idx, "x": xs, "y": ys}).groupby("bin")
        binned = frame.agg(x=("x", "mean"), y=("y", "mean"), n=("y", "size")).reset_index()
        bins.append(binned.assign(side=side))
    fits = []
    for side, lo, hi in (("left", cutoff - h, cutoff), ("right", cutoff, cutoff + h)):
        mask = (xv >= lo) & (xv < hi) if side == "left" else (xv >= lo) & (xv <= hi)
        if mask.sum() <= p + 1:
            continue
        u = (xv[mask] - cutoff) / h
        w = _kernel_weights(u, kernel)
        coef = np.polyfit(xv[mask] - cutoff, yv[mask], deg=p, w=np.sqrt(w))
        grid = np.linspace(lo, hi, 50)
        fits.append(pd.DataFrame({"x": grid, "y": np.polyval(coef, grid - cutoff), "side": side}))
    return {"bins": pd.concat(bins, ignore_index=True), "fits": pd.concat(fits, ignore_index=True)}


def _summary(res: EstimationResult) -> str:
    d = res.diagnostics
    lo, hi = res.ci
    word = "高い" if res.estimate >= 0 else "低い"
    words = change_range(lo, hi, res.unit, less="低い", more="高い", particle="", num=fmt_num)
    amount = (
        f"{res.outcome_label}が約{fmt_num(abs(res.estimate))}{res.unit}{word}"
        f"（頑健バイアス補正の95%信頼区間は{words}）。"
    )
    sure = (
        "信頼区間は0を含まず、しきい値での差がないとは考えにくい。"
        if lo > 0 or hi < 0
        else "信頼区間は0を含んでおり、差がない可能性も否定できない。"
    )
    near = (
        f"しきい値付近（帯域幅 {fmt_num(d['bandwidth_h'])}、左{d['n_effective_left']:,}件・"
        f"右{d['n_effective_right']:,}件）"
    )
    caveat = "しきい値をまたいで割当変数が操作されていたり、同じしきい値で別の制度が変わっていたりすると偏る。"
    if d.get("controls"):
        labels = "・".join(res.details.get("control_labels") or d["controls"])
        caveat = (
            f"推定では{labels}の違いを調整した（推定の精度を上げるためで、推定する効果は変わらない）。"
            + caveat
        )
    if d.get("design") != "fuzzy":
        head = f"しきい値（{fmt_num(d['cutoff'])}）をわずかに上回る側では、下回る側に比べて{amount}"
        scope = (
            f"この推定は{near}の比較であり、しきい値から離れた人にも同じ効果があるとは限らない。"
        )
        return close_summary(f"{head}{sure}{scope}{caveat}", res)
    first = d["first_stage"]
    label = res.details["treatment_label"]
    head = (
        f"しきい値（{fmt_num(d['cutoff'])}）のどちら側かで処置（{label}）の有無が変わる人では、"
        f"処置を受けると受けない場合に比べて{amount}"
    )
    stage = (
        f"しきい値の右側では{_first_stage_jump(first, label)}（第1段階のF値 "
        f"{fmt_num(first['f_stat'])}）ため、結果の段差をこの段差で割って求めた。"
    )
    scope = (
        f"この推定は{near}で、しきい値によって処置の有無が変わる人についてのものであり、"
        "基準にかかわらず処置を受ける人・受けない人や、しきい値から離れた人にも同じ効果があるとは限らない。"
    )
    caveat += "しきい値を超えたこと自体が、処置を通さずに結果に影響する場合も偏る。"
    return close_summary(f"{head}{sure}{stage}{scope}{caveat}", res)


def _panel(data: dict[str, pd.DataFrame], cutoff: float, xlab: str, ylab: str):
    import altair as alt

    side = alt.Color(
        "side:N",
        title=None,
        scale=alt.Scale(domain=["left", "right"], range=["#0072B2", "#D55E00"]),
        legend=None,
    )
    points = (
        alt.Chart(data["bins"])
        .mark_point(filled=True, size=40)
        .encode(
            x=alt.X("x:Q", title=xlab),
            y=alt.Y("y:Q", title=ylab, scale=alt.Scale(zero=False)),
            color=side,
            tooltip=[
                alt.Tooltip("x:Q", format=",.3~g"),
                alt.Tooltip("y:Q", format=",.3~g"),
                alt.Tooltip("n:Q"),
            ],
        )
    )
    fits = (
        alt.Chart(data["fits"])
        .mark_line(strokeWidth=2.5)
        .encode(x=alt.X("x:Q"), y=alt.Y("y:Q"), color=side, detail=alt.Detail("side:N"))
    )
    rule = (
        alt.Chart(pd.DataFrame({"x": [cutoff]}))
        .mark_rule(strokeDash=[4, 3], color="#555")
        .encode(x=alt.X("x:Q"))
    )
    return points + fits + rule


def _chart(res: EstimationResult):
    import altair as alt

    from ebpm.charts.core import enable_theme, with_footer

    enable_theme()
    data = res.details["plot_data"]
    cutoff = res.diagnostics["cutoff"]
    xlab = res.details["running_label"]
    subtitle = (
        f"点: 区間ごとの平均　線: 帯域幅 {fmt_num(res.diagnostics['bandwidth_h'])} 内の局所回帰"
    )
    if "first_stage" not in data:
        chart = _panel(data, cutoff, xlab, res.outcome_label).properties(
            title=alt.TitleParams(
                f"{res.outcome_label}のしきい値前後の比較（回帰不連続デザイン）", subtitle=subtitle
            )
        )
        return with_footer(chart, source=res.details.get("source"), synthetic=res.synthetic)
    label = res.details["treatment_label"]
    share = res.diagnostics["first_stage"]["share"]
    outcome = _panel(data, cutoff, xlab, res.outcome_label).properties(
        width=260, title=f"結果: {res.outcome_label}"
    )
    first = _panel(
        data["first_stage"], cutoff, xlab, f"{label}" + ("を受けた割合" if share else "")
    )
    first = first.properties(
        width=260, title=f"第1段階: {label}" + ("を受けた割合" if share else "")
    )
    chart = alt.hconcat(outcome, first, spacing=24).properties(
        title=alt.TitleParams(
            f"{res.outcome_label}のしきい値前後の比較（ファジー回帰不連続デザイン）",
            subtitle=subtitle + "　効果＝結果の段差÷第1段階の段差",
        )
    )
    return with_footer(chart, source=res.details.get("source"), synthetic=res.synthetic)

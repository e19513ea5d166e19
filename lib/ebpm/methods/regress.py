"""Linear regression (statsmodels OLS formula API) with an explicit standard-error type."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

from ebpm.errors import EstimationError, ParameterError
from ebpm.methods import _common as c
from ebpm.methods._inputs import check_column
from ebpm.methods.grading import Check, decide
from ebpm.result import EstimationResult

__all__ = ["regress", "fit_ols", "coefficient_chart"]


def _first_term(formula: str) -> str | None:
    """The first right-hand-side term as written (patsy reorders terms, the user did not)."""
    rhs = formula.split("~", 1)[1]
    depth = 0
    token = ""
    for ch in rhs + "+":
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch in "+-" and depth == 0:
            t = token.strip()
            if t and t not in {"0", "1"}:
                return t
            token = ""
        else:
            token += ch
    return None


def _match_term(names: list[str], term: str) -> str | None:
    """Map a formula term (``x``, ``C(g)``, ``treat:post``) to its first design-matrix column."""
    compact = term.replace(" ", "")
    for name in names:
        if name == compact or name.startswith(compact + "[") or name.replace(" ", "") == compact:
            return name
    return None


def _collinear_columns(exog: np.ndarray, names: list[str]) -> list[str]:
    """Columns that add nothing to the rank when added left to right (the redundant ones)."""
    redundant: list[str] = []
    kept: list[int] = []
    rank = 0
    for j in range(exog.shape[1]):
        trial = exog[:, kept + [j]]
        r = np.linalg.matrix_rank(trial)
        if r > rank:
            kept.append(j)
            rank = r
        else:
            redundant.append(names[j])
    return redundant


def fit_ols(data: pd.DataFrame, formula: str, se: str = "classical") -> dict[str, Any]:
    """Fit OLS by formula with the requested SE type; return the fit, SE wording and checks.

    Parameters
    ----------
    data : DataFrame
    formula : str
        A patsy formula, e.g. ``"wait ~ treat * post"``.
    se : str
        ``classical``, ``HC0``–``HC3`` or ``cluster:<column>``.

    Returns
    -------
    dict
        ``fit`` (statsmodels results), ``se_type`` (Japanese), ``n_clusters``, ``cluster_warning``
        and ``cluster_severity``, ``coefficients`` (tidy frame), ``warnings`` (Japanese).
    """
    import statsmodels.formula.api as smf

    c.require_frame(data)
    if not isinstance(formula, str) or "~" not in formula:
        kind = "" if isinstance(formula, str) else "文字列の式で、"
        raise ParameterError(
            f"式は{kind}「結果 ~ 説明変数1 + 説明変数2」の形で指定してください。",
            parameter="formula",
        )
    kind, cluster_col = c.parse_se(se, data)
    lhs = formula.split("~", 1)[0].strip()
    if lhs in data.columns:
        c.require_numeric(data, lhs, "結果変数")
    elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", lhs):
        check_column(data, lhs, "formula")
    warnings: list[str] = []
    frame = data
    if cluster_col is not None:
        frame = c.drop_missing(data, [cluster_col], warnings)
    try:
        model = smf.ols(formula, data=frame, missing="drop")
    except Exception as err:  # patsy reports unknown names and bad syntax
        text = str(err).splitlines()[0]
        missing = re.search(r"name '([^']+)' is not defined", text)
        if missing:
            check_column(data, missing.group(1), "formula")
        raise EstimationError(
            f"式「{formula}」を解釈できません（{text}）。", parameter="formula"
        ) from err
    dropped = len(frame) - int(model.nobs)
    if dropped > 0:
        warnings.append(f"欠測のある{dropped:,}行を除いて推定した（全{len(frame):,}行中）。")
    return fit_model(model, frame, se, kind, cluster_col, warnings)


def fit_model(
    model: Any,
    frame: pd.DataFrame,
    se: str,
    kind: str,
    cluster_col: str | None,
    warnings: list[str],
) -> dict[str, Any]:
    """The part of :func:`fit_ols` after the design is built: checks, the fit and the tidy table.

    ``model`` is a statsmodels OLS model (from a formula, or from a design matrix whose columns are
    named as the formula would name them); ``kind``/``cluster_col`` come from
    :func:`ebpm.methods._common.parse_se` of ``se``.
    """
    names = list(model.exog_names)
    if int(model.nobs) <= len(names):
        raise EstimationError(
            f"観測数（{int(model.nobs)}）が推定する係数の数（{len(names)}）以下で、推定できません。"
        )
    redundant = _collinear_columns(np.asarray(model.exog, dtype=float), names)
    if redundant:
        raise EstimationError(
            f"説明変数が互いに完全に重なっています（多重共線性）。{'、'.join(redundant)} は他の項から"
            "完全に決まるため、式から外すか定義を見直してください。",
            parameter="formula",
        )
    n_clusters = None
    if kind == "cluster":
        groups = frame.loc[model.data.row_labels, cluster_col]
        codes = pd.factorize(groups)[0]
        n_clusters = int(codes.max()) + 1
        cluster_warning, severity = c.cluster_count_check(n_clusters, cluster_col)
        fit = model.fit(cov_type="cluster", cov_kwds={"groups": codes}, use_t=True)
    else:
        cluster_warning, severity = None, 0
        fit = model.fit() if kind == "classical" else model.fit(cov_type=kind, use_t=True)
    ci = fit.conf_int(alpha=0.05)
    coefficients = pd.DataFrame(
        {
            "term": names,
            "estimate": fit.params.to_numpy(dtype=float),
            "se": fit.bse.to_numpy(dtype=float),
            "ci_low": ci.iloc[:, 0].to_numpy(dtype=float),
            "ci_high": ci.iloc[:, 1].to_numpy(dtype=float),
            "pvalue": fit.pvalues.to_numpy(dtype=float),
        }
    )
    if cluster_warning:
        warnings.append(cluster_warning)
    return {
        "fit": fit,
        "model": model,
        "se_type": c.se_type_ja(se, n_clusters),
        "n_clusters": n_clusters,
        "cluster_warning": cluster_warning,
        "cluster_severity": severity,
        "coefficients": coefficients,
        "warnings": warnings,
    }


def coefficient_chart(result: EstimationResult):
    """Coefficient plot (point and 95% CI) of every non-intercept term, with a zero line."""
    import altair as alt

    from ebpm.charts.core import enable_theme, with_footer

    enable_theme()
    frame = result.details["coefficients"]
    frame = frame[frame["term"] != "Intercept"].copy()
    base = alt.Chart(frame).encode(y=alt.Y("term:N", title=None, sort=None))
    bars = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("ci_low:Q", title=f"推定値{f'（{result.unit}）' if result.unit else ''}"),
        x2=alt.X2("ci_high:Q"),
    )
    points = base.mark_point(filled=True, size=60).encode(
        x=alt.X("estimate:Q"),
        tooltip=[
            alt.Tooltip("term:N", title="項"),
            alt.Tooltip("estimate:Q", title="推定値", format=",.4g"),
            alt.Tooltip("ci_low:Q", title="95%信頼区間（下限）", format=",.4g"),
            alt.Tooltip("ci_high:Q", title="95%信頼区間（上限）", format=",.4g"),
        ],
    )
    zero = (
        alt.Chart(pd.DataFrame({"x": [0.0]}))
        .mark_rule(color="#888", strokeDash=[4, 3])
        .encode(x=alt.X("x:Q"))
    )
    chart = (zero + bars + points).properties(
        title={
            "text": f"{result.outcome_label or '結果変数'}の回帰係数",
            "subtitle": f"標準誤差: {result.se_type}、横線は95%信頼区間",
        }
    )
    return with_footer(chart, synthetic=result.synthetic)


_LOG_OUTCOME = re.compile(r"^(?:np\.)?log\((\w+)\)$|^log_(\w+)$")


def _log_base(outcome: str) -> str | None:
    """The column under a log outcome (``np.log(visits)``, ``log(visits)``, ``log_visits``), else None."""
    m = _LOG_OUTCOME.match(outcome.replace(" ", ""))
    return (m.group(1) or m.group(2)) if m else None


def _summary(result: EstimationResult) -> str:
    term = result.details.get("focus_title") or result.details["focus"]
    outcome = result.outcome_label or result.details["outcome"]
    lo, hi = result.ci
    pct = result.diagnostics.get("percent_change")
    if pct:  # a log outcome: the natural unit is the percentage change
        text = (
            f"{outcome}は、{term}が1単位大きいと平均で約{c.fmt_num(abs(pct['estimate']))}%"
            f"{'高い' if pct['estimate'] >= 0 else '低い'}"
            f"（95%信頼区間 {c.fmt_num(pct['ci_low'])}〜{c.fmt_num(pct['ci_high'])}%、"
            f"対数の係数 {c.fmt_num(result.estimate)} を 100×(exp(b)−1) で換算、標準誤差は{result.se_type}）。"
            f"{c.ci_sentence(result.ci)}"
        )
    else:
        text = (
            f"{outcome}は、{term}が1単位大きいと平均で{c.fmt_num(abs(result.estimate))}{result.unit}"
            f"{'高い' if result.estimate >= 0 else '低い'}"
            f"（95%信頼区間 {c.fmt_num(lo)}〜{c.fmt_num(hi)}{result.unit}、標準誤差は{result.se_type}）。"
            f"{c.ci_sentence(result.ci)}"
        )
    if result.details.get("design") == "regression":
        text += "観察データの回帰であり、測っていない要因が結果と説明変数の両方に関わると、推定値は因果効果からずれる。"
    return text


def regress(
    data: pd.DataFrame,
    formula: str,
    se: str = "classical",
    focus: str | None = None,
    *,
    effect_unit: str = "",
    outcome_label: str = "",
    design: str = "regression",
    balance: list[str] | None = None,
    synthetic: bool | None = None,
) -> EstimationResult:
    """Ordinary least squares by formula, with the SE type always stated.

    Parameters
    ----------
    data : DataFrame
        One row per observation.
    formula : str
        Patsy formula such as ``"wait_min ~ online + C(branch)"``.
    se : str, default "classical"
        ``classical`` (通常), ``HC0``–``HC3`` (頑健) or ``cluster:<column>`` (クラスター頑健). Robust and
        cluster intervals use the t distribution (cluster: G−1 degrees of freedom).
    focus : str, optional
        The term whose coefficient is the headline ``estimate``; default the first right-hand-side term
        as written that is not the intercept.
    effect_unit, outcome_label : str
        Natural unit and Japanese name of the outcome, used in the summary.
    design : str, default "regression"
        Grade ceiling key (``"experiment"`` when the focus term was randomly assigned).
    balance : list of str, optional
        With ``design="experiment"``: pre-treatment covariates whose means are compared between the
        arms of the focus column (a randomisation check, Bonferroni-corrected at 5%). Without them the
        balance check is 未確認 and costs one grade step.
    synthetic : bool, optional
        Mark the result as 模擬データ; default ``data.attrs.get("synthetic")``.

    Returns
    -------
    EstimationResult
        ``coefficients`` (term, estimate, se, ci_low, ci_high, pvalue) is also in ``details``.
    """
    fitted = fit_ols(data, formula, se)
    fit = fitted["fit"]
    coefs: pd.DataFrame = fitted["coefficients"]
    names = coefs["term"].tolist()
    if focus is None:
        first = _first_term(formula)
        focus_name = _match_term(names, first) if first else None
        if focus_name is None:
            others = [n for n in names if n != "Intercept"]
            if not others:
                raise ParameterError(
                    "切片以外の項がありません。式に説明変数を入れてください。", parameter="formula"
                )
            focus_name = others[0]
    else:
        focus_name = _match_term(names, focus)
        if focus_name is None:
            raise ParameterError(
                f"項「{focus}」は推定された係数にありません（ある項: {'、'.join(names)}）。",
                parameter="focus",
            )
    row = coefs.set_index("term").loc[focus_name]
    n = int(fit.nobs)
    checks = []
    if fitted["cluster_warning"]:
        checks.append(
            Check("clusters", False, fitted["cluster_warning"], fitted["cluster_severity"])
        )
    elif fitted["n_clusters"] is not None:
        checks.append(
            Check(
                "clusters",
                True,
                f"クラスターは{fitted['n_clusters']}個あり、クラスター頑健標準誤差を使える。",
            )
        )
    checks.append(_sample_size_check(n, len(names)))
    balance_table = None
    if design == "experiment":
        balance_table, check = _balance_check(data, focus_name, list(balance or []))
        checks.append(check)
    grade, reasons = grading = decide(design, checks)
    outcome = formula.split("~", 1)[0].strip()
    log_base = _log_base(outcome)
    label = outcome_label or (
        c.title_of(data, log_base) if log_base and log_base in data.columns else None
    )
    label = label or c.title_of(data, outcome)
    extra: dict = {}
    if log_base:
        b, b_lo, b_hi = float(row["estimate"]), float(row["ci_low"]), float(row["ci_high"])
        extra["percent_change"] = {
            "estimate": 100 * math.expm1(b),
            "ci_low": 100 * math.expm1(b_lo),
            "ci_high": 100 * math.expm1(b_hi),
        }
    result = EstimationResult(
        method="regress",
        method_ja="回帰分析",
        estimate=float(row["estimate"]),
        se=float(row["se"]),
        ci=(float(row["ci_low"]), float(row["ci_high"])),
        pvalue=float(row["pvalue"]),
        n=n,
        se_type=fitted["se_type"],
        unit=effect_unit or ("（対数）" if log_base else c.unit_of(data, outcome)),
        outcome_label=label,
        diagnostics={
            **extra,
            "r_squared": float(fit.rsquared),
            "n_clusters": fitted["n_clusters"],
            "df_resid": float(fit.df_resid),
            "condition_number": float(fit.condition_number)
            if math.isfinite(fit.condition_number)
            else None,
        },
        grade=grade,
        reasons=reasons,
        grading=grading,
        warnings=fitted["warnings"],
        synthetic=c.is_synthetic(data, synthetic),
        details={
            "coefficients": coefs,
            "focus": focus_name,
            "focus_title": c.title_of(data, focus_name) if focus_name in data.columns else None,
            "formula": formula,
            "outcome": outcome,
            "design": design,
            "balance": balance_table,
        },
        _chart_builder=coefficient_chart,
        _summary_builder=_summary,
    )
    return result


def _sample_size_check(n: int, k: int) -> Check:
    """Fewer than 10 observations per coefficient (or under 30 in all) lowers the grade."""
    if n < 30 or n < 10 * k:
        return Check(
            "sample_size",
            False,
            f"観測数が{n:,}と、推定する係数の数（{k}）に比べて少なく、推定が不安定になりうる。",
        )
    return Check(
        "sample_size", True, f"観測数は{n:,}で、推定する係数の数（{k}）に対して十分である。"
    )


def _balance_check(data: pd.DataFrame, arm: str, covariates: list[str]):
    """Randomisation check: each covariate's mean difference between the arms (HC2 t-test, Bonferroni)."""
    import statsmodels.api as sm

    if not covariates:
        return None, Check(
            "balance",
            None,
            "共変量（balance）が指定されておらず、無作為割付で介入群と比較群が似ていること（バランス）を"
            "確かめていない。",
        )
    c.require_columns(data, [arm, *covariates])
    rows = []
    for col in covariates:
        frame = data[[arm, col]].dropna()
        x = sm.add_constant(c.require_numeric(frame, arm, "介入の列").astype(float))
        yv = c.require_numeric(frame, col, "共変量").astype(float)
        fit = sm.OLS(yv.to_numpy(), x.to_numpy()).fit(cov_type="HC2")
        rows.append({"covariate": col, "difference": float(fit.params[1]),
                     "pvalue": float(fit.pvalues[1])})  # fmt: skip
    table = pd.DataFrame(rows)
    threshold = 0.05 / len(covariates)
    worst = table.loc[table["pvalue"].idxmin()]
    ok = bool(worst["pvalue"] >= threshold)
    return table, Check(
        "balance",
        ok,
        f"介入前の共変量{len(covariates)}個の群間の差は"
        + (
            f"いずれも有意でない（最小 {c.fmt_p(worst['pvalue'])}、Bonferroni 補正後の水準 {threshold:.3g}）。"
            if ok
            else f"「{worst['covariate']}」で有意（{c.fmt_p(worst['pvalue'])}）で、割付が偏っている可能性がある。"
        ),
    )

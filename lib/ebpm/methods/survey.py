"""Survey-weighted proportions by group with 95% CIs, a two-group difference, and small groups suppressed.

Estimator: the weighted share p = Σw·y / Σw of a 0/1 indicator. Its variance is the Taylor
linearisation for a single-stage with-replacement design (as :mod:`ebpm.methods.describe`):
v = n/(n−1)·Σw²(y−p)²/(Σw)², which equals the HC1 (heteroskedasticity-robust) variance of the intercept
of a weighted least-squares regression of y on a constant — the reference the tests compare with
(statsmodels ``WLS(...).fit(cov_type="HC1")``). The 95% CI is the Wilson interval at the Kish effective
sample size n_eff = p(1−p)/v (Korn & Graubard 1998 use the same idea), so it stays inside 0–1.
A difference between two independent groups uses se = √(v₁ + v₂) and a normal 95% interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ebpm.errors import EstimationError, ParameterError

__all__ = ["compare_proportions", "weighted_proportion", "weighted_proportions"]

Z = float(stats.norm.ppf(0.975))
ALL = "全体"


def weighted_proportion(y, w) -> dict[str, float]:
    """Weighted share of a 0/1 array with its linearised SE and Wilson 95% CI (Kish n_eff).

    Parameters
    ----------
    y : array-like of 0/1
    w : array-like of positive weights

    Returns
    -------
    dict
        ``share``, ``se``, ``ci_low``, ``ci_high``, ``n``, ``n_eff``, ``weight_sum``.
    """
    y = np.asarray(y, dtype=float)
    w = np.asarray(w, dtype=float)
    n = len(y)
    if n == 0:
        raise EstimationError("回答がありません（0件）。")
    total = w.sum()
    p = float((w * y).sum() / total)
    var = n / (n - 1) * float((w**2 * (y - p) ** 2).sum()) / total**2 if n > 1 else math.nan
    se = math.sqrt(var) if var == var else math.nan
    n_eff = p * (1 - p) / var if var and var > 0 else float(n)
    lo, hi = _wilson(p, n_eff)
    return {
        "share": p,
        "se": se,
        "ci_low": lo,
        "ci_high": hi,
        "n": n,
        "n_eff": n_eff,
        "weight_sum": float(total),
    }


def _wilson(p: float, n: float) -> tuple[float, float]:
    if n <= 0:
        return math.nan, math.nan
    z2 = Z * Z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def weighted_proportions(
    frame: pd.DataFrame,
    *,
    y: str,
    weight: str,
    by: str | Sequence[str] | None = None,
    threshold: int = 10,
) -> pd.DataFrame:
    """Weighted shares of a 0/1 outcome overall and by group, with groups under ``threshold`` suppressed.

    Parameters
    ----------
    frame : DataFrame
        One row per respondent.
    y : str
        0/1 (or boolean) outcome column; missing rows are dropped.
    weight : str
        Survey weight (non-response adjusted).
    by : str or list of str, optional
        Group columns; a row ``全体`` (overall) comes first.
    threshold : int
        Groups with fewer respondents show ``"x"`` for every estimate (秘匿処理), so a share
        cannot be traced back to a handful of people.

    Returns
    -------
    DataFrame
        Group columns, ``n``, ``share``, ``ci_low``, ``ci_high`` (0–1), ``se``, ``n_eff``; the
        estimates of a suppressed group are ``"x"``.
    """
    from ebpm.errors import missing_column

    named = [("y", y), ("weight", weight)]
    named += [("by", b) for b in ([by] if isinstance(by, str) else list(by or []))]
    for parameter, col in named:
        if col not in frame.columns:
            raise missing_column(frame, parameter, col)
    groups = [by] if isinstance(by, str) else list(by or [])
    data = frame.dropna(subset=[y, weight])
    data = data[data[weight] > 0]
    rows = []

    def one(part: pd.DataFrame, keys: dict) -> dict:
        est = weighted_proportion(part[y].astype(float), part[weight])
        row = {**keys, "n": est["n"]}
        fields = ["share", "ci_low", "ci_high", "se", "n_eff"]
        if est["n"] < threshold:
            row.update({f: "x" for f in fields})
        else:
            row.update({f: est[f] for f in fields})
        return row

    rows.append(one(data, {g: ALL for g in groups}))
    if groups:
        for keys, part in data.groupby(groups, sort=True, observed=True):
            keys = keys if isinstance(keys, tuple) else (keys,)
            rows.append(one(part, dict(zip(groups, keys, strict=True))))
    out = pd.DataFrame(rows)
    out.attrs["synthetic"] = bool(frame.attrs.get("synthetic", False))
    return out


def compare_proportions(
    frame: pd.DataFrame, *, y: str, weight: str, group: str, a, b
) -> dict[str, float]:
    """Difference of weighted shares between two independent groups (b − a) with a 95% CI.

    Parameters
    ----------
    frame : DataFrame
    y, weight : str
        As in :func:`weighted_proportions`.
    group : str
        Column that tells the groups apart (for example the survey year).
    a, b : Any
        The two values of ``group``; the difference is ``share(b) − share(a)``.

    Returns
    -------
    dict
        ``diff``, ``se``, ``ci_low``, ``ci_high``, ``pvalue``, ``share_a``, ``share_b``.
    """
    data = frame.dropna(subset=[y, weight])
    parts = {}
    for key in (a, b):
        part = data[data[group] == key]
        if part.empty:
            allowed = "、".join(map(str, sorted(data[group].unique())))
            raise ParameterError(
                f"『{group}』={key} の回答がありません（あるのは {allowed}）。", parameter=group
            )
        parts[key] = weighted_proportion(part[y].astype(float), part[weight])
    pa, pb = parts[a], parts[b]
    diff = pb["share"] - pa["share"]
    se = math.sqrt(pa["se"] ** 2 + pb["se"] ** 2)
    return {
        "diff": diff,
        "se": se,
        "ci_low": diff - Z * se,
        "ci_high": diff + Z * se,
        "pvalue": float(2 * stats.norm.sf(abs(diff / se))) if se > 0 else math.nan,
        "share_a": pa["share"],
        "share_b": pb["share"],
    }


def share_result(
    frame: pd.DataFrame, *, y: str, weight: str, label: str, synthetic: bool | None = None
):
    """The weighted share of ``y`` as an :class:`~ebpm.result.EstimationResult` (a report headline).

    The grade follows the rule for descriptive designs (``descriptive``: D, no causal claim), with a
    reason on the weighting and the effective sample size.

    Parameters
    ----------
    frame : DataFrame
        Respondents.
    y, weight : str
        0/1 outcome and survey weight.
    label : str
        Japanese name of the share (``"満足と答えた人の割合"``).
    synthetic : bool, optional
        Defaults to ``frame.attrs["synthetic"]``.

    Returns
    -------
    EstimationResult
        ``estimate`` and ``ci`` in percent (0–100), ``unit="%"``.
    """
    from ebpm.methods.grading import Check, decide
    from ebpm.result import EstimationResult

    data = frame.dropna(subset=[y, weight])
    est = weighted_proportion(data[y].astype(float), data[weight])
    checks = [
        Check(
            "effective_n",
            est["n_eff"] >= 100,
            f"回答{est['n']:,}件、ウェイトを考慮した実質的な標本の大きさは{est['n_eff']:,.0f}"
            "（100以上が目安）。",
        )
    ]
    grading = decide(
        "descriptive",
        checks,
        [
            "無回答はウェイトで層（管内×年齢）ごとに補正しており、層の中では回答の有無と満足度が無関係と仮定している。"
        ],
    )
    return EstimationResult(
        method="survey_share",
        method_ja="調査ウェイト付きの割合",
        estimate=100 * est["share"],
        se=100 * est["se"],
        ci=(100 * est["ci_low"], 100 * est["ci_high"]),
        pvalue=float("nan"),
        n=int(est["n"]),
        se_type="線形化法（調査ウェイト）、Wilson 区間（実質標本数）",
        unit="%",
        outcome_label=label,
        diagnostics={"n_eff": est["n_eff"]},
        grading=grading,
        synthetic=bool(frame.attrs.get("synthetic", False)) if synthetic is None else synthetic,
        details={"weighted": True},
    )

"""Power and sample size: solve for n per group, power or the minimum detectable effect (MDE).

All three designs reduce to the two-sample t test (statsmodels ``TTestIndPower``) on an effective
sample size n / f, where f is the variance inflation of the design relative to one measurement per
person and independent people:

* ``two_sample``: f = 1.
* ``cluster`` (cluster-randomised): f = 1 + (m − 1)·ICC, the design effect (Donner & Klar 2000, eq. 5.1;
  Kish 1965), m = ``cluster_size``.
* ``did`` (difference-in-differences with ``periods_pre`` = p and ``periods_post`` = r measurements,
  equal correlation ρ between any two periods of a unit): f = (1 + (p − 1)ρ)/p + (1 + (r − 1)ρ)/r − 2ρ,
  McKenzie (2012), "Beyond baseline and follow-up", J. Development Economics 99(2), eq. for the
  DiD estimator; with p = r = 1 it is 2(1 − ρ) (Frison & Pocock 1992, change-score analysis).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pandas as pd

from ebpm.errors import EstimationError, ParameterError
from ebpm.methods import _common as c
from ebpm.methods._inputs import check_number
from ebpm.methods.grading import decide
from ebpm.result import EstimationResult

__all__ = ["power", "design_factor"]

Design = Literal["two_sample", "cluster", "did"]
Alternative = Literal["two-sided", "larger", "smaller"]
DESIGN_JA = {
    "two_sample": "2群比較",
    "cluster": "集落（クラスター）無作為化",
    "did": "差の差分析（DiD）",
}


def design_factor(
    design: str,
    icc: float | None = None,
    cluster_size: float | None = None,
    periods_pre: int = 1,
    periods_post: int = 1,
    rho: float | None = None,
) -> float:
    """Variance inflation f of a design relative to a simple two-sample comparison (see module docstring)."""
    if design == "two_sample":
        return 1.0
    if design == "cluster":
        if icc is None or cluster_size is None:
            raise ParameterError(
                "design='cluster' には icc（級内相関）と cluster_size（1集落の人数）が必要です。",
                parameter="icc" if icc is None else "cluster_size",
            )
        if not 0 <= icc < 1:
            raise ParameterError("icc は0以上1未満で指定してください。", parameter="icc")
        if cluster_size < 1:
            raise ParameterError(
                "cluster_size は1以上で指定してください。", parameter="cluster_size"
            )
        return 1.0 + (cluster_size - 1.0) * icc
    if design == "did":
        if rho is None:
            raise ParameterError(
                "design='did' には rho（同じ単位の期間どうしの相関）が必要です。", parameter="rho"
            )
        if not -1 < rho < 1:
            raise ParameterError("rho は -1 より大きく1未満で指定してください。", parameter="rho")
        p, r = int(periods_pre), int(periods_post)
        if p < 1 or r < 1:
            raise ParameterError(
                "periods_pre と periods_post は1以上の整数にしてください。",
                parameter="periods_pre" if p < 1 else "periods_post",
            )
        f = (1 + (p - 1) * rho) / p + (1 + (r - 1) * rho) / r - 2 * rho
        if f <= 0:
            raise ParameterError(
                "この rho と期間数では分散が正になりません。rho を見直してください。",
                parameter="rho",
            )
        return f
    raise ParameterError(f"design「{design}」は指定できません。", parameter="design")


def _solve(
    effect: float | None,
    n_eff: float | None,
    power_: float | None,
    alpha: float,
    ratio: float,
    alternative: str,
) -> float:
    from statsmodels.stats.power import TTestIndPower

    try:
        value = TTestIndPower().solve_power(
            effect_size=effect,
            nobs1=n_eff,
            alpha=alpha,
            power=power_,
            ratio=ratio,
            alternative=alternative,
        )
    except Exception as err:  # root finding can fail for impossible targets
        raise EstimationError(
            f"条件を満たす値が見つかりませんでした（{err}）。条件を見直してください。"
        ) from err
    value = float(np.asarray(value).ravel()[0])
    if not math.isfinite(value):
        raise EstimationError("条件を満たす値が見つかりませんでした。条件を見直してください。")
    return value


def _power_chart(result: EstimationResult):
    import altair as alt
    from statsmodels.stats.power import TTestIndPower

    from ebpm.charts.core import enable_theme, with_footer

    enable_theme()
    d = result.details
    n_star = d["n"]
    grid = np.unique(np.linspace(max(2.0, n_star * 0.1), n_star * 2.5, 80))
    f = d["design_factor"]
    powers = [
        float(
            TTestIndPower().power(
                effect_size=d["effect_size_std"],
                nobs1=max(n / f, 1.01),
                alpha=d["alpha"],
                ratio=d["ratio"],
                alternative=d["alternative"],
            )
        )
        for n in grid
    ]
    frame = pd.DataFrame({"n": grid, "power": powers})
    line = (
        alt.Chart(frame)
        .mark_line()
        .encode(
            x=alt.X("n:Q", title="1群あたりの人数"),
            y=alt.Y(
                "power:Q", title="検出力", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")
            ),
        )
    )
    target = (
        alt.Chart(pd.DataFrame({"y": [d["power"]]}))
        .mark_rule(color="#888", strokeDash=[4, 3])
        .encode(y=alt.Y("y:Q"))
    )
    vline = (
        alt.Chart(pd.DataFrame({"x": [n_star]}))
        .mark_rule(color="#D55E00", strokeDash=[4, 3])
        .encode(x=alt.X("x:Q"))
    )
    chart = (line + target + vline).properties(
        title={
            "text": f"検出力曲線（{DESIGN_JA[d['design']]}）",
            "subtitle": f"効果の大きさ {c.fmt_num(d['effect_size'])}{result.unit if d['solved'] == 'effect_size' else d['effect_unit']}、有意水準{d['alpha'] * 100:g}%",
        }
    )
    return with_footer(chart, synthetic=result.synthetic)


def _summary(result: EstimationResult) -> str:
    d = result.details
    eu = d["effect_unit"]
    effect = (
        f"{c.fmt_num(d['effect_size'])}{eu}"
        if d["sd"]
        else f"{c.fmt_num(d['effect_size'])}（標準化効果量）"
    )
    cond = (
        f"有意水準{d['alpha'] * 100:g}%（{'両側' if d['alternative'] == 'two-sided' else '片側'}）"
    )
    n_txt = f"1群あたり{math.ceil(d['n'] - 1e-9):,}人"
    if d["design"] == "cluster":
        n_txt += f"（1集落{c.fmt_num(d['cluster_size'])}人として1群あたり約{math.ceil(d['n'] / d['cluster_size'] - 1e-9):,}集落、デザイン効果{c.fmt_num(d['design_factor'])}）"
    elif d["design"] == "did":
        n_txt += f"（介入前{d['periods_pre']}期・介入後{d['periods_post']}期、期間どうしの相関{d['rho']:g}）"
    if d["solved"] == "n":
        text = f"効果{effect}を検出力{d['power'] * 100:.0f}%・{cond}で検出するには、{n_txt}が必要。"
    elif d["solved"] == "power":
        text = (
            f"{n_txt}で効果{effect}を検出できる確率（検出力）は{d['power'] * 100:.0f}%（{cond}）。"
        )
        if d["power"] < 0.8:
            text += "80%を下回っており、効果があっても見逃すおそれが大きい。"
    else:
        text = f"{n_txt}・検出力{d['power'] * 100:.0f}%・{cond}で検出できる最小の効果（MDE）は{effect}。これより小さい効果は見逃しやすい。"
    text += "これは分析計画のための試算で、想定（ばらつき・相関）が外れると必要な人数も変わる。"
    return text


def power(
    effect_size: float | None = None,
    n: float | None = None,
    power: float | None = None,
    alpha: float = 0.05,
    design: Design = "two_sample",
    icc: float | None = None,
    cluster_size: float | None = None,
    sd: float | None = None,
    *,
    ratio: float = 1.0,
    periods_pre: int = 1,
    periods_post: int = 1,
    rho: float | None = None,
    alternative: Alternative = "two-sided",
    effect_unit: str = "",
    synthetic: bool | None = None,
) -> EstimationResult:
    """Solve for whichever of effect size, n per group and power is not given.

    Parameters
    ----------
    effect_size : float, optional
        The effect; in natural units when ``sd`` is given, otherwise standardised (Cohen's d).
    n : float, optional
        People (observations) per group — the first group when ``ratio`` ≠ 1.
    power : float, optional
        Probability of detecting the effect (e.g. 0.8).
    alpha : float, default 0.05
        Significance level.
    design : {"two_sample", "cluster", "did"}
        See the module docstring for each design's variance factor and its source.
    icc, cluster_size : float, optional
        Cluster design: intra-cluster correlation and people per cluster.
    sd : float, optional
        Outcome standard deviation; makes ``effect_size`` (and the MDE) natural-unit.
    ratio : float, default 1
        Size of the second group relative to the first.
    periods_pre, periods_post : int, default 1
        DiD: number of measurements before and after.
    rho : float, optional
        DiD: correlation between two periods of the same unit.
    alternative : {"two-sided", "larger", "smaller"}
    effect_unit : str
        Natural unit of the effect (with ``sd``).
    synthetic : bool, optional
        Mark as based on 模擬データ.

    Returns
    -------
    EstimationResult
        ``estimate`` is the solved quantity: n per group (rounded up), power, or the MDE (natural units
        when ``sd`` is given). ``details`` holds every input and the exact solution.
    """
    c.check_option(design, Design, "design")
    c.check_option(alternative, Alternative, "alternative")
    if effect_size is not None:
        effect_size = check_number(effect_size, "effect_size")
    if n is not None:
        n = check_number(n, "n", minimum=0, exclusive_minimum=True)
    if power is not None:
        power = check_number(
            power, "power", minimum=0, maximum=1, exclusive_minimum=True, exclusive_maximum=True
        )
    alpha = check_number(
        alpha, "alpha", minimum=0, maximum=1, exclusive_minimum=True, exclusive_maximum=True
    )
    for name, value in (("icc", icc), ("cluster_size", cluster_size), ("sd", sd), ("rho", rho)):
        if value is not None:
            check_number(value, name)
    check_number(ratio, "ratio", minimum=0, exclusive_minimum=True)
    check_number(periods_pre, "periods_pre", integer=True, minimum=1)
    check_number(periods_post, "periods_post", integer=True, minimum=1)
    given = {"effect_size": effect_size, "n": n, "power": power}
    missing = [k for k, v in given.items() if v is None]
    if len(missing) != 1:
        raise ParameterError(
            "effect_size（効果の大きさ）、n（1群あたりの人数）、power（検出力）のうち、ちょうど1つを空にしてください（空のものを求めます）。",
            parameter="effect_size" if not missing else missing[-1],
        )
    if not 0 < alpha < 1:
        raise ParameterError("alpha は0と1の間で指定してください。", parameter="alpha")
    if power is not None and not alpha < power < 1:
        raise ParameterError(
            "power は有意水準より大きく1未満で指定してください（例: 0.8）。", parameter="power"
        )
    if n is not None and n < 2:
        raise ParameterError("n は2以上で指定してください。", parameter="n")
    if sd is not None and not sd > 0:
        raise ParameterError("sd は正の値で指定してください。", parameter="sd")
    if effect_size is not None and effect_size == 0:
        raise ParameterError("effect_size に0は指定できません。", parameter="effect_size")
    f = design_factor(design, icc, cluster_size, periods_pre, periods_post, rho)
    scale = sd if sd else 1.0
    d_std = abs(effect_size) / scale if effect_size is not None else None
    n_eff = n / f if n is not None else None
    solved = missing[0]
    value = _solve(d_std, n_eff, power, alpha, ratio, alternative)
    if solved == "n":
        n_exact = value * f
        n, estimate, unit = n_exact, float(math.ceil(n_exact - 1e-9)), "人（1群あたり）"
    elif solved == "power":
        power, estimate, unit = value, value, ""
        n_exact = n
    else:
        d_std = value
        effect_size = value * scale
        estimate, unit = effect_size, effect_unit if sd else "（標準化効果量）"
        n_exact = n
    result = EstimationResult(
        method="power",
        method_ja=f"検出力分析（{DESIGN_JA[design]}）",
        estimate=float(estimate),
        se=float("nan"),
        ci=(float("nan"), float("nan")),
        pvalue=float("nan"),
        n=int(math.ceil(n_exact - 1e-9)) * 2
        if ratio == 1
        else int(math.ceil(n_exact * (1 + ratio) - 1e-9)),
        unit=unit,
        outcome_label={
            "n": "必要な人数",
            "power": "検出力",
            "effect_size": "最小検出可能効果（MDE）",
        }[solved],
        diagnostics={"design_factor": f, "solved": solved},
        grading=decide(
            "descriptive",
            [],
            [
                "検出力の計算は分析計画のための試算であり、効果の推定ではない（根拠の確かさは付けない）。"
            ],
        ),
        synthetic=bool(synthetic),
        details={
            "solved": solved,
            "design": design,
            "effect_size": float(effect_size),
            "effect_size_std": float(d_std),
            "effect_unit": effect_unit,
            "sd": sd,
            "n": float(n_exact),
            "power": float(power),
            "alpha": alpha,
            "ratio": ratio,
            "alternative": alternative,
            "design_factor": f,
            "icc": icc,
            "cluster_size": cluster_size,
            "periods_pre": periods_pre,
            "periods_post": periods_post,
            "rho": rho,
        },
        _chart_builder=_power_chart,
        _summary_builder=_summary,
    )
    return result

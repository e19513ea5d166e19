"""One-sentence Japanese answers (結論) and recommendations (推奨・次の一手) built from results, never typed.

The recommendation rule (docs/studies.md) reads only the result: its grade and whether the 95%
confidence interval excludes "no change" (0 for differences, 1 for rate ratios), in the direction the
planner calls better.

1. Grade C or D → 判断材料としては弱い: plan a design with a comparison group before deciding.
2. Grade A or B and the interval excludes no change in the better direction → 効果あり: continue or
   extend, and keep measuring the same indicator.
3. Grade A or B and the interval excludes no change in the worse direction → 逆効果の可能性: look into
   the cause and reconsider.
4. Otherwise (the interval holds no change) → 判断保留: extend the observation period or enlarge the
   sample (check the size with ``power_plan``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

from ebpm.result import EstimationResult

Better = Literal["lower", "higher"]

# natural-unit words: time outcomes get shorter/longer, counts fewer/more
_TIME_UNITS = {"分", "秒", "時間", "日"}


def _num(value: float) -> str:
    """One decimal for small magnitudes (minutes, %), thousands separators for large ones."""
    return f"{value:,.1f}" if abs(value) < 100 else f"{value:,.0f}"


def direction_words(unit: str) -> tuple[str, str, str, str]:
    """(down, up, decrease noun, increase noun) for an outcome measured in ``unit``."""
    if unit in _TIME_UNITS:
        return "短く", "長く", "短縮", "延長"
    return "少なく", "多く", "減少", "増加"


def effect_answer(
    result: EstimationResult,
    *,
    subject: str,
    less: str | None = None,
    more: str | None = None,
    ending: str = "なった",
) -> str:
    """The report's answer: direction and size in natural units, the 95% CI without minus signs, the grade.

    Parameters
    ----------
    result : EstimationResult
        The headline estimate (its ``outcome_label`` and ``unit`` name the outcome).
    subject : str
        Who was treated, ending the way a sentence continues (e.g. 「導入した窓口では」).
    less, more : str, optional
        Adverbs for a fall and a rise; default from the unit (短く/長く for time, 少なく/多く).
    ending : str
        What follows the adverb: ``"なった"`` for a change over time; ``""`` with adjectives
        (``less="低い"``) for a difference at a threshold (RDD).

    Rate ratios (ITS on counts, ``details["scale"] == "rate_ratio"``) are stated as a percent change
    with the ratio and its interval.

    Examples
    --------
    「キャッシュレス決済を導入した窓口では、窓口の平均待ち時間が約4.2分短くなったと推定される
    （95%信頼区間: 3.1〜5.3分の短縮）。エビデンスの強さはC（弱い）である。」
    """
    unit = result.unit or ""
    down, up, less_noun, more_noun = direction_words(unit)
    down, up = less or down, more or up
    est = result.estimate
    lo, hi = result.ci
    label = result.outcome_label or "結果"
    if result.details.get("scale") == "rate_ratio":
        pct = (est - 1) * 100
        sure = "" if (lo > 1 or hi < 1) else "、変化がないとも言い切れない"
        text = (
            f"{subject}、{label}が約{_num(abs(pct))}%{down if pct < 0 else up}{ending}と推定される"
            f"（率比 {est:.3f}、95%信頼区間 {lo:.3f}〜{hi:.3f}{sure}）。"
            f"エビデンスの強さは{result.grade_label}である。"
        )
        return text + ("（模擬データによる分析である。）" if result.synthetic else "")
    less, more = less_noun, more_noun
    if hi < 0:
        interval = f"95%信頼区間: {_num(abs(hi))}〜{_num(abs(lo))}{unit}の{less}"
    elif lo > 0:
        interval = f"95%信頼区間: {_num(lo)}〜{_num(hi)}{unit}の{more}"
    else:
        interval = (
            f"95%信頼区間は{_num(abs(lo))}{unit}の{less}から{_num(hi)}{unit}の{more}までで、"
            "効果がないとも言い切れない"
        )
    word = down if est < 0 else up
    text = (
        f"{subject}、{label}が約{_num(abs(est))}{unit}{word}{ending}と推定される（{interval}）。"
        f"エビデンスの強さは{result.grade_label}である。"
    )
    if result.synthetic:
        text += "（模擬データによる分析である。）"
    return text


RECOMMEND_RULE_JA = (
    "推奨は結果だけから決めます: エビデンスの強さが C・D なら比較群のある設計での検証を、A・B で95%信頼区間が"
    "「変化なし」を含まず望ましい向きなら継続・拡大を、望ましくない向きなら原因の確認と見直しを、区間が"
    "「変化なし」を含むなら観察期間の延長や対象の拡大による再評価を勧めます。"
)

SYNTHETIC_NOTE = "（模擬データによる分析です。）"


def _fmt(x: float, digits: int = 3) -> str:
    """A number with sensible digits: 4.0 -> '4.0', 0.2534 -> '0.253', 1234.5 -> '1,234'."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    a = abs(x)
    if a >= 100:
        return f"{x:,.0f}"
    if a >= 10:
        return f"{x:,.1f}"
    return f"{x:.{max(digits - 1, 1)}g}" if a < 1 else f"{x:.1f}"


def _null(res: EstimationResult) -> float:
    return 1.0 if res.details.get("scale") == "rate_ratio" else 0.0


def _direction(res: EstimationResult) -> int:
    """+1 if the CI lies above no change, −1 if below, 0 if it holds no change (or is undefined)."""
    lo, hi = res.ci
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return 0
    null = _null(res)
    if lo > null:
        return 1
    if hi < null:
        return -1
    return 0


def recommend(res: EstimationResult, *, better: Better = "lower") -> str:
    """The recommendation (推奨・次の一手) from a result by the documented rule (module docstring).

    Parameters
    ----------
    res : EstimationResult
        The headline result.
    better : {"lower", "higher"}
        Which direction of the outcome the policy wants (wait times: lower; take-up: higher).

    Returns
    -------
    str
        One or two Japanese sentences.
    """
    if res.grade in ("C", "D"):
        return (
            f"エビデンスの強さが{res.grade_label}のため、この結果だけで判断せず、比較群のある設計"
            "（段階的導入や無作為な割付）での検証を計画してください。"
        )
    side = _direction(res)
    want = -1 if better == "lower" else 1
    if side == want:
        return "効果が確認できました。継続・拡大を検討し、同じ指標で効果を見守ってください。"
    if side == -want:
        return "意図と逆向きの変化が推定されました。原因を確認し、施策の見直しを検討してください。"
    return (
        "効果の有無はまだ判断できません。観察期間を延ばすか対象を広げて再評価してください"
        "（必要な規模は「検出力の試算」テンプレートで確かめられます）。"
    )


def synth_answer(res: EstimationResult, *, illustration: str | None = None) -> str:
    """The answer of a synthetic-control study, saying so when the pre-period fit was poor.

    Parameters
    ----------
    res : EstimationResult
        Result of :func:`ebpm.synth`.
    illustration : str, optional
        When no real intervention stands behind the treatment year, the sentence that says so
        (it is put first, so nobody reads the gap as an effect).

    Returns
    -------
    str
    """
    det, diag = res.details, res.diagnostics
    unit = res.unit
    word = "上回りました" if res.estimate >= 0 else "下回りました"
    text = (
        f"{det['treated_unit']}の{det['treatment_time']}年以降の{res.outcome_label}は、"
        f"比較に使った市町村の重み付き平均（合成コントロール）を平均で約{_fmt(abs(res.estimate))}{unit}{word}"
    )
    pl = diag.get("placebo")
    if pl:
        text += f"（プラセボ検定 p={pl['pvalue']:.2f}、{pl['n_units']}市町村中{pl['rank']}番目の大きさ）"
    text += f"。エビデンスの強さは{res.grade_label}です。"
    rel = diag.get("pre_rmspe_relative")
    if rel is not None and rel > 0.05:  # GOOD_FIT of ebpm.methods.synth
        text += (
            f"介入前の当てはまりが悪い（誤差が平均水準の{rel * 100:.1f}%）ため、エビデンスの強さを"
            "引き下げています。"
        )
    if illustration:
        text = f"{illustration} {text}"
    return text + (SYNTHETIC_NOTE if res.synthetic else "")


def profile_answer(
    name: str,
    *,
    now: Mapping[str, float],
    year: int,
    first: Mapping[str, float],
    first_year: int,
    projected: float | None = None,
    projected_year: int | None = None,
    synthetic: bool = False,
) -> str:
    """The answer of a population profile: size, change since the first year, ageing and projection.

    Parameters
    ----------
    name : str
        Area name (町字・地区).
    now, first : mapping
        :func:`ebpm.methods.demography.ageing_indicators` of the latest and the first year.
    year, first_year : int
        Those years.
    projected, projected_year : float and int, optional
        Projected total population and its year.
    synthetic : bool
        Add the 模擬データ notice.

    Returns
    -------
    str
    """
    total, before = now["total"], first["total"]
    change = (total / before - 1) * 100 if before else float("nan")
    text = (
        f"{name}の人口は{year}年に{total:,.0f}人で、{first_year}年から{_fmt(abs(change))}%"
        f"{'減少' if change < 0 else '増加'}しました。"
    )
    a, b = first["share_65_over"], now["share_65_over"]
    if math.isfinite(a) and math.isfinite(b):
        text += f"高齢化率（65歳以上の割合）は{a:.1f}%から{b:.1f}%になっています。"
    else:  # a share of a small group would give its count back (ageing_indicators(threshold=…))
        text += "高齢化率は、65歳以上などの人数が少ないため秘匿しています。"
    if projected is not None and projected_year is not None:
        text += (
            f"基準期間の変化が続くと仮定すると（コーホート変化率法）、{projected_year}年には"
            f"約{projected:,.0f}人と見込まれます。"
        )
    return text + (SYNTHETIC_NOTE if synthetic else "")


def survey_answer(
    share: Mapping[str, Any],
    *,
    label: str,
    year: Any,
    diff: Mapping[str, Any] | None = None,
    between: str | None = None,
    synthetic: bool = False,
) -> str:
    """The answer of a weighted survey analysis: the weighted share with its CI and a comparison.

    Parameters
    ----------
    share : mapping
        ``{"share", "ci_low", "ci_high"}`` in 0–1 for the whole population.
    label : str
        What the share is of (``"「満足」「やや満足」と答えた人の割合"``).
    year : Any
        Survey year label.
    diff : mapping, optional
        ``{"diff", "ci_low", "ci_high"}`` of a comparison (0–1 scale).
    between : str, optional
        What the comparison is (``"令和3年度と令和7年度"``).
    synthetic : bool
        Add the 模擬データ notice.

    Returns
    -------
    str
    """
    text = (
        f"{year}の{label}は、ウェイトで母集団に合わせると{share['share'] * 100:.1f}%"
        f"（95%信頼区間 {share['ci_low'] * 100:.1f}〜{share['ci_high'] * 100:.1f}%）です。"
    )
    if diff is not None and between:
        d, lo, hi = diff["diff"] * 100, diff["ci_low"] * 100, diff["ci_high"] * 100
        if lo > 0 or hi < 0:
            text += (
                f"{between}の差は{d:+.1f}ポイント（95%信頼区間 {lo:+.1f}〜{hi:+.1f}）で、"
                "偶然の範囲を超えた差です。"
            )
        else:
            text += (
                f"{between}の差は{d:+.1f}ポイント（95%信頼区間 {lo:+.1f}〜{hi:+.1f}）で、"
                "差があるとは言えません。"
            )
    return text + (SYNTHETIC_NOTE if synthetic else "")


def power_answer(res: EstimationResult, *, budget_per_person: float | None = None) -> str:
    """The answer of a power calculation in plain Japanese, with the cost when a unit cost is given.

    Parameters
    ----------
    res : EstimationResult
        Result of :func:`ebpm.power`.
    budget_per_person : float, optional
        Cost per participant in 円; the total for both groups is then stated.

    Returns
    -------
    str
    """
    d = res.details
    solved = d["solved"]
    alpha = d.get("alpha", 0.05)
    pw = d.get("power")
    unit = d.get("effect_unit") or ""
    effect = d.get("effect_size")
    if solved == "n":
        text = (
            f"効果{_fmt(abs(effect))}{unit}を検出力{pw * 100:.0f}%（有意水準{alpha * 100:.0f}%）で"
            f"見つけるには、1群あたり{res.estimate:,.0f}人（2群で{res.n:,}人）が必要です。"
        )
    elif solved == "power":
        text = (
            f"1群{d['n']:,.0f}人で効果{_fmt(abs(effect))}{unit}があるとき、それを統計的に確かめられる確率"
            f"（検出力）は{res.estimate * 100:.0f}%です。"
        )
    else:
        text = (
            f"1群{d['n']:,.0f}人では、検出力{pw * 100:.0f}%で見つけられる最小の効果（MDE）は"
            f"{_fmt(res.estimate)}{res.unit}です。これより小さい効果は、あっても見逃す可能性が高くなります。"
        )
    if budget_per_person:
        text += f"1人あたり{budget_per_person:,.0f}円とすると、費用は約{res.n * budget_per_person:,.0f}円です。"
    return text

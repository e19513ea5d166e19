"""Plain-Japanese summary text built from results: the answer, effect in context, recommendation (never typed)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from ebpm.methods._common import change_range, change_words, direction_words
from ebpm.methods._common import fmt_decimal as _num
from ebpm.result import EstimationResult

if TYPE_CHECKING:
    import pandas as pd

Better = Literal["lower", "higher"]

# natural-unit words (direction_words, TIME_UNITS) live in ebpm.methods._common with the formatters
_TO_HOURS = {"分": 1 / 60, "秒": 1 / 3600, "時間": 1.0}


def _round3(value: float) -> float:
    """Three significant figures (annual totals are estimates, not counts)."""
    if value == 0:
        return 0.0
    from math import floor, log10

    digits = 2 - int(floor(log10(abs(value))))
    return round(value, digits) if digits > 0 else float(round(value, digits))


def _big(value: float) -> str:
    """A large approximate number with thousands separators: ``323,000``."""
    return f"{_round3(value):,.0f}" if abs(value) >= 100 else _num(value)


def _field(result: Any, name: str, default: Any = None) -> Any:
    """Read ``name`` from an EstimationResult or its ``to_dict()`` form."""
    if isinstance(result, dict):
        return result.get(name, default)
    return getattr(result, name, default)


def effect_answer(
    result: EstimationResult,
    *,
    subject: str,
    less: str | None = None,
    more: str | None = None,
    ending: str = "なった",
) -> str:
    """The report's 結論: direction and size in natural units, the 95% CI without minus signs.

    The grade is not part of the sentence: a report shows one grade, in its 根拠の確かさ box.

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
    「キャッシュレス決済を導入した窓口では、平均待ち時間が約4.2分短くなったと推定される
    95%信頼区間は3.1〜5.3分の短縮である。」
    """
    unit = result.unit or ""
    down, up, less_noun, more_noun = direction_words(unit)
    down, up = less or down, more or up
    est = result.estimate
    lo, hi = result.ci
    label = result.outcome_label or "結果"
    note = "模擬データによる分析である。" if result.synthetic else ""
    if result.details.get("scale") == "rate_ratio":
        pct = (est - 1) * 100
        sure = "" if (lo > 1 or hi < 1) else "、変化がないとも言い切れない"
        return (
            f"{subject}、{label}が約{_num(abs(pct))}%{down if pct < 0 else up}{ending}と推定される。"
            f"率比は{est:.3f}、95%信頼区間は{lo:.3f}〜{hi:.3f}である{sure}。" + note
        )
    words = change_range(lo, hi, unit, less=less_noun, more=more_noun)
    if hi < 0 or lo > 0:
        interval = f"95%信頼区間は{words}である"
    else:
        interval = f"95%信頼区間は{words}で、効果がないとも言い切れない"
    word = down if est < 0 else up
    return (
        f"{subject}、{label}が約{_num(abs(est))}{unit}{word}{ending}と推定される。{interval}。"
        + note
    )


def relative_words(share: float) -> str:
    """A relative change as a manager says it: 約3割, 約15%, 1%未満."""
    share = abs(share)
    if share < 0.01:
        return "1%未満"
    if share < 0.095:
        return f"約{share * 100:.0f}%"
    return f"約{share * 10:.0f}割"


def effect_in_context(
    result: EstimationResult | dict[str, Any],
    *,
    baseline: float,
    per_year: float | None = None,
    per_year_unit: str = "件",
    per_year_subject: str = "導入した窓口の来庁",
    cost_yen: float | None = None,
    cost_label: str = "年間の費用",
) -> dict[str, Any]:
    """The effect relative to the level before, annualised, and per yen when costs are given.

    Parameters
    ----------
    result : EstimationResult or dict
        The headline estimate (``estimate`` and ``unit`` are used).
    baseline : float
        The outcome's level before the intervention in the treated units (e.g. the mean wait before
        adoption, from :func:`pre_adoption_levels`).
    per_year : float, optional
        How many cases a year the effect applies to (e.g. visits a year at adopting counters).
    per_year_unit, per_year_subject : str
        Unit and subject of ``per_year`` for the sentence.
    cost_yen : float, optional
        The planner's cost per year in yen (a template parameter); 0 or None means not given.
    cost_label : str
        What the cost is (「導入・運用の年間費用」).

    Returns
    -------
    dict
        ``baseline``, ``after``, ``relative`` (signed share), ``annual`` (total a year in hours for time
        outcomes, or ``None``), ``annual_unit``, ``cost_yen``, ``cost_per_unit`` and the sentences
        ``level_text``, ``annual_text`` and ``cost_text`` (plain Japanese, no minus signs).
    """
    unit = _field(result, "unit", "") or ""
    est = float(_field(result, "estimate"))
    down, up, less, more = direction_words(unit)
    after = baseline + est
    relative = est / baseline if baseline else None
    level = f"導入前 約{_num(baseline)}{unit} → 導入後 約{_num(after)}{unit}"
    relative_text = None
    if relative is not None:
        relative_text = f"{relative_words(relative)}{less if est < 0 else more}"
        level += f"（{relative_text}）"
    out: dict[str, Any] = {
        "baseline": baseline,
        "after": after,
        "relative": relative,
        "unit": unit,
        "level_text": level,
        "relative_text": relative_text,
        "annual": None,
        "annual_unit": None,
        "annual_text": None,
        "cost_yen": cost_yen or None,
        "cost_per_unit": None,
    }
    if per_year:
        factor = _TO_HOURS.get(unit)
        total = per_year * abs(est) * (factor if factor else 1.0)
        total_unit = "時間" if factor else unit
        out["annual"] = _round3(total)
        out["annual_unit"] = total_unit
        noun = "待ち時間の" + (less if est < 0 else more) if factor else less if est < 0 else more
        out["annual_text"] = (
            f"{per_year_subject}は年間約{_big(per_year)}{per_year_unit}あり、1{per_year_unit}あたり"
            f"約{_num(abs(est))}{unit}の{less if est < 0 else more}は、"
            f"年間約{_big(total)}{total_unit}の{noun}にあたる。"
        )
    if cost_yen:
        if out["annual"]:
            per = cost_yen / out["annual"]
            out["cost_per_unit"] = round(per)
            out["cost_text"] = (
                f"{cost_label}約{_big(cost_yen)}円を年間の効果で割ると、"
                f"1{out['annual_unit']}{less if est < 0 else more}あたり約{_big(per)}円である。"
            )
        else:
            out["cost_text"] = (
                f"{cost_label}は約{_big(cost_yen)}円である。年間の件数が与えられていないため、"
                "効果1単位あたりの費用は示していない。"
            )
    else:
        out["cost_text"] = "費用は条件として与えられていないため、費用対効果は示していない。"
    return out


def pre_adoption_levels(
    data: pd.DataFrame,
    *,
    y: str,
    unit: str,
    time: str,
    first_treated: str,
    volume: str | None = None,
) -> dict[str, float | None]:
    """The outcome before adoption in adopting units, and their yearly volume after adoption.

    Parameters
    ----------
    data : DataFrame
        Panel with one row per unit and period.
    y, unit, time, first_treated : str
        Outcome, unit, period (a date) and adoption date (empty = never) columns.
    volume : str, optional
        A count column (e.g. ``visits``) used to weight the baseline and to give cases a year.

    Returns
    -------
    dict
        ``baseline`` (mean of ``y`` before adoption, weighted by ``volume`` when given) and
        ``per_year`` (``volume`` a year at adopting units after adoption, or None).
    """
    import pandas as pd

    when = pd.to_datetime(data[time], errors="coerce")
    since = pd.to_datetime(data[first_treated], errors="coerce")
    adopting = since.notna()
    before = data[adopting & (when < since)]
    after = data[adopting & (when >= since)]
    if before.empty:
        from ebpm.errors import ParameterError

        raise ParameterError(
            f"導入前の期間がないため、導入前の水準を求められません（列『{first_treated}』）。",
            parameter=first_treated,
        )
    if volume:
        weights = before[volume].astype(float)
        baseline = float((before[y].astype(float) * weights).sum() / weights.sum())
    else:
        baseline = float(before[y].astype(float).mean())
    per_year = None
    if volume and not after.empty:
        months = after.assign(_m=when[after.index].dt.to_period("M"))
        n_periods = months.groupby(unit)["_m"].nunique().sum()
        n_units = months[unit].nunique()
        years = n_periods / n_units / 12 if n_units else 0
        per_year = float(after[volume].sum() / years) if years else None
    return {"baseline": baseline, "per_year": per_year}


def did_recommendation(
    result: EstimationResult | dict[str, Any],
    *,
    action: str,
    scope: str,
    better: Literal["lower", "higher"] = "lower",
) -> str:
    """推奨・次の一手 from a documented rule on the headline result (docs/reports.md).

    Rule: an effect in the wanted direction whose 95% CI excludes zero leads to extending ``action``
    to ``scope`` when the grade is A or B, and to re-checking first (on real data when the data were
    模擬データ) when it is C or D; an interval that includes zero or the wrong direction leads to
    not extending and reviewing the measure.
    """
    lo, hi = _field(result, "ci")
    grade = _field(result, "grade")
    synthetic = bool(_field(result, "synthetic"))
    good = hi < 0 if better == "lower" else lo > 0
    bad = lo > 0 if better == "lower" else hi < 0
    if bad:
        return f"{action}は望む方向と逆の変化を示した。{scope}への拡大は見送り、原因を調べる。"
    if not good:
        return (
            f"{action}の効果は確認できなかった。{scope}への拡大は見送り、"
            "観察期間を延ばすか対象を増やして再検証する。"
        )
    if grade in ("A", "B"):
        return f"{scope}への{action}の拡大を進める。導入後も同じ指標で効果を確かめる。"
    first = "実データで同じ分析をやり直し" if synthetic else "比較する対象を増やして再検証し"
    return (
        f"効果は見込めるが根拠の確かさが十分でないため、{scope}への{action}の拡大は、"
        f"{first}、効果を確かめてから決める。"
    )


def did_caveats(
    result: EstimationResult | dict[str, Any],
    *,
    confounders: str,
    treated_word: str = "導入窓口",
    control_word: str = "比較の窓口",
) -> list[str]:
    """Three study-specific caveats of a rollout DiD: a named confounder, few units, the data.

    Parameters
    ----------
    result : EstimationResult or dict
        The headline DiD (its diagnostics give the pre-trend test, unit counts and TWFE estimate).
    confounders : str
        The changes that could coincide with adoption in this study (「職員の配置換えや繁忙期の違い」).
    treated_word, control_word : str
        The report's words for treated and comparison units.
    """
    diag = _field(result, "diagnostics", {}) or {}
    unit = _field(result, "unit", "") or ""
    out = []
    pre = diag.get("pre_trend") or {}
    p = pre.get("f_p", pre.get("chi2_p"))
    checked = (
        f"導入前{pre.get('q')}か月の差の動きは0と区別できず、p値は{p:.2f}であった。"
        "ただし、これは前提が正しいことの証明ではない。"
        if isinstance(p, (int, float))
        else "導入前の差の動きは確かめられなかった。"
    )
    out.append(
        f"導入と同じ時期に{treated_word}だけに起きた別の変化、たとえば{confounders}があれば、"
        f"それも効果に含まれる。{checked}"
    )
    n_t, n_c = diag.get("n_treated_units"), diag.get("n_control_units")
    if n_t is not None and n_c is not None:
        out.append(
            f"{treated_word}は{n_t}か所、{control_word}は{n_c}か所と少なく、"
            "個別の窓口の事情に結果が左右されうる。"
        )
    if _field(result, "synthetic"):
        out.append("模擬データによる分析であり、実際の記録ではまだ確かめていない。")
    else:
        twfe = diag.get("twfe_estimate")
        if isinstance(twfe, (int, float)):
            out.append(
                f"通常の二方向固定効果の計算では{_num(abs(twfe))}{unit}となり、"
                "計算方法によって大きさに幅がある。"
            )
    return out[:3]


RECOMMEND_RULE_JA = (
    "推奨は結果だけから決める。根拠の確かさが C・D なら比較群のある設計での検証を、A・B で95%信頼区間が"
    "「変化なし」を含まず望ましい向きなら継続・拡大を、望ましくない向きなら原因の確認と見直しを、区間が"
    "「変化なし」を含むなら観察期間の延長や対象の拡大による再評価を勧める。"
)

SYNTHETIC_NOTE = "模擬データによる分析である。"


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


def _change(value: float, unit: str) -> str:
    """A signed change in words, no minus sign: ``-3.2`` → ``3.2ポイントの減少``."""
    return change_words(value, unit, less="減少", more="増加")


def _change_range(lo: float, hi: float, unit: str) -> str:
    """An interval of changes in words: both sides named when it crosses zero."""
    return change_range(lo, hi, unit, less="減少", more="増加")


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
            "根拠の確かさが限られるため、この結果だけで判断せず、段階的導入や無作為な割付など"
            "比較群のある設計での検証を計画する。"
        )
    side = _direction(res)
    want = -1 if better == "lower" else 1
    if side == want:
        return "効果が確認できた。継続・拡大を検討し、同じ指標で効果を見守る。"
    if side == -want:
        return "意図と逆向きの変化が推定された。原因を確認し、施策の見直しを検討する。"
    return (
        "効果の有無はまだ判断できない。観察期間を延ばすか対象を広げて再評価する。"
        "必要な規模は検出力の試算テンプレートで確かめられる。"
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
    word = "上回った" if res.estimate >= 0 else "下回った"
    text = (
        f"{det['treated_unit']}の{det['treatment_time']}年以降の{res.outcome_label}は、"
        f"比較に使った市町村の重み付き平均（合成コントロール）を平均で約{_fmt(abs(res.estimate))}{unit}{word}"
    )
    pl = diag.get("placebo")
    if pl:
        text += f"。プラセボ検定では{pl['n_units']}市町村中{pl['rank']}番目の大きさで、p値は{pl['pvalue']:.2f}である"
    text += "。"
    rel = diag.get("pre_rmspe_relative")
    if rel is not None and rel > 0.05:  # GOOD_FIT of ebpm.methods.synth
        text += (
            f"介入前の当てはまりが悪く、誤差が平均水準の{rel * 100:.1f}%あるため、根拠の確かさを"
            "引き下げている。"
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
        f"{'減少' if change < 0 else '増加'}した。"
    )
    a, b = first["share_65_over"], now["share_65_over"]
    if math.isfinite(a) and math.isfinite(b):
        text += f"65歳以上の割合である高齢化率は{a:.1f}%から{b:.1f}%になった。"
    else:  # a share of a small group would give its count back (ageing_indicators(threshold=…))
        text += "高齢化率は、65歳以上などの人数が少ないため秘匿している。"
    if projected is not None and projected_year is not None:
        text += (
            f"基準期間の変化が続くと仮定するコーホート変化率法では、{projected_year}年には"
            f"約{projected:,.0f}人と見込まれる。"
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
        f"で、95%信頼区間は{share['ci_low'] * 100:.1f}〜{share['ci_high'] * 100:.1f}%である。"
    )
    if diff is not None and between:
        d, lo, hi = diff["diff"] * 100, diff["ci_low"] * 100, diff["ci_high"] * 100
        text += (
            f"{between}の差は{_change(d, 'ポイント')}で、95%信頼区間は{_change_range(lo, hi, 'ポイント')}"
            + (
                "であり、偶然の範囲を超えた差である。"
                if lo > 0 or hi < 0
                else "であり、差があるとは言えない。"
            )
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
            f"見つけるには、1群あたり{res.estimate:,.0f}人、2群で{res.n:,}人が必要である。"
        )
    elif solved == "power":
        text = (
            f"1群{d['n']:,.0f}人で効果{_fmt(abs(effect))}{unit}があるとき、それを統計的に確かめられる確率"
            f"である検出力は{res.estimate * 100:.0f}%である。"
        )
    else:
        text = (
            f"1群{d['n']:,.0f}人では、検出力{pw * 100:.0f}%で見つけられる最小の効果（MDE）は"
            f"{_fmt(res.estimate)}{res.unit}である。これより小さい効果は、あっても見逃す可能性が高い。"
        )
    if budget_per_person:
        text += f"1人あたり{budget_per_person:,.0f}円とすると、費用は約{res.n * budget_per_person:,.0f}円である。"
    return text

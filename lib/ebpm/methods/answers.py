"""Plain-Japanese summary text built from results: the answer, effect in context, recommendation (never typed)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from ebpm.result import EstimationResult

if TYPE_CHECKING:
    import pandas as pd

# natural-unit words: time outcomes get shorter/longer, counts fewer/more
_TIME_UNITS = {"分", "秒", "時間", "日"}
_TO_HOURS = {"分": 1 / 60, "秒": 1 / 3600, "時間": 1.0}


def _num(value: float) -> str:
    """One decimal for small magnitudes (minutes, %), thousands separators for large ones."""
    return f"{value:,.1f}" if abs(value) < 100 else f"{value:,.0f}"


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


def direction_words(unit: str) -> tuple[str, str, str, str]:
    """(down, up, decrease noun, increase noun) for an outcome measured in ``unit``."""
    if unit in _TIME_UNITS:
        return "短く", "長く", "短縮", "延長"
    return "少なく", "多く", "減少", "増加"


def _field(result: Any, name: str, default: Any = None) -> Any:
    """Read ``name`` from an EstimationResult or its ``to_dict()`` form."""
    if isinstance(result, dict):
        return result.get(name, default)
    return getattr(result, name, default)


def effect_answer(result: EstimationResult, *, subject: str) -> str:
    """The report's 結論: direction and size in natural units, the 95% CI without minus signs.

    The grade is not part of the sentence: a report shows one grade, in its 根拠の確かさ box.

    Parameters
    ----------
    result : EstimationResult
        The headline estimate (its ``outcome_label`` and ``unit`` name the outcome).
    subject : str
        Who was treated, ending the way a sentence continues (e.g. 「導入した窓口では」).

    Examples
    --------
    「キャッシュレス決済を導入した窓口では、平均待ち時間が約4.2分短くなったと推定される
    95%信頼区間は3.1〜5.3分の短縮である。」
    """
    unit = result.unit or ""
    down, up, less, more = direction_words(unit)
    est = result.estimate
    lo, hi = result.ci
    if hi < 0:
        interval = f"95%信頼区間は{_num(abs(hi))}〜{_num(abs(lo))}{unit}の{less}である"
    elif lo > 0:
        interval = f"95%信頼区間は{_num(lo)}〜{_num(hi)}{unit}の{more}である"
    else:
        interval = (
            f"95%信頼区間は{_num(abs(lo))}{unit}の{less}から{_num(hi)}{unit}の{more}までで、"
            "効果がないとも言い切れない"
        )
    label = result.outcome_label or "結果"
    word = down if est < 0 else up
    text = f"{subject}、{label}が約{_num(abs(est))}{unit}{word}なったと推定される。{interval}。"
    if result.synthetic:
        text += "模擬データによる分析である。"
    return text


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

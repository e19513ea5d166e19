"""One-sentence Japanese answers built from an estimation result (never typed into a template)."""

from __future__ import annotations

from ebpm.result import EstimationResult

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


def effect_answer(result: EstimationResult, *, subject: str) -> str:
    """The report's answer: direction and size in natural units, the 95% CI without minus signs, the grade.

    Parameters
    ----------
    result : EstimationResult
        The headline estimate (its ``outcome_label`` and ``unit`` name the outcome).
    subject : str
        Who was treated, ending the way a sentence continues (e.g. 「導入した窓口では」).

    Examples
    --------
    「キャッシュレス決済を導入した窓口では、窓口の平均待ち時間が約4.2分短くなったと推定される
    （95%信頼区間: 3.1〜5.3分の短縮）。エビデンスの強さはC（弱い）である。」
    """
    unit = result.unit or ""
    down, up, less, more = direction_words(unit)
    est = result.estimate
    lo, hi = result.ci
    if hi < 0:
        interval = f"95%信頼区間: {_num(abs(hi))}〜{_num(abs(lo))}{unit}の{less}"
    elif lo > 0:
        interval = f"95%信頼区間: {_num(lo)}〜{_num(hi)}{unit}の{more}"
    else:
        interval = (
            f"95%信頼区間は{_num(abs(lo))}{unit}の{less}から{_num(hi)}{unit}の{more}までで、"
            "効果がないとも言い切れない"
        )
    label = result.outcome_label or "結果"
    word = down if est < 0 else up
    text = (
        f"{subject}、{label}が約{_num(abs(est))}{unit}{word}なったと推定される（{interval}）。"
        f"エビデンスの強さは{result.grade_label}である。"
    )
    if result.synthetic:
        text += "（模擬データによる分析である。）"
    return text

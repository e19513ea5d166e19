"""How a credibility grade (エビデンスの強さ A〜D) is decided from the design and its checks.

The rule (documented for users in docs/grading.md):

1. The design sets a ceiling: a randomised experiment, a regression discontinuity or a
   difference-in-differences with a testable pre-period can reach A; an interrupted time series or a
   synthetic control B; an adjusted cross-sectional comparison C; a description D.
2. Every check that fails lowers the grade by its ``severity`` (1 or 2 steps).
3. A check that could not be run (``passed is None``) caps the grade at B, because an untested
   assumption is not a passed one.
4. The grade never goes below D. Every step is written into ``reasons`` as a Japanese sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Grade = Literal["A", "B", "C", "D"]
ORDER: tuple[Grade, ...] = ("A", "B", "C", "D")

DESIGN_CEILING: dict[str, tuple[Grade, str]] = {
    "experiment": ("A", "無作為割付（実験）に基づく比較で、設計上の信頼性は高い。"),
    "rdd": ("A", "回帰不連続デザイン（RDD）で、しきい値付近では実験に近い比較ができる。"),
    "did": ("A", "差の差分析（DiD）で、介入前の期間により平行トレンドの仮定を確かめられる。"),
    "its": ("B", "分割時系列分析（ITS）で、比較群がないため同時期の他の変化と区別しにくい。"),
    "synth": ("B", "合成コントロール法で、比較対象を重み付けで作るが、介入単位は一つだけである。"),
    "regression": ("C", "観察データの回帰分析で、測っていない要因による偏りが残りうる。"),
    "descriptive": ("D", "記述統計であり、因果効果を示すものではない。"),
}


@dataclass(frozen=True)
class Check:
    """One diagnostic that bears on the grade.

    Parameters
    ----------
    name : str
        Machine name (``"pre_trend"``, ``"density"`` …).
    passed : bool or None
        True if the check passed, False if it failed, None if it could not be run.
    reason_ja : str
        One Japanese sentence stating the result with its number (``"介入前の傾きの差は
        統計的に有意でない（p=0.41）。"``).
    severity : int
        Grade steps lost when the check fails (1 or 2).
    """

    name: str
    passed: bool | None
    reason_ja: str
    severity: int = 1


def lower(grade: Grade, steps: int) -> Grade:
    """Lower a grade by ``steps``, never below D."""
    return ORDER[min(ORDER.index(grade) + max(steps, 0), len(ORDER) - 1)]


def decide(design: str, checks: list[Check]) -> tuple[Grade, list[str]]:
    """Return the grade and its reasons for a design key of :data:`DESIGN_CEILING`."""
    if design not in DESIGN_CEILING:
        raise ValueError(f"未知の設計 {design!r}（{', '.join(DESIGN_CEILING)} のいずれか）")
    grade, design_reason = DESIGN_CEILING[design]
    reasons = [design_reason]
    untested = False
    for check in checks:
        if check.passed is False:
            grade = lower(grade, check.severity)
            reasons.append(f"【要注意】{check.reason_ja}")
        elif check.passed is None:
            untested = True
            reasons.append(f"【未確認】{check.reason_ja}")
        else:
            reasons.append(f"【確認済み】{check.reason_ja}")
    if untested and grade == "A":
        grade = "B"
        reasons.append("確認できなかった前提があるため、強さは B までとした。")
    return grade, reasons

"""How a credibility grade (根拠の確かさ A〜D) is decided from the design and its checks.

The rule (documented for users in docs/grading.md):

1. The design sets a ceiling: a randomised experiment, a regression discontinuity or a
   difference-in-differences with a testable pre-period can reach A; an interrupted time series or a
   synthetic control B; an adjusted cross-sectional comparison C; a description D.
2. Every check that fails lowers the grade by its ``severity`` (1 or 2 steps).
3. A check that was switched off or could not be run (``passed is None``, 未確認) lowers the grade by
   the same ``severity`` as a failure would: an untested assumption is not a passed one, and no
   switch may raise a grade. Estimators give an untested check the severity its failure carries.
4. The grade never goes below D. Every step is written into ``reasons`` as a Japanese sentence.

Reports that estimate nothing get theirs from the same module: :func:`descriptive` (D, 参考程度) and
:func:`monitoring` (no letter: 「実績集計（推定なし）」). Every rule returns a :class:`Grading`; the report
runner accepts only a grade that :func:`verify` re-derives from the rule.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ebpm.errors import GradeError

Grade = Literal["A", "B", "C", "D"]
ORDER: tuple[Grade, ...] = ("A", "B", "C", "D")
LABELS_JA: dict[str, str] = {"A": "強い", "B": "中程度", "C": "弱い", "D": "参考程度"}
RULE_ID = (
    "ebpm.grading/2"  # bumped when the rule changes; a recorded grade names the rule it came from
)
MONITORING_LABEL = "実績集計（推定なし）"

DESIGN_CEILING: dict[str, tuple[Grade, str]] = {
    "experiment": ("A", "無作為割付（実験）に基づく比較で、設計上の信頼性は高い。"),
    "rdd": ("A", "回帰不連続デザイン（RDD）で、しきい値付近では実験に近い比較ができる。"),
    "did": ("A", "差の差分析（DiD）で、介入前の期間により平行トレンドの仮定を確かめられる。"),
    "its": ("B", "分割時系列分析（ITS）で、比較群がないため同時期の他の変化と区別しにくい。"),
    "synth": ("B", "合成コントロール法で、比較対象を重み付けで作るが、介入単位は一つだけである。"),
    "regression": ("C", "観察データの回帰分析で、測っていない要因による偏りが残りうる。"),
    "descriptive": ("D", "記述統計であり、因果効果を示すものではない。"),
}

MONITORING_REASONS: tuple[str, ...] = (
    "実績値は記録の集計で、推定をしていないため、根拠の確かさ（A〜D）は付けない。",
    "集計値は指標の定義（集計の時点・延べ数か実数か）に依存する。",
    "指標の推移は施策の効果を示すものではない（比較群がない）。",
)
DESCRIPTIVE_NOTE = (
    "集計・割合・分布の記述で、因果効果の推定ではないため、根拠の確かさは最も低い段階の D とする。"
)


@dataclass(frozen=True)
class Check:
    """One diagnostic that bears on the grade.

    Parameters
    ----------
    name : str
        Machine name (``"pre_trend"``, ``"density"`` …).
    passed : bool or None
        True if the check passed, False if it failed, None if it was switched off or could not run.
    reason_ja : str
        One Japanese sentence stating the result with its number (``"介入前の傾きの差は
        統計的に有意でない（p=0.41）。"``); for an untested check, which diagnostic is missing.
    severity : int
        Grade steps lost when the check fails or is untested (1 or 2).
    """

    name: str
    passed: bool | None
    reason_ja: str
    severity: int = 1

    def to_dict(self) -> dict[str, Any]:
        """Plain form written into result.json (and read back by :func:`verify`)."""
        return {
            "name": self.name,
            "passed": self.passed,
            "reason_ja": self.reason_ja,
            "severity": self.severity,
        }


@dataclass(frozen=True)
class Grading:
    """The output of the grading rule: the grade, its label and reasons, and what it was derived from.

    Unpacks as ``grade, reasons = decide(...)``. Record it with ``ebpm.record("grade", grading)``;
    a report run accepts no other grade.

    Attributes
    ----------
    kind : {"causal", "descriptive", "monitoring"}
    design : str
        Key of :data:`DESIGN_CEILING`, or ``"monitoring"``.
    grade : {"A","B","C","D"} or None
        None for monitoring reports (no causal letter).
    label : str
        ``"B（中程度）"`` or 「実績集計（推定なし）」.
    reasons : tuple of str
        Japanese sentences (根拠).
    checks : tuple of Check
    notes : tuple of str
        Study-specific sentences appended to the reasons (they never change the grade).
    """

    kind: Literal["causal", "descriptive", "monitoring"]
    design: str
    grade: Grade | None
    label: str
    reasons: tuple[str, ...]
    checks: tuple[Check, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def __iter__(self) -> Iterator[Any]:
        yield self.grade
        yield list(self.reasons)

    @property
    def untested(self) -> list[str]:
        """Names of the checks that were switched off or could not run (未確認)."""
        return [c.name for c in self.checks if c.passed is None]

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``rule``, ``kind``, ``design``, ``grade``, ``grade_label``, ``reasons``, ``checks``."""
        return {
            "rule": RULE_ID,
            "kind": self.kind,
            "design": self.design,
            "grade": self.grade,
            "grade_label": self.label,
            "reasons": list(self.reasons),
            "checks": [c.to_dict() for c in self.checks],
            "notes": list(self.notes),
        }


def lower(grade: Grade, steps: int) -> Grade:
    """Lower a grade by ``steps``, never below D."""
    return ORDER[min(ORDER.index(grade) + max(steps, 0), len(ORDER) - 1)]


def label_of(grade: str | None) -> str:
    """``"B（中程度）"`` for a letter; 「実績集計（推定なし）」 for None."""
    if grade is None:
        return MONITORING_LABEL
    return f"{grade}（{LABELS_JA[grade]}）"


def decide(design: str, checks: Sequence[Check], notes: Sequence[str] = ()) -> Grading:
    """Grade a study of a design key of :data:`DESIGN_CEILING` from its checks.

    Parameters
    ----------
    design : str
    checks : list of Check
    notes : list of str, optional
        Sentences appended to the reasons without changing the grade.

    Returns
    -------
    Grading
        Also unpacks as ``grade, reasons``.
    """
    if design not in DESIGN_CEILING:
        raise ValueError(f"未知の設計 {design!r}（{', '.join(DESIGN_CEILING)} のいずれか）")
    grade, design_reason = DESIGN_CEILING[design]
    reasons = [design_reason]
    for check in checks:
        steps = max(int(check.severity), 1)
        if check.passed is False:
            grade = lower(grade, steps)
            reasons.append(f"【要注意】{check.reason_ja}")
        elif check.passed is None:
            grade = lower(grade, steps)
            reasons.append(
                f"【未確認】{check.reason_ja}確認していない前提は通ったものとは扱わず、"
                f"不合格と同じく{steps}段下げた。"
            )
        else:
            reasons.append(f"【確認済み】{check.reason_ja}")
    reasons.extend(str(n) for n in notes)
    kind = "descriptive" if design == "descriptive" else "causal"
    return Grading(
        kind, design, grade, label_of(grade), tuple(reasons), tuple(checks), tuple(notes)
    )


def descriptive(notes: Sequence[str] = ()) -> Grading:
    """Grade of a descriptive report (describe, survey proportions, profiles): always D.

    ``notes`` are study-specific sentences (for example how standard errors were computed).
    """
    return decide("descriptive", [], [DESCRIPTIVE_NOTE, *notes])


def monitoring(notes: Sequence[str] = ()) -> Grading:
    """Grade of a monitoring report (KPI counts, 実績集計): no letter, 「実績集計（推定なし）」.

    ``notes`` are study-specific sentences (for example how a projection was made).
    """
    reasons = (*MONITORING_REASONS, *(str(n) for n in notes))
    return Grading("monitoring", "monitoring", None, MONITORING_LABEL, reasons, (), tuple(notes))


def _rederive(payload: dict[str, Any]) -> Grading:
    kind = payload.get("kind")
    notes = [str(n) for n in payload.get("notes") or []]
    if kind == "monitoring":
        return monitoring(notes)
    checks = [
        Check(str(c["name"]), c["passed"], str(c["reason_ja"]), int(c.get("severity", 1)))
        for c in payload.get("checks") or []
    ]
    return decide(str(payload.get("design")), checks, notes)


def verify(payload: Any, *, where: str = "根拠の確かさ") -> Grading:
    """Re-derive a recorded grade from the rule; raise :class:`~ebpm.errors.GradeError` if it differs.

    ``payload`` is :meth:`Grading.to_dict` as it came back from result.json or the run's record.
    A bare letter (``"A"``) or a dictionary that the rule does not reproduce is refused.
    """
    if isinstance(payload, Grading):
        payload = payload.to_dict()
    hint = (
        "強さは手で書かず、推定結果（その grade）か ebpm.methods.grading の規則"
        "（decide・descriptive・monitoring）の結果を ebpm.record に渡してください。"
    )
    if not isinstance(payload, dict) or payload.get("rule") != RULE_ID:
        shown = payload if isinstance(payload, (str, int, float)) else type(payload).__name__
        raise GradeError(
            f"{where}（{shown!r}）は評価規則（{RULE_ID}）の出力ではないため、受け付けません。{hint}"
        )
    try:
        again = _rederive(payload)
    except (KeyError, TypeError, ValueError) as err:
        raise GradeError(
            f"{where}の記録が壊れていて、評価規則で確かめられません（{err}）。{hint}"
        ) from err
    if (
        again.kind != payload.get("kind")
        or again.grade != payload.get("grade")
        or list(again.reasons) != list(payload.get("reasons") or [])
    ):
        raise GradeError(
            f"{where}（{payload.get('grade')!r}）が、記録された確認から評価規則で求めた強さ"
            f"（{again.label}）と一致しません。{hint}"
        )
    return again

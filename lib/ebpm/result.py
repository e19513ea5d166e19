"""The result object every estimator returns: estimate, CI, diagnostics, grade and a Japanese summary (light: no heavy imports)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

Grade = Literal["A", "B", "C", "D"]

GRADE_LABELS_JA: dict[str, str] = {"A": "強い", "B": "中程度", "C": "弱い", "D": "参考程度"}


def _json_safe(value: Any) -> Any:
    """Convert numpy/pandas scalars and containers into plain JSON types (NaN -> None)."""
    try:
        import numpy as np
    except ImportError:  # pragma: no cover
        np = None  # type: ignore[assignment]
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if np is not None:
        if isinstance(value, np.bool_):
            return bool(value)
        if isinstance(value, np.integer):
            return int(value)
        if isinstance(value, np.floating):
            return _json_safe(float(value))
        if isinstance(value, np.ndarray):
            return [_json_safe(v) for v in value.tolist()]
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "to_dict") and hasattr(value, "columns"):  # DataFrame
        return [_json_safe(r) for r in value.to_dict(orient="records")]
    if hasattr(value, "to_dict"):  # Series
        return _json_safe(value.to_dict())
    return str(value)


@dataclass
class EstimationResult:
    """Common result of every method in :mod:`ebpm.methods`.

    Attributes
    ----------
    method : str
        Machine name (``"did"``, ``"its"`` …).
    method_ja : str
        Japanese name from the glossary (``"差の差分析（DiD）"`` …).
    estimate, se, ci, pvalue : float
        The headline effect, its standard error, 95% confidence interval and p-value.
    n : int
        Number of observations used.
    se_type : str
        Japanese statement of the SE type (``"クラスター頑健（支所）"`` …).
    unit : str
        Natural unit of the effect (``"分"``, ``"件"``, ``"%ポイント"`` …); may be empty.
    outcome_label : str
        What the effect is on, in Japanese (``"窓口の待ち時間"``).
    diagnostics : dict
        Named checks (pre-trend test, density test …) with their numbers.
    grade : {"A","B","C","D"}
        Credibility grade (根拠の確かさ).
    reasons : list of str
        Japanese sentences explaining the grade (根拠).
    warnings : list of str
        Japanese warnings raised while estimating (they also lower the grade).
    synthetic : bool
        True when the data were 模擬データ; every summary and chart says so.
    grading : Grading, optional
        What the grading rule returned (:class:`ebpm.methods.grading.Grading`); when given, ``grade``
        and ``reasons`` are taken from it, and reports check the grade against it.
    """

    method: str
    method_ja: str
    estimate: float
    se: float
    ci: tuple[float, float]
    pvalue: float
    n: int
    se_type: str = ""
    unit: str = ""
    outcome_label: str = ""
    diagnostics: dict[str, Any] = field(default_factory=dict)
    grade: Grade = "D"
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    synthetic: bool = False
    details: dict[str, Any] = field(default_factory=dict)  # method-specific tables (tidy frames)
    grading: Any = field(default=None, repr=False)
    _chart_builder: Any = field(default=None, repr=False)
    _summary_builder: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.grading is not None:
            self.grade = self.grading.grade
            self.reasons = list(self.grading.reasons)

    @property
    def coefficients(self):
        """Tidy coefficient frame (term, estimate, se, ci_low, ci_high, pvalue) when the method has one."""
        return self.details.get("coefficients")

    @property
    def grade_label(self) -> str:
        return f"{self.grade}（{GRADE_LABELS_JA[self.grade]}）"

    def summary_ja(self) -> str:
        """A few Japanese sentences a manager can read: effect, how sure, what could make it wrong."""
        if self._summary_builder is not None:
            text = self._summary_builder(self)
        else:
            lo, hi = self.ci
            text = (
                f"{self.method_ja}による{self.outcome_label or '効果'}の推定値は"
                f"{self.estimate:,.3g}{self.unit}、95%信頼区間は{lo:,.3g}〜{hi:,.3g}{self.unit}である。"
            )
        if self.synthetic and "模擬データ" not in text:
            text += "（このデータは模擬データである。）"
        return text

    def chart(self):
        """The method's diagnostic chart (Altair, house theme)."""
        if self._chart_builder is None:
            raise NotImplementedError(f"{self.method} には図がありません")
        return self._chart_builder(self)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary used by reports and the evidence register."""
        return _json_safe(
            {
                "method": self.method,
                "method_ja": self.method_ja,
                "estimate": self.estimate,
                "se": self.se,
                "ci": list(self.ci),
                "pvalue": self.pvalue,
                "n": self.n,
                "se_type": self.se_type,
                "unit": self.unit,
                "outcome_label": self.outcome_label,
                "diagnostics": self.diagnostics,
                "grade": self.grade,
                "grade_label": self.grade_label,
                "reasons": self.reasons,
                "warnings": self.warnings,
                "synthetic": self.synthetic,
                "summary_ja": self.summary_ja(),
                "grading": None if self.grading is None else self.grading.to_dict(),
            }
        )

    def compare_truth(self, truth: Any, *, key: str | None = None) -> TruthCheck:
        """Set the estimate beside a planted true value (模擬データ, for training and checks).

        Parameters
        ----------
        truth : float or dict
            The true value on the scale of ``estimate`` (for a log outcome: the mean log ratio,
            e.g. ``ebpm.ground_truth("procedure_usage")["counter_effect_of_online"]["att_log"]``),
            or a dict holding it under ``key`` (default ``"att_log"`` for log outcomes, else
            ``"att_overall"``).
        key : str, optional
            Key of the true value when ``truth`` is a dict.

        Returns
        -------
        TruthCheck
            ``estimate``, ``truth``, ``ci``, ``covered`` (is the truth inside the 95%信頼区間),
            ``error`` (estimate − truth); ``summary_ja()`` says it in one Japanese sentence.
        """
        from ebpm.errors import ParameterError

        log = "percent_change" in (self.diagnostics or {})
        if isinstance(truth, dict):
            key = key or ("att_log" if log else "att_overall")
            if key not in truth:
                raise ParameterError(
                    f"真の値の辞書に「{key}」がありません（ある項目: {', '.join(map(str, truth))}）。",
                    parameter="key",
                )
            truth = truth[key]
        if isinstance(truth, bool) or not isinstance(truth, (int, float)):
            raise ParameterError(
                f"truth は数値か、数値を持つ辞書で指定してください（受け取った値: {truth!r}）。",
                parameter="truth",
            )
        lo, hi = self.ci
        return TruthCheck(
            estimate=float(self.estimate),
            truth=float(truth),
            ci=(float(lo), float(hi)),
            covered=bool(lo <= truth <= hi),
            error=float(self.estimate) - float(truth),
            percent=log,
            outcome_label=self.outcome_label,
        )

    def _repr_markdown_(self) -> str:
        reasons = "\n".join(f"- {r}" for r in self.reasons)
        return f"**{self.method_ja}** — {self.summary_ja()}\n\n評価の理由:\n\n{reasons}"


@dataclass
class TruthCheck:
    """An estimate set beside the true value planted in 模擬データ (see ``EstimationResult.compare_truth``)."""

    estimate: float
    truth: float
    ci: tuple[float, float]
    covered: bool
    error: float
    percent: bool = False
    outcome_label: str = ""

    def summary_ja(self) -> str:
        """One Japanese sentence: estimate, truth and whether the 95%信頼区間 contains the truth."""

        def f(v: float) -> str:
            return f"{100 * math.expm1(v):.1f}%" if self.percent else f"{v:,.3g}"

        inside = "含む" if self.covered else "含まない"
        what = f"{self.outcome_label}の" if self.outcome_label else ""
        return (
            f"{what}推定値 {f(self.estimate)}、真の値 {f(self.truth)}"
            f"（模擬データに仕込んだ値）。95%信頼区間 {f(self.ci[0])}〜{f(self.ci[1])} は真の値を{inside}。"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "estimate": self.estimate,
            "truth": self.truth,
            "ci": list(self.ci),
            "covered": self.covered,
            "error": self.error,
        }

    def __repr__(self) -> str:
        return self.summary_ja()

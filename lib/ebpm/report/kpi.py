"""The DX KPI dashboard assembled from ebpm.data.kpi: progress table, projections, charts and the answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ebpm.data.kpi import DX_KPIS, PLAN_TITLE, check_kpis, kpi_actuals
from ebpm.errors import ParameterError
from ebpm.ingest.wareki import fiscal_year_label


@dataclass
class KpiBoard:
    """Actuals, projections and the progress table of the chosen KPIs (see :func:`dx_dashboard`)."""

    kpis: list[str]
    start_fy: int
    end_fy: int
    projection_to_fy: int
    actual: pd.DataFrame
    projections: dict[str, pd.DataFrame] = field(default_factory=dict)
    synthetic: bool = False

    @property
    def title(self) -> str:
        span = f"{fiscal_year_label(self.start_fy)}〜{fiscal_year_label(self.end_fy)}"
        return f"DX推進計画 KPI の進捗（{span}）"

    def latest(self, key: str) -> float:
        """The KPI's value at the end of ``end_fy``."""
        frame = self.actual[self.actual["kpi"] == key]
        return float(frame.iloc[-1]["value"])

    def verdict(self, key: str) -> str:
        """達成 / 見通しでは達成 / 未達成 at ``end_fy`` (projection used only when short)."""
        spec = DX_KPIS[key]
        if self.latest(key) >= spec.target:
            return "達成"
        end = self.projections[key].iloc[-1]
        return "見通しでは達成" if end["value"] >= spec.target else "未達成"

    def table(self) -> pd.DataFrame:
        """One row per KPI: target, latest actual, share of target, projection, verdict."""
        rows = []
        end_label = fiscal_year_label(self.end_fy)
        proj_label = fiscal_year_label(self.projection_to_fy)
        for key in self.kpis:
            spec = DX_KPIS[key]
            last = self.latest(key)
            end = self.projections[key].iloc[-1]
            rows.append(
                {
                    "指標": spec.label,
                    "目標値": f"{spec.target:,.0f}{spec.unit}",
                    f"{end_label}の実績値": spec.format(last),
                    "達成率": f"{100 * last / spec.target:.0f}%",
                    f"{proj_label}の見通し（95%予測区間）": (
                        f"{end['value']:,.0f}（{end['lower']:,.0f}〜{end['upper']:,.0f}）{spec.unit}"
                    ),
                    "判定": self.verdict(key),
                }
            )
        return pd.DataFrame(rows)

    def charts(self) -> list[Any]:
        """One trend chart per KPI (actuals, target, projection band)."""
        from ebpm.charts.kpi import kpi_trend_chart

        out = []
        for key in self.kpis:
            spec = DX_KPIS[key]
            frame = self.actual[self.actual["kpi"] == key]
            proj = self.projections[key].rename(columns={"year": "fy"})
            out.append(
                kpi_trend_chart(
                    frame,
                    proj,
                    label=spec.label,
                    unit=spec.unit,
                    target=spec.target,
                    synthetic=self.synthetic,
                )
            )
        return out

    def answer(self) -> str:
        """One-sentence answer from the actuals: each KPI against its target, and how many are met."""
        parts = []
        for key in self.kpis:
            spec = DX_KPIS[key]
            parts.append(
                f"{spec.label}は{spec.format(self.latest(key))}（目標{spec.target:,.0f}{spec.unit}）"
            )
        met = sum(self.latest(k) >= DX_KPIS[k].target for k in self.kpis)
        text = (
            f"{fiscal_year_label(self.end_fy)}末の実績は、"
            + "、".join(parts)
            + f"で、{len(self.kpis)}指標中{met}指標が目標を達成しています。"
        )
        if self.synthetic:
            text += "（模擬データによる集計です。）"
        return text

    def records(self) -> dict[str, dict[str, Any]]:
        """Per-KPI values for result.json: label, unit, target, actuals and projection."""
        out = {}
        for key in self.kpis:
            spec = DX_KPIS[key]
            frame = self.actual[self.actual["kpi"] == key]
            proj = self.projections[key].rename(columns={"year": "fy"}).drop(columns="slope")
            out[key] = {
                "label": spec.label,
                "unit": spec.unit,
                "target": spec.target,
                "actual": frame[["fy", "value"]].to_dict(orient="records"),
                "projection": proj.to_dict(orient="records"),
            }
        return out

    def definitions(self) -> pd.DataFrame:
        """How each KPI is counted: numerator, denominator, 延べ or 実人数, source tables."""
        return pd.DataFrame(
            [
                {
                    "指標": DX_KPIS[k].label,
                    "分子": DX_KPIS[k].numerator,
                    "分母": DX_KPIS[k].denominator,
                    "数え方": DX_KPIS[k].counting,
                }
                for k in self.kpis
            ]
        )


def dx_dashboard(
    kpis: list[str] | None = None,
    *,
    start_fy: int = 2021,
    end_fy: int = 2025,
    projection_to_fy: int = 2027,
) -> KpiBoard:
    """Read the DX KPIs' actuals and project each one to ``projection_to_fy``.

    The projection is a straight line through the yearly actuals with a 95% prediction interval,
    floored at the latest actual (the four KPIs never decrease by definition) and capped where the
    KPI has a ceiling (100%, 20 systems).
    """
    from ebpm.methods.trend import linear_projection

    keys = check_kpis(kpis)
    if end_fy - start_fy < 1:
        raise ParameterError(
            f"開始年度（{start_fy}）は終了年度（{end_fy}）より前にしてください（傾向の推定に2年度以上必要です）。",
            parameter="start_fy",
        )
    if projection_to_fy <= end_fy:
        raise ParameterError(
            f"見通しの年度（{projection_to_fy}）は終了年度（{end_fy}）より後にしてください。",
            parameter="projection_to_fy",
        )
    actual = kpi_actuals(keys, start_fy=start_fy, end_fy=end_fy)
    board = KpiBoard(
        kpis=keys,
        start_fy=start_fy,
        end_fy=end_fy,
        projection_to_fy=projection_to_fy,
        actual=actual,
        synthetic=bool(actual.attrs.get("synthetic")),
    )
    for key in keys:
        frame = actual[actual["kpi"] == key]
        spec = DX_KPIS[key]
        board.projections[key] = linear_projection(
            frame["fy"],
            frame["value"],
            to_year=projection_to_fy,
            floor=float(frame["value"].iloc[-1]),
            cap=spec.cap,
        )
    return board


__all__ = ["PLAN_TITLE", "KpiBoard", "dx_dashboard"]

"""The DX KPI dashboard assembled from ebpm.data.kpi: progress table, projections, charts and the answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ebpm.data.kpi import DX_KPIS, PLAN_END_FY, PLAN_TITLE, check_kpis, kpi_actuals
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
        from ebpm.ingest.wareki import fiscal_year_span

        return f"DX推進計画 KPI の達成状況、{fiscal_year_span(self.start_fy, self.end_fy)}"

    def latest(self, key: str) -> float:
        """The KPI's value at the end of ``end_fy``."""
        frame = self.actual[self.actual["kpi"] == key]
        return float(frame.iloc[-1]["value"])

    @property
    def plan_ended(self) -> bool:
        """True when ``end_fy`` reaches the plan's last year: verdicts are final, not projected."""
        return self.end_fy >= PLAN_END_FY

    def shortfall(self, key: str) -> float:
        """How far the latest actual is below the target (0 when met)."""
        return max(DX_KPIS[key].target - self.latest(key), 0.0)

    def verdict(self, key: str) -> str:
        """達成 / 未達成 at the plan's end year; before it, the projection is named as such."""
        spec = DX_KPIS[key]
        if self.latest(key) >= spec.target:
            return "達成"
        if self.plan_ended:
            return "未達成"
        end = self.projections[key].iloc[-1]
        return (
            "未達成（見通しでは達成）"
            if end["value"] >= spec.target
            else "未達成（見通しでも未達成）"
        )

    def verdict_text(self, key: str) -> str:
        """「未達成（目標80.0%に対し77.5%、2.5%ポイント不足）」 or 「達成（目標…に対し…）」."""
        spec = DX_KPIS[key]
        last = self.latest(key)
        head = f"目標{spec.format(spec.target)}に対し{spec.format(last)}"
        gap = self.shortfall(key)
        if gap <= 0:
            return f"達成。{head}"
        unit = "%ポイント" if spec.unit == "%" else spec.unit
        amount = f"{gap:,.1f}{unit}" if spec.unit == "%" else f"{gap:,.0f}{unit}"
        return f"{self.verdict(key)}。{head}で、{amount}不足"

    def reasons(self, key: str) -> list[str]:
        """The data's reasons for a shortfall (empty when met)."""
        from ebpm.data.kpi import kpi_shortfall_reasons

        if self.shortfall(key) <= 0:
            return []
        return kpi_shortfall_reasons(key, end_fy=self.end_fy)

    def table(self) -> pd.DataFrame:
        """One row per KPI: target, latest actual, share of target, verdict, reason, projection."""
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
                    "目標値": spec.format(spec.target),
                    f"{end_label}の実績値": spec.format(last),
                    "達成率": f"{100 * last / spec.target:.0f}%",
                    "判定": self.verdict(key),
                    "不足の理由": "".join(self.reasons(key)) or "なし",
                    f"参考: {proj_label}の見通し": (
                        f"{spec.format(end['value'])}、95%予測区間 {end['lower']:,.0f}〜{end['upper']:,.0f}{spec.unit}"
                    ),
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
        """The 結論 from the actuals: how many KPIs met their target and by how much the rest fell short."""
        met = [k for k in self.kpis if self.shortfall(k) <= 0]
        missed = [k for k in self.kpis if self.shortfall(k) > 0]
        when = fiscal_year_label(self.end_fy)
        period = "計画期間の最終年度である" if self.plan_ended else ""
        text = f"{period}{when}末の実績で、{len(self.kpis)}指標中{len(met)}指標が目標を達成した。"
        if missed:
            parts = [
                f"{DX_KPIS[k].label}が{self.verdict_text(k).split('。', 1)[1].replace('で、', 'で')}"
                for k in missed
            ]
            text += f"未達成の{len(missed)}指標は、" + "、".join(parts) + "である。"
        if self.synthetic:
            text += "模擬データによる集計である。"
        return text

    def question(self) -> str:
        """The 問い of the dashboard."""
        return (
            f"{PLAN_TITLE}の4つの指標は、{fiscal_year_label(self.end_fy)}末までに目標値に達したか。"
        )

    def recommendation(self) -> str:
        """推奨・次の一手 by rule: follow up each missed KPI with the reason the data give."""
        missed = [k for k in self.kpis if self.shortfall(k) > 0]
        if not missed:
            return "すべての指標が目標を達成した。次期計画の目標値の設定に、この実績を使う。"
        names = "、".join(DX_KPIS[k].label for k in missed)
        return (
            f"未達成の指標、{names}について、不足の理由に挙がった手続・業務ごとに完了の時期と担当を確認し、"
            "次期計画の目標と工程に引き継ぐ。"
        )

    def caveats(self) -> list[str]:
        """Three caveats specific to these KPIs."""
        return [
            "実績値は記録を数えた集計で、施策の効果を示すものではない。比較する群がないため、"
            "国の制度や社会の変化による動きと区別できない。",
            "研修受講者数は延べ人数で、同じ職員が複数の研修を修了すると複数回数える。",
            f"{fiscal_year_label(self.projection_to_fy)}の見通しは実績の年度に直線を当てはめて延ばした参考値で、"
            "観測点が少なく幅が広い。判定には使っていない。",
        ]

    def grading(self) -> Any:
        """The grading rule's verdict for a monitoring report: 実績集計（推定なし）, no letter."""
        from ebpm.methods.grading import monitoring

        return monitoring(
            [
                f"{fiscal_year_label(self.projection_to_fy)}の見通しは、"
                f"{self.end_fy - self.start_fy + 1}年度分の実績に直線を当てはめた参考値で、判定には使っていない。"
            ]
        )

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

"""The DX plan's KPIs in one place: targets, definitions and actuals by fiscal year from the curated tables."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ebpm.errors import ParameterError

if TYPE_CHECKING:
    import pandas as pd

SQL_DIR = Path(__file__).resolve().parent / "sql"


@dataclass(frozen=True)
class Kpi:
    """One KPI of the 盛岡市DX推進計画 (FY2021–2025) with its target and how it is counted."""

    key: str
    label: str
    unit: str
    target: float
    cumulative: bool
    numerator: str
    denominator: str
    counting: str
    tables: tuple[str, ...]
    truth_key: str
    cap: float | None = None

    @property
    def query(self) -> str:
        """The SQL (values bound as ``$start_fy`` / ``$end_fy`` where used) yielding ``fy, value``."""
        return (SQL_DIR / f"kpi_{self.key}.sql").read_text(encoding="utf-8")

    @property
    def truth_target(self) -> float | int:
        """The target as the synthetic city's ground truth writes it (a share as a fraction)."""
        return self.target / 100 if self.unit == "%" else int(self.target)

    def format(self, value: float) -> str:
        """A value in this KPI's unit: ``77.5%``, ``18業務``, ``1,024人``."""
        return f"{value:,.1f}{self.unit}" if self.unit == "%" else f"{value:,.0f}{self.unit}"


PLAN_TITLE = "盛岡市DX推進計画"
PLAN_START_FY = 2021
PLAN_END_FY = 2025  # targets are for the end of the plan period

DX_KPIS: dict[str, Kpi] = {
    k.key: k
    for k in (
        Kpi(
            key="online_share",
            label="オンライン化した手続の割合",
            unit="%",
            target=80.0,
            cumulative=False,
            numerator="年度末までにオンライン申請を始めた手続の数",
            denominator="法令上オンライン化が可能な手続の数",
            counting="年度末時点の割合（手続の数で数え、申請件数では数えない）",
            tables=("procedure",),
            truth_key="online_procedure_share",
            cap=100.0,
        ),
        Kpi(
            key="core_systems",
            label="標準化・クラウド移行を終えた基幹業務システム",
            unit="業務",
            target=20.0,
            cumulative=False,
            numerator="年度末までに標準化とガバメントクラウドへの移行をどちらも終えた業務の数",
            denominator="標準化の対象となる基幹業務（20業務）",
            counting="年度末時点の業務数",
            tables=("core_system",),
            truth_key="core_systems_done",
            cap=20.0,
        ),
        Kpi(
            key="trainees",
            label="EBPM・デジタル研修の受講者数（延べ・累計）",
            unit="人",
            target=1000.0,
            cumulative=True,
            numerator="修了した受講の件数（同じ職員が複数の研修を修了すれば複数回数える延べ人数）",
            denominator="なし（件数）",
            counting="計画初年度からの累計、延べ人数",
            tables=("staff_training",),
            truth_key="staff_training_cumulative",
        ),
        Kpi(
            key="workshops",
            label="市民向けデジタル講習会の開催回数（累計）",
            unit="回",
            target=130.0,
            cumulative=True,
            numerator="開催した講習会の回数（中止した回は数えない）",
            denominator="なし（回数）",
            counting="計画初年度からの累計",
            tables=("digital_workshop",),
            truth_key="digital_workshops_cumulative",
        ),
    )
}


def check_kpis(kpis: list[str] | tuple[str, ...] | None) -> list[str]:
    """The KPI keys asked for (all four by default), refusing unknown ones in Japanese."""
    if kpis is None:
        return list(DX_KPIS)
    unknown = [k for k in kpis if k not in DX_KPIS]
    if unknown:
        raise ParameterError(
            f"KPI「{'、'.join(map(str, unknown))}」はありません。使えるのは {', '.join(DX_KPIS)} です。",
            parameter="kpis",
        )
    return list(kpis)


def kpi_actuals(
    kpis: list[str] | tuple[str, ...] | None = None,
    *,
    start_fy: int = PLAN_START_FY,
    end_fy: int = PLAN_END_FY,
) -> pd.DataFrame:
    """Actual values of the DX KPIs at each fiscal-year end, from the curated database.

    Parameters
    ----------
    kpis : list of str, optional
        Keys of :data:`DX_KPIS` (default: all four).
    start_fy, end_fy : int
        First and last fiscal year. Cumulative KPIs are summed from ``start_fy``.

    Returns
    -------
    DataFrame
        Columns ``kpi``, ``fy``, ``value`` (float), one row per KPI and fiscal year; a fiscal year
        without records counts 0. ``attrs`` carries the tables read and the 模擬データ flag.
    """
    import pandas as pd

    from ebpm.data.access import sql, table_info

    keys = check_kpis(kpis)
    if not isinstance(start_fy, int) or not isinstance(end_fy, int) or end_fy < start_fy:
        raise ParameterError(
            f"年度の範囲（{start_fy}〜{end_fy}）が正しくありません。開始年度 ≦ 終了年度の整数にしてください。",
            parameter="start_fy",
        )
    years = pd.Index(range(start_fy, end_fy + 1), name="fy")
    frames, tables = [], []
    for key in keys:
        spec = DX_KPIS[key]
        query = spec.query
        params = {"start_fy": start_fy, "end_fy": end_fy} if "$start_fy" in query else None
        series = sql(query, params).set_index("fy")["value"].astype(float)
        series = series.reindex(years.union(series.index), fill_value=0.0).sort_index()
        if spec.cumulative:
            series = series[series.index >= start_fy].cumsum()
        series = series.reindex(years, fill_value=0.0)
        frames.append(pd.DataFrame({"kpi": key, "fy": years.to_numpy(), "value": series.to_numpy()}))
        tables += list(spec.tables)
    out = pd.concat(frames, ignore_index=True)
    out.attrs["tables"] = sorted(set(tables))
    out.attrs["synthetic"] = any(table_info(t)["synthetic"] for t in set(tables))
    return out


def kpi_shortfall_reasons(key: str, *, end_fy: int = PLAN_END_FY) -> list[str]:
    """The data's own reasons why a KPI is short of its target at the end of ``end_fy`` (Japanese).

    ``core_systems``: the systems not finished, with their ``status`` and planned completion year;
    ``online_share``: how many procedures are not online and whether they are national priority ones.
    Other KPIs have no recorded reason (empty list).
    """
    from ebpm.data.access import sql
    from ebpm.ingest.wareki import fiscal_year_label

    check_kpis([key])
    if key == "core_systems":
        rows = sql((SQL_DIR / "kpi_core_systems_pending.sql").read_text(encoding="utf-8"), {"end_fy": end_fy})
        out = []
        for (status, fy), group in rows.groupby(["status", "planned_completion_fy"], sort=False):
            names = "、".join(group["name"])
            out.append(
                f"残る{len(group)}業務（{names}）は{status.replace('（', '・').replace('）', '')}の対象で、"
                f"{fiscal_year_label(int(fy))}に移行を終える予定である。"
            )
        return out
    if key == "online_share":
        rows = sql((SQL_DIR / "kpi_online_share_pending.sql").read_text(encoding="utf-8"), {"end_fy": end_fy})
        if rows.empty:
            return []
        total = int(rows["n"].sum())
        priority = int(rows.loc[rows["priority_27"], "n"].sum())
        text = f"オンライン化が可能な手続のうち{total}手続が未実施である。"
        text += (
            "国が優先して示した手続はすべてオンライン化を終えている。"
            if priority == 0
            else f"うち{priority}手続は国が優先して示した手続である。"
        )
        return [text]
    return []

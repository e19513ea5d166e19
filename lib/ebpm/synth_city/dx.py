"""core_system, staff_training and digital_workshop: the DX plan's KPI records (模擬データ)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ebpm.synth_city.common import KPI_FYS, fy_end, table_rng

# The 20 core business systems (基幹業務システム) of the national standardisation law, with the
# department that owns each (所管課 is 模擬).
CORE_SYSTEMS = [
    ("住民基本台帳", "市民登録課"),
    ("選挙人名簿管理", "選挙管理委員会事務局"),
    ("固定資産税", "資産税課"),
    ("個人住民税", "市民税課"),
    ("法人住民税", "市民税課"),
    ("軽自動車税", "市民税課"),
    ("戸籍", "市民登録課"),
    ("戸籍附票", "市民登録課"),
    ("就学", "学務教職員課"),
    ("国民健康保険", "国保年金課"),
    ("国民年金", "国保年金課"),
    ("障害者福祉", "障がい福祉課"),
    ("後期高齢者医療", "国保年金課"),
    ("介護保険", "介護保険課"),
    ("児童手当", "子育てあんしん課"),
    ("生活保護", "生活福祉課"),
    ("健康管理", "健康増進課"),
    ("児童扶養手当", "子育てあんしん課"),
    ("子ども・子育て支援", "子ども青少年課"),
    ("印鑑登録", "市民登録課"),
]
# completed (standardised and on the government cloud) by the end of each FY, cumulative (模擬)
CORE_DONE_PLAN = {2021: 0, 2022: 0, 2023: 2, 2024: 7, 2025: 18}
DELAYED = ("生活保護", "健康管理")  # 特定移行支援システム: migration after FY2025

GRADES_MANAGER = ("部長級", "次長級", "課長級")
GRADES_STAFF = ("課長補佐級", "係長級", "主査級", "主任級", "主事・技師級")
DEPARTMENTS = (
    "総務部",
    "財政部",
    "市民部",
    "保健福祉部",
    "子ども未来部",
    "環境部",
    "商工観光部",
    "農林部",
    "都市整備部",
    "建設部",
    "教育委員会事務局",
    "上下水道局",
    "消防関係",
    "玉山総合事務所",
    "都南総合支所",
)
# (course, track, sessions per FY from FY2021 to FY2025, seats per session)
COURSES = [
    ("EBPM入門（管理職のための証拠に基づく政策立案）", "管理職向け", (1, 2, 2, 2, 2), 25),
    ("ロジックモデルと指標設定", "管理職向け", (0, 1, 1, 2, 2), 20),
    ("データ活用基礎（集計とグラフ）", "実務者向け", (3, 3, 4, 4, 4), 24),
    ("効果検証の実践（差の差分析・分割時系列分析）", "実務者向け", (0, 1, 2, 2, 3), 20),
    ("オープンデータ作成と公開", "実務者向け", (1, 1, 1, 1, 1), 20),
    ("業務改善とデジタルツール（RPA・ローコード）", "実務者向け", (2, 2, 2, 2, 2), 20),
    ("生成AIの安全な業務活用", "実務者向け", (0, 0, 2, 3, 3), 30),
]
N_STAFF = 2700
WORKSHOPS_PER_FY = {2021: 16, 2022: 24, 2023: 30, 2024: 33, 2025: 38}
TOPICS = (
    "スマートフォン入門",
    "マイナンバーカードとマイナポータル",
    "オンライン申請を体験しよう",
    "キャッシュレス決済のはじめ方",
    "ネット詐欺・情報セキュリティ対策",
    "ビデオ通話とLINEの使い方",
)
# Venues: real public facilities of 盛岡市 named in the GSI 指定緊急避難場所 data (data/raw/
# gsi_shelters_morioka); their use as workshop venues is 模擬.
VENUES = (
    "中央公民館",
    "都南公民館（キャラホール）",
    "渋民公民館（姫神ホール）",
    "河南公民館（盛岡劇場）",
    "上田公民館",
    "西部公民館",
    "見前地区公民館",
    "飯岡地区公民館",
    "好摩地区公民館",
    "青山地区活動センター",
    "松園地区活動センター",
    "太田地区活動センター",
)
AGE_GROUPS = ("under_60", "60_69", "70_79", "80_over")


def _date_in_fy(rng: np.random.Generator, fy: int, weekend_ok: bool = False) -> dt.date:
    start = dt.date(fy, 4, 1)
    while True:
        d = start + dt.timedelta(days=int(rng.integers(0, 365)))
        if d <= fy_end(fy) and (weekend_ok or d.weekday() < 5):
            return d


def core_system(seed: int) -> pd.DataFrame:
    """The 20 core systems with fit-gap, standardisation and cloud-migration milestones."""
    rng = table_rng(seed, "core_system")
    names = [n for n, _ in CORE_SYSTEMS]
    order = [n for n in rng.permutation(names) if n not in DELAYED]
    done_fy: dict[str, int] = {}
    prev = 0
    for fy in KPI_FYS:
        for n in order[prev : CORE_DONE_PLAN[fy]]:
            done_fy[n] = fy
        prev = CORE_DONE_PLAN[fy]
    rows = []
    for i, (name, dept) in enumerate(CORE_SYSTEMS):
        if name in done_fy:
            cloud = _date_in_fy(rng, done_fy[name])
            std = cloud - dt.timedelta(days=int(rng.integers(0, 120)))
            fit_gap = std - dt.timedelta(days=int(rng.integers(120, 540)))
            status, plan_fy = "移行完了", done_fy[name]
        else:
            fit_gap = _date_in_fy(rng, 2023)
            std = cloud = None
            status, plan_fy = "特定移行支援（期限後移行）", 2027
        rows.append(
            {
                "system_id": f"CS{i + 1:02d}",
                "name": name,
                "department": dept,
                "fit_gap_completed_on": fit_gap.isoformat(),
                "standardised_on": std.isoformat() if std else None,
                "cloud_migrated_on": cloud.isoformat() if cloud else None,
                "planned_completion_fy": plan_fy,
                "status": status,
            }
        )
    return pd.DataFrame(rows)


def core_done(core: pd.DataFrame) -> dict[int, int]:
    """KPI 2 true value: systems both standardised and on the cloud at each FY end."""
    out = {}
    for fy in KPI_FYS:
        end = fy_end(fy).isoformat()
        ok = core["standardised_on"].notna() & core["cloud_migrated_on"].notna()
        ok &= (core["standardised_on"].fillna("9999") <= end) & (
            core["cloud_migrated_on"].fillna("9999") <= end
        )
        out[fy] = int(ok.sum())
    return out


def staff_training(seed: int) -> pd.DataFrame:
    """Attendance roll: pseudonymous staff id (never a name), grade, department, course, date."""
    rng = table_rng(seed, "staff_training")
    ids = np.array([f"S{k:06d}" for k in rng.choice(np.arange(1, 10000), N_STAFF, replace=False)])
    is_mgr = rng.random(N_STAFF) < 0.12
    grade = np.where(
        is_mgr,
        rng.choice(GRADES_MANAGER, N_STAFF, p=[0.1, 0.2, 0.7]),
        rng.choice(GRADES_STAFF, N_STAFF, p=[0.15, 0.25, 0.2, 0.2, 0.2]),
    )
    dept = rng.choice(DEPARTMENTS, N_STAFF)
    rows = []
    for fy_i, fy in enumerate(KPI_FYS):
        for course, track, sessions, seats in COURSES:
            pool = np.flatnonzero(is_mgr if track == "管理職向け" else ~is_mgr)
            for _ in range(sessions[fy_i]):
                day = _date_in_fy(rng, fy)
                n = int(min(seats, rng.binomial(seats, 0.82)))
                for k in rng.choice(pool, n, replace=False):
                    rows.append(
                        {
                            "staff_id": ids[k],
                            "grade": grade[k],
                            "department": dept[k],
                            "course": course,
                            "track": track,
                            "date": day.isoformat(),
                            "completed": bool(rng.random() < 0.93),
                        }
                    )
    df = pd.DataFrame(rows)
    return df.sort_values(["date", "course", "staff_id"], kind="stable").reset_index(drop=True)


def training_cumulative(df: pd.DataFrame) -> dict[int, int]:
    """KPI 3 true value: completed attendances, cumulative from FY2021, at each FY end."""
    return {
        fy: int((df["completed"] & (df["date"] <= fy_end(fy).isoformat())).sum()) for fy in KPI_FYS
    }


def digital_workshop(seed: int) -> pd.DataFrame:
    """Citizen digital-skills workshops with participants by age group; a few were cancelled."""
    rng = table_rng(seed, "digital_workshop")
    rows = []
    for fy in KPI_FYS:
        for _ in range(WORKSHOPS_PER_FY[fy]):
            day = _date_in_fy(rng, fy, weekend_ok=rng.random() < 0.25)
            held = bool(rng.random() > 0.05)  # cancelled for weather or low demand
            cap = int(rng.choice([12, 15, 20, 24]))
            if held:
                total = int(np.clip(rng.binomial(cap, 0.75), 3, cap))
                parts = rng.multinomial(total, [0.12, 0.33, 0.40, 0.15])
            else:
                parts = np.zeros(4, dtype=int)
            row = {
                "date": day.isoformat(),
                "venue": str(rng.choice(VENUES)),
                "topic": str(rng.choice(TOPICS)),
                "capacity": cap,
                "held": held,
            }
            for g, v in zip(AGE_GROUPS, parts, strict=True):
                row[f"participants_{g}"] = int(v)
            row["participants_total"] = int(parts.sum())
            rows.append(row)
    df = pd.DataFrame(rows).sort_values(["date", "venue"], kind="stable").reset_index(drop=True)
    df.insert(0, "workshop_id", [f"W{i + 1:04d}" for i in range(len(df))])
    return df


def workshops_cumulative(df: pd.DataFrame) -> dict[int, int]:
    """KPI 4 true value: workshops held (not cancelled), cumulative from FY2021, at each FY end."""
    return {fy: int((df["held"] & (df["date"] <= fy_end(fy).isoformat())).sum()) for fy in KPI_FYS}

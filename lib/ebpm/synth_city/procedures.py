"""procedure and procedure_usage: the inventory of procedures and monthly applications by channel."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ebpm.synth_city.common import KPI_FYS, fiscal_year, fy_end, month_starts, table_rng

CHANNELS = ("オンライン", "窓口", "郵送")
# True share of legally-online procedures that are online at each FY end (the data is drawn to hit
# these after rounding to whole procedures; ground_truth.yml holds the exact realised values).
ONLINE_SHARE_PLAN = {2021: 0.33, 2022: 0.50, 2023: 0.61, 2024: 0.70, 2025: 0.77}

# The national 27 priority procedures (マイナポータル「ぴったりサービス」の重点手続: 子育て 15、
# 介護 11、被災者支援 1). name | 所管課 (模擬) | annual volume (模擬)
PRIORITY = {
    "子育て": """
児童手当等の受給資格及び児童手当の額についての認定請求|子育てあんしん課|2600
児童手当等の額の改定の請求及び届出|子育てあんしん課|900
氏名変更・住所変更等の届出（児童手当）|子育てあんしん課|1500
受給事由消滅の届出（児童手当）|子育てあんしん課|1300
未支払の児童手当等の請求|子育てあんしん課|60
児童手当等に係る寄附の申出|子育てあんしん課|20
児童手当に係る寄附変更等の申出|子育てあんしん課|15
受給資格者の申出による学校給食費等の徴収等の申出|子育てあんしん課|120
受給資格者の申出による学校給食費等の徴収等の変更等の申出|子育てあんしん課|40
児童手当の現況届|子育てあんしん課|3000
支給認定の申請（保育）|子ども青少年課|3500
保育施設等の利用申込|子ども青少年課|3800
保育施設等の現況届|子ども青少年課|5200
児童扶養手当の現況届の事前送信|子育てあんしん課|2300
妊娠の届出|母子健康課|1900
""",
    "介護": """
要介護・要支援認定の申請|介護保険課|7200
要介護・要支援更新認定の申請|介護保険課|9800
要介護・要支援状態区分変更の認定の申請|介護保険課|1900
居宅（介護予防）サービス計画作成（変更）依頼の届出|介護保険課|6100
介護保険負担割合証の再交付申請|介護保険課|300
介護保険被保険者証の再交付申請|介護保険課|900
高額介護（予防）サービス費の支給申請|介護保険課|2700
介護保険負担限度額認定申請|介護保険課|2400
居宅介護（介護予防）福祉用具購入費の支給申請|介護保険課|1300
居宅介護（介護予防）住宅改修費の支給申請|介護保険課|1100
住所移転後の要介護・要支援認定申請|介護保険課|150
""",
    "被災者支援": """
罹災証明書の発行申請|危機管理防災課|80
""",
}

# Other procedures. name | 所管課 (模擬) | category | L = online legally possible, N = not |
# annual volume (模擬) | E = online before FY2021
OTHERS = """
住民票の写しの交付請求|市民登録課|住民記録・戸籍|L|92000|
印鑑登録証明書の交付申請|市民登録課|住民記録・戸籍|L|61000|
戸籍謄抄本の交付請求|市民登録課|住民記録・戸籍|L|38000|
戸籍の附票の写しの交付請求|市民登録課|住民記録・戸籍|L|6500|
住民票の写し等の郵送請求|市民登録課|住民記録・戸籍|L|9000|
転出届|市民登録課|住民記録・戸籍|L|9800|
転入届|市民登録課|住民記録・戸籍|N|10500|
転居届|市民登録課|住民記録・戸籍|N|7400|
印鑑登録申請|市民登録課|住民記録・戸籍|N|8200|
出生届|市民登録課|住民記録・戸籍|N|2000|
婚姻届|市民登録課|住民記録・戸籍|N|1200|
死亡届|市民登録課|住民記録・戸籍|N|3600|
マイナンバーカードの交付申請|市民登録課|住民記録・戸籍|L|21000|
マイナンバーカードの電子証明書の更新|市民登録課|住民記録・戸籍|N|9000|
所得・課税証明書の交付申請|市民税課|税|L|31000|
市民税・県民税の申告|市民税課|税|L|14000|E
給与支払報告書の提出|市民税課|税|L|9000|E
特別徴収に係る給与所得者異動届出|市民税課|税|L|6000|E
固定資産評価証明書の交付申請|資産税課|税|L|9500|
固定資産課税台帳の閲覧申請|資産税課|税|L|1800|
償却資産の申告|資産税課|税|L|4200|E
納税証明書の交付申請|納税課|税|L|8800|
口座振替依頼書の提出|納税課|税|L|5200|
軽自動車税の減免申請|市民税課|税|L|700|
原動機付自転車の廃車申告|市民税課|税|L|900|
原動機付自転車の登録申告|市民税課|税|N|1100|
国民健康保険の加入届|国保年金課|保険・年金|L|7800|
国民健康保険の脱退届|国保年金課|保険・年金|L|8300|
国民健康保険被保険者証の再交付申請|国保年金課|保険・年金|L|1700|
国民健康保険の高額療養費の支給申請|国保年金課|保険・年金|L|6400|
国民健康保険の出産育児一時金の支給申請|国保年金課|保険・年金|L|220|
国民年金の資格取得届|国保年金課|保険・年金|L|2600|
国民年金保険料の免除・納付猶予申請|国保年金課|保険・年金|L|4800|
後期高齢者医療の葬祭費の支給申請|国保年金課|保険・年金|L|2900|
児童扶養手当の認定請求|子育てあんしん課|子育て|N|450|
子ども医療費助成の受給者証交付申請|子育てあんしん課|子育て|L|3100|
放課後児童クラブの利用申込|子ども青少年課|子育て|L|4300|
一時預かり事業の利用申込|子ども青少年課|子育て|L|1500|
身体障害者手帳の交付申請|障がい福祉課|福祉|L|1400|
補装具費の支給申請|障がい福祉課|福祉|L|900|
障害福祉サービスの支給申請|障がい福祉課|福祉|L|2600|
高齢者バス特別乗車証の交付申請|長寿社会課|福祉|L|5200|
生活保護の申請|生活福祉課|福祉|N|900|
がん検診の申込|健康増進課|健康|L|12500|
予防接種予診票の再交付申請|健康増進課|健康|L|1600|
特定健康診査の受診申込|国保年金課|健康|L|8200|
食品営業許可申請|保健所生活衛生課|健康|L|1300|
粗大ごみ収集の申込|資源循環推進課|環境|L|16000|
犬の登録|保健所生活衛生課|環境|L|1900|
犬の死亡届|保健所生活衛生課|環境|L|1500|
狂犬病予防注射済票の交付|保健所生活衛生課|環境|N|9500|
浄化槽設置届|環境企画課|環境|L|160|
道路占用許可申請|道路管理課|都市整備|L|2300|
道路工事施行承認申請|道路管理課|都市整備|L|500|
屋外広告物の許可申請|景観政策課|都市整備|L|800|
開発行為の許可申請|開発指導課|都市整備|L|90|
建築確認申請|建築指導課|都市整備|L|1200|E
市営住宅の入居申込|建築住宅課|都市整備|L|700|
水道の使用開始・中止の届出|上下水道局お客様センター|その他|L|21000|
体育施設の利用予約|スポーツ推進課|施設予約|L|26000|E
公民館の利用予約|生涯学習課|施設予約|L|18000|
図書館資料の貸出予約|図書館|施設予約|L|52000|E
就学援助の申請|学務教職員課|教育|L|3300|
区域外就学の申請|学務教職員課|教育|L|260|
学校施設開放の利用申請|学務教職員課|教育|L|1100|
中小企業融資のあっせん申請|経済企画課|その他|L|450|
不在者投票用紙の請求|選挙管理委員会事務局|その他|L|800|
期日前投票の宣誓書|選挙管理委員会事務局|その他|N|24000|
町内会・自治会への補助金の申請|市民協働推進課|その他|L|420|
行政文書の開示請求|総務課|その他|L|650|
保有個人情報の開示請求|総務課|その他|L|180|
入札参加資格審査申請|契約検査課|その他|L|1700|E
農地法の許可申請|農業委員会事務局|その他|L|600|
職員採用試験の申込|職員課|その他|L|1300|E
"""

# Month-of-year demand profile (April first) by category (模擬).
SEASON = {
    "住民記録・戸籍": [1.45, 1.05, 0.95, 0.95, 0.95, 0.9, 0.95, 0.9, 0.9, 0.95, 1.05, 1.5],
    "税": [0.9, 0.95, 1.8, 1.1, 0.9, 0.85, 0.85, 0.8, 0.8, 1.1, 1.45, 1.5],
    "子育て": [1.5, 1.0, 1.4, 0.9, 0.85, 0.85, 1.2, 1.35, 0.9, 0.8, 0.85, 1.05],
    "介護": [1.0] * 12,
    "被災者支援": [0.6, 0.8, 1.0, 1.6, 1.8, 1.4, 0.9, 0.8, 0.8, 0.8, 0.7, 0.8],
}
ONLINE_CAP = {"子育て": (0.3, 0.65), "介護": (0.1, 0.35), "被災者支援": (0.3, 0.6)}


def inventory() -> pd.DataFrame:
    """The procedure list with fixed attributes (no random parts)."""
    rows = []
    for group, text in PRIORITY.items():
        for line in text.strip().splitlines():
            name, dept, vol = line.split("|")
            rows.append((name, dept, group, True, group, True, float(vol), False))
    for line in OTHERS.strip().splitlines():
        name, dept, cat, legal, vol, early = line.split("|")
        rows.append((name, dept, cat, False, "", legal == "L", float(vol), early == "E"))
    df = pd.DataFrame(
        rows,
        columns=[
            "name",
            "department",
            "category",
            "priority_27",
            "priority_group",
            "online_legally_possible",
            "volume",
            "early",
        ],
    )
    df.insert(0, "procedure_id", [f"P{i + 1:03d}" for i in range(len(df))])
    return df


def _random_month(rng: np.random.Generator, fy: int) -> dt.date:
    m = int(rng.integers(0, 12))
    return dt.date(fy + (m + 3) // 12, (m + 3) % 12 + 1, 1)


def generate(seed: int, truth: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (procedure, procedure_usage); fill ``truth`` (if given) with the planted effect of going
    online on counter applications (:func:`counter_effect_truth`). The random draws are the same
    with or without ``truth``."""
    rng = table_rng(seed, "procedure")
    inv = inventory()
    n = len(inv)
    since: list[dt.date | None] = [None] * n
    legal = inv["online_legally_possible"].to_numpy()
    n_legal = int(legal.sum())
    for i in np.flatnonzero(inv["early"].to_numpy()):
        since[i] = _random_month(rng, int(rng.integers(2014, 2020)))
    # the 27 priority procedures went online in FY2021–FY2022 (national push)
    for i in np.flatnonzero(inv["priority_27"].to_numpy()):
        since[i] = _random_month(rng, 2021 if rng.random() < 0.4 else 2022)
    pool = [i for i in rng.permutation(n) if legal[i] and since[i] is None]
    for fy in KPI_FYS:
        done = sum(1 for d in since if d is not None and d <= fy_end(fy))
        need = int(round(ONLINE_SHARE_PLAN[fy] * n_legal)) - done
        for _ in range(max(need, 0)):
            if pool:
                since[pool.pop(0)] = _random_month(rng, fy)
    inv["online_since"] = pd.array([d.isoformat() if d else pd.NA for d in since], dtype="string")

    months = month_starts()
    n_m = len(months)
    moy = (months.month.to_numpy() - 4) % 12
    cats = inv["category"].to_numpy()
    covid = np.where((months >= "2020-04-01") & (months <= "2020-05-01"), 0.72, 1.0)
    trend = np.exp(-0.012 * np.arange(n_m) / 12)
    frames = []
    cells: list[pd.DataFrame] = []  # expected counter applications with and without online (truth)
    for i in range(n):
        season = np.array(SEASON.get(cats[i], [1.0] * 12))[moy]
        noise = rng.lognormal(0.0, 0.08, n_m)
        lam = inv.at[i, "volume"] / 12 * season * covid * trend * noise
        total = rng.poisson(lam)
        lo, hi = ONLINE_CAP.get(inv.at[i, "priority_group"], (0.12, 0.55))
        cap = rng.uniform(lo, hi)
        tau = rng.uniform(4, 20)
        mail = rng.uniform(0.02, 0.22)
        online = np.zeros(n_m)
        if since[i] is not None:
            age = (
                (months.year.to_numpy() - since[i].year) * 12
                + months.month.to_numpy()
                - since[i].month
            )
            online = np.where(age >= 0, cap * (1 - np.exp(-(age + 1) / tau)), 0.0)
        mail_share = mail * (1 - online)
        if since[i] is not None:
            cells.append(
                pd.DataFrame(
                    {
                        "procedure_id": inv.at[i, "procedure_id"],
                        "since": pd.Timestamp(since[i]),
                        "age": age,
                        # counter share without online (1 − mail) and with it ((1 − online)(1 − mail))
                        "counter_without": lam * (1 - mail),
                        "counter_with": lam * (1 - online) * (1 - mail),
                    }
                )
            )
        probs = np.stack([online, 1 - online - mail_share, mail_share], axis=1)
        counts = np.array([rng.multinomial(t, p) for t, p in zip(total, probs, strict=True)])
        frames.append(
            pd.DataFrame(
                {
                    "procedure_id": inv.at[i, "procedure_id"],
                    "month": np.repeat(months.strftime("%Y-%m-%d"), 3),
                    "fiscal_year": np.repeat([fiscal_year(m) for m in months], 3),
                    "channel": np.tile(CHANNELS, n_m),
                    "applications": counts.ravel(),
                }
            )
        )
    usage = pd.concat(frames, ignore_index=True)
    procedure = inv.drop(columns=["volume", "early"])
    if truth is not None:
        truth.update(counter_effect_truth(pd.concat(cells, ignore_index=True), months[0]))
    return procedure, usage


def counter_effect_truth(cells: pd.DataFrame, first_month: pd.Timestamp) -> dict:
    """The planted effect of a procedure going online on its counter (窓口) applications.

    Online filing replaces counter filing: in month ``age`` after going online a share
    ``cap·(1 − exp(−(age+1)/τ))`` of a procedure's applications is filed online, so its expected
    counter applications are ``λ(1 − mail)(1 − online)`` instead of ``λ(1 − mail)``. The truth is
    the average over the (procedure × month) cells after going online, for procedures that went
    online inside the data (those online before it are always treated and excluded): the mean of
    log(with/without) — the estimand of a DiD on log counter applications — its percentage form,
    and the mean absolute change in applications per procedure and month.
    """
    treated = cells[(cells["since"] > first_month) & (cells["age"] >= 0)]
    log_ratio = np.log(treated["counter_with"] / treated["counter_without"])
    diff = treated["counter_with"] - treated["counter_without"]
    by_age = log_ratio.groupby(treated["age"]).mean()
    return {
        "counter_effect_of_online": {
            "outcome": "窓口での申請件数（procedure_usage の channel = 窓口）",
            "unit": "件/月（手続ごと）",
            "definition": (
                "手続がオンライン化された月以降の（手続×月）セルで、オンライン化しなかった場合に比べた"
                "窓口申請件数の期待値の変化の平均。att_log は log(あり/なし) の平均（対数の差の差分析の"
                "推定対象）、att_pct はその百分率 100×(exp(att_log)−1)、att_level は件数の差の平均。"
                "データの期間より前にオンライン化した手続（当初から介入済み）は含めない。"
            ),
            "att_log": round(float(log_ratio.mean()), 6),
            "att_pct": round(float(100 * np.expm1(log_ratio.mean())), 4),
            "att_level": round(float(diff.mean()), 4),
            "att_log_by_event_time": {
                int(k): round(float(v), 6) for k, v in by_age.items() if k <= 24
            },
            "n_procedures": int(treated["procedure_id"].nunique()),
            "n_always_treated": int(
                cells.loc[cells["since"] <= first_month, "procedure_id"].nunique()
            ),
        }
    }


def online_share(procedure: pd.DataFrame) -> dict[int, float]:
    """KPI 1 true value: share of legally-online procedures that are online at each FY end."""
    legal = procedure[procedure["online_legally_possible"]]
    since = pd.to_datetime(legal["online_since"])
    return {fy: float((since <= pd.Timestamp(fy_end(fy))).mean()) for fy in KPI_FYS}


def online_share_of_applications(usage: pd.DataFrame) -> dict[int, float]:
    """Share of all applications filed online, by FY (realised, for reference)."""
    by = usage.groupby(["fiscal_year", "channel"])["applications"].sum().unstack()
    share = by["オンライン"] / by.sum(axis=1)
    return {int(fy): round(float(v), 6) for fy, v in share.items()}

"""Curated tables → rows of a standard open dataset (one extractor per dataset, values bound)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ebpm.errors import PublishError
from ebpm.publish.standard import Standard

# the city this project publishes for (盛岡市); its 6-digit code is read from the municipality table
PUBLISHER_CODE5 = "03201"

# 5-year bands of the standard (推奨データセット 11): 0-4 … 80-84 and 85歳以上
STANDARD_BANDS = [f"{a}-{a + 4}歳" for a in range(0, 85, 5)] + ["85歳以上"]


@dataclass
class Context:
    """What an extractor needs besides the database: the publisher and the area selection."""

    publisher_code5: str = PUBLISHER_CODE5
    areas: str | None = None  # code prefix, e.g. "03" for every Iwate municipality
    published: list[dict[str, Any]] = field(default_factory=list)  # for オープンデータ一覧


def _sql(query: str, params: dict[str, Any]) -> Any:
    from ebpm.data.access import sql

    return sql(query, params)


def publisher(ctx: Context) -> dict[str, str]:
    """6-digit code, prefecture and name of the publishing body (from the municipality table)."""
    df = _sql(
        "SELECT code6, prefecture, name FROM municipality WHERE code5 = $code",
        {"code": ctx.publisher_code5},
    )
    if df.empty:
        raise PublishError(
            f"公開する団体の団体コード {ctx.publisher_code5} が全国地方公共団体コード一覧にありません。",
            parameter="publisher",
        )
    row = df.iloc[0]
    return {"code6": row["code6"], "prefecture": row["prefecture"], "name": row["name"]}


def _blank(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and value != value) else value


# Platform-dependent characters that the city's own source text uses, each with its plain spelling
# (機械可読性ルール L1-08). Only these are rewritten, only in names and free text; any other one
# stops the release (text.py) until it is added here on purpose.
PLAIN_SPELLING = {"㎡": "m2", "～": "~", "〜": "~"}


def plain_text(value: Any) -> Any:
    """Free text with the listed platform-dependent characters spelled out (``㎡`` → ``m2``)."""
    value = _blank(value)
    if not isinstance(value, str):
        return value
    for ch, plain in PLAIN_SPELLING.items():
        value = value.replace(ch, plain)
    return value


_STREET = re.compile(r"^(?P<town>.*?)(?P<rest>[0-9０-９].*)?$")


def evacuation_space(std: Standard, ctx: Context) -> Any:
    """指定緊急避難場所一覧 from the curated ``shelter`` table (rows of kind 緊急避難場所)."""
    import pandas as pd

    pub = publisher(ctx)
    df = _sql(
        "SELECT id, name, address, lat, lon, flood, landslide, storm_surge, earthquake, tsunami, "
        "large_fire, inland_flood, volcano, same_address_as_other, note "
        "FROM shelter WHERE kind = $kind AND area_code = $code ORDER BY id",
        {"kind": "緊急避難場所", "code": ctx.publisher_code5},
    )
    city = pub["prefecture"] + pub["name"]
    rows = []
    for r in df.itertuples(index=False):
        address = _blank(r.address) or ""
        local = address.removeprefix(pub["prefecture"]).removeprefix(pub["name"])
        full = f"{city}{local}" if address else None
        m = _STREET.match(local) if local else None
        flag = {True: "1", False: None, None: None}
        rows.append(
            {
                "全国地方公共団体コード": pub["code6"],
                "ID": r.id,
                "名称": plain_text(r.name),
                "所在地_全国地方公共団体コード": pub["code6"],
                "所在地_連結表記": full,
                "所在地_都道府県": pub["prefecture"],
                "所在地_市区町村": pub["name"],
                "所在地_町字": (m.group("town") or None) if m else None,
                "所在地_番地以下": (m.group("rest") or None) if m else None,
                "緯度": r.lat,
                "経度": r.lon,
                "市区町村コード": pub["code6"],
                "地方公共団体名": city,
                "災害種別_洪水": flag[_blank(r.flood)],
                "災害種別_崖崩れ、土石流及び地滑り": flag[_blank(r.landslide)],
                "災害種別_高潮": flag[_blank(r.storm_surge)],
                "災害種別_地震": flag[_blank(r.earthquake)],
                "災害種別_津波": flag[_blank(r.tsunami)],
                "災害種別_大規模な火事": flag[_blank(r.large_fire)],
                "災害種別_内水氾濫": flag[_blank(r.inland_flood)],
                "災害種別_火山現象": flag[_blank(r.volcano)],
                "指定避難所との重複": flag[_blank(r.same_address_as_other)],
                "備考": plain_text(r.note),
            }
        )
    return pd.DataFrame(rows, columns=std.header)


def population(std: Standard, ctx: Context) -> Any:
    """地域・年齢別人口 from ``population_by_age`` (bands ≥ 85 summed into 85歳以上) and households."""
    import pandas as pd

    pub = publisher(ctx)
    prefix = ctx.areas if ctx.areas is not None else ctx.publisher_code5
    long = _sql(
        "SELECT a.area_code, m.code6, m.name, a.date, a.sex, "
        "CASE WHEN a.age_from >= 85 THEN '85歳以上' ELSE a.age_band || '歳' END AS band, "
        "sum(a.population) AS n "
        "FROM population_by_age a JOIN municipality m ON m.code5 = a.area_code "
        "WHERE starts_with(a.area_code, $prefix) AND m.level IN ('municipality', 'ward') "
        "AND a.sex IN ('male', 'female') GROUP BY ALL",
        {"prefix": prefix},
    )
    if long.empty:
        raise PublishError(
            f"団体コードが {prefix} で始まる市区町村の年齢階級別人口がありません。",
            parameter="areas",
        )
    households = _sql(
        "SELECT area_code, date, households FROM resident_population "
        "WHERE starts_with(area_code, $prefix)",
        {"prefix": prefix},
    )
    sex_ja = {"male": "男性", "female": "女性"}
    long["column"] = long["band"] + "の" + long["sex"].map(sex_ja)
    wide = long.pivot_table(
        index=["area_code", "code6", "name", "date"], columns="column", values="n", aggfunc="sum"
    ).reset_index()
    wide = wide.merge(households, on=["area_code", "date"], how="left")
    male = [f"{b}の男性" for b in STANDARD_BANDS]
    female = [f"{b}の女性" for b in STANDARD_BANDS]
    out = pd.DataFrame(
        {
            "都道府県コード又は市区町村コード": pub["code6"],
            "地域コード": wide["code6"],
            "都道府県名": pub["prefecture"],
            "市区町村名": pub["name"],
            "調査年月日": pd.to_datetime(wide["date"]).dt.strftime("%Y-%m-%d"),
            "地域名": wide["name"],
            "総人口": wide[male + female].sum(axis=1).astype("int64"),
            "男性": wide[male].sum(axis=1).astype("int64"),
            "女性": wide[female].sum(axis=1).astype("int64"),
        }
    )
    for col in std.header:
        if col in wide.columns:
            out[col] = wide[col].astype("Int64")
    out["世帯数"] = wide["households"].astype("Int64")
    out["備考"] = None
    return out.sort_values("地域コード").reset_index(drop=True)[std.header]


def opendata_list(std: Standard, ctx: Context) -> Any:
    """オープンデータ一覧: every dataset released so far (from the publication log) and this list."""
    import pandas as pd

    pub = publisher(ctx)
    rows = []
    for i, entry in enumerate(ctx.published, start=1):
        rows.append(
            {
                "都道府県コード又は市区町村コード": pub["code6"],
                "NO": str(i),
                "都道府県名": pub["prefecture"],
                "市区町村名": pub["name"],
                "データ名称": entry["title"],
                "データ概要": entry["summary"],
                "データ形式": "CSV",
                "分類": entry["category"],
                "更新頻度": entry["update"],
                "URL": entry.get("url"),
                "API対応有無": "無",
                "ライセンス": entry["licence"],
                "登録日": entry["first_published"],
                "最終更新日": entry["last_published"],
                "備考": entry.get("note"),
            }
        )
    return pd.DataFrame(rows, columns=std.header)


EXTRACTORS: dict[str, Callable[[Standard, Context], Any]] = {
    "evacuation_space": evacuation_space,
    "population": population,
    "opendata_list": opendata_list,
}

"""Real margins the 模擬データ is calibrated to: 住基 totals, 2022 age bands, the 町字 list."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ebpm import config
from ebpm.errors import IngestError
from ebpm.synth_city.common import sha256

MORIOKA_CODE5 = "03201"
MORIOKA_CODE6 = "032018"
POPULATION_FILE = ("iwate_estat_municipal", "population_2013_2026.csv")
AGE_BANDS_FILE = ("soumu_juki_population", "2204ssnen.xlsx")
TOWN_FILE = ("abr_address_master", "030007/032018/town.csv")
AGE_BAND_YEAR = 2022
AGE_FROM = tuple(range(0, 105, 5))  # 0-4 … 95-99, 100+
AGE_LABELS = tuple(f"{a}-{a + 4}" for a in AGE_FROM[:-1]) + ("100+",)
SEXES = ("男", "女")  # as written in the 総務省 xlsx
SEX_CODES = ("male", "female")  # as written in the curated tables (same as population_by_age)


@dataclass(frozen=True)
class Town:
    """One 町字 of the real ABR town master that people live in (町 or 丁目)."""

    town_id: str
    name: str
    oaza: str
    kind: str  # ABR 町字区分コード: 1 = 大字・町, 2 = 丁目
    residential_addressing: bool  # 住居表示フラグ


@dataclass
class Margins:
    """The real figures used, with where each came from."""

    totals: dict[int, int]  # year (1 January) -> 住基 total of 盛岡市
    age_sex_2022: np.ndarray  # shape (2 sexes, 21 bands)
    towns: list[Town]
    used: list[dict] = field(default_factory=list)  # for SOURCE.yml


def _locate(source: str, rel: str) -> tuple[Path, str]:
    """Find a raw file in data/raw, else in ../shared/data/public; return (path, where)."""
    paths = config.paths()
    for base, where in ((paths.raw, "data/raw"), (paths.shared / "data" / "public", "shared")):
        p = base / source / rel
        if p.is_file():
            return p, where
    raise IngestError(
        "模擬データの較正に必要な実データが見つかりません（data/raw にも ../shared/data/public にもありません）",
        file=f"{source}/{rel}",
    )


def _used(source: str, rel: str, path: Path, what: str) -> dict:
    return {"source": source, "path": rel, "sha256": sha256(path), "used_for": what}


def _text(value: object) -> str:
    return "" if value is None or pd.isna(value) else str(value).strip()


def read_totals(path: Path) -> dict[int, int]:
    """住基 totals of 盛岡市 (03201) by year from the e-Stat-derived municipal CSV."""
    import ebpm.ingest as ingest

    frame = ingest.read_csv(path).frame
    for col in ("year", "code", "total"):
        if col not in frame.columns:
            raise IngestError("必要な列がありません", file=path.name, column=col)
    totals: dict[int, int] = {}
    for i, row in enumerate(frame.itertuples(index=False), start=2):
        if _text(row.code).zfill(5) != MORIOKA_CODE5:
            continue
        try:
            totals[int(row.year)] = int(row.total)
        except (TypeError, ValueError):
            raise IngestError(
                "年または人口が整数ではありません", file=path.name, row=i, column="total"
            ) from None
    if not totals:
        raise IngestError(f"盛岡市（{MORIOKA_CODE5}）の行がありません", file=path.name)
    return dict(sorted(totals.items()))


def read_age_bands(path: Path) -> np.ndarray:
    """2022 (1 January) 5-year age bands of 盛岡市 (032018) by sex from the 総務省 xlsx."""
    stat = path.stat()
    return _read_age_bands(str(path), stat.st_size, stat.st_mtime_ns).copy()


@functools.lru_cache(maxsize=4)
def _read_age_bands(name: str, size: int, mtime_ns: int) -> np.ndarray:
    """Cached reader (the xlsx takes seconds to parse; size and mtime invalidate the cache).

    Columns by position, as in the 総務省 layout: 団体コード, 都道府県名, 市区町村名, 性別, 総数,
    then 21 bands (0歳～4歳 … 100歳以上).
    """
    import ebpm.ingest as ingest

    path = Path(name)
    frame = ingest.read_excel(path).frame
    if frame.shape[1] < 5 + len(AGE_FROM):
        raise IngestError(
            f"列が足りません（団体コード・性別・総数と{len(AGE_FROM)}の年齢階級が必要）",
            file=path.name,
        )
    found: dict[str, list[int]] = {}
    for i, row in enumerate(frame.itertuples(index=False)):
        sex = _text(row[3])
        if _text(row[0]) != MORIOKA_CODE6 or sex not in SEXES:
            continue
        try:
            values = [int(v) for v in row[5 : 5 + len(AGE_FROM)]]
            total = int(row[4])
        except (TypeError, ValueError):
            raise IngestError(
                "年齢階級の人口が整数ではありません", file=path.name, row=i + 1
            ) from None
        if sum(values) != total:
            raise IngestError("年齢階級の合計が総数と一致しません", file=path.name, row=i + 1)
        found[sex] = values
    missing = [s for s in SEXES if s not in found]
    if missing:
        raise IngestError(
            f"盛岡市（{MORIOKA_CODE6}）の{'・'.join(missing)}の行がありません", file=path.name
        )
    return np.array([found[s] for s in SEXES], dtype=np.int64)


def read_towns(path: Path) -> list[Town]:
    """Inhabited-level 町字 of 盛岡市: ABR 町字区分 1 (大字・町) and 2 (丁目), not abolished."""
    import ebpm.ingest as ingest

    frame = ingest.read_csv(path).frame
    need = ("町字id", "町字区分コード", "大字・町名", "丁目名", "住居表示フラグ", "廃止日")
    for col in need:
        if col not in frame.columns:
            raise IngestError("必要な列がありません", file=path.name, column=col)
    towns = []
    for row in frame[list(need)].itertuples(index=False):
        town_id, kind, oaza, chome, jukyo, abolished = (_text(v) for v in row)
        if kind not in ("1", "2") or abolished:
            continue
        towns.append(
            Town(
                town_id=town_id.zfill(7),
                name=oaza + chome,
                oaza=oaza,
                kind=kind,
                residential_addressing=jukyo == "1",
            )
        )
    if not towns:
        raise IngestError("町字（町字区分 1・2）が1件もありません", file=path.name)
    return sorted(towns, key=lambda t: t.town_id)


def load() -> Margins:
    """Read every real margin; fail with a Japanese message naming the missing file."""
    p_tot, _ = _locate(*POPULATION_FILE)
    p_age, _ = _locate(*AGE_BANDS_FILE)
    p_town, _ = _locate(*TOWN_FILE)
    totals = read_totals(p_tot)
    ages = read_age_bands(p_age)
    if AGE_BAND_YEAR in totals and int(ages.sum()) != totals[AGE_BAND_YEAR]:
        raise IngestError(
            f"{AGE_BAND_YEAR}年の年齢階級別人口の合計 {int(ages.sum()):,} が住基総数 "
            f"{totals[AGE_BAND_YEAR]:,} と一致しません",
            file=p_age.name,
        )
    towns = read_towns(p_town)
    used = [
        _used(*POPULATION_FILE, p_tot, "住民基本台帳 盛岡市（03201）の各年1月1日の総人口"),
        _used(*AGE_BANDS_FILE, p_age, "2022年1月1日 盛岡市（032018）の男女別5歳階級人口"),
        _used(*TOWN_FILE, p_town, "盛岡市の町字一覧（町字区分1・2、廃止なし）"),
    ]
    return Margins(totals=totals, age_sex_2022=ages, towns=towns, used=used)

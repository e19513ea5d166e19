"""population_by_town: 町字 × year × sex × 5-year band, summing exactly to the real 住基 totals."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ebpm.synth_city.common import largest_remainder, table_rng
from ebpm.synth_city.margins import (
    AGE_BAND_YEAR,
    AGE_FROM,
    AGE_LABELS,
    SEX_CODES,
    SEXES,
    Margins,
    Town,
)

# 管内区分（模擬）: which branch office area a 大字・町 belongs to. Based on the former 玉山村 and
# 都南村 place names; the project treats the split as part of the 模擬データ, not as official.
TAMAYAMA = frozenset(
    "渋民 好摩 巻堀 川又 日戸 芋田 玉山 玉山永井 玉山馬場 薮川 下田 門前寺 寺林 松内 川崎".split()
)
TONAN = frozenset(
    (
        "三本柳 津志田 津志田中央 津志田南 津志田町 津志田西 永井 湯沢 湯沢南 湯沢東 湯沢西 "
        "東見前 西見前 乙部 手代森 黒川 大ケ生 羽場 飯岡新田 下飯岡 上飯岡 流通センター北"
    ).split()
)
AREAS = ("本庁管内", "都南総合支所管内", "玉山総合支所管内")
AGING_PER_YEAR = 0.02  # relative drift of old vs young bands per year around the real 2022 shape (65+ share rises about 0.5 points a year, as in 盛岡市)


def town_area(town: Town) -> str:
    """管内区分（模擬） of a 町字."""
    if town.oaza in TAMAYAMA:
        return AREAS[2]
    if town.oaza in TONAN:
        return AREAS[1]
    return AREAS[0]


def _age_z() -> np.ndarray:
    mid = np.array([a + 2.5 for a in AGE_FROM], dtype=float)
    return (mid - 45.0) / 30.0


def city_margins(m: Margins) -> dict[int, np.ndarray]:
    """Sex × band counts of the whole city for each year, each summing to the real total.

    The real 2022 bands are used as they are; other years tilt that shape a little towards the
    older bands per year after 2022 (ageing) and then allocate the real total by largest remainder.
    """
    z = _age_z()
    out = {}
    for year, total in m.totals.items():
        shape = m.age_sex_2022 * np.exp(AGING_PER_YEAR * (year - AGE_BAND_YEAR) * z)[None, :]
        if year == AGE_BAND_YEAR and int(m.age_sex_2022.sum()) == total:
            out[year] = m.age_sex_2022.copy()
        else:
            out[year] = largest_remainder(total, shape.ravel()).reshape(shape.shape)
    return out


def town_profiles(m: Margins, seed: int) -> pd.DataFrame:
    """Per-town size, age tilt and growth (hidden parameters of the 模擬データ)."""
    rng = table_rng(seed, "population_by_town")
    n = len(m.towns)
    rural = np.array([t.kind == "1" and not t.residential_addressing for t in m.towns])
    tama = np.array([town_area(t) == AREAS[2] for t in m.towns])
    size = rng.lognormal(mean=np.where(rural, -0.9, 0.0), sigma=np.where(rural, 1.1, 0.7))
    tilt = rng.normal(0.0, 0.25, n) + np.where(rural | tama, 0.35, 0.0)
    growth = rng.normal(-0.004, 0.012, n) + np.where(rural | tama, -0.012, 0.0)
    sex_tilt = rng.normal(0.0, 0.04, (n, 2))
    return pd.DataFrame(
        {
            "town_id": [t.town_id for t in m.towns],
            "size": size,
            "tilt": tilt,
            "growth": growth,
            "male_tilt": sex_tilt[:, 0],
            "female_tilt": sex_tilt[:, 1],
        }
    )


def generate(m: Margins, seed: int) -> pd.DataFrame:
    """Return population_by_town (long format, sorted by year, town, sex, band)."""
    prof = town_profiles(m, seed)
    cities = city_margins(m)
    z = _age_z()
    n_t, n_s, n_b = len(m.towns), len(SEXES), len(AGE_FROM)
    years = sorted(cities)
    pop = np.zeros((len(years), n_t, n_s, n_b), dtype=np.int64)
    sex_tilts = prof[["male_tilt", "female_tilt"]].to_numpy()
    for yi, year in enumerate(years):
        w_town = prof["size"].to_numpy() * np.exp(prof["growth"].to_numpy() * (year - 2022))
        w = (
            w_town[:, None, None]
            * np.exp(sex_tilts)[:, :, None]
            * np.exp(prof["tilt"].to_numpy()[:, None, None] * z[None, None, :])
        )
        for s in range(n_s):
            for b in range(n_b):
                pop[yi, :, s, b] = largest_remainder(int(cities[year][s, b]), w[:, s, b])
    idx = pd.MultiIndex.from_product(
        [years, [t.town_id for t in m.towns], SEX_CODES, range(n_b)],
        names=["year", "town_id", "sex", "band"],
    ).to_frame(index=False)
    idx["age_band"] = np.array(AGE_LABELS)[idx["band"].to_numpy()]
    idx["age_from"] = np.array(AGE_FROM)[idx["band"].to_numpy()]
    idx["population"] = pop.ravel()
    return idx[["year", "town_id", "sex", "age_band", "age_from", "population"]]


def adults_by_area(pop: pd.DataFrame, m: Margins, year: int) -> pd.DataFrame:
    """Population aged 18+ by 管内区分 and survey age group for one year (for citizen_survey)."""
    area = {t.town_id: town_area(t) for t in m.towns}
    df = pop[pop["year"] == year].copy()
    df["area"] = df["town_id"].map(area)
    # 15–19 band: ages 18 and 19 are taken as 2/5 of the band
    df["adult"] = np.where(df["age_from"] == 15, df["population"] * 0.4, df["population"])
    df.loc[df["age_from"] < 15, "adult"] = 0.0
    bins = [(15, "18-29"), (30, "30-44"), (45, "45-64"), (65, "65-74"), (75, "75+")]

    def group(a: int) -> str:
        label = bins[0][1]
        for lower, name in bins:
            if a >= lower:
                label = name
        return label

    df["age_group"] = df["age_from"].map(group)
    out = df.groupby(["area", "age_group"], as_index=False)["adult"].sum()
    return out

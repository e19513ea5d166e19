"""Population-profile tables: the 町字 × age × sex pyramid table and the options it is shown with."""

from __future__ import annotations

import pandas as pd

__all__ = ["PYRAMID_SHOW", "hidden_bands", "pyramid_frame"]

#: how the pyramid table goes through ebpm.show (catalog rule of population_by_town, totals added)
PYRAMID_SHOW = {"table": "population_by_town", "count_columns": ["男", "女"], "add_totals": True}


def pyramid_frame(pop: pd.DataFrame, year: int) -> pd.DataFrame:
    """The interior cells of a pyramid: 5-year bands (youngest first) × 男/女 for one year.

    Parameters
    ----------
    pop : DataFrame
        :func:`ebpm.studies.queries.town_population` output.
    year : int
        The year shown.

    Returns
    -------
    DataFrame
        Index ``年齢`` (band labels), columns ``男``, ``女``; ``attrs["age_from"]`` maps labels to lower ages.
    """
    part = pop[pop["year"] == year]
    order = part.sort_values("age_from").drop_duplicates("age_band")
    bands = order["age_band"].tolist()
    wide = part.pivot_table(index="age_band", columns="sex", values="population", aggfunc="sum")
    wide = wide.reindex(bands).rename(columns={"male": "男", "female": "女"})[["男", "女"]]
    wide = wide.fillna(0).astype(int)
    wide.index.name = "年齢"
    wide.attrs["age_from"] = dict(zip(order["age_band"], order["age_from"], strict=True))
    return wide


def hidden_bands(shown: pd.DataFrame, age_from: dict[str, int]) -> list[int]:
    """Lower ages of the bands with a suppressed (``x``) cell in a shown pyramid table."""
    inner = shown.drop(index="計", errors="ignore").drop(columns="計", errors="ignore")
    mask = (inner == "x").any(axis=1)
    return [int(age_from[b]) for b in inner.index[mask] if b in age_from]

"""Queries templates share: analysis frames from the curated database, with the 模擬データ flag and labels kept."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ebpm.data import access as data
from ebpm.errors import ParameterError
from ebpm.studies.periods import daily_features, month_index

__all__ = [
    "call_centre_daily",
    "census_change",
    "counter_panel",
    "is_synthetic",
    "municipal_panel",
    "municipality_choices",
    "smallarea_points",
    "town_choices",
    "town_population",
]

ALL_TOWNS = "市全体"


def is_synthetic(*tables: str) -> bool:
    """True when any of the tables (default: every table this process has read) is 模擬データ."""
    names = tables or tuple(data.accessed_tables())
    return any(data.table_info(t)["synthetic"] for t in names)


def counter_panel(
    start_fy: int, end_fy: int, *, exclude: list[str] | tuple[str, ...] = ()
) -> pd.DataFrame:
    """Office × month panel of ``counter_visit`` with the staggered-adoption columns DiD needs.

    Parameters
    ----------
    start_fy, end_fy : int
        Fiscal years (年度) to keep; period 1 is April of ``start_fy``.
    exclude : list of str
        Offices to leave out.

    Returns
    -------
    DataFrame
        The table plus ``period`` (month index), ``first_treated`` (period of adoption; 1 when
        adopted before the window, 0 when never) and ``treated_now`` (0/1).
    """
    visits = data.load("counter_visit", fiscal_year=list(range(start_fy, end_fy + 1)))
    visits = visits[~visits["office"].isin(list(exclude))].copy()
    visits["period"] = month_index(visits["month"], start_fy)
    first = month_index(visits["cashless_since"], start_fy)
    visits["first_treated"] = first.clip(lower=1).fillna(0).astype(int)
    visits["treated_now"] = visits["cashless"].astype(int)
    visits.attrs["synthetic"] = data.table_info("counter_visit")["synthetic"]
    return visits


def call_centre_daily(start: Any = None, end: Any = None) -> pd.DataFrame:
    """Daily ``call_centre`` rows with the calendar columns the ITS needs (day of year, 年末年始).

    Parameters
    ----------
    start, end : date-like, optional
        First and last date kept.

    Returns
    -------
    DataFrame
    """
    frame = data.load("call_centre")
    frame = daily_features(frame, "date")
    if start is not None:
        frame = frame[frame["date"] >= pd.Timestamp(start)]
    if end is not None:
        frame = frame[frame["date"] <= pd.Timestamp(end)]
    frame = frame.reset_index(drop=True)
    frame.attrs["synthetic"] = data.table_info("call_centre")["synthetic"]
    return frame


MUNICIPAL_OUTCOMES: dict[str, tuple[str, str, str]] = {
    # name -> (Japanese label, unit, SQL expression over resident_population r)
    "population": ("住民基本台帳人口", "人", "r.population"),
    "population_index": ("住民基本台帳人口（2013年=100）", "", "r.population"),
    "natural_change_rate": (
        "自然増減率（人口千人あたり）",
        "‰",
        "1000.0 * (r.births - r.deaths) / r.population",
    ),
    "net_migration_rate": (
        "社会増減率（人口千人あたり）",
        "‰",
        "1000.0 * (r.in_migration - r.out_migration) / r.population",
    ),
    "households_per_1000": ("人口千人あたり世帯数", "世帯", "1000.0 * r.households / r.population"),
}


def municipal_panel(outcome: str = "population_index") -> pd.DataFrame:
    """Iwate municipality × year panel of a resident-register outcome, with names (real data).

    Parameters
    ----------
    outcome : str
        One of ``MUNICIPAL_OUTCOMES``: ``population``, ``population_index`` (2013 = 100),
        ``natural_change_rate``, ``net_migration_rate``, ``households_per_1000``.

    Returns
    -------
    DataFrame
        ``area_code``, ``name``, ``year``, ``value``; ``attrs`` carry the label and unit.
    """
    if outcome not in MUNICIPAL_OUTCOMES:
        raise ParameterError(
            f"結果変数『{outcome}』は使えません（{', '.join(MUNICIPAL_OUTCOMES)}）。",
            parameter="outcome",
        )
    label, unit, expr = MUNICIPAL_OUTCOMES[outcome]
    frame = data.sql(
        f"""
        SELECT r.area_code, m.name, r.year, {expr} AS value
        FROM resident_population AS r JOIN municipality AS m ON m.code5 = r.area_code
        WHERE r.area_code LIKE '03%' AND r.area_code <> '03000'
        ORDER BY r.area_code, r.year
        """
    )
    if outcome == "population_index":
        base = frame[frame["year"] == frame["year"].min()].set_index("area_code")["value"]
        frame["value"] = 100.0 * frame["value"] / frame["area_code"].map(base)
    frame.attrs.update({"synthetic": False, "label": label, "unit": unit})
    return frame


def municipality_choices() -> list[str]:
    """Names of Iwate's municipalities in ``resident_population`` (the ``treated`` parameter of synth_study)."""
    names = data.sql(
        """
        SELECT DISTINCT m.name, r.area_code FROM resident_population AS r
        JOIN municipality AS m ON m.code5 = r.area_code
        WHERE r.area_code LIKE '03%' AND r.area_code <> '03000' ORDER BY r.area_code
        """
    )
    return names["name"].tolist()


def town_choices() -> list[str]:
    """Names of the 町字 with population figures (the allowed values of a ``town`` parameter).

    Returns
    -------
    list of str
        ``"市全体"`` first, then the 町字 names in code order.
    """
    names = data.sql(
        """
        SELECT DISTINCT t.name, t.town_id FROM town AS t
        JOIN (SELECT DISTINCT town_id FROM population_by_town) AS p USING (town_id)
        ORDER BY t.town_id
        """
    )
    return [ALL_TOWNS, *dict.fromkeys(names["name"].tolist())]


def town_population(town: str = ALL_TOWNS) -> pd.DataFrame:
    """Population by year, sex and 5-year band for one 町字 (or the whole city), long form.

    Parameters
    ----------
    town : str
        A name from :func:`town_choices` (``"市全体"`` sums every 町字).

    Returns
    -------
    DataFrame
        ``year``, ``sex``, ``age_band``, ``age_from``, ``population``.
    """
    if town == ALL_TOWNS:
        frame = data.sql(
            """
            SELECT year, sex, age_band, age_from, sum(population) AS population
            FROM population_by_town GROUP BY ALL ORDER BY year, sex, age_from
            """
        )
    else:
        frame = data.sql(
            """
            SELECT p.year, p.sex, p.age_band, p.age_from, sum(p.population) AS population
            FROM population_by_town AS p JOIN town AS t USING (town_id)
            WHERE t.name = $town GROUP BY ALL ORDER BY p.year, p.sex, p.age_from
            """,
            {"town": town},
        )
        if frame.empty:
            raise ParameterError(
                f"町字『{town}』の人口がない（town_choices() の名前で指定してください）。",
                parameter="town",
            )
    frame["population"] = frame["population"].astype(int)
    frame.attrs["synthetic"] = data.table_info("population_by_town")["synthetic"]
    return frame


def census_change(first: int = 2015, last: int = 2020) -> pd.DataFrame:
    """Census population change of Iwate's municipalities between two census years (real data).

    Parameters
    ----------
    first, last : int
        Census years (2010, 2015, 2020).

    Returns
    -------
    DataFrame
        ``area_code``, ``name``, ``pop_first``, ``pop_last``, ``change_pct``.
    """
    frame = data.sql(
        """
        SELECT a.area_code, m.name, a.total AS pop_first, b.total AS pop_last,
               100.0 * (b.total - a.total) / a.total AS change_pct
        FROM census_population AS a
        JOIN census_population AS b ON b.area_code = a.area_code AND b.year = $last
        JOIN municipality AS m ON m.code5 = a.area_code
        WHERE a.year = $first AND a.area_code <> '03000'
        ORDER BY a.area_code
        """,
        {"first": first, "last": last},
    )
    frame.attrs["synthetic"] = False
    return frame


def smallarea_points() -> pd.DataFrame:
    """盛岡市 small areas of the 2015 census with centroid, population and households (real data).

    Returns
    -------
    DataFrame
        ``key_code``, ``name``, ``population``, ``households``, ``lon``, ``lat`` (parts summed).
    """
    frame = data.sql(
        """
        SELECT key_code, any_value(name) AS name, sum(population)::BIGINT AS population,
               sum(households)::BIGINT AS households, avg(lon)::DOUBLE AS lon, avg(lat)::DOUBLE AS lat
        FROM smallarea_2015 GROUP BY key_code ORDER BY key_code
        """
    )
    frame.attrs["synthetic"] = False
    return frame

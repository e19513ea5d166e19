"""Derived time variables templates share: month indices from a fiscal year and calendar features."""

from __future__ import annotations

import pandas as pd

__all__ = ["daily_features", "month_index"]


def month_index(dates, start_fy: int) -> pd.Series:
    """Month number counted from April of ``start_fy`` (April = 1); NaT stays missing.

    Parameters
    ----------
    dates : Series
        Dates or ISO strings.
    start_fy : int
        First fiscal year (年度) of the study; its April is period 1.

    Returns
    -------
    Series of Int64
        ``(year − start_fy)·12 + month − 3`` — for example 2019-04 → 1, 2020-03 → 12 when
        ``start_fy = 2019``.
    """
    d = pd.to_datetime(pd.Series(dates), errors="coerce")
    out = (d.dt.year - start_fy) * 12 + d.dt.month - 3
    return out.astype("Int64")


def daily_features(frame: pd.DataFrame, date: str = "date") -> pd.DataFrame:
    """Add calendar columns a daily series needs: ``day_of_year`` and ``year_end`` (12/29–1/3).

    Parameters
    ----------
    frame : DataFrame
        Daily rows.
    date : str
        Date column.

    Returns
    -------
    DataFrame
        A copy with the two columns added (attributes such as 模擬データ are kept).
    """
    out = frame.copy()
    d = pd.to_datetime(out[date])
    out[date] = d
    out["day_of_year"] = d.dt.day_of_year
    month, day = d.dt.month, d.dt.day
    out["year_end"] = ((month == 12) & (day >= 29)) | ((month == 1) & (day <= 3))
    out.attrs.update(frame.attrs)
    return out

"""Derived time variables templates share: month indices from a fiscal year, calendar features, straight-line projections."""

from __future__ import annotations

import pandas as pd

from ebpm.errors import ParameterError

__all__ = ["daily_features", "linear_projection", "month_index"]


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


def linear_projection(
    frame: pd.DataFrame,
    to_year: int,
    *,
    x: str = "fy",
    y: str = "value",
    floor: float | None = None,
    cap: float | None = None,
) -> pd.DataFrame:
    """Straight-line (OLS) projection of a yearly series with 95% prediction intervals.

    Parameters
    ----------
    frame : DataFrame
        One row per year with ``x`` and ``y``; at least two rows.
    to_year : int
        Last year to project (after the last observed year).
    x, y : str
        Year and value columns.
    floor, cap : float, optional
        Bounds for indicators that cannot fall (cumulative counts: the latest actual) or pass a
        ceiling (a share: 100).

    Returns
    -------
    DataFrame
        ``x``, ``value``, ``lower``, ``upper`` (the 95% prediction interval of a new observation),
        ``slope``.
    """
    from statsmodels.regression.linear_model import OLS

    if len(frame) < 2:
        raise ParameterError("見通しには2年度以上の実績が必要です。", parameter="start_fy")
    last = int(frame[x].max())
    if to_year <= last:
        raise ParameterError(
            f"見通しの年度（{to_year}）は実績の最終年度（{last}）より後にしてください。",
            parameter="projection_to_fy",
        )
    xs = frame[x].astype(float)
    fit = OLS(frame[y].astype(float), pd.DataFrame({"const": 1.0, x: xs})).fit()
    future = pd.DataFrame({"const": 1.0, x: [float(v) for v in range(last + 1, to_year + 1)]})
    pred = fit.get_prediction(future).summary_frame(alpha=0.05)
    out = pd.DataFrame(
        {
            x: future[x].astype(int),
            "value": pred["mean"].to_numpy(),
            "lower": pred["obs_ci_lower"].to_numpy(),
            "upper": pred["obs_ci_upper"].to_numpy(),
            "slope": float(fit.params[x]),
        }
    )
    cols = ["value", "lower", "upper"]
    if floor is not None:
        out[cols] = out[cols].clip(lower=floor)
    if cap is not None:
        out[cols] = out[cols].clip(upper=cap)
    return out

"""Straight-line projection of a yearly indicator with its prediction interval (monitoring, not effects)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ebpm.errors import ParameterError


def linear_projection(
    years: Sequence[float],
    values: Sequence[float],
    *,
    to_year: int,
    floor: float | None = None,
    cap: float | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Fit ``value = a + b·year`` by least squares and project it to ``to_year``.

    Parameters
    ----------
    years, values : sequence of float
        The observed series (at least two distinct years).
    to_year : int
        Last year to project; projections start the year after the last observed one.
    floor, cap : float, optional
        Bounds the indicator cannot pass by definition (a cumulative count never falls below its
        latest value; a share never exceeds 100%); the mean and the interval are clipped to them.
    level : float
        Coverage of the prediction interval for a new observation (default 95%).

    Returns
    -------
    DataFrame
        ``year``, ``value``, ``lower``, ``upper`` and the fitted ``slope`` per year.
    """
    # the t quantile from scipy.special (what scipy.stats.t.ppf calls): a report that only projects a
    # KPI does not pay for importing scipy.stats (about 0.7 s in a new kernel, bench_imports)
    from scipy.special import stdtrit

    x = np.asarray(years, dtype=float)
    y = np.asarray(values, dtype=float)
    if x.shape != y.shape or len(np.unique(x)) < 2:
        raise ParameterError(
            "見通しには2年度以上の実績が必要です（年度と値の数を揃えてください）。",
            parameter="years",
        )
    if not 0 < level < 1:
        raise ParameterError(f"level は 0 と 1 の間にしてください（{level}）。", parameter="level")
    last = int(x.max())
    if to_year <= last:
        raise ParameterError(
            f"見通しの年度（{to_year}）は最後の実績の年度（{last}）より後にしてください。",
            parameter="to_year",
        )
    n = len(x)
    slope, intercept = np.polyfit(x, y, 1)
    resid = y - (intercept + slope * x)
    dof = n - 2
    s2 = float(resid @ resid) / dof if dof > 0 else np.nan
    future = np.arange(last + 1, to_year + 1, dtype=float)
    mean = intercept + slope * future
    sxx = float(((x - x.mean()) ** 2).sum())
    se = np.sqrt(s2 * (1 + 1 / n + (future - x.mean()) ** 2 / sxx)) if dof > 0 else np.nan
    half = stdtrit(dof, 0.5 + level / 2) * se if dof > 0 else np.full_like(future, np.nan)
    out = pd.DataFrame(
        {
            "year": future.astype(int),
            "value": mean,
            "lower": mean - half,
            "upper": mean + half,
            "slope": slope,
        }
    )
    cols = ["value", "lower", "upper"]
    if floor is not None:
        out[cols] = out[cols].clip(lower=floor)
    if cap is not None:
        out[cols] = out[cols].clip(upper=cap)
    return out

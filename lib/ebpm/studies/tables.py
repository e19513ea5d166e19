"""Tables the study templates show, with Japanese column titles and directions in words (no raw names)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ebpm.methods._common import change_range, change_words, fmt_num, fmt_p


def rdd_balance_table(res: Any) -> pd.DataFrame | None:
    """The covariate-balance table of a regression discontinuity, as a manager reads it.

    One row per covariate, named by its catalog title (子どもの数, not ``children``); the jump at the
    threshold and its robust 95% interval in words with positive numbers (「0.2人高い」,
    「0.1人低いから0.6人高いまで」), the p-value and the bandwidth.

    Parameters
    ----------
    res : EstimationResult
        Result of :func:`ebpm.rdd` with ``covariates``.

    Returns
    -------
    DataFrame or None
        None when no covariates were checked.
    """
    balance = res.diagnostics.get("covariate_balance")
    if balance is None or len(balance) == 0:
        return None
    rows = []
    for _, r in balance.iterrows():
        unit = r.get("unit") or ""
        label = r.get("label") or r["covariate"]
        rows.append(
            {
                "共変量": label,
                "しきい値での差": change_words(
                    r["estimate"], unit, less="低い", more="高い", particle="", num=fmt_num
                ),
                "95%信頼区間": change_range(
                    r["ci_low"],
                    r["ci_high"],
                    unit,
                    less="低い",
                    more="高い",
                    particle="",
                    num=fmt_num,
                ),  # fmt: skip
                "p値": fmt_p(r["pvalue"]).removeprefix("p=").replace("p<", "<"),
                "帯域幅": fmt_num(r["bandwidth"]),
            }
        )
    return pd.DataFrame(rows)


def synth_weights_table(res: Any, *, unit_title: str = "市町村", min_weight: float = 0.001):
    """The donor weights of a synthetic control, largest first, with Japanese column titles.

    Parameters
    ----------
    res : EstimationResult
        Result of :func:`ebpm.synth`.
    unit_title : str
        Title of the unit column (市町村, 窓口 …).
    min_weight : float
        Donors below this weight are left out (they sum to 1 with the rest up to rounding).

    Returns
    -------
    DataFrame
        Columns ``unit_title`` and 重み (three decimals).
    """
    w = res.weights[res.weights > min_weight].sort_values(ascending=False)
    return pd.DataFrame({unit_title: [str(k) for k in w.index], "重み": w.round(3).to_numpy()})


def year_row(
    panel: pd.DataFrame, *, unit: str, value: str = "value", year: str = "year", which: str,
    unit_title: str = "市町村",
) -> pd.DataFrame:  # fmt: skip
    """One unit's values by year as a one-row wide table (years as columns), with a Japanese index.

    Parameters
    ----------
    panel : DataFrame
        Long panel (unit, year, value).
    unit, value, year : str
        Column names in ``panel``.
    which : str
        The unit to show (e.g. 盛岡市).
    unit_title : str
        Title of the index (the raw column name never reaches the report).

    Returns
    -------
    DataFrame
    """
    part = panel[panel[unit] == which]
    wide = part.pivot_table(index=unit, columns=year, values=value).round(2)
    wide.index.name = unit_title
    wide.columns.name = "年"
    return wide

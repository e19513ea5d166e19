"""Parameter checks templates name in their sidecar (``checks:``), run before any kernel starts.

Each hook receives the typed parameter values and raises :class:`ebpm.errors.ParameterError` naming the
parameter and the allowed values (in Japanese) when the data cannot answer with them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ebpm.data import access as data
from ebpm.errors import ParameterError

__all__ = [
    "MIN_PRE_DAYS",
    "MIN_PRE_YEARS",
    "its_launch_date",
    "profile_years",
    "rdd_cutoff",
    "rdd_treatment",
    "survey_years",
    "synth_treatment_year",
]

MIN_PRE_YEARS = 3  # synthetic control: pre-period years needed to fit the weights
MIN_PRE_DAYS = 180  # ITS on daily data: half a year before and after the launch
MIN_SIDE = 50  # RDD: observations needed on each side of the cutoff


def _fail(message: str, name: str) -> ParameterError:
    err = ParameterError(message, parameter=name)
    err.parameter = name
    return err


def rdd_cutoff(values: dict[str, Any]) -> None:
    """The cutoff lies inside the income range of ``subsidy_application`` with data on both sides."""
    cutoff = float(values["cutoff"])
    row = data.sql(
        """SELECT min(income_man_yen) AS lo, max(income_man_yen) AS hi,
                  count(*) FILTER (WHERE income_man_yen < $c) AS below,
                  count(*) FILTER (WHERE income_man_yen >= $c) AS above
           FROM subsidy_application""",
        {"c": cutoff},
    ).iloc[0]
    if min(int(row["below"]), int(row["above"])) < MIN_SIDE:
        raise _fail(
            f"パラメータ『cutoff』（基準となる所得）はデータの範囲の内側で、両側に{MIN_SIDE}世帯以上ある値に"
            f"してください（データの所得は {float(row['lo']):,.0f}〜{float(row['hi']):,.0f}万円）。"
            f'指定値: "{cutoff:g}"',
            "cutoff",
        )
    bw = values.get("bandwidth")
    if bw is None or str(bw).strip().lower() == "auto":
        return
    try:
        ok = float(bw) > 0
    except ValueError:
        ok = False
    if not ok:
        raise _fail(
            f'パラメータ『bandwidth』は auto か正の数（万円）で指定してください。指定値: "{bw}"',
            "bandwidth",
        )


def rdd_treatment(values: dict[str, Any]) -> None:
    """A fuzzy design needs an outcome that comes after the benefit: the application comes before."""
    if values.get("treatment", "none") != "none" and values.get("outcome") == "applied":
        raise _fail(
            "パラメータ『treatment』（処置）に received（給付を受けたか）を選んだときは、結果変数に受給の"
            "あとで決まるもの（childcare_use＝翌年度の保育サービス利用率）を選んでください。申請（applied）は"
            '給付を受ける前の段階なので、給付を受けることの効果は測れません。指定値: "received"',
            "treatment",
        )


def its_launch_date(values: dict[str, Any]) -> None:
    """The launch date leaves at least ``MIN_PRE_DAYS`` days of ``call_centre`` before and after it."""
    launch = values["launch_date"]
    row = data.sql("SELECT min(date) AS lo, max(date) AS hi FROM call_centre").iloc[0]
    lo, hi = row["lo"], row["hi"]
    lo = lo.date() if hasattr(lo, "date") else lo
    hi = hi.date() if hasattr(hi, "date") else hi
    lo = max(lo, values.get("start_date") or lo)  # the analysis window of the template
    hi = min(hi, values.get("end_date") or hi)
    first_ok = lo + dt.timedelta(days=MIN_PRE_DAYS)
    last_ok = hi - dt.timedelta(days=MIN_PRE_DAYS)
    if not first_ok <= launch <= last_ok:
        raise _fail(
            f"パラメータ『launch_date』（導入日）は、前後に{MIN_PRE_DAYS}日以上のデータが残る"
            f"{first_ok}〜{last_ok}の範囲で指定してください（分析期間は{lo}〜{hi}）。"
            f'指定値: "{launch}"',
            "launch_date",
        )


def synth_treatment_year(values: dict[str, Any]) -> None:
    """The treatment year has ``MIN_PRE_YEARS`` years of ``resident_population`` before it and one after."""
    year = int(values["treatment_year"])
    years = data.sql("SELECT DISTINCT year FROM resident_population ORDER BY year")["year"].tolist()
    lo, hi = int(years[0]) + MIN_PRE_YEARS, int(years[-1])
    if not lo <= year <= hi:
        raise _fail(
            f"パラメータ『treatment_year』（介入の年）は、介入前の年が{MIN_PRE_YEARS}年以上あり介入後の年も"
            f"ある{lo}〜{hi}の範囲で指定してください（データは{years[0]}〜{years[-1]}年）。"
            f'指定値: "{year}"',
            "treatment_year",
        )


def profile_years(values: dict[str, Any]) -> None:
    """The projection reaches at least one 5-year step past the base year."""
    base, to = int(values["base_year"]), int(values["to_year"])
    if to < base + 5:
        raise _fail(
            f"パラメータ『to_year』（推計の最終年）は基準年（{base}）の5年後（{base + 5}）以降にしてください。"
            f'指定値: "{to}"',
            "to_year",
        )


def survey_years(values: dict[str, Any]) -> None:
    """The two survey years to compare differ."""
    if values.get("compare_year") == values.get("year"):
        raise _fail(
            "パラメータ『compare_year』（比べる年度）は『year』（調査年度）と別の年度にしてください。"
            f'指定値: "{values.get("compare_year")}"',
            "compare_year",
        )

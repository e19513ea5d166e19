"""Time columns and time arguments: numbers, dates, datetimes, periods, ISO and 和暦 text all work."""

from __future__ import annotations

import datetime as dt

import ebpm
import numpy as np
import pandas as pd
import pytest
from ebpm.errors import EstimationError, ParameterError
from ebpm.methods._inputs import as_time_column, as_timestamp


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("令和5年10月2日", "2023-10-02"),
        ("R5.10.2", "2023-10-02"),
        ("2023-10-02", "2023-10-02"),
        (dt.date(2023, 10, 2), "2023-10-02"),
        (dt.datetime(2023, 10, 2, 9, 30), "2023-10-02 09:30"),
        (pd.Period("2023-10", freq="M"), "2023-10-01"),
        (np.datetime64("2023-10-02"), "2023-10-02"),
    ],
)
def test_as_timestamp(value, expected):
    assert as_timestamp(value, "start") == pd.Timestamp(expected)


@pytest.mark.parametrize("value", ["そのうち", 2023.5, None, ["2023-10-02"]])
def test_as_timestamp_refuses_in_japanese(value):
    with pytest.raises(ParameterError, match="start は日付"):
        as_timestamp(value, "start")


def _monthly(kind: str) -> pd.DataFrame:
    months = pd.date_range("2019-04-01", periods=48, freq="MS")
    rng = np.random.default_rng(5)
    y = 100 + 0.2 * np.arange(48) - 8 * (months >= "2021-04-01") + rng.normal(0, 1, 48)
    time: object = {
        "datetime64": months,
        "date": [m.date() for m in months],
        "period": months.to_period("M"),
        "wareki": [
            f"令和{m.year - 2018}年{m.month}月1日"
            if m.year >= 2020 or m.month >= 5
            else f"平成31年{m.month}月1日"
            for m in months
        ],  # fmt: skip
    }[kind]
    return pd.DataFrame({"month": time, "y": y})


@pytest.mark.parametrize("kind", ["datetime64", "date", "period", "wareki"])
@pytest.mark.parametrize(
    "start", ["令和3年4月1日", "2021-04-01", dt.date(2021, 4, 1), pd.Period("2021-04", "M")]
)
def test_its_reads_every_form_of_time_the_same(kind, start):
    """The same series written as datetime64, date objects, Periods or 和暦 text gives the same fit."""
    base = ebpm.its(
        _monthly("datetime64"), y="y", time="month", start=pd.Timestamp("2021-04-01"), placebo=False
    )
    res = ebpm.its(_monthly(kind), y="y", time="month", start=start, placebo=False)
    assert res.estimate == pytest.approx(base.estimate, rel=1e-12)
    assert res.diagnostics["n_pre"] == 24


def test_its_slope_per_year_on_monthly_dates():
    res = ebpm.its(_monthly("datetime64"), y="y", time="month", start="2021-04-01", placebo=False)
    per = res.diagnostics["slope_change_per"]
    assert per["per"] == "year"
    assert per["steps"] == pytest.approx(12.0, rel=0.05)  # median month ≈ 30.4 days
    assert per["estimate"] == pytest.approx(
        res.diagnostics["slope_change"]["estimate"] * per["steps"]
    )
    assert "1年あたり" in res.summary_ja()


def test_did_accepts_periods_and_date_objects():
    rows = []
    for u in range(10):
        first = pd.Period("2021-04", "M") if u < 5 else None
        for m in pd.period_range("2020-04", periods=24, freq="M"):
            d = first is not None and m >= first
            rows.append(
                {
                    "u": u,
                    "m": m,
                    "first": first,
                    "y": u + 0.1 * m.month - 3.0 * d + 0.01 * u * m.month,
                }
            )
    data = pd.DataFrame(rows)
    res = ebpm.did(data, y="y", unit="u", time="m", first_treated="first")
    data_dates = data.assign(m=data["m"].dt.to_timestamp().dt.date,
                             first=data["first"].map(lambda p: p.start_time.date() if not pd.isna(p) else None))  # fmt: skip
    res_dates = ebpm.did(data_dates, y="y", unit="u", time="m", first_treated="first")
    assert res.estimate == pytest.approx(res_dates.estimate, rel=1e-12)


def test_unreadable_time_column_names_the_value():
    with pytest.raises(EstimationError, match="解釈できない値: 「いつか」"):
        as_time_column(pd.Series(["2021-04-01", "いつか"], name="month"))

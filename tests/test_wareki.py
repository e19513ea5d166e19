"""和暦: parsing dates and fiscal years, era boundaries, formatting."""

from __future__ import annotations

import datetime as dt

import pytest
from ebpm.errors import IngestError
from ebpm.ingest.wareki import (
    fiscal_year_label,
    fiscal_year_span,
    parse_date,
    parse_fiscal_year,
    parse_year,
    to_wareki,
)

D = dt.date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("令和2年4月1日", D(2020, 4, 1)),
        ("令和２年４月１日", D(2020, 4, 1)),  # full-width digits
        ("令和元年5月1日", D(2019, 5, 1)),  # first day of 令和
        ("平成31年4月30日", D(2019, 4, 30)),  # last day of 平成
        ("平成元年1月8日", D(1989, 1, 8)),
        ("昭和64年1月7日", D(1989, 1, 7)),  # last day of 昭和
        ("大正15年12月24日", D(1926, 12, 24)),
        ("明治45年7月29日", D(1912, 7, 29)),
        ("平成２７年６月３０日", D(2015, 6, 30)),  # as in kobe zensi2706.xls
        ("H26.12.28", D(2014, 12, 28)),  # as in kobe institution01
        ("R2.4.1", D(2020, 4, 1)),
        ("S64.1.7", D(1989, 1, 7)),
        ("h26/12/28", D(2014, 12, 28)),
        ("R02-04-01", D(2020, 4, 1)),
        ("㋿2年1月1日", D(2020, 1, 1)),  # the 令和 ligature (デジタル庁 L1-08)
        ("平成 31 年 4 月 30 日", D(2019, 4, 30)),
        ("2025/1/1", D(2025, 1, 1)),  # akishima excerpt
        ("2025-01-01", D(2025, 1, 1)),
        ("2022年1月1日", D(2022, 1, 1)),
        ("２０２２年１月１日", D(2022, 1, 1)),
        ("20220101", D(2022, 1, 1)),
    ],
)
def test_parse_date(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("平成31年5月1日", "平成の期間"),  # 平成 ended 2019-04-30
        ("平成32年1月1日", "平成32年はありません"),
        ("昭和64年1月8日", "昭和の期間"),
        ("令和元年4月30日", "令和の期間"),
        ("令和0年1月1日", "令和0年はありません"),
        ("明治5年12月2日", "旧暦"),
        ("2025/2/30", "存在しない日付"),
        ("R7.13.1", "存在しない日付"),
        ("令和7年度", "日付として読めません"),
        ("abc", "日付として読めません"),
        ("", "日付として読めません"),
    ],
)
def test_parse_date_rejects(text, message):
    with pytest.raises(IngestError, match=message):
        parse_date(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("平成7年度", 1995),
        ("令和元年度", 2019),
        ("平成31年度", 2019),
        ("令和7年度", 2025),
        ("令和７年度", 2025),
        ("昭和63年度", 1988),
        ("2025年度", 2025),
        ("FY2025", 2025),
        ("令和7年度（2025年度）", 2025),
        ("H7年度", 1995),
    ],
)
def test_parse_fiscal_year(text, expected):
    assert parse_fiscal_year(text) == expected


def test_fiscal_year_with_default_era():
    # kobe H7-27.csv writes "７年度" under a title of 平成 years
    assert parse_fiscal_year("７年度", default_era="平成") == 1995
    with pytest.raises(IngestError, match="年度として読めません"):
        parse_fiscal_year("７年度")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("平成32年度", "平成32年はありません"),
        ("令和7年度（2024年度）", "合いません"),
        ("来年度", "年度として読めません"),
    ],
)
def test_parse_fiscal_year_rejects(text, message):
    with pytest.raises(IngestError, match=message):
        parse_fiscal_year(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("令和4年", 2022), ("2022年", 2022), ("平成元年", 1989), ("H31", 2019), ("令和４年", 2022)],
)
def test_parse_year(text, expected):
    assert parse_year(text) == expected


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        (D(2025, 4, 1), "令和7年4月1日"),
        (D(2019, 5, 1), "令和元年5月1日"),
        (D(2019, 4, 30), "平成31年4月30日"),
        (D(1989, 1, 7), "昭和64年1月7日"),
        (D(1989, 1, 8), "平成元年1月8日"),
        (D(1926, 12, 25), "昭和元年12月25日"),
    ],
)
def test_to_wareki(date, expected):
    assert to_wareki(date) == expected
    assert parse_date(expected) == date  # round trip


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (2025, "令和7年度（2025年度）"),
        (2019, "令和元年度（2019年度）"),
        (2018, "平成30年度（2018年度）"),
        (1989, "平成元年度（1989年度）"),
        (1988, "昭和63年度（1988年度）"),
        (1995, "平成7年度（1995年度）"),
    ],
)
def test_fiscal_year_label(year, expected):
    assert fiscal_year_label(year) == expected
    assert parse_fiscal_year(expected) == year


def test_fiscal_year_label_rejects_nonsense():
    with pytest.raises(IngestError, match="year"):
        fiscal_year_label(1500)


@pytest.mark.parametrize(
    "start, end, expected",
    [
        (2019, 2025, "令和元年度〜令和7年度（2019〜2025年度）"),
        (2018, 2019, "平成30年度〜令和元年度（2018〜2019年度）"),
        (2025, 2025, "令和7年度（2025年度）"),
    ],
)
def test_fiscal_year_span(start, end, expected):
    assert fiscal_year_span(start, end) == expected

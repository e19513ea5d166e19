"""団体コード: check digit, 5↔6 digits, lost zeros, retired codes of merged municipalities."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from ebpm.config import paths
from ebpm.errors import IngestError
from ebpm.ingest import codes


@pytest.mark.parametrize(
    ("code5", "digit"),
    [
        # expected 6th digits as published in デジタル庁 ABR lgcode.csv
        ("03201", 8),  # 盛岡市 032018
        ("01000", 6),  # 北海道 010006
        ("03000", 7),  # 岩手県 030007
        ("13101", 6),  # 千代田区 131016
        ("03216", 6),  # 滝沢市 032166
        ("03209", 3),  # 一関市 032093
        ("22212", 7),  # 焼津市 222127
        ("3201", 8),  # lost leading zero
    ],
)
def test_check_digit(code5, digit):
    assert codes.check_digit(code5) == digit


def test_every_shipped_code_has_a_valid_check_digit():
    table = codes.known_codes()
    assert len(table) > 1900
    assert all(codes.is_valid_code6(c) for c in table)
    assert table["032018"] == ("岩手県", "盛岡市")


@pytest.mark.parametrize(
    ("code", "code6", "code5"),
    [
        ("03201", "032018", "03201"),
        ("032018", "032018", "03201"),
        (3201, "032018", "03201"),  # int lost its zero
        ("3201", "032018", "03201"),
        ("10006", "010006", "01000"),  # prefjp-utf8.csv: 6-digit lgcode without its zero
        (10006, "010006", "01000"),
        ("13101", "131016", "13101"),  # a genuine 5-digit code starting with 1
        ("０３２０１", "032018", "03201"),  # full-width
        (" 03201 ", "032018", "03201"),
        ("032018.0", "032018", "03201"),  # a code read from Excel as a float
    ],
)
def test_to_code6_and_code5(code, code6, code5):
    assert codes.to_code6(code) == code6
    assert codes.to_code5(code) == code5


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("032019", "検査数字が合いません"),
        ("abc", "数字ではありません"),
        ("123", "桁数が合いません"),
        ("1234567", "桁数が合いません"),
        (None, "文字列か整数"),
    ],
)
def test_to_code6_rejects(code, message):
    with pytest.raises(IngestError, match=message):
        codes.to_code6(code)


@pytest.mark.parametrize(
    ("code", "expected"),
    [("032018", True), ("032019", False), ("03201", False), ("01000６", True), ("x", False)],
)
def test_is_valid_code6(code, expected):
    assert codes.is_valid_code6(code) is expected


@pytest.mark.parametrize(
    ("code", "on_date", "expected"),
    [
        ("03305", None, "03216"),  # 滝沢村 → 滝沢市
        ("03305", dt.date(2014, 1, 1), "03216"),
        ("03305", dt.date(2013, 12, 31), "03305"),  # still 滝沢村 the day before
        ("03305", "平成25年12月31日", "03305"),
        ("033057", "2020-01-01", "03216"),  # 6-digit input
        ("03422", None, "03209"),  # 藤沢町 → 一関市
        ("03422", dt.date(2011, 9, 25), "03422"),
        ("03422", dt.date(2011, 9, 26), "03209"),
        ("03201", None, "03201"),  # codes in force map to themselves
        (3201, dt.date(2000, 1, 1), "03201"),
    ],
)
def test_successor(code, on_date, expected):
    assert codes.successor(code, on_date) == expected


def test_successor_unknown_code_is_an_error():
    with pytest.raises(IngestError, match="一覧にも廃止コード表にもありません"):
        codes.successor("03999")


def test_retired_codes_cite_a_source():
    for r in codes.RETIRED:
        assert r.source and r.old != r.new
        assert codes.check_digit(r.old) >= 0


def test_name_of():
    assert codes.name_of("03201") == "岩手県盛岡市"
    assert codes.name_of("03305") == "岩手郡滝沢村"
    assert codes.name_of("03000") == "岩手県"


def _shared(rel: str):
    path = paths().shared / "data" / "public" / rel
    if not path.exists():
        pytest.skip(f"{rel} がありません（../shared なし）")
    return path


def test_check_digit_against_localgovjp():
    """An independent list (code4fukui/localgovjp, from J-LIS) agrees with our check digit."""
    path = _shared("localgovjp/localgovjp-utf8.csv")
    with path.open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 1916
    for r in rows:
        assert codes.check_digit(r["lgcode"][:5]) == int(r["lgcode"][5]), r["lgcode"]


def test_census_2010_codes_all_resolve():
    """Every code in the 2010 census (with 03305 and 03422) maps to a code in force today."""
    path = Path(__file__).parent / "fixtures" / "ingest" / "census_2010_p1.csv"
    with path.open(encoding="utf-8") as f:
        found = {r["code"]: codes.successor(r["code"]) for r in csv.DictReader(f)}
    assert found["03305"] == "03216" and found["03422"] == "03209"
    assert all(c in {k[:5] for k in codes.known_codes()} for c in found.values())

"""Shared helpers of the estimators: number formatting, SE wording, option and column checks."""

from __future__ import annotations

from typing import Literal

import pandas as pd
import pytest
from ebpm.errors import EstimationError, ParameterError
from ebpm.methods import _common as c


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (4.137, "4.14"),
        (-4.1, "-4.1"),
        (1794.3, "1,794"),
        (285270, "28.5万"),
        (1.2e8, "1.2億"),
        (1.17e13, "11.7兆"),  # never exponent notation (was 1.17e+05億)
        (-1.17e13, "-11.7兆"),
        (3.4e17, "340,000兆"),
        (0.0819, "0.0819"),
        (0, "0"),
        (float("nan"), "—"),
    ],
)
def test_fmt_num(value, text):
    assert c.fmt_num(value) == text


@pytest.mark.parametrize(
    ("p", "text"), [(0.0004, "p<0.001"), (0.0123, "p=0.012"), (0.41, "p=0.41")]
)
def test_fmt_p(p, text):
    assert c.fmt_p(p) == text


@pytest.mark.parametrize(
    ("se", "g", "text"),
    [
        ("classical", None, "通常"),
        ("HC1", None, "頑健（HC1）"),
        ("cluster:支所", 12, "クラスター頑健（支所、G=12）"),
    ],
)
def test_se_type_ja(se, g, text):
    assert c.se_type_ja(se, g) == text


@pytest.mark.parametrize(("g", "severity"), [(50, 0), (29, 1), (10, 1), (9, 2)])
def test_cluster_count_check(g, severity):
    warning, steps = c.cluster_count_check(g, "支所")
    assert steps == severity
    assert (warning is None) == (severity == 0)


def test_checks_raise_japanese_errors():
    frame = pd.DataFrame({"y": ["a", "b"], "d": [0, 2]})
    with pytest.raises(ParameterError, match="「x」は指定できません"):
        c.check_option("x", Literal["a", "b"], "method")
    with pytest.raises(EstimationError, match="数値"):
        c.require_numeric(frame, "y")
    with pytest.raises(EstimationError, match="0か1"):
        c.require_binary(frame, "d", "介入群の指標")
    with pytest.raises(EstimationError, match="クラスター"):
        c.cluster_count_check(1, "支所")


def test_effect_phrase_direction_first():
    text = c.effect_phrase(-4.1, (-5.0, -3.2), "分", "待ち時間", up="長くなった", down="短くなった")
    assert text == "待ち時間は平均で約4.1分短くなった（95%信頼区間は3.2〜5分の短縮）"


@pytest.mark.parametrize(
    ("value", "text"), [(4.137, "4.1"), (-4.1, "-4.1"), (99.94, "99.9"), (23456.7, "23,457")]
)
def test_fmt_decimal(value, text):
    assert c.fmt_decimal(value) == text


@pytest.mark.parametrize(
    ("value", "unit", "kw", "text"),
    [
        (-3.24, "ポイント", {}, "3.2ポイントの減少"),
        (2.0, "件", {}, "2.0件の増加"),
        (-4.2, "分", {}, "4.2分の短縮"),  # time units: 短縮/延長
        (0.5, "分", {}, "0.5分の延長"),
        (-0.13, "人", {"less": "低い", "more": "高い", "particle": ""}, "0.1人低い"),
        (-285270, "人", {"num": c.fmt_num}, "28.5万人の減少"),
    ],
)
def test_change_words(value, unit, kw, text):
    assert c.change_words(value, unit, **kw) == text


@pytest.mark.parametrize(
    ("lo", "hi", "unit", "kw", "text"),
    [
        (-62.6, -48.4, "件", {}, "48.4〜62.6件の減少"),  # the ITS summary (was -62.6〜-48.4件)
        (3.1, 5.3, "分", {}, "3.1〜5.3分の延長"),
        (-5.3, -3.1, "分", {}, "3.1〜5.3分の短縮"),
        (-1.2, 0.8, "分", {}, "1.2分の短縮から0.8分の延長まで"),
        (
            -36.7,
            -15.7,
            "%ポイント",
            {"less": "低い", "more": "高い", "particle": ""},
            "15.7〜36.7%ポイント低い",
        ),  # fmt: skip
        (
            -0.13,
            0.65,
            "人",
            {"less": "低い", "more": "高い", "particle": "", "num": c.fmt_num},
            "0.13人低いから0.65人高いまで",
        ),  # fmt: skip
    ],
)
def test_change_range_has_no_minus_sign(lo, hi, unit, kw, text):
    out = c.change_range(lo, hi, unit, **kw)
    assert out == text
    assert "-" not in out and "−" not in out


@pytest.mark.parametrize(
    ("times", "first", "expected_time", "expected_first"),
    [
        ([2019, 2020], [2020, None], [2019, 2020], [2020, None]),  # numeric: unchanged
        (["2021-04-01", "2021-05-01"], ["2021-05-01", None], [0, 1], [1, None]),  # ISO text dates
        (
            ["2021-04-01", "2021-06-01"],
            ["2021-05-15", None],
            [0, 1],
            [1, None],
        ),  # between: next observed
    ],
)
def test_to_periods(times, first, expected_time, expected_first):
    frame = pd.DataFrame({"t": times, "f": first})
    out = c.to_periods(frame, "t", "f")
    assert out["t"].tolist() == expected_time
    got = [None if pd.isna(v) else v for v in out["f"].tolist()]
    assert got == expected_first


def test_to_periods_rejects_text():
    with pytest.raises(EstimationError, match="日付"):
        c.to_periods(pd.DataFrame({"t": ["春", "夏"]}), "t")


@pytest.mark.parametrize(
    ("values", "expected"),
    [(["true", "False", None], [1.0, 0.0, None]), ([True, False, True], [1.0, 0.0, 1.0])],
)
def test_require_binary_reads_text_booleans(values, expected):
    got = c.require_binary(pd.DataFrame({"d": values}), "d", "介入の指標").tolist()
    assert [None if pd.isna(v) else v for v in got] == expected

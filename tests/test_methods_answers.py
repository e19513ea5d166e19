"""Summary sentences come from the result: direction, natural units, no minus signs, no grade."""

import pandas as pd
import pytest
from ebpm.methods.answers import (
    did_caveats,
    did_recommendation,
    effect_answer,
    effect_in_context,
    pre_adoption_levels,
    relative_words,
)
from ebpm.methods.did import adoption_overview
from ebpm.result import EstimationResult


def _res(est, lo, hi, unit="分", synthetic=False):
    return EstimationResult(
        method="did",
        method_ja="差の差分析",
        estimate=est,
        se=1.0,
        ci=(lo, hi),
        pvalue=0.01,
        n=100,
        unit=unit,
        outcome_label="平均待ち時間",
        grade="C",
        synthetic=synthetic,
    )


@pytest.mark.parametrize(
    "est, lo, hi, unit, expected",
    [
        (
            -4.197,
            -5.294,
            -3.1,
            "分",
            "約4.2分短くなったと推定される。95%信頼区間は3.1〜5.3分の短縮である。",
        ),
        (
            2.04,
            0.5,
            3.6,
            "分",
            "約2.0分長くなったと推定される。95%信頼区間は0.5〜3.6分の延長である。",
        ),
        (
            -120.4,
            -300.2,
            50.0,
            "人",
            "約120人少なくなったと推定される。95%信頼区間は300人の減少から50.0人の増加までで、",
        ),
        (
            1500.0,
            1200.0,
            1800.0,
            "件",
            "約1,500件多くなったと推定される。95%信頼区間は1,200〜1,800件の増加である。",
        ),
    ],
)
def test_effect_answer_in_natural_units(est, lo, hi, unit, expected):
    text = effect_answer(_res(est, lo, hi, unit), subject="導入した窓口では")
    assert text.startswith("導入した窓口では、平均待ち時間が")
    assert expected in text
    assert "-" not in text and "−" not in text
    assert "エビデンスの強さ" not in text and "C" not in text  # one grade per report, in its box
    assert "模擬データ" not in text


def test_effect_answer_says_synthetic():
    text = effect_answer(_res(-1.0, -2.0, -0.5, synthetic=True), subject="導入した窓口では")
    assert text.endswith("模擬データによる分析である。")


def test_adoption_overview_orders_by_adoption_and_uses_titles():
    frame = pd.DataFrame(
        {
            "office": ["b", "b", "a", "a", "c", "c"],
            "since": ["2022-10-01", "2022-10-01", "2021-04-01", "2021-04-01", None, None],
            "wait": [10.0, 12.0, 20.0, 22.0, 5.0, 7.0],
        }
    )
    frame.attrs["column_titles"] = {"office": "窓口", "wait": "平均待ち時間"}
    frame.attrs["column_units"] = {"wait": "分"}
    out = adoption_overview(frame, unit="office", first_treated="since", y="wait")
    assert out["窓口"].tolist() == ["a", "b", "c"]
    assert out["導入月"].tolist() == ["2021年4月", "2022年10月", "導入なし（比較群）"]
    assert out["平均待ち時間の平均（分）"].tolist() == [21.0, 11.0, 6.0]


def test_effect_in_context_matches_hand_arithmetic():
    # issue 14's example: 323,000 visits a year x 4.2 minutes / 60 = 22,610 hours (hand arithmetic)
    res = _res(-4.2, -5.3, -3.1)
    out = effect_in_context(res, baseline=13.1, per_year=323_000)
    assert out["after"] == pytest.approx(8.9)
    assert out["relative"] == pytest.approx(-4.2 / 13.1)
    assert out["annual"] == pytest.approx(22_600)  # 22,610 to three significant figures
    assert out["annual_unit"] == "時間"
    assert out["level_text"] == "導入前 約13.1分 → 導入後 約8.9分（約3割短縮）"
    assert "年間約323,000件" in out["annual_text"] and "年間約22,600時間" in out["annual_text"]
    assert out["cost_text"] == "費用は条件として与えられていないため、費用対効果は示していない。"
    # 12,000,000 yen / 22,600 hours = 530.97 yen per hour (hand arithmetic)
    priced = effect_in_context(res, baseline=13.1, per_year=323_000, cost_yen=12_000_000)
    assert priced["cost_per_unit"] == 531
    assert "1時間短縮あたり約531円" in priced["cost_text"]
    for text in (out["level_text"], out["annual_text"], priced["cost_text"]):
        assert "-" not in text


@pytest.mark.parametrize(
    "share, words", [(-0.32, "約3割"), (0.05, "約5%"), (0.004, "1%未満"), (-0.5, "約5割")]
)
def test_relative_words(share, words):
    assert relative_words(share) == words


@pytest.mark.parametrize(
    "ci, grade, synthetic, expected",
    [
        ((-5.3, -3.1), "B", False, "未導入の窓口へのキャッシュレス決済の拡大を進める。"),
        ((-5.3, -3.1), "C", True, "実データで同じ分析をやり直し"),
        ((-5.3, -3.1), "C", False, "比較する対象を増やして再検証し"),
        ((-2.0, 1.0), "B", False, "効果は確認できなかった。"),
        ((1.0, 2.0), "A", False, "望む方向と逆の変化"),
    ],
)
def test_did_recommendation_rule(ci, grade, synthetic, expected):
    res = _res(sum(ci) / 2, *ci, synthetic=synthetic)
    res.grade = grade
    text = did_recommendation(res, action="キャッシュレス決済", scope="未導入の窓口")
    assert expected in text


def test_pre_adoption_levels_weighted_and_per_year():
    # office a adopts 2021-03: before = Jan, Feb (waits 10, 20 with visits 100, 300) -> (1000+6000)/400
    # = 17.5; after = Mar..Apr: 200 + 200 visits over 2 months -> 400 / (2/12 year) = 2,400 a year.
    frame = pd.DataFrame(
        {
            "office": ["a"] * 4 + ["b"] * 4,
            "month": ["2021-01-01", "2021-02-01", "2021-03-01", "2021-04-01"] * 2,
            "since": ["2021-03-01"] * 4 + [None] * 4,
            "wait": [10.0, 20.0, 5.0, 5.0, 30.0, 30.0, 30.0, 30.0],
            "visits": [100, 300, 200, 200, 50, 50, 50, 50],
        }
    )
    out = pre_adoption_levels(
        frame, y="wait", unit="office", time="month", first_treated="since", volume="visits"
    )
    assert out["baseline"] == pytest.approx(17.5)
    assert out["per_year"] == pytest.approx(2400.0)
    plain = pre_adoption_levels(frame, y="wait", unit="office", time="month", first_treated="since")
    assert plain["baseline"] == pytest.approx(15.0) and plain["per_year"] is None


def test_did_caveats_name_the_confounder_and_the_check():
    res = _res(-4.2, -5.3, -3.1, synthetic=True)
    res.diagnostics = {
        "pre_trend": {"q": 6, "f_p": 0.556},
        "n_treated_units": 12,
        "n_control_units": 3,
    }
    out = did_caveats(res, confounders="職員の配置換え")
    assert len(out) == 3
    assert "職員の配置換え" in out[0] and "p値は0.56" in out[0]
    assert "12か所" in out[1] and "3か所" in out[1]
    assert "模擬データ" in out[2]


def test_adoption_overview_splits_before_and_after_adoption():
    frame = pd.DataFrame(
        {
            "office": ["a", "a", "a", "c", "c"],
            "month": ["2021-03-01", "2021-04-01", "2021-05-01", "2021-03-01", "2021-04-01"],
            "since": ["2021-04-01"] * 3 + [None] * 2,
            "wait": [20.0, 10.0, 12.0, 5.0, 7.0],
        }
    )
    out = adoption_overview(frame, unit="office", first_treated="since", y="wait", time="month")
    # a: before = 20 (March), after = mean(10, 12) = 11; c never adopts: no before/after
    assert out["導入前のwait"].tolist()[0] == 20.0 and out["導入後のwait"].tolist()[0] == 11.0
    assert pd.isna(out["導入前のwait"].tolist()[1]) and pd.isna(out["導入後のwait"].tolist()[1])

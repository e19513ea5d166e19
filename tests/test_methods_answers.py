"""The answer sentence comes from the result: direction, natural units, no minus signs, the grade."""

import pandas as pd
import pytest
from ebpm.methods.answers import effect_answer
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
            "約4.2分短くなったと推定される（95%信頼区間: 3.1〜5.3分の短縮）",
        ),
        (2.04, 0.5, 3.6, "分", "約2.0分長くなったと推定される（95%信頼区間: 0.5〜3.6分の延長）"),
        (
            -120.4,
            -300.2,
            50.0,
            "人",
            "約120人少なくなったと推定される（95%信頼区間は300人の減少から50.0人の増加まで",
        ),
        (
            1500.0,
            1200.0,
            1800.0,
            "件",
            "約1,500件多くなったと推定される（95%信頼区間: 1,200〜1,800件の増加）",
        ),
    ],
)
def test_effect_answer_in_natural_units(est, lo, hi, unit, expected):
    text = effect_answer(_res(est, lo, hi, unit), subject="導入した窓口では")
    assert text.startswith("導入した窓口では、平均待ち時間が")
    assert expected in text
    assert "-" not in text and "−" not in text
    assert "エビデンスの強さはC（弱い）である。" in text
    assert "模擬データ" not in text


def test_effect_answer_says_synthetic():
    text = effect_answer(_res(-1.0, -2.0, -0.5, synthetic=True), subject="導入した窓口では")
    assert text.endswith("（模擬データによる分析である。）")


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

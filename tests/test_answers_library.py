"""Answers and the recommendation rule (ebpm.methods.answers) for ITS rate ratios, RDD, synth and descriptions."""

from __future__ import annotations

import math

import pytest
from ebpm.methods import answers
from ebpm.result import EstimationResult


def _res(est, lo, hi, grade="B", unit="件", scale=None, synthetic=True, **details):
    det = {"scale": scale} if scale else {}
    det.update(details)
    return EstimationResult(
        method="its", method_ja="分割時系列分析", estimate=est, se=0.1, ci=(lo, hi), pvalue=0.01,
        n=100, unit=unit, outcome_label="1日あたりの問い合わせ件数", grade=grade, synthetic=synthetic,
        details=det,
    )  # fmt: skip


def test_rate_ratio_is_stated_in_percent_with_the_ratio():
    text = answers.effect_answer(_res(0.824, 0.802, 0.847, scale="rate_ratio"), subject="導入後")
    assert "約17.6%少なくなったと推定される" in text
    assert "率比は0.824、95%信頼区間は0.802〜0.847である" in text and "模擬データ" in text
    assert "エビデンスの強さ" not in text and "-" not in text  # one grade per report, in its box


def test_threshold_wording_for_rdd():
    text = answers.effect_answer(
        _res(-25.5, -36.7, -15.7, unit="%ポイント"),
        subject="上回る世帯では",
        less="低い",
        more="高い",
        ending="",
    )
    assert "約25.5%ポイント低いと推定される" in text


@pytest.mark.parametrize(
    ("est", "lo", "hi", "grade", "better", "scale", "expected"),
    [
        (-4.0, -5.0, -3.0, "A", "lower", None, "継続・拡大"),
        (-4.0, -5.0, -3.0, "A", "higher", None, "逆向き"),
        (0.8, 0.7, 0.9, "B", "lower", "rate_ratio", "継続・拡大"),  # a rate ratio below 1 is a fall
        (0.9, 0.7, 1.1, "B", "lower", "rate_ratio", "判断できない"),
        (-4.0, -5.0, -3.0, "C", "lower", None, "比較群のある設計"),
    ],
)
def test_recommendation_rule(est, lo, hi, grade, better, scale, expected):
    assert expected in answers.recommend(_res(est, lo, hi, grade=grade, scale=scale), better=better)


def test_synth_answer_says_illustration_and_poor_fit():
    res = _res(1.5, -3.0, 6.0, grade="D", unit="‰", treated_unit="盛岡市", treatment_time=2020)
    res.method = "synth"
    res.diagnostics = {
        "placebo": {"pvalue": 0.64, "n_units": 33, "rank": 21},
        "pre_rmspe_relative": 0.48,
    }
    text = answers.synth_answer(res, illustration="【手法の例示】")
    assert (
        text.startswith("【手法の例示】")
        and "介入前の当てはまりが悪く、誤差が平均水準の48.0%ある" in text
    )
    assert "33市町村中21番目の大きさで、p値は0.64である" in text


def test_profile_answer_hides_shares_of_small_groups():
    first = {"total": 23, "share_65_over": math.nan}
    now = {"total": 19, "share_65_over": math.nan}
    text = answers.profile_answer("東安庭", now=now, year=2026, first=first, first_year=2013)
    assert "19人" in text and "秘匿" in text and "%から" not in text


def test_survey_and_power_answers():
    text = answers.survey_answer(
        {"share": 0.494, "ci_low": 0.441, "ci_high": 0.547}, label="満足の割合", year="令和7年度",
        diff={"diff": 0.092, "ci_low": 0.016, "ci_high": 0.167}, between="令和3年度と令和7年度",
    )  # fmt: skip
    assert "49.4%で、95%信頼区間は44.1〜54.7%である" in text and "偶然の範囲を超えた差" in text
    assert "9.2ポイントの増加で、95%信頼区間は1.6〜16.7ポイントの増加" in text
    import ebpm

    plan = ebpm.power(effect_size=3.0, power=0.8, sd=10.0, effect_unit="分")
    text = answers.power_answer(plan, budget_per_person=3000)
    # statsmodels TTestIndPower: d = 0.3, power 0.8, alpha 0.05 two-sided -> 175.4 per group -> 176
    assert "1群あたり176人、2群で352人が必要である" in text and "1,056,000円" in text

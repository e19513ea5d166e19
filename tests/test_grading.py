"""The grade rule: design ceiling, failed and untested checks lower it; no switch can raise a grade."""

from __future__ import annotations

import ebpm
import numpy as np
import pandas as pd
import pytest
from ebpm.errors import GradeError
from ebpm.methods.grading import (
    MONITORING_LABEL,
    Check,
    decide,
    descriptive,
    lower,
    monitoring,
    verify,
)


@pytest.mark.parametrize(
    ("grade", "steps", "expected"),
    [("A", 0, "A"), ("A", 1, "B"), ("B", 2, "D"), ("C", 5, "D"), ("D", 1, "D")],
)
def test_lower(grade, steps, expected):
    assert lower(grade, steps) == expected


def test_decide_passes_keep_ceiling():
    grade, reasons = decide("did", [Check("pre_trend", True, "平行トレンドは棄却されない。")])
    assert grade == "A"
    assert reasons[1].startswith("【確認済み】")


def test_decide_failed_and_untested():
    checks = [
        Check("pre_trend", False, "介入前の差がある。", severity=2),
        Check("clusters", None, "クラスター数を確認できない。"),
    ]
    grade, reasons = decide("did", checks)
    assert grade == "D"  # A − 2 (failed) − 1 (untested)
    assert any(r.startswith("【要注意】") for r in reasons)
    assert any(r.startswith("【未確認】クラスター数") for r in reasons)


@pytest.mark.parametrize("design", ["experiment", "rdd", "did", "its", "synth", "regression"])
@pytest.mark.parametrize("severity", [1, 2])
def test_untested_costs_what_a_failure_costs(design, severity):
    """For every design, switching a check off never beats running it, whether it passes or fails."""
    passed = decide(design, [Check("x", True, "確認した。", severity)]).grade
    failed = decide(design, [Check("x", False, "不合格。", severity)]).grade
    off = decide(design, [Check("x", None, "確認していない。", severity)]).grade
    order = "ABCD"
    assert order.index(off) == order.index(failed)
    if passed != "D":
        assert order.index(off) > order.index(passed)


def test_unknown_design():
    with pytest.raises(ValueError):
        decide("magic", [])


# --- descriptive and monitoring reports -----------------------------------------------------------


def test_descriptive_is_d_with_documented_reason():
    g = descriptive(["調査ウェイトを使った。"])
    assert g.grade == "D" and g.label == "D（参考程度）"
    assert g.reasons[-1] == "調査ウェイトを使った。"


def test_monitoring_has_no_letter():
    g = monitoring(["見通しは直線の外挿。"])
    assert g.grade is None and g.label == MONITORING_LABEL == "実績集計（推定なし）"
    assert g.to_dict()["grade_label"] == "実績集計（推定なし）"
    assert g.reasons[-1] == "見通しは直線の外挿。"


# --- verification (what the report runner accepts) ------------------------------------------------


def test_verify_accepts_the_rule_output():
    for g in (
        decide("rdd", [Check("density", True, "段差なし。", 2)]),
        descriptive(),
        monitoring(["補足。"]),
    ):
        assert verify(g.to_dict()) == g


@pytest.mark.parametrize("typed", ["A", "C", None, {"grade": "A"}, 3])
def test_verify_refuses_a_typed_grade(typed):
    with pytest.raises(GradeError, match="評価規則"):
        verify(typed)


def test_verify_refuses_an_edited_grade():
    payload = decide("rdd", [Check("density", None, "密度検定をしていない。", 2)]).to_dict()
    assert payload["grade"] == "C"
    payload["grade"] = "A"
    with pytest.raises(GradeError, match="一致しません"):
        verify(payload)


def test_estimation_result_carries_its_grading():
    res = ebpm.describe(pd.DataFrame({"x": [1.0, 2.0, 3.0]}), ["x"])
    d = res.to_dict()
    assert d["grade"] == "D" and verify(d["grading"]).grade == "D"


# --- the grade table: same data, check on (passed) vs off, for every design with a switch --------
# Each case: (design, function(data, on: bool) -> EstimationResult, untested check name, words the
# 未確認 reason must contain). The data are 模擬データ built so that the check passes when on.


def _rdd_data(seed=3, n=1500):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, n)
    z = rng.normal(size=n)
    y = 1 + 0.8 * x + 0.5 * (x >= 0) + rng.normal(scale=0.3, size=n)
    return pd.DataFrame({"y": y, "x": x, "z": z})


def _its_data(seed=5, n=72):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 50 + 0.2 * t + 4.0 * (t >= 36) + rng.normal(scale=1.0, size=n)
    return pd.DataFrame({"month": pd.date_range("2019-04-01", periods=n, freq="MS"), "y": y})


def _synth_data(seed=1, units=12, periods=20):
    rng = np.random.default_rng(seed)
    base = rng.normal(0, 1, (periods, units)).cumsum(axis=0) + rng.uniform(20, 40, units)
    treated = base[:, 1:4].mean(axis=1) + rng.normal(0, 0.05, periods)
    treated[12:] += 6.0
    rows = [
        {"unit": f"u{j:02d}", "time": 2000 + t, "y": base[t, j]}
        for j in range(1, units)
        for t in range(periods)
    ]
    rows += [{"unit": "u00", "time": 2000 + t, "y": treated[t]} for t in range(periods)]
    return pd.DataFrame(rows)


def _experiment_data(seed=2, n=400):
    rng = np.random.default_rng(seed)
    treat = rng.integers(0, 2, n)
    age = rng.normal(40, 10, n)
    income = rng.normal(300, 50, n)
    y = 10 + 2 * treat + 0.1 * age + rng.normal(size=n)
    return pd.DataFrame({"y": y, "treat": treat, "age": age, "income": income})


def _panel_data(seed=4, units=40, periods=12):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(units):
        first = 7 if i < units // 2 else None
        a = rng.normal()
        for t in range(1, periods + 1):
            d = first is not None and t >= first
            rows.append(
                {"unit": i, "t": t, "first": first, "y": a + 0.3 * t + 2.0 * d + rng.normal()}
            )
    return pd.DataFrame(rows)


CASES = {
    "rdd-density": (
        _rdd_data,
        lambda d, on: ebpm.rdd(d, y="y", x="x", covariates=["z"], density_test=on),
        "density",
        "密度検定",
    ),
    "rdd-balance": (
        _rdd_data,
        lambda d, on: ebpm.rdd(d, y="y", x="x", covariates=["z"] if on else None),
        "covariate_balance",
        "共変量",
    ),
    "its-placebo": (
        _its_data,
        lambda d, on: ebpm.its(d, y="y", time="month", start="2022-04-01", placebo=on),
        "placebo_in_time",
        "プラセボ",
    ),
    "synth-placebo": (
        _synth_data,
        lambda d, on: ebpm.synth(
            d,
            y="y",
            unit="unit",
            time="time",
            treated_unit="u00",
            treatment_time=2012,
            placebo=on,
            starts=2,
            placebo_starts=1,
        ),  # fmt: skip
        "placebo",
        "プラセボ",
    ),
    "experiment-balance": (
        _experiment_data,
        lambda d, on: ebpm.regress(
            d, "y ~ treat", se="HC2", design="experiment", balance=["age", "income"] if on else None
        ),
        "balance",
        "バランス",
    ),
    "event_study-pre_trend": (
        _panel_data,
        lambda d, on: ebpm.event_study(
            d, y="y", unit="unit", time="t", first_treated="first", window=(-4 if on else -1, 4)
        ),
        "pre_trend",
        "平行トレンド",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_switching_a_check_off_lowers_the_grade(case):
    make, run, name, words = CASES[case]
    data = make()
    data.attrs["synthetic"] = True
    on, off = run(data, True), run(data, False)
    checks_on = {c.name: c.passed for c in on.grading.checks}
    assert checks_on[name] is True, on.reasons  # the data make the check pass when it runs
    assert name in off.grading.untested
    assert "ABCD".index(off.grade) > "ABCD".index(on.grade), (on.reasons, off.reasons)
    assert any(r.startswith("【未確認】") and words in r for r in off.reasons), off.reasons
    print(f"grade table: {case}: on={on.grade} off={off.grade}")


# --- where grades are recorded: ebpm.record and the report runner ---------------------------------


def test_record_refuses_a_typed_grade_and_loose_reasons():
    from ebpm.report.kernel import record

    with pytest.raises(GradeError, match="評価規則"):
        record("grade", "A")
    with pytest.raises(GradeError, match="根拠"):
        record("grade_reasons", ["手書きの根拠"])
    record("grade", monitoring())  # the rule's output is accepted (no run in progress: no file)


def test_runner_refuses_an_edited_headline_grade():
    from ebpm.report.runner import _checked_grading

    head = ebpm.describe(pd.DataFrame({"x": [1.0, 2.0, 3.0]}), ["x"]).to_dict()
    grading, problem = _checked_grading({}, head, "x")
    assert grading.grade == "D" and problem is None
    head["grade"] = "A"
    grading, problem = _checked_grading({}, head, "x")
    assert grading is None and "一致しません" in problem
    grading, problem = _checked_grading({}, {"grade": "A", "reasons": []}, "x")
    assert grading is None and "受け付けません" in problem
    grading, problem = _checked_grading({"grade": "B"}, None, None)
    assert grading is None and "受け付けません" in problem

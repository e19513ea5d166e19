"""The grade rule: design ceiling, failed checks lower it, untested checks cap it at B."""

import pytest
from ebpm.methods.grading import Check, decide, lower


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
    assert grade == "C"
    assert any(r.startswith("【要注意】") for r in reasons)


def test_untested_caps_at_b():
    grade, _ = decide("rdd", [Check("density", None, "密度検定ができない。")])
    assert grade == "B"


def test_unknown_design():
    with pytest.raises(ValueError):
        decide("magic", [])

"""事前登録 records without a kernel: unlocked plan, locked plan with edits, outcomes seen before the lock."""

from __future__ import annotations

from ebpm.plans.plan import parse_plan
from ebpm.report.prereg import NO_PLAN_REASON, for_plan, no_plan
from ebpm.report.register import lock_plan

PLAN = """\
schema_version: 1
id: p
title: 計画
question: 問い
estimand: 量
design: did
outcome: {name: 結果}
comparison: 比較群
template: did_study
parameters: {control: notyet}
decision_rule: 規則
data_access: {status: outcomes_observed}
prior_knowledge: 結果の図を見た。
"""


def test_no_plan():
    assert no_plan()["label"] == "事前登録なし" and no_plan()["reason"] == NO_PLAN_REASON


def test_unlocked_plan_says_it_cannot_be_checked(tmp_path):
    plan = parse_plan(PLAN, slug="p")
    rec = for_plan(
        plan, {"control": "notyet"}, {"control": "notyet"}, {}, register=tmp_path / "r.duckdb"
    )
    assert rec["status"] == "unlocked" and rec["deviations"] == []
    assert "ロック（事前登録）されていない" in rec["reason"]
    assert "結果変数を見ていた" in rec["reason"]  # outcomes_observed is said, whatever the lock


def test_locked_plan_lists_edits_and_overrides(tmp_path):
    register = tmp_path / "r.duckdb"
    plan = parse_plan(PLAN, slug="p")
    lock_plan("p", sha256=plan.sha256(), canonical=plan.canonical(), register=register)
    edited = parse_plan(PLAN.replace("design: did", "design: its"), slug="p")
    rec = for_plan(
        edited,
        {"control": "notyet"},
        {"control": "never"},
        {"control": "比較群"},
        register=register,
        display=lambda name, value: {"notyet": "未導入も含む", "never": "導入しない窓口だけ"}[
            value
        ],
    )
    assert rec["status"] == "locked" and rec["version"] == 1
    texts = [d["text"] for d in rec["deviations"]]
    assert texts == [
        "ロック後に計画の「design」が変更された（ロック時: did → 現在: its）",
        "条件「比較群」を計画の「未導入も含む」ではなく「導入しない窓口だけ」で実行",
    ]
    assert "逸脱が 2 件" in rec["reason"]

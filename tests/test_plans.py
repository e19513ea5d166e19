"""Analysis plans: schema errors, canonical hash, lock in the register, edits after locking, study status."""

from __future__ import annotations

from pathlib import Path

import pytest
from ebpm.cli import app
from ebpm.ingest.yamlfile import SchemaError
from ebpm.plans.plan import canonical_json, load_plan, parse_plan
from typer.testing import CliRunner

# the data these tests read comes from the full build (conftest with_curated)
pytestmark = pytest.mark.usefixtures("with_curated")

PLAN = """\
schema_version: 1
id: sample
title: 見本の計画
question: 導入で待ち時間は短くなるか。
estimand: 導入窓口の平均待ち時間の変化（ATT）
design: did
outcome: {name: 平均待ち時間, logic_model: cashless_counters, node: S1}
comparison: 未導入の窓口
template: did_study
parameters: {outcome: mean_wait_min, control: notyet}
decision_rule: 上限が0未満なら拡大する。
data_access: {status: exists_unobserved}
prior_knowledge: 記述統計も見ていない。
"""


@pytest.fixture
def study_env(tmp_path, monkeypatch):
    monkeypatch.setenv("EBPM_STUDIES", str(tmp_path / "studies"))
    monkeypatch.setenv("EBPM_REPORTS", str(tmp_path / "reports"))
    monkeypatch.setenv("COLUMNS", "240")  # tables are read as text: no wrapping inside a phrase
    return tmp_path


def _finish(env: Path, slug: str) -> Path:
    """Fill in what `plan new` leaves as a draft (the prior-knowledge statement)."""
    path = env / "studies" / slug / "plan.yml"
    lines = [
        "prior_knowledge: 表の定義だけを見た。" if line.startswith("prior_knowledge:") else line
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_good_plan_parses():
    plan = parse_plan(PLAN)
    assert plan.template == "did_study" and plan.parameters["control"] == "notyet"


@pytest.mark.parametrize(
    ("bad", "line", "field"),
    [
        (PLAN.replace("design: did", "design: 勘"), 6, "design"),
        (PLAN.replace("{status: exists_unobserved}", "{status: 見た}"), 12, "data_access.status"),
        (PLAN.replace("decision_rule: 上限が0未満なら拡大する。\n", ""), 1, "decision_rule"),
        (
            PLAN.replace(
                "parameters: {outcome: mean_wait_min, control: notyet}", "parameters: [1, 2]"
            ),
            10,
            "parameters",
        ),
    ],
)
def test_bad_plans_name_line_and_field(bad, line, field):
    with pytest.raises(SchemaError) as info:
        parse_plan(bad, file="studies/x/plan.yml")
    assert info.value.line == line and info.value.field_name == field, str(info.value)
    assert f"{line}行目" in str(info.value) and "studies/x/plan.yml" in str(info.value)


def test_hash_ignores_formatting_comments_and_key_order():
    a = parse_plan(PLAN)
    reordered = "# メモ\n" + "\n".join(reversed(PLAN.strip().splitlines())) + "\n"
    b = parse_plan(reordered)
    assert a.sha256() == b.sha256()
    # NFD vs NFC of the same text (ガ written as カ + combining mark) hashes the same
    c = parse_plan(PLAN.replace("見本の計画", "見本の計画ガ"))
    d = parse_plan(PLAN.replace("見本の計画", "見本の計画カ\u3099"))
    assert c.sha256() == d.sha256()
    assert parse_plan(PLAN.replace("notyet", "never")).sha256() != a.sha256()
    assert "lock" not in canonical_json({"lock": {"x": 1}, "id": "a"})


def test_plan_new_writes_every_field_and_the_mde(study_env):
    runner = CliRunner()
    made = runner.invoke(app, ["plan", "new", "wait_2026", "--template", "did_study"])
    assert made.exit_code == 0, made.output
    plan = load_plan("wait_2026")
    for key in (
        "question",
        "estimand",
        "design",
        "outcome",
        "comparison",
        "template",
        "parameters",
        "power",
        "decision_rule",
        "data_access",
        "prior_knowledge",
    ):
        assert plan.data.get(key), key
    assert plan.data["outcome"]["node"] == "S1"
    assert set(plan.parameters) == {
        "outcome",
        "control",
        "window_before",
        "window_after",
        "exclude_offices",
        "start_fy",
        "end_fy",
        "cost_yen",
        "recommendation",
    }
    # MDE from ebpm.power with the stated assumptions (the number itself is checked in test_methods_power)
    from ebpm import power

    spec = plan.data["power"]
    expected = power(
        n=12, power=0.8, design="did", sd=3.0, ratio=0.25, periods_pre=12, periods_post=12, rho=0.5
    )
    assert spec["mde"] == pytest.approx(expected.estimate, abs=1e-4)
    assert (study_env / "studies" / "wait_2026" / "notes.md").exists()
    again = runner.invoke(app, ["plan", "new", "wait_2026", "--template", "did_study"])
    assert again.exit_code == 1 and "上書きしません" in str(again.exception)


def test_locked_plan_edited_afterwards_is_detected(study_env):
    runner = CliRunner()
    assert (
        runner.invoke(app, ["plan", "new", "wait_2026", "--template", "did_study"]).exit_code == 0
    )
    draft = runner.invoke(app, ["plan", "lock", "wait_2026"])
    assert draft.exit_code == 1 and "prior_knowledge が下書きのまま" in str(draft.exception)
    _finish(study_env, "wait_2026")
    status = runner.invoke(app, ["plan", "status", "wait_2026"])
    assert status.exit_code == 0 and "未登録" in status.output
    locked = runner.invoke(app, ["plan", "lock", "wait_2026", "--by", "市民課"])
    assert locked.exit_code == 0 and "第1版" in locked.output and "日本時間" in locked.output
    assert (study_env / "reports" / "register.duckdb").exists()
    ok = runner.invoke(app, ["plan", "status", "wait_2026"])
    assert ok.exit_code == 0 and "ロック後の変更はありません" in ok.output

    path = study_env / "studies" / "wait_2026" / "plan.yml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("window_before: 6", "window_before: 9"),
        encoding="utf-8",
    )
    edited = runner.invoke(app, ["plan", "status", "wait_2026"])
    assert edited.exit_code == 1
    assert "parameters.window_before" in edited.output and "6 → 現在: 9" in edited.output
    listed = runner.invoke(app, ["study", "list"])
    assert "登録済" in listed.output and "ロック後に変更: parameters.window_before" in listed.output
    # locking again records a second version (an amendment), listing what changed
    relocked = runner.invoke(app, ["plan", "lock", "wait_2026"])
    assert "第2版" in relocked.output and "parameters.window_before" in relocked.output


def test_study_status_order():
    from ebpm.plans.study import study_status

    assert study_status(locked=False, runs=0, published=False) == "計画中"
    assert study_status(locked=True, runs=0, published=False) == "登録済"
    assert study_status(locked=True, runs=2, published=False) == "実施済"
    assert study_status(locked=True, runs=2, published=True) == "公開"


def test_plan_with_unknown_parameter_cannot_be_locked(study_env):
    folder = study_env / "studies" / "odd"
    folder.mkdir(parents=True)
    (folder / "plan.yml").write_text(
        PLAN.replace("control: notyet", "colour: red"), encoding="utf-8"
    )
    result = CliRunner().invoke(app, ["plan", "lock", "odd"])
    assert result.exit_code == 1 and "colour" in str(result.exception)
    assert not Path(study_env / "reports" / "register.duckdb").exists()


def test_lock_travels_in_git_next_to_the_plan(study_env):
    """A fresh clone has no register (reports/ is not in git): the plan.lock.json copy keeps the lock."""
    runner = CliRunner()
    assert (
        runner.invoke(app, ["plan", "new", "wait_2026", "--template", "did_study"]).exit_code == 0
    )
    _finish(study_env, "wait_2026")
    assert runner.invoke(app, ["plan", "lock", "wait_2026"]).exit_code == 0
    copy = study_env / "studies" / "wait_2026" / "plan.lock.json"
    assert copy.exists() and load_plan("wait_2026").sha256() in copy.read_text(encoding="utf-8")
    (study_env / "reports" / "register.duckdb").unlink()
    listed = runner.invoke(app, ["study", "list"])
    assert "登録済" in listed.output
    path = study_env / "studies" / "wait_2026" / "plan.yml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("control: notyet", "control: never"),
        encoding="utf-8",
    )
    edited = runner.invoke(app, ["plan", "status", "wait_2026"])
    assert edited.exit_code == 1 and "parameters.control" in edited.output
    # locking again on the fresh clone carries version 1 into the register and adds version 2
    relocked = runner.invoke(app, ["plan", "lock", "wait_2026"])
    assert "第2版" in relocked.output, relocked.output


def test_a_causal_plan_needs_a_correct_mde_before_locking(study_env):
    runner = CliRunner()
    assert (
        runner.invoke(app, ["plan", "new", "wait_2026", "--template", "did_study"]).exit_code == 0
    )
    path = _finish(study_env, "wait_2026")
    text = path.read_text(encoding="utf-8")
    wrong = (
        "\n".join("  mde: 0.5" if ln.startswith("  mde:") else ln for ln in text.splitlines())
        + "\n"
    )
    path.write_text(wrong, encoding="utf-8")
    refused = runner.invoke(app, ["plan", "lock", "wait_2026"])
    assert refused.exit_code == 1 and "一致しません" in str(refused.exception)
    missing = "\n".join(ln for ln in text.splitlines() if not ln.startswith("  mde:")) + "\n"
    path.write_text(missing, encoding="utf-8")
    refused = runner.invoke(app, ["plan", "lock", "wait_2026"])
    assert refused.exit_code == 1 and "power.mde" in str(refused.exception)

"""`ebpm run --plan`: deviations at the top of the report (HTML, PDF text, result.json), 事前登録 in the
portal, and a published study becoming a case."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from ebpm.cli import app
from typer.testing import CliRunner

# one worker renders the module fixture once instead of each worker
pytestmark = pytest.mark.xdist_group("cycle_run")

FIXTURES = Path(__file__).parent / "fixtures" / "reports"
PLAN = """\
schema_version: 1
id: check_run
title: 動作確認の分析計画
question: 件数は3件か。
estimand: 件数
design: descriptive
outcome: {name: 件数}
comparison: なし
template: basic
parameters: {n: 3, kind: a, offices: [本庁, 玉山]}
decision_rule: 3件なら続ける。
data_access: {status: exists_unobserved}
prior_knowledge: なし
"""


@pytest.fixture(scope="module")
def cycle(tmp_path_factory):
    """One locked plan, one run with an override (with PDF), one run without a plan."""
    root = tmp_path_factory.mktemp("cycle")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EBPM_REPORTS", str(root / "reports"))
        mp.setenv("EBPM_STUDIES", str(root / "studies"))
        mp.setenv("EBPM_TEMPLATES", str(FIXTURES))
        mp.setenv("COLUMNS", "240")  # tables are read as text: no wrapping inside a phrase
        (root / "studies" / "check_run").mkdir(parents=True)
        (root / "studies" / "check_run" / "plan.yml").write_text(PLAN, encoding="utf-8")
        runner = CliRunner()
        locked = runner.invoke(app, ["plan", "lock", "check_run"])
        assert locked.exit_code == 0, locked.output
        with_plan = runner.invoke(
            app,
            [
                "run",
                "--plan",
                "check_run",
                "-p",
                "n=5",
                "-p",
                "kind=b",
                "--out",
                str(root / "reports" / "basic" / "planned"),
            ],
        )
        assert with_plan.exit_code == 0, with_plan.output
        without = runner.invoke(
            app, ["run", "basic", "--no-pdf", "--out", str(root / "reports" / "basic" / "free")]
        )
        assert without.exit_code == 0, without.output
        yield root, mp


def _result(folder: Path) -> dict:
    return json.loads((folder / "result.json").read_text(encoding="utf-8"))


def test_result_json_lists_deviations_with_the_lock_time(cycle):
    root, _ = cycle
    prereg = _result(root / "reports" / "basic" / "planned")["preregistration"]
    assert prereg["status"] == "locked" and prereg["plan"] == "check_run"
    assert prereg["locked_at"] and "日本時間" in prereg["locked_at_ja"]
    changed = {d["field"]: (d["planned"], d["actual"]) for d in prereg["deviations"]}
    assert changed == {"n": (3, 5), "kind": ("a", "b")}
    result = _result(root / "reports" / "basic" / "planned")
    assert any("事前登録あり" in r and "逸脱が 2 件" in r for r in result["grade_reasons"])
    assert result["parameters"]["n"] == 5  # the override was used


def test_html_shows_deviations_next_to_the_grade(cycle):
    root, _ = cycle
    html = (root / "reports" / "basic" / "planned" / "index.html").read_text(encoding="utf-8")
    grade_at, prereg_at, params_at = (
        html.index(s) for s in ('class="grade', 'id="prereg"', 'class="params"')
    )
    assert grade_at < prereg_at < params_at  # at the top, beside the grade, before the parameters
    assert (
        "計画からの逸脱（2件）" in html and "条件「件数」を計画の「3」ではなく「5」で実行" in html
    )
    assert "日本時間" in html[prereg_at:params_at]


def test_pdf_text_lists_the_deviations(cycle):
    root, _ = cycle
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext（poppler-utils）がありません")
    pdf = root / "reports" / "basic" / "planned" / "report.pdf"
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = "".join(text.split())
    assert "事前登録あり" in flat and "計画からの逸脱（2件）" in flat
    assert "条件「件数」を計画の「3」ではなく「5」で実行" in flat


def test_run_without_plan_says_so_in_report_and_grade_reasons(cycle):
    root, _ = cycle
    free = root / "reports" / "basic" / "free"
    result = _result(free)
    assert result["preregistration"]["label"] == "事前登録なし"
    assert any(r.startswith("事前登録なし") for r in result["grade_reasons"])
    assert "事前登録: 事前登録なし" in (free / "index.html").read_text(encoding="utf-8")


def test_portal_shows_preregistration_and_the_study_becomes_a_case(cycle):
    root, mp = cycle
    runner = CliRunner()
    listed = runner.invoke(app, ["study", "list"])
    assert "実施済" in listed.output, listed.output
    published = runner.invoke(app, ["study", "publish", "check_run"])
    assert published.exit_code == 0, published.output
    assert runner.invoke(app, ["reports"]).exit_code == 0
    index = (root / "reports" / "index.html").read_text(encoding="utf-8")
    assert '<th scope="col" id="prereg-col">事前登録</th>' in index
    assert "事前登録あり" in index and "事前登録なし" in index and "逸脱 2件" in index
    cases = (root / "reports" / "cases.html").read_text(encoding="utf-8")
    assert 'id="case-own-check_run"' in cases and "自前の分析" in cases
    assert "basic/planned/index.html" in cases and "studies/check_run.html" in cases
    study = (root / "reports" / "studies" / "check_run.html").read_text(encoding="utf-8")
    assert "公開" in study and "条件「件数」を計画の「3」ではなく「5」で実行" in study
    assert "公開" in runner.invoke(app, ["study", "list"]).output
    assert "own-check_run" in runner.invoke(app, ["cases"]).output

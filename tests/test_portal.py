"""Tests for ebpm.report.portal: the offline report portal (レポート一覧) built from result.json files."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from ebpm.report import portal

FIXTURES = Path(__file__).parent / "fixtures" / "portal" / "reports"


@pytest.fixture()
def reports(tmp_path: Path, monkeypatch) -> Path:
    root = tmp_path / "reports"
    shutil.copytree(FIXTURES, root)
    (root / "did_study" / "20261126-141500-ab12" / "report.pdf").write_bytes(
        b"%PDF-1.4\n%fixture\n"
    )
    monkeypatch.setenv("EBPM_CURATED", str(tmp_path / "data" / "curated"))
    return root


@pytest.fixture()
def page(reports: Path) -> str:
    target = portal.write_portal(reports)
    assert target == reports / "index.html"
    return target.read_text(encoding="utf-8")


def _rows(page: str) -> list[str]:
    return re.findall(r'<tr class="report[^"]*".*?</tr>', page, flags=re.S)


def test_entries_are_newest_first_and_parsed(reports: Path):
    entries = portal.load_entries(reports)
    assert [e.run_id for e in entries] == [
        "20261126-141500-ab12",
        "20261126-140000-cd34",  # 05:00 UTC = 14:00 JST
        "20261125-090000-ef56",
        "20261120-100000-gh78",
    ]
    did, kpi, failed, its = entries
    assert did.html_link == "did_study/20261126-141500-ab12/index.html"
    assert did.pdf_link == "did_study/20261126-141500-ab12/report.pdf"
    assert kpi.pdf_link is None  # listed in result.json but not on disk
    assert did.estimate_text == "-3.21分（95%信頼区間 -4.50〜-1.92分）"
    assert failed.failed and failed.error_step == "セル7: 効果の推定"
    assert its.grade == "D" and its.synthetic


def test_portal_lists_every_report_with_answer_grade_date_vintage(page: str):
    assert "<h1>レポート一覧</h1>" in page and 'lang="ja"' in page
    rows = _rows(page)
    assert len(rows) == 4
    did = rows[0]
    assert "支所窓口キャッシュレス決済導入の待ち時間への効果" in did
    assert "約3.2分短くなった" in did
    assert "B（おおむね確か）" in did  # grade as text, not colour alone, on the 根拠の確かさ scale
    assert "2026年11月26日 14:15" in did and "2025-03-31" in did
    assert 'class="badge">模擬データ' in did
    assert 'href="did_study/20261126-141500-ab12/index.html"' in did
    assert 'href="did_study/20261126-141500-ab12/report.pdf"' in did
    kpi = rows[1]
    assert "模擬データ" not in kpi and "令和6年度（FY2024）" in kpi and "C（限定的）" in kpi


def test_failed_run_shows_failure_and_step(page: str):
    failed = _rows(page)[2]
    assert 'data-status="failed"' in failed
    assert "作成失敗" in failed and "止まった箇所: セル7: 効果の推定" in failed
    assert "開始日が観測期間の外にあります" in failed


def test_filters_search_and_links(page: str):
    for control in (
        'id="q"',
        'id="f-template"',
        'id="f-grade"',
        'id="f-synthetic"',
        'id="f-owner"',
        'id="f-area"',
        'id="f-fy"',
        'id="f-recommend"',
        'id="f-status"',
        'id="sort-date"',
    ):
        assert control in page
    assert '<label for="q">' in page
    assert 'data-synthetic="synthetic"' in page and 'data-synthetic="real"' in page
    assert 'href="../data/curated/dictionary.html"' in page
    assert 'href="#register"' in page and 'id="register"' in page
    assert "<svg" in page and "根拠の確かさ別のレポート数" in page
    assert "エビデンスの強さ" not in page and "状態" not in page  # 根拠の確かさ, 作成状況


def test_portal_makes_no_external_reference(page: str):
    # offline: no http(s) URL in src/href, no external script or stylesheet
    assert not re.search(r'(?:src|href)\s*=\s*"(?:https?:)?//', page)
    assert "<link" not in page and not re.search(r"<script[^>]+src=", page)
    assert "@import" not in page and "url(http" not in page


def test_portal_escapes_text_from_result_json(reports: Path):
    path = reports / "its_study" / "20261120-100000-gh78" / "result.json"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "ごみ収集アプリ導入後の問い合わせ件数", "<script>alert(1)</script>"
        ),
        encoding="utf-8",
    )
    page = portal.write_portal(reports).read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_unreadable_result_is_listed_as_failed(reports: Path):
    broken = reports / "did_study" / "20261101-000000-zz99"
    broken.mkdir()
    (broken / "result.json").write_text("{ not json", encoding="utf-8")
    entries = portal.load_entries(reports)
    bad = [e for e in entries if e.run_id == "20261101-000000-zz99"]
    assert bad and bad[0].failed and "result.json を読めません" in bad[0].error_message


def test_empty_reports_folder(tmp_path: Path):
    page = portal.write_portal(tmp_path / "reports").read_text(encoding="utf-8")
    assert "レポートはまだない" in page and "<svg" not in page


def test_write_is_atomic_and_leaves_no_temp_files(reports: Path):
    portal.write_portal(reports)
    portal.write_portal(reports)
    assert not list(reports.glob(".index-*"))


def test_summary_counts(reports: Path):
    s = portal.summary(portal.load_entries(reports))
    assert s == {
        "reports": 4,
        "ok": 3,
        "failed": 1,
        "synthetic": 3,
        "by_grade": {"A": 0, "B": 1, "C": 1, "D": 1},
        "templates": ["did_study", "dx_kpi_dashboard", "its_study"],
        "monitoring": 0,
    }


def test_cli_reports_writes_portal_and_register(reports: Path):
    from ebpm.cli import app
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, ["reports", "--dir", str(reports)])
    assert result.exit_code == 0, result.output
    assert "レポート一覧を作成しました" in result.output and "失敗 1件" in result.output
    assert (reports / "index.html").exists() and (reports / "register.duckdb").exists()


def _visible(html: str) -> str:
    from ebpm.report.lint import visible_text

    return visible_text(html)[0]


def test_rows_carry_owner_area_fiscal_year_recommendation_and_status(page: str):
    did = _rows(page)[0]
    assert 'data-owner="市民部 市民登録課"' in did and 'data-area="行政サービス・窓口"' in did
    assert 'data-fy="2024"' in did and "令和6年度（2024年度）" in did
    assert 'data-recommend="yes"' in did and "未導入の窓口への導入を進める。" in did
    assert 'data-status="確定"' in did and "確定" in _visible(did)
    assert '<option value="市民部 市民登録課">' in page and '<option value="2024">' in page
    # the A–D legend with what each letter means for a decision
    assert "C・限定的" in page and "拡大など大きな判断の前に追加の検証が要る" in page


def test_ids_are_hidden_from_readers(page: str):
    text = _visible(page)
    assert "20261126-141500-ab12" not in text and "実行ID" not in text
    assert "did_study" not in text  # the template's Japanese title or nothing


def test_register_page_groups_versions_of_a_study(reports: Path):
    portal.write_portal(reports)
    register = (reports / "register.html").read_text(encoding="utf-8")
    assert "<h1>エビデンス台帳</h1>" in register
    assert register.count('<section class="study"') == 3  # did_study's two runs are one study
    assert "過去の版 1件" in register and "作成失敗" in register
    assert 'href="did_study/20261126-141500-ab12/index.html"' in register
    assert "問い合わせ先 市民登録課 窓口サービス係" in register
    glossary = (reports / "glossary.html").read_text(encoding="utf-8")
    assert "<h1>用語集</h1>" in glossary and "根拠の確かさ" in glossary
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert 'href="register.html"' in index and 'href="glossary.html"' in index

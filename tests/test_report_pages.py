"""Every template's report as a 部長 reads it: language lint, summary above the first chart in the
browser, PDF page 1 (pdftotext), one grade per report.

Each template is rendered once with its default parameters (conftest ``default_reports``; slow), on
the full build of the project's raw data (conftest ``full_curated``).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from ebpm.report import render
from ebpm.report.lint import lint_html

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = sorted(p.stem for p in (ROOT / "notebooks" / "templates").glob("*.ipynb"))
CHROMIUM = Path(render.CHROMIUM)
# a grade statement: 「C（限定的）」 or the old scale 「C（弱い）」/「エビデンスの強さ」
GRADE_STRING = re.compile(r"[A-D]（(?:確か|おおむね確か|限定的|参考程度|強い|中程度|弱い)）")

# one worker renders the templates once for this module and the study library (conftest)
pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.xdist_group("full_curated")]


@pytest.fixture(scope="module")
def reports(default_reports):
    """``{template: output folder}`` for every template, rendered with defaults and a PDF (conftest)."""
    return default_reports


def _columns(result: dict) -> set[str]:
    """Column names of the catalog tables the report read (raw names must not reach a manager)."""
    names: set[str] = set()
    for src in result["sources"]:
        spec = yaml.safe_load(
            (ROOT / "data" / "catalog" / f"{src['table']}.yml").read_text("utf-8")
        )
        names |= {f["name"] for f in spec["schema"]["fields"]}
    return names


def _read(out: Path) -> tuple[str, dict]:
    html = (out / "index.html").read_text(encoding="utf-8")
    return html, json.loads((out / "result.json").read_text(encoding="utf-8"))


# Open findings, tracked on issues 8 and 14 (strict: the test fails once a template becomes clean,
# so this list can only shrink). Empty: the ITS/RDD signed intervals, the RDD balance table's English
# column names and synth's exponent interval, nested donor brackets and raw `name` column were fixed
# at their cause in lib/ebpm (ebpm.methods._common.change_range, ebpm.studies.tables).
LINT_OPEN: dict[str, str] = {}
LINT_CASES = [
    pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=LINT_OPEN[n]))
    if n in LINT_OPEN
    else n
    for n in TEMPLATES
]


@pytest.mark.parametrize("name", LINT_CASES)
def test_report_passes_the_language_lint(reports, name):
    html, result = _read(reports[name])
    findings = lint_html(html, columns=_columns(result))
    assert not findings, "\n".join(f"{f.rule_ja}: {f.excerpt}" for f in findings)


@pytest.mark.parametrize("name", TEMPLATES)
def test_one_grade_per_report(reports, name):
    html, result = _read(reports[name])
    grades = GRADE_STRING.findall(html)
    assert "エビデンスの強さ" not in html
    if result["evidence_kind"] == "monitoring":
        assert grades == [] and "実績集計（推定なし）" in html
    elif result["grade"] is None:  # a plan (power) carries no grade at all
        assert grades == [], grades
    else:  # causal, and descriptive by the descriptive rule: one letter, in the summary box
        assert len(grades) == 1, grades


@pytest.fixture(scope="module")
def browser():
    """One Chromium for this module's page checks (each check opens its own offline context)."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "/usr/bin/chromium がありません"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=render.CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.mark.parametrize("name", TEMPLATES)
def test_summary_shows_above_the_first_chart(reports, browser, name):
    html, result = _read(reports[name])
    context = browser.new_context(offline=True)
    try:
        page = context.new_page()
        outside: list[str] = []
        page.on(
            "request",
            lambda r: outside.append(r.url) if not r.url.startswith(("file:", "data:")) else 0,
        )
        page.goto((reports[name] / "index.html").as_uri(), wait_until="load")
        summary = page.locator("#summary")
        text = summary.inner_text()
        for word in ("問い", "結論", "推奨・次の一手", "根拠の確かさ", "根拠の確かさの凡例"):
            assert word in text, word
        meta = page.locator(".meta-line").inner_text()
        assert result["meta"]["owner"] in meta and "作成日" in meta and "問い合わせ先" in meta
        first_chart = page.locator("svg").first.bounding_box()
        for selector in (".s-question", ".s-answer", ".s-recommend", ".legend", ".meta-line"):
            box = page.locator(selector).first.bounding_box()
            assert box is not None and box["y"] < first_chart["y"], selector
        assert page.locator("a[href='#glossary']").count() == 1
        assert not outside
    finally:
        context.close()


@pytest.mark.parametrize("name", TEMPLATES)
def test_pdf_page_one_is_the_summary(reports, name):
    assert CHROMIUM.exists() and shutil.which("pdftotext"), "Chromium と pdftotext が必要"
    _, result = _read(reports[name])
    page1 = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", "-layout", str(reports[name] / "report.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    flat = re.sub(r"\s+", "", page1)
    for word in ("問い", "結論", "推奨・次の一手", "根拠の確かさ", "根拠の確かさの凡例", "作成日"):
        assert word in flat, word
    assert re.sub(r"\s+", "", result["meta"]["owner"]) in flat
    assert "1／" in flat and "ページ" in flat  # running footer with page numbers
    assert ("模擬データ" in flat) == bool(result["synthetic"])  # running header and banner
    assert re.sub(r"\s+", "", result["question"]) in flat

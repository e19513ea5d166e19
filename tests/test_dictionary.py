"""The data dictionary: every table and column, provenance, offline (no external requests)."""

from __future__ import annotations

import re

import pytest
from ebpm.data.dictionary import render_dictionary
from ebpm.data.spec import Field, Source, TableSpec


@pytest.fixture
def html():
    spec = TableSpec(
        name="population",
        title="人口",
        file="population.yml",
        sources=[Source(name="p", path="tiny/p.csv", reader="csv")],
        fields=[
            Field(
                name="area_code", type="string", title="団体コード", constraints={"required": True}
            ),
            Field(
                name="population",
                type="integer",
                title="人口",
                unit="人",
                description="<b>1月1日</b>",
            ),
        ],
        synthetic=True,
        primary_key=["area_code"],
        disclosure={"threshold": 10, "count_columns": ["population"]},
        census=True,
        eligibility="population",
    )
    manifest = {
        "build_id": "20261126-000000-abcdef",
        "built_at": "2026-11-26T00:00:00+00:00",
        "code_version": "v0",
        "tables": {
            "population": {
                "rows": 1234,
                "vintage": "2022-01-01",
                "update": "毎年",
                "sources": [
                    {
                        "path": "tiny/p.csv",
                        "title_ja": "テスト",
                        "publisher": "総務省",
                        "licence": "CC BY 4.0",
                        "licence_url": "https://example.org/licence",
                        "attribution": "「テスト」を加工して作成",
                        "retrieved": "2026-11-26",
                        "synthetic": True,
                    }
                ],
                "checks": [
                    {
                        "name": "row_count",
                        "passed": False,
                        "detail": "少なすぎます",
                        "severity": "warn",
                    }
                ],
            }
        },
        "skipped": {"visitors": "原データがありません: x.csv"},
    }
    return render_dictionary(manifest, [spec])


@pytest.mark.parametrize(
    "text",
    [
        "データ定義書",
        "20261126-000000-abcdef",
        "1,234",
        "模擬データ",
        "団体コード",
        "文字列",
        "整数",
        "人口",
        "必須",
        "総務省",
        "CC BY 4.0",
        "「テスト」を加工して作成",
        "2022-01-01",
        "毎年",
        "一次秘匿しきい値 10",
        "注意: row_count",
        "省略したテーブル",
        "全数",
        "標本誤差がない",
        "介入の対象になりうるかの列",
    ],
)
def test_dictionary_shows(html, text):
    assert text in html


def test_dictionary_escapes_and_stays_offline(html):
    assert "<b>1月1日</b>" not in html and "&lt;b&gt;" in html
    # no external resources: no src/href to http(s), no CSS imports or url() fetches
    assert not re.search(r'(src|href)\s*=\s*"https?:', html)
    assert "@import" not in html and "url(" not in html
    assert "Content-Security-Policy" in html


@pytest.mark.browser
def test_dictionary_search_works_offline_in_chromium(tmp_path, monkeypatch):
    """Build the tiny fixture project, open dictionary.html in headless Chromium, use the search box."""
    import importlib
    import shutil
    from pathlib import Path

    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.fail("/usr/bin/chromium がありません（make setup が chromium を入れます）")
    import playwright.sync_api as playwright  # a dependency: missing means broken, never a skip

    fixtures = Path(__file__).parent / "fixtures" / "data"
    shutil.copytree(fixtures / "raw", tmp_path / "raw")
    shutil.copytree(fixtures / "catalog", tmp_path / "catalog")
    monkeypatch.setenv("EBPM_RAW", str(tmp_path / "raw"))
    monkeypatch.setenv("EBPM_CATALOG", str(tmp_path / "catalog"))
    monkeypatch.setenv("EBPM_CURATED", str(tmp_path / "curated"))
    importlib.import_module("ebpm.data.builder").build()
    page_url = (tmp_path / "curated" / "dictionary.html").as_uri()
    requests, errors = [], []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(chromium), args=["--headless", "--no-sandbox"]
        )
        page = browser.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(page_url)
        assert page.locator("section.tbl:visible").count() == 3
        page.fill("#q", "来庁者")
        assert page.inner_text("#count") == "1 / 3 テーブル"
        assert page.locator("section.tbl:visible").count() == 1
        assert page.locator("#toc tbody tr:visible").count() == 1
        browser.close()
    assert [u for u in requests if not u.startswith("file://")] == []
    assert errors == []

"""The data dictionary: every table and column, provenance, offline (no external requests)."""

from __future__ import annotations

import re

import pytest
from ebpm.catalog import Field, Source, TableSpec
from ebpm.dictionary import render_dictionary


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

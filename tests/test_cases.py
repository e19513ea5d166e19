"""The case library: the seed is the shared file unchanged, records validate, badges, result directions."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml
from ebpm.cases.library import DIRECTIONS, load_cases, own_case, validate_cases
from ebpm.cli import app
from ebpm.ingest.yamlfile import SchemaError, parse_yaml
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "data" / "cases" / "cases.yml"


def test_seed_is_the_shared_file_byte_for_byte():
    source = yaml.safe_load((ROOT / "data" / "cases" / "SOURCE.yml").read_text(encoding="utf-8"))
    recorded = source["files"][0]["sha256"]
    assert hashlib.sha256(SEED.read_bytes()).hexdigest() == recorded
    shared = ROOT.parent / "shared" / "data" / "cases" / "cases.yml"
    if shared.exists():  # in a checkout next to the shared material: still identical
        assert shared.read_bytes() == SEED.read_bytes()


def test_every_figure_source_and_null_is_kept():
    raw = yaml.safe_load(SEED.read_text(encoding="utf-8"))["cases"]
    cases = {c.id: c for c in load_cases()}
    assert len(cases) == 30 == len(raw)
    for r in raw:
        c = cases[r["id"]]
        assert c.numbers == r["numbers"] and c.sources == r["sources"] and c.caveats == r["caveats"]
        assert c.headline_result == r["headline_result"] and c.significance == r["significance"]
        assert c.sample == r["sample"] and c.design == r["design"]
    assert cases["jp-ebpm-005"].headline_result is None  # null stays null (status partial)
    assert cases["jp-ebpm-013"].design is None


def test_every_case_has_a_direction_level_and_verification():
    cases = load_cases()
    assert {c.direction for c in cases} <= set(DIRECTIONS)
    assert {c.level for c in cases} <= {"市区町村", "都道府県", "国", "複数の団体"}
    assert all(c.status_ja and c.sources for c in cases)
    did = [c.id for c in cases if c.design == "did"]
    assert did == ["jp-ebpm-018", "jp-ebpm-020", "jp-ebpm-021", "jp-ebpm-022"]


def test_secondary_sources_are_badged():
    cases = {c.id: c for c in load_cases()}
    # jp-ebpm-001 rests on a book review, a vendor page, a press release and a case repository
    assert cases["jp-ebpm-001"].source_badge == "二次資料を含む"
    only = [c for c in cases.values() if c.source_badge == "二次資料のみ"]
    assert only and all(
        all(
            "secondary" in s["kind"]
            or "news" in s["kind"]
            or "blog" in s["kind"]
            or "repost" in s["kind"]
            or "aggregator" in s["kind"]
            or "digest" in s["kind"]
            or "glossary" in s["kind"]
            for s in c.sources
        )
        for c in only
    )


BAD = """\
cases:
- id: x-1
  status: verified
  title_ja: 見本
  body: 市
  body_level: municipal
  years: "2024"
  policy_area: 保健
  question: 問い
  intervention: 取組
  outcome_indicators: [率]
  design: guess
  headline_result: null
  numbers: []
  caveats: []
  sources:
    - {title: 出典, url: ftp://example, kind: news}
"""


def test_bad_case_names_line_and_field():
    with pytest.raises(SchemaError) as info:
        validate_cases(parse_yaml(BAD, file="data/cases/bad.yml"))
    err = info.value
    assert err.line == 12 and err.field_name == "cases[1].design", str(err)
    assert "17行目・cases[1].sources[1].url" in str(err)


def test_own_case_direction_from_the_interval():
    result = {
        "title": "t",
        "headline": "did",
        "answer": "短くなった",
        "results": {"did": {"estimate": -4.2, "ci": [-5.6, -2.9], "unit": "分"}},
        "synthetic": True,
    }
    case = own_case(
        {
            "slug": "s",
            "plan": {"design": "did", "question": "q"},
            "result": result,
            "report_link": "r/index.html",
            "plan_link": "studies/s.html",
        }
    )
    assert case.direction == "効果あり" and case.own and case.design == "did"
    assert case.caveats[0].startswith("模擬データ")
    result["results"]["did"]["ci"] = [-1.0, 0.5]
    assert own_case({"slug": "s", "plan": {}, "result": result}).direction == "効果なし"


def test_cli_lists_and_filters(tmp_path, monkeypatch):
    monkeypatch.setenv("EBPM_REPORTS", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "240")
    out = CliRunner().invoke(app, ["cases", "--design", "rdd"])
    assert out.exit_code == 0, out.output
    assert "jp-ebpm-010" in out.output and "jp-ebpm-001" not in out.output
    assert "事例 30 件" in out.output

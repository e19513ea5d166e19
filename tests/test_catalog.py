"""Catalog entries: validation with Japanese errors, build order, helpers; every shipped entry parses."""

from __future__ import annotations

import codecs
import shutil
from pathlib import Path

import pytest
import yaml
from ebpm.data.dictionary import constraint_text
from ebpm.data.spec import load_catalog, load_table, order_tables, source_problems
from ebpm.data.staging import detect_encoding
from ebpm.errors import BuildError

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "data"

GOOD = {
    "name": "t",
    "title": "表",
    "sources": [{"name": "s", "path": "src/a.csv", "reader": "csv"}],
    "schema": {"fields": [{"name": "a", "type": "integer"}], "primaryKey": ["a"]},
}


def write(tmp_path: Path, doc: dict, name: str = "t") -> Path:
    file = tmp_path / f"{name}.yml"
    file.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return file


def test_good_entry_parses(tmp_path):
    spec = load_table(write(tmp_path, GOOD))
    assert spec.name == "t" and spec.field("a").duckdb_type == "BIGINT"
    assert spec.missing_values == [""]  # Frictionless default


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"name": "T-1"}, "name は英小文字"),
        ({"name": "other"}, "ファイル名「t」と同じ"),
        ({"title": ""}, "title（日本語の表題）が必要"),
        ({"colour": 1}, "未知のキー"),
        ({"sources": []}, "sources が空"),
        (
            {"sources": [{"name": "s", "path": "a.csv", "reader": "pdf"}]},
            "reader「pdf」は使えません",
        ),
        ({"sources": [{"name": "s", "path": "../etc/passwd"}]}, "data/raw からの相対パス"),
        ({"schema": {"fields": [{"name": "a", "type": "money"}]}}, "型「money」は使えません"),
        ({"schema": {"fields": [{"name": "a", "constraints": {"between": 1}}]}}, "未知の制約"),
        (
            {"schema": {"fields": [{"name": "a", "constraints": {"pattern": "("}}]}},
            "正規表現として不正",
        ),
        ({"schema": {"fields": [{"name": "a"}], "primaryKey": ["b"]}}, "primaryKey の列"),
        ({"schema": {"fields": [{"name": "a"}, {"name": "a"}]}}, "name が重複"),
        (
            {"schema": {"fields": [{"name": "a"}], "foreignKeys": [{"fields": ["a"]}]}},
            "foreignKeys には",
        ),
        ({"checks": [{"type": "magic"}]}, "チェックの種類「magic」"),
        ({"checks": [{"type": "sql"}]}, "sql チェックには query"),
        ({"eligibility": "b"}, "eligibility の列「b」が schema.fields にありません"),
        (
            {"eligibility": "s", "schema": {"fields": [{"name": "s", "type": "string"}]}},
            "boolean か 0/1 の integer",
        ),
    ],
)
def test_malformed_entries_are_refused_in_japanese(tmp_path, change, words):
    with pytest.raises(BuildError) as info:
        load_table(write(tmp_path, {**GOOD, **change}))
    assert words in str(info.value)
    assert "t.yml" in str(info.value)


def test_census_and_eligibility_flags_parse(tmp_path):
    spec = load_table(write(tmp_path, {**GOOD, "census": True, "eligibility": "a"}))
    assert spec.census is True and spec.eligibility == "a"
    plain = load_table(write(tmp_path, GOOD))
    assert plain.census is False and plain.eligibility == ""
    shipped = {s.name: s for s in load_catalog(ROOT / "data" / "catalog")}
    assert shipped["procedure"].eligibility == "online_legally_possible"
    assert shipped["census_population"].census and shipped["resident_population"].census
    assert not shipped["citizen_survey"].census  # a sample survey: CIs stay


def test_broken_yaml_names_the_line(tmp_path):
    file = tmp_path / "t.yml"
    file.write_text("name: t\ntitle: [unclosed\n", encoding="utf-8")
    with pytest.raises(BuildError, match="YAML として読めません") as info:
        load_table(file)
    assert info.value.row is not None


def _spec(tmp_path, name, refs=(), depends=()):
    doc = {**GOOD, "name": name}
    doc["schema"] = {
        "fields": [{"name": "a"}],
        "foreignKeys": [
            {"fields": ["a"], "reference": {"resource": r, "fields": ["a"]}} for r in refs
        ],
    }
    if depends:
        doc["depends_on"] = list(depends)
    return load_table(write(tmp_path, doc, name))


def test_referenced_tables_are_built_first(tmp_path):
    specs = {
        "c": _spec(tmp_path, "c", refs=["b"]),
        "b": _spec(tmp_path, "b", depends=["a"]),
        "a": _spec(tmp_path, "a"),
        "z": _spec(tmp_path, "z"),
    }
    assert [s.name for s in order_tables(specs)] == ["a", "b", "c", "z"]


def test_reference_cycle_is_refused(tmp_path):
    specs = {"a": _spec(tmp_path, "a", refs=["b"]), "b": _spec(tmp_path, "b", refs=["a"])}
    with pytest.raises(BuildError, match="循環"):
        order_tables(specs)


def test_source_name_must_not_hide_a_table(tmp_path):
    write(tmp_path, {**GOOD, "name": "a", "sources": [{"name": "b", "path": "s/x.csv"}]}, "a")
    write(tmp_path, {**GOOD, "name": "b"}, "b")
    with pytest.raises(BuildError, match="source 名「b」がテーブル名と同じ"):
        load_catalog(tmp_path)


def test_every_shipped_catalog_entry_parses():
    specs = load_catalog(ROOT / "data" / "catalog")
    names = {s.name for s in specs}
    required = {
        "municipality",
        "census_population",
        "resident_population",
        "population_by_age",
        "town",
        "shelter",
        "census_2020_prelim",
    }
    assert required <= names
    for spec in specs:
        assert spec.title and all(f.title for f in spec.fields), spec.name


@pytest.mark.parametrize(
    ("constraints", "text"),
    [
        ({"required": True}, "必須"),
        ({"required": True, "minimum": 0}, "必須・最小 0"),
        ({"unique": False, "maximum": 5}, "最大 5"),
        ({"enum": ["a", "b"]}, "値: a、b"),
        ({"pattern": r"^\d{5}$"}, r"形式 ^\d{5}$"),
        ({}, ""),
    ],
)
def test_constraint_text(constraints, text):
    assert constraint_text(constraints) == text


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("a,b\n1,盛岡\n".encode(), "utf-8"),
        (codecs.BOM_UTF8 + "a,b\n1,盛岡\n".encode(), "utf-8-sig"),
        ("a,b\n1,盛岡\n".encode("utf-16"), "utf-16"),
        ("a,b\n1,盛岡市中央通１丁目\n".encode("cp932"), "cp932"),
        (b"a,b\n1,2\n", "utf-8"),
    ],
)
def test_detect_encoding(tmp_path, data, encoding):
    file = tmp_path / "f.csv"
    file.write_bytes(data)
    assert detect_encoding(file) == encoding


def test_source_problems_lists_unlisted_and_changed_files(tmp_path):
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "a.csv").write_text("x\n1\n", encoding="utf-8")
    (folder / "b.csv").write_text("x\n2\n", encoding="utf-8")
    (folder / "README.md").write_text("説明\n", encoding="utf-8")
    (folder / "SOURCE.yml").write_text(
        yaml.safe_dump({"source": "src", "files": [{"path": "a.csv", "sha256": "0" * 64}]}),
        encoding="utf-8",
    )
    problems = source_problems(folder)
    assert "「a.csv」の sha256 が SOURCE.yml と一致しません。" in problems
    assert "「b.csv」が SOURCE.yml の files にありません。" in problems
    assert "必須キー「licence」がありません。" in problems
    assert not any("README.md" in p for p in problems)


def test_fixture_source_is_complete():
    assert [p for p in source_problems(FIXTURES / "raw" / "tiny_city") if "sha256" not in p] == []


# --- strict validation: unknown keys anywhere, with the line and a did-you-mean ---------------


@pytest.mark.parametrize(
    ("fixture", "line", "words"),
    [
        (
            "primarykey_typo",
            8,
            ["未知のキー「primarykey」", "「primaryKey」の誤りではありませんか"],
        ),
        ("constraint_singular", 10, ["未知のキー「constraint」", "「constraints」の誤り"]),
        (
            "row_count_minimum",
            9,
            ["未知のキー「minimum」", "「min」の誤り", "未知のキー「maximum」"],
        ),
    ],
)
def test_misspelt_keys_are_refused_with_line_and_suggestion(fixture, line, words):
    with pytest.raises(BuildError) as info:
        load_table(FIXTURES / "bad_catalog" / f"{fixture}.yml")
    err = info.value
    assert err.row == line
    assert err.file == f"tests/fixtures/data/bad_catalog/{fixture}.yml"  # relative, not absolute
    for w in words:
        assert w in str(err)


def test_row_count_needs_bounds(tmp_path):
    with pytest.raises(BuildError, match="row_count には min か max"):
        load_table(write(tmp_path, {**GOOD, "checks": [{"type": "row_count"}]}))


def test_unknown_option_of_a_reader_is_refused(tmp_path):
    doc = {**GOOD, "sources": [{"name": "s", "path": "a/b.csv", "options": {"encodng": "cp932"}}]}
    with pytest.raises(BuildError, match="「encoding」の誤り"):
        load_table(write(tmp_path, doc))


def test_source_yml_without_licence_is_refused_by_the_build(project):
    from ebpm.data.builder import build

    shutil.copy(FIXTURES / "bad_source" / "no_licence.yml", project / "raw/tiny_city/SOURCE.yml")
    with pytest.raises(BuildError, match="licence") as info:
        build()
    assert info.value.file.endswith("tiny_city/SOURCE.yml")
    assert not (project / "curated" / "ebpm.duckdb").exists()
    assert any("licence" in p for p in source_problems(project / "raw" / "tiny_city"))


def test_source_file_without_sha256_is_refused(tmp_path):
    from ebpm.data.spec import load_source

    folder = tmp_path / "src"
    folder.mkdir()
    meta = yaml.safe_load((FIXTURES / "raw/tiny_city/SOURCE.yml").read_text(encoding="utf-8"))
    meta["source"] = "src"
    meta["files"] = [{"path": "a.csv"}]
    (folder / "SOURCE.yml").write_text(yaml.safe_dump(meta, allow_unicode=True), encoding="utf-8")
    with pytest.raises(BuildError, match="sha256"):
        load_source(folder, strict=True)

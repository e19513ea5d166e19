"""The steward's loop: `build --check/--keep-going/--only`, history and `ebpm diff`, freshness, validation.html, `source add`."""

from __future__ import annotations

import hashlib
import importlib
import json
from pathlib import Path

import pytest
import yaml
from ebpm.cli import app
from ebpm.errors import BuildError, ParameterError
from typer.testing import CliRunner

build_mod = importlib.import_module("ebpm.data.builder")
runner = CliRunner()


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(curated: Path) -> dict[str, str]:
    return {
        p.name: sha(p)
        for p in sorted(curated.iterdir())
        if p.is_file() and p.name != build_mod.LOCK_NAME
    }


def add_population_row(project: Path) -> None:
    """Append a row to population.csv and record the new sha256 in SOURCE.yml (a steward's update)."""
    csv_file = project / "raw" / "tiny_city" / "population.csv"
    with open(csv_file, "a", encoding="utf-8") as fh:
        fh.write("03216,2015,55000,\n")
    src = project / "raw" / "tiny_city" / "SOURCE.yml"
    meta = yaml.safe_load(src.read_text(encoding="utf-8"))
    for entry in meta["files"]:
        if entry["path"] == "population.csv":
            entry["sha256"] = sha(csv_file)
    src.write_text(yaml.safe_dump(meta, allow_unicode=True), encoding="utf-8")


def append(project: Path, table: str, text: str) -> None:
    file = project / "catalog" / f"{table}.yml"
    file.write_text(file.read_text(encoding="utf-8") + text, encoding="utf-8")


@pytest.fixture
def built(project):
    manifest = build_mod.build()
    return project, manifest


def test_check_runs_everything_and_swaps_nothing(built):
    project, first = built
    curated = project / "curated"
    before = snapshot(curated)
    add_population_row(project)
    result = build_mod.build(check=True)
    assert result["mode"] == "check" and result["tables"]["population"]["rows"] == 5
    assert snapshot(curated) == before  # database, manifest, dictionary: byte-identical
    assert [p.stem for p in (curated / "history").glob("*.json")] == [first["build_id"]]
    # a failing check is still reported in check mode
    point = project / "catalog" / "population.yml"
    point.write_text(
        point.read_text(encoding="utf-8").replace("expect: 289731", "expect: 1"), encoding="utf-8"
    )
    with pytest.raises(BuildError, match="morioka_2020"):
        build_mod.build(check=True)
    assert snapshot(curated) == before


def test_keep_going_reports_every_failing_table(built):
    project, _ = built
    before = snapshot(project / "curated")
    spec = yaml.safe_load((project / "catalog/population.yml").read_text(encoding="utf-8"))
    spec["sources"][0]["path"] = "tiny_city/bad/duplicate_key.csv"
    (project / "catalog/population.yml").write_text(
        yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8"
    )
    append(project, "visitors", "checks:\n  - {type: row_count, min: 100}\n")
    with pytest.raises(build_mod.BuildFailures) as info:
        build_mod.build(keep_going=True)
    assert sorted(e.table for e in info.value.failures) == ["population", "visitors"]
    assert "2個のテーブル" in str(info.value)
    assert snapshot(project / "curated") == before
    with pytest.raises(BuildError) as single:  # without --keep-going: stops at the first
        build_mod.build()
    assert not isinstance(single.value, build_mod.BuildFailures)


def test_only_rebuilds_the_table_and_its_dependencies(built):
    project, first = built
    add_population_row(project)
    # visitors would now fail: --only population must not touch it
    append(project, "visitors", "checks:\n  - {type: row_count, min: 100}\n")
    manifest = build_mod.build(only=["population"])
    assert manifest["only"] == ["area", "population"]
    assert manifest["tables"]["population"]["rows"] == 5
    assert manifest["tables"]["visitors"] == first["tables"]["visitors"]
    import duckdb

    con = duckdb.connect(str(project / "curated" / "ebpm.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM visitors").fetchall() == [(2,)]
        assert con.execute("SELECT count(*) FROM population").fetchall() == [(5,)]
        assert con.execute("SELECT count(*) FROM _ebpm_tables").fetchall() == [(3,)]
    finally:
        con.close()
    with pytest.raises(ParameterError, match="近い名前: population"):
        build_mod.build(only=["populaton"])


def test_only_rebuilds_and_checks_the_tables_that_reference_it(built):
    """--only area also rebuilds population and visitors (their foreign keys point at area): a code
    removed from area fails population's check, and nothing is swapped."""
    project, first = built
    before = snapshot(project / "curated")
    areas = project / "raw" / "tiny_city" / "areas.csv"
    areas.write_text("code5,name\n03000,岩手県\n03201,盛岡市\n", encoding="utf-8")  # 03216 gone
    src = project / "raw" / "tiny_city" / "SOURCE.yml"
    meta = yaml.safe_load(src.read_text(encoding="utf-8"))
    for entry in meta["files"]:
        if entry["path"] == "areas.csv":
            entry["sha256"] = sha(areas)
    src.write_text(yaml.safe_dump(meta, allow_unicode=True), encoding="utf-8")
    specs = build_mod.load_catalog(project / "catalog")
    assert build_mod.dependents(specs, {"area"}) == {"population", "visitors"}
    assert build_mod.dependents(specs, {"population"}) == set()
    with pytest.raises(BuildError) as info:
        build_mod.build(only=["area"])
    assert info.value.table == "population" and "03216" in str(info.value)
    assert snapshot(project / "curated") == before
    # with the code back, --only area rebuilds area and the two tables that reference it
    areas.write_text("code5,name\n03000,岩手県\n03201,盛岡市\n03216,滝沢市\n", encoding="utf-8")
    for entry in meta["files"]:
        if entry["path"] == "areas.csv":
            entry["sha256"] = sha(areas)
    src.write_text(yaml.safe_dump(meta, allow_unicode=True), encoding="utf-8")
    manifest = build_mod.build(only=["area"])
    assert manifest["only"] == ["area", "population", "visitors"]
    assert manifest["only_dependents"] == ["population", "visitors"]
    assert manifest["tables"]["visitors"]["rows"] == first["tables"]["visitors"]["rows"]


def test_history_and_diff_list_a_changed_row_count(built):
    project, first = built
    add_population_row(project)
    result = runner.invoke(app, ["build", "-q"])
    assert result.exit_code == 0, result.output
    assert "行数 population: 4 → 5（+1）" in result.output  # printed by the build itself
    assert "原データが変わりました: tiny_city/population.csv" in result.output
    from ebpm.data.history import build_ids

    # oldest first by the previous_build_id chain (two builds may share a second)
    history = build_ids()
    assert len(history) == 2 and history[0] == first["build_id"]
    diff = runner.invoke(app, ["diff"])
    assert diff.exit_code == 0, diff.output
    assert "行数 population: 4 → 5（+1）" in diff.output
    explicit = runner.invoke(app, ["diff", first["build_id"], history[1]])
    assert "行数 population: 4 → 5（+1）" in explicit.output
    # A prefix names a build when it is unique; two builds in one JST second share the
    # 15-character time prefix, and then the CLI asks for more instead of guessing.
    by_time = runner.invoke(app, ["diff", first["build_id"][:15], history[1]])
    if history[1][:15] == first["build_id"][:15]:
        assert by_time.exit_code != 0
        assert "1つに決められません" in str(by_time.exception or by_time.output)
    else:
        assert "行数 population: 4 → 5（+1）" in by_time.output


def test_build_id_is_japan_time(built):
    _, manifest = built
    assert manifest["built_at"].endswith("+09:00")


def _make_area_overdue(project) -> None:
    """Give the area table an update due date that has passed (2025-10-01)."""
    file = project / "catalog" / "area.yml"
    file.write_text(
        file.read_text(encoding="utf-8").replace(
            "freshness: {vintage: '2020-10-01'}",
            "freshness: {vintage: '2020-10-01', update: 5年ごと, next_due: '2025-10-01'}",
        ),
        encoding="utf-8",
    )


def test_stale_table_is_flagged_in_catalog_dictionary_and_report_sources(project):
    append(project, "area", "")
    _make_area_overdue(project)
    manifest = build_mod.build()
    assert manifest["tables"]["area"]["next_due"] == "2025-10-01"
    result = runner.invoke(app, ["catalog", "--stale"])
    assert result.exit_code == 0
    assert "area: 更新予定日 2025-10-01 を過ぎています" in result.output
    assert "population" not in result.output
    html = (project / "curated" / "dictionary.html").read_text(encoding="utf-8")
    assert "鮮度の注意: 更新予定日 2025-10-01" in html
    from ebpm.report import provenance

    rows = {s["table"]: s for s in provenance.sources(["area", "population"], manifest)}
    assert "2025-10-01" in rows["area"]["stale"] and rows["population"]["stale"] is None


def test_stale_warning_appears_in_a_report_using_the_stale_table(project, tmp_path):
    """The rendered report (HTML) of a notebook that read a stale table says so in its sources."""
    import nbformat
    from ebpm.report.runner import render_notebook

    _make_area_overdue(project)
    build_mod.build()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("地域の一覧")]
    nb.metadata["ebpm"] = {
        "records": [
            {"name": "title", "value": "地域の確認"},
            {"name": "answer", "value": "地域は3つです。"},
            {"name": "_tables", "value": ["area"]},
        ]
    }
    path = tmp_path / "used_area.ipynb"
    nbformat.write(nb, path)
    outcome = render_notebook(path, out=tmp_path / "out", pdf=False, register=False)
    html = (Path(outcome.out_dir) / "index.html").read_text(encoding="utf-8")
    assert "鮮度の注意" in html and "2025-10-01" in html


def test_validation_report_lists_every_check_and_is_linked(built):
    project, manifest = built
    html = (project / "curated" / "validation.html").read_text(encoding="utf-8")
    for name, info in manifest["tables"].items():
        assert f'id="{name}"' in html
        for chk in info["checks"]:
            assert chk["name"] in html
    assert "validation.html" in (project / "curated" / "dictionary.html").read_text(
        encoding="utf-8"
    )


def test_catalog_check_and_source_add(project):
    ok = runner.invoke(app, ["catalog", "check"])
    assert ok.exit_code == 0 and "問題はありません" in ok.output
    new = project / "raw" / "tiny_city" / "extra.csv"
    new.write_text("a\n1\n", encoding="utf-8")
    added = runner.invoke(app, ["source", "add", str(new)])
    assert added.exit_code == 0, added.output
    meta = yaml.safe_load((project / "raw/tiny_city/SOURCE.yml").read_text(encoding="utf-8"))
    [entry] = [e for e in meta["files"] if e["path"] == "extra.csv"]
    assert entry["sha256"] == sha(new) and entry["bytes"] == 4
    again = runner.invoke(app, ["source", "add", str(new)])
    assert again.exit_code != 0


def test_manifest_is_json_serialisable_with_examples(built):
    project, _ = built
    data = json.loads((project / "curated" / "manifest.json").read_text(encoding="utf-8"))
    assert all("example" in c for t in data["tables"].values() for c in t["checks"])

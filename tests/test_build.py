"""`ebpm build`: checks, Japanese errors that name table/column/file/row, atomic swap, kill safety."""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ebpm.data.spec import load_table
from ebpm.errors import BuildError, CheckError, IngestError

build_mod = importlib.import_module("ebpm.data.builder")  # module of the lazy function `ebpm.build`


def point_population_at(project: Path, rel: str) -> None:
    """Rewrite the population catalog entry to read another fixture file."""
    file = project / "catalog" / "population.yml"
    spec = yaml.safe_load(file.read_text(encoding="utf-8"))
    spec["sources"][0]["path"] = rel
    file.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")


def add_population_row(project: Path) -> None:
    """Append a row to population.csv and record its new sha256 (the steward's update)."""
    csv_file = project / "raw" / "tiny_city" / "population.csv"
    with open(csv_file, "a", encoding="utf-8") as fh:
        fh.write("03216,2015,55000,\n")
    rehash(project, "population.csv")


def rehash(project: Path, rel: str) -> None:
    """Record the current sha256 of tiny_city/<rel> in its SOURCE.yml."""
    src = project / "raw" / "tiny_city" / "SOURCE.yml"
    meta = yaml.safe_load(src.read_text(encoding="utf-8"))
    for entry in meta["files"]:
        if entry["path"] == rel:
            entry["sha256"] = sha(project / "raw" / "tiny_city" / rel)
    src.write_text(yaml.safe_dump(meta, allow_unicode=True), encoding="utf-8")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(curated: Path) -> dict[str, str]:
    """sha256 of every file the build publishes (database, manifest, dictionary)."""
    return {
        name: sha(curated / name)
        for name in ("ebpm.duckdb", "manifest.json", "dictionary.html")
        if (curated / name).exists()
    }


@pytest.fixture
def built(project):
    manifest = build_mod.build()
    return project, manifest


def test_build_writes_database_manifest_and_dictionary(built):
    project, manifest = built
    curated = project / "curated"
    on_disk = json.loads((curated / "manifest.json").read_text(encoding="utf-8"))
    assert on_disk["build_id"] == manifest["build_id"]
    assert on_disk["tables"]["population"]["rows"] == 4
    assert on_disk["tables"]["area"]["rows"] == 3
    assert set(on_disk["inputs"]) == {
        "tiny_city/areas.csv",
        "tiny_city/population.csv",
        "tiny_city/visitors_cp932.csv",
    }
    assert on_disk["inputs"]["tiny_city/areas.csv"] == sha(project / "raw/tiny_city/areas.csv")
    checks = {c["name"]: c for c in on_disk["tables"]["population"]["checks"]}
    assert checks["morioka_2020"]["passed"]
    assert checks["primary_key"]["passed"]
    assert "foreign_key:area_code→area" in checks
    src = on_disk["tables"]["population"]["sources"][0]
    assert src["licence"] == "CC0 1.0" and src["attribution"] == "テスト用データ（ebpm）"
    html = (curated / "dictionary.html").read_text(encoding="utf-8")
    assert "データ定義書" in html and manifest["build_id"] in html and "来庁者数" in html
    # no leftovers from the build
    assert not list(curated.glob(".ebpm-build-*"))


def test_missing_values_become_null_and_types_are_cast(built):
    import duckdb

    project, _ = built
    con = duckdb.connect(str(project / "curated" / "ebpm.duckdb"), read_only=True)
    try:
        rows = con.execute(
            "SELECT area_code, year, population, note FROM population ORDER BY area_code, year"
        ).fetchall()
        types = dict(
            con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'population'"
            ).fetchall()
        )
        visitors = con.execute("SELECT name, visitors FROM visitors ORDER BY area_code").fetchall()
        meta = con.execute(
            "SELECT count(*) FROM _ebpm_columns WHERE table_name = 'population'"
        ).fetchall()
    finally:
        con.close()
    assert rows[0] == ("03000", 2020, 1210534, None)  # leading zero kept: codes are read as text
    assert rows[-1] == ("03216", 2020, None, "-")  # "-" is NULL with the symbol kept as the reason
    assert types == {
        "area_code": "VARCHAR",
        "year": "INTEGER",
        "population": "BIGINT",
        "note": "VARCHAR",
    }
    assert visitors == [("盛岡市中央通１丁目", 120), ("滝沢市鵜飼", 45)]  # CP932 decoded
    assert meta == [(4,)]


# --- bad input: a clear Japanese error, and nothing published changes -------------------------

BAD_INPUTS = [
    # (fixture file, error class, column named, row named, words in the message)
    ("tiny_city/bad/duplicate_key.csv", CheckError, "area_code,year", 4, "2回"),
    ("tiny_city/bad/unknown_code.csv", CheckError, "area_code", 3, "99999"),
    (
        "tiny_city/bad/missing_column.csv",
        BuildError,
        "population",
        None,
        "列「population」がありません",
    ),
    ("tiny_city/bad/truncated.csv", IngestError, None, 3, "列の数"),
    ("tiny_city/bad/not_a_number.csv", BuildError, "population", 3, "五万"),
]


@pytest.mark.parametrize("typed_read", [False, True], ids=["text_then_cast", "typed_read"])
@pytest.mark.parametrize(("rel", "error", "column", "row", "words"), BAD_INPUTS)
def test_bad_input_leaves_previous_snapshot_untouched(
    built, rel, error, column, row, words, typed_read
):
    project, manifest = built
    before = snapshot(project / "curated")
    point_population_at(project, rel)
    file = project / "catalog" / "population.yml"
    if typed_read:  # without field-level missingValues the build lets DuckDB parse the types
        spec = yaml.safe_load(file.read_text(encoding="utf-8"))
        for field in spec["schema"]["fields"]:
            field.pop("missingValues", None)
        file.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    assert build_mod._Builder._fast_path(None, load_table(file)) is typed_read
    with pytest.raises(error) as info:
        build_mod.build()
    err = info.value
    assert err.table == "population"
    assert err.file == rel
    assert err.column == column
    assert err.row == row
    assert words in str(err)
    assert "テーブル「population」" in str(err)
    assert snapshot(project / "curated") == before
    assert not list((project / "curated").glob(".ebpm-build-*"))


def test_changed_raw_file_is_refused(built):
    project, _ = built
    before = snapshot(project / "curated")
    src = project / "raw" / "tiny_city" / "SOURCE.yml"
    meta = yaml.safe_load(src.read_text(encoding="utf-8"))
    meta["files"][1]["sha256"] = sha(project / "raw" / "tiny_city" / "population.csv")
    src.write_text(yaml.safe_dump(meta, allow_unicode=True), encoding="utf-8")
    build_mod.build()  # hashes agree: fine
    before = snapshot(project / "curated")
    with open(project / "raw" / "tiny_city" / "population.csv", "rb+") as fh:
        fh.truncate(60)  # the file is cut short after it was registered
    with pytest.raises(BuildError, match="sha256 が SOURCE.yml と一致しません") as info:
        build_mod.build()
    assert info.value.file == "tiny_city/population.csv"
    recorded = sha(Path(__file__).parent / "fixtures/data/raw/tiny_city/population.csv")
    actual = sha(project / "raw" / "tiny_city" / "population.csv")
    message = str(info.value)
    assert f"記録: {recorded}" in message and f"実際: {actual}・60バイト" in message
    assert "このファイルを使うテーブル: population" in message
    assert snapshot(project / "curated") == before


def test_missing_source_is_an_error_unless_optional(project):
    (project / "raw" / "tiny_city" / "visitors_cp932.csv").unlink()
    with pytest.raises(BuildError, match="原データのファイルがありません") as info:
        build_mod.build()
    assert info.value.file == "tiny_city/visitors_cp932.csv" and info.value.table == "visitors"
    assert not (project / "curated" / "ebpm.duckdb").exists()
    file = project / "catalog" / "visitors.yml"
    file.write_text(file.read_text(encoding="utf-8") + "optional: true\n", encoding="utf-8")
    manifest = build_mod.build()
    assert "visitors" in manifest["skipped"] and "visitors" not in manifest["tables"]


def test_failed_check_names_the_check(built):
    project, _ = built
    file = project / "catalog" / "population.yml"
    text = file.read_text(encoding="utf-8").replace("expect: 289731", "expect: 1")
    file.write_text(text, encoding="utf-8")
    with pytest.raises(CheckError, match="morioka_2020.*期待値 1 に対して 289731"):
        build_mod.build()


def test_warn_checks_are_recorded_not_fatal(built):
    project, _ = built
    file = project / "catalog" / "area.yml"
    file.write_text(
        file.read_text(encoding="utf-8")
        + "checks:\n  - {type: row_count, min: 100, severity: warn}\n",
        encoding="utf-8",
    )
    manifest = build_mod.build()
    [chk] = [c for c in manifest["tables"]["area"]["checks"] if c["name"] == "row_count"]
    assert chk["passed"] is False and chk["severity"] == "warn"


def test_readers_keep_reading_during_and_after_a_build(built):
    from ebpm.data import access as data

    project, first = built
    held = data.connect()
    assert held.execute("SELECT count(*) FROM population").fetchall() == [(4,)]
    add_population_row(project)
    second = build_mod.build()
    assert second["build_id"] != first["build_id"]
    # the connection opened before the swap still reads its own snapshot (old inode)
    assert held.execute("SELECT count(*) FROM population").fetchall() == [(4,)]
    held.close()
    assert len(data.load("population")) == 5  # new readers see the new snapshot
    assert data.build_info()["build_id"] == second["build_id"]


def test_one_build_at_a_time(built):
    import fcntl

    project, _ = built
    with open(project / "curated" / build_mod.LOCK_NAME, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(BuildError, match="別のデータ構築"):
            build_mod.build()


# --- SIGKILL at each stage -------------------------------------------------------------------


def _kill_at(stage: str, env: dict[str, str]) -> None:
    env = {**env, build_mod.PAUSE_ENV: stage, build_mod.PAUSE_SECONDS_ENV: "60"}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from ebpm.cli import main; main()", "build", "-q"],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        for (
            line
        ) in proc.stderr:  # the build's own readiness line; it ends the loop or the build ends
            if line.startswith(f"EBPM_BUILD_PAUSED {stage}"):
                break
        else:
            pytest.fail(f"build ended before reaching {stage}")
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL


def _assert_consistent(curated: Path) -> dict:
    """The live database opens read-only and agrees with manifest.json (build id and row counts)."""
    import duckdb

    manifest = json.loads((curated / "manifest.json").read_text(encoding="utf-8"))
    con = duckdb.connect(":memory:")
    con.execute(f"ATTACH '{curated / 'ebpm.duckdb'}' AS s (READ_ONLY)")
    try:
        assert con.execute("SELECT build_id FROM s._ebpm_build").fetchall() == [
            (manifest["build_id"],)
        ]
        for name, info in manifest["tables"].items():
            assert con.execute(f'SELECT count(*) FROM s."{name}"').fetchall() == [(info["rows"],)]
    finally:
        con.close()
    return manifest


@pytest.mark.parametrize(
    "stage",
    [
        "before_swap",
        pytest.param("catalog", marks=pytest.mark.slow),
        pytest.param("table", marks=pytest.mark.slow),
        pytest.param("metadata", marks=pytest.mark.slow),
    ],
)
def test_sigkill_before_the_swap_changes_nothing(built, stage):
    project, first = built
    curated = project / "curated"
    add_population_row(project)  # the killed build would have published 5 rows
    before = snapshot(curated)
    _kill_at(stage, dict(os.environ))
    assert snapshot(curated) == before
    assert _assert_consistent(curated)["build_id"] == first["build_id"]
    # the next build cleans up after the killed one and succeeds
    after = build_mod.build()
    assert after["tables"]["population"]["rows"] == 5
    assert not list(curated.glob(".ebpm-build-*"))
    _assert_consistent(curated)


def test_sigkill_between_database_and_manifest_is_repaired(built):
    project, first = built
    curated = project / "curated"
    add_population_row(project)
    _kill_at("after_swap", dict(os.environ))
    # the database is the new one and carries its own manifest; manifest.json is still the old one
    embedded = build_mod.read_embedded_manifest(curated / "ebpm.duckdb")
    assert embedded["build_id"] != first["build_id"]
    assert (
        json.loads((curated / "manifest.json").read_text(encoding="utf-8"))["build_id"]
        == first["build_id"]
    )
    from ebpm import config

    assert build_mod.repair_manifest(config.paths()) is True
    assert _assert_consistent(curated)["build_id"] == embedded["build_id"]
    assert embedded["build_id"] in (curated / "dictionary.html").read_text(encoding="utf-8")
    assert build_mod.repair_manifest(config.paths()) is False  # nothing left to repair


# --- CP932 streaming (decode in pieces, then DuckDB reads UTF-8) ------------------------------

staging = importlib.import_module("ebpm.data.staging")
CP932_ROWS = "".join(f"{i},盛岡市中央通{i % 9 + 1}丁目,①㈱髙\n" for i in range(2000))


@pytest.mark.parametrize("parallel", [False, True])
def test_transcode_pieces_join_to_the_same_text(tmp_path, monkeypatch, parallel):
    if parallel:
        monkeypatch.setattr(staging, "_PARALLEL_BYTES", 0)
    src = tmp_path / "a.csv"
    src.write_bytes(("id,町名,記号\n" + CP932_ROWS).encode("cp932"))
    files = staging.transcode_to_utf8(
        src, tmp_path / "a.utf8.csv", "cp932", display="a.csv", header=True
    )
    assert (len(files) > 1) == (parallel and (os.cpu_count() or 1) > 1)
    import duckdb

    got = duckdb.sql(
        f"SELECT * FROM read_csv({[str(f) for f in files]}, header=true, all_varchar=true)"
    ).fetchall()
    assert len(got) == 2000 and got[0] == (
        "0",
        "盛岡市中央通1丁目",
        "①㈱髙",
    )  # NEC/IBM extensions of CP932
    assert got[-1][0] == "1999"


def test_transcode_falls_back_when_a_cut_lands_in_a_quoted_cell(tmp_path, monkeypatch):
    monkeypatch.setattr(staging, "_PARALLEL_BYTES", 0)
    monkeypatch.setattr(staging.os, "cpu_count", lambda: 2)
    body = 'id,備考\n1,"' + "改行を含む\n" * 500 + '"\n2,終わり\n'
    src = tmp_path / "q.csv"
    src.write_bytes(body.encode("cp932"))
    files = staging.transcode_to_utf8(
        src, tmp_path / "q.utf8.csv", "cp932", display="q.csv", header=True
    )
    assert len(files) == 1
    assert files[0].read_text(encoding="utf-8") == body


def test_transcode_names_the_line_of_a_bad_byte(tmp_path, monkeypatch):
    monkeypatch.setattr(staging, "_PARALLEL_BYTES", 0)
    src = tmp_path / "b.csv"
    src.write_bytes(("id,名\n" + CP932_ROWS).encode("cp932") + b"9999,\x81\x20bad\n")
    with pytest.raises(IngestError, match="cp932 として読めないバイト") as info:
        staging.transcode_to_utf8(
            src, tmp_path / "b.utf8.csv", "cp932", display="b.csv", header=True
        )
    assert info.value.row == 2002 and info.value.file == "b.csv"


def test_ingest_route_normalises_and_keeps_symbol_reasons(built):
    """`ingest: true` reads through ebpm.ingest.read.read_csv: CP932 decoded, full-width → half-width,
    e-Stat symbols → NULL plus a `<col>_note` reason column."""
    project, _ = built
    (project / "catalog" / "visitors_ingest.yml").write_text(
        """
name: visitors_ingest
title: 来庁者数（ingest 経由）
sources:
  - {name: v, path: tiny_city/visitors_cp932.csv, reader: csv, options: {ingest: true}}
  - {name: p, path: tiny_city/population.csv, reader: csv, options: {ingest: true}}
transform: |
  SELECT v.area_code, v.name, v.visitors, p.population, p.population_note
  FROM v JOIN p ON p.area_code = v.area_code AND p.year = 2020
schema:
  fields:
    - {name: area_code, type: string, title: 団体コード}
    - {name: name, type: string, title: 町名}
    - {name: visitors, type: integer, title: 来庁者数}
    - {name: population, type: integer, title: 人口}
    - {name: population_note, type: string, title: 人口の注記, missingValues: ['']}
  primaryKey: [area_code]
""",
        encoding="utf-8",
    )
    build_mod.build()
    import duckdb

    con = duckdb.connect(str(project / "curated" / "ebpm.duckdb"), read_only=True)
    rows = con.execute("SELECT * FROM visitors_ingest ORDER BY area_code").fetchall()
    con.close()
    assert rows[0] == ("03201", "盛岡市中央通1丁目", 120, 289731, None)  # "１" → "1"
    assert rows[1][:4] == ("03216", "滝沢市鵜飼", 45, None)
    assert "-" in rows[1][4]  # the reason names the symbol


def test_unlisted_raw_file_is_refused_with_its_sha256(built):
    project, _ = built
    before = snapshot(project / "curated")
    extra = project / "raw" / "tiny_city" / "extra.csv"
    extra.write_text(
        (project / "raw/tiny_city/population.csv").read_text(encoding="utf-8"), encoding="utf-8"
    )
    point_population_at(project, "tiny_city/extra.csv")
    with pytest.raises(BuildError, match="SOURCE.yml の files にありません") as info:
        build_mod.build()
    assert sha(extra) in str(info.value) and info.value.file == "tiny_city/extra.csv"
    assert snapshot(project / "curated") == before


GEOJSON = (
    '{"type": "FeatureCollection", "features": ['
    '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [141.15, 39.70]},'
    ' "properties": {"共通ID": "E0320100002201", "洪水": "1", "NO": 9841}},'
    '{"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]},'
    ' "properties": {"共通ID": "E2", "洪水": ""}}]}'
)


def test_read_geojson_keeps_properties_as_text(tmp_path):
    file = tmp_path / "s.json"
    file.write_text(GEOJSON, encoding="utf-8")
    frame = staging.read_geojson(file, display="s.json")
    assert list(frame["共通ID"]) == ["E0320100002201", "E2"]
    assert frame.loc[0, "NO"] == "9841"  # numbers in properties stay text; the schema types them
    assert (frame.loc[0, "lon"], frame.loc[0, "lat"]) == (141.15, 39.70)
    assert frame.loc[1, "geometry_type"] == "Polygon" and frame["lon"].isna().iloc[1]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (GEOJSON[:120], "GeoJSON として読めません"),  # truncated
        ('{"type": "Feature"}', "FeatureCollection"),
    ],
)
def test_read_geojson_refuses_bad_files(tmp_path, text, words):
    file = tmp_path / "bad.json"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(IngestError, match=words) as info:
        staging.read_geojson(file, display="bad.json")
    assert info.value.file == "bad.json"


# --- no silent losses: a numeric type that would change the raw text is refused ---------------

LOSSY = [
    ("tiny_city/loss/leading_zero.csv", "「0055000」"),
    ("tiny_city/loss/decimal_in_integer.csv", "「1.50」"),
    ("tiny_city/loss/fullwidth_digits.csv", "「５５０００」"),
]


@pytest.mark.parametrize("typed_read", [False, True], ids=["text_then_cast", "typed_read"])
@pytest.mark.parametrize(("rel", "value"), LOSSY)
def test_numeric_type_that_changes_values_is_refused(project, rel, value, typed_read):
    point_population_at(project, rel)
    file = project / "catalog" / "population.yml"
    if typed_read:
        spec = yaml.safe_load(file.read_text(encoding="utf-8"))
        for field in spec["schema"]["fields"]:
            field.pop("missingValues", None)
        file.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    assert build_mod._Builder._fast_path(None, load_table(file)) is typed_read
    with pytest.raises(BuildError) as info:
        build_mod.build()
    err = info.value
    assert (err.table, err.column, err.file, err.row) == ("population", "population", rel, 3)
    assert value in str(err) and "type: string" in str(err)
    assert not (project / "curated" / "ebpm.duckdb").exists()


def test_lost_character_is_a_warning(project):
    point_population_at(project, "tiny_city/loss/lost_character.csv")
    manifest = build_mod.build()
    [chk] = [
        c for c in manifest["tables"]["population"]["checks"] if c["name"] == "lost_characters"
    ]
    assert chk["passed"] is False and chk["severity"] == "warn"
    assert "神戸?園小学校" in chk["detail"] and chk["column"] == "note"

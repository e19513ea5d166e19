"""Build errors after a transform: the raw file row through renames/filters/joins, the catalog line of the
transform, the raw columns that exist, and DuckDB's English translated (kept on a 詳細 line)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from ebpm.errors import BuildError, CheckError

build_mod = importlib.import_module("ebpm.data.builder")

HEAD = """name: population
title: 人口
sources:
  - {name: pop, path: tiny_city/%s, reader: csv}
"""
FIELDS = """schema:
  fields:
    - {name: area, type: string, title: 団体コード, constraints: {required: true}}
    - {name: yr, type: year, title: 年}
    - {name: people, type: integer, title: 人口, constraints: {minimum: 0}}
  missingValues: ['', '-']
  primaryKey: [area, yr]
  foreignKeys:
    - {fields: [area], reference: {resource: area, fields: [code5]}}
"""


def write_population(project: Path, raw: str, transform: str) -> Path:
    """population.yml with a transform (block scalar starting on line 6) renaming every column."""
    file = project / "catalog" / "population.yml"
    body = "\n".join("  " + line for line in transform.strip().splitlines())
    file.write_text(HEAD % raw + "transform: |\n" + body + "\n" + FIELDS, encoding="utf-8")
    return file


RENAME = """
SELECT area_code AS area,
       year AS yr,
       population AS people
FROM pop
WHERE year <> '1999'
"""


@pytest.mark.parametrize(
    ("raw", "transform", "error", "column", "row", "words"),
    [
        # a cast after a rename: the value is traced back through the transform to its raw row
        ("bad/not_a_number.csv", RENAME, BuildError, "people", 3, "五万"),
        # a failed foreign key after a rename (area ← area_code)
        ("bad/unknown_code.csv", RENAME, CheckError, "area", 3, "99999"),
        # a duplicated key after a rename: the repeated row
        ("bad/duplicate_key.csv", RENAME, CheckError, "area,yr", 4, "2回"),
        # the numeric refusal (0055000 would become 55000) after a rename
        ("loss/leading_zero.csv", RENAME, BuildError, "people", 3, "0055000"),
        # through a CTE and a join with another source-less table
        (
            "bad/unknown_code.csv",
            """
WITH kept AS (SELECT * FROM pop WHERE population <> '-')
SELECT k.area_code AS area, k.year AS yr, k.population AS people
FROM kept AS k
""",
            CheckError,
            "area",
            3,
            "99999",
        ),
    ],
    ids=["cast", "foreign_key", "duplicate", "leading_zero", "cte"],
)
def test_errors_after_a_rename_name_the_raw_row(project, raw, transform, error, column, row, words):
    write_population(project, raw, transform)
    with pytest.raises(error) as info:
        build_mod.build()
    err = info.value
    assert (err.file, err.row, err.column) == (f"tiny_city/{raw}", row, column), str(err)
    assert words in str(err)


def test_hidden_row_column_is_not_in_the_table(project):
    import duckdb

    write_population(project, "population.csv", RENAME)
    manifest = build_mod.build()
    assert list(manifest["tables"]["population"]["columns"]) == ["area", "yr", "people"]
    con = duckdb.connect(str(project / "curated" / "ebpm.duckdb"), read_only=True)
    cols = [r[0] for r in con.execute("DESCRIBE population").fetchall()]
    con.close()
    assert cols == ["area", "yr", "people"]


def test_missing_column_lists_raw_columns_with_catalog_line(project):
    # line 6 is the first SQL line; "populaton" is on the SQL's 3rd line → catalog line 8
    write_population(
        project,
        "population.csv",
        RENAME.replace("population AS people", "populaton AS people"),
    )
    with pytest.raises(BuildError) as info:
        build_mod.build()
    err = info.value
    text = str(err)
    assert err.file.endswith("catalog/population.yml") and not Path(err.file).is_absolute()
    assert (err.row, err.column) == (8, "populaton")
    assert "原データにありません" in text and "もしかして「population」ですか？" in text
    assert "pop（tiny_city/population.csv）の列: area_code, year, population, note" in text
    assert "\n  詳細: Binder Error" in text  # DuckDB's own words kept on a detail line
    assert str(project) not in text  # relative paths only


def test_conversion_inside_the_transform_names_the_raw_cell(project):
    write_population(
        project,
        "bad/not_a_number.csv",
        RENAME.replace("population AS people", "CAST(population AS INTEGER) AS people"),
    )
    with pytest.raises(BuildError) as info:
        build_mod.build()
    err = info.value
    text = str(err)
    assert (err.file, err.row, err.column) == ("tiny_city/bad/not_a_number.csv", 3, "population")
    assert "値「五万」を整数に変換できません" in text
    assert "population.yml の8行目" in text  # the CAST line of the transform in the catalog
    assert "\n  詳細: Conversion Error" in text
    assert str(project) not in text


def test_unknown_relation_and_syntax_are_translated(project):
    write_population(project, "population.csv", RENAME.replace("FROM pop", "FROM popp"))
    with pytest.raises(BuildError) as info:
        build_mod.build()
    text = str(info.value)
    assert "名前「popp」" in text and "もしかして「pop」ですか？" in text and info.value.row == 9
    assert "詳細: Catalog Error" in text
    write_population(project, "population.csv", RENAME.replace("WHERE year <> '1999'", "WHERE"))
    with pytest.raises(BuildError) as info:
        build_mod.build()
    assert "書き方の誤り" in str(info.value) and "詳細: Parser Error" in str(info.value)


def test_schema_field_missing_from_the_transform_points_at_the_catalog(project):
    # the typo is in the catalog (the transform's AS), so the catalog file and the field's line are named
    write_population(
        project, "population.csv", RENAME.replace("population AS people", "population AS peoples")
    )
    with pytest.raises(BuildError) as info:
        build_mod.build()
    err = info.value
    assert err.file.endswith("catalog/population.yml") and (err.row, err.column) == (15, "people")
    assert "もしかして「peoples」ですか？" in str(err) and "schema.fields" in str(err)


def test_sql_check_with_a_typo_names_the_check_and_its_catalog_line(project):
    file = project / "catalog" / "population.yml"
    text = file.read_text(encoding="utf-8").replace(
        "SELECT population FROM population WHERE", "SELECT populaton FROM population WHERE"
    )
    file.write_text(text, encoding="utf-8")
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "populaton" in t)
    with pytest.raises(CheckError) as info:
        build_mod.build()
    err = info.value
    assert err.file.endswith("catalog/population.yml") and err.row == line
    assert "チェック「morioka_2020」の SQL を実行できません。列「populaton」がありません。" in str(
        err
    )
    assert "もしかして「population」ですか？" in str(err) and "\n  詳細: Binder Error" in str(err)


def test_row_of_an_ingest_read_file_counts_title_and_blank_rows(project):
    """A file read with ingest (title row skipped, a blank row dropped): the error names the line
    of the file as a person counts it, after a rename in the transform."""
    import hashlib

    raw = project / "raw" / "tiny_city" / "messy.csv"
    raw.write_text(
        "人口の表（令和2年10月1日現在）,,\n"  # line 1: title
        "code,year,pop\n"  # line 2: header
        "03201,2020,289731\n"  # line 3
        ",,\n"  # line 4: blank, dropped by ingest
        "03216,2020,-5\n",  # line 5: below the minimum
        encoding="utf-8",
    )
    source = project / "raw" / "tiny_city" / "SOURCE.yml"
    digest = hashlib.sha256(raw.read_bytes()).hexdigest()
    source.write_text(
        source.read_text(encoding="utf-8")
        + f"  - {{path: messy.csv, sha256: {digest}, description_ja: 表題と空行のある表}}\n",
        encoding="utf-8",
    )
    file = project / "catalog" / "population.yml"
    file.write_text(
        "name: population\ntitle: 人口\nsources:\n"
        "  - {name: pop, path: tiny_city/messy.csv, reader: csv, options: {ingest: true}}\n"
        "transform: SELECT code AS area, year AS yr, pop AS people FROM pop\n" + FIELDS,
        encoding="utf-8",
    )
    with pytest.raises(CheckError) as info:
        build_mod.build()
    err = info.value
    assert (err.file, err.row, err.column) == ("tiny_city/messy.csv", 5, "people"), str(err)
    assert "最小値 0 を下回る" in str(err)


def test_union_of_two_files_names_the_file_the_row_came_from(project):
    """UNION ALL of population.csv and bad/unknown_code.csv: the unknown code is in the second file."""
    file = project / "catalog" / "population.yml"
    file.write_text(
        "name: population\ntitle: 人口\nsources:\n"
        "  - {name: a, path: tiny_city/population.csv, reader: csv}\n"
        "  - {name: b, path: tiny_city/bad/unknown_code.csv, reader: csv}\n"
        "transform: |\n"
        "  SELECT area_code AS area, year AS yr, population AS people FROM a WHERE year = '2015'\n"
        "  UNION ALL\n"
        "  SELECT area_code, year, population FROM b\n" + FIELDS,
        encoding="utf-8",
    )
    with pytest.raises(CheckError) as info:
        build_mod.build()
    err = info.value
    assert (err.file, err.row, err.column) == ("tiny_city/bad/unknown_code.csv", 3, "area")

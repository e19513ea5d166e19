"""CLI: `ebpm build`, `ebpm catalog [--format json]`, `ebpm query SQL [--format table|json|csv]`."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from ebpm.cli import app
from ebpm.errors import DataAccessError, ParameterError
from typer.testing import CliRunner

runner = CliRunner()


@pytest.fixture
def built(tiny_built):
    """The tiny project already built (conftest ``tiny_built``): the commands below only read it;
    `ebpm build` itself is run through the CLI in test_build_reports_in_japanese."""
    return tiny_built


def test_build_reports_in_japanese(project):
    result = runner.invoke(app, ["build"])
    assert result.exit_code == 0, result.output
    assert "データ構築が完了しました" in result.output
    assert "3テーブル" in result.output
    assert "population（人口）: 4行" in result.output  # rich progress line per table


def test_catalog_json(built):
    result = runner.invoke(app, ["catalog", "--format", "json"])
    assert result.exit_code == 0
    tables = {t["name"]: t for t in json.loads(result.output)}
    assert tables["population"]["rows"] == 4
    assert tables["population"]["title"] == "人口"
    assert tables["visitors"]["sources"] == ["tiny_city/visitors_cp932.csv"]


def test_catalog_table(built):
    result = runner.invoke(app, ["catalog"])
    assert result.exit_code == 0
    assert "表題" in result.output and "人口" in result.output


@pytest.mark.parametrize(
    ("fmt", "check"),
    [
        ("csv", lambda out: out.splitlines()[:2] == ['"area_code","population"', '"03201",289731']),
        ("json", lambda out: json.loads(out) == [{"area_code": "03201", "population": 289731}]),
        ("table", lambda out: "289731" in out and "1行" in out and "団体コード" in out),
    ],
)
def test_query_formats(built, fmt, check):
    sql = "SELECT area_code, population FROM population WHERE year = 2020 AND area_code = '03201'"
    result = runner.invoke(app, ["query", sql, "--format", fmt])
    assert result.exit_code == 0, result.output
    assert check(result.output)


def test_query_binds_params(built):
    sql = "SELECT population FROM population WHERE area_code = $code AND year = $year::INTEGER"
    result = runner.invoke(app, ["query", sql, "-p", "code=03201", "-p", "year=2015", "-f", "csv"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ['"population"', "297631"]


def test_query_null_stays_empty_in_csv(built):
    result = runner.invoke(
        app, ["query", "SELECT population FROM population WHERE area_code = '03216'", "-f", "csv"]
    )
    assert result.output.splitlines() == ['"population"', ""]


@pytest.mark.parametrize(
    ("args", "error", "words"),
    [
        (["query", "DROP TABLE population"], DataAccessError, "読み取り（SELECT）以外"),
        (
            ["query", "SELECT 1", "--format", "xml"],
            ParameterError,
            "--format は table / json / csv",
        ),
        (["catalog", "--format", "csv"], ParameterError, "--format は table / json"),
        (["query", "SELECT 1", "-p", "oops"], ParameterError, "「名前=値」"),
    ],
)
def test_cli_refusals(built, args, error, words):
    result = runner.invoke(app, args)
    assert isinstance(result.exception, error)
    assert words in str(result.exception)


def test_error_exit_code_and_message(project):
    """Through the real entry point: Japanese message on stderr, exit code 1."""
    out = subprocess.run(
        [sys.executable, "-c", "from ebpm.cli import main; main()", "query", "SELECT 1"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 1
    assert "まず `ebpm build` を実行してください" in out.stderr.replace(
        "\n", ""
    )  # rich wraps lines

"""DuckDB's English errors are read in one place (ebpm.data.dberrors); the messages come from DuckDB itself."""

from __future__ import annotations

import duckdb
import pytest
from ebpm.data.dberrors import parse


def _error(sql: str) -> Exception:
    con = duckdb.connect()
    con.execute("CREATE TABLE population (area_code VARCHAR, total INTEGER)")
    with pytest.raises(duckdb.Error) as info:
        con.execute(sql).fetchall()
    return info.value


@pytest.mark.parametrize(
    ("sql", "kind", "name", "target"),
    [
        ("SELECT totl FROM population", "column", "totl", ""),
        ("SELECT * FROM populaton", "table", "populaton", ""),
        ("SELECT sqrtt(total) FROM population", "function", "sqrtt", ""),
        ("SELECT CAST('１２' AS INTEGER)", "conversion", "１２", "INT32"),
        ("SELECT CAST('2020-13-45' AS DATE)", "conversion", "2020-13-45", "date"),
        ("SELEC total FROM population", "syntax", "", "SELEC"),
    ],
)
def test_real_duckdb_errors_are_read_by_kind(sql, kind, name, target):
    problem = parse(_error(sql))
    assert (problem.kind, problem.name) == (kind, name), problem
    if target:
        assert problem.target.lower() == target.lower(), problem


def test_column_candidates_and_function_hint_come_from_duckdb():
    column = parse(_error("SELECT totl FROM population"))
    assert "total" in column.suggestions
    function = parse(_error("SELECT sqrtt(total) FROM population"))
    assert function.suggestions and function.suggestions[0].startswith("sqrt")


def test_unknown_text_is_other_and_empty_is_safe():
    assert parse("Something else entirely").kind == "other"
    assert parse("").kind == "other"

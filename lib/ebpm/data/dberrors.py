"""What a DuckDB error message says, parsed in one place: the kind of mistake, the name or value, DuckDB's hints.

The build (transform errors), the checks and ``ebpm.sql`` each word the Japanese message for their own
reader; they all read DuckDB's English through :func:`parse`, so a change in DuckDB's wording is mended once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_COLUMN = (
    re.compile(r'Referenced column "([^"]+)" not found'),
    re.compile(r'column "([^"]+)" not found', re.IGNORECASE),
)
_TABLE = (
    re.compile(r"Table with name (\S+?) does not exist"),
    re.compile(r'Referenced table "([^"]+)" not found'),
)
_FUNCTION = re.compile(r"Function with name (\S+?) does not exist")
_CONVERT = re.compile(r"Could not convert string '(.*)' to (\w+)")
_DATE = (
    re.compile(r'invalid (date|timestamp) field format: "(.*)"'),
    re.compile(r'(date|timestamp) field value out of range: "(.*)"'),
)
_NEAR = re.compile(r'at or near "([^"]*)"')


@dataclass(frozen=True)
class DuckProblem:
    """One DuckDB error, read.

    ``kind`` is one of column, table, function, conversion, syntax, parameter, other. ``name`` is the
    column, table or function named, or the value that did not convert; ``target`` the type a value
    was converted to, or the token near a syntax error; ``suggestions`` DuckDB's own candidates.
    """

    kind: str
    first_line: str
    name: str = ""
    target: str = ""
    suggestions: tuple[str, ...] = ()


def parse(error: BaseException | str) -> DuckProblem:
    """Read a DuckDB exception (or its text) into a :class:`DuckProblem`."""
    text = str(error) if not isinstance(error, str) else error
    if not text and isinstance(error, BaseException):
        text = type(error).__name__
    first = text.splitlines()[0] if text else ""
    for pattern in _COLUMN:
        if m := pattern.search(first):
            cands = re.search(r"Candidate bindings: (.*)", text)
            names = re.findall(r'"([^"]+)"', cands.group(1)) if cands else []
            return DuckProblem(
                "column", first, m.group(1), suggestions=tuple(n.split(".")[-1] for n in names)
            )
    for pattern in _TABLE:
        if m := pattern.search(first):
            return DuckProblem("table", first, m.group(1).strip('"'))
    if m := _FUNCTION.search(first):
        close = re.search(r'Did you mean "([^"]+)"', text)
        return DuckProblem("function", first, m.group(1), suggestions=(close.group(1),) if close else ())
    if m := _CONVERT.search(first):
        return DuckProblem("conversion", first, m.group(1), m.group(2))
    for pattern in _DATE:
        if m := pattern.search(first):
            return DuckProblem("conversion", first, m.group(2), m.group(1))
    if first.startswith("Parser Error") or "syntax error" in first:
        near = _NEAR.search(first)
        return DuckProblem("syntax", first, target=near.group(1) if near else "")
    if "parameter" in first.lower():
        return DuckProblem("parameter", first)
    return DuckProblem("other", first)

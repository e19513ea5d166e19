"""Process-wide column labels: titles, units and the 模擬データ flag of every curated column read so far.

``ebpm.load`` / ``ebpm.sql`` put labels on the frame (``attrs``), but pandas drops ``attrs`` in
``merge``, ``pivot_table``, ``groupby`` and friends. The data layer also notes each column it hands
out here, so methods and charts can still find a column's Japanese title by its name.
"""

from __future__ import annotations

from typing import Any

# column name -> {"titles": set, "units": set, "tables": set, "synthetic": set of bool}
_seen: dict[str, dict[str, set]] = {}
# column name -> curated tables whose catalog names it as the eligibility column
_eligibility: dict[str, set[str]] = {}


def note(
    table: str, column: str, *, title: str = "", unit: str = "", synthetic: bool = False
) -> None:
    """Remember that ``column`` of curated ``table`` has ``title`` and ``unit`` (called by the data layer)."""
    entry = _seen.setdefault(
        column, {"titles": set(), "units": set(), "tables": set(), "synthetic": set()}
    )
    if title:
        entry["titles"].add(title)
    if unit:
        entry["units"].add(unit)
    entry["tables"].add(table)
    entry["synthetic"].add(bool(synthetic))


def _attrs(data: Any) -> dict:
    return getattr(data, "attrs", None) or {}


def title(column: Any, data: Any = None) -> str | None:
    """Japanese title of ``column``: the frame's own labels first, then the tables read in this process
    (only when every table that has a column of that name agrees on its title)."""
    found = (_attrs(data).get("column_titles") or {}).get(column)
    if found:
        return found
    entry = _seen.get(str(column))
    if entry and len(entry["titles"]) == 1:
        return next(iter(entry["titles"]))
    return None


def unit(column: Any, data: Any = None) -> str | None:
    """Unit of ``column`` (same rule as :func:`title`)."""
    found = (_attrs(data).get("column_units") or {}).get(column)
    if found:
        return found
    entry = _seen.get(str(column))
    if entry and len(entry["units"]) == 1:
        return next(iter(entry["units"]))
    return None


def synthetic(data: Any) -> bool:
    """True when the frame says so, or (its labels lost) any of its columns came from a 模擬データ table.

    Errs on the side of the notice: a column name shared with a synthetic table counts.
    """
    attrs = _attrs(data)
    if "synthetic" in attrs:
        return bool(attrs["synthetic"])
    columns = [str(c) for c in getattr(data, "columns", [])]
    if getattr(data, "name", None) is not None:
        columns.append(str(data.name))
    return any(True in _seen.get(c, {}).get("synthetic", set()) for c in columns)


def tables(data: Any) -> list[str]:
    """Curated tables a frame came from: ``attrs`` first, else those that have its columns."""
    found = _attrs(data).get("tables")
    if found:
        return list(found)
    out: set[str] = set()
    for c in getattr(data, "columns", []):
        out |= _seen.get(str(c), {}).get("tables", set())
    return sorted(out)


def note_eligibility(table: str, column: str) -> None:
    """Remember that the catalog of ``table`` names ``column`` as its eligibility column."""
    _eligibility.setdefault(column, set()).add(table)


def eligibility(data: Any) -> str | None:
    """The column of ``data`` that says whether a unit can be treated at all (catalog ``eligibility``).

    The frame's own ``attrs`` first; else (``attrs`` lost in a merge) a column of the frame that a
    table read in this process declared as its eligibility column. None when there is none.
    """
    columns = [str(c) for c in getattr(data, "columns", [])]
    found = _attrs(data).get("eligibility")
    if found and found in columns:
        return str(found)
    hits = [c for c in columns if c in _eligibility]
    return hits[0] if len(hits) == 1 else None


def census(data: Any) -> bool:
    """True when the frame came only from tables the catalog flags as complete enumerations (全数)."""
    return bool(_attrs(data).get("census", False))


def forget() -> None:
    """Forget every label noted so far (tests)."""
    _seen.clear()
    _eligibility.clear()

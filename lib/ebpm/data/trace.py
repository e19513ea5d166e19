"""Carry a hidden source-row column through a catalog transform, so build errors name the raw file row.

The build creates each table from the transform exactly as written. Only when an error or a failed
check needs a location does it run a *traced* copy of the transform: every source relation is
replaced by a view that adds ``_ebpm_src`` (the raw file) and ``_ebpm_row`` (its row number), and
every SELECT of the transform (CTEs, subqueries, UNION branches) passes the pair of its leftmost
source on. The rewrite works on DuckDB's own parse tree (``json_serialize_sql``), not on text, and
gives up (no row rather than a wrong one) on what it cannot follow (PIVOT/UNPIVOT, table
functions, aggregates without GROUP BY).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from ebpm.data.staging import quote_ident

SRC = "_ebpm_src"
ROW = "_ebpm_row"
VIEW_PREFIX = "_ebpm_trace_"


class _Untraceable(Exception):
    """The transform uses a construct the rewrite does not follow."""


def _select_list(con: Any, sql: str) -> list[dict[str, Any]]:
    tree = json.loads(con.execute("SELECT json_serialize_sql(?)", [sql]).fetchall()[0][0])
    if tree.get("error"):
        raise _Untraceable(tree.get("error_message", ""))
    return tree["statements"][0]["node"]["select_list"]


class _Rewriter:
    def __init__(self, con: Any, sources: dict[str, str]):
        self.con = con
        self.sources = sources  # lower-case relation name in the transform -> traced view
        self.count = 0

    def _pair(self, alias: str | None, grouped: bool) -> list[dict[str, Any]]:
        if alias is None:
            sql = f"SELECT CAST(NULL AS VARCHAR) AS {SRC}, CAST(NULL AS BIGINT) AS {ROW}"
        elif grouped:
            a = quote_ident(alias)
            sql = f"SELECT arg_min({a}.{SRC}, {a}.{ROW}) AS {SRC}, min({a}.{ROW}) AS {ROW}"
        else:
            a = quote_ident(alias)
            sql = f"SELECT {a}.{SRC} AS {SRC}, {a}.{ROW} AS {ROW}"
        return _select_list(self.con, sql)

    def table_ref(self, ref: dict[str, Any], traced: set[str]) -> str | None:
        """Rewrite one FROM item; return the alias whose hidden pair the SELECT passes on."""
        kind = ref.get("type")
        if kind == "BASE_TABLE":
            name = str(ref.get("table_name", ""))
            if ref.get("schema_name") or ref.get("catalog_name"):
                return None
            alias = ref.get("alias") or name
            if name.lower() in self.sources:
                view = self.sources[name.lower()]
                ref["table_name"] = view
                if "qualified_name" in ref:
                    ref["qualified_name"] = {"path": [view]}
                ref["alias"] = alias
                return alias
            return alias if name.lower() in traced else None
        if kind == "JOIN":
            left = self.table_ref(ref["left"], traced)
            right = self.table_ref(ref["right"], traced)
            return left or right
        if kind == "SUBQUERY":
            inner = ref.get("subquery", {}).get("node")
            if inner is None:
                return None
            trial = copy.deepcopy(inner)
            try:
                self.node(trial, traced)
            except _Untraceable:
                return None
            ref["subquery"]["node"] = trial
            if not ref.get("alias"):
                self.count += 1
                ref["alias"] = f"_ebpm_sq{self.count}"
            return ref["alias"]
        return None  # PIVOT/UNPIVOT, table functions, VALUES: followed no further

    def node(self, node: dict[str, Any], traced: set[str]) -> None:
        """Make ``node`` output the hidden pair as its last two columns (in place)."""
        traced = set(traced)
        for entry in node.get("cte_map", {}).get("map", []):
            query = entry["value"]["query_node"]
            if entry["value"].get("aliases"):
                continue  # `name(col, …) AS (…)`: the column list would not name the pair
            trial = copy.deepcopy(query)
            try:
                self.node(trial, traced)
            except _Untraceable:
                continue
            entry["value"]["query_node"] = trial
            traced.add(str(entry["key"]).lower())
        kind = node.get("type")
        if kind == "SET_OPERATION_NODE":
            children = node.get("children") or [node.get("left"), node.get("right")]
            if not children or any(c is None for c in children):
                raise _Untraceable(kind)
            for child in children:
                self.node(child, traced)
            return
        if kind != "SELECT_NODE":
            raise _Untraceable(kind)
        from_table = node.get("from_table")
        alias = self.table_ref(from_table, traced) if from_table else None
        for expr in node["select_list"]:
            if expr.get("class") == "STAR" and not expr.get("columns") and alias is not None:
                # `*` over a traced relation already carries the pair: keep it out, add it once
                for col in (SRC, ROW):
                    expr.setdefault("exclude_list", []).append(col)  # shaped by _fix_excludes
        grouped = bool(node.get("group_expressions")) or bool(node.get("group_sets"))
        node["select_list"] += self._pair(alias, grouped)


def _fix_excludes(con: Any, node: Any) -> None:
    """Give added EXCLUDE entries the shape DuckDB's serializer writes for ``* EXCLUDE (col)``."""
    template = _select_list(con, f"SELECT * EXCLUDE ({SRC}) FROM t")[0]["exclude_list"][0]

    def walk(n: Any) -> None:
        if isinstance(n, dict):
            if n.get("class") == "STAR":
                n["exclude_list"] = [
                    _exclude_entry(template, e) if isinstance(e, str) else e
                    for e in n.get("exclude_list", [])
                ]
            for v in n.values():
                walk(v)
        elif isinstance(n, list):
            for v in n:
                walk(v)

    walk(node)


def _exclude_entry(template: Any, column: str) -> Any:
    entry = copy.deepcopy(template)

    def swap(n: Any) -> Any:
        if isinstance(n, str):
            return column if n == SRC else n
        if isinstance(n, list):
            return [swap(v) for v in n]
        if isinstance(n, dict):
            return {k: swap(v) for k, v in n.items()}
        return n

    return swap(entry)


def traced_sql(con: Any, transform: str, sources: dict[str, str]) -> str | None:
    """The transform rewritten to output ``_ebpm_src`` and ``_ebpm_row`` too, or None if it cannot be.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection on which the traced views (``sources`` values) exist.
    transform : str
        The catalog's SELECT.
    sources : dict
        Relation name used in the transform → name of its traced view.
    """
    try:
        tree = json.loads(con.execute("SELECT json_serialize_sql(?)", [transform]).fetchall()[0][0])
        if tree.get("error") or len(tree.get("statements", [])) != 1:
            return None
        node = tree["statements"][0]["node"]
        _Rewriter(con, {k.lower(): v for k, v in sources.items()}).node(node, set())
        _fix_excludes(con, node)
        sql = con.execute("SELECT json_deserialize_sql(?)", [json.dumps(tree)]).fetchall()[0][0]
        con.execute(f"DESCRIBE SELECT * FROM ({sql}) AS _t").fetchall()
    except Exception:  # noqa: BLE001 - tracing only improves an error message; never replace it
        return None
    return sql

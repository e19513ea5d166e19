"""Read-only access to the curated database: connect, load, sql (bound values only), catalog, table_info."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ebpm import config
from ebpm.errors import DataAccessError
from ebpm.data.staging import first_row

if TYPE_CHECKING:  # pragma: no cover
    import duckdb
    import pandas as pd

_NOT_BUILT = "整備済みデータベースがありません。まず `ebpm build` を実行してください。"
_lock = threading.Lock()
_cache: dict[str, Any] = {"key": None, "con": None}
_accessed: list[str] = []
_log: list[str] = []  # every read, in order (a notebook cell's own tables are a slice of it)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def connect(database: str | Path | None = None) -> duckdb.DuckDBPyConnection:
    """Open the curated database read-only (a new connection each call).

    The file is attached READ_ONLY to a private in-memory database with file access switched
    off, so a build can swap in a new snapshot at any time: this connection keeps reading the
    snapshot it opened, and the next ``connect()`` sees the new one.

    Raises
    ------
    DataAccessError
        When the database has never been built.
    """
    import duckdb

    path = Path(database) if database else config.paths().database
    if not path.exists():
        raise DataAccessError(_NOT_BUILT, file=str(path))
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"ATTACH '{str(path).replace(chr(39), chr(39) * 2)}' AS ebpm (READ_ONLY)")
        con.execute("USE ebpm")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except duckdb.Error as exc:
        con.close()
        raise DataAccessError(
            f"整備済みデータベースを開けません（{exc}）。", file=str(path)
        ) from exc
    return con


def _shared() -> duckdb.DuckDBPyConnection:
    """A per-process connection, reopened when a build has swapped in a new snapshot."""
    path = config.paths().database
    try:
        st = path.stat()
    except FileNotFoundError:
        raise DataAccessError(_NOT_BUILT, file=str(path)) from None
    key = (str(path), st.st_ino, st.st_mtime_ns)
    with _lock:
        if _cache["key"] != key:
            if _cache["con"] is not None:
                try:
                    _cache["con"].close()
                except Exception:  # noqa: BLE001 - a stale handle cannot be closed twice
                    pass
            _cache["con"] = connect(path)
            _cache["key"] = key
        cur = _cache["con"].cursor()
    cur.execute("USE ebpm")  # the default database is per cursor
    return cur


def _tables(con: Any) -> dict[str, dict[str, Any]]:
    rows = con.execute("SELECT * FROM _ebpm_tables ORDER BY name").fetchall()
    cols = [d[0] for d in con.description]
    return {r[0]: dict(zip(cols, r, strict=True)) for r in rows}


def _columns(con: Any, name: str) -> list[str]:
    rows = con.execute(
        "SELECT name FROM _ebpm_columns WHERE table_name = $1 ORDER BY position", [name]
    ).fetchall()
    return [r[0] for r in rows]


def _suggest(value: Any, candidates: Any) -> str:
    """Japanese did-you-mean clause ('' when nothing is close)."""
    import difflib

    close = difflib.get_close_matches(str(value), [str(c) for c in candidates], n=3, cutoff=0.6)
    return ("もしかして" + "・".join(f"「{c}」" for c in close) + "ですか？") if close else ""


def _check_table(con: Any, name: str) -> None:
    if not isinstance(name, str):
        raise DataAccessError(
            f"テーブル名は文字列で指定してください（受け取った型: {type(name).__name__}）。"
            "一覧は ebpm catalog で見られます。",
            parameter="name",
        )
    tables = _tables(con)
    if name not in tables:
        raise DataAccessError(
            f"テーブル「{name}」はありません。{_suggest(name, tables)}"
            f"あるテーブル: {', '.join(tables)}",
            parameter="name",
        )


_TYPE_JA = {
    "string": "文字列",
    "integer": "整数",
    "year": "整数（西暦年。和暦「令和2年」も可）",
    "number": "数値",
    "boolean": "真偽値（True/False）",
    "date": "日付（2023-10-02、datetime.date、和暦「令和5年10月2日」）",
    "datetime": "日時",
}


def _column_types(con: Any, name: str) -> dict[str, str]:
    rows = con.execute(
        "SELECT name, type FROM _ebpm_columns WHERE table_name = $1 ORDER BY position", [name]
    ).fetchall()
    return {r[0]: (r[1] or "string") for r in rows}


def _filter_value(value: Any, column: str, ftype: str) -> Any:
    """A filter value converted to the column's type, or a Japanese error naming the column."""
    import datetime as dt

    import numpy as np

    def fail() -> DataAccessError:
        return DataAccessError(
            f"列「{column}」は{_TYPE_JA.get(ftype, ftype)}の列です。指定値: {value!r}",
            parameter=column,
        )

    if ftype in ("integer", "year"):
        if isinstance(value, (bool, np.bool_)):
            raise fail()
        if isinstance(value, (int, np.integer)):
            return int(value)
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            return int(value)
        if isinstance(value, str):
            from ebpm.ingest import wareki

            text = value.strip()
            if text.isdigit():
                raise DataAccessError(
                    f"列「{column}」は{_TYPE_JA[ftype]}の列です。数は引用符なしで書いてください"
                    f"（{text}）。指定値: {value!r}",
                    parameter=column,
                )
            for parse in (wareki.parse_fiscal_year, wareki.parse_year):
                try:
                    return parse(text)
                except Exception:  # not this form; try the next, then refuse below
                    continue
        raise fail()
    if ftype == "number":
        if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
            value, (bool, np.bool_)
        ):
            return value
        raise fail()
    if ftype == "boolean":
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        raise fail()
    if ftype in ("date", "datetime"):
        if isinstance(value, (dt.date, np.datetime64)) or hasattr(value, "to_pydatetime"):
            return value
        if isinstance(value, str):
            from ebpm.ingest import wareki

            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
            try:
                return wareki.parse_date(value)
            except Exception:  # refused below with the allowed forms
                pass
        raise fail()
    if ftype == "string" and not isinstance(value, str):
        raise fail()
    return value


def _duck_message(exc: Exception, con: Any, query: str | None = None) -> str:
    """DuckDB's English error as a Japanese sentence with did-you-mean where a name was wrong.

    For an unknown column the candidates are the columns of the tables ``query`` names (all curated
    columns when it names none), so a typo is not matched to a column of an unrelated table.
    """
    from ebpm.data.dberrors import parse

    p = parse(exc)
    if p.kind == "table":
        tables = list(_tables(con))
        return f"表「{p.name}」はありません。{_suggest(p.name, tables)}（ebpm catalog で一覧）"
    if p.kind == "column":
        named = []
        if query:
            words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", query))
            named = sorted(set(_tables(con)) & words)
        if named:
            cols = [
                r[0]
                for r in con.execute(
                    "SELECT DISTINCT name FROM _ebpm_columns WHERE list_contains($1, table_name) "
                    "ORDER BY name",
                    [named],
                ).fetchall()
            ]
            where = "・".join(f"「{t}」" for t in named)
            return (
                f"列「{p.name}」は表{where}にありません。{_suggest(p.name, cols)}"
                f"ある列: {', '.join(cols)}"
            )
        cols = [r[0] for r in con.execute("SELECT DISTINCT name FROM _ebpm_columns").fetchall()]
        hint = _suggest(p.name, cols).removesuffix("ですか？")
        return f"列「{p.name}」がありません" + (f"（{hint}）" if hint else "")
    if p.kind == "conversion":
        return f"値「{p.name}」を列の型（{p.target}）に変換できません。型の合う値を渡してください"
    if p.kind == "syntax":
        return "SQL の書き方に誤りがあります" + (f"（「{p.target}」の付近）" if p.target else "")
    if p.kind == "function":
        return f"関数「{p.name}」はありません"
    if p.kind == "parameter":
        return "SQL の $名前 や ? と、渡した値（params）の数や名前が合っていません"
    kind = type(exc).__name__.removesuffix("Exception")
    return f"SQL を実行できません（DuckDB の {kind} エラー）"


def _run(con: Any, query: str, params: Any) -> Any:
    """Execute with bound parameters; fetch through Arrow (not ``.df()``)."""
    relation = con.sql(query, params=params or None)
    if relation is None:  # pragma: no cover - only SELECTs get here
        raise DataAccessError("結果を返さない SQL です。", parameter="query")
    return relation.to_arrow_table()


def _note(name: str) -> None:
    _log.append(name)
    if name not in _accessed:
        _accessed.append(name)


def load(name: str, /, **filters: Any) -> pd.DataFrame:
    """Load one curated table as a pandas DataFrame (through Arrow).

    Parameters
    ----------
    name : str
        Table name as in ``ebpm catalog`` (``"census_population"`` …).
    **filters
        ``column=value`` becomes ``WHERE column = $value``; a list or tuple becomes ``IN (…)``;
        ``None`` becomes ``IS NULL``. Values are always bound, never pasted into SQL.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    DataAccessError
        Unknown table or column (the message lists what exists).

    Examples
    --------
    >>> ebpm.load("census_population", area_code="03201", year=[2015, 2020])  # doctest: +SKIP
    """
    con = _shared()
    _check_table(con, name)
    types = _column_types(con, name)
    columns = list(types)
    where, params = [], []
    for col, value in filters.items():
        if col not in columns:
            raise DataAccessError(
                f"列「{col}」はテーブル「{name}」にありません。{_suggest(col, columns)}"
                f"ある列: {', '.join(columns)}",
                parameter=col,
            )
        if isinstance(value, (list, tuple, set, frozenset)):
            value = [_filter_value(v, col, types[col]) for v in value]
        elif value is not None:
            value = _filter_value(value, col, types[col])
        if value is None:
            where.append(f"{_quote(col)} IS NULL")
        elif isinstance(value, (list, tuple, set, frozenset)):
            values = list(value)
            if not values:
                where.append("false")
                continue
            marks = []
            for v in values:
                params.append(v)
                marks.append(f"${len(params)}")
            where.append(f"{_quote(col)} IN ({', '.join(marks)})")
        else:
            params.append(value)
            where.append(f"{_quote(col)} = ${len(params)}")
    query = f"SELECT * FROM {_quote(name)}"
    if where:
        query += " WHERE " + " AND ".join(where)
    import duckdb

    try:
        table = _run(con, query, params)
    except duckdb.Error as exc:
        raise DataAccessError(_duck_message(exc, con) + "。", table=name) from exc
    _note(name)
    return _with_attrs(con, _to_pandas(table), [name])


def sql(
    query: str, params: dict[str, Any] | list[Any] | tuple[Any, ...] | None = None
) -> pd.DataFrame:
    """Run one read-only SELECT with bound parameters and return a pandas DataFrame.

    Parameters
    ----------
    query : str
        A single ``SELECT`` (or ``WITH … SELECT``) statement. Write values as ``$name`` (with a
        dict) or ``?`` / ``$1`` (with a list); never paste them into the text.
    params : dict or list, optional

    Raises
    ------
    DataAccessError
        When the query is not a single read-only statement or fails.

    Examples
    --------
    >>> ebpm.sql("SELECT * FROM census_population WHERE area_code = $code", {"code": "03201"})  # doctest: +SKIP
    """
    table, tables = _select(query, params)
    return _with_attrs(_shared(), _to_pandas(table), tables)


def rehearse() -> None:
    """Open this process's connection and run one bound query along :func:`sql`'s path, reading no
    table (a warm spare kernel: about 0.1 s off a report's first query). A later build is still
    seen: the connection is reopened when the snapshot changes (:func:`_shared`). Nothing to do
    before the first build."""
    if not config.paths().database.exists():
        return
    sql("SELECT 1 AS x WHERE $a = 1", {"a": 1})
    reset_accessed()


def sql_arrow(
    query: str, params: dict[str, Any] | list[Any] | tuple[Any, ...] | None = None
) -> Any:
    """Like :func:`sql` but return the ``pyarrow.Table`` (types kept exactly; used by the CLI).

    Parameters
    ----------
    query : str
        A single ``SELECT`` (or ``WITH … SELECT``) statement. Write values as ``$name`` (with a
        dict) or ``?`` / ``$1`` (with a list); never paste them into the text.
    params : dict or list, optional

    Raises
    ------
    DataAccessError
        When the query is not a single read-only statement or fails.
    """
    return _select(query, params)[0]


def _select(query: str, params: Any) -> tuple[Any, list[str]]:
    """Run a checked read-only SELECT; return the Arrow table and the curated tables it read."""
    import duckdb

    if not isinstance(query, str):
        raise DataAccessError(
            f"SQL は文字列で指定してください（受け取った型: {type(query).__name__}）。",
            parameter="query",
        )
    if params is not None and not isinstance(params, (dict, list, tuple)):
        raise DataAccessError(
            "値は辞書（$名前 に対応、例: {\"code\": \"03201\"}）かリスト（? や $1 に対応）で渡してください"
            f"（受け取った型: {type(params).__name__}）。",
            parameter="params",
        )
    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as exc:
        raise DataAccessError(
            f"SQL を解釈できません: {_duck_message(exc, _shared())}。", parameter="query"
        ) from exc
    if len(statements) != 1:
        raise DataAccessError("SQL は1文だけにしてください。", parameter="query")
    if statements[0].type != duckdb.StatementType.SELECT:
        raise DataAccessError(
            f"読み取り（SELECT）以外の SQL は実行できません（{statements[0].type.name}）。",
            parameter="query",
        )
    con = _shared()
    try:
        table = _run(con, query, params)
    except duckdb.Error as exc:
        raise DataAccessError(f"{_duck_message(exc, con, query)}。", parameter="query") from exc
    tables = _tables_of(con, query)
    for name in tables:
        _note(name)
    return table, tables


def _to_pandas(table: Any) -> pd.DataFrame:
    """Arrow → pandas with DATE columns as ``datetime64[ns]`` (not Python ``date`` objects), so
    estimators, ``.dt`` and Altair work on them directly; timestamps likewise in nanoseconds;
    DECIMAL/HUGEINT (what ``SUM`` returns) as int64 or float64, never ``Decimal`` objects."""
    import pyarrow as pa

    frame = table.to_pandas(date_as_object=False)
    for field in table.schema:
        if pa.types.is_decimal(field.type) and field.name in frame.columns:
            # SUM() of integers is a HUGEINT/DECIMAL: Python Decimal objects break numpy (np.log)
            col = frame[field.name].astype("float64")
            whole = field.type.scale == 0 and col.notna().all() and (col.abs() < 2**53).all()
            frame[field.name] = col.astype("int64") if whole else col
            continue
        if pa.types.is_date(field.type) or pa.types.is_timestamp(field.type):
            if field.name in frame.columns and getattr(frame[field.name].dt, "tz", None) is None:
                frame[field.name] = frame[field.name].astype("datetime64[ns]")
    return frame


def _tables_of(con: Any, query: str) -> list[str]:
    """Curated tables a query reads (sorted); empty when DuckDB cannot tell."""
    import duckdb

    known = set(_tables(con))
    try:
        return sorted(n for n in con.get_table_names(_without_parameters(query)) if n in known)
    except duckdb.Error:
        # get_table_names binds, and refuses some valid queries (JOIN … USING in DuckDB 1.4);
        # provenance then errs on the side of listing: every known table named as a word in the query
        words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", _PARAMETER_OR_LITERAL.sub(" ", query)))
        return sorted(known & words)


def _with_attrs(con: Any, frame: pd.DataFrame, tables: list[str]) -> pd.DataFrame:
    """Label a result with where it came from, so methods and charts can say so.

    ``attrs``: ``tables`` (curated tables read), ``synthetic`` (any of them 模擬データ),
    ``column_titles`` and ``column_units`` (Japanese titles and units of the result's columns,
    where the tables agree), ``census`` (every table read is a complete enumeration, catalog
    ``census: true``) and ``eligibility`` (the catalog's eligibility column, when the result has it).
    """
    frame.attrs["tables"] = list(tables)
    if not tables:
        return frame
    flags = con.execute(
        "SELECT bool_or(coalesce(synthetic, false)) FROM _ebpm_tables WHERE list_contains($1, name)",
        [tables],
    ).fetchone()[0]
    frame.attrs["synthetic"] = bool(flags)
    titles, units = _labels(con, tables, [str(c) for c in frame.columns])
    frame.attrs["column_titles"] = titles
    frame.attrs["column_units"] = units
    info = _tables(con)
    # 全数 (catalog ``census: true``) only when every table read enumerates all its units
    frame.attrs["census"] = all(bool(info.get(t, {}).get("census")) for t in tables)
    eligible = {
        info[t]["eligibility"]: t for t in tables if t in info and info[t].get("eligibility")
    }
    present = [col for col in eligible if col in frame.columns]
    if present:
        frame.attrs["eligibility"] = present[0]
    from ebpm import labels

    for col in present:  # kept by name too, so a merge does not lose it
        labels.note_eligibility(eligible[col], col)

    for column in frame.columns:  # pandas drops attrs in merge/pivot; labels keep them by name
        if column in titles or column in units:
            for table in tables:
                labels.note(
                    table,
                    str(column),
                    title=titles.get(column, ""),
                    unit=units.get(column, ""),
                    synthetic=bool(flags),
                )
    return frame


def catalog() -> pd.DataFrame:
    """The tables of the curated database: name, Japanese title, rows, vintage, sources, licences,
    synthetic, census (全数) and the eligibility column."""
    import pandas as pd

    con = _shared()
    rows = []
    for t in _tables(con).values():
        sources = json.loads(t["sources"] or "[]")
        rows.append(
            {
                "name": t["name"],
                "title": t["title"],
                "title_en": t["title_en"],
                "rows": int(t["rows"]),
                "vintage": t["vintage"],
                "update": t["update_frequency"],
                "publisher": t["publisher"],
                "licence": t["licence"],
                "attribution": t["attribution"],
                "sources": [s["path"] for s in sources],
                "synthetic": bool(t["synthetic"]),
                "census": bool(t.get("census")),
                "eligibility": t.get("eligibility"),
                "description": t["description"],
            }
        )
    return pd.DataFrame(rows)


def build_info() -> dict[str, Any]:
    """Build id, time and code version of the snapshot (from inside the database)."""
    con = _shared()
    row = first_row(con.execute("SELECT build_id, built_at, code_version FROM _ebpm_build"))
    return {"build_id": row[0], "built_at": row[1], "code_version": row[2]} if row else {}


def manifest() -> dict[str, Any]:
    """The manifest of the snapshot in use (the copy stored inside the database is the truth)."""
    con = _shared()
    row = first_row(con.execute("SELECT manifest FROM _ebpm_build"))
    return json.loads(row[0]) if row else {}


def table_info(name: str) -> dict[str, Any]:
    """Provenance of one table: title, synthetic, vintage, sources (publisher/licence/attribution), build id.

    Returns
    -------
    dict
        ``name, title, title_en, description, synthetic, census, eligibility, rows, vintage, update,
        sources, disclosure, primary_key, columns, build_id, built_at``. ``census`` is the catalog's
        全数 flag; ``eligibility`` the column saying whether a unit can be treated (or None).
    """
    con = _shared()
    _check_table(con, name)
    t = _tables(con)[name]
    cols = con.execute(
        "SELECT name, type, title, title_en, description, unit, constraints, is_primary_key, foreign_key "
        "FROM _ebpm_columns WHERE table_name = $1 ORDER BY position",
        [name],
    ).fetchall()
    keys = [
        "name",
        "type",
        "title",
        "title_en",
        "description",
        "unit",
        "constraints",
        "primary_key",
        "foreign_key",
    ]
    return {
        "name": name,
        "title": t["title"],
        "title_en": t["title_en"],
        "description": t["description"],
        "synthetic": bool(t["synthetic"]),
        "census": bool(t.get("census")),
        "eligibility": t.get("eligibility"),
        "rows": int(t["rows"]),
        "vintage": t["vintage"],
        "update": t["update_frequency"],
        "sources": json.loads(t["sources"] or "[]"),
        "disclosure": json.loads(t["disclosure"]) if t["disclosure"] else None,
        "primary_key": json.loads(t["primary_key"] or "[]"),
        "columns": [dict(zip(keys, c, strict=True)) for c in cols],
        "build_id": t["build_id"],
        "built_at": t["built_at"],
    }


def column_titles(columns: list[str], query: str | None = None) -> dict[str, str]:
    """Japanese titles (項目名) of result columns, taken from the catalog of the tables a query reads.

    A column gets a title only when every table of the query that has it agrees on one.
    """
    import duckdb

    con = _shared()
    tables = list(_tables(con))
    if query:
        try:
            named = con.get_table_names(_without_parameters(query))
            tables = [t for t in tables if t in named]
        except duckdb.Error:
            pass
    return _labels(con, tables, list(columns))[0]


def _labels(con: Any, tables: list[str], columns: list[str]) -> tuple[dict, dict]:
    """Japanese titles and units of ``columns`` where every table in ``tables`` that has one agrees."""
    if not tables or not columns:
        return {}, {}
    rows = con.execute(
        "SELECT name, list(DISTINCT title) FILTER (WHERE title <> ''), "
        "list(DISTINCT unit) FILTER (WHERE unit <> '') FROM _ebpm_columns "
        "WHERE list_contains($1, table_name) AND list_contains($2, name) GROUP BY name",
        [tables, columns],
    ).fetchall()
    titles = {n: t[0] for n, t, _ in rows if t is not None and len(t) == 1}
    units = {n: u[0] for n, _, u in rows if u is not None and len(u) == 1}
    return titles, units


_PARAMETER_OR_LITERAL = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\$\w+|\?")


def _without_parameters(query: str) -> str:
    """The query with bound placeholders ($name, $1, ?) replaced by NULL, string literals kept.

    DuckDB's ``get_table_names`` refuses queries with prepared parameters; the table names do not
    depend on the values, so NULL stands in for them.
    """
    return _PARAMETER_OR_LITERAL.sub(
        lambda m: m.group(0) if m.group(0)[0] in "'\"" else "NULL", query
    )


def accessed_tables() -> list[str]:
    """Tables this process has read through :func:`load` or :func:`sql`, in first-use order."""
    return list(_accessed)


def access_log() -> list[str]:
    """Every read through :func:`load` or :func:`sql` in this process, in order (with repeats)."""
    return list(_log)


def reset_accessed() -> None:
    """Forget the tables read so far (a report run starts a fresh provenance list)."""
    _accessed.clear()

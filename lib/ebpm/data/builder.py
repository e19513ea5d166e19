"""`ebpm build`: raw sources + catalog → a new checked DuckDB snapshot, swapped in atomically with its manifest."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ebpm import config
from ebpm.data.spec import TYPE_LABELS_JA, TableSpec, load_catalog, load_source, sha256_file
from ebpm.data.checks import CheckResult, run_all
from ebpm.data.dberrors import parse as parse_duckdb
from ebpm.data.schema import display_path
from ebpm.errors import BuildError, EbpmError, did_you_mean
from ebpm.data.snapshot import (  # noqa: F401 - re-exported: tests and tools use ebpm.data.builder.<name>
    LOCK_NAME,
    PAUSE_ENV,
    PAUSE_SECONDS_ENV,
    STAGES,
    TMP_PREFIX,
    atomic_write_text,
    build_lock,
    clean_stale,
    code_version,
    fsync_dir,
    pause,
    read_embedded_manifest,
    repair_manifest,
    write_metadata,
)
from ebpm.data.staging import (
    INGEST_ONLY_KEYS,
    Staged,
    duckdb_read_error,
    first_row,
    quote_ident,
    stage,
    unstage,
)


_NUMERIC = ("integer", "number", "year")
#: text a cast to an integer type changes: leading zeros, any decimal point (DuckDB rounds 1.5 to 2),
#: full-width digits
_LOSSY_INT = r"^[+-]?0[0-9]|\.|[０-９]"
#: text a cast to a number changes beyond formatting: leading zeros, full-width digits
_LOSSY_NUM = r"^[+-]?0[0-9]|[０-９]"


@dataclass
class _Provenance:
    source: str
    path: str
    title_ja: str
    publisher: str
    licence: str
    licence_url: str
    attribution: str
    retrieved: str
    synthetic: bool

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


JST = dt.timezone(dt.timedelta(hours=9), "JST")  # one clock for build and report ids


def _duckdb_type_ja(name: str) -> str:
    """Japanese name of a DuckDB type in a conversion error (INT32 → 整数)."""
    upper = name.upper()
    if upper.startswith(("INT", "BIGINT", "SMALLINT", "TINYINT", "HUGEINT", "UINT", "UBIGINT")):
        return "整数"
    if upper.startswith(("DOUBLE", "FLOAT", "DECIMAL", "REAL")):
        return "数値"
    if upper.startswith("TIMESTAMP"):
        return "日時"
    return {"DATE": "日付", "BOOLEAN": "真偽値", "BOOL": "真偽値", "TIME": "時刻"}.get(upper, upper)


def dependencies(specs: list[TableSpec], names: list[str]) -> set[str]:
    """``names`` and every table they reference, transitively (what ``--only`` rebuilds).

    Raises
    ------
    ParameterError
        For a name that is not in the catalog (with the closest names).
    """
    import difflib

    from ebpm.errors import ParameterError

    by_name = {s.name: s for s in specs}
    out: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in out:
            continue
        if name not in by_name:
            close = difflib.get_close_matches(name, list(by_name), n=3)
            hint = f"（近い名前: {', '.join(close)}）" if close else ""
            raise ParameterError(
                f"テーブル「{name}」はカタログにありません{hint}。", parameter="only"
            )
        out.add(name)
        todo += [r for r in by_name[name].references if r in by_name]
    return out


def dependents(specs: list[TableSpec], names: list[str] | set[str]) -> set[str]:
    """Every table that references one of ``names`` (foreign key or ``depends_on``), transitively.

    ``--only`` rebuilds these too: their foreign-key and SQL checks, and for ``depends_on`` their
    very rows, depend on the table that changed. Copying them unchecked could publish a snapshot
    whose checks were never run against the new data.
    """
    out: set[str] = set()
    todo = set(names)
    while todo:
        found = {s.name for s in specs if s.references & todo and s.name not in out}
        found -= set(names)
        out |= found
        todo = found
    return out


class _Builder:
    def __init__(
        self,
        paths: config.Paths,
        console: Any | None,
        *,
        check: bool = False,
        keep_going: bool = False,
        only: list[str] | None = None,
    ):
        self.paths = paths
        self.console = console
        self.check = check
        self.keep_going = keep_going
        self.only = list(only or [])
        self.hashes: dict[str, str] = {}  # raw-relative path -> sha256
        self.sources_yml: dict[str, dict[str, Any]] = {}
        self.staged: list[Staged] = []
        self.specs: list[TableSpec] = []
        self.normalised: list[str] = []
        self.current: TableSpec | None = None  # the table being built (for error locations)
        self._traced: str | None = None  # its transform with the hidden source row (error path)
        self._traced_for: str | None = None
        self._try_exprs: dict[str, str] = {}  # field -> the build's cast, as TRY_CAST

    # --- inputs ---------------------------------------------------------------------------------
    def source_meta(self, folder: str) -> dict[str, Any]:
        if folder not in self.sources_yml:
            self.sources_yml[folder] = load_source(self.paths.raw / folder, strict=True)
        return self.sources_yml[folder]

    def verify_input(self, rel: str) -> str:
        """sha256 of one raw file, checked against its SOURCE.yml entry."""
        if rel in self.hashes:
            return self.hashes[rel]
        folder, _, inner = rel.partition("/")
        meta = self.source_meta(folder)
        digest = sha256_file(self.paths.raw / rel)
        entry = meta["files"].get(inner)
        if entry is None:
            raise BuildError(
                "このファイルが SOURCE.yml の files にありません。"
                f"files に「- {{path: {inner}, sha256: {digest}}}」と説明を追記してください。",
                file=rel,
            )
        expected = entry.get("sha256")
        if expected != digest:
            size = (self.paths.raw / rel).stat().st_size
            recorded_size = f"・{entry['bytes']:,}バイト" if entry.get("bytes") else ""
            users = sorted(s.name for s in self.specs if any(x.path == rel for x in s.sources))
            raise BuildError(
                "ファイルの sha256 が SOURCE.yml と一致しません。原データが変更されたか、途中で切れています。"
                "原データは変更せず、更新する場合は取得日と sha256 を SOURCE.yml に記録してください。"
                f"\n  記録: {expected}{recorded_size}"
                f"\n  実際: {digest}・{size:,}バイト"
                f"\n  このファイルを使うテーブル: {', '.join(users) or 'なし'}",
                file=rel,
            )
        self.hashes[rel] = digest
        return digest

    def provenance(self, spec: TableSpec) -> list[_Provenance]:
        out = []
        for src in spec.sources:
            meta = dict(self.source_meta(src.folder))
            # a file entry may override the folder's title/publisher/licence/attribution
            entry = meta["files"].get(src.path.partition("/")[2]) or {}
            meta.update(
                {
                    k: entry[k]
                    for k in ("publisher", "licence", "licence_url", "attribution")
                    if entry.get(k)
                }
            )
            origin = meta.get("origin") or {}
            out.append(
                _Provenance(
                    source=src.folder,
                    path=src.path,
                    title_ja=str(meta.get("title_ja", "")),
                    publisher=spec.overrides.get("publisher", str(meta.get("publisher", ""))),
                    licence=spec.overrides.get("licence", str(meta.get("licence", ""))),
                    licence_url=spec.overrides.get(
                        "licence_url",
                        str(
                            meta.get("licence_url", "")
                            or (origin.get("url", "") if isinstance(origin, dict) else "")
                        ),
                    ),
                    attribution=spec.overrides.get("attribution", str(meta.get("attribution", ""))),
                    retrieved=str(meta.get("retrieved", "")),
                    synthetic=bool(meta.get("synthetic", spec.synthetic)),
                )
            )
        return out

    # --- one table --------------------------------------------------------------------------------
    def missing_sources(self, spec: TableSpec) -> list[str]:
        return [s.path for s in spec.sources if not (self.paths.raw / s.path).exists()]

    def locate(
        self, values: dict[str, Any], column: str | None = None, nth: int = 1
    ) -> tuple[str, int] | None:
        """Find the source row of an offending record (error path only).

        First through the traced transform (:mod:`ebpm.data.trace`): the record's values are
        matched in the transform's output, which carries the hidden source file and row even
        after renames, filters and derived columns. When the transform cannot be traced, a
        source row matches when every column of ``values`` that the source also has (same name)
        holds the same value; the failing ``column`` itself must be among them. When neither
        works no row is named rather than a wrong one.
        """
        with contextlib.suppress(Exception):  # best effort, never hide the real error
            hit = self._locate_traced(values, column, nth)
            if hit:
                return hit
        for st in self.staged:
            try:
                cols = {
                    r[0]
                    for r in self.con.execute(
                        f"DESCRIBE SELECT * FROM {quote_ident(st.name)}"
                    ).fetchall()
                }
                shared = {c: v for c, v in values.items() if c in cols}
                needed = [c for c in (column or "").split(",") if c]
                if not shared or any(c not in shared for c in needed):
                    continue
                conds = [
                    f"CAST({quote_ident(c)} AS VARCHAR) = ${i + 1}" for i, c in enumerate(shared)
                ]
                row = first_row(
                    self.con.execute(
                        f"SELECT _n FROM (SELECT row_number() OVER () AS _n, * FROM {quote_ident(st.name)}) "
                        f"WHERE {' AND '.join(conds)} ORDER BY _n LIMIT 1 OFFSET {int(nth) - 1}",
                        [str(v) for v in shared.values()],
                    )
                )
            except Exception:  # noqa: BLE001 - best effort, never hide the real error
                continue
            if row:
                return st.file, st.row_of(int(row[0]))
        return None

    def _transform_sql(self, spec: TableSpec) -> str | None:
        if spec.transform:
            return spec.transform.strip().rstrip(";")
        if len(spec.sources) == 1:
            return f"SELECT * FROM {quote_ident(spec.sources[0].name)}"
        return None

    def _locate_traced(
        self, values: dict[str, Any], column: str | None, nth: int
    ) -> tuple[str, int] | None:
        """Match ``values`` in the transform's output with its hidden source row (see ebpm.data.trace)."""
        from ebpm.data.trace import ROW, SRC, VIEW_PREFIX, traced_sql

        spec = self.current
        transform = self._transform_sql(spec) if spec is not None else None
        if transform is None or not self.staged:
            return None
        by_name = {st.name: st for st in self.staged}
        views = {name: f"{VIEW_PREFIX}{name}" for name in by_name}
        con = self.con
        try:
            for name, view in views.items():
                con.execute(
                    f"CREATE OR REPLACE TEMP VIEW {quote_ident(view)} AS SELECT *, "
                    f"'{name.replace(chr(39), chr(39) * 2)}' AS {SRC}, "
                    f"row_number() OVER () AS {ROW} FROM {quote_ident(name)}"
                )
            if self._traced_for != spec.name:
                self._traced = traced_sql(con, transform, views)
                self._traced_for = spec.name
            if not self._traced:
                return None
            out = {
                r[0]
                for r in con.execute(f"DESCRIBE SELECT * FROM ({self._traced}) AS _t").fetchall()
            }
            use = {c: v for c, v in values.items() if c in out and c not in (SRC, ROW)}
            needed = [c for c in (column or "").split(",") if c]
            if not use or any(c not in use for c in needed):
                return None
            conds, params = [], []
            for c, v in use.items():
                params.append(v)
                k = len(params)
                typed = self._try_exprs.get(c, quote_ident(c))
                conds.append(
                    f"(CAST({quote_ident(c)} AS VARCHAR) = CAST(${k} AS VARCHAR) "
                    f"OR CAST({typed} AS VARCHAR) = CAST(${k} AS VARCHAR))"
                )
            row = first_row(
                con.execute(
                    f"SELECT {SRC}, {ROW} FROM (SELECT row_number() OVER () AS _n, * "
                    f"FROM ({self._traced}) AS _t) WHERE {ROW} IS NOT NULL AND {' AND '.join(conds)} "
                    f"ORDER BY _n LIMIT 1 OFFSET {int(nth) - 1}",
                    params,
                )
            )
        finally:
            for view in views.values():
                with contextlib.suppress(Exception):
                    con.execute(f"DROP VIEW IF EXISTS {quote_ident(view)}")
        if not row or row[0] not in by_name:
            return None
        st = by_name[row[0]]
        return st.file, st.row_of(int(row[1]))

    def create_table(self, spec: TableSpec) -> None:
        import duckdb

        con = self.con
        transform = self._transform_sql(spec)
        if transform is None:
            raise BuildError(
                "sources が2つ以上あるときは transform（SQL）が必要です。",
                table=spec.name,
                file=spec.file,
            )
        files = ", ".join(s.path for s in spec.sources)
        try:
            described = con.execute(f"DESCRIBE SELECT * FROM ({transform}) AS _t").fetchall()
        except duckdb.Error as exc:
            raise self._sql_error(spec, exc, files) from exc
        out_types = {r[0]: r[1] for r in described}
        exprs = []
        for f in spec.fields:
            if f.name not in out_types:
                line = spec.line("schema", "fields", spec.field_names.index(f.name))
                hint = did_you_mean(f.name, list(out_types))
                if spec.transform:  # the schema or the transform is wrong: point at the catalog
                    raise BuildError(
                        f"transform の結果に列「{f.name}」がありません。{hint}"
                        f"（結果の列: {', '.join(out_types)}）。schema.fields の名前か transform の"
                        "列名（AS …）を確かめてください。",
                        table=spec.name,
                        column=f.name,
                        file=display_path(spec.file),
                        row=line,
                    )
                raise BuildError(
                    f"原データに列「{f.name}」がありません。{hint}（原データの列: {', '.join(out_types)}）。"
                    "原データの列名が変わっていないか確かめてください"
                    f"（カタログ {display_path(spec.file)} の{line or '?'}行目）。",
                    table=spec.name,
                    column=f.name,
                    file=files,
                )
            expr = quote_ident(f.name)
            missing = f.missing_values if f.missing_values is not None else spec.missing_values
            if out_types[f.name] == "VARCHAR" and missing:
                # Frictionless semantics: a cell equal to one of the strings is missing (exact match)
                listed = ["'" + v.replace("'", "''") + "'" for v in missing]
                if len(listed) == 1:
                    expr = f"nullif({expr}, {listed[0]})"
                else:
                    expr = f"CASE WHEN {expr} IN ({', '.join(listed)}) THEN NULL ELSE {expr} END"
            if out_types[f.name] != f.duckdb_type:
                expr = f"CAST({expr} AS {f.duckdb_type})"
            exprs.append((f, expr))
            self._try_exprs[f.name] = (
                "TRY_CAST(" + expr[len("CAST(") :] if expr.startswith("CAST(") else expr
            )
        lossy = [
            f for f in spec.fields if f.type in _NUMERIC and out_types.get(f.name) == "VARCHAR"
        ]
        if lossy:
            try:
                self.refuse_lossy(spec, f"({transform}) AS _t", lossy, None)
            except duckdb.Error as exc:  # the transform itself fails (e.g. a CAST in its SQL)
                raise self._sql_error(spec, exc, files) from exc
        select = ", ".join(f"{e} AS {quote_ident(f.name)}" for f, e in exprs)
        try:
            con.execute(
                f"CREATE TABLE {quote_ident(spec.name)} AS SELECT {select} FROM ({transform}) AS _t"
            )
        except duckdb.Error as exc:
            read_err = duckdb_read_error(exc, self.staged)
            if read_err is not None:
                read_err.table = spec.name
                raise type(read_err)(
                    read_err.message, table=spec.name, file=read_err.file, row=read_err.row
                ) from exc
            for f, e in exprs:
                if "CAST(" not in e:
                    continue
                inner = e[len("CAST(") : e.rindex(" AS ")]
                try:
                    bad = first_row(
                        con.execute(
                            f"SELECT {quote_ident(f.name)} FROM ({transform}) AS _t "
                            f"WHERE {inner} IS NOT NULL AND TRY_CAST({inner} AS {f.duckdb_type}) IS NULL LIMIT 1"
                        )
                    )
                except duckdb.Error:  # the transform itself fails: explained below
                    break
                if bad:
                    where = self.locate({f.name: bad[0]}, f.name) or (None, None)
                    raise BuildError(
                        f"値「{bad[0]}」を{TYPE_LABELS_JA[f.type]}（{f.type}）に変換できません。"
                        "欠損を表す記号なら schema.missingValues に加えてください。",
                        table=spec.name,
                        column=f.name,
                        file=where[0] or files,
                        row=where[1],
                    ) from exc
            raise self._sql_error(spec, exc, files) from exc

    def refuse_lossy(
        self, spec: TableSpec, relation: str, fields: list[Any], staged: Staged | None
    ) -> None:
        """Refuse numeric fields whose text the cast would change (``0001`` → 1, ``1.5`` → 2, １２).

        ``staged``: the relation is this raw file read as text, so row numbers are its rows.
        """
        conds = {}
        for f in fields:
            col = f"trim(CAST({quote_ident(f.name)} AS VARCHAR))"
            missing = f.missing_values if f.missing_values is not None else spec.missing_values
            listed = ", ".join("'" + v.replace("'", "''") + "'" for v in missing) or "NULL"
            pattern = _LOSSY_INT if f.type in ("integer", "year") else _LOSSY_NUM
            conds[f.name] = (
                f"{col} IS NOT NULL AND {col} NOT IN ({listed}) AND regexp_matches({col}, '{pattern}')"
            )
        parts = [f"count(*) FILTER (WHERE {c})" for c in conds.values()]
        counts = first_row(self.con.execute(f"SELECT {', '.join(parts)} FROM {relation}"))
        for f, n in zip(fields, counts, strict=True):
            if not n:
                continue
            rows = self.con.execute(
                f"SELECT _n, {quote_ident(f.name)} FROM (SELECT row_number() OVER () AS _n, * "
                f"FROM {relation}) WHERE {conds[f.name]} "
                "ORDER BY _n LIMIT 5"
            ).fetchall()
            shown = "、".join(f"「{v}」" for _n, v in rows)
            if staged is not None:
                file, row = staged.file, staged.row_of(int(rows[0][0]))
            else:
                file, row = self.locate({f.name: rows[0][1]}, f.name) or (
                    ", ".join(s.path for s in spec.sources),
                    None,
                )
            raise BuildError(
                f"{TYPE_LABELS_JA[f.type]}（type: {f.type}）に変換すると値が変わってしまう値が{n}行あります"
                f"（例: {shown}）。先頭の 0・小数・全角数字はコードや番号の印です。"
                f"コードや番号なら catalog で「type: string」にしてください"
                f"（{display_path(spec.file)} の {spec.line('schema', 'fields', spec.field_names.index(f.name)) or '?'}行目）。",
                table=spec.name,
                column=f.name,
                file=file,
                row=row,
            )

    def _sql_error(self, spec: TableSpec, exc: Exception, files: str) -> EbpmError:
        """A DuckDB error from the transform, in Japanese: catalog file and line, what exists,
        the raw row of a value that does not convert, and DuckDB's own words on a 詳細 line."""
        read_err = duckdb_read_error(exc, self.staged)
        if read_err is not None:
            return type(read_err)(
                read_err.message, table=spec.name, file=read_err.file, row=read_err.row
            )
        full = str(exc) or type(exc).__name__
        first = full.splitlines()[0]
        detail = f"\n  詳細: {first}"
        catalog = display_path(spec.file)
        line = self._transform_line(spec, full)
        at = f"（{catalog} の{line}行目）" if line else f"（{catalog}）"
        problem = parse_duckdb(full)
        if problem.kind == "column":
            name = problem.name
            raw = self._raw_columns()
            hint = did_you_mean(name, [c for _s, _f, cols in raw for c in cols])
            listing = "".join(
                f"\n  {src}（{file}）の列: {', '.join(cols)}" for src, file, cols in raw
            )
            return BuildError(
                f"transform が参照する列「{name}」が原データにありません。{hint}"
                f"原データの列名（見出し）を確かめてください。{listing}{detail}",
                table=spec.name,
                column=name,
                file=catalog,
                row=line,
            )
        if problem.kind == "table":
            name = problem.name
            known = [s.name for s in spec.sources] + sorted(spec.references)
            hint = did_you_mean(name, known)
            return BuildError(
                f"transform が参照する名前「{name}」は sources にも参照先のテーブルにもありません。{hint}"
                f"使える名前: {', '.join(known)}{detail}",
                table=spec.name,
                file=catalog,
                row=line,
            )
        if problem.kind == "function":
            hint = f"もしかして「{problem.suggestions[0]}」ですか？" if problem.suggestions else ""
            return BuildError(
                f"transform の関数「{problem.name}」は DuckDB にありません。{hint}{detail}",
                table=spec.name,
                file=catalog,
                row=line,
            )
        if problem.kind == "conversion" and "Conversion Error" in first:
            value, target = problem.name, problem.target
            kind = _duckdb_type_ja(target)
            source_col = re.search(r"source column (\S+)", first)
            hit = self._find_raw_value(value, source_col.group(1) if source_col else None)
            where = (
                dict(file=hit[0], row=hit[1], column=hit[2])
                if hit
                else {"file": catalog, "row": line}
            )
            return BuildError(
                f"transform の中で値「{value}」を{kind}に変換できません{at}。"
                "欠損を表す記号なら変換の前に NULL にするか（nullif・TRY_CAST）、原データを確かめてください。"
                f"{detail}",
                table=spec.name,
                **where,
            )
        if problem.kind == "syntax":
            return BuildError(
                "transform の SQL に書き方の誤りがあります"
                + (f"（「{problem.target}」の近く）" if problem.target else "")
                + f"。{detail}",
                table=spec.name,
                file=catalog,
                row=line,
            )
        return BuildError(
            f"transform の SQL を実行できません。{detail}", table=spec.name, file=catalog, row=line
        )

    def _transform_line(self, spec: TableSpec, message: str) -> int | None:
        """Catalog line of the transform (of the line DuckDB points at, when it says ``LINE n``)."""
        key = spec.line("transform") if spec.transform else None
        if key is None:
            return None
        real = Path(spec.file)
        if not real.is_file():  # spec.file is shown relative; the catalog folder holds the file
            real = self.paths.catalog / real.name
        try:
            text = real.read_text(encoding="utf-8").splitlines()
        except OSError:
            return key
        after = text[key - 1].split(":", 1)[1].strip() if ":" in text[key - 1] else ""
        start = key
        if after[:1] in ("|", ">"):  # block scalar: the SQL starts on the next non-blank line
            start = key + 1
            while start <= len(text) and not text[start - 1].strip():
                start += 1
        m = re.search(r"LINE (\d+):", message)
        return start + int(m.group(1)) - 1 if m else start

    def _raw_columns(self) -> list[tuple[str, str, list[str]]]:
        """(relation, raw file, columns) of every staged source."""
        out = []
        for st in self.staged:
            with contextlib.suppress(Exception):
                cols = [
                    r[0]
                    for r in self.con.execute(
                        f"DESCRIBE SELECT * FROM {quote_ident(st.name)}"
                    ).fetchall()
                ]
                out.append((st.name, st.file, cols))
        return out

    def _find_raw_value(self, value: str, column: str | None) -> tuple[str, int, str] | None:
        """(file, row, column) of the first raw cell holding ``value`` (the named column first)."""
        for st, cols in (
            (st, cols)
            for st in self.staged
            for _s, _f, cols in self._raw_columns()
            if _s == st.name
        ):
            ordered = sorted(cols, key=lambda c: c != column)
            for c in ordered:
                with contextlib.suppress(Exception):
                    row = first_row(
                        self.con.execute(
                            f"SELECT _n FROM (SELECT row_number() OVER () AS _n, {quote_ident(c)} AS _v "
                            f"FROM {quote_ident(st.name)}) WHERE CAST(_v AS VARCHAR) = $1 ORDER BY _n LIMIT 1",
                            [value],
                        )
                    )
                    if row:
                        return st.file, st.row_of(int(row[0])), c
        return None

    def build_table(self, spec: TableSpec, available: set[str]) -> tuple[int, list[CheckResult]]:
        from concurrent.futures import ThreadPoolExecutor

        # hash the raw files while DuckDB reads them (hashlib releases the GIL)
        with ThreadPoolExecutor(max_workers=1) as pool:
            verified = pool.submit(lambda: [self.verify_input(src.path) for src in spec.sources])
            try:
                return self._build_table(spec, available, verified)
            except BaseException:
                verified.result()  # a changed or truncated raw file explains a failure best
                raise

    def _build_table(
        self, spec: TableSpec, available: set[str], verified: Any
    ) -> tuple[int, list[CheckResult]]:
        self.staged = []
        self.current = spec
        self._try_exprs = {}
        self._traced_for = None
        if self._fast_path(spec):
            lossy_error: BuildError | None = None
            try:
                src = spec.sources[0]
                types = {f.name: f.duckdb_type for f in spec.fields}
                self.staged.append(
                    stage(
                        self.con,
                        src,
                        self.paths.raw,
                        self.workdir,
                        types=types,
                        nullstr=spec.missing_values,
                    )
                )
                lossy = [f for f in spec.fields if f.type in _NUMERIC]
                if lossy and self.staged[0].text_from:
                    try:
                        self.refuse_lossy(spec, self.staged[0].text_from, lossy, self.staged[0])
                    except BuildError as err:
                        lossy_error = err
                        raise
                self.create_table(spec)
            except Exception:  # noqa: BLE001 - redo the careful way, which names the value and row
                for st in self.staged:
                    with contextlib.suppress(Exception):
                        unstage(self.con, st)
                with contextlib.suppress(Exception):
                    self.con.execute(f"DROP TABLE IF EXISTS {quote_ident(spec.name)}")
                self.staged = []
                if lossy_error is not None:
                    raise lossy_error from None
            else:
                return self._check_table(spec, available, verified)
        try:
            for src in spec.sources:
                try:
                    self.staged.append(stage(self.con, src, self.paths.raw, self.workdir))
                except EbpmError as err:
                    if err.table:
                        raise
                    raise type(err)(
                        err.message,
                        table=spec.name,
                        file=err.file or src.path,
                        row=err.row,
                        column=err.column,
                        parameter=err.parameter,
                    ) from err
            self.create_table(spec)
        except BaseException:
            for st in self.staged:
                with contextlib.suppress(Exception):
                    unstage(self.con, st)
            raise
        return self._check_table(spec, available, verified)

    def _fast_path(self, spec: TableSpec) -> bool:
        """A whole UTF-8/CP932 CSV taken as it is: let DuckDB parse the schema types while reading."""
        if spec.transform or len(spec.sources) != 1 or spec.sources[0].reader != "csv":
            return False
        options = spec.sources[0].options
        if (
            options.get("ingest")
            or INGEST_ONLY_KEYS & set(options)
            or options.get("all_varchar") is False
        ):
            return False
        return all(f.missing_values is None for f in spec.fields)

    def _check_table(
        self, spec: TableSpec, available: set[str], verified: Any
    ) -> tuple[int, list[CheckResult]]:
        # what ingest normalised (title rows skipped, blank rows dropped, widths converted)
        self.normalised = [n for st in self.staged for n in st.notes]
        try:
            verified.result()
            results = run_all(self.con, spec, available, self.locate)
        finally:
            for st in self.staged:
                with contextlib.suppress(Exception):
                    unstage(self.con, st)
        rows = int(first_row(self.con.execute(f"SELECT count(*) FROM {quote_ident(spec.name)}"))[0])
        return rows, results

    def _one_table(self, spec: TableSpec, available: set[str], manifest: dict[str, Any]) -> Any:
        """Build one table into the new snapshot and record it in ``manifest`` (rows, or "skip")."""
        import duckdb

        missing = self.missing_sources(spec)
        optional = spec.optional or all(s.optional for s in spec.sources if s.path in missing)
        if missing and optional:
            manifest["skipped"][spec.name] = f"原データがありません: {', '.join(missing)}"
            return "skip"
        if missing:
            raise BuildError(
                "原データのファイルがありません（catalog の path を確かめるか、optional: true にしてください）。",
                table=spec.name,
                file=missing[0],
            )
        try:
            rows, results = self.build_table(spec, available)
        except duckdb.Error as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise BuildError(
                f"DuckDB がエラーを返しました。\n  詳細: {first}",
                table=spec.name,
                file=display_path(spec.file),
            ) from exc
        available.add(spec.name)
        manifest["tables"][spec.name] = {
            "rows": rows,
            "title": spec.title,
            "title_en": spec.title_en,
            "synthetic": spec.synthetic,
            "vintage": str(spec.freshness.get("vintage", "")) or None,
            "update": spec.freshness.get("update"),
            "next_due": str(spec.freshness["next_due"]) if spec.freshness.get("next_due") else None,
            "sources": [p.to_dict() for p in self.provenance(spec)],
            "disclosure": spec.disclosure,
            "normalised": self.normalised,
            "columns": {f.name: f.type for f in spec.fields},
            "checks": [r.to_dict() for r in results],
        }
        return rows

    def _copy_previous(
        self,
        previous: dict[str, Any],
        targets: set[str],
        manifest: dict[str, Any],
        available: set[str],
    ) -> None:
        """``--only``: carry every other table over from the live snapshot, unchanged."""
        db = str(self.paths.database).replace("'", "''")
        self.con.execute(f"ATTACH '{db}' AS _prev (READ_ONLY)")
        try:
            for name, info in previous.get("tables", {}).items():
                if name in targets or name in available:
                    continue
                self.con.execute(
                    f"CREATE TABLE {quote_ident(name)} AS SELECT * FROM _prev.{quote_ident(name)}"
                )
                manifest["tables"][name] = info
                for src in info.get("sources", []):
                    digest = previous.get("inputs", {}).get(src["path"])
                    if digest and src["path"] not in self.hashes:
                        self.hashes[src["path"]] = digest
            for name, reason in previous.get("skipped", {}).items():
                if name not in targets:
                    manifest["skipped"].setdefault(name, reason)
        finally:
            self.con.execute("DETACH _prev")
        manifest["only"] = sorted(targets)

    # --- metadata -------------------------------------------------------------------------------
    # --- the whole build ----------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        import duckdb

        paths = self.paths
        specs = load_catalog(paths.catalog)
        self.specs = specs
        pause("catalog")
        now = dt.datetime.now(JST)
        targets = None
        users: set[str] = set()
        if self.only:
            # the tables asked for, every table that references them (their checks and rows depend
            # on them), and whatever those reference (needed for the foreign-key checks)
            requested = dependencies(specs, self.only)  # also refuses unknown names
            users = dependents(specs, set(self.only))
            targets = dependencies(specs, sorted(requested | users))
        previous = _read_json(paths.manifest)
        if targets is not None and (previous is None or not paths.database.exists()):
            from ebpm.errors import ParameterError

            raise ParameterError(
                "--only には前回の整備済みデータベースが必要です。先に ebpm build を実行してください。",
                parameter="only",
            )
        build_id = f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
        tmp_db = paths.curated / f"{TMP_PREFIX}{build_id}.duckdb"
        self.workdir = paths.curated / f"{TMP_PREFIX}{build_id}.d"
        self.workdir.mkdir()
        manifest: dict[str, Any] = {
            "build_id": build_id,
            "previous_build_id": (previous or {}).get("build_id"),
            "built_at": now.isoformat(timespec="seconds"),
            "code_version": code_version(paths.root),
            "database": paths.database.name,
            "inputs": {},
            "tables": {},
            "skipped": {},
        }
        self.con = duckdb.connect(str(tmp_db))
        try:
            self.con.execute(
                f"SET temp_directory='{str(self.workdir).replace(chr(39), chr(39) * 2)}'"
            )
            available: set[str] = set()
            failures: list[EbpmError] = []
            failed: set[str] = set()
            todo = [s for s in specs if targets is None or s.name in targets]
            with self._progress(len(todo)) as tick:
                for spec in todo:
                    tick(spec, None)
                    blocked = sorted(r for r in spec.references if r in failed)
                    if blocked:
                        failures.append(
                            BuildError(
                                f"参照先のテーブル {', '.join(blocked)} の構築に失敗したため、構築できません。",
                                table=spec.name,
                                file=spec.file,
                            )
                        )
                        failed.add(spec.name)
                        tick(spec, "fail")
                        continue
                    try:
                        outcome = self._one_table(spec, available, manifest)
                    except EbpmError as err:
                        if not self.keep_going:
                            raise
                        failures.append(err)
                        failed.add(spec.name)
                        tick(spec, "fail")
                        continue
                    tick(spec, outcome)
                    pause("table")
            if failures:
                raise BuildFailures(failures)
            if targets is not None:
                self._copy_previous(previous, targets, manifest, available)
                manifest["only_dependents"] = sorted(users)
            manifest["inputs"] = dict(sorted(self.hashes.items()))
            if self.check:
                manifest["mode"] = "check"
                return manifest
            write_metadata(self.con, manifest, specs)
            pause("metadata")
            self.con.execute("CHECKPOINT")
            self.con.close()
            with open(tmp_db, "rb+") as fh:
                os.fsync(fh.fileno())
            pause("before_swap")
            os.replace(tmp_db, paths.database)
            fsync_dir(paths.curated)
            pause("after_swap")
            text = json.dumps(manifest, ensure_ascii=False, indent=2)
            atomic_write_text(paths.manifest, text)
            history = paths.curated / "history"
            history.mkdir(exist_ok=True)
            atomic_write_text(history / f"{build_id}.json", text)
            try:
                from ebpm.data.validation import render_validation

                atomic_write_text(paths.curated / "validation.html", render_validation(manifest))
            except Exception as exc:  # noqa: BLE001 - the snapshot is good; say the report is not
                self._say(f"[yellow]検証結果の一覧を作成できませんでした: {exc}[/]")
            try:
                from ebpm.data.dictionary import render_dictionary

                atomic_write_text(paths.dictionary, render_dictionary(manifest, specs))
            except Exception as exc:  # noqa: BLE001 - the snapshot is good; say the dictionary is not
                self._say(f"[yellow]データ定義書を作成できませんでした: {exc}[/]")
            pause("done")
            return manifest
        except duckdb.Error as exc:
            raise BuildError(
                f"データ構築中に DuckDB がエラーを返しました。\n  詳細: {str(exc).splitlines()[0]}"
            ) from exc
        finally:
            with contextlib.suppress(Exception):
                self.con.close()
            tmp_db.unlink(missing_ok=True)
            Path(f"{tmp_db}.wal").unlink(missing_ok=True)
            shutil.rmtree(self.workdir, ignore_errors=True)

    # --- progress -----------------------------------------------------------------------------------
    def _say(self, text: str) -> None:
        if self.console is not None:
            self.console.print(text, highlight=False)

    @contextlib.contextmanager
    def _progress(self, total: int) -> Iterator[Any]:
        if self.console is None:
            yield lambda spec, state: None
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        with Progress(
            SpinnerColumn(),
            TextColumn("[bold]データ構築[/] {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        ) as progress:
            task = progress.add_task("", total=total)

            def tick(spec: TableSpec, state: Any) -> None:
                if state is None:
                    progress.update(task, description=f"{spec.name}（{spec.title}）")
                    return
                label = (
                    "[yellow]省略（原データなし・optional）[/]"
                    if state == "skip"
                    else "[red]失敗[/]"
                    if state == "fail"
                    else f"{state:,}行"
                )
                mark = {"skip": "–", "fail": "[red]✗[/]"}.get(state, "[green]✓[/]")
                progress.console.print(
                    f"{mark} {spec.name}（{spec.title}）: {label}", highlight=False
                )
                progress.advance(task)

            yield tick


class BuildFailures(BuildError):
    """``--keep-going``: every table that failed, in one error (nothing was swapped)."""

    def __init__(self, failures: list[EbpmError]):
        self.failures = failures
        lines = "\n".join("  - " + str(err).replace("\n", "\n    ") for err in failures)
        super().__init__(f"{len(failures)}個のテーブルで構築に失敗しました:\n{lines}")


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def build(
    *,
    console: Any | None = None,
    paths: config.Paths | None = None,
    check: bool = False,
    keep_going: bool = False,
    only: list[str] | None = None,
) -> dict[str, Any]:
    """Build the curated database from data/raw and data/catalog; swap it in only if every check passes.

    Parameters
    ----------
    console : rich.console.Console, optional
        Where progress is shown (``None``: silent).
    paths : config.Paths, optional
        Defaults to :func:`ebpm.config.paths` (honours EBPM_RAW / EBPM_CATALOG / EBPM_CURATED).
    check : bool
        Run every read, cast and check but publish nothing (the database stays byte-identical).
    keep_going : bool
        Build every table even after one fails, then raise :class:`BuildFailures` listing them all.
    only : list of str, optional
        Rebuild these tables and the tables they reference; the others are copied unchanged from
        the live snapshot. Still swapped in atomically.

    Returns
    -------
    dict
        The manifest written to ``manifest.json``.

    Raises
    ------
    BuildError
        With a Japanese message naming the table, column, file and row; the previous database,
        manifest and dictionary are left byte-for-byte unchanged.
    """
    paths = paths or config.paths()
    paths.curated.mkdir(parents=True, exist_ok=True)
    with build_lock(paths.curated):
        clean_stale(paths.curated)
        repair_manifest(paths)
        return _Builder(paths, console, check=check, keep_going=keep_going, only=only).run()

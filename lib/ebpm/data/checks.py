"""Data checks run by the build: schema constraints, primary/foreign keys and catalog `checks:`."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ebpm.data.spec import Check, TableSpec
from ebpm.errors import CheckError
from ebpm.data.staging import first_row
from ebpm.data.staging import quote_ident as q

#: ({column: value} of an offending record, failing column) -> (source file, row) or None
#: ``nth``: which matching source row to name (2 for a duplicate key: the repeated row)
Locator = Callable[[dict[str, Any], "str | None", int], "tuple[str, int] | None"]


@dataclass
class CheckResult:
    """One check as recorded in the manifest."""

    name: str
    passed: bool
    detail: str
    severity: str = "error"
    column: str | None = None
    example: list[Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "passed": self.passed,
            "detail": self.detail,
            "severity": self.severity,
            "column": self.column,
            "example": [_jsonable(v) for v in self.example] if self.example else None,
        }


#: RE2 pattern of a character lost upstream: U+FFFD, 〓 (JIS geta), or "?" next to Japanese text
LOST_CHAR_RE = (
    r"\x{FFFD}|〓|[\p{Han}\p{Hiragana}\p{Katakana}]\?|\?[\p{Han}\p{Hiragana}\p{Katakana}]"
)


def _jsonable(value: Any) -> Any:
    return value if value is None or isinstance(value, (str, int, float, bool)) else str(value)


def _fmt(values: list[Any]) -> str:
    return "(" + ", ".join("NULL" if v is None else str(v) for v in values) + ")"


class _Runner:
    def __init__(self, con: Any, spec: TableSpec, locate: Locator, *, table: str | None = None):
        self.con = con
        self.spec = spec
        self.locate = locate
        self.table = q(table or spec.name)
        self.results: list[CheckResult] = []
        self._last_cols: list[str] = []
        # columns that identify a record in messages: the primary key, else every column
        self.key = spec.primary_key or spec.field_names[: min(4, len(spec.field_names))]

    def _violations(
        self, where: str, params: list[Any], cols: list[str]
    ) -> tuple[int, list[Any] | None]:
        select = ", ".join(q(c) for c in cols)
        self._last_cols = cols
        row = first_row(
            self.con.execute(
                f"SELECT count(*) OVER () AS _n, {select} FROM {self.table} WHERE {where} LIMIT 1",
                params,
            )
        )
        if row is None:
            return 0, None
        return int(row[0]), list(row[1:])

    def record(
        self,
        name: str,
        count: int,
        detail_ok: str,
        detail_bad: str,
        *,
        column: str | None = None,
        example: list[Any] | None = None,
        severity: str = "error",
        cols: list[str] | None = None,
        nth: int = 1,
    ) -> None:
        passed = count == 0
        result = CheckResult(
            name=name,
            passed=passed,
            detail=detail_ok if passed else detail_bad,
            severity=severity,
            column=column,
            example=example,
        )
        self.results.append(result)
        if passed or severity == "warn":
            return
        names = cols if cols is not None else self._last_cols
        trace = {c: v for c, v in zip(names, example or [], strict=False) if v is not None}
        where = self.locate(trace, column, nth) if trace else None
        file, row = where if where else (None, None)
        if file is None and len(self.spec.sources) == 1:
            file = self.spec.sources[0].path
        raise CheckError(
            f"チェック「{name}」に失敗しました: {detail_bad}",
            table=self.spec.name,
            column=column,
            file=file,
            row=row,
        )

    # --- schema constraints ---------------------------------------------------------------
    def _plan(self) -> list[tuple[str, Any, str, list[Any]]]:
        """(kind, field, WHERE of violations, params) of every row-wise schema constraint."""
        spec = self.spec
        required = {f.name for f in spec.fields if f.constraints.get("required")}
        required |= set(spec.primary_key)
        plan = []
        for f in spec.fields:
            col = q(f.name)
            c = f.constraints
            if f.name in required:
                plan.append(("required", f, f"{col} IS NULL", []))
            if "minimum" in c:
                plan.append(("minimum", f, f"{col} < $1", [c["minimum"]]))
            if "maximum" in c:
                plan.append(("maximum", f, f"{col} > $1", [c["maximum"]]))
            if "pattern" in c:
                where = f"{col} IS NOT NULL AND NOT regexp_full_match(CAST({col} AS VARCHAR), $1)"
                plan.append(("pattern", f, where, [c["pattern"]]))
            if "enum" in c:
                values = [str(v) for v in c["enum"]]
                where = f"{col} IS NOT NULL AND NOT list_contains($1::VARCHAR[], CAST({col} AS VARCHAR))"
                plan.append(("enum", f, where, [values]))
        return plan

    def _count_all(self, plan: list[tuple[str, Any, str, list[Any]]]) -> list[int]:
        """Count the violations of every planned constraint in one scan of the table."""
        if not plan:
            return []
        parts, params = [], []
        for _kind, _f, where, ps in plan:
            for k, value in enumerate(ps, start=1):
                params.append(value)
                where = where.replace(f"${k}", f"${len(params)}")
            parts.append(f"count(*) FILTER (WHERE {where})")
        return list(
            first_row(self.con.execute(f"SELECT {', '.join(parts)} FROM {self.table}", params))
        )

    def constraints(self) -> None:
        spec = self.spec
        plan = self._plan()
        counts = self._count_all(plan)
        for (kind, f, where, params), count in zip(plan, counts, strict=True):
            c = f.constraints
            n, ex = (0, None)
            if count:
                n, ex = self._violations(
                    where, params, self.key if kind == "required" else [f.name, *self.key]
                )
            if kind == "required":
                self.record(
                    f"required:{f.name}",
                    n,
                    "空の値はありません。",
                    f"必須の列が空の行が{n}行あります（例: {_fmt(self.key)} = {_fmt(ex or [])}）。",
                    column=f.name,
                    example=ex,
                    cols=self.key,
                )
            elif kind == "minimum":
                self.record(
                    f"minimum:{f.name}",
                    n,
                    f"すべて {c['minimum']} 以上です。",
                    f"最小値 {c['minimum']} を下回る値が{n}行あります（例: {ex[0] if ex else ''}）。",
                    column=f.name,
                    example=ex,
                    cols=[f.name, *self.key],
                )
            elif kind == "maximum":
                self.record(
                    f"maximum:{f.name}",
                    n,
                    f"すべて {c['maximum']} 以下です。",
                    f"最大値 {c['maximum']} を上回る値が{n}行あります（例: {ex[0] if ex else ''}）。",
                    column=f.name,
                    example=ex,
                    cols=[f.name, *self.key],
                )
            elif kind == "pattern":
                self.record(
                    f"pattern:{f.name}",
                    n,
                    f"すべて形式 {c['pattern']} に合っています。",
                    f"形式 {c['pattern']} に合わない値が{n}行あります（例: 「{ex[0] if ex else ''}」）。",
                    column=f.name,
                    example=ex,
                    cols=[f.name, *self.key],
                )
            elif kind == "enum":
                values = params[0]
                shown = "、".join(values[:12]) + ("…" if len(values) > 12 else "")
                self.record(
                    f"enum:{f.name}",
                    n,
                    "すべて許された値です。",
                    f"許された値（{shown}）以外の値が{n}行あります（例: 「{ex[0] if ex else ''}」）。",
                    column=f.name,
                    example=ex,
                    cols=[f.name, *self.key],
                )
        for f in spec.fields:
            if f.constraints.get("unique"):
                self._duplicates([f.name], f"unique:{f.name}", column=f.name)
        if spec.primary_key:
            self._duplicates(spec.primary_key, "primary_key", column=",".join(spec.primary_key))

    def _duplicates(
        self, cols: list[str], name: str, *, column: str, severity: str = "error"
    ) -> None:
        group = ", ".join(q(c) for c in cols)
        not_null = " AND ".join(f"{q(c)} IS NOT NULL" for c in cols)
        key = q(cols[0]) if len(cols) == 1 else f"({group})"
        # cheap first pass; the query that finds an example runs only when there is a duplicate
        extra = first_row(
            self.con.execute(
                f"SELECT count(*) - count(DISTINCT {key}) FROM {self.table} WHERE {not_null}"
            )
        )[0]
        row = None
        if extra:
            row = first_row(
                self.con.execute(
                    f"SELECT count(*) OVER () AS _n, {group}, _c FROM "
                    f"(SELECT {group}, count(*) AS _c FROM {self.table} WHERE {not_null} GROUP BY ALL HAVING count(*) > 1) LIMIT 1"
                )
            )
        n = int(row[0]) if row else 0
        ex = list(row[1:-1]) if row else None
        self.record(
            name,
            n,
            f"{_fmt(cols)} に重複はありません。",
            f"{_fmt(cols)} = {_fmt(ex or [])} が{row[-1] if row else 0}回現れます（重複する組は{n}組）。",
            column=column,
            example=ex,
            severity=severity,
            cols=cols,
            nth=2,
        )

    def _accepted(self, column: str, values: list[str], name: str, severity: str = "error") -> None:
        col = q(column)
        n, ex = self._violations(
            f"{col} IS NOT NULL AND NOT list_contains($1::VARCHAR[], CAST({col} AS VARCHAR))",
            [values],
            [column, *self.key],
        )
        shown = "、".join(values[:12]) + ("…" if len(values) > 12 else "")
        self.record(
            name,
            n,
            "すべて許された値です。",
            f"許された値（{shown}）以外の値が{n}行あります（例: 「{ex[0] if ex else ''}」）。",
            column=column,
            example=ex,
            severity=severity,
        )

    def lost_characters(self) -> None:
        """Warn about text with a lost-character marker (神戸?園, 〓, U+FFFD): a failed conversion upstream."""
        cols = [f.name for f in self.spec.fields if f.type == "string"]
        if not cols:
            return
        parts = [f"count(*) FILTER (WHERE regexp_matches({q(c)}, $1))" for c in cols]
        counts = first_row(
            self.con.execute(f"SELECT {', '.join(parts)} FROM {self.table}", [LOST_CHAR_RE])
        )
        hits = {c: int(n) for c, n in zip(cols, counts, strict=True) if n}
        examples: list[Any] = []
        for c in list(hits)[:3]:
            rows = self.con.execute(
                f"SELECT DISTINCT {q(c)} FROM {self.table} WHERE regexp_matches({q(c)}, $1) LIMIT 3",
                [LOST_CHAR_RE],
            ).fetchall()
            examples += [r[0] for r in rows]
        found = "、".join(f"{c}（{n}行）" for c, n in hits.items())
        shown = "、".join(f"「{e}」" for e in examples[:5])
        self.record(
            "lost_characters",
            sum(hits.values()),
            "文字化け・欠落の記号（?・〓・U+FFFD）はありません。",
            f"変換で失われた文字の記号を含む値があります: {found}（例: {shown}）。"
            "原データの提供元に正しい文字を確認してください。",
            column=",".join(hits) or None,
            example=examples or None,
            severity="warn",
        )

    # --- foreign keys -------------------------------------------------------------------------
    def foreign_keys(self, available: set[str]) -> None:
        for fk in self.spec.foreign_keys:
            name = f"foreign_key:{','.join(fk.fields)}→{fk.resource}"
            if fk.resource not in available:
                self.results.append(
                    CheckResult(
                        name,
                        False,
                        f"参照先テーブル「{fk.resource}」がないため確認できません。",
                        "warn",
                    )
                )
                continue
            cond = " AND ".join(
                f"r.{q(b)} = t.{q(a)}" for a, b in zip(fk.fields, fk.reference_fields, strict=True)
            )
            not_null = " AND ".join(f"t.{q(a)} IS NOT NULL" for a in fk.fields)
            cols = ", ".join(f"t.{q(a)}" for a in fk.fields)
            row = first_row(
                self.con.execute(
                    f"SELECT count(*) OVER (), * FROM (SELECT DISTINCT {cols} FROM {self.table} t WHERE {not_null} "
                    f"AND NOT EXISTS (SELECT 1 FROM {q(fk.resource)} r WHERE {cond})) LIMIT 1"
                )
            )
            n = int(row[0]) if row else 0
            ex = list(row[1:]) if row else None
            self.record(
                name,
                n,
                f"すべての値が {fk.resource}.{','.join(fk.reference_fields)} にあります。",
                f"{_fmt(fk.fields)} = {_fmt(ex or [])} が参照先 {fk.resource}.{','.join(fk.reference_fields)} に"
                f"ありません（該当する値は{n}種類）。",
                column=",".join(fk.fields),
                example=ex,
                cols=fk.fields,
            )

    # --- catalog checks -------------------------------------------------------------------------
    def check(self, chk: Check) -> None:
        p = chk.params
        sev = chk.severity
        if chk.type == "row_count":
            n = int(first_row(self.con.execute(f"SELECT count(*) FROM {self.table}"))[0])
            lo, hi = p.get("min"), p.get("max")
            bad = (lo is not None and n < lo) or (hi is not None and n > hi)
            rng = f"{lo if lo is not None else ''}〜{hi if hi is not None else ''}"
            self.record(
                chk.name,
                int(bad),
                f"{n}行（範囲 {rng}）。",
                f"行数 {n} が範囲 {rng} の外です。",
                severity=sev,
            )
        elif chk.type == "not_null":
            col = str(p["column"])
            n, ex = self._violations(f"{q(col)} IS NULL", [], self.key)
            self.record(
                chk.name,
                n,
                "空の値はありません。",
                f"空の値が{n}行あります。",
                column=col,
                example=ex,
                severity=sev,
            )
        elif chk.type == "unique":
            cols = [str(c) for c in (p.get("columns") or [p["column"]])]
            self._duplicates(cols, chk.name, column=",".join(cols), severity=sev)
        elif chk.type == "accepted_values":
            self._accepted(str(p["column"]), [str(v) for v in p["values"]], chk.name, sev)
        elif chk.type == "range":
            col = str(p["column"])
            conds, params = [], []
            if p.get("min") is not None:
                params.append(p["min"])
                conds.append(f"{q(col)} < ${len(params)}")
            if p.get("max") is not None:
                params.append(p["max"])
                conds.append(f"{q(col)} > ${len(params)}")
            n, ex = self._violations(" OR ".join(conds) or "false", params, [col, *self.key])
            self.record(
                chk.name,
                n,
                f"すべて {p.get('min', '')}〜{p.get('max', '')} の範囲です。",
                f"範囲 {p.get('min', '')}〜{p.get('max', '')} の外の値が{n}行あります（例: {ex[0] if ex else ''}）。",
                column=col,
                example=ex,
                severity=sev,
            )
        elif chk.type == "pattern":
            col = str(p["column"])
            n, ex = self._violations(
                f"{q(col)} IS NOT NULL AND NOT regexp_full_match(CAST({q(col)} AS VARCHAR), $1)",
                [p["pattern"]],
                [col, *self.key],
            )
            self.record(
                chk.name,
                n,
                "すべて形式に合っています。",
                f"形式 {p['pattern']} に合わない値が{n}行あります（例: 「{ex[0] if ex else ''}」）。",
                column=col,
                example=ex,
                severity=sev,
            )
        elif chk.type == "sql":
            self._sql(chk)

    def _sql(self, chk: Check) -> None:
        p = chk.params
        query = str(p["query"]).strip().rstrip(";")
        if "expect" not in p:  # the query lists offending rows: three are enough for the message
            query = f"SELECT * FROM ({query}) AS _violations LIMIT 3"
        import duckdb

        try:
            cur = self.con.execute(query)
        except duckdb.Error as exc:
            from ebpm.data.schema import display_path

            full = str(exc) or type(exc).__name__
            raise CheckError(
                f"チェック「{chk.name}」の SQL を実行できません。{duckdb_message_ja(full)}"
                f"\n  詳細: {full.splitlines()[0]}",
                table=self.spec.name,
                file=display_path(self.spec.file),
                row=self.spec.line("checks", self.spec.checks.index(chk), "query"),
            ) from exc
        if "expect" in p:
            row = first_row(cur)
            got = row[0] if row else None
            want = p["expect"]
            tol = float(p.get("tolerance", 0))
            if isinstance(want, (int, float)) and isinstance(got, (int, float)):
                ok = math.isclose(float(got), float(want), abs_tol=tol, rel_tol=0.0)
            else:
                ok = got == want or str(got) == str(want)
            self.record(
                chk.name,
                0 if ok else 1,
                f"期待どおり {want} です。",
                f"期待値 {want} に対して {got} でした。",
                severity=chk.severity,
                cols=[],
            )
        else:
            rows = cur.fetchall()[:3]
            self.record(
                chk.name,
                len(rows),
                "該当する行はありません。",
                f"あってはならない行があります（例: {_fmt(list(rows[0])) if rows else ''}）。",
                example=list(rows[0]) if rows else None,
                severity=chk.severity,
                cols=[],
            )


def duckdb_message_ja(text: str) -> str:
    """A Japanese sentence for the common DuckDB errors (the caller keeps the original as 詳細)."""
    from ebpm.data.dberrors import parse

    p = parse(text)
    if p.kind == "column":
        hint = ""
        if p.suggestions:
            hint = "もしかして" + "・".join(f"「{n}」" for n in p.suggestions[:3]) + "ですか？"
        return f"列「{p.name}」がありません。{hint}"
    if p.kind == "table":
        return f"テーブル「{p.name}」がありません。"
    if p.kind == "conversion":
        return f"値「{p.name}」を型 {p.target} に変換できません。"
    if p.kind == "syntax":
        return "SQL の書き方に誤りがあります。"
    return ""


def run_all(con: Any, spec: TableSpec, available: set[str], locate: Locator) -> list[CheckResult]:
    """Run constraints, primary and foreign keys, then the catalog's checks, in that order.

    Raises
    ------
    CheckError
        On the first failing check whose severity is ``error`` (the default).
    """
    runner = _Runner(con, spec, locate)
    runner.constraints()
    runner.lost_characters()
    runner.foreign_keys(available)
    for chk in spec.checks:
        runner.check(chk)
    return runner.results

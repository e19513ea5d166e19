"""The evidence register (エビデンス台帳): a DuckDB table of every report run, outside the curated snapshot."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ebpm.config import paths
from ebpm.errors import EbpmError

COLUMNS = [
    "run_id",
    "template",
    "title",
    "created_at",
    "parameters",
    "headline",
    "estimate",
    "ci_low",
    "ci_high",
    "grade",
    "grade_reasons",
    "build_id",
    "vintage",
    "synthetic",
    "status",
    "report_path",
]

_DDL = """
CREATE TABLE IF NOT EXISTS evidence (
    run_id VARCHAR PRIMARY KEY,
    template VARCHAR NOT NULL,
    title VARCHAR,
    created_at TIMESTAMP,
    parameters JSON,
    headline VARCHAR,
    estimate DOUBLE,
    ci_low DOUBLE,
    ci_high DOUBLE,
    grade VARCHAR,
    grade_reasons JSON,
    build_id VARCHAR,
    vintage VARCHAR,
    synthetic BOOLEAN,
    status VARCHAR,
    report_path VARCHAR
)
"""

JST = timezone(timedelta(hours=9), "JST")
_LOCK_RETRIES = 20  # another process holds the file: wait up to about 5 s in total
_LOCK_WAIT_S = 0.25


class RegisterError(EbpmError):
    """The evidence register cannot be read or written."""


def _register_path(register: str | Path | None) -> Path:
    return Path(register) if register is not None else paths().register


def _connect(path: Path, *, read_only: bool):
    import duckdb

    last: Exception | None = None
    for _ in range(_LOCK_RETRIES):
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as err:  # the file is locked by a writer in another process
            last = err
            time.sleep(_LOCK_WAIT_S)
    raise RegisterError(
        "エビデンス台帳が他の処理で使用中のため開けません。しばらくしてから再実行してください",
        file=str(path),
    ) from last


def record_from_result(result: dict[str, Any], *, report_path: str = "") -> dict[str, Any]:
    """Turn a parsed result.json into one register row (pure; no file access).

    The headline estimate and CI come from ``results[headline]`` when it is an
    ``EstimationResult.to_dict()``; otherwise they stay empty.
    """
    missing = [k for k in ("run_id", "template") if not result.get(k)]
    if missing:
        raise RegisterError(f"result.json に必須の項目がありません: {', '.join(missing)}")
    headline = result.get("headline")
    head = (result.get("results") or {}).get(headline) if headline else None
    estimate = ci_low = ci_high = None
    if isinstance(head, dict):
        estimate = _number(head.get("estimate"))
        ci = head.get("ci") or [None, None]
        if isinstance(ci, (list, tuple)) and len(ci) == 2:
            ci_low, ci_high = _number(ci[0]), _number(ci[1])
    elif isinstance(head, (int, float)) and not isinstance(head, bool):
        estimate = float(head)
    build = result.get("build") or {}
    return {
        "run_id": str(result["run_id"]),
        "template": str(result["template"]),
        "title": result.get("title"),
        "created_at": _jst(result.get("created_at")),
        "parameters": json.dumps(result.get("parameters") or {}, ensure_ascii=False),
        "headline": headline,
        "estimate": estimate,
        "ci_low": ci_low,
        "ci_high": ci_high,
        "grade": result.get("grade"),
        "grade_reasons": json.dumps(result.get("grade_reasons") or [], ensure_ascii=False),
        "build_id": build.get("build_id"),
        "vintage": None if result.get("vintage") is None else str(result.get("vintage")),
        "synthetic": bool(result.get("synthetic", False)),
        "status": result.get("status") or "ok",
        "report_path": report_path,
    }


def parse_jst(value: Any) -> datetime | None:
    """ISO-8601 text -> naive Japan time (日本時間), so that runs sort correctly whatever the offset.

    None for empty or unreadable text; a time without offset is taken as already Japan time.
    """
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(JST).replace(tzinfo=None)
    return moment


def _jst(value: Any) -> str | None:
    moment = parse_jst(value)
    return None if moment is None else moment.isoformat(sep=" ")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def add_run(result_json_path: str | Path, *, register: str | Path | None = None) -> str:
    """Upsert one report run (its ``result.json``) into the register.

    Parameters
    ----------
    result_json_path : path
        ``reports/<template>/<run_id>/result.json`` written by the report runner.
    register : path, optional
        Register file; default ``config.paths().register`` (reports/register.duckdb).

    Returns
    -------
    str
        The run id. The file is opened read-write only for this write.
    """
    source = Path(result_json_path)
    try:
        result = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise RegisterError(f"result.json を読めません（{err}）", file=str(source)) from err
    reports_root = _register_path(register).parent
    try:
        report_path = source.parent.resolve().relative_to(reports_root.resolve()).as_posix()
    except ValueError:
        report_path = source.parent.resolve().as_posix()
    try:
        row = record_from_result(result, report_path=report_path)
    except RegisterError as err:
        raise RegisterError(err.message, file=str(source)) from err
    _upsert([row], _register_path(register))
    return row["run_id"]


def sync(reports_dir: str | Path | None = None, *, register: str | Path | None = None) -> int:
    """Upsert every ``reports_dir/*/*/result.json``; return how many runs were written."""
    root = Path(reports_dir) if reports_dir is not None else paths().reports
    reg = _register_path(register) if register is not None else root / "register.duckdb"
    rows = []
    for result_path in sorted(root.glob("*/*/result.json")):
        try:
            result = json.loads(result_path.read_text(encoding="utf-8"))
            rows.append(
                record_from_result(
                    result, report_path=result_path.parent.relative_to(root).as_posix()
                )
            )
        except (OSError, json.JSONDecodeError, RegisterError):
            continue  # the portal lists unreadable runs; the register keeps only readable ones
    if rows:
        _upsert(rows, reg)
    return len(rows)


def _upsert(rows: list[dict[str, Any]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    placeholders = ", ".join(f"${c}" for c in COLUMNS)
    sql = f"INSERT OR REPLACE INTO evidence ({', '.join(COLUMNS)}) VALUES ({placeholders})"
    con = _connect(path, read_only=False)
    try:
        con.execute(_DDL)
        con.execute("BEGIN TRANSACTION")
        for row in rows:
            con.execute(sql, row)
        con.execute("COMMIT")
    finally:
        con.close()


def runs(*, register: str | Path | None = None):
    """Return the register as a DataFrame, newest first (empty frame when there is none yet).

    ``parameters`` and ``grade_reasons`` are decoded from JSON.
    """
    import pandas as pd

    path = _register_path(register)
    if not path.exists():
        return pd.DataFrame(columns=COLUMNS)
    con = _connect(path, read_only=True)
    try:
        frame = con.execute(
            f"SELECT {', '.join(COLUMNS)} FROM evidence ORDER BY created_at DESC, run_id DESC"
        ).df()
    finally:
        con.close()
    for col in ("parameters", "grade_reasons"):
        frame[col] = [json.loads(v) if isinstance(v, str) else v for v in frame[col]]
    return frame


# ---------------------------------------------------------------- analysis-plan locks and publication
# Separate tables (the `evidence` table keeps its columns): a lock is a plan's canonical content, its
# sha256 and the Japan time it was recorded; a publication marks a study's run as 公開.

_PLAN_DDL = """
CREATE TABLE IF NOT EXISTS plan_locks (
    plan VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    sha256 VARCHAR NOT NULL,
    locked_at TIMESTAMP NOT NULL,
    locked_by VARCHAR,
    template VARCHAR,
    canonical VARCHAR NOT NULL,
    PRIMARY KEY (plan, version)
);
CREATE TABLE IF NOT EXISTS publications (
    study VARCHAR PRIMARY KEY,
    run_id VARCHAR NOT NULL,
    published_at TIMESTAMP NOT NULL,
    published_by VARCHAR
);
"""


def lock_plan(
    plan: str,
    *,
    sha256: str,
    canonical: str,
    template: str = "",
    locked_by: str = "",
    register: str | Path | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Record an analysis plan's lock (hash + Japan time); a new version when the content changed.

    Returns the lock (``plan, version, sha256, locked_at, locked_by, template, canonical``). Locking
    unchanged content again returns the existing lock instead of adding a version.
    """
    latest = plan_lock(plan, register=register)
    if latest is not None and latest["sha256"] == sha256:
        return latest
    moment = (now or datetime.now(JST)).astimezone(JST).replace(tzinfo=None, microsecond=0)
    row = {
        "plan": plan,
        "version": 1 if latest is None else int(latest["version"]) + 1,
        "sha256": sha256,
        "locked_at": moment,
        "locked_by": locked_by or None,
        "template": template or None,
        "canonical": canonical,
    }
    path = _register_path(register)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = _connect(path, read_only=False)
    try:
        con.execute(_DDL)
        con.execute(_PLAN_DDL)
        con.execute(
            "INSERT INTO plan_locks VALUES ($plan, $version, $sha256, $locked_at, $locked_by, $template, $canonical)",
            row,
        )
    finally:
        con.close()
    return row


def _read(sql: str, params: list[Any], register: str | Path | None) -> list[dict[str, Any]]:
    path = _register_path(register)
    if not path.exists():
        return []
    con = _connect(path, read_only=True)
    try:
        tables = {
            r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        }
        if not {"plan_locks", "publications"} <= tables:
            return []
        cur = con.execute(sql, params)
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


def plan_lock(plan: str, *, register: str | Path | None = None) -> dict[str, Any] | None:
    """The latest lock of ``plan`` (None when it was never locked)."""
    rows = _read(
        "SELECT * FROM plan_locks WHERE plan = $1 ORDER BY version DESC LIMIT 1", [plan], register
    )
    return rows[0] if rows else None


def plan_locks(*, register: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """plan -> its latest lock."""
    rows = _read("SELECT * FROM plan_locks ORDER BY plan, version", [], register)
    return {r["plan"]: r for r in rows}


def publish_study(
    study: str, run_id: str, *, published_by: str = "", register: str | Path | None = None
) -> dict[str, Any]:
    """Mark a study's run as 公開 (it then appears in the case library as an own case)."""
    row = {
        "study": study,
        "run_id": run_id,
        "published_at": datetime.now(JST).replace(tzinfo=None, microsecond=0),
        "published_by": published_by or None,
    }
    path = _register_path(register)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = _connect(path, read_only=False)
    try:
        con.execute(_DDL)
        con.execute(_PLAN_DDL)
        con.execute(
            "INSERT OR REPLACE INTO publications VALUES ($study, $run_id, $published_at, $published_by)",
            row,
        )
    finally:
        con.close()
    return row


def publications(*, register: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """study -> its publication (``run_id``, ``published_at``)."""
    return {r["study"]: r for r in _read("SELECT * FROM publications", [], register)}

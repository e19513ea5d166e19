"""Attendance sheets → pseudonymised rows of the ``staff_training`` source (names never stored).

A city keeps attendance in Excel or CSV (職員番号, 氏名, 所属, 職階, コース, 受講日, 修了; 和暦 dates, 全角
digits, merged header cells). :func:`import_attendance` reads such a sheet with the ingest readers, drops
the names, replaces each staff number by a keyed HMAC-SHA256 pseudonym (key from ``EBPM_STAFF_KEY``,
never written) and appends the new rows to ``data/raw/training_attendance/attendance.csv``, updating its
SOURCE.yml hash. The curated ``staff_training`` table is the union of the synthetic source and this one,
so the build stays the only writer of curated data.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ebpm.config import paths
from ebpm.errors import IngestError, ParameterError

KEY_ENV = "EBPM_STAFF_KEY"
MIN_KEY_LENGTH = 16
SOURCE_NAME = "training_attendance"
LEDGER = "attendance.csv"
FIELDS = ("staff_id", "grade", "department", "course", "track", "date", "completed")
GRADES = ("部長級", "次長級", "課長級", "課長補佐級", "係長級", "主査級", "主任級", "主事・技師級")
# header words (after NFKC) → canonical column; 氏名 is recognised only to be dropped
HEADERS = {
    "staff_number": ("職員番号", "職員No", "職員NO", "職員コード"),
    "name": ("氏名", "名前", "氏 名"),
    "department": ("所属", "所属部局", "部局"),
    "grade": ("職階", "職級"),
    "course": ("コース", "研修名", "研修"),
    "date": ("受講日", "実施日"),
    "completed": ("修了", "修了区分", "修了の有無"),
}
YES = {"〇", "○", "◯", "済", "修了", "はい", "1", "true", "TRUE", "True", "有"}
NO = {"×", "✕", "未", "未修了", "いいえ", "0", "false", "FALSE", "False", "無", ""}


@dataclass
class ImportReport:
    """What an import did: rows read, added, skipped, and the problems with their sheet rows."""

    file: str
    rows_read: int = 0
    added: int = 0
    already_present: int = 0
    duplicates: list[str] = field(default_factory=list)
    unknown_courses: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    ledger: str = ""

    @property
    def problems(self) -> list[str]:
        """Every reported problem (Japanese, with the sheet row), never a name or staff number."""
        return self.duplicates + self.unknown_courses + self.errors


def staff_key() -> bytes:
    """The pseudonymisation key from ``EBPM_STAFF_KEY``; refuses to work without a long enough key."""
    key = os.environ.get(KEY_ENV, "")
    if len(key) < MIN_KEY_LENGTH:
        raise ParameterError(
            f"職員番号の仮名化に使う鍵が環境変数 {KEY_ENV} にありません（{MIN_KEY_LENGTH}文字以上）。"
            "鍵は人事担当が管理し、ファイルには書きません。設定してからやり直してください。",
            parameter=KEY_ENV,
        )
    return key.encode("utf-8")


def pseudonym(staff_number: str, key: bytes) -> str:
    """``H`` + 16 hex digits of HMAC-SHA256(key, normalised staff number); stable for one key."""
    from ebpm.ingest.jp import to_halfwidth

    normal = to_halfwidth(str(staff_number)).strip().lstrip("0") or "0"
    return "H" + hmac.new(key, normal.encode("utf-8"), hashlib.sha256).hexdigest()[:16]


def _match_columns(columns: list[str], file: str) -> dict[str, str]:
    from ebpm.ingest.jp import normalize_header

    found: dict[str, str] = {}
    for col in columns:
        flat = normalize_header(col).replace(" ", "")
        last = flat.split("_")[-1]
        for canon, words in HEADERS.items():
            if canon in found:
                continue
            if any(last == w.replace(" ", "") for w in words):
                found[canon] = col
                break
    missing = [HEADERS[c][0] for c in HEADERS if c not in found and c != "name"]
    if missing:
        raise IngestError(
            f"出席簿に必要な列がありません: {'、'.join(missing)}（ある列: {'、'.join(columns)}）",
            file=file,
        )
    return found


def _date(value: Any, file: str, row: int | None) -> dt.date:
    from ebpm.ingest.wareki import parse_date

    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime().date()
    try:
        return parse_date(str(value))
    except IngestError as err:
        raise IngestError(
            f"受講日「{value}」を日付として読めません（{err.message}）",
            file=file,
            row=row,
            column="受講日",
        ) from None


def _completed(value: Any, file: str, row: int | None) -> bool:
    from ebpm.ingest.jp import to_halfwidth

    text = "" if value is None else to_halfwidth(str(value)).strip()
    if text in ("nan", "<NA>", "None"):
        text = ""
    if text in YES:
        return True
    if text in NO:
        return False
    raise IngestError(
        f"修了欄「{text}」は 〇（修了）か ×（未修了）で書いてください",
        file=file,
        row=row,
        column="修了",
    )


def _read_any(p: Path, read) -> tuple[Any, dict[str, str]]:
    """Read with automatic header detection; a sheet with a merged group row gets two header rows."""
    try:
        ing = read(p)
        return ing, _match_columns(ing.columns, p.name)
    except IngestError as first:
        if p.suffix.lower() not in (".xlsx", ".xls", ".xlsm"):
            raise
        try:
            ing = read(p, header_rows=2)
        except IngestError:
            raise first from None
        return ing, _match_columns(ing.columns, p.name)


def read_sheet(
    path: str | Path, *, courses: dict[str, str], key: bytes
) -> tuple[list[dict], ImportReport]:
    """Read an attendance sheet into pseudonymised rows; problems are collected, not raised."""
    import pandas as pd

    from ebpm.ingest.jp import to_halfwidth
    from ebpm.ingest.read import read

    p = Path(path)
    report = ImportReport(file=p.name)
    ing, cols = _read_any(p, read)
    frame = ing.frame
    rows: list[dict] = []
    seen: dict[tuple, int | None] = {}
    for i, rec in enumerate(frame.to_dict("records")):
        line = ing.source_row(i)
        where = f"{line}行目" if line is not None else f"{i + 1}件目"
        number = rec[cols["staff_number"]]
        if number is None or (not isinstance(number, str) and pd.isna(number)):
            report.errors.append(f"{where}: 職員番号が空です")
            continue
        number = to_halfwidth(str(number)).strip().removesuffix(".0")
        report.rows_read += 1
        course = to_halfwidth(str(rec[cols["course"]])).strip()
        course = next((c for c in courses if to_halfwidth(c) == course), course)
        if course not in courses:
            report.unknown_courses.append(
                f"{where}: 研修名「{course}」は研修コースの一覧（training/course.yml の attendance_courses）にありません"
            )
            continue
        grade = str(rec[cols["grade"]]).strip()
        if grade not in GRADES:
            report.errors.append(f"{where}: 職階「{grade}」は {'・'.join(GRADES)} のいずれかです")
            continue
        try:
            date = _date(rec[cols["date"]], p.name, line)
            done = _completed(rec[cols["completed"]], p.name, line)
        except IngestError as err:
            report.errors.append(f"{where}: {err.message}")
            continue
        staff_id = pseudonym(number, key)
        ident = (staff_id, course, date)
        if ident in seen:
            first = seen[ident]
            report.duplicates.append(
                f"{where}: {first}行目と同じ職員・研修・受講日の重複です（1件として数えます）"
            )
            continue
        seen[ident] = line
        rows.append(
            {
                "staff_id": staff_id,
                "grade": grade,
                "department": str(rec[cols["department"]]).strip(),
                "course": course,
                "track": courses[course],
                "date": date.isoformat(),
                "completed": "true" if done else "false",
            }
        )
    return rows, report


def _source_yml(folder: Path) -> Path:
    return folder / "SOURCE.yml"


def _ledger_rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _write_ledger(folder: Path, rows: list[dict[str, str]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(FIELDS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    data = buf.getvalue().encode("utf-8")
    target = folder / LEDGER
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)
    digest = hashlib.sha256(data).hexdigest()
    meta_path = _source_yml(folder)
    meta = yaml.safe_load(meta_path.read_text(encoding="utf-8"))
    for entry in meta.get("files", []):
        if entry.get("path") == LEDGER:
            entry["sha256"] = digest
            entry["bytes"] = len(data)
    meta["retrieved"] = dt.date.today().isoformat()
    meta_path.write_text(
        yaml.safe_dump(meta, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return digest


def import_attendance(path: str | Path, *, dry_run: bool = False) -> ImportReport:
    """Import an attendance sheet into ``data/raw/training_attendance/attendance.csv``.

    Parameters
    ----------
    path : str or Path
        ``.xlsx``/``.xls``/``.csv`` sheet with 職員番号, 氏名, 所属, 職階, コース, 受講日, 修了.
    dry_run : bool
        Read and report only; write nothing.

    Returns
    -------
    ImportReport
        Counts and Japanese problems (duplicates, unknown courses, unreadable cells) naming the sheet
        row, never the person. Rows already in the ledger (same pseudonym, course and date) are skipped.

    Raises
    ------
    ParameterError
        Without ``EBPM_STAFF_KEY`` (nothing is read or written then).
    """
    from ebpm.training.course import load_course

    key = staff_key()
    courses = load_course().attendance_courses
    rows, report = read_sheet(path, courses=courses, key=key)
    folder = paths().raw / SOURCE_NAME
    if not _source_yml(folder).is_file():
        raise ParameterError(
            f"取込先 data/raw/{SOURCE_NAME}/SOURCE.yml がありません",
            parameter="training_attendance",
        )
    existing = _ledger_rows(folder / LEDGER)
    known = {(r["staff_id"], r["course"], r["date"]) for r in existing}
    new = [r for r in rows if (r["staff_id"], r["course"], r["date"]) not in known]
    report.already_present = len(rows) - len(new)
    report.added = len(new)
    report.ledger = f"data/raw/{SOURCE_NAME}/{LEDGER}"
    if not dry_run and new:
        _write_ledger(folder, existing + new)
    return report


def coverage_table(*, min_count: int | None = None):
    """Staff trained per department (distinct pseudonymous staff who completed), with 秘匿処理.

    Returns the :class:`ebpm.disclosure.protect.Suppressed` table: departments with fewer trainees
    than the threshold are shown as ``x`` (with secondary suppression so totals cannot reveal them).
    """
    from ebpm.data.access import sql
    from ebpm.disclosure.protect import suppress

    frame = sql(
        "SELECT department AS 所属部局, "
        "COUNT(DISTINCT staff_id) FILTER (WHERE track = '管理職向け') AS 管理職向け, "
        "COUNT(DISTINCT staff_id) FILTER (WHERE track = '実務者向け') AS 実務者向け "
        "FROM staff_training WHERE completed GROUP BY department ORDER BY department"
    )
    options: dict[str, Any] = {"count_columns": ["管理職向け", "実務者向け"], "add_totals": True}
    if min_count is not None:
        options["threshold"] = min_count
    return suppress(frame, **options)

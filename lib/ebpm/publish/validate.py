"""Frictionless validation of a release folder, reported in Japanese (file, row, field)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

# frictionless error type -> Japanese wording
_ERRORS_JA = {
    "type-error": "型が合いません",
    "constraint-error": "制約に合いません",
    "missing-cell": "セルが足りません",
    "extra-cell": "余分なセルがあります",
    "blank-row": "空の行です",
    "primary-key": "主キーが重複しています",
    "unique-error": "値が重複しています",
    "incorrect-label": "見出しが定義と違います",
    "missing-label": "見出しが足りません",
    "extra-label": "余分な見出しがあります",
    "duplicate-label": "見出しが重複しています",
    "blank-label": "見出しが空です",
    "encoding-error": "文字コードが宣言と違います",
    "schema-error": "Table Schema が正しくありません",
    "package-error": "datapackage.json が正しくありません",
    "resource-error": "リソースの記述が正しくありません",
    "scheme-error": "ファイルを開けません",
    "format-error": "形式が正しくありません",
    "source-error": "ファイルを読めません",
}


def _describe(error: dict[str, Any], task: dict[str, Any]) -> str:
    place = Path(str(task.get("place") or task.get("name") or "")).name
    parts = [f"ファイル「{place}」"] if place else []
    row = error.get("rowNumber")
    if row is not None:
        parts.append(f"{row}行目（見出しを1行目として）")
    name = error.get("fieldName") or error.get("label")
    if name:
        parts.append(f"列「{name}」")
    what = _ERRORS_JA.get(error.get("type", ""), error.get("title", "検証エラー"))
    cell = error.get("cell")
    detail = f"値 {cell!r}" if cell not in (None, "") else ""
    note = error.get("note") or ""
    tail = "、".join(x for x in (detail, note) if x)
    head = "・".join(parts)
    return f"{head}: {what}" + (f"（{tail}）" if tail else "")


def validate_package(descriptor: Path, *, limit: int = 50) -> list[str]:
    """Validate ``datapackage.json`` with the Frictionless library.

    Returns
    -------
    list of str
        Japanese findings naming file, row and field (empty when the package is valid); at most
        ``limit`` of them, plus a line saying how many were left out.
    """
    from frictionless import validate

    report = validate(str(descriptor)).to_descriptor()
    problems: list[str] = []
    total = 0
    for error in report.get("errors", []):
        total += 1
        if len(problems) < limit:
            problems.append(_describe(error, {"place": descriptor.name}))
    for task in report.get("tasks", []):
        for error in task.get("errors", []):
            total += 1
            if len(problems) < limit:
                problems.append(_describe(error, task))
    if total > len(problems):
        problems.append(f"ほか {total - len(problems)} 件")
    if not report.get("valid", False) and not problems:
        problems.append("Frictionless の検証に通りませんでした（詳細なし）。")
    return problems

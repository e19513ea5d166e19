"""Lesson text notebooks → instructor and student notebooks (solutions stripped at release)."""

from __future__ import annotations

import copy
import hashlib
import re
from pathlib import Path
from typing import Any, Literal

from ebpm.errors import ParameterError

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
STUB = "# STUB:"
PLACEHOLDER = "# ▼ここにコードを書く（模範解答は講師用の版にある）"
SOLUTION_TAGS = {"solution", "solution-only", "trainer"}  # never in a student copy
CHECK_CALL = re.compile(r"""check\(\s*["']([\w.]+)["']""")

Version = Literal["instructor", "student"]


def read_lesson(path: str | Path):
    """Read a MyST markdown (or any jupytext format) lesson into an nbformat notebook."""
    import jupytext

    p = Path(path)
    if not p.is_file():
        raise ParameterError(f"教材ファイル {p.name} がありません", parameter="lesson")
    return jupytext.read(p)


def _strip_regions(source: str, *, keep_solution: bool) -> str:
    out: list[str] = []
    inside = False
    stub: list[str] = []
    for line in source.splitlines():
        token = line.strip()
        if token.startswith(BEGIN):
            inside, stub = True, []
            if not keep_solution:
                indent = line[: len(line) - len(line.lstrip())]
                out.append(indent + PLACEHOLDER)
            continue
        if token.startswith(END):
            if not keep_solution:
                out.extend(stub)
            inside = False
            continue
        if token.startswith(STUB):
            indent = line[: len(line) - len(line.lstrip())]
            code = indent + token[len(STUB) :].strip()
            if inside:
                stub.append(code)
            elif not keep_solution:
                out.append(code)
            continue
        if inside and not keep_solution:
            continue
        out.append(line)
    if inside:
        raise ParameterError(f"{BEGIN} に対応する {END} がありません", parameter="lesson")
    return "\n".join(out)


def has_solution(source: str) -> bool:
    """Whether a cell holds solution code (a ``# BEGIN SOLUTION`` region)."""
    return BEGIN in source


def prepare(nb, version: Version, *, lesson_id: str = "", lesson_title: str = ""):
    """Return a copy of a lesson notebook for the instructor (solutions kept) or the participant.

    The student version replaces every ``# BEGIN SOLUTION`` … ``# END SOLUTION`` region by a placeholder
    (and the ``# STUB:`` lines inside it, uncommented), drops cells tagged ``solution``/``solution-only``
    and all outputs. Both versions carry ``metadata.ebpm_training`` (lesson id, version, source hash)
    that the grader uses to recognise its own notebooks.
    """
    if version not in ("instructor", "student"):
        raise ParameterError(f"版は instructor か student です（{version!r}）", parameter="version")
    out = copy.deepcopy(nb)
    keep = version == "instructor"
    cells = []
    for index, cell in enumerate(out.cells):
        cell.metadata["ebpm_cell"] = index  # position in the lesson source, kept in both versions
        tags = set(cell.get("metadata", {}).get("tags", []))
        if not keep and tags & SOLUTION_TAGS:
            continue
        if cell.cell_type == "code":
            cell.source = _strip_regions(cell.source, keep_solution=keep)
            cell.outputs = []
            cell.execution_count = None
        cells.append(cell)
    out.cells = cells
    digest = hashlib.sha256("".join(c.source for c in nb.cells).encode("utf-8")).hexdigest()[:16]
    out.metadata["ebpm_training"] = {
        "lesson": lesson_id,
        "title": lesson_title,
        "version": version,
        "source_sha256": digest,
    }
    out.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ebpm)",
        "language": "python",
    }
    out.metadata.pop("jupytext", None)
    return out


def check_keys(nb) -> list[tuple[int, str]]:
    """(cell index, exercise key) of every self-check call ``ebpm.training.check("key", …)``."""
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            for key in CHECK_CALL.findall(cell.source):
                found.append((i, key))
    return found


def lesson_meta(nb) -> dict[str, Any]:
    """``metadata.ebpm_training`` of a released notebook (empty dict for a foreign notebook)."""
    meta = nb.get("metadata", {}).get("ebpm_training")
    return dict(meta) if isinstance(meta, dict) else {}

"""Autograding: each returned notebook runs in a fresh kernel with hidden checks re-inserted.

The hidden checks are generated here at grading time (they are never part of a student copy): after
each self-check cell the grader inserts a cell that hands the answer variable back to this process,
which compares it with the answer key (:mod:`ebpm.training.exercises`). Values are judged in the
grader, not in the participant's kernel, so a redefined ``check`` cannot change a grade.
"""

from __future__ import annotations

import csv
import html
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ebpm.training.exercises import Exercise, exercises, judge
from ebpm.training.notebooks import check_keys, lesson_meta

CELL_TIMEOUT_S = 60
# variables never passed to the grading kernel (keys, tokens)
SCRUBBED_ENV_PREFIXES = ("EBPM_STAFF_KEY", "ESTAT_APP_ID", "JUPYTER_TOKEN", "GITHUB_", "AWS_")


@dataclass
class GradeRow:
    """One line of the grade CSV."""

    participant: str
    exercise: str
    points: float
    max_points: float
    feedback: str
    lesson: str = ""
    file: str = ""


@dataclass
class Submission:
    """The grading outcome of one returned notebook."""

    participant: str
    file: str
    lesson: str = ""
    rows: list[GradeRow] = field(default_factory=list)
    problem: str = ""

    @property
    def points(self) -> float:
        return sum(r.points for r in self.rows)

    @property
    def max_points(self) -> float:
        return sum(r.max_points for r in self.rows)


def _collect(key: str, variable: str, namespace: dict[str, Any], out: str) -> None:
    """Hidden-check cell body: write the answer variable of exercise ``key`` for the grader."""
    present = variable in namespace
    value = namespace.get(variable)
    try:
        number = float(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        number = None
    record = {
        "key": key,
        "present": present,
        "value": number,
        "type": type(value).__name__,
    }
    with open(out, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")


def _hidden_cell(exercise: Exercise, out: Path):
    import nbformat

    code = (
        "from ebpm.training.grading import _collect as _ebpm_collect\n"
        f"_ebpm_collect({exercise.key!r}, {exercise.variable!r}, globals(), {str(out)!r})"
    )
    cell = nbformat.v4.new_code_cell(code)
    cell.metadata["tags"] = ["ebpm-hidden-check"]
    return cell


def insert_hidden_checks(nb, items: dict[str, Exercise], out: Path):
    """A copy of ``nb`` with a hidden check after each self-check cell (or at the end)."""
    import copy

    nb = copy.deepcopy(nb)
    placed: dict[str, int] = {}
    for index, key in check_keys(nb):
        if key in items and key not in placed:
            placed[key] = index
    cells = []
    after: dict[int, list[str]] = {}
    for key, index in placed.items():
        after.setdefault(index, []).append(key)
    for i, cell in enumerate(nb.cells):
        cells.append(cell)
        for key in after.get(i, []):
            cells.append(_hidden_cell(items[key], out))
    for key in items:
        if key not in placed:
            cells.append(_hidden_cell(items[key], out))
    nb.cells = cells
    return nb


def _error_of(cell) -> str | None:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return f"{out.get('ename', 'エラー')}: {out.get('evalue', '')}".strip()
    return None


def _steps_with_errors(nb, items: dict[str, Exercise]) -> dict[str, str]:
    """Exercise key → first error raised in a cell before its hidden check (after the previous)."""
    errors: dict[str, str] = {}
    pending: str | None = None
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tags = cell.get("metadata", {}).get("tags", [])
        if "ebpm-hidden-check" in tags:
            key = next((k for k in items if repr(k) in cell.source), None)
            if key and pending and key not in errors:
                errors[key] = pending
            pending = None
            continue
        err = _error_of(cell)
        if err and pending is None:
            pending = err
    return errors


def _kernel_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED_ENV_PREFIXES)}
    env["EBPM_KEEP_WARM"] = "0"
    return env


def execute(nb, workdir: Path, *, cell_timeout: int = CELL_TIMEOUT_S):
    """Run ``nb`` in a fresh kernel (cwd ``workdir``, secrets removed from the environment).

    Errors in cells do not stop execution (each later step is still graded); a cell running longer
    than ``cell_timeout`` seconds is interrupted and recorded as an error.
    """
    from nbclient import NotebookClient

    from ebpm.report.kernels import KERNEL_NAME

    client = NotebookClient(
        nb,
        timeout=cell_timeout,
        kernel_name=KERNEL_NAME,
        allow_errors=True,
        resources={"metadata": {"path": str(workdir)}},
        # the outputs have arrived and the hidden checks wrote their records (each write closes its
        # file), so the kernel is stopped at once instead of asked to exit: a polite exit made it run
        # Python's shutdown over its whole heap first (about 0.5 s of CPU and wall per notebook)
        shutdown_kernel="immediate",
    )
    client.execute(env=_kernel_env())
    return nb


def participant_of(path: Path, root: Path) -> str:
    """Participant id: the sub-folder name (nbgrader layout ``<id>/<lesson>.ipynb``) or the stem."""
    rel = path.relative_to(root)
    return rel.parts[0] if len(rel.parts) > 1 else path.stem.split("__")[0]


def grade_notebook(path: Path, root: Path, *, cell_timeout: int = CELL_TIMEOUT_S) -> Submission:
    """Grade one returned notebook; malformed or foreign files come back with ``problem`` set."""
    import nbformat

    sub = Submission(participant=participant_of(path, root), file=path.relative_to(root).as_posix())
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except Exception as err:  # any unreadable file is reported, not raised
        sub.problem = (
            f"ノートブックとして読めません（{type(err).__name__}）。提出し直してもらってください。"
        )
        return sub
    meta = lesson_meta(nb)
    items = exercises(meta.get("lesson")) if meta.get("lesson") else {}
    if not meta or not items:
        sub.problem = "この研修で配布したノートブックではありません（研修の情報がありません）。"
        return sub
    sub.lesson = str(meta["lesson"])
    with tempfile.TemporaryDirectory(prefix="ebpm-grade-") as tmp:
        out = Path(tmp) / "collected.jsonl"
        graded = insert_hidden_checks(nb, items, out)
        run_error = ""
        try:
            execute(graded, Path(tmp), cell_timeout=cell_timeout)
        except Exception as err:  # timeout, dead kernel: grade what was collected
            run_error = f"実行が途中で止まりました（{type(err).__name__}: {str(err)[:200]}）"
        collected: dict[str, dict[str, Any]] = {}
        if out.exists():
            for line in out.read_text(encoding="utf-8").splitlines():
                rec = json.loads(line)
                collected.setdefault(rec["key"], rec)
        errors = _steps_with_errors(graded, items)
    for key, ex in items.items():
        rec = collected.get(key)
        label = f"{ex.step}"
        if rec is None or not rec["present"]:
            why = errors.get(key) or run_error or f"変数 {ex.variable} がありません"
            sub.rows.append(
                GradeRow(
                    sub.participant,
                    key,
                    0,
                    ex.points,
                    f"{label}: 採点できません（{why}）",
                    sub.lesson,
                    sub.file,
                )
            )
            continue
        if rec["value"] is not None:
            ok, message = judge(ex, rec["value"])
        elif rec["type"] == "NoneType":
            ok, message = judge(ex, None)
        else:
            ok, message = (
                False,
                f"数値ではありません（{rec['type']} 型）。数値1つを入れてください。",
            )
        feedback = f"{label}: {message}"
        if key in errors and not ok:
            feedback += f"（この手順のセルでエラー: {errors[key]}）"
        sub.rows.append(
            GradeRow(
                sub.participant,
                key,
                ex.points if ok else 0,
                ex.points,
                feedback,
                sub.lesson,
                sub.file,
            )
        )
    return sub


def grade_folder(
    submissions: str | Path, out_dir: str | Path, *, cell_timeout: int = CELL_TIMEOUT_S
) -> list[Submission]:
    """Grade every ``*.ipynb`` under ``submissions``; write ``grades.csv`` and feedback HTML per person.

    Returns
    -------
    list of Submission
        One per file, in path order. Files that are not notebooks of this course are listed with
        ``problem`` set and a row with exercise ``—`` in the CSV.
    """
    root = Path(submissions)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results = [
        grade_notebook(p, root, cell_timeout=cell_timeout)
        for p in sorted(root.rglob("*.ipynb"))
        if ".ipynb_checkpoints" not in p.parts
    ]
    with (out / "grades.csv").open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["participant", "lesson", "exercise", "points", "max_points", "feedback", "file"]
        )
        for sub in results:
            if sub.problem:
                writer.writerow([sub.participant, sub.lesson, "—", 0, 0, sub.problem, sub.file])
            for r in sub.rows:
                writer.writerow(
                    [
                        r.participant,
                        r.lesson,
                        r.exercise,
                        r.points,
                        r.max_points,
                        r.feedback,
                        r.file,
                    ]
                )
    feedback_dir = out / "feedback"
    feedback_dir.mkdir(exist_ok=True)
    by_person: dict[str, list[Submission]] = {}
    for sub in results:
        by_person.setdefault(sub.participant, []).append(sub)
    for person, subs in by_person.items():
        (feedback_dir / f"{person}.html").write_text(feedback_html(person, subs), encoding="utf-8")
    return results


def feedback_html(participant: str, subs: list[Submission]) -> str:
    """A participant's feedback page: points and a sentence per step, never the expected value."""
    from ebpm.training.materials import page

    parts = [f"<h1>採点結果: {html.escape(participant)}</h1>"]
    for sub in subs:
        parts.append(f"<h2>{html.escape(sub.lesson or sub.file)}</h2>")
        if sub.problem:
            parts.append(
                f'<p class="problem">{html.escape(sub.file)}: {html.escape(sub.problem)}</p>'
            )
            continue
        parts.append(f"<p>得点 {sub.points:g} / {sub.max_points:g}</p>")
        parts.append(
            "<table><thead><tr><th>課題</th><th>得点</th><th>講評</th></tr></thead><tbody>"
        )
        for r in sub.rows:
            parts.append(
                f"<tr><td>{html.escape(r.exercise)}</td><td>{r.points:g} / {r.max_points:g}</td>"
                f"<td>{html.escape(r.feedback)}</td></tr>"
            )
        parts.append("</tbody></table>")
    return page(f"採点結果 {participant}", "\n".join(parts))

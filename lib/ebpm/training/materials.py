"""Trainer materials: per-session handouts (HTML + A4 PDF, with and without solutions), trainer guide, workbook."""

from __future__ import annotations

import html as html_lib
import re
from pathlib import Path
from typing import Any

from ebpm.training.course import Course, Lesson, load_course
from ebpm.training.notebooks import CHECK_CALL, has_solution, prepare, read_lesson

TRAINER_TAG = "trainer"
EXTRA_CSS = """
.lesson-code { background: #f6f7f9; border: 1px solid #d5d9e0; padding: 8px 10px; overflow-x: auto;
  font-family: "BIZ UDGothic", "Noto Sans Mono CJK JP", "Noto Sans Mono", monospace; font-size: 0.85rem; white-space: pre-wrap; }
.exercise { border-left: 4px solid #1f5a96; padding-left: 10px; }
.trainer { background: #fff8e6; border: 1px solid #e0c98a; padding: 6px 12px; margin: 8px 0; }
.version { color: #555; font-size: 0.9rem; }
.problem { color: #9a1c1c; }
table { border-collapse: collapse; } th, td { border: 1px solid #ccc; padding: 3px 8px; }
@page { size: A4; margin: 16mm 14mm; }
"""


def page(title: str, body: str, *, kicker: str = "盛岡市 EBPM 研修") -> str:
    """A complete offline HTML page in the house style (system Japanese fonts, no external request)."""
    from ebpm.report.render import TEMPLATE_DIR, offline_html

    css = (TEMPLATE_DIR / "report.css").read_text(encoding="utf-8") + EXTRA_CSS
    return (
        '<!DOCTYPE html>\n<html lang="ja">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html_lib.escape(title)}</title>\n<style>\n{css}\n</style>\n</head>\n<body>\n"
        f'<p class="kicker">{html_lib.escape(kicker)}</p>\n'
        f"{offline_html(body)}\n</body>\n</html>\n"
    )


def _outputs_html(cell) -> list[str]:
    from ebpm.report.render import _output_block

    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            parts.append(f'<pre class="problem">{html_lib.escape(out.get("ename", ""))}</pre>')
            continue
        block = _output_block(out)
        if block is None:
            continue
        if block["kind"] == "pre":
            parts.append(f"<pre>{block['html']}</pre>")
        else:
            parts.append(f'<div class="block block-{block["kind"]}">{block["html"]}</div>')
    return parts


def cells_html(nb, *, show_code: bool, trainer: bool) -> str:
    """HTML of a (possibly executed) lesson notebook: prose, code (optional) and outputs."""
    from ebpm.report.render import markdown_html

    parts: list[str] = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if "ebpm-hidden-check" in tags:
            continue
        if cell.cell_type == "markdown":
            if TRAINER_TAG in tags:
                if trainer:
                    parts.append(f'<div class="trainer">{markdown_html(cell.source)}</div>')
                continue
            parts.append(markdown_html(cell.source))
        elif cell.cell_type == "code":
            hide_input = bool(tags & {"remove-input", "remove_input", "remove-cell"})
            if show_code and not hide_input and cell.source.strip():
                cls = "lesson-code exercise" if CHECK_CALL.search(cell.source) else "lesson-code"
                parts.append(f'<pre class="{cls}">{html_lib.escape(cell.source)}</pre>')
            if "remove-cell" not in tags and "remove-output" not in tags:
                parts.extend(_outputs_html(cell))
    return "\n".join(parts)


def execute_lesson(lesson: Lesson, *, cell_timeout: int = 120):
    """Run the instructor version of ``lesson`` (solutions included) and return the executed notebook."""
    import tempfile

    from ebpm.training.grading import execute

    nb = prepare(
        read_lesson(lesson.path), "instructor", lesson_id=lesson.id, lesson_title=lesson.title
    )
    with tempfile.TemporaryDirectory(prefix="ebpm-lesson-") as tmp:
        execute(nb, Path(tmp), cell_timeout=cell_timeout)
    return nb


def student_view(executed, lesson: Lesson):
    """The participant's handout notebook: solutions stripped, outputs kept except for exercise cells."""
    student = prepare(
        read_lesson(lesson.path), "student", lesson_id=lesson.id, lesson_title=lesson.title
    )
    by_pos = {c.metadata.get("ebpm_cell"): c for c in executed.cells if "ebpm_cell" in c.metadata}
    source = read_lesson(lesson.path).cells
    for cell in student.cells:
        if cell.cell_type != "code":
            continue
        pos = cell.metadata.get("ebpm_cell")
        original = source[pos] if isinstance(pos, int) and pos < len(source) else None
        if original is None or has_solution(original.source) or CHECK_CALL.search(original.source):
            continue
        done = by_pos.get(pos)
        if done is not None:
            cell.outputs = done.get("outputs", [])
    student.cells = [
        c for c in student.cells if TRAINER_TAG not in c.get("metadata", {}).get("tags", [])
    ]
    return student


def lesson_errors(nb) -> list[str]:
    """Errors raised while executing a lesson (``ename: evalue`` per failing cell)."""
    out = []
    for i, cell in enumerate(nb.cells):
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                out.append(f"セル{i + 1}: {o.get('ename')}: {o.get('evalue')}")
    return out


def _title(lesson: Lesson, course: Course, suffix: str) -> str:
    track = course.tracks[lesson.track]["title"]
    return f"{track} {lesson.id.upper()}「{lesson.title}」{suffix}"


def handout_html(lesson: Lesson, executed, course: Course, *, solutions: bool) -> str:
    """One session's handout page (HTML) with or without the solutions."""
    code = bool(course.tracks[lesson.track].get("code", True))
    nb = executed if solutions else student_view(executed, lesson)
    body = cells_html(nb, show_code=code, trainer=False)
    label = "（解答つき・講師用）" if solutions else "（受講者用・解答なし）"
    head = f'<p class="version">{html_lib.escape(label)}・所要 {lesson.minutes} 分</p>'
    return page(_title(lesson, course, label), head + body)


def trainer_guide_html(course: Course, executed: dict[str, Any]) -> str:
    """The trainer guide: for each session its timing, goals, common mistakes and discussion prompts."""
    from ebpm.report.render import markdown_html

    parts = [f"<h1>{html_lib.escape(course.title)} 講師ガイド</h1>"]
    parts.append(
        "<p>各回の時間配分・よくある間違い・問いかけの例をまとめた。教材本体（解答つき）は各回の"
        "講師用ハンドアウトを使う。模擬データの数値は実在の記録ではない。</p>"
    )
    for lesson in course.ready_lessons():
        nb = executed.get(lesson.id)
        parts.append(
            f"<h2>{html_lib.escape(_title(lesson, course, ''))}（{lesson.minutes}分）</h2>"
        )
        if nb is None:
            continue
        for cell in nb.cells:
            tags = set(cell.get("metadata", {}).get("tags", []))
            if cell.cell_type == "markdown" and (
                TRAINER_TAG in tags or cell.source.lstrip().startswith("## ねらい")
            ):
                parts.append(f'<div class="trainer">{markdown_html(cell.source)}</div>')
    return page(f"{course.title} 講師ガイド", "\n".join(parts))


def workbook_html(course: Course, executed: dict[str, Any]) -> str:
    """The participant workbook: every ready session's handout without solutions, in order."""
    parts = [f"<h1>{html_lib.escape(course.title)} 受講者ワークブック</h1>"]
    parts.append(
        "<p>この冊子の数値のうち盛岡市に関するものは模擬データであり、実在の記録ではない。</p>"
    )
    for lesson in course.ready_lessons():
        nb = executed.get(lesson.id)
        if nb is None:
            continue
        code = bool(course.tracks[lesson.track].get("code", True))
        parts.append(
            f'<section style="break-before: page"><h1>{html_lib.escape(_title(lesson, course, ""))}</h1>'
        )
        body = cells_html(student_view(nb, lesson), show_code=code, trainer=False)
        parts.append(re.sub(r"<h1>", "<h2>", re.sub(r"</h1>", "</h2>", body)) + "</section>")
    return page(f"{course.title} 受講者ワークブック", "\n".join(parts))


def quiz_sheet_html(course: Course, track: str, *, placement: bool = False) -> str:
    """The question sheet of a track's pre/post test (no answers), or the placement test."""
    from ebpm.training.quiz import load_bank

    items = [i for i in load_bank().values() if i.track == track]
    kind = "配属前の確認テスト（プレースメント）" if placement else "事前・事後テスト"
    title = f"{course.title} {course.tracks[track]['title']} {kind}"
    parts = [f"<h1>{html_lib.escape(title)}</h1>"]
    parts.append(
        "<p>回答は 試験（事前/事後）・設問・回答 の3列の CSV に、1行1問で書く"
        "（選択肢は記号、数値は半角でも全角でもよい）。</p><ol>"
    )
    for item in items:
        module = course.modules.get(item.module, item.module)
        body = f"<strong>{html_lib.escape(item.id)}</strong>（{html_lib.escape(module)}）{html_lib.escape(item.question)}"
        if item.choices:
            body += (
                "<ul>" + "".join(f"<li>{html_lib.escape(c)}</li>" for c in item.choices) + "</ul>"
            )
        else:
            body += "<p>答え（数値）: ＿＿＿＿</p>"
        parts.append(f"<li>{body}</li>")
    parts.append("</ol>")
    return page(title, "\n".join(parts))


def build_materials(
    out_dir: str | Path,
    *,
    lessons: list[str] | None = None,
    pdf: bool = True,
    course: Course | None = None,
) -> dict[str, Any]:
    """Execute the lessons and write handouts, the trainer guide and the workbook under ``out_dir``.

    Returns
    -------
    dict
        ``files`` (paths written), ``errors`` (lesson id → errors raised while executing) and
        ``pdf_error`` (why no PDF was printed, or ``None``).
    """
    course = course or load_course()
    out = Path(out_dir)
    (out / "handouts").mkdir(parents=True, exist_ok=True)
    chosen = [x for x in course.ready_lessons() if lessons is None or x.id in lessons]
    executed: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    html_files: list[Path] = []
    for lesson in chosen:
        nb = execute_lesson(lesson)
        executed[lesson.id] = nb
        if lesson_errors(nb):
            errors[lesson.id] = lesson_errors(nb)
        for solutions, suffix in ((True, "instructor"), (False, "student")):
            path = out / "handouts" / f"{lesson.id}_{suffix}.html"
            path.write_text(handout_html(lesson, nb, course, solutions=solutions), encoding="utf-8")
            html_files.append(path)
    guide = out / "trainer_guide.html"
    guide.write_text(trainer_guide_html(course, executed), encoding="utf-8")
    workbook = out / "workbook.html"
    workbook.write_text(workbook_html(course, executed), encoding="utf-8")
    html_files += [guide, workbook]
    if lessons is None:
        for track in course.tracks:
            sheet = out / f"quiz_{track}.html"
            sheet.write_text(quiz_sheet_html(course, track), encoding="utf-8")
            html_files.append(sheet)
        placement = out / "placement_test.html"
        placement.write_text(
            quiz_sheet_html(course, "practitioner", placement=True), encoding="utf-8"
        )
        html_files.append(placement)
    files = [str(p) for p in html_files]
    pdf_error = None
    if pdf:
        pdf_error = print_pdfs(html_files)
        files += [str(p.with_suffix(".pdf")) for p in html_files if p.with_suffix(".pdf").exists()]
    return {"files": files, "errors": errors, "pdf_error": pdf_error}


def print_pdfs(html_files: list[Path]) -> str | None:
    """Print each HTML file to an A4 PDF next to it (Chromium); the reason when it cannot."""
    from ebpm.report.render import PdfPrinter

    try:
        with PdfPrinter() as printer:
            for path in html_files:
                printer.print_pdf(path, path.with_suffix(".pdf"))
    except Exception as err:  # no Chromium: HTML handouts still work
        return f"PDF を作れませんでした（{err}）"
    return None

"""Student copies: every ready lesson with exercises, solutions stripped, written as .ipynb."""

from __future__ import annotations

from pathlib import Path

from ebpm.training.course import Course, load_course
from ebpm.training.notebooks import prepare, read_lesson


def release_notebooks(
    out_dir: str | Path, *, lessons: list[str] | None = None, course: Course | None = None
) -> list[Path]:
    """Write the participants' notebooks ``<out_dir>/<lesson>.ipynb`` (no solutions, no outputs).

    Manager-track lessons are released too (prose and reading exercises; they hold no code to write).
    The answer keys stay in ``training/instructor/`` and are never copied.
    """
    import nbformat

    course = course or load_course()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for lesson in course.ready_lessons():
        if lessons is not None and lesson.id not in lessons:
            continue
        nb = prepare(
            read_lesson(lesson.path), "student", lesson_id=lesson.id, lesson_title=lesson.title
        )
        target = out / f"{lesson.id}.ipynb"
        nbformat.write(nb, target)
        written.append(target)
    return written

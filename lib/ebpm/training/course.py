"""The course definition (training/course.yml): tracks, lessons, modules, the 職階 × module map."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ebpm.config import paths
from ebpm.errors import ParameterError


@dataclass(frozen=True)
class Lesson:
    """One session of a track, kept as a MyST markdown text notebook under ``training/``."""

    id: str
    track: str
    file: str
    title: str
    minutes: int
    modules: tuple[str, ...]
    status: str = "ready"

    @property
    def path(self) -> Path:
        """The lesson's text notebook (``training/<file>``)."""
        return paths().training / self.file

    @property
    def ready(self) -> bool:
        """Whether the lesson has material (``planned`` lessons are listed but not built)."""
        return self.status == "ready"


@dataclass(frozen=True)
class Course:
    """The whole course as declared in ``training/course.yml``."""

    title: str
    tracks: dict[str, dict[str, Any]]
    modules: dict[str, str]
    lessons: tuple[Lesson, ...]
    grade_map: dict[str, dict[str, str]]
    attendance_courses: dict[str, str] = field(default_factory=dict)

    def lesson(self, lesson_id: str) -> Lesson:
        """The lesson with this id, or a Japanese error listing the ids."""
        for lesson in self.lessons:
            if lesson.id == lesson_id:
                return lesson
        ids = "、".join(x.id for x in self.lessons)
        raise ParameterError(
            f"研修の回「{lesson_id}」はありません。使えるのは {ids} です。", parameter="lesson"
        )

    def ready_lessons(self, track: str | None = None) -> list[Lesson]:
        """Lessons with material, optionally of one track (``manager`` / ``practitioner``)."""
        return [x for x in self.lessons if x.ready and (track is None or x.track == track)]


def load_course(path: str | Path | None = None) -> Course:
    """Read ``training/course.yml`` (or ``path``) into a :class:`Course`.

    Raises
    ------
    ParameterError
        When the file is missing or a lesson names an unknown track or module.
    """
    file = Path(path) if path is not None else paths().training / "course.yml"
    if not file.is_file():
        raise ParameterError(f"研修コースの定義 {file.name} がありません", parameter="course")
    raw = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    tracks = raw.get("tracks") or {}
    modules = raw.get("modules") or {}
    lessons = []
    for item in raw.get("lessons") or []:
        lesson = Lesson(
            id=str(item["id"]),
            track=str(item["track"]),
            file=str(item["file"]),
            title=str(item["title"]),
            minutes=int(item.get("minutes", 120)),
            modules=tuple(item.get("modules") or ()),
            status=str(item.get("status", "ready")),
        )
        if lesson.track not in tracks:
            raise ParameterError(
                f"回「{lesson.id}」の区分「{lesson.track}」は tracks にありません",
                parameter="track",
            )
        unknown = [m for m in lesson.modules if m not in modules]
        if unknown:
            raise ParameterError(
                f"回「{lesson.id}」のモジュール「{'、'.join(unknown)}」は modules にありません",
                parameter="modules",
            )
        lessons.append(lesson)
    return Course(
        title=str(raw.get("title", "EBPM 研修")),
        tracks=tracks,
        modules=modules,
        lessons=tuple(lessons),
        grade_map=raw.get("grade_map") or {},
        attendance_courses=raw.get("attendance_courses") or {},
    )


def grade_map_markdown(course: Course) -> str:
    """The 職階 × module table of ``course.yml`` as Markdown (pasted into training/README.md, tested)."""
    keys = list(course.modules)
    head = "| 職階 | " + " | ".join(course.modules[k] for k in keys) + " |"
    rule = "|---|" + "---|" * len(keys)
    rows = [
        f"| {grade} | " + " | ".join(marks.get(k, "") for k in keys) + " |"
        for grade, marks in course.grade_map.items()
    ]
    return "\n".join([head, rule, *rows])


def lessons_markdown(course: Course) -> str:
    """The lesson list of ``course.yml`` as a Markdown table (pasted into training/README.md, tested)."""
    rows = ["| 回 | 区分 | 題 | 時間 | モジュール | 教材 | 状態 |", "|---|---|---|---|---|---|---|"]
    for x in course.lessons:
        track = course.tracks[x.track]["title"]
        modules = "・".join(course.modules[m] for m in x.modules)
        state = "教材あり（CI で実行）" if x.ready else "準備中"
        rows.append(
            f"| {x.id} | {track} | {x.title} | {x.minutes}分 | {modules} | `{x.file}` | {state} |"
        )
    return "\n".join(rows)

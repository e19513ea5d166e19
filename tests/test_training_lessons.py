"""Every lesson runs with its solutions (all self-checks pass); two fixture submissions grade exactly."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import nbformat
import pytest
from ebpm.report.lint import lint_html
from ebpm.training.course import load_course
from ebpm.training.exercises import exercises
from ebpm.training.grading import grade_folder
from ebpm.training.materials import execute_lesson, handout_html, lesson_errors
from ebpm.training.notebooks import prepare, read_lesson

# starts one kernel per lesson / submission; the data comes from the full build (conftest with_curated)
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("with_curated")]

COURSE = load_course()


@pytest.mark.parametrize("lesson_id", [x.id for x in COURSE.ready_lessons()])
def test_lesson_runs_with_solutions_and_every_self_check_passes(lesson_id):
    nb = execute_lesson(COURSE.lesson(lesson_id))
    assert lesson_errors(nb) == []
    printed = "".join(
        o.get("text", "")
        for c in nb.cells
        for o in c.get("outputs", [])
        if o.get("output_type") == "stream"
    )
    assert "❌" not in printed, printed
    checks = sum(1 for c in nb.cells if c.cell_type == "code" and 'check("' in c.source)
    assert printed.count("✅") == checks
    # the participant's handout (outputs of the worked examples kept) shows no expected value either
    lesson = COURSE.lesson(lesson_id)
    handout = handout_html(lesson, nb, COURSE, solutions=False).split("</style>", 1)[1]
    # chart marks carry many incidental numbers in their aria labels; the text and tables are checked
    handout = re.sub(r"<svg.*?</svg>", "", handout, flags=re.S)
    for ex in exercises(lesson_id).values():
        value = ex.expected()
        for digits in (2, 3, 4):
            assert f"{value:.{digits}f}" not in handout, (ex.key, digits)
        if abs(value) >= 100:
            assert f"{int(value)}" not in handout and f"{int(value):,}" not in handout, ex.key
        assert "BEGIN SOLUTION" not in handout
    full = handout_html(lesson, nb, COURSE, solutions=False)
    if lesson.track != "manager":
        # practitioners learn code: code, code names and printed data frames keep their column names;
        # the prose and the charts around them follow the report language rules all the same
        full = re.sub(
            r"<pre.*?</pre>|<code.*?</code>|<table[^>]*dataframe.*?</table>", "", full, flags=re.S
        )
    assert lint_html(full) == [], lint_html(full)  # managers read these pages as they read reports


def _write(nb, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def _fill(nb, answers: dict[str, str]):
    """Replace each stub line ``<var> = None`` with the participant's code."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for var, code in answers.items():
            cell.source = cell.source.replace(f"{var} = None", code)
    return nb


@pytest.fixture(scope="module")
def graded(full_curated, tmp_path_factory):
    root = tmp_path_factory.mktemp("submissions")
    lesson = COURSE.lesson("p1")
    source = read_lesson(lesson.path)
    _write(
        prepare(source, "instructor", lesson_id="p1", lesson_title=lesson.title),
        root / "A001" / "p1.ipynb",
    )
    wrong = prepare(source, "student", lesson_id="p1", lesson_title=lesson.title)
    _fill(
        wrong,
        {
            "n_offices": 'n_offices = visits["office"].nunique()',
            "mean_wait_2019": 'mean_wait_2019 = visits.loc[visits["fy"] == 2019, "mean_wait_min"].mean()',
            "total_visits_2024": 'total_visits_2024 = visits["visits"].sum()',
        },
    )
    _write(wrong, root / "A002" / "p1.ipynb")
    (root / "A003").mkdir()
    (root / "A003" / "p1.ipynb").write_text("これはノートブックではない", encoding="utf-8")
    foreign = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(1)")])
    _write(foreign, root / "A003" / "other.ipynb")
    out = tmp_path_factory.mktemp("grades")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EBPM_CURATED", str(full_curated))
        results = grade_folder(root, out, cell_timeout=120)
    with (out / "grades.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    return results, rows, out


@pytest.mark.xdist_group("lesson_grading")  # the graded fixture runs once
def test_correct_submission_gets_full_marks(graded):
    _, rows, _ = graded
    mine = [
        (r["exercise"], r["points"], r["max_points"]) for r in rows if r["participant"] == "A001"
    ]
    assert mine == [
        ("p1.n_offices", "1", "1"),
        ("p1.mean_wait_2019", "2", "2"),
        ("p1.total_visits_2024", "2", "2"),
    ]


@pytest.mark.xdist_group("lesson_grading")  # the graded fixture runs once
def test_wrong_answers_and_an_error_cell_get_partial_marks_naming_the_step(graded):
    _, rows, _ = graded
    mine = {r["exercise"]: r for r in rows if r["participant"] == "A002"}
    assert [(k, r["points"]) for k, r in mine.items()] == [
        ("p1.n_offices", "1"),
        ("p1.mean_wait_2019", "0"),
        ("p1.total_visits_2024", "0"),
    ]
    assert mine["p1.mean_wait_2019"]["feedback"] == (
        "手順2 2019年度の平均待ち時間（分）を求める: 採点できません（KeyError: 'fy'）"
    )
    assert mine["p1.total_visits_2024"]["feedback"] == (
        "手順3 本庁の2024年度の訪問者数の合計（人）を求める: 桁が違います。"
        "単位（分・件・割合か%か）と集計の単位を確かめてください。"
    )


@pytest.mark.xdist_group("lesson_grading")  # the graded fixture runs once
def test_malformed_and_foreign_notebooks_are_reported_not_crashed_on(graded):
    _, rows, out = graded
    problems = {r["file"]: r["feedback"] for r in rows if r["participant"] == "A003"}
    assert problems == {
        "A003/other.ipynb": "この研修で配布したノートブックではありません（研修の情報がありません）。",
        "A003/p1.ipynb": "ノートブックとして読めません（NotJSONError）。提出し直してもらってください。",
    }
    assert {p.name for p in (out / "feedback").iterdir()} == {"A001.html", "A002.html", "A003.html"}


@pytest.mark.xdist_group("lesson_grading")  # the graded fixture runs once
def test_feedback_html_never_shows_the_expected_values(graded):
    _, _, out = graded
    from ebpm.training.exercises import exercises

    text = (out / "feedback" / "A002.html").read_text(encoding="utf-8")
    assert "得点 1 / 5" in text
    body = text.split("</style>", 1)[1]
    for ex in exercises("p1").values():
        value = ex.expected()
        assert f"{value:.2f}" not in body
        if value >= 100:  # small integers (15) occur in ordinary text; large ones would be a leak
            assert f"{int(value)}" not in body and f"{int(value):,}" not in body

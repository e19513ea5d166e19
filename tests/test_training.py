"""Training: course definition, release without answers, self-check wording, quizzes and the paired CI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from ebpm.errors import IngestError, ParameterError
from ebpm.training import course as course_mod
from ebpm.training import exercises as ex_mod
from ebpm.training import quiz
from ebpm.training.notebooks import BEGIN, prepare, read_lesson
from ebpm.training.release import release_notebooks

ROOT = Path(__file__).resolve().parents[1]
TRAINING = ROOT / "training"


def test_every_lesson_is_listed_in_the_trainers_readme():
    readme = (TRAINING / "README.md").read_text(encoding="utf-8")
    course = course_mod.load_course()
    for lesson in course.lessons:
        assert lesson.file in readme, f"{lesson.file} が training/README.md にありません"
        if lesson.ready:
            assert lesson.path.is_file(), lesson.file
    on_disk = {p.relative_to(TRAINING).as_posix() for p in TRAINING.glob("*/*.md")}
    assert on_disk <= {x.file for x in course.lessons}, "course.yml にない教材ファイルがあります"


def test_every_exercise_has_a_self_check_call_in_its_lesson():
    course = course_mod.load_course()
    for key, ex in ex_mod.exercises().items():
        text = course.lesson(ex.lesson).path.read_text(encoding="utf-8")
        if ex.selfcheck:
            assert f'check("{key}"' in text, key
        assert ex.variable in text, key


def _expected_strings() -> set[str]:
    """Every expected value of every exercise as it could be typed (2–4 decimals, integer)."""
    out = set()
    for ex in ex_mod.exercises().values():
        value = ex.expected()
        for digits in (2, 3, 4):
            out.add(f"{value:.{digits}f}")
        if float(value).is_integer() and abs(value) >= 100:
            out.add(str(int(value)))
    return out


def _values(node, key: str = ""):
    """Every string and number in a JSON document, except the values of ``id`` keys."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k != "id":
                yield from _values(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from _values(v, key)
    elif isinstance(node, (str, int, float)) and not isinstance(node, bool):
        yield str(node)


def test_released_copies_hold_no_solution_and_no_expected_value(with_curated, tmp_path):
    written = release_notebooks(tmp_path)
    course = course_mod.load_course()
    assert {p.stem for p in written} == {x.id for x in course.ready_lessons()}
    expected = _expected_strings()
    found_any = False
    for lesson in course.ready_lessons():
        solution_lines: set[str] = set()
        nb = read_lesson(lesson.path)
        for cell in nb.cells:
            if cell.cell_type == "code" and BEGIN in cell.source:
                inside = cell.source.split(BEGIN, 1)[1].split("# END SOLUTION", 1)[0]
                solution_lines |= {ln.strip() for ln in inside.splitlines() if len(ln.strip()) > 12}
            if "solution-only" in cell.metadata.get("tags", []) or "trainer" in cell.metadata.get(
                "tags", []
            ):
                solution_lines |= {
                    ln.strip() for ln in cell.source.splitlines() if len(ln.strip()) > 12
                }
        public = "\n".join(
            c.source
            for c in nb.cells
            if BEGIN not in c.source
            and not set(c.metadata.get("tags", [])) & {"solution-only", "trainer"}
        )
        solution_lines = {
            ln for ln in solution_lines if ln not in public
        }  # only what the solution adds
        found_any |= bool(solution_lines)
        text = (tmp_path / f"{lesson.id}.ipynb").read_text(encoding="utf-8")
        for line in solution_lines:
            assert json.dumps(line)[1:-1] not in text, f"{lesson.id} に解答が残っています: {line}"
    assert found_any, "解答のある教材が見つかりません（テストが空回りしています）"
    for path in tmp_path.rglob("*"):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        # every string and number in the notebook, decoded, except cell ids: a random id such as
        # "9e176a2b" once made this fail with 176 (an expected value of p3)
        shown = "\n".join(_values(json.loads(text)))
        numbers = set(re.findall(r"(?<![0-9A-Za-z_.])(?:-?\d+\.\d+|\d{3,})(?![0-9A-Za-z_])", shown))
        leaked = {n for n in numbers if n in expected}
        assert not leaked, f"{path.name} に期待値が含まれています: {leaked}"
        assert (
            "BEGIN SOLUTION" not in text
            and "instructor" not in json.loads(text)["metadata"]["ebpm_training"]["version"]
        )
    assert not list(tmp_path.rglob("exercises.yml")) and not list(tmp_path.rglob("quiz_bank.yml"))


def test_student_version_keeps_stub_and_drops_trainer_notes():
    lesson = course_mod.load_course().lesson("p5")
    nb = prepare(read_lesson(lesson.path), "student", lesson_id="p5")
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "did_att = None" in code and "ck_did = None" in code
    assert "did.estimate" not in code
    text = "\n".join(c.source for c in nb.cells)
    assert "よくある間違い" not in text
    with pytest.raises(ParameterError, match="instructor か student"):
        prepare(nb, "teacher")


@pytest.mark.parametrize(
    ("value", "ok", "words"),
    [
        (2.755, True, "正しい範囲"),
        (-2.75, False, "向き（符号）が逆"),
        (275.0, False, "桁が違います"),
        (2.6, False, "許容差の外"),
        (None, False, "まだ答えが入っていません"),
        ("2.75円", False, "数値ではありません"),
    ],
)
def test_self_check_says_right_wrong_direction_or_tolerance_without_the_value(value, ok, words):
    exercise = ex_mod.exercises()["p5.ck_did"]
    got, message = ex_mod.judge(exercise, value)
    assert got is ok and words in message
    assert "2.75" not in message and "0.01" not in message


def test_unknown_exercise_key_is_a_japanese_error():
    with pytest.raises(ParameterError, match="課題「p9.nothing」はありません"):
        ex_mod.check("p9.nothing", 1.0)


def test_card_krueger_reproduces_published_table_3():
    """Card & Krueger (1994) AER 84(4) Table 3: FTE means (SE) by state before/after, and the DiD.

    Published: row 1 PA 23.33 (1.35), NJ 20.44 (0.51); row 2 PA 21.17 (0.94), NJ 21.03 (0.52);
    row 4 (balanced sample) change PA −2.28 (1.25), NJ 0.47 (0.48), NJ−PA 2.75 (1.34).
    Tolerance 0.005 = the table's rounding.
    """
    from ebpm.training import card_krueger

    ck = card_krueger()
    before = ck.groupby("nj")["fte"].agg(["mean", "sem"])
    after = ck.groupby("nj")["fte2"].agg(["mean", "sem"])
    assert before.loc[0, "mean"] == pytest.approx(23.33, abs=0.005)
    assert before.loc[1, "mean"] == pytest.approx(20.44, abs=0.005)
    assert before.loc[0, "sem"] == pytest.approx(1.35, abs=0.005)
    assert after.loc[0, "mean"] == pytest.approx(21.17, abs=0.005)
    assert after.loc[1, "mean"] == pytest.approx(21.03, abs=0.005)
    both = ck.dropna(subset=["fte", "fte2"]).assign(change=lambda d: d["fte2"] - d["fte"])
    change = both.groupby("nj")["change"].agg(["mean", "sem"])
    did = change.loc[1, "mean"] - change.loc[0, "mean"]
    se = float(np.hypot(change.loc[1, "sem"], change.loc[0, "sem"]))
    assert did == pytest.approx(2.75, abs=0.005)
    assert se == pytest.approx(1.34, abs=0.005)
    assert ex_mod.exercises()["p5.ck_did"].expected() == pytest.approx(did, abs=0.01)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_paired_difference_matches_scipy_ttest_rel(seed):
    """Reference: scipy.stats.ttest_rel (statistic, p-value and its confidence_interval)."""
    from scipy import stats

    rng = np.random.default_rng(seed)
    pre = rng.uniform(0, 1, size=25)
    post = np.clip(pre + rng.normal(0.1, 0.2, size=25), 0, 1)
    ours = quiz.paired_difference(pre, post)
    ref = stats.ttest_rel(post, pre)
    ci = ref.confidence_interval(0.95)
    assert ours.mean == pytest.approx(float(np.mean(post - pre)), rel=1e-12)
    assert ours.ci[0] == pytest.approx(ci.low, rel=1e-10)
    assert ours.ci[1] == pytest.approx(ci.high, rel=1e-10)
    assert ours.pvalue == pytest.approx(ref.pvalue, rel=1e-10)


def test_paired_difference_edge_cases():
    same = quiz.paired_difference([0, 0, 1], [1, 1, 2])
    assert same.ci == (1.0, 1.0) and same.se == 0
    assert np.isnan(quiz.paired_difference([0], [1]).ci[0])
    with pytest.raises(ParameterError, match="事前と事後の数"):
        quiz.paired_difference([0, 1], [1])


def _answers(folder: Path, person: str, rows: list[tuple[str, str, str]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["試験,設問,回答"] + [",".join(r) for r in rows]
    (folder / f"{person}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_scores_accept_fullwidth_and_count_blank_as_wrong(tmp_path):
    bank = quiz.load_bank()
    _answers(tmp_path, "T01", [("事前", "P03", "－２"), ("事後", "P03", "-2"), ("事前", "P01", "")])
    _answers(tmp_path, "T02", [("pre", "P01", "Ｂ"), ("post", "P05", "２０")])
    scores = quiz.read_answers(tmp_path, bank)
    got = {(r.participant, r.test, r.item): r.score for r in scores.itertuples()}
    assert got == {
        ("T01", "事前", "P03"): 1,
        ("T01", "事後", "P03"): 1,
        ("T01", "事前", "P01"): 0,
        ("T02", "事前", "P01"): 1,
        ("T02", "事後", "P05"): 1,
    }


def test_answer_file_errors_name_file_row_and_column(tmp_path):
    bank = quiz.load_bank()
    _answers(tmp_path, "T01", [("事前", "P01", "B"), ("中間", "P01", "B")])
    with pytest.raises(IngestError, match=r"T01.csv.*3行目.*試験「中間」は 事前 か 事後"):
        quiz.read_answers(tmp_path, bank)
    _answers(tmp_path, "T01", [("事前", "Z99", "B")])
    with pytest.raises(IngestError, match="設問「Z99」は設問集にありません"):
        quiz.read_answers(tmp_path, bank)


def test_learning_gain_by_item_and_module_is_paired(tmp_path):
    bank = quiz.load_bank()
    # three people: P01 (data) wrong → right for all; P03 (did) right → right; T03 took no post-test
    for person in ("T01", "T02"):
        _answers(
            tmp_path,
            person,
            [
                ("事前", "P01", "A"),
                ("事後", "P01", "B"),
                ("事前", "P03", "-2"),
                ("事後", "P03", "-2"),
            ],
        )
    _answers(tmp_path, "T03", [("事前", "P01", "A")])
    scores = quiz.read_answers(tmp_path, bank)
    items = quiz.learning_gain(scores, by="item").set_index("item")
    assert items.loc["P01", "n"] == 2 and items.loc["P01", "gain"] == 1.0
    assert items.loc["P03", "gain"] == 0.0
    modules = quiz.learning_gain(scores, by="module").set_index("module")
    assert modules.loc["data", "pre"] == 0.0 and modules.loc["data", "post"] == 1.0
    with pytest.raises(ParameterError, match="by は item・module・all"):
        quiz.learning_gain(scores, by="person")


def test_readme_tables_are_generated_from_course_yml():
    readme = (TRAINING / "README.md").read_text(encoding="utf-8")
    course = course_mod.load_course()
    assert course_mod.lessons_markdown(course) in readme, (
        "README の回の一覧が course.yml と違います"
    )
    assert course_mod.grade_map_markdown(course) in readme, (
        "README の職階×モジュールが course.yml と違います"
    )


def test_cli_release_and_report_errors(tmp_path):
    from ebpm.cli import app
    from typer.testing import CliRunner

    runner = CliRunner()
    done = runner.invoke(app, ["course", "release", "--out", str(tmp_path / "rel"), "-l", "p1"])
    assert done.exit_code == 0, done.output
    assert [p.name for p in (tmp_path / "rel").iterdir()] == ["p1.ipynb"]
    (tmp_path / "ans").mkdir()
    bad = runner.invoke(app, ["course", "report", str(tmp_path / "ans"), "--track", "director"])
    assert bad.exit_code != 0
    assert "区分は manager・practitioner です" in str(bad.exception)

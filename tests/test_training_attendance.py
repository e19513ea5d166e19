"""Attendance import: a messy city workbook → pseudonymised staff_training rows → KPI and coverage."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest
from ebpm import config
from ebpm.errors import ParameterError
from ebpm.training import attendance

ROOT = Path(__file__).resolve().parents[1]
KEY = "test-key-0123456789abcdef"
NAMES = ["盛岡 太郎", "岩手 花子", "北上 一郎", "中津川 次郎", "雫石 三郎"]
RAW_NUMBERS = ["000123", "０００１２３", "000456", "00789", "００７８９", "001000", "001001"]


def messy_workbook(path: Path) -> Path:
    """Title row, merged group headers over two header rows, 和暦 and 全角, a duplicate, an unknown course."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "出席簿"
    ws["A1"] = "令和７年度 ＥＢＰＭ研修 出席簿"
    ws["A3"] = "職員情報"
    ws.merge_cells("A3:D3")
    ws["E3"] = "研修"
    ws.merge_cells("E3:G3")
    for col, name in zip(
        "ABCDEFG", ["職員番号", "氏名", "所属", "職階", "コース", "受講日", "修了"], strict=True
    ):
        ws[f"{col}4"] = name
    rows = [
        [
            "０００１２３",
            NAMES[0],
            "総務部",
            "係長級",
            "EBPM研修（実務者向け）",
            "令和7年5月12日",
            "〇",
        ],  # row 5
        [
            "000456",
            NAMES[1],
            "財政部",
            "主事・技師級",
            "EBPM研修（実務者向け）",
            "R7.5.12",
            "〇",
        ],  # row 6
        [
            "００７８９",
            NAMES[2],
            "市民部",
            "課長級",
            "EBPM研修（管理職向け）",
            "令和７年６月２日",
            "×",
        ],  # row 7
        [
            "000123",
            NAMES[0],
            "総務部",
            "係長級",
            "EBPM研修（実務者向け）",
            "令和7年5月12日",
            "〇",
        ],  # row 8: dup
        [
            "001000",
            NAMES[3],
            "建設部",
            "主任級",
            "Excel マクロ講座",
            "令和7年7月1日",
            "〇",
        ],  # row 9: unknown
        [
            "001001",
            NAMES[4],
            "環境部",
            "主査級",
            "データ活用基礎（集計とグラフ）",
            "2025/07/01",
            "修了",
        ],  # row 10
    ]
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


@pytest.fixture()
def raw(tmp_path, monkeypatch) -> Path:
    """A raw folder with the synthetic source (linked) and an empty attendance ledger (copied)."""
    target = tmp_path / "raw"
    target.mkdir()
    (target / "synthetic_morioka").symlink_to(ROOT / "data" / "raw" / "synthetic_morioka")
    shutil.copytree(ROOT / "data" / "raw" / "training_attendance", target / "training_attendance")
    monkeypatch.setenv("EBPM_RAW", str(target))
    monkeypatch.setenv(attendance.KEY_ENV, KEY)
    return target


def test_import_counts_duplicates_and_unknown_courses_in_japanese(raw, tmp_path):
    report = attendance.import_attendance(messy_workbook(tmp_path / "出席簿.xlsx"))
    assert report.rows_read == 6
    assert report.added == 4
    assert report.duplicates == [
        "8行目: 5行目と同じ職員・研修・受講日の重複です（1件として数えます）"
    ]
    assert report.unknown_courses == [
        "9行目: 研修名「Excel マクロ講座」は研修コースの一覧（training/course.yml の attendance_courses）にありません"
    ]
    assert report.errors == []
    ledger = (
        (raw / "training_attendance" / "attendance.csv").read_text(encoding="utf-8").splitlines()
    )
    assert ledger[0] == "staff_id,grade,department,course,track,date,completed"
    assert ledger[1].endswith(",係長級,総務部,EBPM研修（実務者向け）,実務者向け,2025-05-12,true")
    assert ",課長級,市民部,EBPM研修（管理職向け）,管理職向け,2025-06-02,false" in ledger[3]
    assert ledger[4].endswith(",2025-07-01,true")
    # importing the same sheet again adds nothing
    again = attendance.import_attendance(tmp_path / "出席簿.xlsx")
    assert (again.added, again.already_present) == (0, 4)


def test_pseudonym_is_keyed_and_ignores_fullwidth_and_leading_zeros():
    key = KEY.encode()
    assert attendance.pseudonym("０００１２３", key) == attendance.pseudonym("123", key)
    assert attendance.pseudonym("123", key) != attendance.pseudonym(
        "123", b"another-key-0123456789"
    )
    assert (
        attendance.pseudonym("123", key).startswith("H")
        and len(attendance.pseudonym("123", key)) == 17
    )


def test_refuses_without_a_key_and_writes_nothing(raw, tmp_path, monkeypatch):
    monkeypatch.delenv(attendance.KEY_ENV)
    before = (raw / "training_attendance" / "attendance.csv").read_bytes()
    with pytest.raises(ParameterError, match="EBPM_STAFF_KEY"):
        attendance.import_attendance(messy_workbook(tmp_path / "a.xlsx"))
    monkeypatch.setenv(attendance.KEY_ENV, "short")
    with pytest.raises(ParameterError, match="16文字以上"):
        attendance.import_attendance(tmp_path / "a.xlsx")
    assert (raw / "training_attendance" / "attendance.csv").read_bytes() == before


def test_csv_sheet_and_bad_cells_are_reported_with_rows(raw, tmp_path):
    sheet = tmp_path / "出席簿.csv"
    sheet.write_text(
        "職員番号,氏名,所属,職階,コース,受講日,修了\n"
        "１２３,盛岡 太郎,総務部,係長級,EBPM研修（実務者向け）,令和7年5月12日,〇\n"
        "124,岩手 花子,財政部,係長,EBPM研修（実務者向け）,令和7年5月12日,〇\n"
        "125,北上 一郎,市民部,係長級,EBPM研修（実務者向け）,令和7年5月12日,たぶん\n",
        encoding="cp932",
    )
    report = attendance.import_attendance(sheet, dry_run=True)
    assert report.added == 1
    assert report.errors[0].startswith("3行目: 職階「係長」は 部長級・")
    assert report.errors[1] == "4行目: 修了欄「たぶん」は 〇（修了）か ×（未修了）で書いてください"
    assert (raw / "training_attendance" / "attendance.csv").read_text(encoding="utf-8").count(
        "\n"
    ) == 1


def test_imported_rows_reach_the_kpi_and_coverage_without_names(raw, tmp_path, monkeypatch, capsys):
    """Build staff_training from the synthetic source + the ledger; the KPI counts the new completions."""
    from ebpm.cli import main  # noqa: F401  (the CLI module imports cleanly)
    from ebpm.data import builder
    from ebpm.data.kpi import kpi_actuals

    catalog = tmp_path / "catalog"
    catalog.mkdir()
    shutil.copy(ROOT / "data" / "catalog" / "staff_training.yml", catalog)
    curated = tmp_path / "curated"
    curated.mkdir()
    monkeypatch.setenv("EBPM_CATALOG", str(catalog))
    monkeypatch.setenv("EBPM_CURATED", str(curated))
    builder.build(paths=config.paths())
    base = kpi_actuals(["trainees"], start_fy=2021, end_fy=2025).set_index("fy")["value"]

    attendance.import_attendance(messy_workbook(tmp_path / "出席簿.xlsx"))
    builder.build(paths=config.paths())
    after = kpi_actuals(["trainees"], start_fy=2021, end_fy=2025).set_index("fy")["value"]
    # 3 completed imports dated in FY2025 (令和7年度); the uncompleted one does not count
    assert after[2025] - base[2025] == 3
    assert (after.loc[:2024] == base.loc[:2024]).all()

    from ebpm.cli import app
    from typer.testing import CliRunner

    shown_cli = CliRunner().invoke(app, ["training", "coverage"])
    assert shown_cli.exit_code == 0, shown_cli.output
    assert "秘匿処理" in shown_cli.output and "総務部" in shown_cli.output
    table = attendance.coverage_table()
    shown = table.to_html() if hasattr(table, "to_html") else str(table)
    assert "総務部" in shown
    # nothing personal anywhere: ledger, database, outputs
    import duckdb

    db_text = ""
    con = duckdb.connect(str(curated / "ebpm.duckdb"), read_only=True)
    try:
        rows = con.execute("SELECT * FROM staff_training WHERE staff_id LIKE 'H%'").fetchall()
        db_text = "\n".join(",".join(map(str, r)) for r in rows)
    finally:
        con.close()
    assert len(rows) == 4
    db_bytes = (curated / "ebpm.duckdb").read_bytes()
    for name in NAMES:
        assert name.encode("utf-8") not in db_bytes
    outputs = [
        db_text,
        (raw / "training_attendance" / "attendance.csv").read_text(encoding="utf-8"),
        (raw / "training_attendance" / "SOURCE.yml").read_text(encoding="utf-8"),
        shown,
        shown_cli.output,
        capsys.readouterr().out,
    ]
    for text in outputs:
        for secret in NAMES + RAW_NUMBERS + [KEY]:
            assert secret not in text


def test_cli_import_prints_counts_and_rows_but_nothing_personal(raw, tmp_path):
    from ebpm.cli import app
    from typer.testing import CliRunner

    book = messy_workbook(tmp_path / "出席簿.xlsx")
    result = CliRunner().invoke(app, ["training", "import", str(book)])
    assert result.exit_code == 0, result.output
    flat = "".join(result.output.split())
    assert "6行を読み、4件を追加" in flat
    assert "8行目:5行目と同じ職員・研修・受講日の重複です" in flat
    for secret in NAMES + RAW_NUMBERS + [KEY]:
        assert secret not in result.output


def test_grading_kernel_gets_no_staff_key(monkeypatch):
    from ebpm.training.grading import _kernel_env

    monkeypatch.setenv(attendance.KEY_ENV, KEY)
    monkeypatch.setenv("ESTAT_APP_ID", "secret-app-id")
    env = _kernel_env()
    assert attendance.KEY_ENV not in env and "ESTAT_APP_ID" not in env

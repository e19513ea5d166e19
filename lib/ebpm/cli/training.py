"""CLI: ``ebpm course build|release|grade|report`` (trainers) and ``ebpm training import`` (attendance → KPI)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ebpm.cli import app

course_app = typer.Typer(
    help="EBPM 研修の教材づくり・配布・採点・学習効果のレポート（講師用）。",
    no_args_is_help=True,
)
training_app = typer.Typer(
    help="職員研修の出席簿の取込（KPI「研修受講者数」の元データ）。", no_args_is_help=True
)
app.add_typer(course_app, name="course")
app.add_typer(training_app, name="training")


def _training_dir(sub: str) -> Path:
    from ebpm.config import paths

    return paths().training / sub


@course_app.command("build")
def build_cmd(
    out: Annotated[
        Path | None, typer.Option("--out", help="出力先（既定: training/_build/）。")
    ] = None,
    lesson: Annotated[
        list[str] | None,
        typer.Option("--lesson", "-l", help="作る回（例: p5）。繰り返し指定できる。既定: すべて。"),
    ] = None,
    pdf: Annotated[
        bool, typer.Option("--pdf/--no-pdf", help="A4 PDF も作る（Chromium を使う）。")
    ] = True,
) -> None:
    """各回のハンドアウト（解答つき・解答なし、HTML と A4 PDF）、講師ガイド、受講者ワークブックを作ります。

    各回の教材を解答つきで実行してから作るため、ライブラリの変更で教材が壊れていればここで分かります。
    """
    from ebpm.errors import ParameterError
    from ebpm.training.materials import build_materials

    target = out or _training_dir("_build")
    result = build_materials(target, lessons=lesson, pdf=pdf)
    for path in result["files"]:
        typer.echo(f"作成: {path}")
    if result["pdf_error"]:
        typer.echo(f"注意: {result['pdf_error']}（HTML は作成済み）")
    if result["errors"]:
        lines = [f"{k}: {'; '.join(v)}" for k, v in result["errors"].items()]
        raise ParameterError(
            "教材の実行でエラーが出ました。\n" + "\n".join(lines), parameter="lesson"
        )
    typer.echo(f"教材を {target} に作りました。講師ガイド: {target / 'trainer_guide.html'}")


@course_app.command("release")
def release_cmd(
    out: Annotated[
        Path | None, typer.Option("--out", help="出力先（既定: training/_release/）。")
    ] = None,
    lesson: Annotated[
        list[str] | None, typer.Option("--lesson", "-l", help="配る回（既定: すべて）。")
    ] = None,
) -> None:
    """受講者用のノートブック（解答・期待値なし）を作ります。採点の鍵は写しません。"""
    from ebpm.training.release import release_notebooks

    target = out or _training_dir("_release")
    for path in release_notebooks(target, lessons=lesson):
        typer.echo(f"配布用: {path}")
    typer.echo(
        "受講者は各自のフォルダにコピーして JupyterLab で開き、終わったら .ipynb を提出します。"
    )


@course_app.command("grade")
def grade_cmd(
    submissions: Annotated[Path, typer.Argument(help="提出フォルダ（<受講者ID>/<回>.ipynb）。")],
    out: Annotated[
        Path | None, typer.Option("--out", help="出力先（既定: training/_grades/）。")
    ] = None,
    timeout: Annotated[int, typer.Option("--timeout", help="1セルあたりの実行の上限（秒）。")] = 60,
) -> None:
    """提出されたノートブックを1つずつ新しいカーネルで実行し、非公開のチェックで採点します。

    grades.csv（受講者・課題・得点・講評）と受講者ごとの講評 HTML（feedback/<受講者ID>.html）を書きます。
    読めないファイルや研修外のノートブックは、止まらずに一覧に「問題」として載せます。
    """
    from ebpm.errors import ParameterError
    from ebpm.training.grading import grade_folder

    if not submissions.is_dir():
        raise ParameterError(f"提出フォルダ {submissions} がありません", parameter="submissions")
    target = out or _training_dir("_grades")
    results = grade_folder(submissions, target, cell_timeout=timeout)
    for sub in results:
        if sub.problem:
            typer.echo(f"問題: {sub.file}: {sub.problem}")
        else:
            typer.echo(f"{sub.participant} {sub.lesson}: {sub.points:g} / {sub.max_points:g} 点")
    typer.echo(f"採点表: {target / 'grades.csv'}　講評: {target / 'feedback'}/")


@course_app.command("report")
def report_cmd(
    answers: Annotated[
        Path, typer.Argument(help="回答フォルダ（受講者ごとの CSV: 試験,設問,回答）。")
    ],
    track: Annotated[
        str,
        typer.Option(
            "--track", "-t", help="区分: manager（管理職向け） / practitioner（実務者向け）。"
        ),
    ],
    cohort: Annotated[str, typer.Option("--cohort", help="期の名前（例: 令和8年度第1期）。")] = "",
    synthetic: Annotated[
        bool, typer.Option("--synthetic", help="回答が模擬データ（練習用）であることを表示する。")
    ] = False,
    pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="A4 PDF も作る。")] = True,
) -> None:
    """事前・事後テストの回答から学習効果（対応のある差と95%信頼区間、設問別・モジュール別）のレポートを作り、レポート一覧に載せます。"""
    from ebpm.training.gain_report import course_report

    result = course_report(answers, track=track, cohort=cohort, pdf=pdf, synthetic=synthetic)
    typer.echo(result["answer"])
    typer.echo(f"レポート: {Path(result['path']) / 'index.html'}（レポート一覧にも載せました）")


@course_app.command("demo-answers")
def demo_answers_cmd(
    out: Annotated[Path, typer.Argument(help="書き出すフォルダ。")],
    track: Annotated[str, typer.Option("--track", "-t", help="区分: manager / practitioner。")],
    n: Annotated[int, typer.Option("--n", help="模擬の受講者の人数。")] = 12,
) -> None:
    """練習用の模擬データの回答（受講者ごとの CSV）を作ります。`ebpm course report --synthetic` の練習に使います。"""
    from ebpm.training.quiz import simulate_answers

    files = simulate_answers(out, track=track, n=n)
    typer.echo(f"模擬データの回答 {len(files)}人分を {out} に書きました。")


@training_app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="出席簿（.xlsx / .xls / .csv）。")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="読んで報告するだけで、書き込まない。")
    ] = False,
) -> None:
    """出席簿を読み、氏名を捨て、職員番号を鍵付きハッシュで仮名化して staff_training の原データに追記します。

    鍵は環境変数 EBPM_STAFF_KEY から読みます（ファイルには書きません。ないときは何もしません）。
    重複と未知の研修名は取り込まず、行番号つきで報告します。取り込んだら `ebpm build` で KPI に反映します。
    """
    from ebpm.training.attendance import import_attendance

    report = import_attendance(file, dry_run=dry_run)
    typer.echo(
        f"{report.file}: {report.rows_read}行を読み、{report.added}件を追加（既に取込済み {report.already_present}件）"
    )
    for line in report.problems:
        typer.echo(f"  報告: {line}")
    if dry_run:
        typer.echo("--dry-run のため書き込んでいません。")
    elif report.added:
        typer.echo(
            f"追記先: {report.ledger}。`ebpm build` で整備済みデータベースと KPI に反映します。"
        )


@training_app.command("coverage")
def coverage_cmd() -> None:
    """所属部局別の研修修了者数（実人数、区分別）を秘匿処理して表示します（10人未満は x）。"""
    from rich.console import Console
    from rich.table import Table

    from ebpm.data.kpi import DX_KPIS, kpi_actuals
    from ebpm.training.attendance import coverage_table

    result = coverage_table()
    table = Table(title="所属部局別の研修修了者数（整備済みデータベース。模擬データを含む）")
    for col in result.frame.columns:
        table.add_column(str(col))
    for row in result.frame.astype(str).itertuples(index=False):
        table.add_row(*row)
    console = Console()
    console.print(table)
    console.print(result.note_ja())
    kpi = DX_KPIS["trainees"]
    latest = kpi_actuals(["trainees"]).iloc[-1]
    console.print(
        f"KPI {kpi.label}: {int(latest['fy'])}年度末 {kpi.format(latest['value'])}（目標 {kpi.format(kpi.target)}）"
    )

"""CLI: reports (the portal, レポート一覧) and register (the evidence register, エビデンス台帳)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import typer

from ebpm.cli import app
from ebpm.errors import ParameterError

OutputFormat = Literal["text", "json"]
_FORMATS: tuple[str, ...] = ("text", "json")


def _check_format(value: str) -> str:
    if value not in _FORMATS:
        raise ParameterError(
            f"--format は {' / '.join(_FORMATS)} のいずれかです（指定: {value}）。",
            parameter="format",
        )
    return value


@app.command("reports")
def reports_cmd(
    format: str = typer.Option(
        "text", "--format", "-f", help="出力形式: text（日本語の要約） / json"
    ),
    reports_dir: Annotated[
        Path | None, typer.Option("--dir", help="レポートのフォルダ（既定: reports/）。")
    ] = None,
) -> None:
    """レポート一覧（reports/index.html）を作り直し、エビデンス台帳を更新します。

    reports/<分析テンプレート>/<実行ID>/result.json をすべて読み込みます。
    """
    from ebpm.config import paths
    from ebpm.report.portal import load_entries, summary, write_portal
    from ebpm.report.register import RegisterError, sync

    _check_format(format)
    root = reports_dir if reports_dir is not None else paths().reports
    note = ""
    try:
        sync(root)
    except RegisterError as err:  # the portal is still useful when the register is busy
        note = str(err)
    target = write_portal(root)
    counts = summary(load_entries(root))
    if format == "json":
        typer.echo(
            json.dumps(
                {"portal": str(target), **counts, "register_note": note or None},
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    grades = "・".join(f"{g} {n}件" for g, n in counts["by_grade"].items())
    typer.echo(f"レポート一覧を作成しました: {target}")
    typer.echo(
        f"  レポート {counts['reports']}件（成功 {counts['ok']}件・失敗 {counts['failed']}件、"
        f"模擬データを使用 {counts['synthetic']}件）"
    )
    typer.echo(f"  根拠の確かさ: {grades}")
    if note:
        typer.echo(f"  注意: {note}")


@app.command("register")
def register_cmd(
    format: str = typer.Option("text", "--format", "-f", help="出力形式: text（表） / json"),
    limit: int = typer.Option(20, "--limit", "-n", min=1, help="表示する件数（新しい順）。"),
) -> None:
    """エビデンス台帳（レポートごとの推定値・95%信頼区間・根拠の確かさ）を表示します。"""
    from ebpm.report.register import runs

    _check_format(format)
    frame = runs().head(limit)
    if format == "json":
        records = [
            {
                k: (v if _present(v) else None) if not isinstance(v, (list, dict)) else v
                for k, v in r.items()
            }
            for r in frame.to_dict(orient="records")
        ]
        typer.echo(json.dumps(records, ensure_ascii=False, indent=2, default=str))
        return
    if frame.empty:
        typer.echo("エビデンス台帳はまだ空です。ebpm run でレポートを作成してください。")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="エビデンス台帳")
    for title in (
        "作成日",
        "分析テンプレート",
        "タイトル",
        "推定値",
        "95%信頼区間",
        "強さ",
        "状態",
    ):
        table.add_column(title)
    for row in frame.itertuples(index=False):
        ci = f"{_num(row.ci_low)}〜{_num(row.ci_high)}" if _present(row.ci_low) else "—"
        table.add_row(
            _str(row.created_at)[:16],
            _str(row.template),
            _str(row.title),
            _num(row.estimate),
            ci,
            _str(row.grade) or "—",
            "成功" if row.status == "ok" else "失敗",
        )
    Console().print(table)


def _present(value) -> bool:
    return value is not None and value == value  # NaN != NaN


def _str(value) -> str:
    return str(value) if _present(value) else ""


def _num(value) -> str:
    return f"{value:,.3g}" if _present(value) else "—"

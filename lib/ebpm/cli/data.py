"""CLI: build, catalog, query (data layer)."""

from __future__ import annotations

import json
import sys
from typing import Literal

import typer

from ebpm.cli import app
from ebpm.errors import EbpmError, ParameterError

CatalogFormat = Literal["table", "json"]
QueryFormat = Literal["table", "json", "csv"]


def _check_format(value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ParameterError(
            f"--format は {' / '.join(allowed)} のいずれかです（指定: {value}）。",
            parameter="format",
        )
    return value


def _stderr_console():
    from rich.console import Console

    return Console(stderr=True)


@app.command("build")
def build_cmd(
    quiet: bool = typer.Option(False, "--quiet", "-q", help="進捗を表示しません。"),
) -> None:
    """原データとカタログから整備済みデータベースを構築します（データ構築）。

    すべてのチェックに合格したときだけ data/curated/ebpm.duckdb と manifest.json・データ定義書を
    置き換えます。失敗したときは前回のデータベースがそのまま残ります。
    """
    from ebpm.config import paths
    from ebpm.data.builder import build

    console = None if quiet else _stderr_console()
    try:
        manifest = build(console=console)
    except EbpmError as err:
        raise type(err)(
            err.message + "（前回の整備済みデータベースと manifest.json は変更していません。）",
            table=err.table,
            file=err.file,
            row=err.row,
            column=err.column,
            parameter=err.parameter,
        ) from err
    p = paths()
    tables = manifest["tables"]
    rows = sum(t["rows"] for t in tables.values())
    typer.echo(
        f"データ構築が完了しました（ビルドID {manifest['build_id']}）: {len(tables)}テーブル・{rows:,}行 → {p.database}"
    )
    for name, reason in manifest.get("skipped", {}).items():
        typer.echo(f"  省略したテーブル {name}: {reason}")
    typer.echo(f"データ定義書: {p.dictionary}")


@app.command("catalog")
def catalog_cmd(
    format: str = typer.Option("table", "--format", "-f", help="出力形式: table（表） / json"),
) -> None:
    """整備済みデータベースのテーブル一覧（表題・行数・出典・ライセンス・模擬データか）を表示します。"""
    _check_format(format, ("table", "json"))
    from ebpm.data import access as data

    frame = data.catalog()
    if format == "json":
        typer.echo(
            json.dumps(frame.to_dict(orient="records"), ensure_ascii=False, indent=2, default=str)
        )
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"整備済みデータベース（ビルドID {data.build_info().get('build_id', '')}）")
    for col, label in [
        ("name", "テーブル"),
        ("title", "表題"),
        ("rows", "行数"),
        ("vintage", "時点"),
        ("publisher", "出典"),
        ("licence", "ライセンス"),
        ("synthetic", "模擬データ"),
    ]:
        table.add_column(label, justify="right" if col == "rows" else "left", overflow="fold")
    for rec in frame.to_dict(orient="records"):
        table.add_row(
            rec["name"],
            rec["title"],
            f"{rec['rows']:,}",
            _text(rec.get("vintage")),
            _text(rec.get("publisher")),
            _text(rec.get("licence")),
            "模擬データ" if rec["synthetic"] else "",
        )
    Console().print(table)


@app.command("query")
def query_cmd(
    sql: str = typer.Argument(..., help="読み取り専用の SQL（SELECT 文）"),
    format: str = typer.Option(
        "table", "--format", "-f", help="出力形式: table（表） / json / csv"
    ),
    limit: int = typer.Option(1000, "--limit", help="表示する最大行数（table 形式のみ）"),
    param: list[str] | None = typer.Option(  # noqa: B008 - typer's way of declaring a repeatable option
        None,
        "--param",
        "-p",
        help="SQL の $名前 に渡す値（名前=値、文字列として渡す。数値は $year::INTEGER のように変換）",
    ),
) -> None:
    """整備済みデータベースに読み取り専用の SQL を実行します。

    値は SQL に書き込まず、--param で渡します（例: ebpm query "SELECT * FROM town WHERE name = $n" -p n=大通一丁目）。
    """
    _check_format(format, ("table", "json", "csv"))
    from ebpm.data import access as data

    params = {}
    for item in param or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ParameterError(
                f"--param は「名前=値」の形で書いてください（指定: {item}）。", parameter="param"
            )
        params[name.strip()] = value
    table = data.sql_arrow(sql, params or None)
    if format == "csv":
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return
    records = table.to_pylist()
    if format == "json":
        typer.echo(json.dumps(records, ensure_ascii=False, indent=2, default=str))
        return
    from rich.console import Console
    from rich.table import Table

    caption = f"{len(records):,}行" + (f"（先頭{limit:,}行を表示）" if len(records) > limit else "")
    out = Table(caption=caption)
    titles = data.column_titles(table.column_names, sql)
    for name in table.column_names:
        title = titles.get(name)
        out.add_column(f"{title}\n{name}" if title else str(name), overflow="fold")
    for rec in records[:limit]:
        out.add_row(*["" if v is None else _cell(v) for v in rec.values()])
    Console().print(out)


def _text(value: object) -> str:
    """None/NaN → empty; anything else as text."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.6g}" if abs(value) < 1e15 else str(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return str(value)

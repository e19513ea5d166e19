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


def _rel(path) -> str:
    from ebpm.data.schema import display_path

    return display_path(path)


@app.command("build")
def build_cmd(
    quiet: bool = typer.Option(False, "--quiet", "-q", help="進捗を表示しません。"),
    check: bool = typer.Option(
        False, "--check", help="すべて読み込み・チェックしますが、データベースは置き換えません。"
    ),
    keep_going: bool = typer.Option(
        False,
        "--keep-going",
        help="失敗したテーブルがあっても続け、失敗をすべて報告します（置き換えはしません）。",
    ),
    only: list[str] | None = typer.Option(  # noqa: B008 - typer's way of declaring a repeatable option
        None,
        "--only",
        help="このテーブルと参照先・参照元だけを作り直します（他は前回のまま。置き換えは一度に行います）。",
    ),
) -> None:
    """原データとカタログから整備済みデータベースを構築します（データ構築）。

    すべてのチェックに合格したときだけ data/curated/ebpm.duckdb と manifest.json・データ定義書・
    検証結果（validation.html）を置き換え、manifest を data/curated/history/ に残します。
    失敗したときは前回のデータベースがそのまま残ります。
    """
    from ebpm.config import paths
    from ebpm.data.builder import build
    from ebpm.data.history import diff_manifests, render_diff

    p = paths()
    previous = None
    if p.manifest.exists():
        previous = json.loads(p.manifest.read_text(encoding="utf-8"))
    console = None if quiet else _stderr_console()
    try:
        manifest = build(console=console, check=check, keep_going=keep_going, only=only)
    except EbpmError as err:
        note = "（前回の整備済みデータベースと manifest.json は変更していません。）"
        head, nl, rest = err.message.partition("\n")  # keep 詳細/一覧 lines below the sentence
        raise type(err)(
            head + note + nl + rest,
            table=err.table,
            file=err.file,
            row=err.row,
            column=err.column,
            parameter=err.parameter,
        ) from err
    tables = manifest["tables"]
    rows = sum(t["rows"] for t in tables.values())
    if check:
        typer.echo(
            f"確認のみ: {len(tables)}テーブル・{rows:,}行のすべてのチェックに合格しました"
            "（データベースは置き換えていません）。"
        )
    else:
        typer.echo(
            f"データ構築が完了しました（ビルドID {manifest['build_id']}）: {len(tables)}テーブル・{rows:,}行 → {_rel(p.database)}"
        )
    if manifest.get("only"):
        typer.echo(
            f"作り直したテーブル: {', '.join(manifest['only'])}（ほかは前回のデータベースから写しました）"
        )
        if manifest.get("only_dependents"):
            typer.echo(
                "  うち "
                + ", ".join(manifest["only_dependents"])
                + " は指定したテーブルを参照しているので、作り直してチェックしました。"
            )
    for name, reason in manifest.get("skipped", {}).items():
        typer.echo(f"  省略したテーブル {name}: {reason}")
    if previous:
        changes = render_diff(diff_manifests(previous, manifest))
        label = "前回のビルド" + (
            f" {previous.get('build_id')}" if previous.get("build_id") else ""
        )
        if changes:
            typer.echo(f"{label}からの変更:")
            for line in changes:
                typer.echo(f"  {line}")
        else:
            typer.echo(f"{label}から行数・列・チェック結果の変更はありません。")
    if not check:
        typer.echo(f"データ定義書: {_rel(p.dictionary)}")
        typer.echo(f"検証結果: {_rel(p.curated / 'validation.html')}")


@app.command("diff")
def diff_cmd(
    a: str = typer.Argument(
        "previous", help="比べる元のビルドID（先頭だけでも可。既定: previous）"
    ),
    b: str = typer.Argument("latest", help="比べる先のビルドID（既定: latest）"),
) -> None:
    """2つのビルドの違い（テーブルの追加・削除、行数、列、チェック結果、原データ）を表示します。"""
    from ebpm.data.history import diff_manifests, load_build, render_diff

    old, new = load_build(a), load_build(b)
    typer.echo(f"ビルド {old['build_id']} → {new['build_id']}")
    lines = render_diff(diff_manifests(old, new))
    for line in lines or ["変更はありません。"]:
        typer.echo(f"  {line}")


@app.command("catalog")
def catalog_cmd(
    action: str | None = typer.Argument(
        None, help="check: カタログと SOURCE.yml を厳密に検査します（構築はしません）。"
    ),
    format: str = typer.Option("table", "--format", "-f", help="出力形式: table（表） / json"),
    stale: bool = typer.Option(
        False, "--stale", help="更新予定日（freshness.next_due）を過ぎたテーブルだけを表示します。"
    ),
) -> None:
    """整備済みデータベースのテーブル一覧（表題・行数・出典・ライセンス・模擬データか）を表示します。"""
    _check_format(format, ("table", "json"))
    if action not in (None, "check"):
        raise ParameterError(f"catalog の後に書けるのは check だけです（指定: {action}）。")
    if action == "check":
        _catalog_check()
        return
    if stale:
        _catalog_stale()
        return
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


def _catalog_check() -> None:
    from ebpm.config import paths
    from ebpm.data.spec import load_catalog, load_source

    p = paths()
    specs = load_catalog(p.catalog)
    folders = sorted({src.folder for spec in specs for src in spec.sources})
    for folder in folders:
        if (p.raw / folder).is_dir():
            load_source(p.raw / folder, strict=True)
    typer.echo(
        f"カタログ {len(specs)}件と SOURCE.yml {len(folders)}件に問題はありません（厳密な検査）。"
    )


def _catalog_stale() -> None:
    from ebpm.config import paths
    from ebpm.data.validation import stale_tables

    p = paths()
    if not p.manifest.exists():
        raise EbpmError("整備済みデータベースがありません。ebpm build を実行してください。")
    manifest = json.loads(p.manifest.read_text(encoding="utf-8"))
    found = stale_tables(manifest)
    if not found:
        typer.echo("更新予定日を過ぎたテーブルはありません。")
        return
    for name, message in sorted(found.items()):
        typer.echo(f"{name}: {message}")


source_app = typer.Typer(help="原データの出典（SOURCE.yml）を扱います。", no_args_is_help=True)
app.add_typer(source_app, name="source")


@source_app.command("add")
def source_add_cmd(
    file: str = typer.Argument(..., help="data/raw/<出典>/ の下に置いたファイル"),
) -> None:
    """ファイルの sha256・サイズ・取得日を SOURCE.yml の files に追記します（説明は後で補ってください）。"""
    from pathlib import Path

    from ebpm.config import paths
    from ebpm.data.spec import sha256_file
    from ebpm.data.validation import today

    raw = paths().raw.resolve()
    path = Path(file).resolve()
    try:
        rel = path.relative_to(raw)
    except ValueError:
        raise ParameterError(
            f"ファイルは data/raw/<出典>/ の下に置いてください（指定: {file}）。", parameter="file"
        ) from None
    if not path.is_file() or len(rel.parts) < 2:
        raise ParameterError(
            f"data/raw/<出典>/ の下のファイルを指定してください（指定: {file}）。", parameter="file"
        )
    folder = raw / rel.parts[0]
    inner = Path(*rel.parts[1:]).as_posix()
    source_yml = folder / "SOURCE.yml"
    digest = sha256_file(path)
    size = path.stat().st_size
    text = source_yml.read_text(encoding="utf-8") if source_yml.exists() else ""
    if f"path: {inner}," in text or f"path: {inner}\n" in text:
        raise ParameterError(
            f"「{inner}」はすでに SOURCE.yml にあります。更新したときは sha256 と bytes を書き換えてください。"
            f"（sha256: {digest}, bytes: {size}）",
            parameter="file",
        )
    if not text:
        text = (
            f"source: {rel.parts[0]}\n"
            "title_ja: ''  # TODO 日本語の題名\n"
            "publisher: ''  # TODO 作成者\n"
            "licence: ''  # TODO 利用条件\n"
            "licence_url: ''\n"
            "attribution: ''  # TODO 出典表記\n"
            f"retrieved: '{today().isoformat()}'\n"
            "origin: {url: null}\n"
            "synthetic: false\n"
            "files:\n"
        )
    if not text.endswith("\n"):
        text += "\n"
    text += f"  - {{path: {inner}, sha256: {digest}, bytes: {size}, description_ja: ''}}  # TODO 説明（取得日 {today().isoformat()}）\n"
    source_yml.write_text(text, encoding="utf-8")
    typer.echo(
        f"{_rel(source_yml)} に「{inner}」（{size:,}バイト・sha256 {digest[:12]}…）を追記しました。"
    )
    typer.echo(
        "publisher・licence・attribution・description_ja を補ってから ebpm catalog check を実行してください。"
    )

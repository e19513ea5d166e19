"""CLI: inspect (how a raw file would be read: encoding, header, column types, normalisations, problems)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from ebpm.cli import app

_TYPE_JA = {"integer": "整数", "number": "数値", "date": "日付", "string": "文字列"}
_DELIM_JA = {",": "カンマ（,）", "\t": "タブ", ";": "セミコロン（;）", "|": "縦棒（|）"}
_KIND_JA = {"csv": "CSV（テキスト）", "excel": "Excel"}


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return None if value != value else value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def describe(path: Path, *, sheet: int | str = 0, encoding: str = "auto", rows: int = 5) -> dict:
    """Read ``path`` as the build would and describe the result as a JSON-safe dict."""
    from ebpm.ingest.csv import encoding_label
    from ebpm.ingest.jp import period_in_title
    from ebpm.ingest.read import read

    suffix = path.suffix.lower()
    if suffix in (".json", ".geojson", ".topojson", ".parquet", ".dbf", ".shp", ".pdf"):
        from ebpm.errors import IngestError

        raise IngestError(
            f"inspect は CSV と Excel のファイルを調べます（{suffix} は対象外です）", file=path.name
        )
    kind = "excel" if suffix in (".xlsx", ".xlsm", ".xls") else "csv"
    options: dict[str, Any] = {"sheet": sheet} if kind == "excel" else {"encoding": encoding}
    ing = read(path, kind, **options)
    table = ing.table
    columns = []
    for name in table.column_names:
        col = table.column(name)
        base, header_unit = _unit_in_header(name)
        columns.append(
            {
                "name": name,
                "title": base,
                "type": ing.types.get(name, "string"),
                "type_ja": _TYPE_JA.get(ing.types.get(name, "string"), "文字列"),
                "unit": ing.units.get(name) or header_unit,
                "nulls": col.null_count,
                "symbols": ing.symbols.get(name, {}),
            }
        )
    head = [{k: _json_value(v) for k, v in rec.items()} for rec in table.slice(0, rows).to_pylist()]
    problems = list(ing.problems) + _lost_characters(table)
    # what the build must be told to read the file exactly as shown here (ingest normalises);
    # title rows above the header are skipped by naming the header row(s) explicitly
    first_header = ing.header_rows[0] if ing.header_rows else None
    title_rows = (first_header - 1) if first_header and first_header > 1 else 0
    if kind == "excel":
        options = {"sheet": sheet}
        if title_rows:
            options["header_rows"] = list(ing.header_rows)
        reader_options = {"reader": "excel", "options": options}
    else:
        options = {"ingest": True, "encoding": ing.encoding or "auto"}
        if title_rows:
            options["header_row"] = ing.header_row
        reader_options = {"reader": "csv", "options": options}
    blank = next(
        (int(m.group(1).replace(",", "")) for n in ing.notes if (m := _BLANK_NOTE.search(n))), 0
    )
    title = re.sub(r"\s+", " ", ing.title or "").strip()
    found = period_in_title(title)
    units = {c["name"]: c["unit"] for c in columns if c["unit"]}
    return {
        "reader_options": reader_options,
        "title": title,
        "title_rows": title_rows,
        "blank_rows": blank,
        "period": {"text": found[0], "date": found[1].isoformat()} if found else None,
        "units": units,
        "file": _shown(path),
        "kind": kind,
        "kind_ja": _KIND_JA[kind],
        "encoding": ing.encoding,
        "encoding_ja": encoding_label(ing.encoding) if ing.encoding else None,
        "delimiter": ing.delimiter,
        "header_row": ing.header_row,
        "header_rows": ing.header_rows,
        "sheets": ing.sheets,
        "sheet": ing.sheet,
        "rows": table.num_rows,
        "columns": columns,
        "notes": ing.notes,
        "problems": problems,
        "head": head,
    }


def _shown(path: Path) -> str:
    """The file as shown in output: relative to the project or the current folder, never absolute."""
    from ebpm.data.schema import display_path

    return display_path(path)


_TRAILING_PAREN = re.compile(r"^(.*?)\s*[(（]([^()（）]{1,8})[)）]$")


def _unit_in_header(name: str) -> tuple[str, str | None]:
    """``"人口（人）"`` → ``("人口", "人")``; a header without a unit comes back unchanged."""
    from ebpm.ingest.jp import is_unit_word, split_unit

    base, unit = split_unit(name)
    if unit:
        return base, unit
    m = _TRAILING_PAREN.match(name)
    if m and m.group(1) and is_unit_word(m.group(2)):
        return m.group(1), m.group(2).strip()
    return name, None


_BLANK_NOTE = re.compile(r"値が一つもない行を除きました（([0-9,]+)行）")
_LOST = re.compile(r"\ufffd|〓|[\u3040-\u30ff\u4e00-\u9fff]\?|\?[\u3040-\u30ff\u4e00-\u9fff]")


def _lost_characters(table: Any) -> list[str]:
    """Problems for text with a lost-character marker (神戸?園, 〓, U+FFFD)."""
    out = []
    for name in table.column_names:
        values = [
            v for v in table.column(name).to_pylist() if isinstance(v, str) and _LOST.search(v)
        ]
        if values:
            shown = "、".join(f"「{v}」" for v in list(dict.fromkeys(values))[:3])
            out.append(
                f"列「{name}」の{len(values)}個の値に、変換で失われた文字の印（?・〓・U+FFFD）があります（例: {shown}）。"
                "提供元に正しい文字を確認してください。"
            )
    return out


def draft_catalog(info: dict, path: Path) -> str:
    """A catalog YAML draft for the file described by :func:`describe` (the steward completes it)."""
    import yaml

    stem = re.sub(r"[^a-z0-9_]", "_", path.stem.lower()).strip("_") or "table"
    if not stem[0].isalpha():
        stem = f"t_{stem}"
    try:
        from ebpm.config import paths

        rel = path.resolve().relative_to(paths().raw.resolve()).as_posix()
    except ValueError:
        rel = f"<出典フォルダ>/{path.name}"
    kinds = {"integer": "integer", "number": "number", "date": "date", "string": "string"}
    fields = []
    for col in info["columns"]:
        field = {
            "name": col["name"],
            "type": kinds.get(col["type"], "string"),
            "title": col.get("title") or col["name"],
        }
        if col.get("unit"):
            field["unit"] = col["unit"]
        fields.append(field)
    period = info.get("period")
    names = [f["name"] for f in fields]
    if period and "period" not in names:
        fields.append(
            {
                "name": "period",
                "type": "date",
                "title": "時点",
                "description": f"タイトル行の「{period['text']}」",
            }
        )
    title = info.get("title") or ""
    if period:
        title = title.replace(period["text"], " ")
    title = re.sub(r"[(（]\s*[)）]", "", re.sub(r"\s+", " ", title)).strip()
    doc = {
        "name": stem,
        "title": f"TODO {title}" if title else "TODO 日本語の表題",
        "sources": [{"name": "src", "path": rel, **info["reader_options"]}],
    }
    if period:
        doc["transform"] = f"SELECT *, DATE '{period['date']}' AS period FROM src"
    doc["schema"] = {"fields": fields}
    doc["checks"] = [{"type": "row_count", "min": info["rows"], "max": info["rows"]}]
    doc["freshness"] = {
        "vintage": period["date"] if period else "TODO",
        "update": "TODO",
        "next_due": "TODO YYYY-MM-DD",
    }
    found = []
    if info.get("title_rows"):
        where = "options.header_rows" if info["kind"] == "excel" else "options.header_row"
        found.append(
            f"見出しの前のタイトル行: 1〜{info['title_rows']}行目（{where} で見出しを指定して飛ばします）"
            + (f"「{info['title'][:60]}」" if info.get("title") else "")
        )
    if info.get("blank_rows"):
        found.append(f"値が一つもない行: {info['blank_rows']:,}行（読み込み時に除きます）")
    if info.get("units"):
        shown = "、".join(f"{k}＝{v}" for k, v in list(info["units"].items())[:8])
        more = f" ほか{len(info['units']) - 8}列" if len(info["units"]) > 8 else ""
        found.append(f"単位（見出し・タイトル行から）: {shown}{more}（各列の unit に書きました）")
    if period:
        found.append(
            f"時点: タイトル行の「{period['text']}」→ {period['date']}"
            "（列 period と freshness.vintage に書きました）"
        )
    notes = "".join(f"# 検出: {x}\n" for x in found)
    notes += "".join(f"# 読み込み時の正規化: {n}\n" for n in info["notes"])
    notes += "".join(f"# 問題: {p}\n" for p in info["problems"])
    body = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=200)
    # dates stay strings: a bare 2026-12-31 typed over the TODO would be read as a YAML date
    body = body.replace(
        "next_due: TODO YYYY-MM-DD", "next_due: 'TODO YYYY-MM-DD'  # 引用符の中に次の更新予定日"
    ).replace("vintage: TODO\n", "vintage: 'TODO'  # 引用符の中にデータの時点（YYYY-MM-DD）\n")
    return f"# ebpm inspect --catalog による下書き（data/catalog/{stem}.yml）。TODO を埋め、型を確かめてください。\n{notes}{body}"


def _print_rich(info: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"[bold]ファイル「{Path(info['file']).name}」の読み方[/]", highlight=False)
    overview = Table(show_header=False, box=None, pad_edge=False)
    overview.add_row("種類", info["kind_ja"])
    if info["kind"] == "csv":
        overview.add_row("文字コード", info["encoding_ja"] or "—")
        overview.add_row("区切り文字", _DELIM_JA.get(info["delimiter"], repr(info["delimiter"])))
    else:
        overview.add_row("シート", "、".join(info["sheets"]))
        overview.add_row("読んだシート", info["sheet"] or "—")
    if info["header_rows"]:
        rows = info["header_rows"]
        label = f"{rows[0]}行目" if len(rows) == 1 else f"{rows[0]}〜{rows[-1]}行目"
    else:
        label = "なし（列名は col1, col2 …）"
    overview.add_row("見出し行", label)
    if info.get("title_rows"):
        overview.add_row("タイトル行", f"1〜{info['title_rows']}行目（読み飛ばします）")
    if info.get("title"):
        overview.add_row("表題（タイトル行）", info["title"][:80])
    if info.get("period"):
        overview.add_row("時点", f"{info['period']['text']}（{info['period']['date']}）")
    if info.get("blank_rows"):
        overview.add_row("空行", f"{info['blank_rows']:,}行（除きます）")
    overview.add_row("データ", f"{info['rows']:,}行 × {len(info['columns'])}列")
    console.print(overview)

    cols = Table(title="列", title_justify="left")
    for head in ("列名", "型", "単位", "空欄", "特殊記号"):
        cols.add_column(head)
    for c in info["columns"]:
        symbols = "、".join(f"{s} {n:,}件" for s, n in c["symbols"].items())
        cols.add_row(c["name"], c["type_ja"], c["unit"] or "", f"{c['nulls']:,}", symbols)
    console.print(cols)

    console.print("[bold]正規化したこと[/]")
    for note in info["notes"] or ["なし"]:
        console.print(f"・{note}", highlight=False)
    console.print("[bold]問題[/]")
    for problem in info["problems"] or ["見つかりませんでした"]:
        style = "yellow" if info["problems"] else ""
        console.print(f"・{problem}", style=style, highlight=False)

    if info["head"]:
        names = [c["name"] for c in info["columns"]]
        shown = names[:10]
        first = Table(title=f"先頭の{len(info['head'])}行", title_justify="left")
        for name in shown:
            first.add_column(name, overflow="fold")
        for rec in info["head"]:
            first.add_row(*["" if rec[n] is None else str(rec[n]) for n in shown])
        console.print(first)
        if len(names) > len(shown):
            console.print(f"（ほか{len(names) - len(shown)}列は --format json で見られます）")


@app.command("inspect")
def inspect(
    file: Annotated[Path, typer.Argument(help="調べる原データのファイル（CSV・Excel）")],
    format: Annotated[
        str, typer.Option("--format", help="出力形式: text（既定）または json")
    ] = "text",
    sheet: Annotated[
        str, typer.Option("--sheet", help="Excel のシート（0から数えた番号か名前）")
    ] = "0",
    encoding: Annotated[
        str, typer.Option("--encoding", help="CSV の文字コード（既定 auto）")
    ] = "auto",
    rows: Annotated[int, typer.Option("--rows", min=0, help="表示する先頭の行数")] = 5,
    catalog: Annotated[
        bool,
        typer.Option(
            "--catalog", help="カタログの下書きを出力します（タイトル行・空行・単位・時点を検出）"
        ),
    ] = False,
) -> None:
    """原データのファイルがどう読まれるかを表示します（文字コード・見出し行・列の型・正規化・問題）。"""
    from rich.console import Console

    from ebpm.errors import IngestError

    fmt: Literal["text", "json"]
    if format not in ("text", "json"):
        Console(stderr=True).print(
            f"[bold red]エラー:[/] --format は text か json です（{format}）", highlight=False
        )
        raise typer.Exit(2)
    fmt = format  # type: ignore[assignment]
    sheet_arg: int | str = int(sheet) if sheet.isdigit() else sheet
    try:
        info = describe(file, sheet=sheet_arg, encoding=encoding, rows=rows)
    except IngestError as err:
        Console(stderr=True).print(f"[bold red]エラー:[/] {err}", highlight=False)
        raise typer.Exit(1) from None
    except Exception as err:  # an unexpected failure is still reported in Japanese, not a traceback
        Console(stderr=True).print(
            f"[bold red]エラー:[/] ファイル「{file.name}」を読めませんでした（{type(err).__name__}: {err}）",
            highlight=False,
        )
        raise typer.Exit(1) from None
    if catalog:
        typer.echo(draft_catalog(info, file))
    elif fmt == "json":
        typer.echo(json.dumps(info, ensure_ascii=False, indent=2))
    else:
        _print_rich(info)
        ro = info["reader_options"]
        opts = ", ".join(
            f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in ro["options"].items()
        )
        Console(soft_wrap=True).print(  # one line to copy into the catalog, never wrapped
            f"[bold]ビルドで同じように読むには[/] catalog の sources に reader: {ro['reader']}, options: {{{opts}}}",
            highlight=False,
        )

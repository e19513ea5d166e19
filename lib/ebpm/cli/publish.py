"""CLI: publish (open-data release in the 自治体標準オープンデータセット form)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ebpm.cli import app


@app.command("publish")
def publish_cmd(
    dataset: Annotated[
        str,
        typer.Argument(
            help="データセット: evacuation_space（指定緊急避難場所一覧）/ population（地域・年齢別人口）"
            " / opendata_list（オープンデータ一覧）。日本語の名称でも指定できます。"
        ),
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="公開物のフォルダ（既定: published/）。")
    ] = None,
    areas: Annotated[
        str | None,
        typer.Option(
            "--areas",
            help="population のみ: 団体コードの先頭（例: 03 で岩手県内の全市町村）。既定は盛岡市だけ。",
        ),
    ] = None,
) -> None:
    """標準オープンデータセットを公開用に書き出し、Frictionless で検証してから差し替えます。

    CSV（UTF-8 BOM付き・CRLF）と datapackage.json を作り、機種依存文字・セル内改行・
    定義どおりの列と型を確かめます。通らなければ理由（ファイル・行・列）を表示して 1 で終わり、
    前回の公開物はそのまま残ります。人数の表は秘匿処理を通し、公開の記録と
    オープンデータ一覧のページ（index.html）を更新します。
    """
    from rich.console import Console

    from ebpm.publish.release import default_out, publish

    console = Console()
    result = publish(dataset, out=out, areas=areas)
    target = out or default_out()
    console.print(
        f"[bold green]公開しました:[/] {result['title']}（{result['rows']:,}件、"
        f"秘匿したセル {result['suppressed']}）",
        highlight=False,
    )
    console.print(f"  ファイル: {Path(target) / result['csv']}", highlight=False)
    console.print(f"  データ構築: {result['build_id']}", highlight=False)
    console.print(f"  一覧: {Path(target) / 'index.html'}", highlight=False)

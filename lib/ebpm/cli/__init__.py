"""Command-line interface `ebpm` (typer); every message a user sees is Japanese."""

from __future__ import annotations

import sys

import typer

from ebpm.errors import EbpmError

app = typer.Typer(
    name="ebpm",
    help="盛岡市 EBPM 分析環境のコマンド。データ構築・検索・分析テンプレートの実行・レポート作成を行います。",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

@app.command("version")
def version() -> None:
    """ebpm のバージョンを表示します。"""
    from ebpm import __version__

    typer.echo(f"ebpm {__version__}")


# Each area registers its commands on `app` in its own module (one owner per file).
from ebpm.cli import data as _data  # noqa: E402,F401
from ebpm.cli import city as _city  # noqa: E402,F401
from ebpm.cli import report as _report  # noqa: E402,F401


def main() -> None:
    """Entry point: turn EbpmError into a Japanese message and exit code 1."""
    try:
        app()
    except EbpmError as err:
        from rich.console import Console

        Console(stderr=True).print(f"[bold red]エラー:[/] {err}", highlight=False)
        sys.exit(1)

"""CLI: logic models (logic render|check|export|import)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ebpm.cli import app

logic_app = typer.Typer(
    help="ロジックモデル（logic_models/<名前>.yml）の確認・図・レビューシート形式の入出力。",
    no_args_is_help=True,
)
app.add_typer(logic_app, name="logic")


def _console():
    from rich.console import Console

    return Console(soft_wrap=True)


@logic_app.command("check")
def logic_check(
    slug: Annotated[
        str | None, typer.Argument(help="ロジックモデルの名前（省略するとすべて）")
    ] = None,
) -> None:
    """ロジックモデルの書き方を確かめ、指標の状態（達成・順調・遅れ・データなし）を表示します。"""
    from rich.table import Table

    from ebpm.ingest.yamlfile import SchemaError
    from ebpm.logic.model import logic_model, logic_model_paths
    from ebpm.logic.render import _fmt

    console = _console()
    slugs = [slug] if slug else list(logic_model_paths())
    failed = 0
    for name in slugs:
        try:
            model = logic_model(name)
        except SchemaError as err:
            failed += 1
            console.print(f"[bold red]誤り[/] {err}", highlight=False)
            continue
        console.print(
            f"[green]OK[/] {name} — {model.title}（ノード {len(model.nodes)}・つながり {len(model.edges)}）",
            highlight=False,
        )
        for w in model.warnings():
            console.print(f"  [yellow]注意[/] {w}", highlight=False)
        table = Table("ノード", "指標", "最新の実績", "目標", "状態", box=None, pad_edge=False)
        for nid, st in model.status().items():
            ind = model.node(nid).indicator
            latest = (
                "—" if st.latest is None else f"{_fmt(st.latest, ind.unit)}（{st.latest_fy}年度）"
            )
            target = (
                "—" if st.target is None else f"{_fmt(st.target, ind.unit)}（{st.target_fy}年度）"
            )
            table.add_row(nid, ind.name, latest, target, st.label)
        console.print(table)
    if failed:
        raise typer.Exit(1)


@logic_app.command("render")
def logic_render(
    slug: Annotated[str, typer.Argument(help="ロジックモデルの名前")],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="出力ファイル（.html か .svg。既定: reports/logic/<名前>.html）"
        ),
    ] = None,
) -> None:
    """ロジックモデルの図（左から右へ段ごと、指標は状態で色分け）をオフラインの HTML / SVG に書き出します。"""
    from ebpm.config import paths
    from ebpm.logic.model import logic_model

    model = logic_model(slug)
    target = out or paths().reports / "logic" / f"{slug}.html"
    model.chart().save(target)
    _console().print(f"[green]作成[/] {target}", highlight=False)


@logic_app.command("export")
def logic_export(
    slug: Annotated[str, typer.Argument(help="ロジックモデルの名前")],
    out: Annotated[Path, typer.Option("--out", help="出力フォルダ")] = Path("."),
) -> None:
    """行政事業レビューシートの列（効果発現経路_目標・実績／目標のつながり）の CSV 2つに書き出します。"""
    from ebpm.logic.model import logic_model
    from ebpm.logic.review_sheet import export_review_sheet

    nodes, edges = export_review_sheet(logic_model(slug), out)
    console = _console()
    console.print(f"[green]作成[/] {nodes}", highlight=False)
    console.print(f"[green]作成[/] {edges}", highlight=False)


@logic_app.command("import")
def logic_import(
    nodes: Annotated[Path, typer.Argument(help="効果発現経路_目標・実績 の CSV")],
    edges: Annotated[Path, typer.Argument(help="効果発現経路_目標のつながり の CSV")],
    slug: Annotated[
        str, typer.Option("--slug", help="保存するロジックモデルの名前（logic_models/<名前>.yml）")
    ],
    project_id: Annotated[
        str | None, typer.Option("--id", help="読む事業の予算事業ID（複数の事業があるとき）")
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="同名のファイルを上書きする")
    ] = False,
) -> None:
    """レビューシートの CSV 2つからロジックモデルの YAML を作ります（実績は CSV の値をそのまま持ちます）。"""
    import yaml

    from ebpm.config import paths
    from ebpm.errors import ParameterError
    from ebpm.logic.model import parse_logic_model
    from ebpm.logic.review_sheet import import_review_sheet

    model = import_review_sheet(nodes, edges, model_id=project_id)
    model.id = slug
    target = paths().logic_models / f"{slug}.yml"
    if target.exists() and not overwrite:
        raise ParameterError(
            f"{target.name} はすでにあります（--overwrite で上書き）。", parameter="slug"
        )
    text = yaml.safe_dump(model.to_dict(), allow_unicode=True, sort_keys=False, width=100)
    parse_logic_model(text, file=target.name)  # what we write must pass the schema
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        "# 行政事業レビューシートの列から取り込み（ebpm logic import）\n" + text, encoding="utf-8"
    )
    _console().print(
        f"[green]作成[/] {target}（ノード {len(model.nodes)}・つながり {len(model.edges)}）",
        highlight=False,
    )

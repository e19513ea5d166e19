"""CLI: the case-study library (cases)."""

from __future__ import annotations

from typing import Annotated

import typer

from ebpm.cli import app


@app.command("cases")
def cases(
    design: Annotated[
        str | None, typer.Option("--design", help="分析の設計で絞る（例: did, rct, rdd）")
    ] = None,
    direction: Annotated[
        str | None, typer.Option("--direction", help="結果の向き（効果あり・効果なし・不明）")
    ] = None,
) -> None:
    """事例ライブラリ（data/cases/ と公開した自前の研究）を確かめて一覧にします。二次資料だけの事例には印を付けます。"""
    from rich.console import Console
    from rich.table import Table

    from ebpm.cases.library import load_cases
    from ebpm.config import paths
    from ebpm.report.cycle_pages import own_cases, study_views

    console = Console(soft_wrap=True)
    root = paths().reports
    found = own_cases(root, study_views(root)) + load_cases()
    shown = [
        c
        for c in found
        if (design is None or c.design == design)
        and (direction is None or c.direction == direction)
    ]
    table = Table(
        "ID", "事例", "団体", "設計", "結果の向き", "確認", "出典", box=None, pad_edge=False
    )
    for column in table.columns:  # wrap long Japanese text, never cut an ID with …
        column.overflow = "fold"
    for c in shown:
        table.add_row(
            c.id,
            c.title,
            c.level,
            c.design_ja,
            c.direction,
            "自前" if c.own else ("確認済み" if c.status == "verified" else "一部確認"),
            c.source_badge or ("レポート" if c.own else "一次資料あり"),
        )
    console.print(table)
    console.print(
        f"事例 {len(found)} 件（表示 {len(shown)} 件、うち自前 {sum(c.own for c in found)} 件）を確認しました。"
        "書き方の誤りはありません。",
        highlight=False,
    )

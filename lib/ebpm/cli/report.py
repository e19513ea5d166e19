"""CLI: templates, run, render (papermill templates → reports)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from ebpm.cli import app
from ebpm.cli.quick import make_report, print_outcome


@app.command("templates")
def templates() -> None:
    """分析テンプレートの一覧と、それぞれの条件（パラメータ）を表示します。"""
    from rich.console import Console
    from rich.table import Table

    from ebpm.config import paths
    from ebpm.report.params import TYPE_JA, load_schema

    console = Console()
    found = sorted(paths().templates.glob("*.ipynb"))
    if not found:
        console.print(f"分析テンプレートがありません（{paths().templates}）。")
        return
    for nb in found:
        schema = load_schema(nb)
        console.print(f"\n[bold]{schema.name}[/] — {schema.title_ja}", highlight=False)
        if schema.description_ja:
            console.print(f"  {schema.description_ja}", highlight=False)
        table = Table(
            "パラメータ", "意味", "型", "既定値", "範囲・選択肢", box=None, pad_edge=False
        )
        for spec in schema.params.values():
            if spec.choices is not None:
                allowed = "、".join(map(str, spec.choices))
            elif spec.choices_from and "function" in spec.choices_from:
                allowed = f"{spec.choices_from['function'].rsplit(':', 1)[-1]}() の値"
            elif spec.choices_from:
                allowed = f"表 {spec.choices_from['table']} の列 {spec.choices_from['column']} の値"
            elif spec.min is not None or spec.max is not None:
                allowed = f"{spec.min if spec.min is not None else ''}〜{spec.max if spec.max is not None else ''}"
            else:
                allowed = ""
            default = "（秘密）" if spec.secret else str(spec.default)
            label = spec.label + ("（秘密）" if spec.secret else "")
            if spec.help_ja:
                label += f"\n[dim]{spec.help_ja}[/]"
            table.add_row(spec.name, label, TYPE_JA[spec.type], default, allowed)
        console.print(table)


def _read_param_file(path: Path) -> dict:
    import yaml

    from ebpm.errors import ParameterError

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError:
        raise ParameterError(
            f"パラメータのファイル「{path}」を読めません。", file=str(path)
        ) from None
    if not isinstance(data, dict):
        raise ParameterError(
            "パラメータのファイルは 名前: 値 の形で書いてください。", file=str(path)
        )
    return data


@app.command("run")
def run(
    templates: Annotated[
        list[str] | None,
        typer.Argument(
            help="分析テンプレート名（ebpm templates で一覧。--plan のときは省略可。複数可）",
            show_default=False,
        ),
    ] = None,
    param: Annotated[
        list[str] | None, typer.Option("-p", "--param", help="条件 名前=値（繰り返し可）")
    ] = None,
    param_file: Annotated[
        Path | None, typer.Option("-f", "--file", help="条件を書いた YAML ファイル")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="出力先フォルダ")] = None,
    grid: Annotated[
        Path | None, typer.Option("--grid", help="条件の組を並べた YAML（一括作成）")
    ] = None,
    over: Annotated[
        str | None, typer.Option("--over", help="選択肢のある条件=all（全選択肢で一括作成）")
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", help="一括作成の並列数（既定: CPU コア数）")
    ] = None,
    pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="A4 の PDF も作る")] = True,
    register: Annotated[
        bool,
        typer.Option(
            "--register/--no-register",
            help="エビデンス台帳に登録する（reports/ の外に出力したときは常に登録しない）",
        ),
    ] = True,
    keep_warm: Annotated[
        bool | None,
        typer.Option(
            "--keep-warm/--no-keep-warm",
            help="次の実行のために準備済みのカーネルを1つ残す（10分使われなければ自動で終了。既定: 残す。環境変数 EBPM_KEEP_WARM=0 で残さない）",
        ),
    ] = None,
    cold: Annotated[
        bool,
        typer.Option(
            "--cold", help="準備済みのカーネルを使わず新しく起動し、次の実行のためにも残さない"
        ),
    ] = False,
    plan: Annotated[
        str | None,
        typer.Option(
            "--plan",
            help="分析計画（studies/<名前>/plan.yml）の条件で実行。-p で変えた条件は「計画からの逸脱」としてレポートに載る",
        ),
    ] = None,
    publish: Annotated[
        bool,
        typer.Option(
            "--publish",
            help="完成したレポートを共有のレポート一覧（環境変数 EBPM_PORTAL_SHARED のフォルダ）にも載せる",
        ),
    ] = False,
) -> None:
    """分析テンプレートを実行して、レポート（HTML・PDF・result.json）を作ります。

    テンプレートを複数並べると、それぞれ既定の条件で一括作成します（make demo）。
    """
    from rich.console import Console

    from ebpm.report.params import parse_assignments

    console = Console(stderr=True, soft_wrap=True)
    if publish:  # refuse before any report is made, not after
        from ebpm.errors import ParameterError
        from ebpm.report.portal import shared_portal_dir

        if shared_portal_dir() is None:
            raise ParameterError(
                "--publish の載せ先（共有のレポート一覧のフォルダ）が決まっていません。"
                "環境変数 EBPM_PORTAL_SHARED を設定してください。",
                parameter="publish",
            )
    templates = templates or []
    if len(templates) > 1:
        _refuse_with_many(param=param, param_file=param_file, grid=grid, over=over, plan=plan)
        from ebpm.report import batch

        jobs = batch.plan_many(templates, out_root=out, register=register)
        _run_jobs(console, jobs, workers=workers, pdf=pdf, list_all=True, publish=publish)
        return
    template = templates[0] if templates else None
    base = _read_param_file(param_file) if param_file else {}
    base.update(parse_assignments(param or []))
    if grid is None and over is None:
        outcome = make_report(
            console,
            template,
            base,
            out=out,
            pdf=pdf,
            keep_warm=keep_warm,
            cold=cold,
            plan=plan,
            register=register,
        )
        print_outcome(console, outcome)
        if plan is not None:
            from ebpm.cli.plans import note_study_run

            note_study_run(console, plan, outcome)
        if outcome.status != "ok":
            raise typer.Exit(1)
        if publish:
            from ebpm.report.portal import publish_report

            portal = publish_report(outcome.out_dir)
            console.print(f"[green]共有のレポート一覧に載せました[/] {portal}", highlight=False)
        return
    if plan is not None:
        from ebpm.errors import ParameterError

        raise ParameterError(
            "--plan は一括作成（--grid・--over）とは一緒に使えません。", parameter="plan"
        )
    if template is None:
        from ebpm.errors import ParameterError

        raise ParameterError("分析テンプレート名を指定してください。", parameter="template")
    _run_batch(
        console,
        template,
        base,
        out=out,
        grid=grid,
        over=over,
        workers=workers,
        pdf=pdf,
        register=register,
        publish=publish,
    )


def _run_batch(
    console, template, base, *, out, grid, over, workers, pdf, register=True, publish=False
) -> None:
    from ebpm.report import batch
    from ebpm.report.params import load_schema
    from ebpm.report.runner import template_path

    sets: list[dict] = []
    if grid is not None:
        sets.extend(batch.read_grid(grid))
    if over is not None:
        sets.extend(batch.over_all(load_schema(template_path(template)), over))
    jobs = batch.plan(template, sets, base=base, out_root=out, register=register)
    _run_jobs(console, jobs, workers=workers, pdf=pdf, publish=publish)


def _refuse_with_many(**given) -> None:
    """Several templates run with their defaults: options that set parameters are refused."""
    from ebpm.errors import ParameterError

    flags = {
        "param": "-p",
        "param_file": "-f",
        "grid": "--grid",
        "over": "--over",
        "plan": "--plan",
    }
    used = [flags[k] for k, v in given.items() if v]
    if used:
        raise ParameterError(
            f"テンプレートを複数並べたときは、それぞれ既定の条件で作成します。{'・'.join(used)} は"
            "テンプレートを1つだけ指定したときに使えます。",
            parameter=used[0].lstrip("-"),
        )


def _run_jobs(console, jobs, *, workers, pdf, list_all=False, publish=False) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from ebpm.report import batch

    n = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    console.print(f"{len(jobs)} 件のレポートを {n} 並列で作成します。", highlight=False)
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("レポート作成", total=len(jobs))
        outcomes = batch.run_batch(
            jobs, workers=n, pdf=pdf, on_done=lambda _o: progress.advance(task)
        )
    failed = [o for o in outcomes if o.status != "ok"]
    console.print(f"完了 {len(outcomes) - len(failed)} 件・失敗 {len(failed)} 件", highlight=False)
    for o in outcomes if list_all else failed:
        print_outcome(console, o)
    done = [o for o in outcomes if o.status == "ok"]
    if publish and done:  # the finished ones; a failed report is never shared
        from ebpm.report.portal import publish_report

        for o in done:
            portal = publish_report(o.out_dir)
        console.print(
            f"[green]共有のレポート一覧に載せました[/] {portal}（{len(done)} 件）", highlight=False
        )
    if failed:
        raise typer.Exit(1)


@app.command("render")
def render(
    notebook: Annotated[Path, typer.Argument(help="実行済みのノートブック（.ipynb）")],
    out: Annotated[Path | None, typer.Option("--out", help="出力先フォルダ")] = None,
    pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="A4 の PDF も作る")] = True,
    register: Annotated[
        bool,
        typer.Option(
            "--register/--no-register",
            help="エビデンス台帳に登録する（reports/ の外に出力したときは常に登録しない）",
        ),
    ] = True,
) -> None:
    """実行済みのノートブックからレポート（HTML・PDF・result.json）を作ります（再実行しません）。

    答え・結果・使った表は、ノートブックに保存された ebpm.record の記録から読みます。
    """
    from rich.console import Console

    from ebpm.report.runner import render_notebook

    console = Console(stderr=True, soft_wrap=True)
    outcome = render_notebook(notebook, out=out, pdf=pdf, register=register)
    print_outcome(console, outcome)
    if outcome.status != "ok":
        raise typer.Exit(1)


@app.command("new")
def new(
    name: Annotated[str, typer.Argument(help="ノートブックの名前（英小文字・数字・_）")],
    folder: Annotated[Path, typer.Option("--dir", help="作成先のフォルダ")] = Path("."),
    title: Annotated[str | None, typer.Option("--title", help="題名（日本語）")] = None,
    params: Annotated[
        bool, typer.Option("--params/--no-params", help="条件の定義（.params.yml）も作る")
    ] = True,
) -> None:
    """自分の分析ノートブック（と条件の定義）のひな形を作ります。"""
    from rich.console import Console

    from ebpm.report.scaffold import new_notebook

    console = Console(stderr=True, soft_wrap=True)
    for path in new_notebook(name, folder, title=title, params=params):
        console.print(f"作成しました: {path}", highlight=False)
    console.print(
        f"JupyterLab の「ebpm (Python 3)」で開いて実行・保存し、`ebpm render {name}.ipynb` でレポートにします。",
        highlight=False,
    )

"""CLI: analysis plans (plan new|lock|status) and study folders (study list|publish)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ebpm.cli import app

plan_app = typer.Typer(help="分析計画（事前登録）の作成・ロック・確認。", no_args_is_help=True)
study_app = typer.Typer(help="研究フォルダ（studies/<名前>/）の一覧と公開。", no_args_is_help=True)
app.add_typer(plan_app, name="plan")
app.add_typer(study_app, name="study")


def _console():
    from rich.console import Console

    return Console(soft_wrap=True)


def _rel(path: Path) -> str:
    from ebpm.config import paths

    try:
        return path.resolve().relative_to(paths().root).as_posix()
    except ValueError:
        return str(path)


@plan_app.command("new")
def plan_new(
    slug: Annotated[
        str, typer.Argument(help="研究の名前（英小文字・数字・_。studies/<名前>/ を作ります）")
    ],
    template: Annotated[str, typer.Option("--template", "-t", help="分析テンプレート名")],
    title: Annotated[str, typer.Option("--title", help="計画の題名")] = "",
) -> None:
    """分析計画の下書き（studies/<名前>/plan.yml）を作ります。テンプレートの全条件と最小検出可能効果を書き込みます。"""
    import re

    from ebpm.errors import ParameterError
    from ebpm.plans.plan import write_new_plan
    from ebpm.report.params import load_schema
    from ebpm.report.runner import template_path

    if not re.fullmatch(r"[a-z0-9_]+", slug):
        raise ParameterError(
            "研究の名前は英小文字・数字・_ で書いてください（例: cashless_2026）。",
            parameter="slug",
        )
    schema = load_schema(template_path(template))
    params = {k: _yaml_value(spec.default) for k, spec in schema.params.items() if not spec.secret}
    path = write_new_plan(slug, schema.name, params, title=title or f"{schema.title_ja}の分析計画")
    console = _console()
    console.print(f"[green]作成[/] {_rel(path)}", highlight=False)
    console.print(
        "問い・判断の規則・データの利用状況・事前に知っていることを書いてから "
        f"`ebpm plan lock {slug}` でロックしてください。",
        highlight=False,
    )


def _yaml_value(value: Any) -> Any:
    import datetime as dt

    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


@plan_app.command("lock")
def plan_lock(
    slug: Annotated[str, typer.Argument(help="研究の名前")],
    by: Annotated[str, typer.Option("--by", help="ロックした人（担当課・役職など）")] = "",
) -> None:
    """分析計画をロック（事前登録）します。内容の sha256 と日時（日本時間）をエビデンス台帳に記録します。"""
    from ebpm.plans.plan import load_plan, lock_problems, read_lock_file, write_lock_file
    from ebpm.report.params import load_schema, validate
    from ebpm.report.prereg import _ja_time
    from ebpm.report.register import JST, lock_plan
    from ebpm.report.register import plan_lock as from_register
    from ebpm.report.runner import template_path

    plan = load_plan(slug)
    # refuse a plan that cannot run, or that is not finished (draft text, no MDE)
    validate(load_schema(template_path(plan.template)), plan.parameters)
    problems = lock_problems(plan)
    if problems:
        from ebpm.plans.plan import PlanError

        raise PlanError(
            "まだロックできません。", file=f"studies/{slug}/plan.yml", problems=problems
        )
    before = from_register(slug)
    copied = read_lock_file(slug)
    if before is None and copied is not None:  # fresh clone: carry the copy kept in git over first
        lock_plan(
            slug,
            sha256=copied["sha256"],
            canonical=copied["canonical"],
            template=copied.get("template") or "",
            locked_by=copied.get("locked_by") or "",
            now=copied["locked_at"].replace(tzinfo=JST),
        )
        before = from_register(slug)
    lock = lock_plan(
        slug, sha256=plan.sha256(), canonical=plan.canonical(), template=plan.template, locked_by=by
    )
    write_lock_file(slug, lock)
    console = _console()
    if (
        before is not None
        and before["sha256"] == lock["sha256"]
        and before["version"] == lock["version"]
    ):
        console.print(
            f"変更はありません。第{lock['version']}版（{_ja_time(lock['locked_at'])}）のままです。",
            highlight=False,
        )
        return
    if before is not None:
        console.print(
            f"[yellow]改訂[/] 第{before['version']}版から変わった項目: "
            + "、".join(d.field for d in plan.changes_since(before["canonical"])),
            highlight=False,
        )
    console.print(
        f"[green]ロック[/] {slug} 第{lock['version']}版 {_ja_time(lock['locked_at'])}  "
        f"sha256 {lock['sha256']}",
        highlight=False,
    )


@plan_app.command("status")
def plan_status(slug: Annotated[str, typer.Argument(help="研究の名前")]) -> None:
    """分析計画がロックされているか、ロック後に変更されていないかを表示します（変更があれば終了コード1）。"""
    from ebpm.plans.plan import load_plan, read_lock_file
    from ebpm.report.prereg import _ja_time
    from ebpm.report.register import plan_lock as latest

    plan = load_plan(slug)
    lock = latest(slug) or read_lock_file(slug)
    console = _console()
    if lock is None:
        console.print(
            f"{slug}: [yellow]未登録[/]（ロックされていません）。sha256 {plan.sha256()}",
            highlight=False,
        )
        return
    changes = plan.changes_since(lock["canonical"])
    console.print(
        f"{slug}: 登録済 第{lock['version']}版 {_ja_time(lock['locked_at'])} sha256 {lock['sha256']}",
        highlight=False,
    )
    if changes:
        console.print(
            f"[bold red]ロック後に {len(changes)} 項目が変更されています[/]", highlight=False
        )
        for d in changes:
            console.print(f"  - {d.text()}", highlight=False)
        raise typer.Exit(1)
    console.print("ロック後の変更はありません。", highlight=False)


def note_study_run(console, slug: str, outcome) -> None:
    """Leave a pointer ``studies/<slug>/runs/<run_id>.json`` to a report made with ``--plan``."""
    from ebpm.config import paths

    folder = paths().studies / slug / "runs"
    folder.mkdir(parents=True, exist_ok=True)
    pointer = {
        "run_id": outcome.run_id,
        "template": outcome.template,
        "status": outcome.status,
        "report": _rel(Path(outcome.out_dir)),
    }
    (folder / f"{outcome.run_id}.json").write_text(
        json.dumps(pointer, ensure_ascii=False, indent=2), encoding="utf-8"
    )


def study_records() -> list:
    """Studies with their status from the register (locks, runs with --plan, publications)."""
    from ebpm.plans.plan import lock_files
    from ebpm.plans.study import studies
    from ebpm.report.cycle_pages import plan_runs
    from ebpm.report.register import plan_locks, publications

    published = {k: v["run_id"] for k, v in publications().items()}
    locks = {**lock_files(), **plan_locks()}
    return studies(locks=locks, runs=plan_runs(), published=published)


@study_app.command("list")
def study_list() -> None:
    """研究の一覧を状態（計画中・登録済・実施済・公開）とともに表示します。"""
    from rich.table import Table

    from ebpm.report.prereg import _ja_time

    console = _console()
    found = study_records()
    if not found:
        console.print(
            "研究はまだありません。`ebpm plan new <名前> --template <テンプレート>` で始めます。"
        )
        return
    table = Table(
        "研究", "状態", "題名", "テンプレート", "ロック", "実行", "注意", box=None, pad_edge=False
    )
    for column in table.columns:  # wrap long Japanese text, never cut an ID with …
        column.overflow = "fold"
    for s in found:
        note = s.error or (
            "ロック後に変更: " + "、".join(s.changed_since_lock) if s.changed_since_lock else ""
        )
        table.add_row(
            s.slug,
            s.status,
            s.title,
            s.template,
            _ja_time(s.locked_at) if s.locked_at else "—",
            str(len(s.runs)),
            note,
        )
    console.print(table)


@study_app.command("publish")
def study_publish(
    slug: Annotated[str, typer.Argument(help="研究の名前")],
    run_id: Annotated[
        str | None, typer.Option("--run", help="公開する実行 ID（既定: 最新の成功した実行）")
    ] = None,
    by: Annotated[str, typer.Option("--by", help="公開を決めた人")] = "",
) -> None:
    """研究の結果を「公開」にします。事例ライブラリに自前の事例として載ります。"""
    from ebpm.errors import ParameterError
    from ebpm.report.register import publish_study

    study = next((s for s in study_records() if s.slug == slug), None)
    if study is None:
        raise ParameterError(f"研究「{slug}」はありません。", parameter="slug")
    ok = [r for r in study.runs if r.get("status") == "ok"]
    if run_id is None:
        if not ok:
            raise ParameterError(
                f"研究「{slug}」には成功した実行がありません（ebpm run --plan {slug}）。",
                parameter="run",
            )
        run_id = ok[0]["run_id"]
    elif run_id not in {r["run_id"] for r in ok}:
        raise ParameterError(
            f"実行 ID「{run_id}」は研究「{slug}」の成功した実行ではありません。", parameter="run"
        )
    publish_study(slug, run_id, published_by=by)
    _console().print(
        f"[green]公開[/] {slug}（実行 {run_id}）。`ebpm reports` で事例ページを作り直します。",
        highlight=False,
    )

"""CLI: estat search | fetch | parse (e-Stat API 3.0)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Literal

import typer

from ebpm.cli import app
from ebpm.config import ESTAT_CREDIT
from ebpm.errors import EstatError

estat_app = typer.Typer(
    help="e-Stat API 3.0（政府統計の総合窓口）から統計表を検索・取得・変換します。"
    "appId は環境変数 ESTAT_APP_ID に設定してください。",
    no_args_is_help=True,
)
app.add_typer(estat_app, name="estat")

OutputFormat = Literal["csv", "json", "table"]
FORMATS: tuple[str, ...] = ("csv", "json", "table")


def _credit(to_stderr: bool) -> None:
    typer.echo(f"出典表記: {ESTAT_CREDIT}", err=to_stderr)


def _print_frame(frame, title: str, limit: int = 50) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for col in frame.columns:
        table.add_column(str(col), overflow="fold")
    for row in frame.head(limit).itertuples(index=False):
        table.add_row(*("" if v is None or str(v) == "<NA>" else str(v) for v in row))
    console = Console()
    console.print(table)
    if len(frame) > limit:
        console.print(f"（全 {len(frame):,} 行のうち先頭 {limit} 行を表示）")


@estat_app.command("search")
def search(
    word: Annotated[
        str, typer.Argument(help='検索語（AND・OR・NOT で組み合わせ可、例: "盛岡 AND 人口"）')
    ],
    limit: Annotated[int, typer.Option("--limit", min=1, help="表示する統計表の最大数")] = 20,
) -> None:
    """統計表を検索し、統計表ID・表題・統計名・調査年月を表示します。"""
    from ebpm.estat import client as estat

    frame = estat.parse_stats_list(estat.get_stats_list(word, limit=limit))
    shown = frame[["stats_data_id", "title", "stat_name", "survey_date", "open_date"]].rename(
        columns={
            "stats_data_id": "統計表ID",
            "title": "表題",
            "stat_name": "統計名",
            "survey_date": "調査年月",
            "open_date": "公開日",
        }
    )
    hits = frame.attrs.get("number")
    _print_frame(shown, f"e-Stat 検索結果「{word}」（該当 {hits if hits is not None else '?'} 件）")
    _credit(to_stderr=False)


@estat_app.command("fetch")
def fetch(
    stats_data_id: Annotated[str, typer.Argument(help="統計表ID（10桁、例: 0003433219）")],
    cd_area: Annotated[
        str | None, typer.Option("--cd-area", help="地域コード（カンマ区切り可）")
    ] = None,
    cd_time: Annotated[
        str | None, typer.Option("--cd-time", help="時間軸コード（カンマ区切り可）")
    ] = None,
    cd_cat01: Annotated[str | None, typer.Option("--cd-cat01", help="分類事項01のコード")] = None,
    limit: Annotated[
        int | None,
        typer.Option("--limit", min=1, help="取得する最大件数（指定すると先頭ページのみ取得）"),
    ] = None,
    timeout: Annotated[
        float | None, typer.Option("--timeout", min=0.1, help="タイムアウト秒数")
    ] = None,
) -> None:
    """統計データを取得して data/raw/estat/<統計表ID>/ に保存し、保存先と行数を表示します。"""
    from ebpm.estat import client as estat

    response = estat.get_stats_data(
        stats_data_id,
        cdArea=cd_area,
        cdTime=cd_time,
        cdCat01=cd_cat01,
        limit=limit,
        paginate=limit is None,
        timeout=timeout,
    )
    frame = estat.parse_stats_data(response)
    folder = estat.cache_dir(stats_data_id)
    title = " ".join(t for t in (frame.attrs.get("statistics_name"), frame.attrs.get("title")) if t)
    typer.echo(f"統計表: {stats_data_id} {title}")
    typer.echo(f"保存先: {folder}")
    typer.echo(f"行数: {len(frame):,}")
    missing = int(frame["value"].isna().sum())
    if missing:
        typer.echo(f"欠損値（記号つき）: {missing:,} 件 {frame.attrs.get('symbols', {})}")
    if frame.attrs.get("next_key") is not None:
        typer.echo(f"続きがあります（次の開始位置 {frame.attrs['next_key']}）。")
    _credit(to_stderr=False)


@estat_app.command("parse")
def parse(
    file: Annotated[
        Path, typer.Argument(help="保存済みの e-Stat API 応答（JSON）またはキャッシュフォルダ")
    ],
    format: Annotated[
        str, typer.Option("--format", "-f", help="出力形式: csv | json | table")
    ] = "table",
) -> None:
    """保存済みの応答をオフラインで表に変換して表示します（csv/json は標準出力へ、UTF-8）。"""
    from ebpm.estat import client as estat

    if format not in FORMATS:
        raise EstatError(
            f"出力形式「{format}」は使えません。csv・json・table のいずれかを指定してください。",
            parameter="--format",
        )
    frame = estat.parse_response(file)
    if format == "csv":
        text = frame.to_csv(index=False, lineterminator="\n")
        sys.stdout.buffer.write(text.encode("utf-8"))
        sys.stdout.flush()
        _credit(to_stderr=True)
    elif format == "json":
        text = frame.to_json(orient="records", force_ascii=False)
        sys.stdout.buffer.write((text + "\n").encode("utf-8"))
        sys.stdout.flush()
        _credit(to_stderr=True)
    else:
        title = " ".join(
            str(t) for t in (frame.attrs.get("statistics_name"), frame.attrs.get("title")) if t
        )
        _print_frame(frame[_display_columns(frame)], title or str(file))
        _credit(to_stderr=False)


def _display_columns(frame) -> list[str]:
    """A readable subset for the terminal: names rather than every code/level column."""
    endpoint = frame.attrs.get("endpoint")
    if endpoint == "getStatsList":
        return ["stats_data_id", "title", "stat_name", "survey_date", "open_date"]
    if endpoint == "getStatsData":
        classes = list(frame.attrs.get("classes", {}))
        cols = ["area_code"] if "area_code" in frame.columns else []
        cols += [f"{c}_name" for c in classes if f"{c}_name" in frame.columns]
        return cols + [c for c in ("value", "unit", "note") if c in frame.columns]
    return list(frame.columns)

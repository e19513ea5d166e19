"""CLI: synthesize (the deterministic 模擬データ city)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ebpm.cli import app
from ebpm.errors import ParameterError

DEFAULT_SEED = 20260401  # the seed of the bundled data (Makefile SEED)


def _number(text: str | None, name: str, kind: type) -> int | float | None:
    """Parse a command-line number ourselves so that a bad value gets a Japanese message."""
    if text is None:
        return None
    try:
        return kind(text.strip())
    except ValueError:
        what = "整数" if kind is int else "数値"
        raise ParameterError(
            f"{what}で指定してください（指定値: {text!r}）", parameter=name
        ) from None


@app.command("synthesize")
def synthesize(
    seed: Annotated[
        str,
        typer.Option(
            "--seed",
            metavar="N",
            help="乱数の種（0以上の整数）。同じ種なら同じファイル。既定は同梱データの種",
        ),
    ] = str(DEFAULT_SEED),
    out: Annotated[
        Path | None,
        typer.Option("--out", help="出力先フォルダ（既定: data/raw/synthetic_morioka）"),
    ] = None,
    cashless_effect: Annotated[
        str | None,
        typer.Option(
            "--cashless-effect",
            metavar="X",
            help="キャッシュレス決済の待ち時間への効果（分、既定 -4.0）",
        ),
    ] = None,
    chatbot_level_change: Annotated[
        str | None,
        typer.Option(
            "--chatbot-level",
            metavar="X",
            help="チャットボット導入時の問い合わせ件数の変化率（既定 -0.18）",
        ),
    ] = None,
    chatbot_slope_change: Annotated[
        str | None,
        typer.Option(
            "--chatbot-slope", metavar="X", help="導入後の年あたり傾きの変化（対数、既定 -0.10）"
        ),
    ] = None,
    subsidy_jump: Annotated[
        str | None,
        typer.Option("--subsidy-jump", metavar="X", help="所得基準での申請率の不連続（既定 0.25）"),
    ] = None,
) -> None:
    """盛岡市の模擬データ（行政記録・KPI・真の効果つき）を決定的に生成します。"""
    from dataclasses import replace

    from ebpm.synth_city import TABLES, Settings
    from ebpm.synth_city import synthesize as run

    seed_value = _number(seed, "seed", int)
    settings = Settings()
    overrides = {
        "cashless_effect": _number(cashless_effect, "cashless_effect", float),
        "chatbot_level_change": _number(chatbot_level_change, "chatbot_level_change", float),
        "chatbot_slope_change": _number(chatbot_slope_change, "chatbot_slope_change", float),
        "subsidy_jump": _number(subsidy_jump, "subsidy_jump", float),
    }
    settings = replace(settings, **{k: v for k, v in overrides.items() if v is not None})
    folder = run(seed=seed_value, out=out, settings=settings)
    typer.echo(f"模擬データを生成しました（seed {seed_value}）: {folder}")
    typer.echo(f"テーブル: {'、'.join(TABLES)}")
    typer.echo("真の効果: ground_truth.yml ／ 来歴: SOURCE.yml")

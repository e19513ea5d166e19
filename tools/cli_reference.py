"""Write docs/cli.md from the CLI's own --help texts (run: .venv/bin/python tools/cli_reference.py).

tests/test_docs.py regenerates the text and fails when docs/cli.md is stale.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
ENV = {"COLUMNS": "100", "TERM": "dumb", "NO_COLOR": "1", "_TYPER_FORCE_DISABLE_TERMINAL": "1"}


def _help(args: list[str]) -> str:
    from typer.testing import CliRunner

    from ebpm.cli import app

    result = CliRunner().invoke(app, [*args, "--help"], env=ENV, color=False)
    if result.exit_code != 0:
        raise RuntimeError(f"ebpm {' '.join(args)} --help failed: {result.output}")
    return "\n".join(line.rstrip() for line in result.output.strip("\n").splitlines())


def commands() -> list[list[str]]:
    """Every command path of the CLI, groups before their subcommands."""
    import typer.main

    from ebpm.cli import app

    root = typer.main.get_command(app)
    out: list[list[str]] = []

    def walk(group, prefix):
        for name in sorted(group.commands):
            cmd = group.commands[name]
            out.append([*prefix, name])
            if hasattr(cmd, "commands"):
                walk(cmd, [*prefix, name])

    walk(root, [])
    return out


def render() -> str:
    os.environ.update(ENV)
    parts = [
        "# ebpm コマンドリファレンス",
        "",
        "このページは `tools/cli_reference.py` が各コマンドの `--help` から生成します（手で編集しないでください）。",
        "",
        "## ebpm",
        "",
        "```text",
        _help([]),
        "```",
    ]
    for path in commands():
        parts += ["", f"## ebpm {' '.join(path)}", "", "```text", _help(path), "```"]
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    DOC.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {DOC}\n")

"""`ebpm run <template>` reaches the warm service without typer: the same arguments as typer reads."""

from __future__ import annotations

import io

import pytest
import typer
from ebpm.cli import app
from ebpm.cli.quick import PlainConsole, parse_run

SAME_AS_TYPER = [
    ["run", "did_study"],
    ["run", "did_study", "-p", "alpha=0.1", "--param", "x=a=b", "--param=y=", "--out", "out dir"],
    ["run", "--no-pdf", "did_study", "--out=o", "--no-keep-warm", "--no-register"],
    ["run", "did_study", "--pdf", "--keep-warm", "--register", "-p", "n=-1"],
    ["run", "did_study", "--cold", "--no-pdf"],
    ["run", "notebooks/mine.ipynb", "-p", "年度=2025"],
]


def _typer_reads(argv: list[str]) -> dict:
    command = typer.main.get_command(app).commands["run"]
    ctx = command.make_context("run", list(argv[1:]))
    p = ctx.params
    return {
        "template": p["templates"][0],
        "assignments": list(p["param"] or []),
        "out": None if p["out"] is None else str(p["out"]),
        "pdf": p["pdf"],
        "keep_warm": p["keep_warm"],
        "register": p["register"],
        "cold": p["cold"],
    }


@pytest.mark.parametrize("argv", SAME_AS_TYPER)
def test_reads_the_arguments_as_typer_does(argv):
    assert parse_run(argv) == _typer_reads(argv)


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["build"],
        ["run"],  # typer says what is missing
        ["run", "--help"],
        ["run", "a", "b"],  # several templates: a batch
        ["run", "a", "--plan", "x"],
        ["run", "a", "-f", "p.yml"],
        ["run", "a", "--grid", "g.yml"],
        ["run", "a", "--publish"],
        ["run", "a", "-p"],
        ["run", "a", "-pn=1"],
        ["run", "a", "--"],
    ],
)
def test_anything_else_goes_through_typer(argv):
    assert parse_run(argv) is None


def test_plain_console_colours_only_a_terminal(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    pipe = io.StringIO()
    PlainConsole(pipe).print("[green]完了[/] a/index.html")
    assert pipe.getvalue() == "完了 a/index.html\n"
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    tty = Tty()
    console = PlainConsole(tty)
    with console.status("did_study を実行しています…"):
        pass
    console.print("[bold red]失敗[/] x")
    assert tty.getvalue() == ("did_study を実行しています…\r\x1b[K\x1b[1;31m失敗\x1b[0m x\n")
    monkeypatch.setenv("NO_COLOR", "1")
    tty = Tty()
    PlainConsole(tty).print("[yellow]注意[/] y")
    assert tty.getvalue() == "注意 y\n"


def test_ctrl_c_says_no_report_was_made_and_exits_130(monkeypatch, capsys):
    from ebpm.cli import quick

    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(quick, "make_report", interrupted)
    assert quick.run_plain(["run", "did_study"]) == 130
    assert "中断しました（レポートは作っていません）" in capsys.readouterr().err

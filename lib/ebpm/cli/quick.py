"""`ebpm run <template>` without loading the command-line application: handed to the warm service.

Typer, Rich's full import and every command module cost about 0.2 s before a report can start; a
report made in the warm service (:mod:`ebpm.report.service`) takes about two. This path understands
the common form of the command only: one template, ``-p``/``--param``, ``--out``, ``--pdf/--no-pdf``,
``--keep-warm/--no-keep-warm``, ``--register/--no-register`` and ``--cold``. Any other argument
(``--help``, ``--plan``, ``--grid``, several templates, …) goes through typer, as does every other
command.
"""

from __future__ import annotations

import sys
from typing import Any

_FLAGS = {
    "--pdf": ("pdf", True),
    "--no-pdf": ("pdf", False),
    "--keep-warm": ("keep_warm", True),
    "--no-keep-warm": ("keep_warm", False),
    "--register": ("register", True),
    "--no-register": ("register", False),
    "--cold": ("cold", True),
}


def parse_run(argv: list[str]) -> dict[str, Any] | None:
    """The arguments of a plain ``ebpm run <template> …``, or None for anything else."""
    if not argv or argv[0] != "run":
        return None
    parsed: dict[str, Any] = {
        "template": None,
        "assignments": [],
        "out": None,
        "pdf": True,
        "keep_warm": None,
        "register": True,
        "cold": False,
    }
    args = iter(argv[1:])
    for arg in args:
        if arg in _FLAGS:
            name, value = _FLAGS[arg]
            parsed[name] = value
        elif arg in ("-p", "--param", "--out"):
            value = next(args, None)
            if value is None:
                return None  # typer says what is missing
            if arg == "--out":
                parsed["out"] = value
            else:
                parsed["assignments"].append(value)
        elif arg.startswith("--param="):
            parsed["assignments"].append(arg.removeprefix("--param="))
        elif arg.startswith("--out="):
            parsed["out"] = arg.removeprefix("--out=")
        elif arg.startswith("-") or parsed["template"] is not None:
            return None  # another option, or several templates (a batch)
        else:
            parsed["template"] = arg
    return parsed if parsed["template"] else None


def run_plain(argv: list[str]) -> int | None:
    """Make the report of a plain ``ebpm run`` (in the warm service if one waits) and return the exit
    code; None for any other command line (it goes through typer)."""
    parsed = parse_run(argv)
    if parsed is None:
        return None
    console = PlainConsole()
    try:
        outcome = make_report(console, parsed.pop("template"), {}, plan=None, **parsed)
    except KeyboardInterrupt:  # Ctrl-C: the warm service stops the run and writes nothing
        console.print("[yellow]中断しました[/]（レポートは作っていません）")
        return 130
    print_outcome(console, outcome)
    return 0 if outcome.status == "ok" else 1


class PlainConsole:
    """What :func:`make_report` and :func:`print_outcome` need of Rich's console, without importing
    Rich (about 0.1 s): their few colour tags become ANSI colours on a terminal (none with
    ``NO_COLOR``), and the status line is written once instead of animated."""

    _ANSI = {
        "[green]": "\x1b[32m",
        "[bold red]": "\x1b[1;31m",
        "[yellow]": "\x1b[33m",
        "[/]": "\x1b[0m",
    }

    def __init__(self, stream=None) -> None:
        import os

        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.color = self.tty and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"

    def print(self, text: str, highlight: bool = False) -> None:
        for tag, code in self._ANSI.items():
            text = text.replace(tag, code if self.color else "")
        print(text, file=self.stream, flush=True)

    def status(self, text: str):
        import contextlib

        @contextlib.contextmanager
        def shown():
            if self.tty:
                self.stream.write(text)
                self.stream.flush()
            try:
                yield
            finally:
                if self.tty:
                    self.stream.write("\r\x1b[K")
                    self.stream.flush()

        return shown()


def make_report(
    console,
    template: str | None,
    params: dict[str, Any],
    *,
    assignments: list[str] = (),  # type: ignore[assignment]
    out: Any = None,
    pdf: bool = True,
    keep_warm: bool | None = None,
    cold: bool = False,
    plan: str | None = None,
    register: bool = True,
):
    """One report: made in the warm service if one waits (and not ``cold``), else here."""
    with console.status(f"{template or plan} を実行しています…"):
        outcome = None
        if not cold:
            from ebpm.report.service import run_in_service

            outcome = run_in_service(
                template,
                params,
                assignments=list(assignments),
                out=out,
                pdf=pdf,
                keep_warm=keep_warm,
                plan=plan,
                register=register,
            )
        if outcome is None:
            from ebpm.report.params import parse_assignments
            from ebpm.report.runner import run

            outcome = run(
                template,
                {**params, **parse_assignments(list(assignments))},
                out=out,
                pdf=pdf,
                keep_warm=keep_warm,
                cold=cold,
                plan=plan,
                register=register,
            )
    return outcome


def print_outcome(console, outcome) -> None:
    """完了/失敗 with the report's path, the step and reason of a failure, and every warning."""
    if outcome.status == "ok":
        console.print(f"[green]完了[/] {outcome.out_dir}/index.html", highlight=False)
    else:
        err = outcome.error or {}
        console.print(
            f"[bold red]失敗[/] {outcome.out_dir}/index.html — 止まった箇所: {err.get('step')} — "
            f"理由: {err.get('message')}",
            highlight=False,
        )
    for w in outcome.warnings:
        console.print(f"[yellow]注意[/] {w}", highlight=False)

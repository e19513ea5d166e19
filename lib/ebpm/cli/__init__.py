"""Command-line interface `ebpm` (typer); every message a user sees is Japanese."""

from __future__ import annotations

import os
import sys

from ebpm.errors import EbpmError

# jsonschema (imported by altair) loads rfc3987_syntax when it is installed (JupyterLab brings it)
# and compiles a grammar for about a second; altair never checks URI formats, so ebpm's own
# processes skip it. Measured: template imports 4.2 s -> 3.0 s (see bench/bench_reports.py).
sys.modules.setdefault("rfc3987_syntax", None)

# Rich wraps at 80 columns when output is not a terminal (logs, CI, pipes); Japanese table titles
# then break mid-word. Use a wide line unless the user set COLUMNS.
if "COLUMNS" not in os.environ and not sys.stdout.isatty():
    os.environ["COLUMNS"] = "160"


def _build_app():
    """The typer application with every command registered (made on first use of ``app``)."""
    global app
    if "app" in globals():
        return app
    import typer

    app = typer.Typer(
        name="ebpm",
        help="盛岡市 EBPM 分析環境のコマンド。データ構築・検索・分析テンプレートの実行・レポート作成を行います。",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )

    @app.callback()
    def _root() -> None:
        """盛岡市 EBPM 分析環境のコマンド。"""

    @app.command("version")
    def version() -> None:
        """ebpm のバージョンを表示します。"""
        from ebpm import __version__

        typer.echo(f"ebpm {__version__}")

    # Each area registers its commands on `app` in its own module (one owner per file); they take
    # `app` from this package, which is set above.
    from ebpm.cli import cases as _cases  # noqa: F401  cases
    from ebpm.cli import data as _data  # noqa: F401  build, catalog, query
    from ebpm.cli import estat as _estat  # noqa: F401  estat search|fetch|parse
    from ebpm.cli import ingest as _ingest  # noqa: F401  inspect
    from ebpm.cli import logic as _logic  # noqa: F401  logic render|check|export|import
    from ebpm.cli import plans as _plans  # noqa: F401  plan new|lock|status, study list|publish
    from ebpm.cli import portal as _portal  # noqa: F401  reports
    from ebpm.cli import publish as _publish  # noqa: F401  publish
    from ebpm.cli import report as _report  # noqa: F401  templates, run, render
    from ebpm.cli import synth as _synth  # noqa: F401  synthesize
    from ebpm.cli import training as _training  # noqa: F401  course build|release|grade|report, training import

    return app


def __getattr__(name: str):
    if name == "app":
        return _build_app()
    raise AttributeError(f"module 'ebpm.cli' has no attribute {name!r}")


def main() -> None:
    """Entry point: turn EbpmError into a Japanese message and exit code 1."""
    try:
        # a plain `ebpm run <template>` is made without loading typer and every command module
        # (about 0.2 s of imports), in the warm service if one waits; anything else goes through typer
        from ebpm.cli.quick import run_plain

        code = run_plain(sys.argv[1:])
        if code is None:
            _build_app()()
        elif code:
            sys.exit(code)
    except EbpmError as err:
        from ebpm.cli.quick import PlainConsole

        PlainConsole().print(f"[bold red]エラー:[/] {err}")
        sys.exit(1)
    finally:
        # The command has finished (its files are written and closed). Python's shutdown would now
        # run a full garbage collection over everything the command imported (pandas, nbclient,
        # Altair...): about 0.35 s of the 0.6 s `ebpm run` spent exiting. Frozen objects are skipped
        # by that collection; they are still freed by reference counting and module teardown.
        import gc

        gc.freeze()

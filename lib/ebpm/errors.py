"""Errors that carry a Japanese message a planner can act on (file, row, column or parameter)."""

from __future__ import annotations


class EbpmError(Exception):
    """Base error. ``str(err)`` is the Japanese message shown to users."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        table: str | None = None,
        parameter: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.row = row
        self.column = column
        self.table = table
        self.parameter = parameter
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.table:
            where.append(f"テーブル「{self.table}」")
        if self.file:
            where.append(f"ファイル「{self.file}」")
        if self.row is not None:
            where.append(f"{self.row}行目")
        if self.column:
            where.append(f"列「{self.column}」")
        if self.parameter:
            where.append(f"パラメータ「{self.parameter}」")
        prefix = "・".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class IngestError(EbpmError):
    """A raw file cannot be read as declared."""


class BuildError(EbpmError):
    """The curated build failed; the previous snapshot is untouched."""


class CheckError(BuildError):
    """A data check failed during the build."""


class DataAccessError(EbpmError):
    """The curated database cannot be opened or queried as asked."""


class ParameterError(EbpmError):
    """A template parameter is unknown, mistyped or out of range."""


class EstimationError(EbpmError):
    """An estimator cannot run on the data given."""


class EstatError(EbpmError):
    """The e-Stat API refused, failed or answered with something malformed."""


class DisclosureError(EbpmError):
    """A table would leave the environment with a cell the disclosure rules forbid."""


class PublishError(EbpmError):
    """An open-data release was refused; the previous release is untouched.

    ``problems`` lists every finding (file, row, field, message) when there are several.
    """

    def __init__(self, message: str, *, problems: list[str] | None = None, **where) -> None:
        self.problems = list(problems or [])
        super().__init__(message, **where)


class GradeError(EbpmError):
    """A recorded grade (根拠の確かさ) is not the output of the grading rule."""


def did_you_mean(value: object, candidates: object, n: int = 3) -> str:
    """Japanese "did you mean" clause for an unknown name ('' when nothing is close).

    >>> did_you_mean("ofice", ["office", "date"])
    'もしかして「office」ですか？'
    """
    import difflib

    close = difflib.get_close_matches(str(value), [str(c) for c in candidates], n=n, cutoff=0.6)
    return ("もしかして" + "・".join(f"「{c}」" for c in close) + "ですか？") if close else ""


def missing_column(frame: object, parameter: str, column: object) -> ParameterError:
    """The error for a column argument naming a column the frame does not have."""
    columns = list(getattr(frame, "columns", []))
    return ParameterError(
        f"{parameter} の列『{column}』がありません。{did_you_mean(column, columns)}"
        f"（あるのは {', '.join(map(str, columns))}）。",
        column=str(column),
        parameter=parameter,
    )


def japanese_arguments(fn):
    """Wrap a public function so that a call it cannot take (an unknown keyword, a missing argument,
    too many positional arguments) is a Japanese :class:`ParameterError` naming the argument, with
    did-you-mean candidates — not Python's English ``TypeError``.

    The signature is checked before the call; the function itself runs unchanged (``__wrapped__``).
    """
    import functools
    import inspect

    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):  # builtins without a signature: leave them alone
        return fn
    params = sig.parameters
    named = [
        p.name
        for p in params.values()
        if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    ]
    takes_any_keyword = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    positional = [
        p.name
        for p in params.values()
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    takes_any_positional = any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params.values())
    where = f"ebpm.{fn.__name__}"

    def explain(args: tuple, kwargs: dict) -> ParameterError:
        if not takes_any_keyword:
            for key in kwargs:
                if key not in params or params[key].kind is inspect.Parameter.POSITIONAL_ONLY:
                    return ParameterError(
                        f"{where} に引数「{key}」はありません。{did_you_mean(key, named)}"
                        f"使える引数: {', '.join(named)}",
                        parameter=key,
                    )
        if not takes_any_positional and len(args) > len(positional):
            return ParameterError(
                f"{where} の位置引数が多すぎます（{len(args)}個、受け取れるのは{len(positional)}個）。"
                "2つ目からは 名前=値 の形で指定してください"
                f"（例: {where}(df, y=..., ...)）。",
                parameter=named[len(positional)] if len(positional) < len(named) else None,
            )
        given = set(positional[: len(args)]) | {
            k
            for k in kwargs
            if k in params and params[k].kind is not inspect.Parameter.POSITIONAL_ONLY
        }
        for p in params.values():
            if p.default is inspect.Parameter.empty and p.kind not in (
                inspect.Parameter.VAR_POSITIONAL,
                inspect.Parameter.VAR_KEYWORD,
            ):
                if p.name not in given:
                    how = (
                        f"名前を付けずに位置で指定してください（例: {where}(値, ...)）"
                        if p.kind is inspect.Parameter.POSITIONAL_ONLY
                        else "名前=値 の形で指定してください"
                    )
                    return ParameterError(
                        f"{where} には引数「{p.name}」が必要です（{how}）。", parameter=p.name
                    )
        for key in kwargs:
            if key in positional[: len(args)]:
                return ParameterError(
                    f"{where} の引数「{key}」が位置と名前の両方で指定されています。どちらか一方にしてください。",
                    parameter=key,
                )
        return ParameterError(f"{where} の引数の指定が正しくありません。", parameter=None)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            sig.bind(*args, **kwargs)
        except TypeError:
            raise explain(args, kwargs) from None
        return fn(*args, **kwargs)

    return wrapper

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

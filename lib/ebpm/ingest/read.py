"""Readers for Japanese public-sector files (CSV, Excel) that return a tidy table and what was normalised.

Public API (stable; the build calls these through a catalog source's ``reader:`` + ``options:``)
------------------------------------------------------------------------------------------------
``read_csv(path, *, encoding="auto", header_row="auto", columns=None, dtype=None, symbols=True,
normalize=True, delimiter="auto") -> Ingested``
    Decodes CP932/Shift_JIS in Python, UTF-8 with or without BOM and UTF-16 (BOM); handles embedded
    newlines in quoted cells and mixed line endings; normalises headers; converts full-width digits and
    latin letters to half-width; removes thousands separators; records units written in the header
    (``人口【千人】`` → column ``人口``, unit ``千人``); turns e-Stat special symbols in numeric columns
    into NULL plus a ``<col>_note`` reason column (never 0).
``read_excel(path, *, sheet=0, header_rows="auto", skip_title_rows="auto", columns=None, dtype=None,
symbols=True, normalize=True) -> Ingested``
    ``.xlsx`` via openpyxl, legacy ``.xls`` via xlrd; multi-row headers flattened with ``_``; merged
    header cells forward-filled; ruby (phonetic) text never read.
``read(path, reader="auto", **options) -> Ingested``
    Dispatch used by the build: ``reader`` is ``"csv"`` or ``"excel"`` (``"auto"`` picks by suffix).

``Ingested``
    ``.table`` (pyarrow, typed: ``int64``/``double``/``date32``/``string`` — register it in DuckDB
    directly), ``.frame`` (the same as pandas, nullable dtypes), ``.notes`` and ``.problems``
    (Japanese sentences), ``.encoding``, ``.delimiter``, ``.header_row``/``.header_rows``,
    ``.units``, ``.symbols``, ``.types``, ``.sheets``/``.sheet`` and ``.source_row(i)``.

Row numbers are 1-based and counted as a person counts lines in the file (CSV: a record with embedded
newlines spans several lines) or rows in the sheet (Excel). ``header_row`` is the line where the
header record starts; ``None`` means the file has no header (columns are named ``col1``, ``col2`` …).
Encodings tried by ``"auto"``: BOM (UTF-8, UTF-16), strict UTF-8, strict CP932 (EUC-JP when CP932
would only give half-width-kana mojibake). Column typing: code-like headers (コード, 番号, ID, No,
code …) and zero-padded values stay text; numbers with ``,`` separators, ``△``/``▲`` minus and
full-width digits become ``integer``/``number``; full dates (西暦 or 和暦) become ``date``.

Implementation: :mod:`ebpm.ingest.csv` (decoding, header detection, Arrow parsing, error diagnosis),
:mod:`ebpm.ingest.excel` (sheets, titles, multi-row headers), :mod:`ebpm.ingest.columns` (headers,
symbols, notes) and :mod:`ebpm.ingest.types` (typing of one column); text rules in :mod:`ebpm.ingest.jp`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ebpm.errors import IngestError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import pyarrow as pa

Encoding = Literal["auto", "utf-8", "utf-8-sig", "cp932", "shift_jis", "utf-16", "euc-jp"]
Reader = Literal["auto", "csv", "excel"]
_EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")


@dataclass
class Ingested:
    """What a reader returns: the tidy table plus an account of how it was read.

    Attributes
    ----------
    table : pyarrow.Table
        The data, typed (``int64``, ``double``, ``date32``, ``string``). The build registers it in
        DuckDB directly; :attr:`frame` is the same data as pandas.
    notes : list of str
        Japanese sentences saying what was normalised.
    encoding : str or None
        Encoding used to decode the file (``None`` for Excel).
    header_row : int or None
        1-based line (CSV) or sheet row (Excel) of the (last) header row; ``None`` without header.
    problems : list of str
        Japanese sentences about things that look wrong but did not stop reading.
    units : dict
        Column name → unit taken from the header (``{"人口": "千人"}``).
    delimiter : str or None
        Field delimiter (CSV only).
    symbols : dict
        Column name → {symbol: count} of special symbols turned into NULL (reason in ``<col>_note``).
    types : dict
        Column name → ``"integer"``, ``"number"``, ``"date"`` or ``"string"``.
    sheets : list of str
        Sheet names (Excel only).
    sheet : str or None
        The sheet that was read (Excel only).
    header_rows : list of int
        All 1-based header rows (several for flattened multi-row Excel headers).
    path : str
        The file that was read.
    """

    table: pa.Table
    notes: list[str] = field(default_factory=list)
    encoding: str | None = None
    header_row: int | None = None
    problems: list[str] = field(default_factory=list)
    units: dict[str, str] = field(default_factory=dict)
    delimiter: str | None = None
    symbols: dict[str, dict[str, int]] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    sheets: list[str] = field(default_factory=list)
    sheet: str | None = None
    header_rows: list[int] = field(default_factory=list)
    path: str = ""
    title: str = ""  # text of the title rows above the header (may state the unit and the 時点)
    _frame: Any = field(default=None, repr=False)
    _row_of: Any = field(default=None, repr=False)
    _kept: Any = field(default=None, repr=False)

    def source_row(self, index: int) -> int | None:
        """Row in the file (1-based, as a person counts lines or sheet rows) of output row ``index``.

        Accounts for title rows, embedded newlines and dropped empty rows, so the build can name the
        row of a failed check. ``None`` when unknown.
        """
        if self._row_of is None:
            return None
        record = int(self._kept[index].as_py()) if self._kept is not None else index
        return int(self._row_of(record))

    @property
    def frame(self) -> pd.DataFrame:
        """The data as pandas (nullable ``Int64``/``Float64``, ``string``, dates as ``datetime64``)."""
        if self._frame is None:
            import pandas as pd
            import pyarrow as pa

            mapping = {
                pa.int64(): pd.Int64Dtype(),
                pa.float64(): pd.Float64Dtype(),
                pa.string(): pd.StringDtype(),
            }
            frame = self.table.to_pandas(types_mapper=mapping.get)
            for name, kind in self.types.items():
                if kind == "date" and name in frame.columns:
                    frame[name] = pd.to_datetime(frame[name])
            self._frame = frame
        return self._frame

    @property
    def columns(self) -> list[str]:
        return list(self.table.column_names)


def _check_literal(value: object, allowed: tuple, parameter: str) -> None:
    if value not in allowed:
        raise IngestError(
            f"{parameter} は {'・'.join(map(repr, allowed))} のいずれかです（{value!r}）",
            parameter=parameter,
        )


def read_csv(
    path: str | Path,
    *,
    encoding: Encoding | str = "auto",
    header_row: Literal["auto"] | int | None = "auto",
    columns: list[str] | None = None,
    dtype: dict[str, str] | None = None,
    symbols: bool | dict[str, str] = True,
    normalize: bool | Literal["nfkc"] = True,
    delimiter: Literal["auto"] | str = "auto",
    codes: dict[str, Literal["code5", "code6"]] | None = None,
) -> Ingested:
    """Read a Japanese public-sector CSV file.

    Parameters
    ----------
    path : str or Path
    encoding : str, default "auto"
        ``"auto"`` detects a BOM (UTF-8, UTF-16), then tries strict UTF-8, then CP932. ``"shift_jis"``
        is read as CP932 (the Windows superset real files use).
    header_row : "auto", int or None
        1-based line where the header starts; ``"auto"`` skips title rows; ``None`` = no header.
    columns : list of str, optional
        Required columns (after header normalisation); a missing one raises :class:`IngestError`.
    dtype : dict, optional
        Column → ``"string"``, ``"integer"``, ``"number"`` or ``"date"`` to override inference.
    symbols : bool or dict, default True
        Turn special symbols in numeric columns into NULL plus a ``<col>_note`` reason column. A dict
        adds or overrides symbol → reason (``{"x": "秘匿（市の基準）"}``).
    normalize : bool or "nfkc", default True
        ``True``: full-width digits/latin → half-width in text cells (kana kept as written);
        ``"nfkc"``: NFKC on every text cell (half-width kana → full-width too); ``False``: as written.
    delimiter : str, default "auto"
    codes : dict, optional
        Column → ``"code5"`` or ``"code6"``: 団体コード normalised with :mod:`ebpm.ingest.codes` (lost
        leading zeros, full-width digits, check digit verified); a bad code raises with its row.

    Returns
    -------
    Ingested

    Raises
    ------
    IngestError
        Naming file, row (as a person counts lines) and column: wrong encoding, truncated file,
        unterminated quote, ragged rows, duplicate headers, missing required columns.
    """
    from ebpm.ingest.columns import finish
    from ebpm.ingest.csv import load_csv

    _check_literal(normalize, (True, False, "nfkc"), "normalize")
    raw = load_csv(path, encoding=encoding, header_row=header_row, delimiter=delimiter)
    done = finish(
        raw.names,
        raw.columns,
        file=Path(path).name,
        row_of=raw.row_of,
        header_row=raw.header_row,
        columns_required=columns,
        dtype=dtype,
        symbols=symbols,
        normalize=normalize,
        area_codes=codes,
        title=raw.title,
    )
    return Ingested(
        table=done.table,
        notes=raw.notes + done.notes,
        encoding=raw.encoding,
        header_row=raw.header_row,
        problems=raw.problems + done.problems,
        units=done.units,
        delimiter=raw.delimiter,
        symbols=done.symbols,
        types=done.types,
        header_rows=[raw.header_row] if raw.header_row else [],
        path=str(path),
        title=raw.title or "",
        _row_of=raw.row_of,
        _kept=done.kept,
    )


def read_excel(
    path: str | Path,
    *,
    sheet: int | str = 0,
    header_rows: Literal["auto"] | int | list[int] = "auto",
    skip_title_rows: Literal["auto"] | int = "auto",
    columns: list[str] | None = None,
    dtype: dict[str, str] | None = None,
    symbols: bool | dict[str, str] = True,
    normalize: bool | Literal["nfkc"] = True,
    codes: dict[str, Literal["code5", "code6"]] | None = None,
) -> Ingested:
    """Read one sheet of a ``.xlsx`` or ``.xls`` workbook.

    Parameters
    ----------
    path : str or Path
    sheet : int or str, default 0
        Sheet index (0-based) or name.
    header_rows : "auto", int or list of int
        Number of header rows after the title rows, or the explicit 1-based sheet rows. ``"auto"``
        takes every row above the first mostly-numeric row (at most 6).
    skip_title_rows : "auto" or int
        Title rows above the header; ``"auto"`` skips leading rows with at most two filled cells.
    columns, dtype, symbols, normalize, codes
        As in :func:`read_csv`.

    Returns
    -------
    Ingested
        Multi-row headers are joined with ``_`` (``2022年_人口_男``); a row of units under the header
        (``人``, ``世帯``) goes to :attr:`Ingested.units`; when a 和暦 row and a 西暦 row name the same
        year only the 西暦 one is kept; merged cells are filled; ruby (phonetic) text is never read.
    """
    from ebpm.ingest.columns import finish
    from ebpm.ingest.excel import load_excel

    _check_literal(normalize, (True, False, "nfkc"), "normalize")
    raw = load_excel(path, sheet=sheet, header_rows=header_rows, skip_title_rows=skip_title_rows)
    first = raw.first_data_row
    done = finish(
        raw.names,
        raw.columns,
        file=f"{Path(path).name}（シート「{raw.sheet}」）",
        row_of=lambda i: first + i,
        header_row=raw.header_rows[-1] if raw.header_rows else None,
        columns_required=columns,
        dtype=dtype,
        symbols=symbols,
        normalize=normalize,
        units=raw.units,
        area_codes=codes,
        title=raw.title,
    )
    return Ingested(
        table=done.table,
        notes=raw.notes + done.notes,
        encoding=None,
        header_row=raw.header_rows[-1] if raw.header_rows else None,
        problems=done.problems,
        units=done.units,
        symbols=done.symbols,
        types=done.types,
        sheets=raw.sheets,
        sheet=raw.sheet,
        header_rows=raw.header_rows,
        path=str(path),
        title=raw.title or "",
        _row_of=lambda i: first + i,
        _kept=done.kept,
    )


def read(path: str | Path, reader: Reader = "auto", **options: Any) -> Ingested:
    """Dispatch to :func:`read_csv` or :func:`read_excel` (``"auto"`` picks by file suffix).

    This is what the build calls with a catalog source's ``reader:`` and ``options:``.
    """
    _check_literal(reader, ("auto", "csv", "excel"), "reader")
    if reader == "auto":
        reader = "excel" if Path(path).suffix.lower() in _EXCEL_SUFFIXES else "csv"
    if reader == "excel":
        return read_excel(path, **options)
    return read_csv(path, **options)

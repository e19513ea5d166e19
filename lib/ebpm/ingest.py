"""Readers for Japanese public-sector files (CSV, Excel) that return a tidy frame and what was normalised.

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

Row numbers in errors are 1-based, counted as a person counts lines in the file (CSV) or rows in the
sheet (Excel). ``header_row`` is the 1-based record (CSV) or sheet row (Excel) of the header; ``None``
means the file has no header (columns are named ``col1``, ``col2`` …).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

Encoding = Literal["auto", "utf-8", "utf-8-sig", "cp932", "shift_jis", "utf-16", "euc-jp"]


@dataclass
class Ingested:
    """What a reader returns: the tidy frame plus an account of how it was read.

    Attributes
    ----------
    frame : pandas.DataFrame
        The data; numeric columns are nullable ``Int64``/``Float64``, others ``string``.
    notes : list of str
        Japanese sentences saying what was normalised.
    encoding : str or None
        Encoding used to decode the file (``None`` for Excel).
    header_row : int or None
        1-based row of the (last) header row; ``None`` when the file has no header.
    problems : list of str
        Japanese sentences about things that look wrong but did not stop reading.
    units : dict
        Column name → unit taken from the header (``{"人口": "千人"}``).
    delimiter : str or None
        Field delimiter (CSV only).
    symbols : dict
        Column name → {symbol: count} of e-Stat special symbols turned into NULL.
    types : dict
        Column name → inferred type (``"integer"``, ``"number"``, ``"string"``).
    sheets : list of str
        Sheet names (Excel only).
    sheet : str or None
        The sheet that was read (Excel only).
    header_rows : list of int
        All 1-based header rows (more than one for flattened multi-row Excel headers).
    path : str
        The file that was read.
    """

    frame: pd.DataFrame
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


def read_csv(
    path: str | Path,
    *,
    encoding: Encoding | str = "auto",
    header_row: Literal["auto"] | int | None = "auto",
    columns: list[str] | None = None,
    dtype: dict[str, str] | None = None,
    symbols: bool = True,
    normalize: bool | Literal["nfkc"] = True,
    delimiter: Literal["auto"] | str = "auto",
) -> Ingested:
    """Read a Japanese public-sector CSV file.

    Parameters
    ----------
    path : str or Path
    encoding : str, default "auto"
        ``"auto"`` detects BOM (UTF-8, UTF-16), then strict UTF-8, then CP932.
    header_row : "auto", int or None
        1-based record of the header row; ``"auto"`` skips title rows; ``None`` means no header.
    columns : list of str, optional
        Required columns (after header normalisation); missing ones raise :class:`IngestError`.
    dtype : dict, optional
        Column → ``"string"``, ``"integer"`` or ``"number"`` to override inference.
    symbols : bool, default True
        Turn e-Stat special symbols in numeric columns into NULL plus a ``<col>_note`` column.
    normalize : bool or "nfkc", default True
        Full-width digits/latin → half-width in cells; ``"nfkc"`` applies NFKC to every cell
        (also half-width kana → full-width); ``False`` keeps cells as written.
    delimiter : str, default "auto"

    Returns
    -------
    Ingested
    """
    raise NotImplementedError("read_csv は実装中です")


def read_excel(
    path: str | Path,
    *,
    sheet: int | str = 0,
    header_rows: Literal["auto"] | int | list[int] = "auto",
    skip_title_rows: Literal["auto"] | int = "auto",
    columns: list[str] | None = None,
    dtype: dict[str, str] | None = None,
    symbols: bool = True,
    normalize: bool | Literal["nfkc"] = True,
) -> Ingested:
    """Read one sheet of a ``.xlsx`` or ``.xls`` workbook.

    Parameters
    ----------
    path : str or Path
    sheet : int or str, default 0
        Sheet index (0-based) or name.
    header_rows : "auto", int or list of int
        Number of header rows after the title rows, or the explicit 1-based sheet rows.
    skip_title_rows : "auto" or int
        Title rows above the header.
    columns, dtype, symbols, normalize
        As in :func:`read_csv`.

    Returns
    -------
    Ingested
    """
    raise NotImplementedError("read_excel は実装中です")


def read(
    path: str | Path, reader: Literal["auto", "csv", "excel"] = "auto", **options: Any
) -> Ingested:
    """Dispatch to :func:`read_csv` or :func:`read_excel` (``"auto"`` picks by file suffix)."""
    raise NotImplementedError("read は実装中です")

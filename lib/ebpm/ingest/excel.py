"""Excel side of ingest: .xlsx (openpyxl) and .xls (xlrd), title rows, multi-row headers, merged cells."""

from __future__ import annotations

import datetime as _dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from ebpm.errors import IngestError
from ebpm.ingest import jp

_MAX_HEADER_ROWS = 6


class _Quiet(io.TextIOBase):
    """xlrd writes warnings about damaged files to stdout otherwise; the error says it instead."""

    def write(self, text: str) -> int:
        return len(text)


_QUIET = _Quiet()
_FOOTNOTE = re.compile(r"^[\s(（]*(注|※|資料|出典|備考|\*)")


@dataclass
class RawExcel:
    """One sheet turned into raw text columns, before typing."""

    names: list[str | None]
    columns: list[pa.Array]
    sheets: list[str]
    sheet: str
    header_rows: list[int]
    first_data_row: int
    units: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    title: str = ""


def _cell_text(value: object) -> str | None:
    """Excel cell → text the typing step understands (ints without ``.0``, dates ISO)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, _dt.datetime):
        if value.time() == _dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    text = str(value)
    return text if text.strip() else None


def _pick_sheet(names: list[str], sheet: int | str, file: str) -> int:
    if isinstance(sheet, bool) or not isinstance(sheet, (int, str)):
        raise IngestError(
            f"sheet はシート番号（0から）か名前で指定してください（{sheet!r}）", parameter="sheet"
        )
    if isinstance(sheet, int):
        if 0 <= sheet < len(names):
            return sheet
        raise IngestError(
            f"シート番号 {sheet} はありません（シートは {len(names)} 枚: {'、'.join(names)}）",
            file=file,
            parameter="sheet",
        )
    if sheet in names:
        return names.index(sheet)
    raise IngestError(
        f"シート「{sheet}」はありません（ある シート: {'、'.join(names)}）",
        file=file,
        parameter="sheet",
    )


def _read_xlsx(path: Path, sheet: int | str, file: str):
    import openpyxl
    from openpyxl.utils.cell import range_boundaries

    try:
        # openpyxl returns the <t> text of shared strings only; ruby (rPh) runs are never joined in
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError) as err:
        raise IngestError(
            f"Excel（.xlsx）ファイルとして読めません。壊れているか途中で切れている可能性があります（{type(err).__name__}）",
            file=file,
        ) from None
    try:
        names = list(wb.sheetnames)
        idx = _pick_sheet(names, sheet, file)
        ws = wb.worksheets[idx]
        grid = [list(r) for r in ws.iter_rows(values_only=True)]
        merges = []
        sheet_xml = getattr(ws, "_worksheet_path", None)
        if sheet_xml:
            with zipfile.ZipFile(path) as zf:
                xml = zf.read(sheet_xml).decode("utf-8", "replace")
            for ref in re.findall(r'<mergeCell ref="([A-Z]+\d+:[A-Z]+\d+)"', xml):
                c0, r0, c1, r1 = range_boundaries(ref)
                merges.append((r0 - 1, r1, c0 - 1, c1))
    except (zipfile.BadZipFile, KeyError, EOFError) as err:
        raise IngestError(
            f"Excel（.xlsx）ファイルの中身が壊れています（{type(err).__name__}）", file=file
        ) from None
    finally:
        wb.close()
    return names, names[idx], grid, merges


def _read_xls(path: Path, sheet: int | str, file: str):
    import xlrd

    try:
        try:
            book = xlrd.open_workbook(path, formatting_info=True, on_demand=True, logfile=_QUIET)
        except NotImplementedError:
            book = xlrd.open_workbook(path, on_demand=True, logfile=_QUIET)
    except (xlrd.XLRDError, OSError, EOFError, AssertionError, IndexError, ValueError) as err:
        raise IngestError(
            f"Excel（.xls）ファイルとして読めません。壊れているか途中で切れている可能性があります（{err}）",
            file=file,
        ) from None
    names = book.sheet_names()
    idx = _pick_sheet(names, sheet, file)
    sh = book.sheet_by_index(idx)
    grid = []
    for r in range(sh.nrows):
        row = []
        for c in range(sh.ncols):
            cell = sh.cell(r, c)
            if cell.ctype == xlrd.XL_CELL_DATE:
                try:
                    row.append(xlrd.xldate.xldate_as_datetime(cell.value, book.datemode))
                except (xlrd.xldate.XLDateError, ValueError):
                    row.append(cell.value)
            elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                row.append(None)
            elif cell.ctype == xlrd.XL_CELL_ERROR:
                row.append(None)
            else:
                row.append(cell.value)
        grid.append(row)
    merges = list(getattr(sh, "merged_cells", []) or [])
    book.release_resources()
    return names, names[idx], grid, merges


def _nonempty(row: list[str | None]) -> int:
    return sum(1 for c in row if c)


def _is_data_row(row: list[str | None]) -> bool:
    cells = [c for c in row if c]
    if not cells:
        return False
    numeric = sum(1 for c in cells if jp.parse_number_or_none(c) is not None)
    return numeric >= len(cells) / 2


def _flatten(parts: list[str | None]) -> tuple[str, str | None]:
    """Join a column's header cells top to bottom into one name; a trailing unit row becomes the unit."""
    from ebpm.ingest.wareki import parse_year

    texts = [jp.normalize_header(p) for p in parts if p and jp.normalize_header(p)]
    unit = None
    if len(texts) >= 2 and jp.is_unit_word(texts[-1]):
        unit = texts.pop().strip("()（）[]")
    merged: list[str] = []
    for t in texts:
        if merged and merged[-1] == t:
            continue
        merged.append(t)
    # 令和4年 / 2022年 on two rows: keep the 西暦 one
    out: list[str] = []
    for i, t in enumerate(merged):
        nxt = merged[i + 1] if i + 1 < len(merged) else None
        if nxt and not t[:1].isdigit() and nxt[:1].isdigit():
            try:
                if parse_year(t) == parse_year(nxt):
                    continue
            except IngestError:
                pass
        out.append(t)
    return "_".join(out), unit


def load_excel(
    path: str | Path,
    *,
    sheet: int | str = 0,
    header_rows: str | int | list[int] = "auto",
    skip_title_rows: str | int = "auto",
) -> RawExcel:
    """Read one sheet into raw text columns (see :func:`ebpm.ingest.read.read_excel`)."""
    p = Path(path)
    file = p.name
    if not p.exists():
        raise IngestError("ファイルがありません", file=str(path))
    head = p.read_bytes()[:8]
    if head.startswith(b"PK"):
        sheets, chosen, grid, merges = _read_xlsx(p, sheet, file)
    elif head.startswith(b"\xd0\xcf\x11\xe0"):
        sheets, chosen, grid, merges = _read_xls(p, sheet, file)
    else:
        raise IngestError(
            "Excel ファイルではありません（.xlsx の ZIP 形式でも .xls の形式でもありません）",
            file=file,
        )
    notes: list[str] = []
    for r0, r1, c0, c1 in merges:  # merged cells: every cell of the range shows the top-left value
        if r0 >= len(grid):
            continue
        value = grid[r0][c0] if c0 < len(grid[r0]) else None
        for r in range(r0, min(r1, len(grid))):
            row = grid[r]
            if len(row) < c1:
                row.extend([None] * (c1 - len(row)))
            for c in range(c0, c1):
                row[c] = value
    if merges:
        notes.append(f"結合セル（{len(merges)}か所）の値を結合範囲のすべてのセルに埋めました")
    text = [[_cell_text(v) for v in row] for row in grid]
    width = max((len(r) for r in text), default=0)
    text = [r + [None] * (width - len(r)) for r in text]
    if not any(_nonempty(r) for r in text):
        raise IngestError(f"シート「{chosen}」に値がありません", file=file)

    # title rows: leading rows with at most two filled cells (a title, a date, a department name)
    if skip_title_rows == "auto":
        # title rows: at most two filled cells, fewer than the widest row near the top
        typical = max(_nonempty(r) for r in text[:40])
        start = 0
        while start < len(text) and _nonempty(text[start]) <= min(2, typical - 1):
            start += 1
    elif isinstance(skip_title_rows, int) and skip_title_rows >= 0:
        start = skip_title_rows
    else:
        raise IngestError(
            f'skip_title_rows は "auto" か0以上の整数です（{skip_title_rows!r}）',
            parameter="skip_title_rows",
        )
    if isinstance(header_rows, list):
        rows = sorted(int(r) - 1 for r in header_rows)
        if not rows or rows[0] < 0 or rows[-1] >= len(text):
            raise IngestError(
                f"header_rows {header_rows} がシートの範囲外です",
                file=file,
                parameter="header_rows",
            )
        start, end = rows[0], rows[-1] + 1
        hdr = rows
    elif header_rows == "auto":
        end = start
        while end < len(text) and end - start < _MAX_HEADER_ROWS and not _is_data_row(text[end]):
            end += 1
        if end == start:
            raise IngestError(
                f"{start + 1}行目がすでに数値の行で、見出し行が見つかりません（header_rows を指定してください）",
                file=file,
                row=start + 1,
            )
        if end >= len(text) or not _is_data_row(text[end]):
            # no numeric row near the top (a list of facilities, names …): one header row
            end = start + 1
            notes.append(
                f"数値の行が見つからないため、{start + 1}行目だけを見出しとしました"
                "（header_rows で指定できます）"
            )
        hdr = list(range(start, end))
    elif isinstance(header_rows, int) and header_rows >= 1:
        end = start + header_rows
        hdr = list(range(start, end))
    else:
        raise IngestError(
            f'header_rows は "auto"・1以上の整数・行番号のリストのいずれかです（{header_rows!r}）',
            parameter="header_rows",
        )
    if start:
        notes.append(f"見出しの前のタイトル行（1〜{start}行目）を読み飛ばしました")
    if len(hdr) > 1:
        notes.append(
            f"複数行の見出し（{hdr[0] + 1}〜{hdr[-1] + 1}行目）を「_」でつないで1行にしました"
        )

    names: list[str | None] = []
    units: dict[str, str] = {}
    dropped_wareki = False
    for c in range(width):
        parts = [text[r][c] for r in hdr]
        name, unit = _flatten(parts)
        if len(parts) > 1 and any(
            p
            and not p[:1].isdigit()
            and "年" in p
            and jp.normalize_header(p) not in name.split("_")
            for p in parts
        ):
            dropped_wareki = True
        names.append(name or None)
        if unit and name:
            units[name] = unit
    if dropped_wareki:
        notes.append("同じ年を表す和暦と西暦の見出し行は、西暦だけを列名に残しました")
    if units:
        notes.append("見出しの単位の行を列名から外し、単位として記録しました")

    body = text[end:]
    tail = len(body)
    while tail > 0 and (
        _nonempty(body[tail - 1]) == 0
        or (
            _nonempty(body[tail - 1]) <= 1
            and _FOOTNOTE.match(next(c for c in body[tail - 1] if c) or "")
        )
    ):
        tail -= 1
    if tail < len(body) and any(_nonempty(r) for r in body[tail:]):
        notes.append(
            f"表の下の注記行（{sum(1 for r in body[tail:] if _nonempty(r))}行）を除きました"
        )
    body = body[:tail]
    columns = [pa.array([r[c] for r in body], pa.string()) for c in range(width)]
    title = " ".join(c for r in text[:start] for c in r if c)
    return RawExcel(
        names, columns, sheets, chosen, [r + 1 for r in hdr], end + 1, units, notes, title
    )

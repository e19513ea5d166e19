"""Turn raw text columns (from CSV or Excel) into typed, normalised Arrow columns with notes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc

from ebpm.errors import IngestError
from ebpm.ingest import jp
from ebpm.ingest.types import (
    Column,
    count,
    fast_numeric,
    infer,
    looks_like_dates,
    nfkc,
    to_date,
    to_number,
    translate,
    warn_mostly_numeric,
)

ColumnType = Literal["string", "integer", "number", "date"]
_TYPES = ("string", "integer", "number", "date")
_MAX_LISTED = 8


@dataclass
class Finished:
    """Result of :func:`finish`: the typed table and the account of what was done."""

    table: pa.Table
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    units: dict[str, str] = field(default_factory=dict)
    symbols: dict[str, dict[str, int]] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    kept: pa.Array | None = None  # input record index of each output row when rows were dropped


def _listing(items: list[str]) -> str:
    shown = "、".join(items[:_MAX_LISTED])
    return shown + (f" ほか{len(items) - _MAX_LISTED}件" if len(items) > _MAX_LISTED else "")


def _clean_headers(
    names: list[str | None], columns: list[pa.Array], file: str, header_row: int | None
) -> tuple[list[str], list[pa.Array], list[str], list[str], dict[str, str]]:
    notes: list[str] = []
    problems: list[str] = []
    units: dict[str, str] = {}
    changed: list[str] = []
    out_names: list[str] = []
    out_cols: list[pa.Array] = []
    dropped: list[str] = []
    for i, (raw, arr) in enumerate(zip(names, columns, strict=True)):
        raw_text = "" if raw is None else str(raw)
        bare, unit = jp.split_unit(raw_text.strip())  # the unit as written (℃ stays ℃)
        name = jp.normalize_header(bare)
        if unit:
            units[name] = unit
        if not name:
            if (
                arr.null_count == len(arr)
                or count(pc.not_equal(pc.utf8_trim_whitespace(arr), "")) == 0
            ):
                dropped.append(f"{i + 1}列目")
                continue
            name = f"column_{i + 1}"
            problems.append(f"{i + 1}列目に見出しがないため、列名を「{name}」としました")
        elif name != raw_text.strip():
            changed.append(
                f"「{raw_text.strip()}」→「{name}」".replace("\n", "⏎").replace("\r", "")
            )
        out_names.append(name)
        out_cols.append(arr)
    if changed:
        notes.append(f"見出しを正規化しました: {_listing(changed)}")
    if units:
        notes.append(
            "見出しの単位を記録しました: " + _listing([f"{k}（{v}）" for k, v in units.items()])
        )
    if dropped:
        notes.append(f"見出しも値もない列を除きました: {_listing(dropped)}")
    seen: dict[str, int] = {}
    for i, name in enumerate(out_names):
        if name in seen:
            raise IngestError(
                f"見出し「{name}」が2回あります（{seen[name] + 1}番目と{i + 1}番目の列）。"
                "列名を区別できるよう原データを確認するか、header_row を指定してください",
                file=file,
                row=header_row,
                column=name,
            )
        seen[name] = i
    return out_names, out_cols, notes, problems, units


def finish(
    names: list[str | None],
    columns: list[pa.Array],
    *,
    file: str,
    row_of: Callable[[int], int],
    header_row: int | None,
    columns_required: list[str] | None = None,
    dtype: dict[str, str] | None = None,
    symbols: bool | dict[str, str] = True,
    normalize: bool | str = True,
    units: dict[str, str] | None = None,
    area_codes: dict[str, str] | None = None,
    title: str = "",
) -> Finished:
    """Normalise headers, type every column, turn special symbols into NULL + ``<col>_note``.

    Parameters
    ----------
    names : list of str or None
        Raw header cells (``None`` or empty for a missing header).
    columns : list of pyarrow.Array
        Raw text of each column (``string``), one entry per data record.
    file : str
        File name used in messages.
    row_of : callable
        Maps a record index (0-based) to the row a person sees in the file (1-based).
    header_row : int or None
        Row of the header, for messages about headers.
    columns_required, dtype, symbols, normalize
        As in :func:`ebpm.ingest.read.read_csv`.
    title : str, optional
        Text of the title rows; a unit it states (``(人)``) applies to numeric columns without one.
    area_codes : dict, optional
        Column → ``"code5"`` or ``"code6"``: normalise 団体コード (lost zeros, full-width, check digit).
    units : dict, optional
        Units already known (from an Excel unit row), by raw header position name.
    """
    if normalize not in (True, False, "nfkc"):
        raise IngestError(
            f'normalize は True・False・"nfkc" のいずれかです（{normalize!r}）',
            parameter="normalize",
        )
    out_names, cols, notes, problems, header_units = _clean_headers(
        names, columns, file, header_row
    )
    all_units = {**(units or {}), **header_units}
    if columns_required:
        missing = [c for c in columns_required if c not in out_names]
        if missing:
            raise IngestError(
                f"必要な列がありません: {'、'.join(missing)}（ある列: {_listing(out_names)}）",
                file=file,
                row=header_row,
                column=missing[0],
            )
    cols, cut_note = _cut_repeated_header(out_names, cols, row_of)
    if cut_note:
        problems.append(cut_note)
    dtype = dict(dtype or {})
    for key, kind in dtype.items():
        if key not in out_names:
            raise IngestError(
                f"dtype に指定した列「{key}」がありません", file=file, parameter="dtype"
            )
        if kind not in _TYPES:
            raise IngestError(
                f"列「{key}」の型「{kind}」は使えません（{'・'.join(_TYPES)} のいずれか）",
                parameter="dtype",
            )
    symbol_reasons = dict(jp.SYMBOL_REASONS)
    if isinstance(symbols, dict):
        symbol_reasons.update(symbols)
    symbol_set = pa.array(list(symbol_reasons), pa.string())

    result_names: list[str] = []
    result_cols: list[pa.Array] = []
    types: dict[str, str] = {}
    found: dict[str, dict[str, int]] = {}
    stripped_total = 0
    fw_cols: list[str] = []
    date_cols: list[str] = []
    n_rows = len(cols[0]) if cols else 0
    empty_row = None
    for name, raw in zip(out_names, cols, strict=True):
        col = Column(name, raw, row_of, file)
        trimmed = pc.utf8_trim_whitespace(raw)
        stripped_total += count(
            pc.fill_null(pc.not_equal(pc.binary_length(trimmed), pc.binary_length(raw)), False)
        )
        arr = pc.if_else(
            pc.equal(pc.binary_length(trimmed), 0), pa.scalar(None, pa.string()), trimmed
        )
        col_empty = pc.is_null(arr)
        empty_row = col_empty if empty_row is None else pc.and_(empty_row, col_empty)
        nonnull = len(arr) - arr.null_count
        sym = (
            pc.fill_null(pc.is_in(arr, value_set=symbol_set), False)
            if symbols
            else pc.fill_null(pa.nulls(len(arr), pa.bool_()), False)
        )
        declared = dtype.get(name)
        kind, typed, work, has_fw = declared, None, arr, None
        if (
            nonnull
            and declared in (None, "integer", "number")
            and (declared or not jp.is_code_name(name))
        ):
            fast = fast_numeric(arr, sym, declared)
            if fast is not None:
                kind, typed = fast
        ascii_only = None
        if typed is None:
            ascii_only = pc.all(pc.string_is_ascii(arr)).as_py() is not False
            has_fw = 0
            if not ascii_only:
                has_fw = count(
                    pc.fill_null(pc.match_substring_regex(arr, jp.FULLWIDTH_NUMERIC_PATTERN), False)
                )
            work = nfkc(arr) if has_fw else arr
            is_num = None
            if not kind:
                kind, is_num = infer(col, work, sym, nonnull) if nonnull else ("string", None)
            if kind in ("integer", "number"):
                typed = to_number(col, work, sym, kind)
        note_arr = None
        if kind in ("integer", "number"):
            n_sym = count(sym)
            if n_sym:
                present = pc.value_counts(pc.filter(arr, sym)).to_pylist()
                found[name] = {d["values"]: d["counts"] for d in present}
                reasons = pa.array([symbol_reasons[d["values"]] for d in present], pa.string())
                keys = pa.array([d["values"] for d in present], pa.string())
                note_arr = pc.take(reasons, pc.index_in(arr, value_set=keys))
        elif kind == "date" or (
            not declared and not jp.is_code_name(name) and nonnull and looks_like_dates(work)
        ):
            typed, wareki = to_date(col, work, strict=kind == "date")
            if typed is None:
                kind, typed = "string", None
            else:
                kind = "date"
                date_cols.append(name + ("（和暦→西暦）" if wareki else ""))
        else:
            typed = None
        if typed is None:
            kind = "string"
            if jp.is_code_name(name) and has_fw:
                typed = work
                fw_cols.append(name)
            elif normalize == "nfkc":
                typed = nfkc(arr)
            elif normalize and not ascii_only:
                typed, n_fw = translate(arr, jp.FULLWIDTH_ALNUM_PATTERN, jp.to_halfwidth)
                if n_fw:
                    fw_cols.append(name)
            else:
                typed = arr
            if not declared:
                warn_mostly_numeric(col, work, sym, nonnull, problems, is_num)
        types[name] = kind
        result_names.append(name)
        result_cols.append(typed)
        if note_arr is not None:
            result_names.append(f"{name}_note")
            result_cols.append(note_arr)
            types[f"{name}_note"] = "string"
    all_empty = [
        n
        for n, c in zip(result_names, result_cols, strict=True)
        if len(c) and c.null_count == len(c)
    ]
    if all_empty:
        problems.append(f"値がすべて空の列があります: {_listing(all_empty)}")
    if stripped_total:
        notes.append(f"セル前後の空白・改行を取り除きました（{stripped_total:,}件）")
    if fw_cols:
        notes.append(f"全角の英数字を半角にしました: {_listing(fw_cols)}")
    if normalize == "nfkc":
        notes.append("すべての文字列セルに NFKC 正規化を適用しました（半角カナは全角になります）")
    if date_cols:
        notes.append(f"日付の列を日付型にしました: {_listing(date_cols)}")
    for name, counts in found.items():
        listed = "、".join(f"「{s}」{c:,}件" for s, c in counts.items())
        notes.append(
            f"列「{name}」の特殊記号 {listed} を NULL にし、理由を「{name}_note」に記録しました"
        )
    if area_codes:
        _normalise_codes(area_codes, result_names, result_cols, types, file, row_of, notes)
    _units_in_cells(result_names, result_cols, types, all_units, notes)
    title_unit = jp.unit_in_title(title)
    if title_unit:
        numeric = [
            n for n in result_names if types[n] in ("integer", "number") and n not in all_units
        ]
        for n in numeric:
            all_units[n] = title_unit
        if numeric:
            notes.append(f"タイトル行の単位「{title_unit}」を数値の列の単位として記録しました")
    table = (
        pa.table(dict(zip(result_names, result_cols, strict=True)))
        if result_names
        else pa.table({})
    )
    if empty_row is not None and n_rows:
        n_empty = count(empty_row)
        if n_empty:
            kept = pc.indices_nonzero(pc.invert(empty_row))
            table = table.filter(pc.invert(empty_row))
            notes.append(f"値が一つもない行を除きました（{n_empty:,}行）")
            return Finished(table, notes, problems, all_units, found, types, kept)
    return Finished(table, notes, problems, all_units, found, types)


def _cut_repeated_header(
    names: list[str], cols: list[pa.Array], row_of: Callable[[int], int]
) -> tuple[list[pa.Array], str | None]:
    """Stop at a second table stacked under the first (its header row repeats ours)."""
    if not cols or len(cols[0]) == 0:
        return cols, None
    named = [i for i, n in enumerate(names) if not n.startswith("column_")]
    if not named:
        return cols, None
    key = named[0]
    cell = pc.utf8_trim_whitespace(cols[key])
    same_length = pc.fill_null(pc.equal(pc.utf8_length(cell), len(names[key])), False)
    if count(same_length) == 0:
        return cols, None
    # NFKC only where the length fits (the header may have been written in full-width)
    cell = pc.if_else(same_length, cell, pa.scalar(None, pa.string()))
    hits = pc.fill_null(pc.equal(nfkc(cell), names[key]), False)
    if count(hits) == 0:
        return cols, None
    for idx in pc.indices_nonzero(hits).to_pylist():
        same = sum(1 for i in named if jp.normalize_header(cols[i][idx].as_py()) == names[i])
        if same < 0.8 * len(named):
            continue
        stop = idx
        if stop > 0:  # the title row of the second table, if any
            prev = [c[stop - 1].as_py() for c in cols]
            if sum(1 for v in prev if v and v.strip()) <= 1:
                stop -= 1
        note = (
            f"{row_of(idx)}行目で見出しが繰り返されています（下に別の表が続いています）。"
            f"最初の表だけを読みました。続きの表は header_row={row_of(idx)} で読めます"
        )
        return [c.slice(0, stop) for c in cols], note
    return cols, None


def _units_in_cells(
    names: list[str],
    cols: list[pa.Array],
    types: dict[str, str],
    units: dict[str, str],
    notes: list[str],
) -> None:
    """e-Stat downloads write the unit in a cell (表章項目 = ``人口【千人】``): apply it to numbers."""
    numeric = [n for n in names if types.get(n) in ("integer", "number") and n not in units]
    if not numeric:
        return
    for name, arr in zip(names, cols, strict=True):
        if types.get(name) != "string" or len(arr) == arr.null_count:
            continue
        has = pc.fill_null(pc.match_substring(arr, "【"), False)
        if count(has) != len(arr) - arr.null_count:
            continue
        found = pc.unique(
            pc.drop_null(pc.struct_field(pc.extract_regex(arr, r"【(?P<unit>[^】]+)】"), [0]))
        ).to_pylist()
        if len(found) != 1:
            continue
        unit = found[0]
        for n in numeric:
            units[n] = unit
        notes.append(
            f"列「{name}」のセルに書かれた単位「{unit}」を数値の列の単位として記録しました"
        )
        return


def _normalise_codes(
    area_codes: dict[str, str],
    names: list[str],
    cols: list[pa.Array],
    types: dict[str, str],
    file: str,
    row_of: Callable[[int], int],
    notes: list[str],
) -> None:
    """団体コード columns → 5 or 6 digits; a bad code stops the read with its row and column."""
    from ebpm.ingest import codes

    for name, form in area_codes.items():
        if form not in ("code5", "code6"):
            raise IngestError(
                f'codes の「{name}」は "code5" か "code6" で指定してください（{form!r}）',
                parameter="codes",
            )
        if name not in names:
            raise IngestError(
                f"codes に指定した列「{name}」がありません", file=file, parameter="codes"
            )
        i = names.index(name)
        arr = pc.cast(cols[i], pa.string())
        convert = codes.to_code5 if form == "code5" else codes.to_code6
        mapping: dict[str, str | None] = {}
        for value in pc.unique(pc.drop_null(arr)).to_pylist():
            if value in jp.SYMBOL_REASONS:  # the national total row of 総務省 tables has "-"
                mapping[value] = None
                continue
            try:
                mapping[value] = convert(value)
            except IngestError as err:
                at = int(pc.index(arr, value).as_py())
                raise IngestError(err.message, file=file, row=row_of(at), column=name) from None
        keys = pa.array(list(mapping), pa.string())
        values = pa.array(list(mapping.values()), pa.string())
        converted = pc.take(values, pc.index_in(arr, value_set=keys))
        changed = sum(1 for k, v in mapping.items() if v is not None and k != v)
        cols[i] = converted
        types[name] = "string"
        width = "5桁の団体コード" if form == "code5" else "6桁の全国地方公共団体コード"
        notes.append(
            f"列「{name}」を{width}にそろえました（書き換えた値 {changed:,}種類、検査数字を確認済み）"
        )

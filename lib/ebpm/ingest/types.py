"""Typing of one raw text column: direct casts, number patterns, dates, leading zeros, errors."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

from ebpm.errors import IngestError
from ebpm.ingest import jp

TYPE_JA = {"string": "文字列", "integer": "整数", "number": "数値", "date": "日付"}


def count(mask: pa.Array) -> int:
    """Number of true values in a boolean mask (nulls count as false)."""
    return int(pc.sum(mask).as_py() or 0)


def first(mask: pa.Array) -> int:
    return int(pc.index(mask, True).as_py())


def translate(arr: pa.Array, pattern: str, fn: Callable[[str], str]) -> tuple[pa.Array, int]:
    """Apply a Python function to the values that match ``pattern`` (usually few) only."""
    mask = pc.fill_null(pc.match_substring_regex(arr, pattern), False)
    n = count(mask)
    if n == 0:
        return arr, 0
    changed = [fn(v) for v in pc.filter(arr, mask).to_pylist()]
    return pc.replace_with_mask(arr, mask, pa.array(changed, pa.string())), n


def nfkc(arr: pa.Array) -> pa.Array:
    return pc.utf8_normalize(arr, form="NFKC")


class Column:
    """One column being finished; keeps the file context for error messages."""

    def __init__(self, name: str, arr: pa.Array, row_of: Callable[[int], int], file: str):
        self.name = name
        self.arr = arr
        self.row_of = row_of
        self.file = file

    def error(self, index: int, message: str) -> IngestError:
        return IngestError(message, file=self.file, row=self.row_of(index), column=self.name)


def _sample_says_text(work: pa.Array, sym: pa.Array | None) -> bool:
    """Cheap look at up to 64 values: any plain text means the column is text (no regex pass)."""
    values = pc.drop_null(
        work if sym is None else pc.if_else(sym, pa.scalar(None, pa.string()), work)
    )
    n = len(values)
    if n == 0:
        return False
    step = max(1, n // 64)
    sample = values.take(pa.array(range(0, n, step))).to_pylist()
    return any(jp.parse_number_or_none(v) is None for v in sample)


def infer(col: Column, work: pa.Array, sym: pa.Array, nonnull: int) -> tuple[str, pa.Array | None]:
    """Type of a column the fast cast could not settle; also the number mask when computed."""
    if jp.is_code_name(col.name):
        return "string", None
    if _sample_says_text(work, sym):
        return "string", None
    n_sym = count(sym)
    is_num = pc.fill_null(pc.match_substring_regex(work, jp.NUMBER_PATTERN), False)
    n_num = count(is_num)
    if n_num == 0:  # a numeric column where every cell is a symbol ("-" for a line not yet open)
        return ("integer" if n_sym and n_sym == nonnull else "string"), is_num
    if n_num + n_sym < nonnull:
        return "string", is_num
    lead0 = pc.and_(
        is_num, pc.fill_null(pc.match_substring_regex(work, jp.LEADING_ZERO_PATTERN), False)
    )
    if count(lead0):
        return "string", is_num  # zero-padded identifiers ("0001", "03201") keep their zeros
    is_int = pc.fill_null(pc.match_substring_regex(work, jp.INTEGER_PATTERN), False)
    return ("integer" if count(is_int) == n_num else "number"), is_num


def _leading_zero(values: pa.Array) -> bool:
    starts = pc.fill_null(pc.starts_with(values, "0"), False)
    if not count(starts):
        return False
    longer = pc.fill_null(pc.greater(pc.utf8_length(values), 1), False)
    second = pc.fill_null(pc.match_substring_regex(values, jp.LEADING_ZERO_PATTERN), False)
    return bool(count(pc.and_(pc.and_(starts, longer), second)))


def fast_numeric(arr: pa.Array, sym: pa.Array, declared: str | None) -> tuple[str, pa.Array] | None:
    """Plain numbers (no separators, no full-width) cast directly; ``None`` sends to the slow path."""
    cand = pc.if_else(sym, pa.scalar(None, pa.string()), arr) if count(sym) else arr
    if cand.null_count == len(cand) or _sample_says_text(cand, None):
        return None
    if declared != "number":
        try:
            typed = pc.cast(cand, pa.int64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            typed = None
        if typed is not None:
            if declared is None and _leading_zero(cand):
                return None
            return "integer", typed
    if declared == "integer":
        return None
    if count(pc.fill_null(pc.match_substring_regex(cand, "[A-Za-z]"), False)):
        return None  # "nan", "inf", "1e5" and friends go through the strict pattern
    try:
        typed = pc.cast(cand, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if declared is None and _leading_zero(cand):
        return None
    return "number", typed


def to_number(col: Column, work: pa.Array, sym: pa.Array, kind: str) -> pa.Array:
    valid = pc.and_(pc.invert(sym), pc.is_valid(work))
    is_num = pc.fill_null(pc.match_substring_regex(work, jp.NUMBER_PATTERN), False)
    bad = pc.and_(valid, pc.invert(is_num))
    if count(bad):
        i = first(bad)
        raise col.error(i, f"「{work[i].as_py()}」は{TYPE_JA[kind]}として読めません")
    cleaned = pc.replace_substring(work, ",", "")
    cleaned = pc.replace_substring_regex(cleaned, "^[△▲]", "-")
    cleaned = pc.if_else(valid, cleaned, pa.scalar(None, pa.string()))
    target = pa.int64() if kind == "integer" else pa.float64()
    if kind == "integer":
        frac = pc.and_(valid, pc.fill_null(pc.match_substring_regex(cleaned, r"[.eE]"), False))
        if count(frac):
            i = first(frac)
            raise col.error(i, f"「{work[i].as_py()}」は整数ではありません")
    try:
        return pc.cast(cleaned, target)
    except pa.ArrowInvalid as err:
        raise IngestError(
            f"数値に変換できません（{err}）", file=col.file, column=col.name
        ) from None


def to_date(col: Column, arr: pa.Array, strict: bool) -> tuple[pa.Array | None, bool]:
    from ebpm.ingest.wareki import parse_date

    uniq = pc.unique(pc.drop_null(arr)).to_pylist()
    mapping = {}
    wareki = False
    for v in uniq:
        try:
            mapping[v] = parse_date(v)
        except IngestError as err:
            if strict:
                i = first(pc.fill_null(pc.equal(arr, v), False))
                raise col.error(i, err.message) from None
            return None, False
        if not v[:4].isdigit():
            wareki = True
    keys = pa.array(list(mapping), pa.string())
    values = pa.array(list(mapping.values()), pa.date32())
    idx = pc.index_in(arr, value_set=keys)
    return pc.take(values, idx), wareki


def warn_mostly_numeric(
    col: Column,
    work: pa.Array,
    sym: pa.Array,
    nonnull: int,
    problems: list[str],
    is_num: pa.Array | None,
) -> None:
    """A column that is almost all numbers but has a stray text value is worth a problem line."""
    if nonnull < 5 or is_num is None:
        return
    n_num = count(is_num)
    if n_num < 0.9 * nonnull:
        return
    other = pc.and_(pc.and_(pc.invert(is_num), pc.invert(sym)), pc.is_valid(work))
    if count(other) == 0:
        return
    i = first(other)
    value = unicodedata.normalize("NFC", str(work[i].as_py()))
    problems.append(
        f"列「{col.name}」はほとんど数値ですが、{col.row_of(i)}行目の「{value}」が数値ではないため"
        "文字列として読みました（dtype で型を指定できます）"
    )


def looks_like_dates(work: pa.Array) -> bool:
    """Every value is a full date (the first value is checked in Python before the regex pass)."""
    first = pc.drop_null(work)
    if not len(first) or not re.match(jp.DATE_PATTERN, str(first[0].as_py())):
        return False
    hits = pc.fill_null(pc.match_substring_regex(work, jp.DATE_PATTERN), False)
    return count(hits) == len(work) - work.null_count

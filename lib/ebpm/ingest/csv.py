"""CSV side of ingest: decode (CP932, BOM, UTF-16), find the header, parse with Arrow, diagnose errors."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import pyarrow as pa

from ebpm.errors import IngestError
from ebpm.ingest import jp

_ENCODING_ALIASES = {
    "utf8": "utf-8",
    "utf-8": "utf-8",
    "utf-8-sig": "utf-8-sig",
    "utf_8_sig": "utf-8-sig",
    "cp932": "cp932",
    "ms932": "cp932",
    "windows-31j": "cp932",
    "shift_jis": "cp932",  # real-world Shift_JIS files use the Windows extensions (①, ㈱, №)
    "shift-jis": "cp932",
    "sjis": "cp932",
    "utf-16": "utf-16",
    "utf16": "utf-16",
    "euc-jp": "euc-jp",
    "euc_jp": "euc-jp",
}
_ENCODING_JA = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8（BOM付き）",
    "cp932": "CP932（Shift_JIS）",
    "utf-16": "UTF-16",
    "euc-jp": "EUC-JP",
}
_DELIMITERS = (",", "\t", ";", "|")
_SCAN_RECORDS = 30
_HEAD_BYTES = 4_000_000
_CHUNK = 1 << 23  # 8 MiB per decoding step
_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass
class RawCsv:
    """A CSV file parsed into raw text columns, before typing."""

    names: list[str | None]
    columns: list[pa.Array]
    encoding: str
    delimiter: str
    header_row: int | None
    row_of: Callable[[int], int]
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    title: str = ""  # text of the title rows above the header (may state the unit)


def encoding_label(encoding: str | None) -> str:
    """Japanese label of an encoding name (``"cp932"`` → ``"CP932（Shift_JIS）"``)."""
    return _ENCODING_JA.get(encoding or "", encoding or "—")


def _line_of(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


def _looks_binary(raw: bytes) -> str | None:
    head = raw[:4096]
    if head.startswith(b"PK\x03\x04"):
        return "ZIP 形式（Excel の .xlsx など）のファイルです。reader: excel を使ってください"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "旧形式の Excel（.xls）などのバイナリファイルです。reader: excel を使ってください"
    if head.startswith(b"%PDF"):
        return "PDF ファイルです。表を CSV か Excel で入手してください"
    if b"\x00" in head:
        return "テキストではない（バイナリの）ファイルです"
    return None


def _raise_if_cut(raw: bytes, err: UnicodeDecodeError, file: str) -> None:
    """A multi-byte character cut by the end of the file means the file was truncated."""
    if err.end >= len(raw) and ("unexpected end" in err.reason or "incomplete" in err.reason):
        raise IngestError(
            "ファイルの最後で文字が途中で切れています。ファイルが途中で切れている可能性があります",
            file=file,
            row=_line_of(raw, err.start),
        )


_HALFWIDTH_KANA = re.compile("[\uff61-\uff9f]")


def _prefer_euc_jp(raw: bytes) -> bool:
    """EUC-JP bytes often decode as CP932 too, as half-width kana mojibake; prefer the cleaner one."""
    head = raw[:200_000]
    kana = len(_HALFWIDTH_KANA.findall(head.decode("cp932", "ignore")))
    if not kana:
        return False
    try:
        euc = raw.decode("euc-jp")
    except UnicodeDecodeError:
        return False
    return len(_HALFWIDTH_KANA.findall(euc[:200_000])) < kana


def to_utf8(raw: bytes, enc: str) -> tuple[bytes, int]:
    """Strictly decode ``raw`` as ``enc``; return UTF-8 bytes and how many leading bytes to skip.

    UTF-8 input is only validated (in chunks) and returned as is, so a big file is never copied;
    other encodings are transcoded chunk by chunk. A failure re-decodes the whole file so that the
    :class:`UnicodeDecodeError` carries the exact position in ``raw``.
    """
    try:
        if enc in ("utf-8", "utf-8-sig"):
            skip = 3 if enc == "utf-8-sig" and raw.startswith(codecs.BOM_UTF8) else 0
            dec = codecs.getincrementaldecoder("utf-8")("strict")
            for off in range(skip, len(raw), _CHUNK):
                dec.decode(raw[off : off + _CHUNK], off + _CHUNK >= len(raw))
            return raw, skip
        dec = codecs.getincrementaldecoder(enc)("strict")
        parts = [
            dec.decode(raw[off : off + _CHUNK], off + _CHUNK >= len(raw)).encode("utf-8")
            for off in range(0, len(raw), _CHUNK)
        ]
        return b"".join(parts), 0
    except UnicodeDecodeError:
        raw.decode(enc)  # raises again, with the position in the whole file
        raise  # pragma: no cover - the line above always raises


def decode(raw: bytes, encoding: str, file: str) -> tuple[bytes, int, str]:
    """Decode bytes; return (UTF-8 bytes, bytes to skip at the start, encoding used).

    ``"auto"`` tries BOMs (UTF-8, UTF-16), then strict UTF-8, then strict CP932 (EUC-JP when CP932
    would only give half-width-kana mojibake, or when CP932 fails).
    """
    if not raw or raw.isspace():
        raise IngestError("ファイルが空です", file=file)
    if raw.startswith(codecs.BOM_UTF8):
        guess = "utf-8-sig"
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        guess = "utf-16"
    else:
        guess = None
    if guess != "utf-16":
        why = _looks_binary(raw)
        if why:
            raise IngestError(why, file=file)
    key = encoding.lower()
    if key != "auto":
        if key not in _ENCODING_ALIASES:
            raise IngestError(
                f"文字コード「{encoding}」は使えません（auto・utf-8・utf-8-sig・cp932・shift_jis・utf-16・euc-jp）",
                parameter="encoding",
            )
        enc = _ENCODING_ALIASES[key]
        if enc == "utf-8" and guess == "utf-8-sig":
            enc = "utf-8-sig"
        try:
            return (*to_utf8(raw, enc), enc)
        except UnicodeDecodeError as err:
            _raise_if_cut(raw, err, file)
            line = _line_of(raw, err.start) if enc != "utf-16" else None
            raise IngestError(
                f"{encoding_label(enc)} として読めないバイト（{raw[err.start : err.start + 2].hex(' ')}）"
                f'があります。文字コードが違う可能性があります（encoding="auto" で判定できます）',
                file=file,
                row=line,
            ) from None
    if guess:
        try:
            return (*to_utf8(raw, guess), guess)
        except UnicodeDecodeError as err:
            raise IngestError(
                f"{encoding_label(guess)} の BOM がありますが、その文字コードとして読めません",
                file=file,
                row=_line_of(raw, err.start) if guess != "utf-16" else None,
            ) from None
    try:
        return (*to_utf8(raw, "utf-8"), "utf-8")
    except UnicodeDecodeError as err_utf8:
        if not raw[: err_utf8.start].isascii():
            _raise_if_cut(raw, err_utf8, file)  # valid UTF-8 up to a character cut at the end
        utf8_line = _line_of(raw, err_utf8.start)
    try:
        if _prefer_euc_jp(raw):
            return (*to_utf8(raw, "euc-jp"), "euc-jp")
        return (*to_utf8(raw, "cp932"), "cp932")
    except UnicodeDecodeError as err_sjis:
        _raise_if_cut(raw, err_sjis, file)
        sjis_line = _line_of(raw, err_sjis.start)
    try:  # EUC-JP (older municipal systems) decodes strictly where UTF-8 and CP932 failed
        return (*to_utf8(raw, "euc-jp"), "euc-jp")
    except UnicodeDecodeError:
        pass
    raise IngestError(
        f"文字コードを判定できません（UTF-8 としては{utf8_line}行目、CP932（Shift_JIS）としては"
        f"{sjis_line}行目で読めないバイトがあります）。ファイルが壊れていないか確認してください",
        file=file,
        row=min(utf8_line, sjis_line),
    )


def sniff_delimiter(text: str) -> str:
    """The most frequent of ``, TAB ; |`` in the first lines (``,`` when none appears)."""
    head = text[:20000]
    counts = {d: head.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _records(text: str, delimiter: str) -> csv.reader:
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)


def scan_records(text: str, delimiter: str, limit: int | None = None):
    """Yield ``(first_line, fields)`` for each non-empty record (lines counted from 1)."""
    reader = _records(text, delimiter)
    last = 0
    for fields in islice(reader, limit) if limit else reader:
        start = last + 1
        last = reader.line_num
        if not fields:
            continue
        yield start, fields


def _is_header(fields: list[str], width: int) -> bool | None:
    """True = header, False = a data row, None = a title or blank row."""
    cells = [c.strip() for c in fields]
    nonempty = [c for c in cells if c]
    if len(fields) < max(1, width // 2) or not nonempty:
        return None
    if len(nonempty) < max(1, len(fields) / 2):
        return None
    numeric = sum(1 for c in nonempty if jp.parse_number_or_none(c) is not None)
    return numeric <= len(nonempty) / 2


def find_header(text: str, delimiter: str) -> tuple[int | None, int]:
    """Return (first line of the header record or ``None``, index of the first data record)."""
    recs = list(scan_records(text, delimiter, _SCAN_RECORDS))
    if not recs:
        return None, 0
    width = Counter(len(f) for _, f in recs[1:] or recs).most_common(1)[0][0]
    for i, (line, fields) in enumerate(recs[:20]):
        verdict = _is_header(fields, width)
        if verdict is None:
            continue
        return (line, i + 1) if verdict else (None, i)
    return None, 0


def _offset_after(text: str, n_records: int) -> int:
    """Character offset just after the first ``n_records`` records (quote parity per line)."""
    if n_records == 0:
        return 0
    pos = 0
    in_quote = False
    done = 0
    blank = True
    for m in _LINE_END.finditer(text):
        segment = text[pos : m.start()]
        if segment.count('"') % 2:
            in_quote = not in_quote
        if segment:
            blank = False
        pos = m.end()
        if not in_quote:
            if not blank:
                done += 1
            blank = True
            if done == n_records:
                return pos
    return len(text)


def _record_lines(text: str, delimiter: str, first_line: int) -> list[int]:
    return [first_line - 1 + start for start, _ in scan_records(text, delimiter)]


def _unterminated_quote(text: str, delimiter: str, base_line: int, file: str) -> IngestError:
    starts = _record_lines(text, delimiter, base_line)
    line = starts[-1] if starts else base_line
    return IngestError(
        '引用符（"）が閉じられないままファイルが終わっています。ファイルが途中で切れている可能性があります',
        file=file,
        row=line,
    )


def _diagnose(
    text: str, delimiter: str, base_line: int, names: list[str], file: str, err: Exception
) -> IngestError:
    width = len(names)
    recs = list(scan_records(text, delimiter))
    for k, (start, fields) in enumerate(recs):
        if len(fields) == width:
            continue
        line = base_line - 1 + start
        last = k == len(recs) - 1
        if len(fields) < width:
            column = names[len(fields)] if len(fields) < width else None
            cut = last and not text.endswith(("\n", "\r"))
            msg = f"列の数が見出し（{width}列）より少なく、{len(fields)}列しかありません" + (
                "。ファイルが途中で切れている可能性があります" if cut else ""
            )
            return IngestError(msg, file=file, row=line, column=column or None)
        return IngestError(
            f"列の数が見出し（{width}列）より多く、{len(fields)}列あります"
            "（区切り文字か引用符の誤りの可能性があります）",
            file=file,
            row=line,
        )
    return IngestError(f"CSV として読めません（{err}）", file=file)


def load_csv(
    path: str | Path,
    *,
    encoding: str = "auto",
    header_row: int | str | None = "auto",
    delimiter: str = "auto",
) -> RawCsv:
    """Decode and parse a CSV file into raw text columns (see :func:`ebpm.ingest.read.read_csv`)."""
    import pyarrow.csv as pacsv

    p = Path(path)
    file = p.name
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise IngestError("ファイルがありません", file=str(path)) from None
    except OSError as err:
        raise IngestError(f"ファイルを開けません（{err.strerror}）", file=str(path)) from None
    buf, skip, enc = decode(raw, encoding, file)
    del raw  # only the UTF-8 bytes are kept (the same object when the file was UTF-8)
    notes = [f"文字コード {encoding_label(enc)} として読みました"]
    # header scans and sniffing look at the start only; a character cut by the slice is dropped
    head = buf[skip : skip + _HEAD_BYTES].decode("utf-8", "ignore")
    if delimiter == "auto":
        delimiter = sniff_delimiter(head)
    elif not isinstance(delimiter, str) or len(delimiter) != 1:
        raise IngestError(
            f"区切り文字は1文字で指定してください（{delimiter!r}）", parameter="delimiter"
        )
    quotes = buf.count(b'"', skip)
    has_quotes = quotes > 0
    if quotes % 2:
        raise _unterminated_quote(buf[skip:].decode("utf-8"), delimiter, 1, file)
    problems: list[str] = []
    if not buf.endswith((b"\n", b"\r")):
        problems.append(
            "ファイルの最後に改行がありません（最後の行が途中で切れていないか確認してください）"
        )
    if b"\r\n" in buf and re.search(rb"(?<!\r)\n", buf):
        notes.append("改行コードが混在しています（CRLF と LF）。どちらも行の区切りとして読みました")

    if header_row == "auto":
        header_line, n_before = find_header(head, delimiter)
        if header_line is None and n_before == 0:
            notes.append("見出し行が見つからないため、列名を col1, col2 … としました")
    elif header_row is None:
        header_line, n_before = None, 0
    elif isinstance(header_row, int) and not isinstance(header_row, bool) and header_row >= 1:
        starts = [s for s, _ in scan_records(head, delimiter, header_row + _SCAN_RECORDS)]
        if header_row not in starts:
            raise IngestError(
                f"{header_row}行目から始まる行がありません（見出し行の指定を確認してください）",
                file=file,
                parameter="header_row",
            )
        header_line, n_before = header_row, starts.index(header_row) + 1
    else:
        raise IngestError(
            f'header_row は "auto"・1以上の整数・None のいずれかです（{header_row!r}）',
            parameter="header_row",
        )
    skipped_titles = n_before - (1 if header_line else 0)
    if skipped_titles > 0:
        notes.append(f"見出しの前のタイトル行など（{skipped_titles}行）を読み飛ばしました")
    title = ""
    if skipped_titles > 0:
        title = " ".join(
            c for _, f in scan_records(head, delimiter, skipped_titles) for c in f if c.strip()
        )
    offset = _offset_after(head, n_before)
    first = next(scan_records(head, delimiter, _SCAN_RECORDS), None)
    if header_line is not None:
        header_fields = next(
            f for s, f in scan_records(head, delimiter, n_before + 1) if s == header_line
        )
        names: list[str | None] = list(header_fields)
    else:
        width = len(first[1]) if first else 0
        names = [f"col{i + 1}" for i in range(width)]
    base_line = len(_LINE_END.findall(head, 0, offset)) + 1
    start = skip + len(head[:offset].encode("utf-8"))
    rest = len(buf) - start
    if rest <= 0 or (rest < _HEAD_BYTES and buf[start:].isspace()):
        empty = [pa.array([], pa.string()) for _ in names]
        return RawCsv(
            names, empty, enc, delimiter, header_line, lambda i: base_line + i, notes, problems
        )

    data = pa.BufferReader(pa.py_buffer(buf).slice(start))  # no copy of the file

    def body() -> str:  # only for error messages and row numbers
        return buf[start:].decode("utf-8")

    colnames = [f"f{i}" for i in range(len(names))]
    try:
        table = pacsv.read_csv(
            data,
            read_options=pacsv.ReadOptions(column_names=colnames, use_threads=True),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=has_quotes),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in colnames},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException) as err:
        raise _diagnose(body(), delimiter, base_line, [str(n) for n in names], file, err) from None
    columns = [table.column(i).combine_chunks() for i in range(table.num_columns)]

    lines_cache: list[int] = []

    def row_of(index: int) -> int:
        if not lines_cache:
            lines_cache.extend(_record_lines(body(), delimiter, base_line))
        return lines_cache[index] if index < len(lines_cache) else base_line + index

    return RawCsv(names, columns, enc, delimiter, header_line, row_of, notes, problems, title)

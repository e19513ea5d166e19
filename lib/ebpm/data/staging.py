"""Stage one raw source as a DuckDB relation for the build (UTF-8 CSVs straight into DuckDB, others via ingest)."""

from __future__ import annotations

import codecs
import contextlib
import csv
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ebpm.data.spec import Source
from ebpm.errors import BuildError, IngestError

#: ``options`` keys that only :func:`ebpm.ingest.read.read_csv` understands; any of them routes a CSV
#: through ingest (full normalisation) instead of DuckDB's reader.
INGEST_ONLY_KEYS = {"header_row", "columns", "dtype", "symbols", "normalize", "codes"}
#: ``options`` keys passed to DuckDB's ``read_csv`` on the fast path (name in the catalog → DuckDB).
DUCKDB_CSV_KEYS = {
    "delimiter": "delim",
    "quote": "quote",
    "escape": "escape",
    "header": "header",
    "skip": "skip",
    "all_varchar": "all_varchar",
    "null_padding": "null_padding",
}
_ENCODING_ALIASES = {
    "utf8": "utf-8",
    "utf-8": "utf-8",
    "utf-8-sig": "utf-8-sig",
    "cp932": "cp932",
    "shift_jis": "cp932",  # CP932 is the superset Windows and e-Stat actually write
    "sjis": "cp932",
    "ms932": "cp932",
    "utf-16": "utf-16",
    "euc-jp": "euc-jp",
}
_CHUNK = 1 << 24  # 16 MiB: memory stays flat whatever the file size
_PARALLEL_BYTES = 1 << 25  # decode files over 32 MiB in parallel pieces
_LINE_SAFE = {"cp932", "euc-jp"}  # encodings in which byte 0x0A is always a newline


@dataclass
class Staged:
    """A source as the build sees it: relation name, file, and how to count its rows."""

    name: str
    file: str  # path relative to data/raw (for messages)
    path: Path  # absolute path of the raw file
    reader: str
    row_offset: int = 1  # sheet/file row of the line before the first data row (header row)
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)
    registered: bool = False  # a Python object registered on the connection (not a view)
    text_from: str | None = None  # SQL FROM reading the same CSV with every column as text
    #: 0-based position in the relation -> file/sheet row (ingest: title rows, dropped blank rows)
    source_row: Any = field(default=None, repr=False)

    def row_of(self, position: int) -> int:
        """File (or sheet) row of the relation's 1-based ``position``."""
        if self.source_row is not None:
            with contextlib.suppress(Exception):
                row = self.source_row(position - 1)
                if row is not None:
                    return int(row)
        return position + self.row_offset


def quote_ident(name: str) -> str:
    """Quote a DuckDB identifier (names come from the catalog, never from user text)."""
    return '"' + name.replace('"', '""') + '"'


def first_row(cursor: Any) -> tuple | None:
    """First row of a result, fetching it completely (DuckDB 2 refuses new work on an unfinished result)."""
    rows = cursor.fetchall()
    return rows[0] if rows else None


def _literal(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(str(k))}: {_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def detect_encoding(path: Path, sample: int = 1 << 16) -> str:
    """BOM first (UTF-8, UTF-16), then strict UTF-8 on the first 64 KiB, else CP932."""
    with open(path, "rb") as fh:
        head = fh.read(sample)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(head, final=False)
    except UnicodeDecodeError:
        return "cp932"
    return "utf-8"


def _transcode_range(
    src: str, dst: str, encoding: str, start: int, end: int, header: bytes
) -> tuple[int, int | None, int]:
    """Decode bytes ``start:end`` of ``src`` into UTF-8 file ``dst`` (prefixed by ``header``).

    Returns (newlines in the range, 1-based line within the range of the first undecodable
    byte or None, number of double-quote bytes). Runs in a worker process.
    """
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    lines = 0
    quotes = 0
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        fo.write(header)
        fi.seek(start)
        remaining = end - start
        while True:
            chunk = fi.read(min(_CHUNK, remaining)) if remaining > 0 else b""
            remaining -= len(chunk)
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                return lines, lines + chunk[: max(exc.start, 0)].count(b"\n") + 1, quotes
            if start == 0 and lines == 0 and text.startswith("\ufeff"):
                text = text[1:]
            fo.write(text.encode("utf-8"))
            if not chunk:
                return lines, None, quotes
            lines += chunk.count(b"\n")
            quotes += chunk.count(b'"')


def _run_workers(jobs: list[tuple]) -> list[tuple[int, int | None, int]]:
    """Run :func:`_transcode_range` jobs in parallel Python processes (plain subprocesses: they
    work from scripts, notebooks and stdin alike, and never fork a process running DuckDB)."""
    import subprocess
    import sys

    code = (
        "import json, sys; from ebpm.data.staging import _transcode_range; "
        "a = json.loads(sys.argv[1]); a[5] = bytes.fromhex(a[5]); "
        "print(json.dumps(_transcode_range(*a)))"
    )
    procs = []
    for job in jobs:
        args = json.dumps([*job[:5], job[5].hex()])
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", code, args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
        )
    results = []
    for proc in procs:
        out, err = proc.communicate()
        if proc.returncode != 0:
            raise IngestError(
                f"文字コードの変換に失敗しました（{err.decode(errors='replace').strip()[-300:]}）。"
            )
        lines, bad, quotes = json.loads(out)
        results.append((lines, bad, quotes))
    return results


def _split_at_lines(path: Path, parts: int) -> list[int]:
    """Byte offsets that start a line, cutting the file into about ``parts`` pieces."""
    size = path.stat().st_size
    points = [0]
    with open(path, "rb") as fh:
        for k in range(1, parts):
            fh.seek(size * k // parts)
            fh.readline()
            pos = fh.tell()
            if points[-1] < pos < size:
                points.append(pos)
    return points + [size]


def transcode_to_utf8(
    src: Path, dst: Path, encoding: str, *, display: str, header: bool = False
) -> list[Path]:
    """Stream ``src`` (e.g. CP932) into UTF-8 in fixed-size chunks (memory stays flat).

    Large files with a header line are cut at line ends and decoded in parallel processes
    (a newline byte never occurs inside a CP932, Shift_JIS or EUC-JP character); each piece
    after the first repeats the header so that DuckDB can read the pieces as one table.

    Returns
    -------
    list of Path
        The UTF-8 file(s), in order.

    Raises
    ------
    IngestError
        Naming the file and line of the first byte that cannot be decoded.
    """
    workers = min(os.cpu_count() or 1, 4)
    size = src.stat().st_size
    parallel = header and workers > 1 and size > _PARALLEL_BYTES and encoding in _LINE_SAFE
    points = _split_at_lines(src, workers) if parallel else [0, size]
    first_line = b""
    if len(points) > 2:
        with open(src, "rb") as fh:
            first_line = fh.readline().decode(encoding).lstrip("\ufeff").encode("utf-8")
    jobs = [
        (str(src), str(dst) if k == 0 else f"{dst}.{k}", encoding, a, b, first_line if k else b"")
        for k, (a, b) in enumerate(zip(points, points[1:], strict=False))
    ]
    if len(jobs) == 1:
        results = [_transcode_range(*jobs[0])]
    else:
        results = _run_workers(jobs)
        # a cut inside a quoted cell (odd number of '"' before it) would split a record:
        # then decode the whole file in one piece instead (0x22 is never part of a CP932 character)
        seen = 0
        for _lines, _bad, quotes in results[:-1]:
            seen += quotes
            if seen % 2:
                for job in jobs[1:]:
                    Path(job[1]).unlink(missing_ok=True)
                jobs = [(str(src), str(dst), encoding, 0, size, b"")]
                results = [_transcode_range(*jobs[0])]
                break
    before = 0
    for lines, bad, _quotes in results:
        if bad is not None:
            raise IngestError(
                f"文字コード {encoding} として読めないバイトがあります。"
                "catalog の options.encoding を確かめてください。",
                file=display,
                row=before + bad,
            )
        before += lines
    return [Path(job[1]) for job in jobs]


def diagnose_csv(path: Path, encoding: str, *, display: str, skip: int = 0) -> BuildError:
    """Find the first record whose field count differs from the header (error path only)."""
    enc = "utf-8-sig" if encoding in ("utf-8", "utf-8-sig") else encoding
    reader = None
    try:
        with open(path, encoding=enc, newline="", errors="strict") as fh:
            for _ in range(skip):
                fh.readline()
            reader = csv.reader(fh, strict=True)
            header = next(reader, None)
            if header is None:
                return IngestError("ファイルが空です。", file=display)
            for record in reader:
                if record and len(record) != len(header):
                    return IngestError(
                        f"列の数がヘッダーと違います（{len(record)}列、ヘッダーは{len(header)}列）。"
                        "ファイルが途中で切れているか、区切り文字・引用符が崩れています。",
                        file=display,
                        row=reader.line_num + skip,
                    )
    except csv.Error as exc:
        return IngestError(
            f"CSV として読めません（{exc}）。引用符が閉じていない可能性があります。",
            file=display,
            row=(reader.line_num + skip) if reader is not None else None,
        )
    except UnicodeDecodeError:
        return IngestError(
            f"文字コード {encoding} として読めません。options.encoding を指定してください。",
            file=display,
        )
    return IngestError(
        "CSV の形式を判定できません（区切り文字・引用符・列数を確かめてください）。", file=display
    )


def read_geojson(path: Path, *, display: str) -> Any:
    """GeoJSON FeatureCollection → frame: properties, ``lon``/``lat`` of points, ``geometry`` as JSON text."""
    import pandas as pd

    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        row = getattr(exc, "lineno", None)
        raise IngestError(f"GeoJSON として読めません（{exc}）。", file=display, row=row) from exc
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list):
        raise IngestError("GeoJSON の FeatureCollection（features）がありません。", file=display)
    rows = []
    for feature in features:
        # every property as text (producers mix "1", 1 and ""); the catalog schema types them
        props = {
            k: (
                None
                if v is None
                else v
                if isinstance(v, str)
                else json.dumps(v, ensure_ascii=False)
            )
            for k, v in (feature.get("properties") or {}).items()
        }
        geom = feature.get("geometry") or {}
        coords = geom.get("coordinates")
        point = geom.get("type") == "Point" and isinstance(coords, list) and len(coords) >= 2
        props["lon"] = float(coords[0]) if point else None
        props["lat"] = float(coords[1]) if point else None
        props["geometry_type"] = geom.get("type")
        props["geometry"] = json.dumps(geom, ensure_ascii=False) if geom else None
        rows.append(props)
    frame = pd.DataFrame(rows, dtype=object)
    for col in frame.columns:
        frame[col] = frame[col].astype("Float64" if col in ("lon", "lat") else "string")
    return frame


def _register(con: Any, staged: Staged, frame: Any) -> Staged:
    import pyarrow as pa

    table = pa.Table.from_pandas(frame, preserve_index=False)
    con.register(staged.name, table)
    staged.registered = True
    return staged


def _view(con: Any, staged: Staged, sql_from: str) -> Staged:
    import duckdb

    try:
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {quote_ident(staged.name)} AS SELECT * FROM {sql_from}"
        )
    except duckdb.Error as exc:  # DuckDB sniffs the file when the view is bound
        err = duckdb_read_error(exc, [staged])
        if err is None:
            raise BuildError(
                f"原データを読めません。\n  詳細: {str(exc).splitlines()[0]}", file=staged.file
            ) from exc
        raise err from exc
    return staged


def stage(
    con: Any,
    source: Source,
    raw_dir: Path,
    workdir: Path,
    *,
    types: dict[str, str] | None = None,
    nullstr: list[str] | None = None,
) -> Staged:
    """Make ``source.name`` queryable on ``con``; return how it was read.

    UTF-8 CSVs become a view over DuckDB's ``read_csv`` (all columns text, so codes keep their
    leading zeros; the build casts to the schema types). CP932/UTF-16 CSVs are streamed into a
    UTF-8 copy in ``workdir`` first. Files that need normalisation (``ingest: true`` or ingest
    options), Excel, GeoJSON and e-Stat JSON are read in Python and registered as Arrow tables.
    """
    path = raw_dir / source.path
    staged = Staged(name=source.name, file=source.path, path=path, reader=source.reader)
    options = dict(source.options)
    if source.reader == "csv":
        use_ingest = bool(options.pop("ingest", False)) or bool(INGEST_ONLY_KEYS & set(options))
        if use_ingest:
            from ebpm.ingest.read import read_csv

            ing = read_csv(path, **options)
            staged.row_offset = ing.header_row or 0
            staged.encoding = ing.encoding
            staged.notes = list(ing.notes)
            staged.source_row = ing.source_row
            return _register(con, staged, ing.frame)
        requested = str(options.pop("encoding", "auto")).lower()
        if requested == "auto":
            encoding = detect_encoding(path)
        elif requested in _ENCODING_ALIASES:
            encoding = _ENCODING_ALIASES[requested]
        else:
            raise BuildError(
                f"options.encoding「{requested}」は使えません。使える値: auto, {', '.join(sorted(_ENCODING_ALIASES))}",
                file=source.path,
                parameter="encoding",
            )
        staged.encoding = encoding
        targets = [path]
        if encoding not in ("utf-8", "utf-8-sig"):
            targets = transcode_to_utf8(
                path,
                workdir / f"{source.name}.utf8.csv",
                encoding,
                display=source.path,
                header=bool(options.get("header", True)) and not options.get("skip"),
            )
            staged.notes.append(f"{encoding} を UTF-8 に変換して読み込みました。")
        unknown = set(options) - set(DUCKDB_CSV_KEYS)
        if unknown:
            raise BuildError(
                f"csv の options に未知のキー {sorted(unknown)} があります。",
                file=source.path,
                parameter="options",
            )
        params = {"header": True, "all_varchar": True, "delim": ",", "quote": '"', "escape": '"'}
        params.update({DUCKDB_CSV_KEYS[k]: v for k, v in options.items()})
        params["strict_mode"] = True
        files = "[" + ", ".join(_literal(str(t)) for t in targets) + "]"
        staged.text_from = (
            f"read_csv({files}, {', '.join(f'{k}={_literal(v)}' for k, v in params.items())})"
        )
        if types:  # fast path: DuckDB parses the declared types and missing values while reading
            params["types"] = types
            params["nullstr"] = list(nullstr or [""])
        staged.row_offset = int(params.get("skip", 0)) + (1 if params.get("header") else 0)
        args = ", ".join(f"{k}={_literal(v)}" for k, v in params.items())
        return _view(con, staged, f"read_csv({files}, {args})")
    if source.reader == "parquet":
        staged.row_offset = 0
        return _view(con, staged, f"read_parquet({_literal(str(path))})")
    if source.reader == "excel":
        from ebpm.ingest.read import read_excel

        ing = read_excel(path, **options)
        staged.row_offset = (ing.header_rows[-1] if ing.header_rows else ing.header_row) or 0
        staged.notes = list(ing.notes)
        staged.source_row = ing.source_row
        return _register(con, staged, ing.frame)
    if source.reader == "geojson":
        staged.row_offset = 0
        return _register(con, staged, read_geojson(path, display=source.path))
    if source.reader == "estat_json":
        try:
            from ebpm.estat.client import parse_stats_data
        except ImportError as exc:  # the e-Stat module is another part of the package
            raise BuildError(
                "e-Stat の応答を読む ebpm.estat.client.parse_stats_data がありません。",
                file=source.path,
            ) from exc
        staged.row_offset = 0
        return _register(con, staged, parse_stats_data(path, **options))
    raise BuildError(
        f"reader「{source.reader}」は使えません。", file=source.path
    )  # pragma: no cover


def unstage(con: Any, staged: Staged) -> None:
    """Drop the relation made by :func:`stage`."""
    if staged.registered:
        con.unregister(staged.name)
    else:
        con.execute(f"DROP VIEW IF EXISTS {quote_ident(staged.name)}")


_LINE_RE = re.compile(r"Line:\s*(\d+)")


def duckdb_read_error(exc: Exception, staged: list[Staged]) -> BuildError | None:
    """Turn a DuckDB reader error into a Japanese :class:`IngestError` naming the file and row."""
    text = str(exc)
    if "CSV" not in text and "sniff" not in text and "Invalid unicode" not in text:
        return None
    culprit = next((s for s in staged if str(s.path) in text), None)
    if culprit is None:
        culprit = next((s for s in staged if s.reader == "csv" and not s.registered), None)
    if culprit is None:
        return None
    if "Invalid unicode" in text:
        match = _LINE_RE.search(text)
        return IngestError(
            "UTF-8 として読めないバイトがあります。catalog の options.encoding（cp932 など）を指定してください。",
            file=culprit.file,
            row=int(match.group(1)) if match else None,
        )
    return diagnose_csv(culprit.path, culprit.encoding or "utf-8", display=culprit.file)

"""Parse e-Stat API 3.0 JSON responses (getStatsData, getStatsList, getMetaInfo) into tidy frames."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ebpm.config import ESTAT_CREDIT
from ebpm.errors import EstatError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ebpm.ingest.read import Ingested

ENDPOINTS: dict[str, str] = {
    "getStatsList": "GET_STATS_LIST",
    "getMetaInfo": "GET_META_INFO",
    "getStatsData": "GET_STATS_DATA",
}
LICENCE = "政府標準利用規約（第2.0版）／PDL1.0（CC BY 4.0 互換）"
LICENCE_URL = "https://www.e-stat.go.jp/terms-of-use"

# Meanings used when a response has no NOTE list (e-Stat 統計表の記号の凡例).
DEFAULT_NOTES: dict[str, str] = {
    "-": "該当数値がないもの",
    "…": "数値が得られないもの",
    "...": "数値が得られないもの",
    "x": "数値が秘匿されているもの",
    "X": "数値が秘匿されているもの",
    "***": "調査又は集計していないもの",
}

_PAGE_RE = re.compile(r"^getStatsData_p(\d+)\.json$")


def _as_list(value: Any) -> list[Any]:
    """e-Stat sends one item as a dict and several as a list; always return a list."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def _text(value: Any) -> str | None:
    """The text of a ``{"@code": …, "$": text}`` node, or the value itself when it is plain."""
    if isinstance(value, dict):
        value = value.get("$")
    if value is None:
        return None
    return str(value)


def _code(value: Any) -> str | None:
    if isinstance(value, dict):
        code = value.get("@code", value.get("@no"))
        return None if code is None else str(code)
    return None


def page_sort_key(path: Path) -> tuple[str, int]:
    """Sort key that puts ``getStatsData_p2.json`` before ``getStatsData_p10.json``."""
    match = _PAGE_RE.match(path.name)
    return ("getStatsData", int(match.group(1))) if match else (path.name, 0)


# --------------------------------------------------------------------------- parsing


def _load(response_or_path: Any) -> dict[str, Any]:
    if isinstance(response_or_path, Mapping):
        return dict(response_or_path)
    path = Path(response_or_path)
    if path.is_dir():
        return _load_pages(path)
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise EstatError("ファイルが見つかりません。", file=str(path)) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise EstatError(
            f"e-Stat API の JSON 応答として読めません（壊れているか途中で切れているか、JSON 以外の"
            f"ファイルです: {err}）。",
            file=str(path),
        ) from None


def _load_pages(folder: Path) -> dict[str, Any]:
    pages = sorted(
        (p for p in folder.glob("getStatsData_p*.json") if _PAGE_RE.match(p.name)),
        key=page_sort_key,
    )
    if not pages:
        raise EstatError("getStatsData_p<N>.json が見つかりません。", file=str(folder))
    merged = _load(pages[0])
    values: list[Any] = []
    for page in pages:
        data = _load(page)
        stat = (data.get("GET_STATS_DATA") or {}).get("STATISTICAL_DATA") or {}
        values.extend(_as_list((stat.get("DATA_INF") or {}).get("VALUE")))
    stat = (merged.get("GET_STATS_DATA") or {}).get("STATISTICAL_DATA")
    if stat is not None and stat.get("DATA_INF") is not None:
        stat["DATA_INF"]["VALUE"] = values
    return merged


def _root(data: dict[str, Any], expected: str, where: str) -> dict[str, Any]:
    root = data.get(expected) if isinstance(data, dict) else None
    if not isinstance(root, dict):
        found = ", ".join(map(str, data)) if isinstance(data, dict) else type(data).__name__
        raise EstatError(
            f"{expected} の応答ではありません（最上位のキー: {found}）。", file=where or None
        )
    return root


def _table_inf(data: dict[str, Any]) -> dict[str, Any]:
    for root_key in ENDPOINTS.values():
        root = data.get(root_key)
        if isinstance(root, dict):
            for box in ("STATISTICAL_DATA", "METADATA_INF"):
                if isinstance(root.get(box), dict):
                    table = root[box].get("TABLE_INF")
                    return table if isinstance(table, dict) else {}
    return {}


def _table_attrs(table: dict[str, Any]) -> dict[str, Any]:
    return {
        "stats_data_id": table.get("@id"),
        "stat_name": _text(table.get("STAT_NAME")),
        "gov_org": _text(table.get("GOV_ORG")),
        "statistics_name": _text(table.get("STATISTICS_NAME")),
        "title": _text(table.get("TITLE")),
        "survey_date": _text(table.get("SURVEY_DATE")),
        "open_date": _text(table.get("OPEN_DATE")),
        "updated_date": _text(table.get("UPDATED_DATE")),
        "collect_area": _text(table.get("COLLECT_AREA")),
        "source": "政府統計の総合窓口（e-Stat）",
        "licence": LICENCE,
        "credit": ESTAT_CREDIT,
    }


def _level(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _classes(class_inf: Any) -> list[dict[str, Any]]:
    objs = _as_list((class_inf or {}).get("CLASS_OBJ")) if isinstance(class_inf, dict) else []
    out = []
    for obj in objs:
        classes = {}
        for item in _as_list(obj.get("CLASS")):
            code = str(item.get("@code"))
            classes[code] = {
                "name": item.get("@name"),
                "level": _level(item.get("@level")),
                "parent": item.get("@parentCode"),
                "unit": item.get("@unit"),
            }
        out.append({"id": str(obj.get("@id")), "name": obj.get("@name"), "classes": classes})
    return out


_INT_PATTERN = r"[+-]?\d+"
_NUM_PATTERN = r"[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?"


def _number(text: str) -> int | float | None:
    """One value as e-Stat writes it (``"1,234"``, ``"12.5"``) → number; a symbol → None."""
    cleaned = text.strip().replace(",", "")
    if re.fullmatch(_INT_PATTERN, cleaned):
        return int(cleaned)
    if re.fullmatch(_NUM_PATTERN, cleaned):
        return float(cleaned)
    return None


def _map(keys: pd.Series, mapping: dict[str, Any], dtype: str) -> pd.Series:
    """Look each key up in ``mapping`` (missing or NA → NA) and cast to ``dtype``."""
    out = keys.astype(object).map(lambda k: mapping.get(k) if isinstance(k, str) else None)
    return out if dtype == "object" else out.astype(dtype)


def parse_stats_data(response_or_path: Any) -> pd.DataFrame:
    """Turn a getStatsData response into a tidy frame (one row per VALUE).

    Parameters
    ----------
    response_or_path : dict, str or Path
        The response JSON (as returned by :func:`get_stats_data`), a saved response file, or a cache
        folder holding ``getStatsData_p<N>.json`` pages.

    Returns
    -------
    pandas.DataFrame
        Columns ``<id>_code``, ``<id>_name``, ``<id>_level``, ``<id>_parent`` for each CLASS_OBJ id in
        the response's order, then ``unit``, ``value`` (``Int64`` or ``Float64``), ``note`` (e-Stat
        symbol when the value is NULL) and ``note_text`` (its meaning); ``annotation`` when the
        response has VALUE annotations. ``attrs`` holds the table title, the NOTE list
        (``notes``), class names, ``normalised`` (Japanese sentences) and the credit line.
    """
    import pandas as pd

    where = "" if isinstance(response_or_path, Mapping) else str(response_or_path)
    data = _load(response_or_path)
    root = _root(data, "GET_STATS_DATA", where)
    stat = root.get("STATISTICAL_DATA") or {}
    table = stat.get("TABLE_INF") or {}
    class_objs = _classes(stat.get("CLASS_INF"))
    data_inf = stat.get("DATA_INF") or {}
    notes = dict(DEFAULT_NOTES)
    response_notes = {}
    for note in _as_list(data_inf.get("NOTE")):
        if isinstance(note, dict) and note.get("@char") is not None:
            response_notes[str(note["@char"])] = _text(note) or ""
    notes.update(response_notes)
    values = _as_list(data_inf.get("VALUE"))

    class_ids = [c["id"] for c in class_objs]
    records = [v if isinstance(v, dict) else {"$": v} for v in values]
    raw = pd.DataFrame.from_records(records) if records else pd.DataFrame()
    n = len(raw)
    extra_ids = [
        c[1:]
        for c in raw.columns
        if str(c).startswith("@") and c[1:] not in class_ids and c not in ("@unit", "@annotation")
    ]

    def column(name: str) -> pd.Series:
        if name in raw.columns:
            return raw[name].astype(object)
        return pd.Series([None] * n, dtype=object)

    frame = pd.DataFrame(index=pd.RangeIndex(n))
    unit = column("@unit")
    lookup = {c["id"]: c["classes"] for c in class_objs}
    for cid in class_ids + extra_ids:
        classes = lookup.get(cid, {})
        codes = column(f"@{cid}").map(lambda v: None if v is None else str(v)).astype("string")
        frame[f"{cid}_code"] = codes
        frame[f"{cid}_name"] = _map(codes, {k: v["name"] for k, v in classes.items()}, "string")
        frame[f"{cid}_level"] = _map(codes, {k: v["level"] for k, v in classes.items()}, "Int64")
        frame[f"{cid}_parent"] = _map(codes, {k: v["parent"] for k, v in classes.items()}, "string")
        class_units = {k: v["unit"] for k, v in classes.items() if v["unit"]}
        if class_units:  # VALUE without @unit takes the unit of its class item
            unit = unit.where(unit.notna(), _map(codes, class_units, "object"))
    frame["unit"] = unit.astype("string")

    text = column("$").map(lambda v: None if v is None else str(v)).astype("string").str.strip()
    cleaned = text.str.replace(",", "", regex=False)
    is_int = cleaned.str.fullmatch(_INT_PATTERN).fillna(False).astype(bool)
    is_num = cleaned.str.fullmatch(_NUM_PATTERN).fillna(False).astype(bool)
    if bool((is_int == is_num).all()):
        frame["value"] = cleaned.where(is_int).astype("Int64")
    else:
        frame["value"] = cleaned.where(is_num).astype("Float64")
    symbols = text.where(~is_num).fillna("")
    frame["note"] = symbols.where(~is_num & (symbols != "")).astype("string")
    meanings = {**notes, "": "数値が得られないもの"}
    frame["note_text"] = _map(symbols.where(~is_num), meanings, "string")
    symbol_counts = {str(k): int(v) for k, v in symbols[~is_num].value_counts().items()}
    if "@annotation" in raw.columns and raw["@annotation"].notna().any():
        frame["annotation"] = column("@annotation").astype("string")

    normalised = []
    for symbol, count in sorted(symbol_counts.items()):
        shown = symbol or "（空欄）"
        normalised.append(
            f"記号「{shown}」の {count} 件を欠損値にし、理由を note 列に残しました"
            f"（{notes.get(symbol, '意味不明の記号')}）。"
        )
    if extra_ids:
        normalised.append(
            "CLASS_INF に定義のない分類 " + "・".join(extra_ids) + " はコードのみです。"
        )
    result = stat.get("RESULT_INF") or {}
    frame.attrs.update(_table_attrs(table))
    frame.attrs.update(
        {
            "endpoint": "getStatsData",
            "notes": response_notes,
            "classes": {c["id"]: c["name"] for c in class_objs},
            "total_number": result.get("TOTAL_NUMBER"),
            "next_key": result.get("NEXT_KEY"),
            "normalised": normalised,
            "symbols": {k: v for k, v in symbol_counts.items()},
        }
    )
    return frame


def parse_stats_list(response_or_path: Any) -> pd.DataFrame:
    """Turn a getStatsList response into a frame with one row per table (TABLE_INF).

    Returns
    -------
    pandas.DataFrame
        ``stats_data_id``, ``stat_code``, ``stat_name``, ``gov_org_code``, ``gov_org``,
        ``statistics_name``, ``title_no``, ``title``, ``cycle``, ``survey_date``, ``open_date``,
        ``small_area``, ``collect_area``, ``main_category``, ``sub_category``,
        ``overall_total_number``, ``updated_date``; ``attrs`` holds ``number`` (hits),
        ``next_key`` and the credit line.
    """
    import pandas as pd

    where = "" if isinstance(response_or_path, Mapping) else str(response_or_path)
    root = _root(_load(response_or_path), "GET_STATS_LIST", where)
    box = root.get("DATALIST_INF") or {}
    rows = []
    for t in _as_list(box.get("TABLE_INF")):
        rows.append(
            {
                "stats_data_id": t.get("@id"),
                "stat_code": _code(t.get("STAT_NAME")),
                "stat_name": _text(t.get("STAT_NAME")),
                "gov_org_code": _code(t.get("GOV_ORG")),
                "gov_org": _text(t.get("GOV_ORG")),
                "statistics_name": _text(t.get("STATISTICS_NAME")),
                "title_no": _code(t.get("TITLE")),
                "title": _text(t.get("TITLE")),
                "cycle": _text(t.get("CYCLE")),
                "survey_date": _text(t.get("SURVEY_DATE")),
                "open_date": _text(t.get("OPEN_DATE")),
                "small_area": _text(t.get("SMALL_AREA")),
                "collect_area": _text(t.get("COLLECT_AREA")),
                "main_category": _text(t.get("MAIN_CATEGORY")),
                "sub_category": _text(t.get("SUB_CATEGORY")),
                "overall_total_number": _level(t.get("OVERALL_TOTAL_NUMBER")),
                "updated_date": _text(t.get("UPDATED_DATE")),
            }
        )
    columns = [
        "stats_data_id", "stat_code", "stat_name", "gov_org_code", "gov_org", "statistics_name",
        "title_no", "title", "cycle", "survey_date", "open_date", "small_area", "collect_area",
        "main_category", "sub_category", "overall_total_number", "updated_date",
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=columns)
    for col in columns:
        frame[col] = frame[col].astype("Int64" if col == "overall_total_number" else "string")
    info = box.get("RESULT_INF") or {}
    frame.attrs.update(
        {
            "endpoint": "getStatsList",
            "number": _level(box.get("NUMBER")),
            "next_key": info.get("NEXT_KEY"),
            "search_word": (root.get("PARAMETER") or {}).get("SEARCH_WORD"),
            "source": "政府統計の総合窓口（e-Stat）",
            "credit": ESTAT_CREDIT,
        }
    )
    return frame


def parse_meta_info(response_or_path: Any) -> pd.DataFrame:
    """Turn a getMetaInfo response into a frame with one row per class item (CLASS).

    Returns
    -------
    pandas.DataFrame
        ``class_id``, ``class_name``, ``code``, ``name``, ``level``, ``parent_code``, ``unit``;
        ``attrs`` holds the table title and the credit line.
    """
    import pandas as pd

    where = "" if isinstance(response_or_path, Mapping) else str(response_or_path)
    root = _root(_load(response_or_path), "GET_META_INFO", where)
    box = root.get("METADATA_INF") or {}
    rows = []
    for obj in _classes(box.get("CLASS_INF")):
        for code, info in obj["classes"].items():
            rows.append(
                {
                    "class_id": obj["id"],
                    "class_name": obj["name"],
                    "code": code,
                    "name": info["name"],
                    "level": info["level"],
                    "parent_code": info["parent"],
                    "unit": info["unit"],
                }
            )
    columns = ["class_id", "class_name", "code", "name", "level", "parent_code", "unit"]
    frame = pd.DataFrame(rows, columns=columns)
    for col in columns:
        frame[col] = frame[col].astype("Int64" if col == "level" else "string")
    frame.attrs.update(_table_attrs(box.get("TABLE_INF") or {}))
    frame.attrs["endpoint"] = "getMetaInfo"
    return frame


def parse_response(response_or_path: Any) -> pd.DataFrame:
    """Parse any of the three responses, choosing the parser from its top-level key."""
    where = "" if isinstance(response_or_path, Mapping) else str(response_or_path)
    data = _load(response_or_path)
    for root_key, parser in (
        ("GET_STATS_DATA", parse_stats_data),
        ("GET_STATS_LIST", parse_stats_list),
        ("GET_META_INFO", parse_meta_info),
    ):
        if isinstance(data, dict) and root_key in data:
            return parser(data)
    found = ", ".join(map(str, data)) if isinstance(data, dict) else type(data).__name__
    raise EstatError(
        "e-Stat API の応答（GET_STATS_DATA / GET_STATS_LIST / GET_META_INFO）ではありません"
        f"（最上位のキー: {found}）。",
        file=where or None,
    )


def read_estat_json(path: str | Path, **options: Any) -> Ingested:
    """Catalog reader ``reader: estat_json``: parse a cached getStatsData response.

    Parameters
    ----------
    path : str or Path
        A saved getStatsData JSON file, or a cache folder ``<raw>/estat/<statsDataId>`` (all its
        ``getStatsData_p<N>.json`` pages are read in page order).
    **options
        None are accepted yet; an unknown option raises :class:`EstatError` naming it.

    Returns
    -------
    ebpm.ingest.read.Ingested
        ``frame`` is :func:`parse_stats_data`'s frame (its ``attrs`` keep the title and credit),
        ``notes`` the Japanese normalisation sentences, ``units`` ``{"value": unit}`` when the unit
        is the same on every row, ``symbols`` ``{"value": {symbol: count}}``.
    """
    from ebpm.ingest.read import Ingested

    if options:
        name = sorted(options)[0]
        raise EstatError(
            f"estat_json 読み込みにオプション「{name}」は指定できません。",
            file=str(path),
            parameter=name,
        )
    frame = parse_stats_data(path)
    units = frame["unit"].dropna().unique().tolist()
    types = {c: ("integer" if str(t) == "Int64" else "number" if str(t) == "Float64" else "string")
             for c, t in frame.dtypes.items()}  # fmt: skip
    info = {
        "notes": list(frame.attrs.get("normalised", [])),
        "encoding": "utf-8",
        "units": {"value": units[0]} if len(units) == 1 else {},
        "symbols": {"value": dict(frame.attrs["symbols"])} if frame.attrs.get("symbols") else {},
        "types": types,
        "path": str(path),
    }
    fields = {f.name for f in dataclasses.fields(Ingested)}
    if "table" in fields:  # Ingested holds a pyarrow table; the frame (with attrs) is kept as well
        return Ingested(table=_arrow_table(frame), _frame=frame, **info)
    return Ingested(frame=frame, **info)


def _arrow_table(frame: pd.DataFrame):
    """The frame as a pyarrow table with plain ``string``/``int64``/``double`` columns."""
    import pyarrow as pa

    table = pa.Table.from_pandas(frame, preserve_index=False)
    schema = pa.schema(
        [
            pa.field(f.name, pa.string() if pa.types.is_large_string(f.type) else f.type)
            for f in table.schema
        ]
    )
    return table.cast(schema).replace_schema_metadata(None)

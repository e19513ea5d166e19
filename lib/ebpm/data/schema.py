"""Strict JSON Schemas for catalog entries and SOURCE.yml, with Japanese errors naming file, line and a did-you-mean."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import yaml

from ebpm.errors import BuildError

#: A YAML path (keys and list indexes) → 1-based line in the file.
Lines = dict[tuple[Any, ...], int]

_SEVERITY = {"enum": ["error", "warn"], "x-ja": "severity は error か warn です。"}
_STR_LIST = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
_SCALAR = {"type": ["string", "number", "integer", "boolean", "null"]}


def _obj(properties: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict:
    out = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
        **extra,
    }
    if required:
        out["required"] = required
    return out


def _check(kind: str, params: dict[str, Any], required: list[str], **extra: Any) -> dict:
    base = {"type": {"const": kind}, "name": {"type": "string"}, "severity": _SEVERITY}
    base["description"] = {"type": "string"}
    return {
        "if": {"properties": {"type": {"const": kind}}, "required": ["type"]},
        "then": _obj({**base, **params}, ["type", *required], **extra),
    }


#: ``options`` a source may carry, per reader (ingest.read_csv / read_excel / DuckDB's read_csv).
READER_OPTIONS: dict[str, dict[str, Any]] = {
    "csv": {
        "encoding": {"type": "string"},
        "ingest": {"type": "boolean"},
        "header_row": {"type": ["integer", "string", "null"]},
        "columns": {"type": "array", "items": {"type": "string"}},
        "dtype": {"type": "object"},
        "symbols": {"type": ["boolean", "object"]},
        "normalize": {"type": ["boolean", "string"]},
        "codes": {"type": "object"},
        "delimiter": {"type": "string"},
        "quote": {"type": "string"},
        "escape": {"type": "string"},
        "header": {"type": "boolean"},
        "skip": {"type": "integer", "minimum": 0},
        "all_varchar": {"type": "boolean"},
        "null_padding": {"type": "boolean"},
    },
    "excel": {
        "sheet": {"type": ["integer", "string"]},
        "header_rows": {"type": ["integer", "string", "array"]},
        "skip_title_rows": {"type": ["integer", "string"]},
        "columns": {"type": "array", "items": {"type": "string"}},
        "dtype": {"type": "object"},
        "symbols": {"type": ["boolean", "object"]},
        "normalize": {"type": ["boolean", "string"]},
        "codes": {"type": "object"},
    },
    "geojson": {},
    "estat_json": {},
    "parquet": {},
}

_SOURCE_ITEM = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "path": {"type": "string"},
        "reader": {"enum": list(READER_OPTIONS)},
        "options": {"type": "object"},
        "optional": {"type": "boolean"},
    },
    "required": ["name", "path"],
    "additionalProperties": False,
    "allOf": [
        {
            "if": {"properties": {"reader": {"const": r}}, "required": ["reader"]}
            if r != "csv"
            else {
                "anyOf": [
                    {"not": {"required": ["reader"]}},
                    {"properties": {"reader": {"const": "csv"}}},
                ]
            },
            "then": {"properties": {"options": _obj(opts)}},
        }
        for r, opts in READER_OPTIONS.items()
    ],
}

_FIELD = _obj(
    {
        "name": {"type": "string"},
        "type": {"enum": ["string", "integer", "number", "boolean", "date", "datetime", "year"]},
        "title": {"type": "string"},
        "title_en": {"type": "string"},
        "description": {"type": "string"},
        "unit": {"type": ["string", "null"]},
        "missingValues": {"type": "array", "items": _SCALAR},
        "constraints": _obj(
            {
                "required": {"type": "boolean"},
                "unique": {"type": "boolean"},
                "minimum": {"type": ["number", "string"]},
                "maximum": {"type": ["number", "string"]},
                "pattern": {"type": "string"},
                "enum": {"type": "array"},
            }
        ),
    },
    ["name"],
)

_CHECKS = [
    _check(
        "row_count",
        {"min": {"type": "integer", "minimum": 0}, "max": {"type": "integer", "minimum": 0}},
        [],
        anyOf=[{"required": ["min"]}, {"required": ["max"]}],
        **{"x-ja": "row_count には min か max（行数の範囲）が必要です。"},
    ),
    _check(
        "sql",
        {"query": {"type": "string"}, "expect": _SCALAR, "tolerance": {"type": "number"}},
        ["query"],
    ),
    _check("not_null", {"column": {"type": "string"}}, ["column"]),
    _check(
        "unique",
        {"column": {"type": "string"}, "columns": {"type": "array", "items": {"type": "string"}}},
        [],
        anyOf=[{"required": ["column"]}, {"required": ["columns"]}],
        **{"x-ja": "unique には column か columns が必要です。"},
    ),
    _check(
        "accepted_values",
        {"column": {"type": "string"}, "values": {"type": "array"}},
        ["column", "values"],
    ),
    _check(
        "range",
        {"column": {"type": "string"}, "min": {"type": "number"}, "max": {"type": "number"}},
        ["column"],
        anyOf=[{"required": ["min"]}, {"required": ["max"]}],
        **{"x-ja": "range には min か max が必要です。"},
    ),
    _check("pattern", {"column": {"type": "string"}, "pattern": {"type": "string"}}, ["column", "pattern"]),
]

#: JSON Schema of one data/catalog/<table>.yml.
CATALOG_SCHEMA: dict[str, Any] = _obj(
    {
        "name": {"type": "string"},
        "title": {"type": "string"},
        "title_en": {"type": "string"},
        "description": {"type": "string"},
        "synthetic": {"type": "boolean"},
        "ground_truth": {
            "anyOf": [
                {"type": "null"},
                _obj({"file": {"type": "string"}, "key": {"type": "string"}}, ["file", "key"]),
            ]
        },
        "optional": {"type": "boolean"},
        "census": {"type": "boolean"},
        "eligibility": {"type": "string"},
        "sources": {"type": "array", "items": _SOURCE_ITEM},
        "transform": {"type": "string"},
        "schema": _obj(
            {
                "fields": {"type": "array", "items": _FIELD},
                "primaryKey": _STR_LIST,
                "missingValues": {"type": "array", "items": _SCALAR},
                "foreignKeys": {
                    "type": "array",
                    "items": _obj(
                        {
                            "fields": _STR_LIST,
                            "reference": _obj(
                                {"resource": {"type": "string"}, "fields": _STR_LIST},
                                ["resource", "fields"],
                            ),
                        },
                        ["fields", "reference"],
                    ),
                },
            },
            ["fields"],
        ),
        "checks": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type"],
                "properties": {
                    "type": {
                        "enum": [
                            "row_count",
                            "sql",
                            "not_null",
                            "unique",
                            "accepted_values",
                            "range",
                            "pattern",
                        ]
                    }
                },
                "allOf": _CHECKS,
            },
        },
        "disclosure": {
            "anyOf": [
                {"type": "null"},
                _obj(
                    {
                        "threshold": {"type": "integer", "minimum": 1},
                        "count_columns": {"type": "array", "items": {"type": "string"}},
                        "microdata": {"type": "boolean"},
                    }
                ),
            ]
        },
        "freshness": _obj(
            {
                "vintage": {"type": ["string", "integer"]},
                "update": {"type": "string"},
                "next_due": {"type": "string"},
            }
        ),
        "publisher": {"type": "string"},
        "licence": {"type": "string"},
        "licence_url": {"type": "string"},
        "attribution": {"type": "string"},
        "notes": {"type": "string"},
        "depends_on": _STR_LIST,
    },
    ["name", "title", "sources", "schema"],
)

_NONEMPTY = {"type": "string", "minLength": 1, "x-ja": "空にできません（出典を書いてください）。"}
_SHA = {"type": "string", "pattern": "^[0-9a-f]{64}$", "x-ja": "sha256 は16進64桁です。"}

#: JSON Schema of data/raw/<source>/SOURCE.yml.
SOURCE_SCHEMA: dict[str, Any] = _obj(
    {
        "source": {"type": "string"},
        "title_ja": _NONEMPTY,
        "label": {"type": "string"},
        "publisher": _NONEMPTY,
        "licence": _NONEMPTY,
        "licence_url": {"type": ["string", "null"]},
        "attribution": _NONEMPTY,
        "retrieved": {"type": "string", "minLength": 1},
        "origin": _obj(
            {
                k: {"type": ["string", "null"]}
                for k in ("url", "repository", "commit", "command", "generator")
            }
        ),
        "synthetic": {"type": "boolean"},
        "notes_ja": {"type": "string"},
        "generator_version": {"type": ["string", "integer"]},
        "seed": {"type": "integer"},
        "settings": {"type": "object"},
        "margins": {
            "type": "array",
            "items": _obj(
                {
                    "source": {"type": "string"},
                    "path": {"type": "string"},
                    "sha256": _SHA,
                    "used_for": {"type": "string"},
                },
                ["path"],
            ),
        },
        "files": {
            "type": "array",
            "items": _obj(
                {
                    "path": {"type": "string"},
                    "sha256": _SHA,
                    "bytes": {"type": "integer", "minimum": 0},
                    "description_ja": {"type": "string"},
                    "origin_path": {"type": "string"},
                    "commit": {"type": ["string", "null"]},
                    "publisher": {"type": "string"},
                    "licence": {"type": "string"},
                    "licence_url": {"type": "string"},
                    "attribution": {"type": "string"},
                    "title_ja": {"type": "string"},
                },
                ["path", "sha256"],
            ),
        },
    },
    [
        "source",
        "title_ja",
        "publisher",
        "licence",
        "attribution",
        "retrieved",
        "origin",
        "synthetic",
        "files",
    ],
)


# --- YAML with line numbers ---------------------------------------------------------------------


def load_yaml_lines(text: str) -> tuple[Any, Lines]:
    """Parse YAML (safe) and return ``(data, lines)``: the 1-based line of every key and list item.

    Raises
    ------
    yaml.YAMLError
        When the text is not YAML.
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    lines: Lines = {}

    def walk(n: Any, path: tuple[Any, ...]) -> None:
        lines[path] = n.start_mark.line + 1
        if isinstance(n, yaml.MappingNode):
            for key, value in n.value:
                k = key.value
                if isinstance(key, yaml.ScalarNode):
                    try:
                        k = loader.construct_object(key)
                    except Exception:  # noqa: BLE001 - a key is only used to look up its line
                        k = key.value
                walk(value, (*path, k))
                lines[(*path, k)] = key.start_mark.line + 1
        elif isinstance(n, yaml.SequenceNode):
            for i, item in enumerate(n.value):
                walk(item, (*path, i))

    if node is not None:
        walk(node, ())
    return data, lines


def line_of(lines: Lines, path: tuple[Any, ...]) -> int | None:
    """Line of ``path``, else of its nearest ancestor that has one."""
    path = tuple(path)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get(())


def _where(path: tuple[Any, ...]) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _messages(error: Any) -> list[tuple[tuple[Any, ...], str]]:
    """(path, Japanese message) for one jsonschema error (additionalProperties may yield several)."""
    path = tuple(error.absolute_path)
    at = f"「{_where(path)}」" if path else "最上位"
    v = error.validator
    schema = error.schema
    named = [p for p in path if not isinstance(p, int)]
    last = named[-1] if named else ""
    if v == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        noun = "制約" if last == "constraints" else "キー"
        out = []
        for key in sorted(set(error.instance) - set(allowed), key=str):
            close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
            hint = f"「{close[0]}」の誤りではありませんか？" if close else ""
            out.append(
                (
                    (*path, key),
                    f"{at}に未知の{noun}「{key}」があります。{hint}使える{noun}: {', '.join(allowed) or 'なし'}",
                )
            )
        return out
    if "x-ja" in schema and v in ("anyOf", "minLength", "pattern", "enum"):
        return [(path, f"{at}: {schema['x-ja']}")]
    if v == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        if "checks" in named and isinstance(error.instance, dict) and "type" in error.instance:
            return [(path, f"{at}: {error.instance['type']} チェックには {missing} が必要です。")]
        return [(path, f"{at}: {last or '最上位'} には「{missing}」が必要です。")]
    if v == "enum":
        label = last
        if last == "type" and "fields" in named:
            label = "型"
        elif last == "type" and "checks" in named:
            label = "チェックの種類"
        return [
            (
                path,
                f"{at}: {label}「{error.instance}」は使えません。"
                f"使える値: {', '.join(map(str, schema['enum']))}",
            )
        ]
    if v == "const":
        return [(path, f"{at}の値は「{schema['const']}」です。")]
    if v == "type":
        want = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        names = {
            "string": "文字列",
            "integer": "整数",
            "number": "数値",
            "boolean": "true/false",
            "array": "リスト",
            "object": "マッピング（キー: 値）",
            "null": "空",
        }
        return [
            (
                path,
                f"{at}は{'・'.join(names.get(w, w) for w in want)}で書いてください"
                f"（値: {error.instance!r}）。",
            )
        ]
    if v == "minimum":
        return [(path, f"{at}は {schema['minimum']} 以上です（値: {error.instance}）。")]
    return [(path, f"{at}が不正です（{error.message}）。")]


def problems(doc: Any, schema: dict[str, Any], lines: Lines) -> list[tuple[int | None, str]]:
    """Every schema violation of ``doc`` as ``(line, Japanese message)``, in file order."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(schema)
    out: list[tuple[int | None, str]] = []
    seen: set[str] = set()

    def leaves(err: Any) -> list[Any]:
        # descend into if/then and allOf so the message names the innermost problem
        if err.validator in ("allOf",) and err.context:
            return [x for c in err.context for x in leaves(c)]
        return [err]

    for err in validator.iter_errors(doc):
        for leaf in leaves(err):
            for path, message in _messages(leaf):
                if message not in seen:
                    seen.add(message)
                    out.append((line_of(lines, path), message))
    out.sort(key=lambda p: (p[0] or 0, p[1]))
    return out


def display_path(path: Path | str) -> str:
    """A path as shown to people: relative to the project (or the current folder), never absolute."""
    from ebpm import config

    p = Path(path)
    if not p.is_absolute():
        return p.as_posix()
    for base in (config.paths().root, Path.cwd()):
        try:
            return p.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            continue
    return "/".join(p.parts[-2:])


def validate_doc(
    doc: Any, schema: dict[str, Any], lines: Lines, file: Path | str, *, table: str | None = None
) -> None:
    """Raise one :class:`BuildError` listing every violation (first line in ``row``).

    Raises
    ------
    BuildError
        Naming the file, the line of the first problem, and every problem with its line.
    """
    found = problems(doc, schema, lines)
    if not found:
        return
    first_line, first = found[0]
    more = "".join(f"\n  {ln}行目: {msg}" for ln, msg in found[1:])
    raise BuildError(first + more, file=display_path(file), row=first_line, table=table)

"""The standard open-dataset definitions shipped with the project: header rows and Table Schemas."""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ebpm.errors import PublishError

STANDARDS = Path(__file__).resolve().parent / "standards"
MISSING = ""  # blank = 該当なし/不明 (distinct from 0, rule L1-09)
SUPPRESSED = "x"  # 秘匿処理のセル (GLOSSARY)


@dataclass(frozen=True)
class Standard:
    """One standard dataset: its key, Japanese title, header row and Frictionless Table Schema.

    Attributes
    ----------
    key : str
        File-name suffix, e.g. ``evacuation_space`` (``<団体コード6桁>_<key>.csv``).
    title : str
        The standard's Japanese name, e.g. 指定緊急避難場所一覧.
    header : list of str
        The exact header row, in the definition's order.
    schema : dict
        Table Schema (``fields`` in header order, ``primaryKey``, ``missingValues``).
    """

    key: str
    title: str
    title_en: str
    definition: str
    header: list[str]
    schema: dict[str, Any]
    source_tables: list[str]
    category: str
    update: str
    count_columns: list[str] = field(default_factory=list)


def _openapi_fields(file: Path) -> tuple[list[str], dict[str, dict[str, Any]]]:
    import yaml

    # BaseLoader: every key stays text (YAML 1.1 would read the column name NO as false)
    model = yaml.load(file.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    (schema,) = model["components"]["schemas"].values()
    required = set(schema.get("required", []))
    names, fields = [], {}
    for name, prop in schema["properties"].items():
        if prop.get("type") == "object":  # NEC's extra NGSI "location", not a CSV column
            continue
        f: dict[str, Any] = {"name": name, "type": "string"}
        if prop.get("type") == "number":
            f["type"] = (
                "integer"  # every number of these definitions is a count of people/households
            )
            f["constraints"] = {"minimum": 0}
        if prop.get("format") == "date":
            f["type"] = "date"
        if prop.get("format") == "uri":
            f["format"] = "uri"
        if "enum" in prop:
            values = [v for v in prop["enum"] if v != ""]
            f.setdefault("constraints", {})["enum"] = values
        if name in required:
            f.setdefault("constraints", {})["required"] = True
        if prop.get("description"):
            f["description"] = prop["description"]
        names.append(name)
        fields[name] = f
    return names, fields


def _csv_header(file: Path, column: str) -> list[str]:
    with open(file, encoding="utf-8", newline="") as fh:
        return [row[column] for row in csv.DictReader(fh)]


@functools.cache
def standards() -> dict[str, Standard]:
    """All standard datasets the project can publish, keyed by file-name suffix."""
    import yaml

    spec = yaml.safe_load((STANDARDS / "datasets.yml").read_text(encoding="utf-8"))
    out: dict[str, Standard] = {}
    for key, s in spec.items():
        header_spec = s["header"]
        if "openapi" in header_spec:
            header, base = _openapi_fields(STANDARDS / header_spec["openapi"])
        else:
            header = _csv_header(STANDARDS / header_spec["csv"], header_spec["column"])
            base = {name: {"name": name, "type": "string"} for name in header}
        fields = []
        for name in header:
            f = dict(base[name])
            override = s.get("fields", {}).get(name, {})
            constraints = {**f.get("constraints", {}), **override.get("constraints", {})}
            f.update({k: v for k, v in override.items() if k != "constraints"})
            if constraints:
                f["constraints"] = constraints
            fields.append(f)
        counts = s.get("count_columns") or []
        if counts == "auto":
            counts = [f["name"] for f in fields if f["type"] == "integer"]
        schema = {
            "fields": fields,
            "primaryKey": list(s["primary_key"]),
            "missingValues": [MISSING, SUPPRESSED] if counts else [MISSING],
        }
        out[key] = Standard(
            key=key,
            title=s["title"],
            title_en=s["title_en"],
            definition=s["definition"],
            header=header,
            schema=schema,
            source_tables=list(s["source_tables"]),
            category=s["category"],
            update=s["update"],
            count_columns=list(counts),
        )
    return out


def find_standard(name: str) -> Standard:
    """Look a standard dataset up by key (``population``) or Japanese title (``地域・年齢別人口``).

    Raises
    ------
    PublishError
        For an unknown name, listing the allowed ones.
    """
    all_ = standards()
    if name in all_:
        return all_[name]
    for s in all_.values():
        if name == s.title:
            return s
    allowed = "、".join(f"{k}（{s.title}）" for k, s in all_.items())
    raise PublishError(
        f"公開できるデータセットではありません: {name!r}。選べるもの: {allowed}",
        parameter="dataset",
    )

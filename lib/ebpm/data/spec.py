"""Read and validate the catalog: data/catalog/*.yml (one curated table each) and data/raw/*/SOURCE.yml."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

import yaml

from ebpm.errors import BuildError

Reader = Literal["csv", "excel", "geojson", "estat_json", "parquet"]
FieldType = Literal["string", "integer", "number", "boolean", "date", "datetime", "year"]
CheckType = Literal["row_count", "sql", "not_null", "unique", "accepted_values", "range", "pattern"]

#: Frictionless type -> DuckDB type used when the build casts the transform's output.
DUCKDB_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "datetime": "TIMESTAMP",
    "year": "INTEGER",
}

#: Japanese names of the types, for the data dictionary.
TYPE_LABELS_JA: dict[str, str] = {
    "string": "文字列",
    "integer": "整数",
    "number": "数値",
    "boolean": "真偽値",
    "date": "日付",
    "datetime": "日時",
    "year": "年",
}

SOURCE_REQUIRED_KEYS = (
    "source",
    "title_ja",
    "publisher",
    "licence",
    "attribution",
    "retrieved",
    "origin",
    "synthetic",
    "files",
)

#: files in a raw folder that are documentation, not data (not listed in SOURCE.yml)
IGNORED_FILES = {"SOURCE.yml", "README.md", ".gitkeep", ".gitattributes"}

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_CONSTRAINT_KEYS = {"required", "unique", "minimum", "maximum", "pattern", "enum"}
_TABLE_KEYS = {
    "name",
    "title",
    "title_en",
    "description",
    "synthetic",
    "ground_truth",
    "optional",
    "census",
    "eligibility",
    "sources",
    "transform",
    "schema",
    "checks",
    "disclosure",
    "freshness",
    "publisher",
    "licence",
    "licence_url",
    "attribution",
    "notes",
    "depends_on",
}


@dataclass(frozen=True)
class Source:
    """One raw input staged as a relation named ``name`` during the build."""

    name: str
    path: str  # relative to data/raw
    reader: Reader
    options: dict[str, Any] = field(default_factory=dict)
    optional: bool = False

    @property
    def folder(self) -> str:
        """The data/raw/<source> folder (its SOURCE.yml gives publisher and licence)."""
        return self.path.split("/", 1)[0]


@dataclass(frozen=True)
class Field:
    """One column of a curated table (Frictionless Table Schema field)."""

    name: str
    type: FieldType
    title: str = ""
    title_en: str = ""
    description: str = ""
    unit: str = ""
    constraints: dict[str, Any] = field(default_factory=dict)
    missing_values: list[str] | None = None  # field-level missingValues (overrides the table's)

    @property
    def duckdb_type(self) -> str:
        return DUCKDB_TYPES[self.type]


@dataclass(frozen=True)
class ForeignKey:
    fields: list[str]
    resource: str
    reference_fields: list[str]


@dataclass(frozen=True)
class Check:
    """A check beyond the schema constraints (``type`` plus its parameters)."""

    type: CheckType
    params: dict[str, Any]

    @property
    def name(self) -> str:
        if self.params.get("name"):
            return str(self.params["name"])
        column = self.params.get("column") or ",".join(self.params.get("columns", []))
        return f"{self.type}:{column}" if column else self.type

    @property
    def severity(self) -> Literal["error", "warn"]:
        return "warn" if self.params.get("severity") == "warn" else "error"


@dataclass(frozen=True)
class TableSpec:
    """One catalog entry: sources → SQL transform → schema → checks, plus its provenance."""

    name: str
    title: str
    file: str
    sources: list[Source]
    fields: list[Field]
    title_en: str = ""
    description: str = ""
    synthetic: bool = False
    ground_truth: Any = None
    optional: bool = False
    #: 全数: the table enumerates every unit (a census or a full register), so there is no sampling
    #: error and ``ebpm.describe`` shows no confidence interval for it
    census: bool = False
    #: column (0/1 or boolean) saying whether a unit can be treated at all; ``ebpm.did`` uses it to
    #: question never-treated units that could not have been treated (staggered DiD hygiene)
    eligibility: str = ""
    transform: str | None = None
    missing_values: list[str] = field(default_factory=lambda: [""])
    primary_key: list[str] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    disclosure: dict[str, Any] | None = None
    freshness: dict[str, Any] = field(default_factory=dict)
    overrides: dict[str, str] = field(default_factory=dict)  # publisher / licence / attribution
    depends_on: list[str] = field(default_factory=list)
    notes: str = ""
    #: YAML path (keys, list indexes) → line in the catalog file, for messages
    lines: dict[tuple, int] = field(default_factory=dict, repr=False, compare=False)

    def line(self, *path: Any) -> int | None:
        """Line in the catalog file of ``path`` (e.g. ``line("transform")``), else of its parent."""
        from ebpm.data.schema import line_of

        return line_of(self.lines, path) if self.lines else None

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def references(self) -> set[str]:
        """Tables this one needs built first (foreign keys and ``depends_on``)."""
        return {fk.resource for fk in self.foreign_keys} | set(self.depends_on)


def _err(message: str, file: Path | str, **kw: Any) -> BuildError:
    return BuildError(message, file=str(file), **kw)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _parse_field(raw: Any, file: Path, table: str) -> Field:
    if not isinstance(raw, dict) or "name" not in raw:
        raise _err("schema.fields の各要素には name が必要です。", file, table=table)
    name = str(raw["name"])
    ftype = raw.get("type", "string")
    if ftype not in get_args(FieldType):
        raise _err(
            f"型「{ftype}」は使えません。使える型: {', '.join(get_args(FieldType))}",
            file,
            table=table,
            column=name,
        )
    constraints = dict(raw.get("constraints") or {})
    unknown = set(constraints) - _CONSTRAINT_KEYS
    if unknown:
        raise _err(
            f"未知の制約 {sorted(unknown)} があります。使える制約: {sorted(_CONSTRAINT_KEYS)}",
            file,
            table=table,
            column=name,
        )
    if "pattern" in constraints:
        try:
            re.compile(constraints["pattern"])
        except re.error as exc:
            raise _err(
                f"pattern が正規表現として不正です（{exc}）。", file, table=table, column=name
            ) from exc
    return Field(
        name=name,
        type=ftype,
        title=str(raw.get("title", "")),
        title_en=str(raw.get("title_en", "")),
        description=str(raw.get("description", "")).strip(),
        unit=str(raw.get("unit", "") or ""),
        constraints=constraints,
        missing_values=[str(v) for v in raw["missingValues"]] if "missingValues" in raw else None,
    )


def _parse_source(raw: Any, file: Path, table: str) -> Source:
    if not isinstance(raw, dict) or not raw.get("name") or not raw.get("path"):
        raise _err("sources の各要素には name と path が必要です。", file, table=table)
    reader = raw.get("reader", "csv")
    if reader not in get_args(Reader):
        raise _err(
            f"reader「{reader}」は使えません。使える reader: {', '.join(get_args(Reader))}",
            file,
            table=table,
            parameter="reader",
        )
    name = str(raw["name"])
    if not _NAME_RE.match(name):
        raise _err(f"source 名「{name}」は英小文字・数字・_ で書いてください。", file, table=table)
    path = str(raw["path"])
    if path.startswith("/") or ".." in Path(path).parts:
        raise _err(f"path「{path}」は data/raw からの相対パスで書いてください。", file, table=table)
    return Source(
        name=name,
        path=path,
        reader=reader,
        options=dict(raw.get("options") or {}),
        optional=bool(raw.get("optional", False)),
    )


def _parse_check(raw: Any, file: Path, table: str) -> Check:
    if not isinstance(raw, dict) or "type" not in raw:
        raise _err("checks の各要素には type が必要です。", file, table=table)
    ctype = raw["type"]
    if ctype not in get_args(CheckType):
        raise _err(
            f"チェックの種類「{ctype}」は使えません。使える種類: {', '.join(get_args(CheckType))}",
            file,
            table=table,
        )
    params = {k: v for k, v in raw.items() if k != "type"}
    if ctype == "sql" and not params.get("query"):
        raise _err("sql チェックには query が必要です。", file, table=table)
    return Check(type=ctype, params=params)


def load_table(file: Path) -> TableSpec:
    """Parse and validate one catalog YAML file.

    Raises
    ------
    BuildError
        With the file name and a Japanese message when the entry is malformed.
    """
    from ebpm.data.schema import CATALOG_SCHEMA, display_path, load_yaml_lines, validate_doc

    shown = display_path(file)
    try:
        raw, lines = load_yaml_lines(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = mark.line + 1 if mark is not None else None
        raise _err(f"YAML として読めません（{exc}）。", shown, row=row) from exc
    if not isinstance(raw, dict):
        raise _err("カタログ定義はマッピング（キー: 値）で書いてください。", shown)
    file = Path(shown)  # messages name the file relative to the project, never an absolute path
    name = str(raw.get("name", ""))
    if not _NAME_RE.match(name):
        raise _err("name は英小文字・数字・_ のテーブル名にしてください。", file)
    if name != file.stem:
        raise _err(f"name「{name}」はファイル名「{file.stem}」と同じにしてください。", file)
    validate_doc(raw, CATALOG_SCHEMA, lines, file, table=name)
    if not raw.get("title"):
        raise _err("title（日本語の表題）が必要です。", file, table=name)
    sources = [_parse_source(s, file, name) for s in raw.get("sources") or []]
    if not sources:
        raise _err(
            "sources が空です。少なくとも1つの原データを指定してください。", file, table=name
        )
    if len({s.name for s in sources}) != len(sources):
        raise _err("sources の name が重複しています。", file, table=name)
    schema = raw.get("schema") or {}
    fields = [_parse_field(f, file, name) for f in schema.get("fields") or []]
    if not fields:
        raise _err("schema.fields が空です。", file, table=name)
    names = [f.name for f in fields]
    if len(set(names)) != len(names):
        raise _err("schema.fields の name が重複しています。", file, table=name)
    primary_key = _as_list(schema.get("primaryKey"))
    for col in primary_key:
        if col not in names:
            raise _err(
                "primaryKey の列が schema.fields にありません。", file, table=name, column=col
            )
    foreign_keys = []
    for fk in schema.get("foreignKeys") or []:
        fields_ = _as_list(fk.get("fields"))
        ref = fk.get("reference") or {}
        ref_fields = _as_list(ref.get("fields"))
        if not fields_ or not ref.get("resource") or len(fields_) != len(ref_fields):
            raise _err(
                "foreignKeys には fields と reference: {resource, fields}（同じ列数）が必要です。",
                file,
                table=name,
            )
        for col in fields_:
            if col not in names:
                raise _err(
                    "foreignKeys の列が schema.fields にありません。", file, table=name, column=col
                )
        foreign_keys.append(ForeignKey(fields_, str(ref["resource"]), ref_fields))
    eligibility = str(raw.get("eligibility") or "")
    if eligibility:
        found = next((f for f in fields if f.name == eligibility), None)
        if found is None:
            raise _err(
                f"eligibility の列「{eligibility}」が schema.fields にありません。"
                f"ある列: {', '.join(names)}",
                file,
                table=name,
                column=eligibility,
            )
        if found.type not in ("boolean", "integer"):
            raise _err(
                f"eligibility の列「{eligibility}」は boolean か 0/1 の integer にしてください"
                f"（いまは {found.type}）。",
                file,
                table=name,
                column=eligibility,
            )
    missing = schema.get("missingValues")
    return TableSpec(
        name=name,
        title=str(raw["title"]),
        file=str(file),
        sources=sources,
        fields=fields,
        title_en=str(raw.get("title_en", "")),
        description=str(raw.get("description", "") or "").strip(),
        synthetic=bool(raw.get("synthetic", False)),
        ground_truth=raw.get("ground_truth"),
        optional=bool(raw.get("optional", False)),
        census=bool(raw.get("census", False)),
        eligibility=eligibility,
        transform=raw.get("transform"),
        missing_values=[str(v) for v in missing] if missing is not None else [""],
        primary_key=primary_key,
        foreign_keys=foreign_keys,
        checks=[_parse_check(c, file, name) for c in raw.get("checks") or []],
        disclosure=raw.get("disclosure"),
        freshness=dict(raw.get("freshness") or {}),
        overrides={
            k: str(raw[k])
            for k in ("publisher", "licence", "licence_url", "attribution")
            if raw.get(k)
        },
        depends_on=_as_list(raw.get("depends_on")),
        notes=str(raw.get("notes", "") or "").strip(),
        lines=lines,
    )


def load_catalog(catalog_dir: Path) -> list[TableSpec]:
    """Read every ``*.yml`` in ``catalog_dir`` and return them in build order.

    Tables come after the tables they reference (foreign keys, ``depends_on``).
    """
    if not catalog_dir.is_dir():
        raise BuildError("カタログのフォルダがありません。", file=str(catalog_dir))
    specs = {}
    for file in sorted(catalog_dir.glob("*.yml")) + sorted(catalog_dir.glob("*.yaml")):
        spec = load_table(file)
        if spec.name in specs:
            raise _err("同じ name のカタログ定義が2つあります。", file, table=spec.name)
        specs[spec.name] = spec
    for spec in specs.values():
        for src in spec.sources:
            if src.name in specs:  # the staged relation would hide the curated table in SQL
                raise _err(
                    f"source 名「{src.name}」がテーブル名と同じです。別の名前にしてください。",
                    spec.file,
                    table=spec.name,
                )
    return order_tables(specs)


def order_tables(specs: dict[str, TableSpec]) -> list[TableSpec]:
    """Topological order (referenced tables first; ties by name)."""
    ordered: list[TableSpec] = []
    state: dict[str, int] = {}

    def visit(name: str, chain: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            raise BuildError(
                f"カタログの参照が循環しています: {' → '.join(chain + [name])}", table=name
            )
        state[name] = 1
        for ref in sorted(specs[name].references):
            if ref in specs and ref != name:
                visit(ref, chain + [name])
        state[name] = 2
        ordered.append(specs[name])

    for name in sorted(specs):
        visit(name, [])
    return ordered


# --- SOURCE.yml -------------------------------------------------------------------------------


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def load_source(folder: Path, *, strict: bool = False) -> dict[str, Any]:
    """Read ``<folder>/SOURCE.yml``; ``files`` becomes a mapping path → entry.

    Parameters
    ----------
    folder : Path
        The data/raw/<source> folder.
    strict : bool
        Validate against :data:`ebpm.data.schema.SOURCE_SCHEMA` (the build does): unknown keys,
        missing or empty provenance (publisher, licence, attribution, retrieved) and a file
        without sha256 are errors naming the line.

    Raises
    ------
    BuildError
        When SOURCE.yml is missing or malformed.
    """
    from ebpm.data.schema import SOURCE_SCHEMA, display_path, load_yaml_lines, validate_doc

    file = folder / "SOURCE.yml"
    if not file.exists():
        raise BuildError(
            "原データのフォルダに SOURCE.yml（出典・ライセンス・sha256）がありません。",
            file=str(file),
        )
    shown = display_path(file)
    try:
        raw, lines = load_yaml_lines(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise BuildError(f"SOURCE.yml が YAML として読めません（{exc}）。", file=shown) from exc
    raw = raw or {}
    if not isinstance(raw, dict):
        raise BuildError("SOURCE.yml はマッピングで書いてください。", file=shown)
    if strict:
        validate_doc(raw, SOURCE_SCHEMA, lines, shown)
    raw["_lines"] = lines
    files = raw.get("files") or []
    if isinstance(files, dict):  # tolerate {path: sha256}
        files = [{"path": k, "sha256": v} for k, v in files.items()]
    raw["files"] = {str(f["path"]): f for f in files if isinstance(f, dict) and "path" in f}
    return raw


def source_problems(folder: Path) -> list[str]:
    """Japanese descriptions of what is wrong with one SOURCE.yml (empty when all is well)."""
    try:
        src = load_source(folder)
    except BuildError as exc:
        return [str(exc)]
    from ebpm.data.schema import SOURCE_SCHEMA, problems as schema_problems

    problems = [f"必須キー「{k}」がありません。" for k in SOURCE_REQUIRED_KEYS if k not in src]
    lines = src.pop("_lines", {})
    doc = {k: v for k, v in src.items() if k != "files"}
    doc["files"] = list(src["files"].values())
    problems += [
        f"{line}行目: {msg}"
        for line, msg in schema_problems(doc, SOURCE_SCHEMA, lines)
        if not msg.startswith("最上位: 最上位 には")
    ]
    if src.get("source") not in (None, folder.name):
        problems.append(f"source「{src.get('source')}」がフォルダ名「{folder.name}」と違います。")
    listed = set(src["files"])
    for rel, entry in src["files"].items():
        path = folder / rel
        if not path.exists():
            problems.append(f"「{rel}」が SOURCE.yml にありますが、ファイルがありません。")
        elif entry.get("sha256") != sha256_file(path):
            problems.append(f"「{rel}」の sha256 が SOURCE.yml と一致しません。")
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and path.name not in IGNORED_FILES and rel not in listed:
            problems.append(f"「{rel}」が SOURCE.yml の files にありません。")
    return problems

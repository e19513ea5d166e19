"""Typed template parameters: the sidecar schema, validation before any kernel starts, and injection."""

from __future__ import annotations

import ast
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ebpm.errors import ParameterError

ParamType = Literal["int", "float", "str", "bool", "date", "list", "enum"]
PARAM_TYPES: tuple[str, ...] = ("int", "float", "str", "bool", "date", "list", "enum")
ITEM_TYPES: tuple[str, ...] = ("int", "float", "str", "date")
TYPE_JA: dict[str, str] = {
    "int": "整数",
    "float": "数値",
    "str": "文字列",
    "bool": "真偽値（true/false）",
    "date": "日付（YYYY-MM-DD）",
    "list": "カンマ区切りのリスト",
    "enum": "選択肢のいずれか",
}
_TRUE = {"true", "1", "yes", "y", "on", "はい", "真"}
_FALSE = {"false", "0", "no", "n", "off", "いいえ", "偽"}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# a validation hook or a choices function: "ebpm.<module path>:<function>" (only the project's code)
_HOOK = re.compile(r"^ebpm(\.[A-Za-z_][A-Za-z0-9_]*)+:[A-Za-z_][A-Za-z0-9_]*$")
SECRET_MASK = "***"


@dataclass
class ParamSpec:
    """One parameter of a template, as declared in ``<template>.params.yml``."""

    name: str
    type: ParamType
    default: Any = None
    label_ja: str = ""
    help_ja: str = ""
    min: Any = None
    max: Any = None
    choices: list[Any] | None = None
    choices_from: dict[str, str] | None = None
    item_type: str = "str"
    choice_labels: dict[str, str] | None = None  # value -> Japanese label shown in reports
    secret: bool = False
    required: bool = False

    @property
    def label(self) -> str:
        return self.label_ja or self.name

    def display(self, value: Any) -> Any:
        """The value with choice codes replaced by their Japanese labels (for reports)."""
        names = self.choice_labels or {}
        if isinstance(value, list):
            return [names.get(str(v), v) for v in value]
        return names.get(str(value), value)


@dataclass
class TemplateSchema:
    """A template notebook and its typed parameters."""

    name: str
    notebook: Path
    title_ja: str
    description_ja: str = ""
    params: dict[str, ParamSpec] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)  # owner, policy_area, contact, status
    checks: list[str] = field(
        default_factory=list
    )  # "ebpm.module:function" hooks run by validate()

    @property
    def secret_names(self) -> list[str]:
        return [p.name for p in self.params.values() if p.secret]


def _fail(message: str, name: str | None = None) -> ParameterError:
    err = ParameterError(message)
    err.parameter = name
    return err


def load_schema(notebook: str | Path) -> TemplateSchema:
    """Read ``<name>.params.yml`` beside ``<name>.ipynb`` and check it.

    Parameters
    ----------
    notebook : str or Path
        Path of the template notebook.

    Returns
    -------
    TemplateSchema
    """
    import yaml

    nb_path = Path(notebook)
    side = nb_path.with_suffix(".params.yml")
    if not side.exists():
        raise ParameterError(
            f"テンプレート「{nb_path.stem}」のパラメータ定義 {side.name} がありません。",
            file=str(side),
        )
    try:
        raw = yaml.safe_load(side.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ParameterError(
            f"パラメータ定義の YAML を読めません（{getattr(exc, 'problem', exc)}）。",
            file=str(side),
            row=mark.line + 1 if mark else None,
        ) from None
    specs: dict[str, ParamSpec] = {}
    for name, body in (raw.get("parameters") or {}).items():
        body = dict(body or {})
        ptype = body.pop("type", None)
        if ptype not in PARAM_TYPES:
            raise ParameterError(
                f"型「{ptype}」は使えません（{', '.join(PARAM_TYPES)}）。",
                file=str(side),
                parameter=name,
            )
        known = set(ParamSpec.__dataclass_fields__) - {"name", "type"}
        unknown = set(body) - known
        if unknown:
            raise ParameterError(
                f"未知の項目 {', '.join(sorted(unknown))} があります。",
                file=str(side),
                parameter=name,
            )
        spec = ParamSpec(name=name, type=ptype, **body)
        if spec.item_type not in ITEM_TYPES:
            raise ParameterError(
                f"item_type「{spec.item_type}」は使えません（{', '.join(ITEM_TYPES)}）。",
                file=str(side),
                parameter=name,
            )
        if spec.choices_from is not None:
            cf = spec.choices_from
            if not (
                isinstance(cf, dict)
                and (
                    (
                        _IDENT.match(str(cf.get("table", "")))
                        and _IDENT.match(str(cf.get("column", "")))
                    )
                    or _HOOK.match(str(cf.get("function", "")))
                )
            ):
                raise ParameterError(
                    "choices_from は {table: 表名, column: 列名} か"
                    " {function: ebpm.モジュール:関数名} で指定してください。",
                    file=str(side),
                    parameter=name,
                )
        if spec.type == "enum" and spec.choices is None and spec.choices_from is None:
            raise ParameterError(
                "enum には choices か choices_from が必要です。", file=str(side), parameter=name
            )
        if spec.default is not None:
            spec.default = _coerce_scalar_or_list(spec, spec.default, check_choices=False)
        specs[name] = spec
    from ebpm.report.summary import check_meta

    checks = [str(c) for c in raw.get("checks") or []]
    bad = [c for c in checks if not _HOOK.match(c)]
    if bad:
        raise ParameterError(
            f"checks の「{bad[0]}」は ebpm.モジュール:関数名 の形で書いてください。", file=str(side)
        )
    return TemplateSchema(
        name=nb_path.stem,
        notebook=nb_path,
        title_ja=str(raw.get("title_ja") or raw.get("title") or nb_path.stem),
        description_ja=str(raw.get("description_ja") or ""),
        params=specs,
        meta=check_meta(raw.get("meta"), file=str(side)),
        checks=checks,
    )


def _hook(path: str):
    """The function named by ``"ebpm.module:function"``."""
    import importlib

    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def _range_text(spec: ParamSpec) -> str:
    if spec.min is not None and spec.max is not None:
        return f"（{spec.min}〜{spec.max}）"
    if spec.min is not None:
        return f"（{spec.min}以上）"
    if spec.max is not None:
        return f"（{spec.max}以下）"
    return ""


def _type_error(spec: ParamSpec, value: Any, type_name: str | None = None) -> ParameterError:
    shown = value if isinstance(value, str) else repr(value)
    if spec.secret:
        shown = SECRET_MASK
    what = TYPE_JA[type_name or spec.type]
    return _fail(
        f'パラメータ『{spec.name}』は{what}で指定してください{_range_text(spec)}。指定値: "{shown}"',
        spec.name,
    )


def _parse_date(text: str) -> dt.date:
    text = text.strip()
    m = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", text)
    if not m:
        raise ValueError(text)
    return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))


def _coerce_one(spec: ParamSpec, value: Any, type_name: str) -> Any:
    """Coerce one value (a CLI string or a native YAML value) to ``type_name`` or raise."""
    try:
        if type_name == "int":
            if isinstance(value, bool):
                raise ValueError
            if isinstance(value, int):
                return value
            if isinstance(value, float) and value.is_integer():
                return int(value)
            if isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip()):
                return int(value.strip())
            raise ValueError
        if type_name == "float":
            if isinstance(value, bool):
                raise ValueError
            if isinstance(value, (int, float)):
                return float(value)
            if isinstance(value, str):
                return float(value.strip())
            raise ValueError
        if type_name == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().lower() in _TRUE:
                return True
            if isinstance(value, str) and value.strip().lower() in _FALSE:
                return False
            raise ValueError
        if type_name == "date":
            if isinstance(value, dt.datetime):
                return value.date()
            if isinstance(value, dt.date):
                return value
            if isinstance(value, str):
                return _parse_date(value)
            raise ValueError
        if type_name == "str":
            if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                return str(value)
            raise ValueError
    except (ValueError, TypeError, OverflowError):
        pass
    raise _type_error(spec, value, type_name)


def _split_list(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            import yaml

            parsed = yaml.safe_load(text)
            if isinstance(parsed, list):
                return parsed
        return [part.strip() for part in text.split(",") if part.strip()] if text else []
    raise ValueError


def _check_range(spec: ParamSpec, value: Any) -> None:
    lo, hi = spec.min, spec.max
    if spec.type == "date" or (spec.type == "list" and spec.item_type == "date"):
        lo = _coerce_one(spec, lo, "date") if lo is not None else None
        hi = _coerce_one(spec, hi, "date") if hi is not None else None
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        shown = SECRET_MASK if spec.secret else value
        raise _fail(
            f'パラメータ『{spec.name}』は{_range_text(spec)[1:-1]}の範囲で指定してください。指定値: "{shown}"',
            spec.name,
        )


def _check_choice(spec: ParamSpec, value: Any, choices: list[Any] | None) -> None:
    if choices is None or value in choices:
        return
    shown = SECRET_MASK if spec.secret else value
    allowed = "、".join(str(c) for c in choices[:30]) + ("…" if len(choices) > 30 else "")
    raise _fail(
        f'パラメータ『{spec.name}』は次のいずれかで指定してください: {allowed}。指定値: "{shown}"',
        spec.name,
    )


def _coerce_scalar_or_list(
    spec: ParamSpec, value: Any, *, check_choices: bool = True, choices: list[Any] | None = None
) -> Any:
    if choices is None and check_choices:
        choices = spec.choices
    if spec.type == "list":
        try:
            items = _split_list(value)
        except ValueError:
            raise _type_error(spec, value) from None
        out = [_coerce_one(spec, item, spec.item_type) for item in items]
        for item in out:
            if check_choices:
                _check_choice(spec, item, choices)
            if spec.item_type in ("int", "float", "date"):
                _check_range(spec, item)
        return out
    if spec.type == "enum":
        if choices is not None and choices and not isinstance(choices[0], str):
            value = _coerce_one(spec, value, type(choices[0]).__name__.replace("bool", "str"))
        if check_choices:
            _check_choice(spec, value, choices)
        return value
    value = _coerce_one(spec, value, spec.type)
    if spec.type in ("int", "float", "date"):
        _check_range(spec, value)
    return value


def choices_for(spec: ParamSpec) -> list[Any] | None:
    """Return the allowed values of an enum or list parameter (reading the curated table if asked)."""
    if spec.choices is not None:
        return list(spec.choices)
    if spec.choices_from is None:
        return None
    if "function" in spec.choices_from:
        func = spec.choices_from["function"]
        try:
            return list(_hook(func)())
        except ParameterError:
            raise
        except Exception as exc:  # the curated database is absent or the table is not built yet
            raise _fail(
                f"パラメータ『{spec.name}』の選択肢を読めません（{func}: {type(exc).__name__}）。"
                "先に `ebpm build` を実行してください。",
                spec.name,
            ) from None
    table, column = spec.choices_from["table"], spec.choices_from["column"]
    try:
        from ebpm.data import access as data

        frame = data.sql(
            f'SELECT DISTINCT "{column}" AS v FROM "{table}" WHERE "{column}" IS NOT NULL ORDER BY 1'
        )
    except Exception as exc:  # the curated database is absent or the table is not built yet
        raise _fail(
            f"パラメータ『{spec.name}』の選択肢を整備済みデータベースの表「{table}」列「{column}」から"
            f"読めません（{type(exc).__name__}）。先に `ebpm build` を実行してください。",
            spec.name,
        ) from None
    return [v.item() if hasattr(v, "item") else v for v in frame["v"].tolist()]


def validate(schema: TemplateSchema, given: dict[str, Any]) -> dict[str, Any]:
    """Check and coerce parameters before any kernel starts; fill in defaults.

    Parameters
    ----------
    schema : TemplateSchema
    given : dict
        Values from ``-p name=value`` (strings) or a YAML file (native values).

    Returns
    -------
    dict
        Every parameter of the template with a typed value.

    Raises
    ------
    ParameterError
        Unknown, mistyped, out-of-range or missing parameters (Japanese message naming it), or a
        value a ``checks:`` hook of the sidecar refuses (for example a cutoff outside the data).
    """
    unknown = [k for k in given if k not in schema.params]
    if unknown:
        allowed = ", ".join(schema.params) or "（なし）"
        raise _fail(
            f"パラメータ『{unknown[0]}』はテンプレート「{schema.name}」にありません。"
            f"使えるパラメータ: {allowed}",
            unknown[0],
        )
    out: dict[str, Any] = {}
    for name, spec in schema.params.items():
        if name in given:
            needs_table = spec.type in ("enum", "list") and spec.choices_from is not None
            choices = choices_for(spec) if needs_table else spec.choices
            out[name] = _coerce_scalar_or_list(spec, given[name], choices=choices)
        elif spec.required:
            raise _fail(f"パラメータ『{name}』（{spec.label}）は必須です。", name)
        else:
            out[name] = spec.default
    for check in schema.checks:  # template-specific rules (data ranges, pre-periods …)
        _hook(check)(out)
    return out


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """Turn ``["name=value", …]`` from ``-p`` into a dict of strings."""
    out: dict[str, str] = {}
    for pair in pairs:
        if "=" not in pair:
            raise _fail(f'-p は 名前=値 の形で指定してください。指定値: "{pair}"')
        key, value = pair.split("=", 1)
        out[key.strip()] = value
    return out


def python_literal(value: Any) -> str:
    """Python source for a parameter value; dates become ``datetime.date(Y, M, D)``."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return f"datetime.date({value.year}, {value.month}, {value.day})"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(python_literal(v) for v in value) + "]"
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return f"float({str(value)!r})"
    return repr(value)


def injection_source(
    values: dict[str, Any], secrets: list[str] | tuple[str, ...] = (), *, mask: bool = False
) -> str:
    """Source of the injected-parameters cell (secret values replaced by ``***`` when ``mask``)."""
    lines = ["# 条件（パラメータ）: ebpm run が設定しました", "import datetime"]
    for name, value in values.items():
        if mask and name in secrets:
            lines.append(f"{name} = {SECRET_MASK!r}  # 秘密のパラメータ（非表示）")
        else:
            lines.append(f"{name} = {python_literal(value)}")
    return "\n".join(lines) + "\n"


def _literal(node: ast.AST) -> Any:
    """Evaluate a literal, also allowing ``datetime.date(Y, M, D)`` / ``date(Y, M, D)``."""
    if isinstance(node, ast.Call):
        func = node.func
        fname = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if fname == "date" and not node.keywords:
            return dt.date(*[ast.literal_eval(a) for a in node.args])
        raise ValueError(ast.dump(node))
    if isinstance(node, ast.List):
        return [_literal(e) for e in node.elts]
    return ast.literal_eval(node)


def parameters_cell_index(nb) -> int:
    """Index of the cell tagged ``parameters`` (papermill's contract)."""
    for i, cell in enumerate(nb.cells):
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            return i
    raise ParameterError("タグ parameters の付いたセルがありません。")


def notebook_defaults(nb) -> dict[str, Any]:
    """The literal values assigned in the ``parameters`` cell."""
    source = nb.cells[parameters_cell_index(nb)].source
    out: dict[str, Any] = {}
    for stmt in ast.parse(source).body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value:
            out[stmt.target.id] = _literal(stmt.value)
        elif (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
        ):
            out[stmt.targets[0].id] = _literal(stmt.value)
        else:
            raise ParameterError(
                f"parameters セルには 名前 = リテラル だけを書いてください: {ast.unparse(stmt)}"
            )
    return out

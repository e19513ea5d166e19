"""YAML files read with the line of every value, so schema errors can name the line and the field."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ebpm.errors import EbpmError


class SchemaError(EbpmError):
    """A YAML file (logic model, analysis plan, case record) does not follow its schema."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field_name: str | None = None,
        problems: list[str] | None = None,
    ) -> None:
        self.line = line
        self.field_name = field_name
        self.problems = problems or []
        where = []
        if file:
            where.append(f"ファイル「{file}」")
        if line is not None:
            where.append(f"{line}行目")
        if field_name:
            where.append(f"項目「{field_name}」")
        text = f"{'・'.join(where)}: {message}" if where else message
        if self.problems:
            text += "\n" + "\n".join(f"  - {p}" for p in self.problems)
        Exception.__init__(self, text)
        self.message = message
        self.file = file
        self.row = line
        self.column = field_name
        self.table = None
        self.parameter = None


@dataclass
class YamlDoc:
    """Plain Python data plus the 1-based line of each path (``("nodes", 2, "direction")``)."""

    data: Any
    lines: dict[tuple, int] = field(default_factory=dict)
    file: str = ""

    def line(self, path: tuple) -> int | None:
        """Line of ``path``, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())


def _convert(node, path: tuple, lines: dict[tuple, int], constructor) -> Any:
    import yaml

    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = constructor.construct_object(key_node, deep=True)
            lines[(*path, key)] = key_node.start_mark.line + 1
            out[key] = _convert(value_node, (*path, key), lines, constructor)
            lines[(*path, key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(v, (*path, i), lines, constructor) for i, v in enumerate(node.value)]
    return constructor.construct_object(node, deep=True)


def parse_yaml(text: str, *, file: str = "") -> YamlDoc:
    """Parse YAML text keeping lines; syntax errors become :class:`SchemaError` with the line."""
    import yaml

    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            lines: dict[tuple, int] = {}
            data = None if node is None else _convert(node, (), lines, loader)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        raise SchemaError(
            f"YAML として読めません（{err.problem or err.context}）。字下げ・コロン・引用符を確かめてください。",
            file=file,
            line=None if mark is None else mark.line + 1,
        ) from None
    return YamlDoc(data=data, lines=lines, file=file)


def read_yaml(path: str | Path, *, label: str | None = None) -> YamlDoc:
    """Read a YAML file keeping lines (``label`` is the file name shown in errors)."""
    p = Path(path)
    shown = label or p.name
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SchemaError("ファイルがありません。", file=shown) from None
    except UnicodeDecodeError:
        raise SchemaError(
            "UTF-8 で保存してください（文字コードが違います）。", file=shown
        ) from None
    return parse_yaml(text, file=shown)


def field_name(path: tuple) -> str:
    """``("nodes", 2, "direction")`` -> ``nodes[3].direction`` (items counted from 1 for people)."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part + 1}]"
        else:
            out += ("." if out else "") + str(part)
    return out


class Checker:
    """Collects schema problems (each with line and field) and raises them together in Japanese."""

    def __init__(self, doc: YamlDoc) -> None:
        self.doc = doc
        self.problems: list[tuple[int | None, str, str]] = []

    def problem(self, path: tuple, message: str) -> None:
        """Record one problem at ``path``."""
        self.problems.append((self.doc.line(path), field_name(path), message))

    def get(self, path: tuple) -> Any:
        """The value at ``path`` (None when absent)."""
        value = self.doc.data
        for part in path:
            if isinstance(part, int):
                value = value[part] if isinstance(value, list) and part < len(value) else None
            else:
                value = value.get(part) if isinstance(value, dict) else None
        return value

    def require(self, path: tuple, kind: type | tuple = str, *, label: str = "") -> Any:
        """The value at ``path``, recording a problem when missing or of the wrong type."""
        value = self.get(path)
        what = f"（{label}）" if label else ""
        if value is None or value == "":
            self.problem(path, f"必須の項目{what}がありません。")
            return None
        return self.check_type(path, value, kind, label=label)

    def optional(self, path: tuple, kind: type | tuple = str, *, label: str = "") -> Any:
        """Like :meth:`require`, but an absent value is allowed."""
        value = self.get(path)
        if value is None:
            return None
        return self.check_type(path, value, kind, label=label)

    def check_type(self, path: tuple, value: Any, kind: type | tuple, *, label: str = "") -> Any:
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if bool in (type(value),) and bool not in kinds:
            ok = False
        else:
            ok = isinstance(value, kinds)
        if not ok:
            names = {
                str: "文字列",
                int: "整数",
                float: "数値",
                list: "一覧（- で始まる行）",
                dict: "項目の組（名前: 値）",
                bool: "true / false",
            }
            want = "または".join(names.get(k, k.__name__) for k in kinds)
            what = f"（{label}）" if label else ""
            self.problem(path, f"{what}{want}で書いてください（書かれた値: {value!r}）。")
            return None
        return value

    def enum(self, path: tuple, allowed, *, label: str = "", required: bool = True) -> Any:
        """The value at ``path`` if it is one of ``allowed`` (a list or a dict of aliases)."""
        value = self.get(path)
        if value is None:
            if required:
                self.problem(
                    path,
                    f"必須の項目{f'（{label}）' if label else ''}がありません。"
                    f"使える値: {'、'.join(map(str, allowed))}",
                )
            return None
        if value not in allowed:
            self.problem(path, f"「{value}」は使えません。使える値: {'、'.join(map(str, allowed))}")
            return None
        return allowed[value] if isinstance(allowed, dict) else value

    def unknown_keys(self, path: tuple, known) -> None:
        """Record keys of the mapping at ``path`` that the schema does not know (likely typos)."""
        value = self.get(path) if path else self.doc.data
        if isinstance(value, dict):
            for key in value:
                if key not in known:
                    self.problem(
                        (*path, key),
                        f"知らない項目です（書き間違い？）。使える項目: {'、'.join(known)}",
                    )

    def raise_if_any(self, what: str) -> None:
        """Raise :class:`SchemaError` naming the first problem's line and field, listing all."""
        if not self.problems:
            return
        line, name, message = self.problems[0]
        rest = [f"{ln}行目・{fn}: {m}" if ln else f"{fn}: {m}" for ln, fn, m in self.problems]
        raise SchemaError(
            f"{what}の書き方に誤りが {len(self.problems)} 件あります。{message}",
            file=self.doc.file,
            line=line,
            field_name=name,
            problems=rest if len(rest) > 1 else None,
        )

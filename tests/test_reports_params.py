"""Template parameter schemas: coercion, validation messages, injection and literal defaults."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import nbformat
import pytest
from ebpm.errors import ParameterError
from ebpm.report.params import (
    ParamSpec,
    TemplateSchema,
    injection_source,
    load_schema,
    notebook_defaults,
    parse_assignments,
    python_literal,
    validate,
)

FIXTURES = Path(__file__).parent / "fixtures" / "reports"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def basic() -> TemplateSchema:
    return load_schema(FIXTURES / "basic.ipynb")


@pytest.mark.parametrize(
    ("name", "given", "expected"),
    [
        ("n", "7", 7),
        ("n", 7, 7),
        ("n", " 12 ", 12),
        ("n", 3.0, 3),
        ("ratio", "0.25", 0.25),
        ("ratio", 1, 1.0),
        ("label", "都南", "都南"),
        ("label", 2024, "2024"),
        ("flag", "false", False),
        ("flag", "はい", True),
        ("flag", "0", False),
        ("flag", True, True),
        ("start", "2024-06-01", dt.date(2024, 6, 1)),
        ("start", "2024/6/1", dt.date(2024, 6, 1)),
        ("start", dt.date(2025, 1, 2), dt.date(2025, 1, 2)),
        ("start", dt.datetime(2025, 1, 2, 9, 30), dt.date(2025, 1, 2)),
        ("offices", "本庁,渋民", ["本庁", "渋民"]),
        ("offices", "[都南]", ["都南"]),
        ("offices", ["玉山"], ["玉山"]),
        ("offices", "", []),
        ("kind", "b", "b"),
    ],
)
def test_good_values_are_coerced(basic, name, given, expected):
    assert validate(basic, {name: given})[name] == expected


@pytest.mark.parametrize(
    ("name", "given", "fragment"),
    [
        ("n", "abc", 'パラメータ『n』は整数で指定してください（1〜50）。指定値: "abc"'),
        ("n", "2.5", "整数で指定してください"),
        ("n", True, "整数で指定してください"),
        ("n", "0", "1〜50の範囲で指定してください"),
        ("n", 51, "1〜50の範囲で指定してください"),
        ("ratio", "半分", "数値で指定してください"),
        ("ratio", "1.5", "0〜1の範囲"),
        ("flag", "たぶん", "真偽値"),
        ("start", "2024-13-01", "日付（YYYY-MM-DD）で指定してください"),
        ("start", "令和6年4月1日", "日付（YYYY-MM-DD）"),
        ("start", "2020-01-01", "2021-04-01〜2026-03-31の範囲"),
        ("offices", "本庁,盛岡", "本庁、玉山、都南、渋民"),
        ("kind", "z", "次のいずれかで指定してください: a、b、c"),
        ("label", ["a"], "文字列で指定してください"),
    ],
)
def test_bad_values_are_refused_in_japanese(basic, name, given, fragment):
    with pytest.raises(ParameterError) as info:
        validate(basic, {name: given})
    assert fragment in str(info.value)
    assert info.value.parameter == name


def test_unknown_parameter_names_what_is_allowed(basic):
    with pytest.raises(
        ParameterError, match="パラメータ『nn』はテンプレート「basic」にありません"
    ) as info:
        validate(basic, {"nn": "1"})
    assert "n, ratio, label" in str(info.value)


def test_defaults_fill_in_and_required_is_enforced(basic):
    values = validate(basic, {})
    assert values["start"] == dt.date(2024, 4, 1) and values["offices"] == ["本庁", "玉山"]
    schema = TemplateSchema(
        "t", Path("t.ipynb"), "t", params={"x": ParamSpec("x", "int", required=True)}
    )
    with pytest.raises(ParameterError, match="必須"):
        validate(schema, {})


def test_secret_values_never_appear_in_messages():
    spec = ParamSpec("key", "int", secret=True, min=0, max=9)
    schema = TemplateSchema("t", Path("t.ipynb"), "t", params={"key": spec})
    for bad in ("SECRET-7f3a9c", "12345"):
        with pytest.raises(ParameterError) as info:
            validate(schema, {"key": bad})
        assert bad not in str(info.value) and "***" in str(info.value)


@pytest.mark.parametrize(
    ("value", "source"),
    [
        (dt.date(2024, 4, 1), "datetime.date(2024, 4, 1)"),
        ([dt.date(2024, 4, 1)], "[datetime.date(2024, 4, 1)]"),
        ("本庁", "'本庁'"),
        (3, "3"),
        (True, "True"),
        (["a", "b"], "['a', 'b']"),
        (float("nan"), "float('nan')"),
    ],
)
def test_python_literal(value, source):
    assert python_literal(value) == source


def test_injection_masks_secrets_only_when_asked():
    values = {"year": 2024, "key": "SECRET-7f3a9c", "start": dt.date(2024, 4, 1)}
    live = injection_source(values, ["key"])
    assert "key = 'SECRET-7f3a9c'" in live and "start = datetime.date(2024, 4, 1)" in live
    masked = injection_source(values, ["key"], mask=True)
    assert "SECRET" not in masked and "key = '***'" in masked and "year = 2024" in masked
    scope: dict = {}
    exec(live, scope)  # the injected cell is valid Python that yields real dates
    assert isinstance(scope["start"], dt.date)


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [(["a=1"], {"a": "1"}), (["q=x=y"], {"q": "x=y"}), (["a=1", "a=2"], {"a": "2"})],
)
def test_parse_assignments(pairs, expected):
    assert parse_assignments(pairs) == expected


def test_parse_assignments_refuses_missing_equals():
    with pytest.raises(ParameterError, match="名前=値"):
        parse_assignments(["start_fy"])


@pytest.mark.parametrize(
    ("yaml_text", "fragment"),
    [
        ("parameters:\n  a: {type: integer}\n", "型「integer」は使えません"),
        ("parameters:\n  a: {type: int, colour: red}\n", "未知の項目 colour"),
        ("parameters:\n  a: {type: enum}\n", "choices か choices_from"),
        (
            "parameters:\n  a: {type: enum, choices_from: {table: 'x; drop', column: y}}\n",
            "choices_from",
        ),
        ("parameters:\n  a: {type: int, default: abc}\n", "整数で指定してください"),
    ],
)
def test_bad_schemas_are_refused(tmp_path, yaml_text, fragment):
    (tmp_path / "t.params.yml").write_text(yaml_text, encoding="utf-8")
    with pytest.raises(ParameterError, match=fragment):
        load_schema(tmp_path / "t.ipynb")


def test_missing_sidecar_is_refused(tmp_path):
    with pytest.raises(ParameterError, match="t.params.yml がありません"):
        load_schema(tmp_path / "t.ipynb")


def _templates() -> list[Path]:
    found = sorted((ROOT / "notebooks" / "templates").glob("*.ipynb"))
    return found + sorted(FIXTURES.glob("*.ipynb"))


@pytest.mark.parametrize("notebook", _templates(), ids=lambda p: p.stem)
def test_schema_defaults_equal_the_parameters_cell(notebook):
    schema = load_schema(notebook)
    literals = notebook_defaults(nbformat.read(notebook, as_version=4))
    assert set(literals) == set(schema.params), (
        "parameters cell and schema name different parameters"
    )
    for name, spec in schema.params.items():
        assert literals[name] == spec.default, f"{notebook.name}: {name}"
        if spec.label_ja == "":
            pytest.fail(f"{notebook.name}: {name} has no label_ja")

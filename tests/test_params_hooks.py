"""Sidecar `checks:` hooks and `choices_from: {function: …}`: run by validate() before any kernel starts."""

from __future__ import annotations

import nbformat
import pytest
from ebpm.errors import ParameterError
from ebpm.report.params import choices_for, load_schema, validate

CALLS: list[dict] = []


def refuse_big(values: dict) -> None:
    """A hook for the test: n above 5 is refused naming the parameter."""
    CALLS.append(dict(values))
    if values["n"] > 5:
        raise ParameterError(
            f'パラメータ『n』は5以下（データの範囲）にしてください。指定値: "{values["n"]}"'
        )


def three_names() -> list[str]:
    return ["青山一丁目", "浅岸", "市全体"]


def _template(tmp_path, sidecar: str):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("n = 1\ntown = '浅岸'", metadata={"tags": ["parameters"]})
    ]
    path = tmp_path / "t.ipynb"
    nbformat.write(nb, path)
    (tmp_path / "t.params.yml").write_text(sidecar, encoding="utf-8")
    return path


@pytest.fixture
def hooks_module(monkeypatch):
    """Expose this test module as ebpm._test_hooks (hooks must live under ebpm.)."""
    import sys

    monkeypatch.setitem(sys.modules, "ebpm._test_hooks", sys.modules[__name__])
    CALLS.clear()


SIDECAR = """
checks:
  - ebpm._test_hooks:refuse_big
parameters:
  n: {type: int, default: 1}
  town:
    type: enum
    default: 浅岸
    choices_from: {function: "ebpm._test_hooks:three_names"}
"""


def test_hooks_run_after_coercion_and_refuse_in_japanese(tmp_path, hooks_module):
    schema = load_schema(_template(tmp_path, SIDECAR))
    assert schema.checks == ["ebpm._test_hooks:refuse_big"]
    assert validate(schema, {"n": "3"}) == {"n": 3, "town": "浅岸"}
    assert CALLS[-1] == {"n": 3, "town": "浅岸"}  # typed values, defaults filled in
    with pytest.raises(ParameterError, match="『n』は5以下"):
        validate(schema, {"n": "9"})


def test_choices_from_a_function(tmp_path, hooks_module):
    schema = load_schema(_template(tmp_path, SIDECAR))
    assert choices_for(schema.params["town"]) == three_names()
    with pytest.raises(ParameterError, match="青山一丁目、浅岸、市全体"):
        validate(schema, {"town": "存在しない町"})


@pytest.mark.parametrize(
    "bad",
    [
        "checks:\n  - os:system\nparameters: {}\n",  # only the project's own code
        "checks:\n  - ebpm.x\nparameters: {}\n",
        "parameters:\n  t: {type: enum, choices_from: {function: 'builtins:print'}}\n",
    ],
)
def test_hooks_outside_ebpm_are_refused(tmp_path, bad):
    with pytest.raises(ParameterError):
        load_schema(_template(tmp_path, bad))

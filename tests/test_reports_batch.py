"""Batch planning: grid files, --over param=all, validation of every set before any kernel starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from ebpm.errors import ParameterError
from ebpm.report.batch import over_all, plan, read_grid
from ebpm.report.params import load_schema

FIXTURES = Path(__file__).parent / "fixtures" / "reports"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- {n: 2}\n- {n: 3, kind: b}\n", [{"n": 2}, {"n": 3, "kind": "b"}]),
        (
            "product: {n: [2, 3], kind: [a, b]}\nfixed: {label: 都南}\n",
            [
                {"label": "都南", "n": 2, "kind": "a"},
                {"label": "都南", "n": 2, "kind": "b"},
                {"label": "都南", "n": 3, "kind": "a"},
                {"label": "都南", "n": 3, "kind": "b"},
            ],
        ),
        ("product: {n: 4}\n", [{"n": 4}]),
    ],
)
def test_read_grid(tmp_path, text, expected):
    path = tmp_path / "grid.yml"
    path.write_text(text, encoding="utf-8")
    assert read_grid(path) == expected


@pytest.mark.parametrize("text", ["n: [1, 2]\n", "- 1\n- 2\n", "product: [1]\n"])
def test_read_grid_refuses_other_shapes(tmp_path, text):
    path = tmp_path / "grid.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ParameterError, match="グリッドは"):
        read_grid(path)


def test_over_all_expands_enum_and_list_choices():
    schema = load_schema(FIXTURES / "basic.ipynb")
    assert over_all(schema, "kind=all") == [{"kind": "a"}, {"kind": "b"}, {"kind": "c"}]
    assert over_all(schema, "offices=all")[0] == {"offices": ["本庁"]}
    with pytest.raises(ParameterError, match="選択肢のあるパラメータ=all"):
        over_all(schema, "n=all")
    with pytest.raises(ParameterError, match="『zz』"):
        over_all(schema, "zz=all")


def test_plan_validates_every_set_first_and_names_the_bad_one(tmp_path):
    with pytest.raises(ParameterError, match="2番目の組: パラメータ『n』は整数"):
        plan(str(FIXTURES / "basic.ipynb"), [{"n": 2}, {"n": "x"}], out_root=tmp_path)
    jobs = plan(
        str(FIXTURES / "basic.ipynb"), [{"n": 2}, {"n": 3}], base={"kind": "c"}, out_root=tmp_path
    )
    assert [j.values["n"] for j in jobs] == [2, 3] and {j.values["kind"] for j in jobs} == {"c"}
    assert len({j.run_id for j in jobs}) == 2 and all(j.out_dir.parent == tmp_path for j in jobs)

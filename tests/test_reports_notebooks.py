"""Notebooks in git carry no outputs and no execution counts (templates and training alike)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(
    p
    for folder in ("notebooks", "training")
    for p in (ROOT / folder).rglob("*.ipynb")
    if ".ipynb_checkpoints" not in p.parts
)


def test_there_are_notebooks_to_check():
    assert any(p.parent.name == "templates" for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_has_no_outputs(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for i, cell in enumerate(nb["cells"], start=1):
        if cell["cell_type"] != "code":
            continue
        assert cell.get("outputs") == [], f"{path.name}: セル{i}に出力が残っています（nbstripout）"
        assert cell.get("execution_count") is None, f"{path.name}: セル{i}に実行番号が残っています"
    assert "papermill" not in nb.get("metadata", {}), (
        f"{path.name}: papermill の実行記録が残っています"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_is_valid_nbformat_4(path):
    """`ebpm run` reads templates without nbformat's validation (runner.read_notebook); this is it."""
    import nbformat
    from ebpm.report.runner import read_notebook

    nb = read_notebook(path)
    assert nb.nbformat == 4
    nbformat.validate(nb)
    assert nb == nbformat.read(path, as_version=4)

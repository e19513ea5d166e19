"""Worked examples (notebooks/examples/*.py, jupytext percent) run from top to bottom on the built catalog."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "notebooks" / "examples").glob("example_*.py"))

pytestmark = pytest.mark.slow


def test_there_are_at_least_three_examples():
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs(full_curated, path, tmp_path):
    import jupytext
    from nbclient import NotebookClient

    nb = jupytext.read(path)
    assert nb.cells[0].cell_type == "markdown" and "問い" in nb.cells[0].source
    # the venv's own python3 kernel: the same interpreter, EBPM_CURATED inherited from the fixture
    client = NotebookClient(
        nb, kernel_name="python3", timeout=600, resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    errors = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert not errors

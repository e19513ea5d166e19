"""Worked examples (notebooks/examples/*.py, jupytext percent) run from top to bottom on the built catalog."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "notebooks" / "examples").glob("example_*.py"))

# one worker shares the one full build (conftest full_curated) with the study library
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("full_curated")]


def test_there_are_at_least_three_examples():
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs(with_curated, path, tmp_path):
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


DX_EXAMPLE = ROOT / "notebooks" / "examples" / "dx_online_counter.py"


def test_dx_example_opens_on_the_ebpm_kernel():
    import jupytext

    nb = jupytext.read(DX_EXAMPLE)
    assert nb.metadata["kernelspec"]["name"] == "ebpm"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")


def test_dx_example_recovers_the_planted_effect_and_renders(with_curated, tmp_path):
    """The planner's path on the DX example: executed on the ebpm kernel, its 95% CI holds the truth
    planted in the 模擬データ city, and it renders with answer, grade, sources and the banner."""
    import json
    import os
    import subprocess
    import sys

    import jupytext
    import nbformat
    from ebpm.report.runner import fold_records, notebook_records, render_notebook

    nb = jupytext.read(DX_EXAMPLE)
    path = tmp_path / "dx_online_counter.ipynb"
    nbformat.write(nb, path)
    jupyter = Path(sys.executable).with_name("jupyter")
    subprocess.run(
        [str(jupyter), "execute", "--inplace", "--timeout=900", str(path)],
        check=True,
        cwd=tmp_path,
        env={**os.environ, "EBPM_ROOT": str(ROOT)},
        capture_output=True,
    )
    rec = fold_records(notebook_records(nbformat.read(path, as_version=4)))
    check = rec["results"]["truth_check"]
    assert check["covered"], check  # truth from ground_truth.yml inside the 95% CI
    assert check["ci"][0] < check["truth"] < check["ci"][1]
    outcome = render_notebook(path, out=tmp_path / "out", pdf=False)
    assert outcome.status == "ok", outcome.error
    result = json.loads((tmp_path / "out" / "result.json").read_text(encoding="utf-8"))
    assert "窓口での申請件数" in result["answer"] and "%" in result["answer"]
    assert result["grade"] in {"A", "B", "C", "D"} and result["grade_reasons"]
    assert any("当初から介入済み" in r for r in result["grade_reasons"])
    # the catalog's eligibility column (procedure.online_legally_possible) was used without eligible=
    did = result["results"]["did"]
    assert did["diagnostics"]["eligibility_from_catalog"] is True
    assert did["diagnostics"]["n_ineligible_controls"] > 0
    assert {s["table"] for s in result["sources"]} == {"procedure", "procedure_usage"}
    html = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert "synthetic-banner" in html

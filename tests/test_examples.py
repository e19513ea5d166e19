"""Worked examples (notebooks/examples/*.py, jupytext percent) run on the ebpm kernel and render to reports.

The DX example must recover the effect planted in the 模擬データ city (its 95%信頼区間 holds the
truth from ground_truth.yml) and render with answer, grade, sources and the 模擬データ banner.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest
from ebpm.report.runner import fold_records, notebook_records, render_notebook

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "notebooks" / "examples").glob("*.py"))


def test_examples_exist_and_open_on_the_ebpm_kernel():
    assert EXAMPLES
    for path in EXAMPLES:
        nb = jupytext.read(path)
        assert nb.metadata["kernelspec"]["name"] == "ebpm"
        assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")


@pytest.mark.slow
def test_dx_example_recovers_the_planted_effect_and_renders(tmp_path):
    nb = jupytext.read(ROOT / "notebooks" / "examples" / "dx_online_counter.py")
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
    assert {s["table"] for s in result["sources"]} == {"procedure", "procedure_usage"}
    html = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert "synthetic-banner" in html

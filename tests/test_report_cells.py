"""`ebpm.report.cells.CellRunner` (what `ebpm run` executes notebooks with): every cell in order, stop at
the first error without raising, papermill's record of each cell; a timeout names the step that stopped."""

from __future__ import annotations

import nbformat
import pytest
from ebpm.report.kernels import Kernel
from ebpm.report.runner import execute

pytestmark = pytest.mark.slow


def _notebook(*cells):
    nb = nbformat.v4.new_notebook()
    for kind, source in cells:
        make = nbformat.v4.new_markdown_cell if kind == "md" else nbformat.v4.new_code_cell
        nb.cells.append(make(source))
    nb.metadata["papermill"] = {"input_path": "x.ipynb", "parameters": {}}
    return nb


@pytest.fixture
def kernel(tmp_path):
    k = Kernel(cwd=tmp_path)
    yield k
    k.shutdown()


def test_cells_run_in_order_and_stop_at_the_first_error(kernel):
    nb = _notebook(
        ("md", "## 集計"),
        ("code", "x = 40 + 2\nprint(x)"),
        ("md", "## 推定"),
        ("code", "1 / 0"),
        ("code", "print('ここは実行しない')"),
    )
    done, error = execute(nb, kernel, timeout=120)
    cells = done.cells
    assert cells[1].outputs[0]["text"] == "42\n"
    assert [c.metadata["papermill"]["status"] for c in cells] == [
        "completed",
        "completed",
        "completed",
        "failed",
        "pending",
    ]
    assert cells[3].metadata["papermill"]["exception"] is True
    assert cells[3].metadata["papermill"]["duration"] >= 0
    assert cells[4].outputs == [] and cells[4].execution_count is None
    assert done.metadata["papermill"]["exception"] is True
    assert done.metadata["papermill"]["input_path"] == "x.ipynb"  # kept
    assert done.metadata["language_info"]["name"] == "python"
    assert error == {"step": "推定", "message": "ZeroDivisionError: division by zero"}
    nbformat.validate(done)


def test_a_cell_over_the_time_limit_names_its_step(kernel):
    # only the cell that never returns is code, so no other cell can meet the limit on a busy machine
    assert kernel.run_code("pass")["status"] == "ok"  # the kernel is up before the clock starts
    nb = _notebook(
        ("md", "## 準備"),
        ("md", "## 重い計算"),
        ("code", "import threading\nthreading.Event().wait()"),  # never returns by itself
    )
    done, error = execute(nb, kernel, timeout=1)
    assert error == {"step": "重い計算", "message": "1秒を超えたため打ち切りました。"}
    assert done.cells[2].metadata["papermill"]["status"] == "running"
    assert done.metadata["papermill"]["duration"] is not None

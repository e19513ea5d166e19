"""A planner's own notebook → a correct report: records kept in the notebook, render refuses without them,
`ebpm new` scaffolds, scratch renders never touch the evidence register.

The render tests use the project's curated database (`ebpm build`), as the report tests do.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from ebpm.errors import ParameterError
from ebpm.report.kernel import RECORD_MIME
from ebpm.report.params import load_schema, notebook_defaults
from ebpm.report.runner import fold_records, notebook_records, render_notebook
from ebpm.report.scaffold import new_notebook

# the data these tests read comes from the full build (conftest with_curated)
pytestmark = pytest.mark.usefixtures("with_curated")

ROOT = Path(__file__).resolve().parents[1]


def _record_output(line: dict) -> nbformat.NotebookNode:
    return nbformat.v4.new_output(
        "display_data",
        data={"text/plain": f"（ebpm: {line['name']} を記録しました）", RECORD_MIME: line},
    )


def _notebook(records: list[dict], *, title: str = "# 窓口の来庁者数") -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("ebpm.record(...)")
    cell.outputs = [_record_output(r) for r in records]
    shown = nbformat.v4.new_code_cell("print('本文の出力')")
    shown.outputs = [nbformat.v4.new_output("stream", name="stdout", text="本文の出力\n")]
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(title), shown, cell])


def _headline() -> dict:
    """A real result (its grade comes from the grading rule; a typed grade would be refused)."""
    from ebpm.methods.grading import Check, decide
    from ebpm.result import EstimationResult

    res = EstimationResult(
        method="its",
        method_ja="分割時系列分析（ITS）",
        estimate=0.88,
        se=0.02,
        ci=(0.84, 0.92),
        pvalue=0.001,
        n=48,
        se_type="通常",
        unit="",
        outcome_label="来庁者数",
        grading=decide("its", [Check("placebo_in_time", True, "偽の開始時点で変化は見られない。")]),
        synthetic=True,
        _summary_builder=lambda r: "介入後、来庁者数は約12%減った。",
    )
    return {"name": "its", "value": res.to_dict(), "result": True, "headline": True}


HEADLINE = _headline()


def test_new_scaffolds_a_notebook_and_params(tmp_path):
    written = new_notebook("counter_online", tmp_path, title="オンライン手続と窓口")
    assert [p.name for p in written] == ["counter_online.ipynb", "counter_online.params.yml"]
    nb = nbformat.read(written[0], as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "ebpm"
    schema = load_schema(written[0])
    assert schema.title_ja == "オンライン手続と窓口"
    assert {k: v.default for k, v in schema.params.items()} == notebook_defaults(nb)
    with pytest.raises(ParameterError, match="上書きはしません"):
        new_notebook("counter_online", tmp_path)
    with pytest.raises(ParameterError, match="英小文字で始まり"):
        new_notebook("窓口", tmp_path)
    bare = new_notebook("no_params", tmp_path, params=False)
    assert [p.name for p in bare] == ["no_params.ipynb"]
    nb = nbformat.read(bare[0], as_version=4)
    assert not any("parameters" in c.metadata.get("tags", []) for c in nb.cells)


def test_records_fold_from_outputs_in_cell_order():
    nb = _notebook(
        [
            {"name": "_tables", "value": ["counter_visit"]},
            {"name": "answer", "value": "古い答え"},
            {"name": "answer", "value": "新しい答え"},
            {"name": "_tables", "value": ["call_centre"]},
        ]
    )
    rec = fold_records(notebook_records(nb))
    assert rec["answer"] == "新しい答え"
    assert rec["tables"] == ["call_centre", "counter_visit"]


def test_render_refuses_a_notebook_without_records(tmp_path):
    path = tmp_path / "mine.ipynb"
    nbformat.write(_notebook([]), path)
    with pytest.raises(ParameterError, match="ebpm.record の記録も、使った表の記録もありません"):
        render_notebook(path, out=tmp_path / "out", pdf=False)
    assert not (tmp_path / "out").exists()


def test_render_refuses_a_notebook_without_an_answer(tmp_path):
    path = tmp_path / "mine.ipynb"
    nbformat.write(_notebook([{"name": "title", "value": "題名"}]), path)
    with pytest.raises(ParameterError, match=r"答えがありません.*記録済み: title"):
        render_notebook(path, out=tmp_path / "out", pdf=False)


def _register_rows() -> int:
    from ebpm.config import paths

    reg = paths().register
    if not reg.exists():
        return 0
    import duckdb

    con = duckdb.connect(str(reg), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM evidence").fetchone()[0]
    finally:
        con.close()


def test_render_uses_the_records_and_stays_out_of_the_register(tmp_path):
    path = tmp_path / "mine.ipynb"
    nbformat.write(_notebook([{"name": "_tables", "value": ["counter_visit"]}, HEADLINE]), path)
    before = _register_rows()
    outcome = render_notebook(path, out=tmp_path / "scratch", pdf=False)  # outside reports/
    assert outcome.status == "ok", outcome.error
    result = json.loads((tmp_path / "scratch" / "result.json").read_text(encoding="utf-8"))
    assert result["answer"].startswith("介入後、来庁者数は約12%減った。")
    assert result["grade"] == HEADLINE["value"]["grade"]
    assert set(HEADLINE["value"]["reasons"]) <= set(result["grade_reasons"])
    assert [s["table"] for s in result["sources"]] == ["counter_visit"]
    assert result["synthetic"] is True
    html = (tmp_path / "scratch" / "index.html").read_text(encoding="utf-8")
    assert "synthetic-banner" in html and "模擬データ" in html
    assert "ebpm render mine.ipynb" in html and "ebpm run" not in html
    assert "を記録しました" not in html  # record outputs feed the report, they are not content
    assert "本文の出力" in html
    assert _register_rows() == before


def test_no_register_inside_reports(tmp_path):
    from ebpm.config import paths

    path = tmp_path / "mine.ipynb"
    nbformat.write(_notebook([HEADLINE]), path)
    before = _register_rows()
    out = paths().reports / "mine" / "x1"
    outcome = render_notebook(path, out=out, pdf=False, register=False)
    assert outcome.status == "ok"
    assert _register_rows() == before
    # the same render under reports/ with the register on is recorded (the check above can fail)
    assert render_notebook(path, out=paths().reports / "mine" / "x2", pdf=False).status == "ok"
    assert _register_rows() == before + 1


@pytest.mark.slow
def test_jupyter_execute_on_the_ebpm_kernel_then_render(tmp_path):
    """The planner's path: a notebook executed on the ebpm kernel (as JupyterLab does), saved, rendered."""
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# 来庁者数の推移"),
            nbformat.v4.new_code_cell(
                "import ebpm\n"
                "df = ebpm.load('counter_visit', office='本庁')\n"
                "res = ebpm.its(df, y='visits', time='month', start='令和5年4月1日')"
            ),
            nbformat.v4.new_code_cell("ebpm.record('its', res, headline=True)"),
        ]
    )
    nb.metadata["kernelspec"] = {
        "name": "ebpm",
        "display_name": "ebpm (Python 3)",
        "language": "python",
    }
    path = tmp_path / "mine.ipynb"
    nbformat.write(nb, path)
    jupyter = Path(sys.executable).with_name("jupyter")
    env = {**os.environ, "EBPM_ROOT": str(ROOT)}
    subprocess.run(
        [str(jupyter), "execute", "--inplace", "--timeout=600", str(path)],
        check=True,
        cwd=tmp_path,
        env=env,
        capture_output=True,
    )
    executed = nbformat.read(path, as_version=4)
    names = [line["name"] for line in notebook_records(executed)]
    assert "_tables" in names and "its" in names
    outcome = render_notebook(path, out=tmp_path / "out", pdf=False)
    assert outcome.status == "ok", outcome.error
    result = json.loads((tmp_path / "out" / "result.json").read_text(encoding="utf-8"))
    assert result["answer"] and "来庁者数" in result["answer"]
    assert result["grade"] in {"A", "B", "C", "D"}
    assert [s["table"] for s in result["sources"]] == ["counter_visit"]
    assert "synthetic-banner" in (tmp_path / "out" / "index.html").read_text(encoding="utf-8")


def test_run_accepts_a_notebook_without_parameters(tmp_path):
    from ebpm.report.runner import make_job, prepare_notebook

    (path,) = new_notebook("bare", tmp_path, title="条件なし", params=False)
    job = make_job(str(path), {}, out=tmp_path / "out")
    assert job.schema.params == {} and job.schema.title_ja == "条件なし"
    assert job.made_by == "ebpm run bare.ipynb"  # never the absolute path
    nb = prepare_notebook(job.schema, job.values)
    assert not any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)
    with pytest.raises(ParameterError, match="table"):
        make_job(str(path), {"table": "counter_visit"})


def test_a_notebook_that_stopped_renders_as_failed_without_an_answer(tmp_path):
    nb = _notebook([{"name": "_tables", "value": ["counter_visit"]}])
    err = nbformat.v4.new_code_cell("1/0")
    err.outputs = [
        nbformat.v4.new_output(
            "error", ename="ZeroDivisionError", evalue="division by zero", traceback=[]
        )
    ]
    nb.cells.append(err)
    path = tmp_path / "stopped.ipynb"
    nbformat.write(nb, path)
    outcome = render_notebook(path, out=tmp_path / "out", pdf=False)
    assert outcome.status == "failed" and "ZeroDivisionError" in outcome.error["message"]

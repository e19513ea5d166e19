"""Running one report: a warm kernel, execution (nbclient, papermill's cell record), scrubbing, HTML/PDF, result.json."""

from __future__ import annotations

import ast
import datetime as dt
import json
import os
import re
import secrets as _random
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, NamedTuple

from ebpm.config import paths
from ebpm.errors import ParameterError
from ebpm.report.kernels import KERNEL_NAME, SETUP_TIMEOUT_S, Kernel, KernelPool  # noqa: F401
from ebpm.report.outcome import RunOutcome  # noqa: F401  (re-exported: batch, service, tests)
from ebpm.report.params import TemplateSchema, injection_source, load_schema, parameters_cell_index

JST = dt.timezone(dt.timedelta(hours=9), "JST")
EXECUTION_TIMEOUT_S = 1800


_TEMPLATE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]*")


def template_path(name: str) -> Path:
    """Resolve a template name (or a path to a notebook) to its ``.ipynb``."""
    candidate = Path(name)
    if candidate.suffix == ".ipynb" and candidate.exists():
        return candidate.resolve()
    if not _TEMPLATE_NAME.fullmatch(name):  # a name never leaves the templates folder
        raise ParameterError(
            f"分析テンプレート名「{name}」は使えません。名前は英数字・_・- だけです"
            "（ebpm templates で一覧）。",
            parameter="template",
        )
    path = paths().templates / f"{name}.ipynb"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in paths().templates.glob("*.ipynb"))) or "（なし）"
        raise ParameterError(f"分析テンプレート「{name}」はありません。使えるテンプレート: {known}")
    return path


def new_run_id(now: dt.datetime | None = None) -> str:
    """``20261126-141500-ab12``: time of the run (JST) plus a short random suffix."""
    now = now or dt.datetime.now(JST)
    return now.strftime("%Y%m%d-%H%M%S-") + _random.token_hex(2)


# words in a notebook's code that may end in a chart being rendered (a wrong "yes" only costs the
# warm-up; a wrong "no" makes the first chart pay for starting vl-convert instead)
_MAY_DRAW = re.compile(r"figure|chart|alt\b|altair|choropleth|map|plot|display|svg|vl_convert")


def warmup_source(nb) -> str:
    """Code that imports what the template imports, so a pre-started kernel pays that cost early.

    ``nb`` is a notebook node, or a path (read as plain JSON: the kernel starts before nbformat loads).
    """
    return warmup_code(warmup_lines(nb))


def warmup_code(lines: list[str]) -> str:
    """Guarded warm-up code (:func:`ebpm.report.warm.guarded`) of ``lines``, leaving no ``ebpm`` name."""
    from ebpm.report.warm import guarded

    body = guarded(lines)
    return body + "\ndel ebpm\n" if "import ebpm" in body else body


def warmup_lines(nb) -> list[str]:
    """The warm-up statements for ``nb`` (see :func:`warmup_source`), one per line, unguarded."""
    from ebpm.report.warm import RENDERER_WARMUP

    if isinstance(nb, (str, Path)):
        nb = json.loads(Path(nb).read_text(encoding="utf-8"))
    lines = ["import ebpm.report.kernel"]
    sources = [
        "".join(c.get("source", "")) if isinstance(c.get("source"), list) else c.get("source", "")
        for c in nb["cells"]
        if c.get("cell_type") == "code"
    ]
    if any(_MAY_DRAW.search(source) for source in sources):
        # start vl-convert's engine while waiting; a notebook that draws nothing (no chart, map,
        # figure or display) skips it
        lines.append(RENDERER_WARMUP)
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for stmt in tree.body:
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                lines.append(ast.unparse(stmt))
    return lines


def read_notebook(path: str | Path):
    """A notebook as nbformat's node, read without nbformat's schema validation when it is version 4.

    Validating compiles nbformat's schema the first time in a process (about 0.2 s before a warm run's
    first cell); the templates and lessons in the repository are validated by the tests
    (tests/test_reports_notebooks.py), and the notebook a run writes is validated when it is written.
    Other versions go through ``nbformat.read`` (conversion included).
    """
    import nbformat

    text = Path(path).read_text(encoding="utf-8")
    data = json.loads(text)
    if data.get("nbformat") != 4:
        return nbformat.reads(text, as_version=4)
    return nbformat.v4.to_notebook(data)  # nbformat's v4 reader: lines rejoined, transient dropped


def prepare_notebook(schema: TemplateSchema, values: dict[str, Any]):
    """Template notebook with the injected-parameters cell after the ``parameters`` cell."""
    import nbformat

    nb = read_notebook(schema.notebook)
    if schema.params:  # a notebook without parameters (no .params.yml) runs as it is
        idx = parameters_cell_index(nb)
        cell = nbformat.v4.new_code_cell(injection_source(values, schema.secret_names))
        cell.metadata["tags"] = ["injected-parameters"]
        nb.cells.insert(idx + 1, cell)
    nb.metadata["papermill"] = {"input_path": str(schema.notebook), "parameters": {}}
    nb.metadata["kernelspec"] = {
        "name": KERNEL_NAME,
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def _step_of(nb, index: int) -> str:
    """The markdown heading above cell ``index`` or 「セルN」 (N counts template cells)."""
    for j in range(index, -1, -1):
        cell = nb.cells[j]
        if cell.get("cell_type") == "markdown":
            for line in cell.source.splitlines():
                if line.lstrip().startswith("#"):
                    return line.lstrip("# ").strip()
    injected = sum(
        1
        for c in nb.cells[:index]
        if "injected-parameters" in c.get("metadata", {}).get("tags", [])
    )
    return f"セル{index + 1 - injected}"


def find_failure(nb) -> dict[str, str] | None:
    """``{"step", "message"}`` of the first failed cell, or None."""
    for i, cell in enumerate(nb.cells):
        pm = cell.get("metadata", {}).get("papermill", {})
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if errors or pm.get("exception"):
            if errors:
                err = errors[0]
                message = f"{err.get('ename', 'エラー')}: {err.get('evalue', '')}".strip(": ")
            else:
                message = "原因不明のエラーで停止しました。"
            return {"step": _step_of(nb, i), "message": message}
    return None


def _running_step(nb) -> str:
    for i, cell in enumerate(nb.cells):
        if cell.get("metadata", {}).get("papermill", {}).get("status") == "running":
            return _step_of(nb, i)
    return "実行"


def execute(
    nb, kernel: Kernel, *, timeout: int = EXECUTION_TIMEOUT_S, cancel: Cancel | None = None
) -> tuple[Any, dict | None]:
    """Execute ``nb`` on ``kernel`` (:class:`ebpm.report.cells.CellRunner`); return (notebook, error or None).

    A ``cancel`` that is set stops the loop before the next cell.
    """
    import logging

    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    from ebpm.report.cells import CellRunner

    kernel.ensure_ready()  # the first cell's output must not be lost to an unconnected IOPub
    client = CellRunner(
        nb,
        km=kernel.km,
        kernel_name=KERNEL_NAME,
        timeout=timeout,
        startup_timeout=SETUP_TIMEOUT_S,
        raise_on_iopub_timeout=True,
        log=logging.getLogger("ebpm.report"),
    )
    client.kc = kernel.kc
    client.cancel = cancel
    error = None
    try:
        client.run()
    except CellTimeoutError:
        error = {
            "step": _running_step(nb),
            "message": f"{timeout}秒を超えたため打ち切りました。",
        }
    except DeadKernelError:
        error = {
            "step": _running_step(nb),
            "message": "カーネルが停止しました（メモリ不足の可能性）。",
        }
    return nb, error or find_failure(nb)


# names that feed the summary block (docs/reports.md), not the results table
SUMMARY_NAMES = (
    "title",
    "question",
    "answer",
    "recommendation",
    "caveats",
    "effect",
    "summary_chart",
    "grade",
    "grade_reasons",
)


def read_records(path: Path) -> dict[str, Any]:
    """Fold the ``ebpm.record`` sidecar (JSON lines) into title, answer, results, headline, tables."""
    if not path.exists():
        return fold_records([])
    lines = path.read_text(encoding="utf-8").splitlines()
    return fold_records([json.loads(line) for line in lines if line.strip()])


def fold_records(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Fold ``ebpm.record`` lines (in order; a later line wins) into a report's record.

    Returns ``{"results", "tables", "headline", "lines"}`` plus ``title``, ``answer``, ``grade``,
    ``grade_reasons`` and the other special names when recorded. ``tables`` is the union of the
    ``_tables`` lines (a run appends the whole list; a notebook cell its own tables).
    """
    rec: dict[str, Any] = {"results": {}, "tables": [], "headline": None, "lines": list(items)}
    for item in items:
        name = item["name"]
        if name == "_tables":
            rec["tables"] = sorted(set(rec["tables"]) | set(item["value"]))
        elif name == "headline" and "ref" in item:
            rec["headline"] = item["ref"]
        elif name in SUMMARY_NAMES:
            rec[name] = item["value"]  # a grade is checked against the rule in finish_report
        else:
            rec["results"][name] = item["value"]
            if item.get("headline") or name == "headline":
                rec["headline"] = name
    return rec


def notebook_records(nb) -> list[dict[str, Any]]:
    """The ``ebpm.record`` lines saved in a notebook: ``metadata.ebpm.records`` (written by
    ``ebpm run``), then the record outputs of its cells in order (a notebook run interactively)."""
    from ebpm.report.kernel import RECORD_MIME

    items = list((nb.metadata.get("ebpm") or {}).get("records") or [])
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            line = out.get("data", {}).get(RECORD_MIME)
            if isinstance(line, dict) and "name" in line:
                items.append(line)
    return items


class ReportJob:
    """Everything about one run that does not need the kernel (so it can be validated first).

    ``register``: add the report to the evidence register. Only reports written under
    ``reports/`` are registered, whatever this says (a scratch ``--out`` never touches it).
    ``made_by``: the command named in the report's footer.
    """

    def __init__(
        self,
        schema: TemplateSchema,
        values: dict[str, Any],
        out_dir: Path,
        run_id: str,
        prereg: dict[str, Any] | None = None,
        *,
        register: bool = True,
        made_by: str | None = None,
    ):
        self.schema = schema
        self.values = values
        self.out_dir = out_dir
        self.run_id = run_id
        self.prereg = prereg  # 事前登録 (ebpm.report.prereg); None = run without a plan
        self.register = register
        self.made_by = made_by or f"ebpm run {schema.name}"


class Executed(NamedTuple):
    """A report whose notebook has run (or failed to): all :func:`finish_report` needs."""

    nb: Any
    error: dict[str, str] | None
    rec: dict[str, Any]
    timings: dict[str, float]
    t_start: float | None


def finish_executed(job: ReportJob, done: Executed, printer, *, pdf: bool = True) -> RunOutcome:
    """:func:`finish_report` of what :func:`execute_job` returned."""
    return finish_report(
        job,
        done.nb,
        done.error,
        done.rec,
        printer,
        pdf=pdf,
        timings=done.timings,
        t_start=done.t_start,
    )


def execute_job(job: ReportJob, kernel: Kernel, cancel: Cancel | None = None) -> Executed:
    """Run ``job``'s notebook on ``kernel``.

    The kernel is free again when this returns, so a batch worker can start the next report while
    this one is rendered and printed (:func:`finish_report` needs no kernel). Once ``cancel`` is
    set, no further cell runs and nothing more is sent to the kernel.
    """
    t_start = time.perf_counter()
    timings: dict[str, float] = {"kernel_start": kernel.started_s if kernel.runs == 0 else 0.0}
    schema, values = job.schema, job.values

    with tempfile.TemporaryDirectory(prefix="ebpm-run-") as tmp:
        record_path = Path(tmp) / "record.jsonl"
        t = time.perf_counter()
        setup = kernel.run_code(  # begin_run empties the namespace, this name included
            f"import ebpm.report.kernel as _ebpm_kernel\n_ebpm_kernel.begin_run({str(record_path)!r})\n"
        )
        timings["kernel_ready"] = time.perf_counter() - t
        if setup.get("status") != "ok":
            error = {
                "step": "実行環境の準備",
                "message": f"カーネルの準備に失敗しました: {setup.get('ename')}: {setup.get('evalue')}",
            }
            empty = {"results": {}, "tables": [], "headline": None}
            return Executed(prepare_notebook(schema, values), error, empty, timings, None)
        t = time.perf_counter()
        if cancel is not None:
            cancel.started()
        nb, error = execute(prepare_notebook(schema, values), kernel, cancel=cancel)
        if cancel is not None:
            cancel.done()
        if (cancel is None or not cancel.is_set()) and (error is None or kernel.alive()):
            try:
                kernel.run_code("import ebpm.report.kernel as _k\n_k.end_run()\ndel _k\n")
            except Exception:
                pass
        timings["execute"] = time.perf_counter() - t
        rec = read_records(record_path)
        nb.metadata["ebpm"] = {"records": rec["lines"]}  # so `ebpm render` can re-make the report
    return Executed(nb, error, rec, timings, t_start)


def finish_report(
    job: ReportJob,
    nb,
    error: dict[str, str] | None,
    rec: dict[str, Any],
    printer,
    *,
    pdf: bool = True,
    timings: dict[str, float] | None = None,
    t_start: float | None = None,
) -> RunOutcome:
    """Scrub, check disclosure, write notebook.ipynb, index.html, report.pdf and result.json."""
    from ebpm.report import render, scrub
    from ebpm.report.provenance import build_info, code_version, sources, vintage

    t_start = time.perf_counter() if t_start is None else t_start
    timings = {} if timings is None else timings
    schema, values = job.schema, job.values
    out = job.out_dir
    out.mkdir(parents=True, exist_ok=True)
    created = dt.datetime.now(JST)
    warnings: list[str] = []
    t = time.perf_counter()
    secret_names = schema.secret_names
    nb = scrub.scrub_notebook(nb, values, secret_names)
    secrets = scrub.secret_strings(values, secret_names)
    if error:
        error = {k: scrub.strip_ansi(scrub.mask_text(v, secrets)) for k, v in error.items()}
    problems = _disclosure_problems(nb)
    withheld = False
    if problems:
        withheld = True
        error = error or {
            "step": "秘匿処理の確認",
            "message": "秘匿処理の規則に反する出力があるため、結果を表示しません: "
            + "；".join(scrub.mask_text(str(p), secrets) for p in problems[:5]),
        }
        for cell in nb.cells:
            if cell.get("cell_type") == "code":
                cell["outputs"] = []
        rec["results"] = {}
        rec.pop("answer", None)

    manifest = None
    from ebpm.report.provenance import read_manifest

    manifest = read_manifest()
    srcs = sources(rec.get("tables") or [], manifest)
    results = rec["results"]
    headline = rec.get("headline")
    head = results.get(headline) if headline else None
    grading, grade_problem = _checked_grading(rec, head, headline)
    if grade_problem:
        error = error or {
            "step": "根拠の確かさの確認",
            "message": scrub.mask_text(grade_problem, secrets),
        }
    grade = grading.grade if grading else None
    grade_label = grading.label if grading else ""
    reasons = list(grading.reasons) if grading else []
    from ebpm.report import prereg as _prereg

    prereg = job.prereg or _prereg.no_plan()
    if (
        grading is not None
    ):  # the grade's reasons (even without a letter) say whether a plan was fixed
        reasons = [*reasons, prereg["reason"]]
    synthetic = any(s["synthetic"] for s in srcs) or any(
        isinstance(r, dict) and r.get("synthetic") for r in results.values()
    )
    status = "failed" if error else "ok"
    title = str(rec.get("title") or schema.title_ja)
    answer = rec.get("answer")
    if answer is None and isinstance(head, dict) and head.get("summary_ja"):
        # the summary's one grade lives in its 根拠の確かさ box, never inside the 結論
        import re as _re

        answer = _re.sub(
            r"(?:エビデンスの強さ|根拠の確かさ)は[^。]*。", "", str(head["summary_ja"])
        )
    duration = time.perf_counter() - t_start
    public_params = {k: v for k, v in values.items() if k not in secret_names}

    from ebpm.report.summary import build_summary
    from ebpm.result import _json_safe

    summary = build_summary(
        rec,
        grading=grading,
        meta=schema.meta,
        synthetic=synthetic,
        created=created,
        vintage=vintage(srcs),
    )
    box = summary["evidence"]
    context = {
        "ebpm_version": _version(),
        "template": schema.name,
        "template_title": schema.title_ja,
        "title": title,
        "answer": answer,
        "summary": summary,
        "grade": grade,
        "grade_label": grade_label,
        "grade_reasons": reasons,
        "prereg": prereg,
        "failed": status == "failed",
        "error": error,
        "parameters": [
            {
                "label": schema.params[k].label,
                "value": render.format_value(schema.params[k].display(v)),
            }
            for k, v in public_params.items()
        ],
        "hidden_count": len(secret_names),
        "blocks": [] if withheld else render.notebook_blocks(nb),
        "synthetic": synthetic,
        "synthetic_tables": sorted({s["title"] for s in srcs if s["synthetic"]}) or ["一部の表"],
        "build": build_info(manifest),
        "build_time": _jst_text(build_info(manifest).get("built_at")),
        "glossary": [],
        "suppressed": _has_suppressed(nb),
        "vintage": vintage(srcs),
        "code_version": code_version(),
        "created_at": f"{summary['date']} {created:%H:%M}（日本時間）",
        "duration_s": duration,
        "run_id": job.run_id,
        "sources": srcs,
        "made_by": job.made_by,
    }
    from ebpm.report.terms import glossary_for

    context["glossary"] = glossary_for(render.render_html(context))
    html_text = scrub.mask_text(render.render_html(context), secrets)
    html_path = out / "index.html"
    html_path.write_text(html_text, encoding="utf-8")
    import nbformat

    nbformat.write(nb, out / "notebook.ipynb")
    timings["html"] = time.perf_counter() - t

    files = {"html": "index.html", "notebook": "notebook.ipynb", "pdf": None}
    (out / "report.pdf").unlink(
        missing_ok=True
    )  # never leave an earlier run's PDF beside this report
    if pdf and printer is not None:
        t = time.perf_counter()
        try:
            printer.print_pdf(html_path, out / "report.pdf")
            files["pdf"] = "report.pdf"
        except Exception as exc:
            warnings.append(scrub.mask_text(f"PDF を作成できませんでした: {exc}", secrets))
        timings["pdf"] = time.perf_counter() - t

    duration = time.perf_counter() - t_start
    result = {
        "template": schema.name,
        "template_title": schema.title_ja,
        "title": title,
        "run_id": job.run_id,
        "created_at": created.isoformat(timespec="seconds"),
        "status": status,
        "answer": answer,
        "grade": grade,
        "grade_label": grade_label,
        "grade_reasons": reasons,
        "evidence_kind": box["kind"],
        "question": summary["question"],
        "recommendation": summary["recommendation"],
        "caveats": summary["caveats"],
        "effect": summary["effect"],
        "supporting": summary["supporting"],
        "method_range": summary["range"],
        "meta": schema.meta,
        "fiscal_year": _fiscal_year(public_params),
        "preregistration": prereg,
        "parameters": _json_safe(public_params),
        "results": results,
        "headline": headline,
        "build": build_info(manifest),
        "vintage": vintage(srcs),
        "sources": [
            {
                k: s[k]
                for k in (
                    "table",
                    "title",
                    "publisher",
                    "licence",
                    "licence_url",
                    "attribution",
                    "vintage",
                    "synthetic",
                )
            }
            for s in srcs
        ],
        "synthetic": synthetic,
        "code_version": code_version(),
        "duration_s": round(duration, 3),
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "error": error,
        "files": files,
    }
    text = json.dumps(_json_safe(result), ensure_ascii=False, indent=2)
    result_path = out / "result.json"
    partial = out / "result.json.tmp"  # the portal never reads a half-written file
    partial.write_text(scrub.mask_text(text, secrets), encoding="utf-8")
    os.replace(partial, result_path)
    if job.register and _inside(out, paths().reports):
        warnings.extend(_register(result_path))
    return RunOutcome(
        template=schema.name,
        run_id=job.run_id,
        out_dir=str(out),
        status=status,
        error=error,
        duration_s=duration,
        timings=timings,
        warnings=warnings,
        parameters=_json_safe(public_params),
    )


def _inside(path: Path, folder: Path) -> bool:
    try:
        Path(path).resolve().relative_to(Path(folder).resolve())
    except ValueError:
        return False
    return True


def _jst_text(value: Any) -> str | None:
    """An ISO time (any zone) as 和暦（西暦） date and time in Japan time."""
    from ebpm.report.register import parse_jst
    from ebpm.report.summary import wareki_date

    when = parse_jst(value)
    return f"{wareki_date(when)} {when:%H:%M}（日本時間）" if when else None


def _has_suppressed(nb) -> bool:
    """Whether any shown table carries a suppressed cell (秘匿処理 marks them ``x``)."""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            html = out.get("data", {}).get("text/html", "")
            html = "".join(html) if isinstance(html, list) else html
            if ">x<" in html:
                return True
    return False


def _fiscal_year(params: dict[str, Any]) -> int | None:
    """The last fiscal year the report covers, when its parameters say (``end_fy``)."""
    value = params.get("end_fy")
    return value if isinstance(value, int) else None


def _version() -> str:
    from ebpm import __version__

    return __version__


def _checked_grading(rec: dict[str, Any], head: Any, headline: str | None):
    """(Grading or None, Japanese problem or None): only a grade the grading rule re-derives is shown.

    A grade recorded with ``ebpm.record("grade", …)`` wins over the headline result's. Either must be
    the rule's output (:func:`ebpm.methods.grading.verify`); a typed letter fails the run.
    """
    from ebpm.errors import GradeError
    from ebpm.methods.grading import verify

    if "grade_reasons" in rec and "grade" not in rec:
        return (
            None,
            "根拠（grade_reasons）だけが記録されています。根拠は評価規則の結果に含まれます。",
        )
    try:
        if "grade" in rec:
            return verify(rec["grade"], where="記録された根拠の確かさ"), None
        if isinstance(head, dict) and ("grade" in head or "grading" in head):
            where = f"見出しの結果「{headline}」の根拠の確かさ"
            grading = verify(head.get("grading"), where=where)
            if head.get("grade") != grading.grade or list(head.get("reasons") or []) != list(
                grading.reasons
            ):
                raise GradeError(
                    f"{where}（{head.get('grade')!r}）が、評価規則の結果（{grading.label}）と"
                    "一致しません。推定結果の grade や reasons を書き換えないでください。"
                )
            return grading, None
    except GradeError as err:
        return None, str(err)
    return None, None


def _disclosure_problems(nb) -> list[Any]:
    """Outputs that break the disclosure rules; the gate always runs (an import failure fails the run)."""
    from ebpm.disclosure.gate import check_outputs  # not .protect: the parent needs no pandas

    return list(check_outputs(nb))


def _register(result_path: Path) -> list[str]:
    """Add the run to the evidence register; a failure is a Japanese warning on the run, never silent."""
    from ebpm.report.register import add_run

    try:
        add_run(result_path)
    except Exception as exc:
        return [f"エビデンス台帳に登録できませんでした: {type(exc).__name__}: {exc}"]
    return []


PRELOAD = (
    "nbformat",
    "ebpm.report.cells",
    "jinja2",
    "mistune",
    "ebpm.result",
    "ebpm.report.scrub",
    "ebpm.report.render",
    "ebpm.report.provenance",
    "ebpm.data.access",
    "ebpm.disclosure.gate",
    "ebpm.report.register",
    # the grade check (ebpm.methods.grading) runs the ebpm.methods package __init__, which binds
    # every estimator (scipy.stats, statsmodels): 2–12 s that the first report's HTML step paid
    "ebpm.methods.grading",
    "ebpm.report.summary",
    "ebpm.report.terms",
)


def preload() -> None:
    """Import what rendering needs while the kernel boots (imports release the GIL on I/O waits)."""
    import importlib

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:  # only a head start: the real import later fails loudly
            continue
    from ebpm.report import provenance, render

    try:  # compile nbformat's schema validator (about 0.2 s) while the kernel runs, not after
        import nbformat

        nbformat.validate(nbformat.v4.new_notebook())
    except Exception:
        pass
    render._env().get_template("report.html")
    render._markdown()
    provenance.code_version()
    try:  # the provenance step reads the catalog through this (read-only) connection: open it now
        from ebpm.data import access

        access._shared()
    except Exception:  # no build yet: the provenance step falls back to the manifest
        pass


def default_out_dir(template: str, run_id: str) -> Path:
    return paths().reports / template / run_id


def make_job(
    template: str | None,
    given: dict[str, Any],
    out: str | Path | None = None,
    *,
    plan: str | None = None,
    register: bool = True,
) -> ReportJob:
    """Validate parameters (before any kernel starts) and fix the run id and output folder.

    With ``plan`` (a study slug), the plan's template and parameters are used; ``given`` values
    that differ from the plan's become deviations listed at the top of the report. A notebook
    given by path without a ``.params.yml`` beside it runs without parameters.
    """
    from ebpm.report.params import validate

    prereg = None
    if plan is not None:
        from ebpm.plans.plan import load_plan
        from ebpm.report import prereg as _prereg

        the_plan = load_plan(plan)
        if template and Path(template).stem != the_plan.template:
            raise ParameterError(
                f"分析計画「{plan}」のテンプレートは {the_plan.template} です（指定: {template}）。",
                parameter="template",
            )
        schema = load_schema(template_path(the_plan.template))
        planned = validate(schema, the_plan.parameters)
        values = validate(schema, {**the_plan.parameters, **given})
        labels = {k: spec.label for k, spec in schema.params.items()}
        prereg = _prereg.for_plan(
            the_plan,
            planned,
            values,
            labels,
            display=lambda name, value: schema.params[name].display(value),
        )
    else:
        if not template:
            raise ParameterError(
                "分析テンプレート名か --plan（分析計画）を指定してください。", parameter="template"
            )
        nb_path = template_path(template)
        if nb_path.with_suffix(".params.yml").exists() or nb_path.parent == paths().templates:
            schema = load_schema(nb_path)
        else:
            import nbformat

            schema = _bare_schema(nb_path, nbformat.read(nb_path, as_version=4))
        values = validate(schema, given)
    run_id = new_run_id()
    out_dir = Path(out) if out else default_out_dir(schema.name, run_id)
    named = template or schema.name
    shown = Path(named).name if Path(named).suffix == ".ipynb" else named
    made_by = f"ebpm run {shown}"  # a file name, never an absolute path, in the report
    return ReportJob(schema, values, out_dir, run_id, prereg, register=register, made_by=made_by)


class Cancel:
    """Stops a run from another thread: :meth:`set` interrupts the kernel's running cell, and
    :func:`run` then writes and registers nothing.

    One SIGINT, as JupyterLab's stop button sends. If the execution has not ended ``grace_s``
    later, the kernel is killed (the run's kernel is discarded anyway): an idle kernel ignores
    SIGINT, so one that lands between two cells is lost, and a second SIGINT that lands while the
    kernel handles the first can leave it never answering. The cell loop also stops before the next
    cell once the run is cancelled (:class:`ebpm.report.cells.CellRunner`), so a cancel that comes
    before the cells have started (:meth:`started`) sends no signal at all: a spare kernel may still
    be running its warm-up then, and nothing of the notebook has run.
    """

    GRACE_S = 2.0

    def __init__(self, grace_s: float | None = None) -> None:
        self.grace_s = self.GRACE_S if grace_s is None else grace_s
        self._event = threading.Event()
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._kernel: Kernel | None = None
        self._thread: threading.Thread | None = None
        self._started = False

    def attach(self, kernel: Kernel) -> None:
        with self._lock:
            self._kernel = kernel

    def started(self) -> None:
        """The cells are about to run: from now on a cancel interrupts (and may kill) the kernel.
        A cancel that came earlier needs no signal: the cell loop sees it before the first cell."""
        with self._lock:
            self._started = True

    def set(self) -> None:
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            if not self._started:  # the cell loop will run no cell: nothing to stop
                return
            self._thread = threading.Thread(target=self._stop, name="ebpm-cancel", daemon=True)
        self._thread.start()

    def _stop(self) -> None:
        with self._lock:
            if self._kernel is not None and not self._done.is_set():
                self._kernel.interrupt()
        if self._done.wait(self.grace_s):
            return
        with self._lock:
            if not self._done.is_set():
                if self._kernel is not None:  # none yet: the cell loop runs no cell
                    self._kernel.kill()

    def done(self) -> None:
        """The execution has ended: no signal may reach the kernel's pid from now on."""
        with self._lock:
            self._done.set()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def is_set(self) -> bool:
        return self._event.is_set()


def run(
    template: str | None,
    params: dict[str, Any] | None = None,
    *,
    out: str | Path | None = None,
    pdf: bool = True,
    keep_warm: bool | None = None,
    cold: bool = False,
    plan: str | None = None,
    register: bool = True,
    printer: Any = None,
    preloaded: bool = False,
    cancel: Cancel | None = None,
) -> RunOutcome:
    """Render one report: validate, start the kernel and Chromium at once, execute, render.

    Parameters
    ----------
    template : str
        Template name (``notebooks/templates/<name>.ipynb``) or a notebook path.
    params : dict, optional
        Parameter values (strings are coerced by the schema's types).
    out : path, optional
        Output folder (default ``reports/<template>/<run-id>/``).
    pdf : bool, default True
        Also print ``report.pdf`` (A4) with headless Chromium.
    keep_warm : bool, optional
        Leave a warm spare kernel for the next run of any template (default: yes, unless
        ``EBPM_KEEP_WARM=0``). A waiting spare is adopted whatever this says, unless ``cold``.
    cold : bool, default False
        Start a new kernel and leave no spare (measurements, or a clean start after a library change).
    plan : str, optional
        Study slug whose analysis plan (``studies/<slug>/plan.yml``) fixes the template and the
        parameters; ``params`` that differ become deviations shown next to the grade.
    register : bool, default True
        Add the report to the evidence register (only ever for reports under ``reports/``).
    printer : optional
        A printer to print the PDF with, left open (the warm report service's own Chromium;
        :mod:`ebpm.report.service`). Default: the waiting service's, or a new one closed at the end.
    preloaded : bool, default False
        The rendering modules are already imported (the service): skip :func:`preload`.
    cancel : Cancel, optional
        Set from another thread to stop the run (the warm service, when the command that asked for
        the report is interrupted): the running cell is interrupted and nothing is written or
        registered; the outcome's status is ``"cancelled"``.

    Returns
    -------
    RunOutcome
    """
    from ebpm.report import service
    from ebpm.report import warm as spare

    job = make_job(template, params or {}, out, plan=plan, register=register)
    warm = warmup_source(job.schema.notebook)
    root = paths().root
    key = spare.spare_key(root)
    info = None if cold else spare.adopt(key)
    # a warm spare left by an earlier run, or a new kernel that boots while Chromium starts
    kernel = Kernel.adopt(info) if info else Kernel(cwd=root, warmup=warm)
    if cancel is not None:
        cancel.attach(kernel)
    if cold:
        keep_warm = False
    elif keep_warm is None:
        keep_warm = spare.keep_warm_default()
    own_printer = None
    if pdf and printer is None:
        from ebpm.report.render import PdfPrinter

        # the Chromium an earlier run left waiting, or a new one that starts while the kernel works
        printer = own_printer = (None if cold else service.connect(key)) or PdfPrinter()
    if not preloaded:
        threading.Thread(target=preload, name="ebpm-preload", daemon=True).start()
    try:
        done = execute_job(job, kernel, cancel)
        if cancel is not None and cancel.is_set():  # the command has gone: it wants no report
            return RunOutcome(
                template=job.schema.name,
                run_id=job.run_id,
                out_dir=str(job.out_dir),
                status="cancelled",
                error={"step": "実行", "message": "中断しました（レポートは作っていません）。"},
            )
        return finish_executed(job, done, printer if pdf else None, pdf=pdf)
    finally:
        if cancel is not None:
            cancel.done()  # no interrupt may reach the kernel's pid once it is shut down
        if own_printer is not None:
            own_printer.close(wait=False)  # Chromium closes while the kernel shuts down
        kernel.shutdown()
        if own_printer is not None:
            own_printer.close()
        if keep_warm:
            spare.leave_spare(key, spare.HOUSE_WARMUP, root)
            if pdf:
                service.leave(key, root, rehearse=job.out_dir / "index.html")


def render_notebook(
    notebook: str | Path,
    *,
    out: str | Path | None = None,
    pdf: bool = True,
    register: bool = True,
) -> RunOutcome:
    """Render an already executed notebook (JupyterLab, ``jupyter execute``) to HTML, PDF, result.json.

    The answer, results, grade and tables used come from the ``ebpm.record`` lines saved in the
    notebook (:func:`notebook_records`). Secret parameters are masked when the notebook came from
    a template whose schema marks them.

    Raises
    ------
    ParameterError
        When the notebook holds no records, or neither an answer nor a headline result: the
        report would otherwise say nothing (or claim that no table was used).
    """
    import nbformat

    path = Path(notebook)
    if not path.exists():
        raise ParameterError(f"ノートブック「{path}」がありません。", file=str(path))
    nb = nbformat.read(path, as_version=4)
    rec = fold_records(notebook_records(nb))
    failure = find_failure(nb)
    _check_renderable(rec, path, failed=failure is not None)
    pm = nb.metadata.get("papermill", {})
    schema = None
    source = pm.get("input_path")
    if source and Path(source).with_suffix(".params.yml").exists():
        schema = load_schema(source)
    elif path.with_suffix(".params.yml").exists():
        schema = load_schema(path)
    values: dict[str, Any] = dict(pm.get("parameters") or {})
    if schema is None:
        schema = _bare_schema(path, nb)
        values = {}
    else:
        values = {k: v for k, v in values.items() if k in schema.params}
        for cell in nb.cells:  # values of secrets are only known from the injected cell
            if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
                values.update(_assigned_literals(cell.source, schema))
    run_id = new_run_id()
    out_dir = Path(out) if out else default_out_dir(schema.name, run_id)
    job = ReportJob(
        schema, values, out_dir, run_id, register=register, made_by=f"ebpm render {path.name}"
    )
    printer = None
    if pdf:
        from ebpm.report.render import PdfPrinter

        printer = PdfPrinter()
    try:
        return finish_report(job, nb, failure, rec, printer, pdf=pdf)
    finally:
        if printer is not None:
            printer.close()


def _check_renderable(rec: dict[str, Any], path: Path, *, failed: bool = False) -> None:
    """Refuse a notebook whose report would say nothing: no records at all, or (unless it stopped
    with an error, which the report then shows) neither an answer nor a headline result."""
    how = (
        "ebpm のカーネル（JupyterLab の「ebpm (Python 3)」）で上から実行して保存するか、"
        f"`ebpm run {path.name}` で実行してください（docs/reports.md「自分のノートブックからレポートへ」）。"
    )
    if not rec["lines"]:
        raise ParameterError(
            "このノートブックには ebpm.record の記録も、使った表の記録もありません。"
            "このままでは答え・根拠の確かさ・出典のないレポートになるため作成しません。" + how,
            file=str(path),
        )
    if not failed and rec.get("answer") is None and rec.get("headline") is None:
        recorded = "、".join(sorted({line["name"] for line in rec["lines"]})) or "なし"
        raise ParameterError(
            '答えがありません: ebpm.record("answer", …) か、見出しの結果 '
            'ebpm.record("名前", 推定結果, headline=True) を記録してください'
            f"（記録済み: {recorded}）。" + how,
            file=str(path),
        )


def _bare_schema(path: Path, nb) -> TemplateSchema:
    """A schema without parameters for a notebook that has no ``.params.yml`` (a planner's own)."""
    title = next(
        (
            line.lstrip("# ").strip()
            for c in nb.cells
            if c.get("cell_type") == "markdown"
            for line in c.source.splitlines()
            if line.startswith("# ")
        ),
        path.stem,
    )
    return TemplateSchema(name=path.stem, notebook=path, title_ja=title)


def _assigned_literals(source: str, schema: TemplateSchema) -> dict[str, Any]:
    from ebpm.report.params import _literal

    out: dict[str, Any] = {}
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return out
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name):
            name = stmt.targets[0].id
            if name in schema.params:
                try:
                    out[name] = _literal(stmt.value)
                except ValueError:
                    pass
    return out

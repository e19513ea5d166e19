"""Batch rendering: many parameter sets of one template, or several templates, in parallel workers
(own kernel and Chromium each)."""

from __future__ import annotations

import itertools
import multiprocessing as mp
import os
import queue as queue_mod
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ebpm.errors import ParameterError
from ebpm.report.params import TemplateSchema, choices_for, load_schema, validate
from ebpm.report.runner import (
    ReportJob,
    RunOutcome,
    default_out_dir,
    new_run_id,
    template_path,
)


def read_grid(path: str | Path) -> list[dict[str, Any]]:
    """Parameter sets from a grid YAML file.

    The file is either a list of parameter sets, or a mapping with ``product`` (lists of values
    whose Cartesian product is taken) and optionally ``fixed`` (values common to every set)::

        product: {outcome: [wait_min, visits], window: [4, 6]}
        fixed: {control: notyet}
    """
    import yaml

    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError:
        raise ParameterError(f"グリッドのファイル「{p}」を読めません。", file=str(p)) from None
    if isinstance(raw, list) and all(isinstance(x, dict) for x in raw):
        return [dict(x) for x in raw]
    if isinstance(raw, dict) and isinstance(raw.get("product"), dict):
        fixed = dict(raw.get("fixed") or {})
        names = list(raw["product"])
        lists = [v if isinstance(v, list) else [v] for v in raw["product"].values()]
        return [
            {**fixed, **dict(zip(names, combo, strict=True))} for combo in itertools.product(*lists)
        ]
    raise ParameterError(
        "グリッドは「パラメータの組のリスト」か「product: {名前: [値, …]}」で書いてください。",
        file=str(p),
    )


def over_all(schema: TemplateSchema, spec_text: str) -> list[dict[str, Any]]:
    """``param=all`` → one parameter set per allowed value of an enum (or list) parameter."""
    name, _, what = spec_text.partition("=")
    name = name.strip()
    if name not in schema.params:
        raise ParameterError(
            f"--over のパラメータ『{name}』はテンプレート「{schema.name}」にありません。"
            f"使えるパラメータ: {', '.join(schema.params)}"
        )
    spec = schema.params[name]
    if what.strip() != "all" or spec.type not in ("enum", "list"):
        raise ParameterError(
            f"--over は 選択肢のあるパラメータ=all の形で指定してください（『{name}』は {spec.type}）。"
        )
    values = choices_for(spec) or []
    return [{name: (v if spec.type == "enum" else [v])} for v in values]


def _unique_run_id(used: set[str]) -> str:
    """A run id not yet given to another job of the same batch (ids made in one second may clash)."""
    run_id = new_run_id()
    while run_id in used:
        run_id = new_run_id()
    used.add(run_id)
    return run_id


def plan(
    template: str,
    param_sets: list[dict[str, Any]],
    *,
    base: dict[str, Any] | None = None,
    out_root: str | Path | None = None,
    register: bool = True,
) -> list[ReportJob]:
    """Validate every parameter set before any kernel starts; fix run ids and output folders.

    ``register=False`` (``ebpm run --grid … --no-register``) keeps every report of the batch out of
    the evidence register; reports written outside ``reports/`` are never registered anyway.
    """
    schema = load_schema(template_path(template))
    jobs: list[ReportJob] = []
    used: set[str] = set()
    for i, given in enumerate(param_sets, start=1):
        try:
            values = validate(schema, {**(base or {}), **given})
        except ParameterError as err:
            raise ParameterError(f"{i}番目の組: {err}") from None
        run_id = _unique_run_id(used)
        out = Path(out_root) / run_id if out_root else default_out_dir(schema.name, run_id)
        jobs.append(ReportJob(schema, values, out, run_id, register=register))
    return jobs


def plan_many(
    templates: list[str],
    *,
    out_root: str | Path | None = None,
    register: bool = True,
) -> list[ReportJob]:
    """One job per template with its default parameters (``ebpm run A B C``, ``make demo``).

    Every template is validated before any kernel starts. Reports go to ``reports/<template>/<run-id>/``
    (registered as single runs are), or to ``out_root/<template>/`` when given.
    """
    jobs: list[ReportJob] = []
    used: set[str] = set()
    for template in dict.fromkeys(templates):
        schema = load_schema(template_path(template))
        values = validate(schema, {})
        run_id = _unique_run_id(used)
        out = Path(out_root) / schema.name if out_root else default_out_dir(schema.name, run_id)
        jobs.append(ReportJob(schema, values, out, run_id, register=register))
    return jobs


def batch_warmup(jobs: list[ReportJob]) -> str:
    """Warm-up code for a batch's kernels: the imports of every distinct template in it, each
    statement once (the renderer is started and the heap frozen once, not once per template)."""
    from ebpm.report.runner import warmup_code, warmup_lines

    notebooks = {job.schema.name: job.schema.notebook for job in jobs}
    return warmup_code([line for nb in notebooks.values() for line in warmup_lines(nb)])


def _worker(tasks, results, pdf: bool, reuse: bool, warmup: str, root: str) -> None:
    """One worker process: one import of the report machinery, one kernel pool, one Chromium.

    Reports overlap in two stages: while report *n* is rendered, checked and printed (in a thread; no
    kernel needed), the kernel, already reset, executes report *n + 1*. At most one report waits to be
    finished, so memory stays bounded and results arrive in order of completion.
    """
    from concurrent.futures import Future, ThreadPoolExecutor

    from ebpm.report.kernels import KernelPool
    from ebpm.report.render import PdfPrinter
    from ebpm.report.runner import Executed, execute_job, finish_executed

    pool = KernelPool(reuse=reuse, cwd=Path(root))
    pool.prestart(warmup)
    printer = PdfPrinter(reuse_page=True) if pdf else None
    from ebpm.report.runner import preload

    preload()  # nbclient, Jinja, data layer: imported once per worker, while the kernel boots

    def failed(job: ReportJob, exc: Exception) -> RunOutcome:  # a broken kernel or renderer
        return RunOutcome(
            template=job.schema.name,
            run_id=job.run_id,
            out_dir=str(job.out_dir),
            status="failed",
            error={"step": "実行環境", "message": f"{type(exc).__name__}: {exc}"},
        )

    def finish(index: int, job: ReportJob, executed: Executed) -> None:
        try:
            outcome = finish_executed(job, executed, printer, pdf=pdf)
        except Exception as exc:
            outcome = failed(job, exc)
        results.put((index, outcome))

    finisher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ebpm-finish")
    pending: Future | None = None
    try:
        while True:
            item = tasks.get()
            if item is None:
                break
            index, job, more = item
            kernel = pool.acquire(warmup)
            try:
                executed = execute_job(job, kernel)
            except Exception as exc:  # keep the batch going
                pool.release(kernel, ok=False, more=more)
                results.put((index, failed(job, exc)))
                continue
            # reset (or replace, after an error) the kernel before the next report
            pool.release(kernel, ok=executed.error is None, more=more)
            if pending is not None:
                pending.result()
            pending = finisher.submit(finish, index, job, executed)
    finally:
        if pending is not None:
            pending.result()
        finisher.shutdown(wait=True)
        pool.close()
        if printer is not None:
            printer.close()
        # the worker is done: skip the full collection Python would run over its heap at exit
        # (as ebpm.cli.main does; about 0.4 s before the batch could end)
        import gc

        gc.freeze()


def run_batch(
    jobs: list[ReportJob],
    *,
    workers: int | None = None,
    pdf: bool = True,
    reuse_kernels: bool = True,
    on_done: Callable[[RunOutcome], None] | None = None,
) -> list[RunOutcome]:
    """Run ``jobs`` in ``workers`` parallel processes; return outcomes in job order.

    The jobs may come from several templates (:func:`plan_many`): each worker's kernels then warm up
    with the imports of all of them, and a reused kernel is reset between reports as in a grid.

    Parameters
    ----------
    jobs : list of ReportJob
        From :func:`plan` (already validated).
    workers : int, optional
        Parallel workers (default: the number of CPU cores).
    pdf : bool, default True
        Print a PDF for each report.
    reuse_kernels : bool, default True
        Each worker reuses its kernel between runs (namespace reset; new kernel after a failure).
    on_done : callable, optional
        Called with each outcome as it finishes (progress bars).
    """

    from ebpm.config import paths

    if not jobs:
        return []
    n = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    warm = batch_warmup(jobs)
    ctx = mp.get_context("spawn")
    tasks, results = ctx.Queue(), ctx.Queue()
    for i, job in enumerate(jobs):
        tasks.put((i, job, i < len(jobs) - n))  # `more`: whether this worker may get another job
    for _ in range(n):
        tasks.put(None)
    procs = [
        ctx.Process(
            target=_worker, args=(tasks, results, pdf, reuse_kernels, warm, str(paths().root))
        )
        for _ in range(n)
    ]
    for p in procs:
        p.start()
    outcomes: dict[int, RunOutcome] = {}
    try:
        while len(outcomes) < len(jobs):
            try:
                index, outcome = results.get(timeout=5)
            except queue_mod.Empty:
                if not any(p.is_alive() for p in procs):
                    break
                continue
            outcomes[index] = outcome
            if on_done is not None:
                on_done(outcome)
    finally:
        for p in procs:
            p.join(timeout=60)
            if p.is_alive():
                p.terminate()
    lost = [
        RunOutcome(
            template=jobs[i].schema.name,
            run_id=jobs[i].run_id,
            out_dir=str(jobs[i].out_dir),
            status="failed",
            error={"step": "実行環境", "message": "作業プロセスが異常終了しました。"},
        )
        for i in range(len(jobs))
        if i not in outcomes
    ]
    return [outcomes[i] for i in sorted(outcomes)] + lost

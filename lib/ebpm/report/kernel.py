"""Kernel side of a report run: `record` named results, SVG charts, and the provenance sidecar."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

RECORD_ENV = "EBPM_RECORD_PATH"
#: MIME type of the outputs that carry ``ebpm.record`` lines inside a notebook run interactively
#: (JupyterLab, ``jupyter execute``); ``ebpm render`` reads them, the report never shows them.
RECORD_MIME = "application/vnd.ebpm.record+json"

# jsonschema (imported by altair) loads rfc3987_syntax when it is installed (JupyterLab brings it)
# and compiles a grammar for about a second; altair never checks URI formats, so ebpm's own
# processes skip it. Measured: template imports 4.2 s -> 3.0 s (see bench/bench_reports.py).
sys.modules.setdefault("rfc3987_syntax", None)
SPECIAL_NAMES = (
    "title",
    "question",
    "answer",
    "recommendation",
    "caveats",
    "effect",
    "summary_chart",
    "headline",
)
_state: dict[str, Any] = {
    "path": None,
    "tables": None,
    "altair": False,
    "hooks": False,
    "cell_start": 0,
}


def _record_path() -> Path | None:
    path = _state["path"] or os.environ.get(RECORD_ENV)
    return Path(path) if path else None


def interactive() -> bool:
    """True in a Jupyter kernel that is not inside ``ebpm run`` (JupyterLab, ``jupyter execute``)."""
    if _record_path() is not None or "ipykernel" not in sys.modules:
        return False
    ip = _ipython()
    return ip is not None and getattr(ip, "kernel", None) is not None


def _note_text(line: dict[str, Any]) -> str:
    if line["name"] == "_tables":
        return "（ebpm: 使った表 " + "、".join(line["value"]) + " を記録しました）"
    return f"（ebpm: {line['name']} を記録しました）"


def _append(line: dict[str, Any]) -> None:
    path = _record_path()
    if path is not None:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
    elif interactive():
        # the record travels in the cell's output, so it is saved with the notebook and re-running
        # the cell replaces it; `ebpm render` folds these outputs in cell order
        from IPython.display import display

        display({"text/plain": _note_text(line), RECORD_MIME: line}, raw=True)


def _to_json(value: Any) -> tuple[Any, bool]:
    """Return (JSON-safe value, whether it is an estimation result)."""
    from ebpm.result import _json_safe

    if hasattr(value, "to_dict") and hasattr(value, "summary_ja") and hasattr(value, "grade"):
        return value.to_dict(), True
    return _json_safe(value), False


def record(name: str, value: Any, *, headline: bool = False) -> None:
    """Record a named result of a report (it goes to result.json and the evidence register).

    Parameters
    ----------
    name : str
        Result name. Summary names (docs/reports.md「要約の約束」): ``"question"`` (問い),
        ``"recommendation"`` (推奨・次の一手), ``"caveats"`` (up to 3 strings), ``"effect"``
        (:func:`ebpm.methods.answers.effect_in_context`), ``"summary_chart"`` (an Altair chart, kept
        as SVG). Special names: ``"title"`` (report title), ``"answer"`` (one or two
        Japanese sentences), ``"grade"`` (when no estimator gives one: only the output of the grading
        rule, :func:`ebpm.methods.grading.monitoring`, :func:`~ebpm.methods.grading.descriptive` or
        :func:`~ebpm.methods.grading.decide`; a typed letter raises
        :class:`~ebpm.errors.GradeError`), ``"headline"`` (a result object, or the name of a result
        recorded earlier).
    value : object
        A string, number, list, dict, DataFrame or an ``EstimationResult``.
    headline : bool, default False
        Make this result the headline (its grade and reasons go to the top of the report).

    Notes
    -----
    Inside ``ebpm run`` the record goes to the run's sidecar file. In a Jupyter kernel outside a
    run (JupyterLab, ``jupyter execute``) it is kept in the cell's output (MIME type
    :data:`RECORD_MIME`, saved with the notebook), which ``ebpm render`` reads. Elsewhere (a plain
    Python script) it does nothing.
    """
    if not isinstance(name, str) or not name:
        from ebpm.errors import ParameterError

        raise ParameterError(
            f"record の名前は空でない文字列にしてください（受け取った値: {name!r}）。",
            parameter="name",
        )
    if name == "headline" and isinstance(value, str):
        _append({"name": "headline", "ref": value})
        return
    if name == "summary_chart" and hasattr(value, "to_dict") and not isinstance(value, dict):
        from ebpm.charts import core as charts

        value = {"svg": charts.to_svg(value)}
    if name in ("grade", "grade_reasons"):
        _append({"name": "grade", "value": _grading_payload(name, value)})
        return
    payload, is_result = _to_json(value)
    _append({"name": name, "value": payload, "result": is_result, "headline": headline})
    _write_tables()


def _access_log() -> list[str]:
    mod = sys.modules.get("ebpm.data.access")
    getter = getattr(mod, "access_log", None) if mod else None
    try:
        return list(getter()) if getter else []
    except Exception:  # provenance is best effort here; render refuses when nothing was recorded
        return []


def _grading_payload(name: str, value: Any) -> dict[str, Any]:
    """The grading rule's output as recorded; anything else (a typed "C", a list of reasons) is refused."""
    from ebpm.errors import GradeError
    from ebpm.methods.grading import Grading, verify

    if name == "grade_reasons":
        raise GradeError(
            "根拠（grade_reasons）は記録できません。根拠は評価規則の結果に含まれます: "
            'ebpm.record("grade", monitoring([...])) のように、規則に補足の文（notes）を渡してください。'
        )
    if not isinstance(value, Grading):
        verify(value)  # raises the Japanese GradeError naming the value
    return verify(value).to_dict()


def _write_tables() -> None:
    """Record the curated tables read (for the provenance block).

    In a run: every table this kernel has read, appended when the list changed. Interactively: the
    tables read by the current cell, as an output of that cell (so re-running a cell keeps them).
    """
    if _record_path() is None:
        if interactive():
            tables = sorted(set(_access_log()[_state["cell_start"] :]))
            if tables and tables != _state.get("cell_tables"):
                _state["cell_tables"] = tables
                _append({"name": "_tables", "value": tables})
        return
    mod = sys.modules.get("ebpm.data.access")
    getter = getattr(mod, "accessed_tables", None) if mod else None
    if getter is None:
        return
    try:
        tables = sorted(set(getter()))
    except Exception:  # provenance is best effort here; the runner reports missing sources
        return
    if tables != _state["tables"]:
        _state["tables"] = tables
        _append({"name": "_tables", "value": tables})


def _svg_renderer(spec: dict, **_meta: Any) -> dict[str, str]:
    text = json.dumps(spec, sort_keys=True, ensure_ascii=False)
    return {"image/svg+xml": _svg_of(text)}


def _svg_of(spec_text: str) -> str:
    """SVG of a Vega-Lite spec, cached by the whole spec text (:func:`ebpm.charts.core._svg_of`)."""
    from ebpm.charts import core as charts

    return charts._svg_of(spec_text)


def _enable_altair() -> None:
    if _state["altair"] or "altair" not in sys.modules:
        return
    import altair as alt

    from ebpm.charts import core as charts

    charts.enable_theme()
    alt.renderers.register("ebpm_svg", _svg_renderer)
    alt.renderers.enable("ebpm_svg")
    _state["altair"] = True


def _pre_cell(*_args: Any) -> None:
    _state["cell_start"] = len(_access_log())
    _state["cell_tables"] = None
    _enable_altair()


def _post_cell(*_args: Any) -> None:
    _enable_altair()
    _write_tables()


def arm_idle_exit(seconds: float) -> None:
    """Exit this (spare) kernel if no run begins within ``seconds``."""
    import threading

    timer = threading.Timer(seconds, os._exit, args=(0,))
    timer.daemon = True
    timer.start()
    _state["idle_timer"] = timer


def begin_run(record_path: str | os.PathLike[str]) -> None:
    """Start a report run in this kernel: results go to ``record_path``; charts render as SVG.

    The user namespace is emptied first (names left by warm-up imports or an earlier run); imported
    modules stay loaded, which is what makes a warm kernel fast.
    """
    timer = _state.pop("idle_timer", None)
    if timer is not None:
        timer.cancel()
    ip = _ipython()
    if ip is not None:
        ip.run_line_magic("reset", "-f")
    _state["path"] = str(record_path)
    _state["tables"] = None
    _forget_data_module()
    Path(record_path).write_text("", encoding="utf-8")
    _enable_altair()
    _register_hooks(ip)


def _register_hooks(ip) -> None:
    if ip is not None and not _state["hooks"]:
        ip.events.register("pre_run_cell", _pre_cell)
        ip.events.register("post_run_cell", _post_cell)
        _state["hooks"] = True


def activate_interactive() -> None:
    """Set up a Jupyter kernel for ``import ebpm`` (called by the package when a kernel is running).

    After every cell: the tables the cell read are recorded in its output (see :func:`record`) and
    Altair charts use the house theme (:func:`ebpm.charts.theme`). Does nothing outside a kernel.
    """
    ip = _ipython()
    if ip is None or getattr(ip, "kernel", None) is None:
        return
    _state["cell_start"] = len(_access_log())
    _register_hooks(ip)
    _enable_altair()  # when altair is already imported; otherwise after the cell that imports it


def _forget_data_module() -> None:
    """Start the provenance list afresh (a reused kernel has read tables for an earlier run)."""
    mod = sys.modules.get("ebpm.data.access")
    if mod is not None and hasattr(mod, "reset_accessed"):
        mod.reset_accessed()
        return
    sys.modules.pop("ebpm.data.access", None)
    pkg = sys.modules.get("ebpm")
    if pkg is not None:
        for public, module in getattr(pkg, "_LAZY", {}).items():
            if module == "ebpm.data.access":
                pkg.__dict__.pop(public, None)


def end_run() -> None:
    """Finish the run: flush provenance and stop recording."""
    _write_tables()
    _state["path"] = None


def _ipython():
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return None
    return get_ipython()


def figure(chart: Any) -> None:
    """Display an Altair chart as inline SVG (offline; never the CDN-based JavaScript bundle).

    The SVG text from vl-convert is sent as it is (``raw=True``): ``IPython.display.SVG`` would parse
    and re-serialise it with minidom, which costs about 0.15 s for a map's 450 KB.
    """
    from IPython.display import SVG, display

    from ebpm.charts import core as charts

    svg = charts.to_svg(chart)
    if _ipython() is None:  # a plain script: IPython would print a raw bundle's whole text
        display(SVG(svg))
        return
    display({"image/svg+xml": svg, "text/plain": "<図>"}, raw=True)

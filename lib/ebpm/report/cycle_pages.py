"""Portal pages of the EBPM cycle: 事例 (case library), 研究 (studies and plans), ロジックモデル."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from ebpm.config import paths
from ebpm.report.register import JST

PAGES = {"cases": "cases.html", "studies": "studies.html", "logic": "logic.html"}


def plan_runs(reports_dir: str | Path | None = None) -> dict[str, list[dict[str, Any]]]:
    """study slug -> runs made with ``--plan`` (newest first), read from ``reports/*/*/result.json``."""
    root = Path(reports_dir) if reports_dir is not None else paths().reports
    out: dict[str, list[dict[str, Any]]] = {}
    for result_path in root.glob("*/*/result.json"):
        try:
            result = json.loads(result_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        prereg = result.get("preregistration") or {}
        slug = prereg.get("plan") if isinstance(prereg, dict) else None
        if not slug:
            continue
        out.setdefault(slug, []).append(
            {
                "run_id": result.get("run_id") or result_path.parent.name,
                "status": result.get("status") or "ok",
                "created_at": result.get("created_at") or "",
                "title": result.get("title") or "",
                "grade": result.get("grade"),
                "deviations": prereg.get("deviations") or [],
                "prereg_label": prereg.get("label") or "",
                "report_link": (result_path.parent / "index.html").relative_to(root).as_posix(),
                "result": result,
            }
        )
    for runs in out.values():
        runs.sort(key=lambda r: (r["created_at"], r["run_id"]), reverse=True)
    return out


def _env():
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(
        loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _write(target: Path, text: str) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".page-", suffix=".html", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _now_ja() -> str:
    now = datetime.now(JST)
    return f"{now.year}年{now.month}月{now.day}日 {now.hour:02d}:{now.minute:02d}"


def _ja_time(value: Any) -> str:
    from ebpm.report.prereg import _ja_time as ja

    return ja(value) if value else ""


def study_views(root: Path) -> list[dict[str, Any]]:
    """Everything the study pages show, per study folder (status from the register)."""
    from ebpm.plans.study import studies
    from ebpm.report.register import plan_locks, publications

    register = root / "register.duckdb"
    pubs = publications(register=register)
    runs = plan_runs(root)
    from ebpm.plans.plan import lock_files

    found = studies(
        locks={**lock_files(), **plan_locks(register=register)},  # git copies, then the register
        runs=runs,
        published={k: v["run_id"] for k, v in pubs.items()},
    )
    views = []
    for s in found:
        plan_text = ""
        plan_file = s.folder / "plan.yml"
        if plan_file.exists():
            plan_text = plan_file.read_text(encoding="utf-8")
        views.append(
            {
                "study": s,
                "locked_at_ja": _ja_time(s.locked_at),
                "plan_text": plan_text,
                "page": f"studies/{s.slug}.html",
                "published_at": pubs.get(s.slug, {}).get("published_at"),
            }
        )
    return views


def own_cases(root: Path, views: list[dict[str, Any]]):
    """Own studies marked 公開 in the register, as case records."""
    from ebpm.cases.library import own_case
    from ebpm.plans.plan import load_plan

    out = []
    for v in views:
        s = v["study"]
        if not s.published_run:
            continue
        run = next((r for r in s.runs if r["run_id"] == s.published_run), None)
        if run is None:
            continue
        try:
            plan = load_plan(s.slug).data
        except Exception:
            plan = {}
        out.append(
            own_case(
                {
                    "slug": s.slug,
                    "plan": plan,
                    "result": run["result"],
                    "report_link": run["report_link"],
                    "plan_link": v["page"],
                    "published_at": v["published_at"],
                }
            )
        )
    return out


def _logic_svgs(models: list[str]) -> list[dict[str, Any]]:
    from ebpm.ingest.yamlfile import SchemaError
    from ebpm.logic.model import logic_model
    from ebpm.logic.render import render_svg

    out = []
    for slug in models:
        try:
            model = logic_model(slug)
            out.append(
                {
                    "slug": slug,
                    "title": model.title,
                    "svg": render_svg(model),
                    "error": "",
                    "synthetic": model.synthetic,
                }
            )
        except (
            SchemaError,
            Exception,
        ) as err:  # a broken model is listed with its message, not hidden
            out.append(
                {"slug": slug, "title": slug, "svg": "", "error": str(err), "synthetic": False}
            )
    return out


def write_cycle_pages(reports_dir: str | Path | None = None) -> list[Path]:
    """Write ``cases.html``, ``studies.html`` (+ ``studies/<slug>.html``) and ``logic.html``.

    Offline pages: inline CSS, JS and SVG only. Returns the files written.
    """
    from ebpm import __version__
    from ebpm.cases.library import DESIGNS, DIRECTIONS, load_cases
    from ebpm.logic.model import logic_model_paths

    root = Path(reports_dir) if reports_dir is not None else paths().reports
    root.mkdir(parents=True, exist_ok=True)
    env = _env()
    generated = _now_ja()
    views = study_views(root)
    written = []

    cases = own_cases(root, views) + load_cases()
    written.append(
        _write(
            root / PAGES["cases"],
            env.get_template("cases.html").render(
                cases=cases,
                designs=[
                    (k or "none", v)
                    for k, v in DESIGNS.items()
                    if any(c.design == k for c in cases)
                ],
                areas=sorted({c.area for c in cases}),
                levels=sorted({c.level for c in cases}),
                directions=DIRECTIONS,
                generated_ja=generated,
                version=__version__,
            ),
        )
    )

    model_slugs = list(logic_model_paths())
    logic = _logic_svgs(model_slugs)
    by_slug = {m["slug"]: m for m in logic}
    written.append(
        _write(
            root / PAGES["logic"],
            env.get_template("logic.html").render(
                models=logic, generated_ja=generated, version=__version__
            ),
        )
    )

    written.append(
        _write(
            root / PAGES["studies"],
            env.get_template("studies.html").render(
                views=views, generated_ja=generated, version=__version__, detail=None
            ),
        )
    )
    for v in views:
        s = v["study"]
        outcome = {}
        try:
            from ebpm.plans.plan import load_plan

            outcome = load_plan(s.slug).data.get("outcome") or {}
        except Exception:
            pass
        model_slug = s.slug if s.slug in by_slug else outcome.get("logic_model")
        written.append(
            _write(
                root / v["page"],
                env.get_template("studies.html").render(
                    views=[v],
                    detail=v,
                    model=by_slug.get(model_slug),
                    node=outcome.get("node"),
                    generated_ja=generated,
                    version=__version__,
                    base="../",
                ),
            )
        )
    return written

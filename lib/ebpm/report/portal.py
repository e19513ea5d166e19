"""The report portal (レポート一覧): reports/index.html built from every reports/*/*/result.json."""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ebpm.config import paths
from ebpm.report.register import JST, parse_jst
from ebpm.report.summary import GRADE_SCALE, MONITORING_LABEL, grade_label, grade_legend
from ebpm.report.terms import plain_text

GRADES = ("A", "B", "C", "D")
# colours pass WCAG AA with white text; the letter and the word are always shown as well
GRADE_COLOURS = {"A": "#1b6e3a", "B": "#1f5a96", "C": "#9a4a00", "D": "#555555"}


@dataclass
class ReportEntry:
    """One report as listed in the portal (built from its result.json)."""

    template: str
    run_id: str
    title: str
    answer: str = ""
    grade: str | None = None
    grade_reasons: list[str] = field(default_factory=list)
    created_at: datetime | None = None
    vintage: str = ""
    synthetic: bool = False
    status: str = "ok"
    error_step: str = ""
    error_message: str = ""
    html_link: str | None = None
    pdf_link: str | None = None
    headline: str = ""
    estimate_text: str = ""
    build_id: str = ""
    template_title: str = ""
    question: str = ""
    recommendation: str = ""
    evidence_kind: str | None = None
    owner: str = ""
    policy_area: str = ""
    contact: str = ""
    meta_status: str = ""
    fiscal_year: int | None = None
    prereg_status: str = "none"  # none | unlocked | locked (事前登録; ebpm.report.prereg)
    prereg_label: str = "事前登録なし"
    plan: str = ""
    deviations: int = 0

    @property
    def failed(self) -> bool:
        return self.status != "ok"

    @property
    def grade_label(self) -> str:
        """「C（限定的）」, 「実績集計（推定なし）」 for monitoring reports, empty otherwise."""
        if self.evidence_kind == "monitoring" and not self.failed:
            return MONITORING_LABEL
        return grade_label(self.grade)

    @property
    def grade_key(self) -> str:
        """Filter value: A〜D, ``monitoring`` or ``none``."""
        if self.failed:
            return "none"
        if self.grade:
            return self.grade
        return "monitoring" if self.evidence_kind == "monitoring" else "none"

    @property
    def status_ja(self) -> str:
        """作成状況: 作成失敗 for a failed run, else the template's 下書き/確定 (作成済み if unknown)."""
        if self.failed:
            return "作成失敗"
        return self.meta_status or "作成済み"

    @property
    def status_key(self) -> str:
        return "failed" if self.failed else (self.meta_status or "ok")

    @property
    def fiscal_year_ja(self) -> str:
        if not self.fiscal_year:
            return "—"
        from ebpm.ingest.wareki import fiscal_year_label

        return fiscal_year_label(int(self.fiscal_year))

    @property
    def study_key(self) -> str:
        """Versions of one study share the template and the title."""
        return f"{self.template}\t{self.title}"

    @property
    def date_iso(self) -> str:
        return self.created_at.isoformat() if self.created_at else ""

    @property
    def date_ja(self) -> str:
        if not self.created_at:
            return "—"
        c = self.created_at
        return f"{c.year}年{c.month}月{c.day}日 {c.hour:02d}:{c.minute:02d}"

    @property
    def date_wareki(self) -> str:
        if not self.created_at:
            return "—"
        from ebpm.report.summary import wareki_date

        return wareki_date(self.created_at)

    @property
    def search_text(self) -> str:
        parts = [
            self.title,
            self.template_title,
            self.question,
            self.answer,
            self.recommendation,
            self.owner,
            self.policy_area,
            self.template,
            self.run_id,
            self.vintage,
            self.error_message,
        ]
        parts += [
            self.grade or "",
            self.grade_label,
            "模擬データ" if self.synthetic else "実データ",
        ]
        parts += [self.status_ja, *self.grade_reasons]
        return " ".join(p for p in parts if p)


def _decimals(value: float) -> int:
    a = abs(value)
    return 0 if a >= 100 else 1 if a >= 10 else 2


def _format_number(value: float, decimals: int | None = None) -> str:
    if decimals is None:
        decimals = 0 if float(value).is_integer() else _decimals(value)
    return f"{value:,.{decimals}f}"


def _estimate_text(result: dict[str, Any]) -> str:
    headline = result.get("headline")
    head = (result.get("results") or {}).get(headline) if headline else None
    if isinstance(head, dict) and head.get("estimate") is not None:
        unit = head.get("unit") or ""
        estimate = float(head["estimate"])
        places = _decimals(estimate)
        text = f"{_format_number(estimate, places)}{unit}"
        ci = head.get("ci")
        if isinstance(ci, list) and len(ci) == 2 and None not in ci:
            low, high = (_format_number(float(v), places) for v in ci)
            text += f"（95%信頼区間 {low}〜{high}{unit}）"
        return text
    if isinstance(head, (int, float)) and not isinstance(head, bool):
        return _format_number(float(head))
    return ""


def _link(report_dir: Path, root: Path, name: str | None) -> str | None:
    if not name:
        return None
    target = report_dir / name
    if not target.is_file():
        return None
    return target.relative_to(root).as_posix()


def load_entries(reports_dir: str | Path | None = None) -> list[ReportEntry]:
    """Read every ``reports_dir/*/*/result.json`` (newest first); unreadable ones are listed as failed."""
    root = Path(reports_dir) if reports_dir is not None else paths().reports
    entries = []
    for result_path in sorted(root.glob("*/*/result.json")):
        report_dir = result_path.parent
        template, run_id = report_dir.parent.name, report_dir.name
        try:
            result = json.loads(result_path.read_text(encoding="utf-8"))
            if not isinstance(result, dict):
                raise ValueError("JSON の最上位がオブジェクトではありません")
        except (OSError, ValueError) as err:
            entries.append(
                ReportEntry(
                    template=template,
                    run_id=run_id,
                    title=f"{template} / {run_id}",
                    status="failed",
                    error_step="result.json",
                    error_message=f"result.json を読めません（{err}）",
                )
            )
            continue
        files = result.get("files") or {}
        meta = result.get("meta") if isinstance(result.get("meta"), dict) else {}
        fy = result.get("fiscal_year")
        if not isinstance(fy, int):
            fy = (result.get("parameters") or {}).get("end_fy")
        error = result.get("error") or {}
        status = result.get("status") or ("failed" if error else "ok")
        entries.append(
            ReportEntry(
                template=str(result.get("template") or template),
                run_id=str(result.get("run_id") or run_id),
                title=str(result.get("title") or template),
                answer=str(result.get("answer") or ""),
                grade=result.get("grade") if result.get("grade") in GRADES else None,
                grade_reasons=[plain_text(str(r)) for r in result.get("grade_reasons") or []],
                created_at=parse_jst(result.get("created_at")),
                vintage=str(result.get("vintage") or ""),
                synthetic=bool(result.get("synthetic", False)),
                status="ok" if status == "ok" else "failed",
                error_step=str(error.get("step") or "") if isinstance(error, dict) else "",
                error_message=str(error.get("message") or "") if isinstance(error, dict) else "",
                html_link=_link(report_dir, root, files.get("html", "index.html")),
                pdf_link=_link(report_dir, root, files.get("pdf", "report.pdf")),
                headline=str(result.get("headline") or ""),
                estimate_text=_estimate_text(result),
                build_id=str((result.get("build") or {}).get("build_id") or ""),
                template_title=str(result.get("template_title") or ""),
                question=str(result.get("question") or ""),
                recommendation=str(result.get("recommendation") or ""),
                evidence_kind=result.get("evidence_kind")
                or ("monitoring" if result.get("grade_label") == MONITORING_LABEL else None),
                owner=str(meta.get("owner") or ""),
                policy_area=str(meta.get("policy_area") or ""),
                contact=str(meta.get("contact") or ""),
                meta_status=str(meta.get("status") or ""),
                fiscal_year=fy if isinstance(fy, int) else None,
                **_prereg_fields(result),
            )
        )
    entries.sort(key=lambda e: (e.created_at or datetime.min, e.run_id), reverse=True)
    return entries


def _prereg_fields(result: dict[str, Any]) -> dict[str, Any]:
    """事前登録 columns of one run (runs from before the field existed count as 事前登録なし)."""
    prereg = result.get("preregistration")
    if not isinstance(prereg, dict):
        return {}
    return {
        "prereg_status": str(prereg.get("status") or "none"),
        "prereg_label": str(prereg.get("label") or "事前登録なし"),
        "plan": str(prereg.get("plan") or ""),
        "deviations": len(prereg.get("deviations") or []),
    }


def grade_chart_svg(entries: list[ReportEntry]) -> str:
    """An inline SVG bar chart of reports by 根拠の確かさ (house theme, rendered offline)."""
    import altair as alt

    from ebpm.charts.core import to_svg

    counts = Counter(e.grade for e in entries if not e.failed and e.grade)
    data = [
        {"grade": grade_label(g), "n": counts.get(g, 0), "colour": GRADE_COLOURS[g]} for g in GRADES
    ]
    top = max(max(d["n"] for d in data), 1)
    bars = (
        alt.Chart(alt.Data(values=data))
        .mark_bar()
        .encode(
            x=alt.X("grade:N", title="根拠の確かさ", sort=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y(
                "n:Q",
                title="レポート数",
                scale=alt.Scale(domain=[0, top]),
                axis=alt.Axis(values=list(range(top + 1)), format="d"),
            ),
            color=alt.Color("colour:N", scale=None, legend=None),
        )
        .properties(width=360, height=160, title="根拠の確かさ別のレポート数")
    )
    labels = bars.mark_text(dy=-6, fontSize=12).encode(
        text=alt.Text("n:Q"), color=alt.ColorValue("#222")
    )
    svg = to_svg(bars + labels)
    return svg.split("?>", 1)[-1] if svg.startswith("<?xml") else svg


def summary(entries: list[ReportEntry]) -> dict[str, Any]:
    """Counts for the CLI and the page header."""
    ok = [e for e in entries if not e.failed]
    return {
        "reports": len(entries),
        "ok": len(ok),
        "failed": len(entries) - len(ok),
        "synthetic": sum(e.synthetic for e in entries),
        "by_grade": {g: sum(e.grade == g for e in ok) for g in GRADES},
        "templates": sorted({e.template for e in entries}),
        "monitoring": sum(e.grade_key == "monitoring" for e in ok),
    }


def _choices(entries: list[ReportEntry], attr: str) -> list[str]:
    return sorted({str(getattr(e, attr)) for e in entries if getattr(e, attr)})


def studies(entries: list[ReportEntry]) -> list[dict[str, Any]]:
    """The evidence register by study: the latest successful version and every earlier one.

    A study is a template with one title (its parameters fix the title); versions are newest first.
    """
    groups: dict[str, list[ReportEntry]] = {}
    for e in entries:
        groups.setdefault(e.study_key, []).append(e)
    out = []
    for versions in groups.values():
        versions = sorted(versions, key=lambda e: e.created_at or datetime.min, reverse=True)
        ok = [v for v in versions if not v.failed]
        latest = ok[0] if ok else versions[0]
        out.append({"latest": latest, "earlier": [v for v in versions if v is not latest]})
    out.sort(
        key=lambda s: (s["latest"].owner, s["latest"].created_at or datetime.min), reverse=False
    )
    return out


def render_portal(
    entries: list[ReportEntry], *, dictionary_link: str, dictionary_exists: bool
) -> str:
    """Render the portal HTML (Jinja template ``templates/portal.html``)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from ebpm import __version__

    env = Environment(
        loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    now = datetime.now(JST)
    chart = grade_chart_svg(entries) if any(not e.failed and e.grade for e in entries) else ""
    return env.get_template("portal.html").render(
        entries=entries,
        summary=summary(entries),
        grades=[(g, GRADE_SCALE[g][0], GRADE_COLOURS[g]) for g in GRADES],
        legend=grade_legend(),
        owners=_choices(entries, "owner"),
        areas=_choices(entries, "policy_area"),
        years=sorted({e.fiscal_year for e in entries if e.fiscal_year}),
        fy_label=_fy_label,
        grade_colours=GRADE_COLOURS,
        chart_svg=chart,
        dictionary_link=dictionary_link,
        dictionary_exists=dictionary_exists,
        generated_ja=f"{now.year}年{now.month}月{now.day}日 {now.hour:02d}:{now.minute:02d}",
        version=__version__,
    )


def _fy_label(year: int) -> str:
    from ebpm.ingest.wareki import fiscal_year_label

    return fiscal_year_label(int(year))


def render_page(name: str, **context: Any) -> str:
    """Render another portal page (``register.html``, ``glossary.html``) with the house style."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from ebpm import __version__

    env = Environment(
        loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    now = datetime.now(JST)
    return env.get_template(name).render(
        generated_ja=f"{now.year}年{now.month}月{now.day}日 {now.hour:02d}:{now.minute:02d}",
        version=__version__,
        legend=grade_legend(),
        **context,
    )


def _write_atomic(root: Path, name: str, page: str) -> Path:
    target = root / name
    fd, tmp = tempfile.mkstemp(prefix=f".{Path(name).stem}-", suffix=".html", dir=root)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(page)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def write_portal(reports_dir: str | Path | None = None) -> Path:
    """Write ``reports/index.html`` atomically and return its path.

    Parameters
    ----------
    reports_dir : path, optional
        Folder holding ``<template>/<run_id>/result.json``; default ``config.paths().reports``.

    Returns
    -------
    pathlib.Path
        The portal file. It works offline: inline CSS, JS and SVG only, no external request.
    """
    root = Path(reports_dir) if reports_dir is not None else paths().reports
    root.mkdir(parents=True, exist_ok=True)
    entries = load_entries(root)
    dictionary = paths().dictionary
    link = Path(os.path.relpath(dictionary, root.resolve())).as_posix()
    page = render_portal(entries, dictionary_link=link, dictionary_exists=dictionary.is_file())
    from ebpm.report.terms import terms

    _write_atomic(root, "register.html", render_page("register.html", studies=studies(entries)))
    _write_atomic(root, "glossary.html", render_page("glossary.html", terms=terms()))
    target = _write_atomic(root, "index.html", page)
    from ebpm.report.cycle_pages import write_cycle_pages

    write_cycle_pages(root)  # 事例・研究・ロジックモデルの各ページ（リンクはこの一覧から）
    return target


def shared_portal_dir() -> Path | None:
    """The shared portal folder of a multi-user server (``EBPM_PORTAL_SHARED``), if configured."""
    value = os.environ.get("EBPM_PORTAL_SHARED")
    return Path(value).resolve() if value else None


def publish_report(out_dir: str | Path, shared: str | Path | None = None) -> Path:
    """Copy a finished report into the shared portal folder and rebuild that portal.

    The report keeps its ``<template>/<run_id>/`` layout, so the shared ``index.html`` lists it
    next to other staff's reports. The copy lands under a temporary name and is renamed into place,
    so the portal never lists a half-copied report.

    Parameters
    ----------
    out_dir : path
        The report folder written by ``ebpm run`` (holds ``result.json``).
    shared : path, optional
        The shared portal folder; default ``EBPM_PORTAL_SHARED``.

    Returns
    -------
    pathlib.Path
        The shared portal's ``index.html``.
    """
    import shutil

    from ebpm.errors import ParameterError

    source = Path(out_dir)
    target_root = Path(shared) if shared is not None else shared_portal_dir()
    if target_root is None:
        raise ParameterError(
            "共有のレポート一覧のフォルダが決まっていません。環境変数 EBPM_PORTAL_SHARED を設定してください。",
            parameter="publish",
        )
    if not (source / "result.json").is_file():
        raise ParameterError(
            f"レポート「{source}」に result.json がありません。", parameter="publish"
        )
    dest = target_root / source.parent.name / source.name
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.parent / f".{source.name}.{os.getpid()}"
    shutil.copytree(source, tmp, dirs_exist_ok=False)
    if dest.exists():
        shutil.rmtree(dest)
    os.replace(tmp, dest)
    return write_portal(target_root)

"""The cohort's learning-gain report (事前・事後テスト), written like a template run and listed in the portal."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import json
import secrets
from pathlib import Path
from typing import Any

from ebpm.config import paths

TEMPLATE = "course_learning_gain"
JST = dt.timezone(dt.timedelta(hours=9))


def _gain_chart(table, label: str, title: str, names: dict[str, str] | None = None) -> str:
    import altair as alt

    from ebpm.charts.core import to_svg

    data = table.assign(
        label=table[label].astype(str).map(lambda v: (names or {}).get(v, v)),
        gain_pt=table["gain"] * 100,
        lo=table["ci_low"] * 100,
        hi=table["ci_high"] * 100,
    )[["label", "gain_pt", "lo", "hi"]]
    base = alt.Chart(data).encode(y=alt.Y("label:N", title=None, sort=None))
    bars = base.mark_point(filled=True, size=60, color="#1f5a96").encode(
        x=alt.X("gain_pt:Q", title="正答率の伸び（%ポイント、事後−事前）")
    )
    rules = base.mark_rule(color="#1f5a96").encode(x=alt.X("lo:Q"), x2=alt.X2("hi:Q"))
    zero = (
        alt.Chart(alt.Data(values=[{"x": 0}]))
        .mark_rule(color="#888", strokeDash=[4, 3])
        .encode(x=alt.X("x:Q"))
    )
    chart = (rules + bars + zero).properties(width=420, height=max(60, 24 * len(data)), title=title)
    svg = to_svg(chart)
    return svg.split("?>", 1)[-1] if svg.startswith("<?xml") else svg


def _table_html(table, label: str, names: dict[str, str]) -> str:
    rows = []
    for rec in table.to_dict("records"):
        name = names.get(str(rec[label]), str(rec[label]))
        rows.append(
            f"<tr><td>{html_lib.escape(name)}</td><td>{rec['n']}</td><td>{rec['pre'] * 100:.0f}%</td>"
            f"<td>{rec['post'] * 100:.0f}%</td><td>{rec['gain'] * 100:+.1f}</td>"
            f"<td>{rec['ci_low'] * 100:+.1f} 〜 {rec['ci_high'] * 100:+.1f}</td></tr>"
        )
    return (
        "<table><thead><tr><th>区分</th><th>人数</th><th>事前の正答率</th><th>事後の正答率</th>"
        "<th>伸び（%ポイント）</th><th>95%信頼区間</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def gain_answer(overall) -> str:
    """One Japanese sentence on the cohort's gain, from the paired CI (never typed by hand)."""
    rec = overall.iloc[0]
    gain, lo, hi = rec["gain"] * 100, rec["ci_low"] * 100, rec["ci_high"] * 100
    span = f"（95%信頼区間 {lo:+.1f}〜{hi:+.1f}%ポイント、{int(rec['n'])}人）"
    if lo > 0:
        return f"研修の前後で正答率は平均 {gain:+.1f}%ポイント伸びた{span}。伸びは偶然のばらつきでは説明しにくい。"
    if hi < 0:
        return f"研修の前後で正答率は平均 {gain:+.1f}%ポイント下がった{span}。設問と教え方を見直す必要がある。"
    return f"研修の前後の正答率の差は {gain:+.1f}%ポイントで、信頼区間が0をまたぐ{span}。伸びたとは言い切れない。"


CAVEATS = (
    "事前と事後で同じ設問を解くため、設問への慣れによる伸びも含む。",
    "比較群（受講していない職員）がないため、研修以外で学んだ分と区別できない。",
    "両方のテストを受けた受講者だけを数えている。",
)


def gain_recommendation(overall, by_module, names: dict[str, str]) -> str:
    """推奨・次の一手 from a fixed rule: keep the course when the CI is above 0, and name the weakest module."""
    rec = overall.iloc[0]
    weakest = by_module.sort_values("gain").iloc[0] if not by_module.empty else None
    weak = names.get(str(weakest["module"]), str(weakest["module"])) if weakest is not None else ""
    if rec["ci_low"] > 0:
        return f"この研修の形を続ける。伸びが最も小さいモジュール（{weak}）の教え方と設問を見直す。"
    return f"伸びを確かめられなかった。設問と教え方（特に{weak}）を見直し、次の期で同じ設問で測り直す。"


def course_report(
    answers_dir: str | Path,
    *,
    track: str,
    cohort: str = "",
    reports_dir: str | Path | None = None,
    pdf: bool = True,
    synthetic: bool = False,
) -> dict[str, Any]:
    """Score a cohort's pre/post answers and write the learning-gain report into the portal.

    Writes ``reports/course_learning_gain/<run_id>/`` (``index.html``, ``result.json`` in the report
    contract's shape, ``report.pdf`` when Chromium is available), adds the run to the evidence register
    and rewrites the portal (``reports/index.html``).

    Returns
    -------
    dict
        The result.json content.
    """
    from ebpm import __version__
    from ebpm.errors import ParameterError
    from ebpm.report import portal, register
    from ebpm.report.provenance import code_version
    from ebpm.report.render import PdfPrinter, render_html
    from ebpm.training.course import load_course
    from ebpm.training.quiz import learning_gain, load_bank, read_answers

    course = load_course()
    if track not in course.tracks:
        raise ParameterError(
            f"区分は {'・'.join(course.tracks)} です（{track!r}）", parameter="track"
        )
    started = dt.datetime.now(JST)
    bank = {k: v for k, v in load_bank().items() if v.track == track}
    scores = read_answers(answers_dir, bank)
    by_item = learning_gain(scores, by="item")
    by_module = learning_gain(scores, by="module")
    overall = learning_gain(scores, by="all")
    if overall.empty:
        raise ParameterError("事前と事後の両方を受けた受講者がいません", parameter="answers")
    track_title = course.tracks[track]["title"]
    title = f"EBPM研修の学習効果（{track_title}{'・' + cohort if cohort else ''}）"
    answer = gain_answer(overall)
    item_names = {
        k: f"{k}: {v.question[:30]}…" if len(v.question) > 30 else f"{k}: {v.question}"
        for k, v in bank.items()
    }
    blocks = [
        {
            "kind": "markdown",
            "html": (
                "<p>同じ設問で事前テストと事後テストを行い、受講者ごとの正答率の差（事後−事前）を平均した。"
                "95%信頼区間は対応のある t 分布による。両方のテストを受けた受講者だけを数える。</p>"
            ),
        },
        {"kind": "html", "html": "<h2>モジュール別の伸び</h2>"},
        {
            "kind": "figure",
            "html": _gain_chart(by_module, "module", "モジュール別の正答率の伸び", course.modules),
        },
        {"kind": "html", "html": _table_html(by_module, "module", course.modules)},
        {"kind": "html", "html": "<h2>設問別の伸び</h2>"},
        {"kind": "figure", "html": _gain_chart(by_item, "item", "設問別の正答率の伸び")},
        {"kind": "html", "html": _table_html(by_item, "item", item_names)},
    ]
    root = Path(reports_dir) if reports_dir is not None else paths().reports
    run_id = started.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)
    out = root / TEMPLATE / run_id
    out.mkdir(parents=True, exist_ok=True)
    rec = overall.iloc[0]
    from ebpm.report.summary import build_summary

    recommendation = gain_recommendation(overall, by_module, course.modules)
    summary = build_summary(
        {
            "question": "研修の前後で、受講者の正答率は伸びたか。",
            "recommendation": recommendation,
            "caveats": list(CAVEATS),
            "results": {
                "overall": {
                    "estimate": float(rec["gain"]),
                    "ci": [float(rec["ci_low"]), float(rec["ci_high"])],
                    "unit": "%ポイント",
                }
            },
            "headline": "overall",
        },
        grading=None,
        meta={"owner": "研修担当", "status": "確定"},
        synthetic=synthetic,
        created=started,
        vintage=started.date().isoformat(),
    )
    context = {
        "summary": summary,
        "prereg": None,
        "build_time": None,
        "glossary": [],
        "suppressed": False,
        "ebpm_version": __version__,
        "template": TEMPLATE,
        "template_title": "研修の学習効果",
        "title": title,
        "answer": answer,
        "grade": None,
        "grade_label": "",
        "grade_reasons": [],
        "failed": False,
        "error": None,
        "parameters": [
            {"label": "区分", "value": track_title},
            {"label": "受講者（両方受験）", "value": f"{int(rec['n'])}人"},
            {"label": "設問数", "value": f"{len(bank)}問"},
        ],
        "hidden_count": 0,
        "blocks": blocks,
        "synthetic": synthetic,
        "synthetic_tables": ["事前・事後テストの回答"],
        "build": {},
        "vintage": started.date().isoformat(),
        "code_version": code_version(),
        "created_at": started.strftime("%Y年%m月%d日 %H:%M（日本時間）"),
        "duration_s": (dt.datetime.now(JST) - started).total_seconds(),
        "run_id": run_id,
        "sources": [],
    }
    (out / "index.html").write_text(render_html(context), encoding="utf-8")
    pdf_file = None
    if pdf:
        try:
            with PdfPrinter() as printer:
                printer.print_pdf(out / "index.html", out / "report.pdf")
            pdf_file = "report.pdf"
        except Exception:  # no Chromium: the HTML report stands alone
            pdf_file = None
    overall_rec = {
        "estimate": float(rec["gain"]),
        "ci": [float(rec["ci_low"]), float(rec["ci_high"])],
        "n": int(rec["n"]),
        "unit": "正答率（0〜1）",
    }
    result = {
        "template": TEMPLATE,
        "title": title,
        "run_id": run_id,
        "created_at": started.isoformat(),
        "status": "ok",
        "answer": answer,
        "question": "研修の前後で、受講者の正答率は伸びたか。",
        "recommendation": recommendation,
        "caveats": list(CAVEATS),
        "grade": None,
        "grade_reasons": [],
        "parameters": {"track": track, "cohort": cohort},
        "results": {
            "overall": overall_rec,
            "by_module": by_module.to_dict("records"),
            "by_item": by_item.to_dict("records"),
        },
        "headline": "overall",
        "build": {},
        "vintage": started.date().isoformat(),
        "sources": [],
        "synthetic": synthetic,
        "code_version": code_version(),
        "duration_s": context["duration_s"],
        "error": None,
        "files": {"html": "index.html", "pdf": pdf_file, "notebook": None},
    }
    (out / "result.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    register.add_run(out / "result.json", register=root / "register.duckdb")
    portal.write_portal(root)
    result["path"] = str(out)
    return result

"""The one-page summary of a report (問い, 結論, 推奨, 効果, 根拠の確かさ, 注意点) from records and meta."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

JST = dt.timezone(dt.timedelta(hours=9), "JST")

GRADE_TITLE = "根拠の確かさ"
MONITORING_LABEL = "実績集計（推定なし）"
META_FIELDS = {
    "owner": "担当課",
    "policy_area": "施策分野",
    "contact": "問い合わせ先",
    "status": "作成状況",
}
STATUSES = ("下書き", "確定")

# what each letter means for a decision (shown on every report and on the portal)
GRADE_SCALE: dict[str, tuple[str, str]] = {
    "A": ("確か", "この結果を判断の根拠にしてよい。"),
    "B": ("おおむね確か", "判断に使えるが、残る前提を確かめながら進める。"),
    "C": ("限定的", "方向の参考になる。拡大など大きな判断の前に追加の検証が要る。"),
    "D": ("参考程度", "判断の根拠にはしない。仮説づくりに使う。"),
}

# failed or untested checks (by words in their reason) → what would raise the grade
_RAISE_RULES: tuple[tuple[str, str], ...] = (
    (r"クラスター|単位が\d+|少な", "比較する窓口・地域など対象の数を増やすか、観察期間を延ばす"),
    (r"平行トレンド|介入前", "導入前の動きがそろう比較群を選び直す"),
    (r"密度|操作", "しきい値の前後で対象者の操作がないことを確かめる"),
    (r"当てはまり|適合|事前", "介入前の当てはまりを良くする比較対象を探す"),
)


def grade_label(grade: str | None) -> str:
    """``"C"`` → ``"C（限定的）"``; empty for an unknown grade."""
    if grade not in GRADE_SCALE:
        return ""
    return f"{grade}（{GRADE_SCALE[grade][0]}）"


def grade_legend() -> list[dict[str, str]]:
    """The A〜D legend rows: letter, word, meaning for a decision."""
    return [{"grade": g, "word": w, "meaning": m} for g, (w, m) in GRADE_SCALE.items()]


def how_to_raise(grade: str | None, reasons: list[str], *, synthetic: bool) -> list[str]:
    """What would raise the grade, from the failed and untested checks (never invented)."""
    if grade not in GRADE_SCALE or grade == "A":
        return []
    steps: list[str] = []
    if synthetic:
        steps.append("実データで再検証する")
    for reason in reasons:
        if not reason.startswith(("【要注意】", "【未確認】")):
            continue
        for pattern, step in _RAISE_RULES:
            if re.search(pattern, reason) and step not in steps:
                steps.append(step)
                break
        else:
            if reason.startswith("【未確認】"):
                step = "確認できなかった前提を確かめる"
                if step not in steps:
                    steps.append(step)
    return steps


def _estimates(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        k: v
        for k, v in results.items()
        if isinstance(v, dict) and "estimate" in v and "method" in v and "grade" in v
    }


def method_range(results: dict[str, Any], headline: str | None) -> dict[str, Any] | None:
    """The range of the effect across calculation methods (headline, supporting estimates, TWFE).

    Only estimates in the headline's unit and direction are compared; None when there is one method.
    """
    found = _estimates(results)
    head = found.get(headline or "")
    if head is None:
        return None
    unit = head.get("unit") or ""
    values = [float(head["estimate"])]
    for name, res in found.items():
        if name != headline and (res.get("unit") or "") == unit:
            values.append(float(res["estimate"]))
    twfe = (head.get("diagnostics") or {}).get("twfe_estimate")
    if isinstance(twfe, (int, float)):
        values.append(float(twfe))
    same_sign = [v for v in values if (v < 0) == (values[0] < 0)]
    if len(same_sign) < 2:
        return None
    mags = sorted(abs(v) for v in same_sign)
    return {"low": mags[0], "high": mags[-1], "unit": unit, "n_methods": len(same_sign)}


def range_text(rng: dict[str, Any] | None, *, less: str) -> str | None:
    """「計算方法により3.5〜4.2分の短縮」 (one decimal, no minus signs)."""
    if not rng:
        return None
    return f"計算方法により{rng['low']:,.1f}〜{rng['high']:,.1f}{rng['unit']}の{less}"


def wareki_date(when: dt.datetime | dt.date) -> str:
    """``令和8年12月2日（2026年12月2日）``."""
    from ebpm.ingest.wareki import to_wareki

    day = when.date() if isinstance(when, dt.datetime) else when
    return f"{to_wareki(day)}（{day.year}年{day.month}月{day.day}日）"


def vintage_text(vintage: str) -> str:
    """Data vintages ``2026-03-31`` written as 和暦（西暦） dates (other text unchanged)."""

    def one(m: re.Match) -> str:
        return wareki_date(dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))))

    return re.sub(r"(\d{4})-(\d{2})-(\d{2})", one, vintage or "")


def check_meta(meta: Any, *, file: str = "", required: bool = False) -> dict[str, str]:
    """Validate a sidecar ``meta:`` block (owner, policy_area, contact, status) in Japanese.

    A missing block gives ``{}`` unless ``required`` (the template check requires it for every
    shipped template); a block that is there must be complete and use a known status.
    """
    from ebpm.errors import ParameterError

    if meta is None and not required:
        return {}
    if not isinstance(meta, dict):
        raise ParameterError(
            "条件の定義に meta:（owner 担当課・policy_area 施策分野・contact 問い合わせ先・"
            "status 作成状況）がありません。",
            file=file or None,
        )
    missing = [f"{k}（{v}）" for k, v in META_FIELDS.items() if not str(meta.get(k) or "").strip()]
    if missing:
        raise ParameterError(f"meta: に {'、'.join(missing)} がありません。", file=file or None)
    unknown = sorted(set(meta) - set(META_FIELDS))
    if unknown:
        raise ParameterError(
            f"meta: の未知の項目 {', '.join(unknown)}。使える項目: {', '.join(META_FIELDS)}",
            file=file or None,
        )
    if meta["status"] not in STATUSES:
        raise ParameterError(
            f"meta: の status「{meta['status']}」は使えません（{'、'.join(STATUSES)}）。",
            file=file or None,
        )
    return {k: str(meta[k]).strip() for k in META_FIELDS}


def evidence_box(grading: Any, *, synthetic: bool) -> dict[str, Any]:
    """The 根拠の確かさ box from the grading rule's verified output (or None when there is none).

    ``grading`` is :class:`ebpm.methods.grading.Grading` (or its ``to_dict()``): a causal or
    descriptive grade A〜D with its reasons, or a monitoring report (「実績集計（推定なし）」, no letter).
    """
    from ebpm.report.terms import plain_text

    data = grading.to_dict() if hasattr(grading, "to_dict") else grading
    empty = {
        "kind": None,
        "grade": None,
        "label": "",
        "meaning": "",
        "reasons": [],
        "concerns": [],
        "n_confirmed": 0,
        "raise": [],
        "raise_to": None,
    }
    if not isinstance(data, dict):
        return empty
    reasons = [plain_text(r) for r in data.get("reasons") or []]
    if data.get("kind") == "monitoring":
        return {
            **empty,
            "kind": "monitoring",
            "label": MONITORING_LABEL,
            "meaning": "記録を数えた実績で、推定の誤差はない。施策の効果を示すものではない。",
            "reasons": reasons,
            "concerns": reasons,
        }
    grade = data.get("grade")
    if grade not in GRADE_SCALE:
        return empty
    concerns = [r for r in reasons if r.startswith(("【要注意】", "【未確認】"))]
    if not concerns:
        concerns = [r for r in reasons if not r.startswith("【確認済み】")]
    return {
        "kind": data.get("kind") or "causal",
        "grade": grade,
        "label": grade_label(grade),
        "meaning": GRADE_SCALE[grade][1],
        "reasons": reasons,
        "concerns": concerns,
        "n_confirmed": sum(r.startswith("【確認済み】") for r in reasons),
        "raise": how_to_raise(grade, reasons, synthetic=synthetic),
        "raise_to": "ABCD"[max("ABCD".index(grade) - 1, 0)],
    }


def build_summary(
    rec: dict[str, Any],
    *,
    grading: Any = None,
    meta: dict[str, str] | None,
    synthetic: bool,
    created: dt.datetime,
    vintage: str,
) -> dict[str, Any]:
    """Everything the summary block shows, from the records of a run and the sidecar meta."""
    from ebpm.methods.answers import direction_words

    results = rec.get("results") or {}
    headline = rec.get("headline")
    head = results.get(headline) if headline else None
    head = head if isinstance(head, dict) else None
    box = evidence_box(grading, synthetic=synthetic)
    rng = method_range(results, headline)
    less = more = ""
    if head:
        _, _, less, more = direction_words(head.get("unit") or "")
    effect = rec.get("effect") if isinstance(rec.get("effect"), dict) else None
    supporting = [k for k in _estimates(results) if k != headline]
    caveats = rec.get("caveats") or []
    if isinstance(caveats, str):
        caveats = [caveats]
    return {
        "question": rec.get("question"),
        "recommendation": rec.get("recommendation"),
        "caveats": [str(c) for c in caveats][:3],
        "effect": effect,
        "range": rng,
        "range_text": range_text(rng, less=less if head and head["estimate"] < 0 else more),
        "cost_text": (effect or {}).get("cost_text")
        or (
            None
            if box["kind"] == "monitoring"
            else "費用は条件として与えられていないため、費用対効果は示していない。"
        ),
        "evidence": box,
        "legend": grade_legend(),
        "supporting": supporting,
        "meta": meta or {},
        "date": wareki_date(created),
        "vintage": vintage_text(vintage),
        "chart_svg": (rec.get("summary_chart") or {}).get("svg")
        if isinstance(rec.get("summary_chart"), dict)
        else None,
    }


def technical_note(result: Any, *, supporting: bool = False) -> Any:
    """A result's method, estimate, interval and checks for the 付録, without a grade of its own.

    Returns an IPython Markdown object (displayed in the report body). Supporting analyses are
    labelled 補助分析; the report's one grade stays in the summary.
    """
    from IPython.display import Markdown

    from ebpm.methods.answers import direction_words

    data = result.to_dict() if hasattr(result, "to_dict") else dict(result)
    unit = data.get("unit") or ""
    _, _, less, more = direction_words(unit)
    est = float(data["estimate"])
    lo, hi = data["ci"]
    word = less if est < 0 else more
    a, b = sorted((abs(lo), abs(hi))) if (lo < 0) == (hi < 0) else (None, None)
    interval = (
        f"{a:,.1f}〜{b:,.1f}{unit}の{word}"
        if a is not None
        else f"{abs(lo):,.1f}{unit}の{less}から{abs(hi):,.1f}{unit}の{more}まで"
    )
    head = "補助分析" if supporting else "見出しの分析"
    lines = [
        f"**{head}: {data.get('method_ja')}**",
        "",
        f"- 推定値: 約{abs(est):,.1f}{unit}の{word}",
        f"- 95%信頼区間: {interval}",
        f"- 使った記録: {data.get('n'):,}件",
    ]
    if not supporting:
        from ebpm.report.terms import plain_text

        for r in data.get("reasons") or []:
            lines.append(f"- {plain_text(r)}")
    return Markdown("\n".join(lines))

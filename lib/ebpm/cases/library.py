"""The case-study library (取組事例): documented Japanese cases and own published studies, validated."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ebpm.config import paths
from ebpm.ingest.yamlfile import Checker, SchemaError, YamlDoc, read_yaml

DESIGNS: dict[str | None, str] = {
    "rct": "無作為化比較試験（RCT）",
    "nudge_rct": "ナッジの無作為化比較試験",
    "did": "差の差分析（DiD）",
    "rdd": "回帰不連続デザイン（RDD）",
    "its": "分割時系列分析（ITS）",
    "synth": "合成コントロール法",
    "matching": "マッチング",
    "regression": "回帰分析",
    "before_after": "前後比較",
    "descriptive": "記述統計",
    "logic_model_only": "ロジックモデルのみ",
    None: "割付方法の記載なし",
}
STATUS_JA = {
    "verified": "確認済み（記載の数値を出典で確認）",
    "partial": "一部確認（見出しの数値は未確認）",
    "own": "自前の分析（ebpm のレポート）",
}
DIRECTIONS = ("効果あり", "効果なし", "不明")
LEVELS = {
    "municipal": "市区町村",
    "prefectural": "都道府県",
    "national": "国",
    "multi": "複数の団体",
}
_REQUIRED = (
    "id",
    "status",
    "title_ja",
    "body",
    "body_level",
    "years",
    "policy_area",
    "question",
    "intervention",
    "outcome_indicators",
    "design",
    "headline_result",
    "numbers",
    "caveats",
    "sources",
)
_KNOWN = (*_REQUIRED, "design_note", "data_used", "sample", "significance", "teaching_tags")
_SECONDARY = re.compile(r"secondary|news|blog|aggregator|digest|repost|book review|glossary", re.I)


class CaseError(SchemaError):
    """A case record does not follow the case schema."""


@dataclass
class Case:
    """One case: what was done, how it was evaluated, what the source says, and how it was checked."""

    id: str
    status: str
    title: str
    body: str
    body_level: str
    years: str
    policy_area: str
    question: str
    intervention: str
    outcome_indicators: list[str]
    design: str | None
    headline_result: str | None
    numbers: list[str]
    caveats: list[str]
    sources: list[dict[str, Any]]
    design_note: str | None = None
    data_used: str | None = None
    sample: str | None = None
    significance: str | None = None
    teaching_tags: list[str] = field(default_factory=list)
    direction: str = "不明"
    direction_note: str = ""
    own: bool = False
    report_link: str | None = None
    plan_link: str | None = None
    grade: str | None = None
    file: str = ""

    @property
    def design_ja(self) -> str:
        return DESIGNS.get(self.design, str(self.design))

    @property
    def level(self) -> str:
        """市区町村 / 都道府県 / 国 / 複数の団体 (from body_level's first word)."""
        key = (self.body_level or "").split()[0] if self.body_level else ""
        return LEVELS.get(key, self.body_level or "不明")

    @property
    def area(self) -> str:
        """The policy area's main word (``保健（がん検診）`` -> ``保健``) for filtering."""
        return re.split(r"[（(／/・]", self.policy_area or "不明")[0].strip() or "不明"

    @property
    def status_ja(self) -> str:
        return STATUS_JA.get(self.status, self.status)

    @property
    def secondary_only(self) -> bool:
        """Every source is secondary (a third party's summary, news, a repost)."""
        return bool(self.sources) and all(
            _SECONDARY.search(str(s.get("kind", ""))) for s in self.sources
        )

    @property
    def has_secondary(self) -> bool:
        return any(_SECONDARY.search(str(s.get("kind", ""))) for s in self.sources)

    @property
    def source_badge(self) -> str:
        """二次資料のみ / 二次資料を含む / '' (for the badge next to the title)."""
        if self.own:
            return ""
        if self.secondary_only:
            return "二次資料のみ"
        return "二次資料を含む" if self.has_secondary else ""

    @property
    def search_text(self) -> str:
        parts = [
            self.id,
            self.title,
            self.body,
            self.policy_area,
            self.question,
            self.intervention,
            self.headline_result or "",
            self.design_ja,
            self.level,
            self.direction,
            *self.outcome_indicators,
            *self.numbers,
            *self.teaching_tags,
        ]
        return " ".join(p for p in parts if p)


def _validate_case(chk: Checker, i: int, raw: Any, prefix: tuple) -> Case | None:
    p = (*prefix, i)
    if not isinstance(raw, dict):
        chk.problem(p, "事例は 項目: 値 の組で書いてください。")
        return None
    chk.unknown_keys(p, _KNOWN)
    for key in _REQUIRED:
        if key not in raw:
            chk.problem((*p, key), "必須の項目がありません（値が不明なら null と書きます）。")
    chk.enum((*p, "status"), ("verified", "partial"), label="確認の状態")
    design = raw.get("design")
    if "design" in raw and design not in DESIGNS:
        chk.problem(
            (*p, "design"),
            f"「{design}」は使えません。使える値: {'、'.join(str(k) for k in DESIGNS if k)}、null",
        )
    for key in ("outcome_indicators", "numbers", "caveats", "sources"):
        chk.optional((*p, key), list)
    for j, src in enumerate(raw.get("sources") or []):
        q = (*p, "sources", j)
        if not isinstance(src, dict):
            chk.problem(q, "出典は title・url・kind の組で書いてください。")
            continue
        for key in ("title", "kind"):
            chk.require((*q, key), str)
        if "url" not in src:
            chk.problem(
                (*q, "url"), "出典の URL がありません（見つからないときは null と書きます）。"
            )
        url = src.get("url")
        if isinstance(url, str) and not url.startswith(("http://", "https://", "../", "./")):
            chk.problem((*q, "url"), f"URL は http:// か https:// で始めてください（{url}）。")
    if not all(k in raw for k in _REQUIRED):
        return None
    return Case(
        id=str(raw["id"]),
        status=str(raw["status"]),
        title=str(raw["title_ja"]),
        body=str(raw["body"]),
        body_level=str(raw["body_level"]),
        years=str(raw["years"]),
        policy_area=str(raw["policy_area"]),
        question=str(raw["question"]),
        intervention=str(raw["intervention"]),
        outcome_indicators=list(raw["outcome_indicators"] or []),
        design=design,
        headline_result=raw["headline_result"],
        numbers=list(raw["numbers"] or []),
        caveats=list(raw["caveats"] or []),
        sources=list(raw["sources"] or []),
        design_note=raw.get("design_note"),
        data_used=raw.get("data_used"),
        sample=raw.get("sample"),
        significance=raw.get("significance"),
        teaching_tags=list(raw.get("teaching_tags") or []),
        file=chk.doc.file,
    )


def validate_cases(doc: YamlDoc) -> list[Case]:
    """Validate a case file (``cases:`` list, or one case) and return its records."""
    chk = Checker(doc)
    data = doc.data
    if isinstance(data, dict) and "cases" in data:
        chk.require(("cases",), list, label="事例の一覧")
        raws, prefix = data.get("cases") or [], ("cases",)
    elif isinstance(data, dict):
        raws, prefix = [data], ()
    else:
        raise CaseError(
            "事例のファイルは cases: の一覧か、1件の事例で書いてください。", file=doc.file, line=1
        )
    cases = []
    seen: set[str] = set()
    for i, raw in enumerate(raws):
        if prefix == ():
            chk_case = _validate_case(_Single(chk), 0, raw, ())
        else:
            chk_case = _validate_case(chk, i, raw, prefix)
        if chk_case is not None:
            if chk_case.id in seen:
                chk.problem(
                    (*prefix, i, "id") if prefix else ("id",),
                    f"事例ID「{chk_case.id}」が重複しています。",
                )
            seen.add(chk_case.id)
            cases.append(chk_case)
    chk.raise_if_any("事例")
    return cases


class _Single(Checker):
    """A checker for a file holding one case at the top level (paths drop the list index)."""

    def __init__(self, parent: Checker) -> None:
        super().__init__(parent.doc)
        self.problems = parent.problems

    @staticmethod
    def _strip(path: tuple) -> tuple:
        return path[1:] if path and path[0] == 0 else path

    def problem(self, path: tuple, message: str) -> None:
        super().problem(self._strip(path), message)

    def get(self, path: tuple) -> Any:
        return super().get(self._strip(path))


def _directions(folder: Path) -> dict[str, dict[str, str]]:
    f = folder / "result_direction.yml"
    if not f.exists():
        return {}
    doc = read_yaml(f)
    chk = Checker(doc)
    out = {}
    for cid, item in ((doc.data or {}).get("directions") or {}).items():
        d = chk.enum(("directions", cid, "direction"), DIRECTIONS, label="結果の向き")
        if d:
            out[str(cid)] = {"direction": d, "note": str((item or {}).get("note") or "")}
    chk.raise_if_any("結果の向き")
    return out


def load_cases(folder: str | Path | None = None) -> list[Case]:
    """Every case in ``data/cases/*.yml`` (validated; the result direction from result_direction.yml).

    Parameters
    ----------
    folder : path, optional
        Default ``config.paths().cases`` (``data/cases``).
    """
    root = Path(folder) if folder is not None else paths().cases
    directions = _directions(root)
    cases: list[Case] = []
    for f in sorted(root.glob("*.yml")):
        if f.name in ("SOURCE.yml", "result_direction.yml"):
            continue
        cases += validate_cases(read_yaml(f, label=f"data/cases/{f.name}"))
    for c in cases:
        if c.id in directions:
            c.direction = directions[c.id]["direction"]
            c.direction_note = directions[c.id]["note"]
    return cases


_PLAN_DESIGN = {"event_study": "did", "descriptive": "descriptive"}


def own_case(study: dict[str, Any]) -> Case:
    """An own published study as a case (built from the register, the plan and the run's result).

    ``study`` holds ``slug``, ``plan`` (the plan's data), ``result`` (result.json), ``report_link``,
    ``plan_link`` and ``published_at``.
    """
    plan = study.get("plan") or {}
    result = study.get("result") or {}
    head = (result.get("results") or {}).get(result.get("headline") or "") or {}
    ci = head.get("ci") if isinstance(head, dict) else None
    direction, numbers = "不明", []
    if isinstance(head, dict) and head.get("estimate") is not None:
        unit = head.get("unit") or ""
        text = f"推定値 {head['estimate']:.3g}{unit}"
        if isinstance(ci, list) and len(ci) == 2 and None not in ci:
            text += f"（95%信頼区間 {ci[0]:.3g}〜{ci[1]:.3g}{unit}）"
            direction = "効果なし" if ci[0] <= 0 <= ci[1] else "効果あり"
        numbers.append(text)
    design = plan.get("design")
    outcome = plan.get("outcome") or {}
    caveats = [str(c) for c in (result.get("caveats") or [])][:3]
    if result.get("synthetic"):
        caveats.insert(0, "模擬データによる分析で、実在の記録ではない。")
    return Case(
        id=f"own-{study['slug']}",
        status="own",
        title=str(result.get("title") or plan.get("title") or study["slug"]),
        body="盛岡市（自前の分析）",
        body_level="municipal",
        years=str(study.get("published_at") or result.get("created_at") or ""),
        policy_area=str(
            plan.get("policy_area") or (result.get("meta") or {}).get("policy_area") or "未設定"
        ),
        question=str(plan.get("question") or result.get("question") or ""),
        intervention=str(plan.get("estimand") or ""),
        outcome_indicators=[str(outcome.get("name"))] if outcome.get("name") else [],
        design=_PLAN_DESIGN.get(design, design)
        if _PLAN_DESIGN.get(design, design) in DESIGNS
        else None,
        headline_result=result.get("answer"),
        numbers=numbers,
        caveats=caveats,
        sources=[
            {
                "title": str(result.get("title") or ""),
                "url": study.get("report_link") or "",
                "kind": "own report (ebpm)",
                "what_was_read": "レポートの結果（result.json）",
            }
        ],
        significance=None,
        direction=direction,
        direction_note="95%信頼区間が0を含むかで判定" if direction != "不明" else "",
        own=True,
        report_link=study.get("report_link"),
        plan_link=study.get("plan_link"),
        grade=result.get("grade"),
    )

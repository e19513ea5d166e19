"""行政事業レビューシート (RS) open-data columns: export a logic model to them and import it back.

Two tables, as the national RS2024 open data publishes them:

* ``効果発現経路_目標・実績`` (nodes): one row per node without an indicator, four rows per indicator
  (``1.目標年度`` / ``2.目標値`` / ``3.実績値`` / ``4.達成率``) with wide year columns 2007–2060.
  In the 目標年度 row the year column of each target year holds that year; 達成率 is derived.
* ``効果発現経路_目標のつながり`` (edges): 派生元 → 派生先 with 後続アウトカムへのつながり.

The RS has no インプット or インパクト node and no structured evidence; those are written as clearly
marked local extensions (種別 ``インプット（独自拡張）`` and a last column ``根拠（独自拡張・JSON）``) so the
round trip is lossless. On import, numeric prefixes of アウトカムの期間 (``1.短期``) are stripped and
non-numeric cells (``-``) are kept as text, never guessed.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

from ebpm.ingest.yamlfile import SchemaError
from ebpm.logic.model import DIRECTION_JA, Edge, Indicator, LogicModel, Node, _number

COMMON = [
    "シート種別",
    "事業年度",
    "予算事業ID",
    "事業名",
    "府省庁の建制順",
    "政策所管府省庁",
    "府省庁",
    "局・庁",
    "部",
    "課",
    "室",
    "班",
    "係",
]
YEARS = [str(y) for y in range(2007, 2061)]
ROW_TYPE = "目標年度／目標値／実績値／達成率"
ROW_TYPES = ("1.目標年度", "2.目標値", "3.実績値", "4.達成率")
NODE_COLUMNS = COMMON + [
    "事業に関連するKPIが定められている閣議決定等の名称",
    "事業に関連するKPIが定められている閣議決定等の該当箇所",
    "事業に関連するKPIが定められている閣議決定等のURL",
    "アクティビティ・アウトプット・アウトカムの番号",
    "種別（アクティビティ・アウトプット・アウトカム）",
    "アウトカムの期間",
    "成果目標の種類",
    "アクティビティ／活動目標／成果目標",
    "活動指標／成果指標",
    "単位",
    "改善の上向き／下向き",
    "成果実績及び目標値の根拠として用いた統計・データ名（出典）",
    "定性的なアウトカム目標を設定している理由",
    "定性的なアウトカムに関する成果実績",
    ROW_TYPE,
    *YEARS,
]
EDGE_COLUMNS = COMMON + [
    "派生元ー番号",
    "派生元ー種別",
    "派生元ーアウトカムの期間",
    "派生元ーアクティビティの内容・活動目標・成果目標",
    "派生先ー番号",
    "派生先ー種別",
    "派生先ーアウトカムの期間",
    "派生先ー活動目標・成果目標",
    "後続アウトカムへのつながり",
    "アウトカムを複数段階で設定できない理由",
    "根拠（独自拡張・JSON）",
]
NODE_TABLE = "効果発現経路_目標・実績"
EDGE_TABLE = "効果発現経路_目標のつながり"
_KIND = {
    "input": ("インプット（独自拡張）", ""),
    "activity": ("アクティビティ", ""),
    "output": ("アウトプット", ""),
    "short": ("アウトカム", "1.短期"),
    "medium": ("アウトカム", "2.中期"),
    "long": ("アウトカム", "3.長期"),
    "impact": ("インパクト（独自拡張）", ""),
}
_TERM = {"短期": "short", "中期": "medium", "長期": "long"}


def _stage(kind: str, term: str) -> str:
    kind = kind.strip()
    term = re.sub(r"^\s*\d+\s*[.．]\s*", "", term or "").strip()  # 1.短期 -> 短期
    if kind.startswith("アウトカム"):
        return _TERM.get(term, "short")
    for stage, (k, _) in _KIND.items():
        if k == kind:
            return stage
    if kind.startswith("インプット"):
        return "input"
    if kind.startswith("インパクト"):
        return "impact"
    raise SchemaError(
        f"種別「{kind}」は読めません（アクティビティ・アウトプット・アウトカムのどれか）。",
        field_name="種別（アクティビティ・アウトプット・アウトカム）",
    )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _common(model: LogicModel) -> dict[str, str]:
    project = model.project or {}
    return {
        "シート種別": "効果発現経路",
        "事業年度": _cell(project.get("fiscal_year")),
        "予算事業ID": model.id,
        "事業名": model.title,
        "府省庁": _cell(project.get("body", "盛岡市")),
        "部": _cell(project.get("department")),
        "課": _cell(project.get("section")),
    }


def export_rows(model: LogicModel) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The model as RS node rows and edge rows (dicts keyed by the RS column names)."""
    common = _common(model)
    actuals = model.actuals()
    nodes: list[dict[str, str]] = []
    for n in model.nodes:
        kind, term = _KIND[n.stage]
        base = (
            {c: "" for c in NODE_COLUMNS}
            | common
            | {
                "アクティビティ・アウトプット・アウトカムの番号": n.id,
                "種別（アクティビティ・アウトプット・アウトカム）": kind,
                "アウトカムの期間": term,
                "アクティビティ／活動目標／成果目標": n.statement,
            }
        )
        ind = n.indicator
        if ind is None:
            base["成果目標の種類"] = "定性的" if n.stage in ("short", "medium", "long") else ""
            nodes.append(base)
            continue
        base |= {
            "成果目標の種類": "定量的",
            "活動指標／成果指標": ind.name,
            "単位": ind.unit,
            "改善の上向き／下向き": DIRECTION_JA[ind.direction],
            "成果実績及び目標値の根拠として用いた統計・データ名（出典）": ind.source,
        }
        acts = actuals.get(n.id, {})
        for row_type in ROW_TYPES:
            row = dict(base)
            row[ROW_TYPE] = row_type
            for y in YEARS:
                fy = int(y)
                target = ind.targets.get(fy)
                actual = acts.get(fy)
                if row_type == "1.目標年度":
                    row[y] = y if target is not None else ""
                elif row_type == "2.目標値":
                    row[y] = _cell(target)
                elif row_type == "3.実績値":
                    row[y] = _cell(None if actual is None else round(actual, 6))
                else:
                    t = _number(target)
                    if actual is not None and t:
                        rate = (
                            100 * actual / t
                            if ind.direction == "up"
                            else 100 * t / actual
                            if actual
                            else None
                        )
                        row[y] = "" if rate is None else f"{rate:.1f}"
            nodes.append(row)
    by_id = {n.id: n for n in model.nodes}
    edges = []
    for e in model.edges:
        a, b = by_id[e.source], by_id[e.target]
        edges.append(
            {c: "" for c in EDGE_COLUMNS}
            | common
            | {
                "派生元ー番号": a.id,
                "派生元ー種別": _KIND[a.stage][0],
                "派生元ーアウトカムの期間": _KIND[a.stage][1],
                "派生元ーアクティビティの内容・活動目標・成果目標": a.statement,
                "派生先ー番号": b.id,
                "派生先ー種別": _KIND[b.stage][0],
                "派生先ーアウトカムの期間": _KIND[b.stage][1],
                "派生先ー活動目標・成果目標": b.statement,
                "後続アウトカムへのつながり": e.note,
                "アウトカムを複数段階で設定できない理由": model.single_stage_reason,
                "根拠（独自拡張・JSON）": json.dumps(e.evidence, ensure_ascii=False)
                if e.evidence
                else "",
            }
        )
    return nodes, edges


def _write_csv(path: Path, columns: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:  # BOM: opens in Excel
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def export_review_sheet(model: LogicModel, out_dir: str | Path) -> tuple[Path, Path]:
    """Write ``<id>_効果発現経路_目標・実績.csv`` and ``<id>_効果発現経路_目標のつながり.csv``.

    Returns
    -------
    (node_csv, edge_csv)
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    nodes, edges = export_rows(model)
    node_path = out / f"{model.id}_{NODE_TABLE}.csv"
    edge_path = out / f"{model.id}_{EDGE_TABLE}.csv"
    _write_csv(node_path, NODE_COLUMNS, nodes)
    _write_csv(edge_path, EDGE_COLUMNS, edges)
    return node_path, edge_path


def _read_csv(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp932"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise SchemaError(
            "文字コードを判別できません（UTF-8 か Shift_JIS で保存してください）。", file=path.name
        )
    return list(csv.DictReader(io.StringIO(text)))


def _value(text: str) -> Any:
    """A cell as a number when it is one; other text (``-``, ``調査中``) is kept as written."""
    text = (text or "").strip()
    if text in ("", "-", "－", "―"):
        return None
    number = _number(text)
    if number is None:
        return text
    return int(number) if number.is_integer() else number


def import_review_sheet(
    node_csv: str | Path, edge_csv: str | Path, *, model_id: str | None = None
) -> LogicModel:
    """Read the two RS tables back into a :class:`LogicModel` (actuals become the file's values).

    Rows of other 事業 (予算事業ID) are ignored when ``model_id`` is given.
    """
    node_path, edge_path = Path(node_csv), Path(edge_csv)
    rows = _read_csv(node_path)
    missing = [
        c
        for c in (
            "アクティビティ・アウトプット・アウトカムの番号",
            "種別（アクティビティ・アウトプット・アウトカム）",
            "アクティビティ／活動目標／成果目標",
        )
        if rows and c not in rows[0]
    ]
    if missing:
        raise SchemaError(
            f"レビューシートの列がありません: {'、'.join(missing)}", file=node_path.name, line=1
        )
    if model_id:
        rows = [r for r in rows if r.get("予算事業ID", model_id) == model_id]
    if not rows:
        raise SchemaError("ノードの行がありません。", file=node_path.name)
    nodes: dict[str, Node] = {}
    title, mid, project = rows[0].get("事業名", ""), rows[0].get("予算事業ID", ""), {}
    for key, col in (
        ("fiscal_year", "事業年度"),
        ("department", "部"),
        ("section", "課"),
        ("body", "府省庁"),
    ):
        value = _value(rows[0].get(col, ""))
        if value is not None:
            project[key] = value
    for line, r in enumerate(rows, start=2):
        nid = r["アクティビティ・アウトプット・アウトカムの番号"].strip()
        if not nid:
            raise SchemaError(
                "番号が空です。",
                file=node_path.name,
                line=line,
                field_name="アクティビティ・アウトプット・アウトカムの番号",
            )
        if nid not in nodes:
            stage = _stage(
                r["種別（アクティビティ・アウトプット・アウトカム）"], r.get("アウトカムの期間", "")
            )
            indicator = None
            if r.get("活動指標／成果指標", "").strip():
                direction = {"上向き": "up", "下向き": "down"}.get(
                    r.get("改善の上向き／下向き", "").strip()
                )
                if direction is None:
                    raise SchemaError(
                        "改善の向きは 上向き か 下向き で書いてください。",
                        file=node_path.name,
                        line=line,
                        field_name="改善の上向き／下向き",
                    )
                indicator = Indicator(
                    name=r["活動指標／成果指標"].strip(),
                    unit=r.get("単位", "").strip(),
                    direction=direction,
                    source=r.get(
                        "成果実績及び目標値の根拠として用いた統計・データ名（出典）", ""
                    ).strip(),
                )
            nodes[nid] = Node(
                nid, stage, r["アクティビティ／活動目標／成果目標"].strip(), indicator
            )
        ind = nodes[nid].indicator
        row_type = re.sub(r"^\s*\d+\s*[.．]\s*", "", r.get(ROW_TYPE, "") or "").strip()
        if ind is None or not row_type:
            continue
        for y in YEARS:
            value = _value(r.get(y, ""))
            if value is None:
                continue
            if row_type == "目標値":
                ind.targets[int(y)] = value
            elif row_type == "実績値":
                ind.actuals[int(y)] = value
    edges: list[Edge] = []
    reason = ""
    for line, r in enumerate(_read_csv(edge_path), start=2):
        if model_id and r.get("予算事業ID", model_id) != model_id:
            continue
        src, dst = r.get("派生元ー番号", "").strip(), r.get("派生先ー番号", "").strip()
        for key, value in (("派生元ー番号", src), ("派生先ー番号", dst)):
            if value not in nodes:
                raise SchemaError(
                    f"番号「{value}」のノードが {NODE_TABLE} にありません。",
                    file=edge_path.name,
                    line=line,
                    field_name=key,
                )
        evidence_text = (r.get("根拠（独自拡張・JSON）") or "").strip()
        evidence = json.loads(evidence_text) if evidence_text else []
        edges.append(Edge(src, dst, (r.get("後続アウトカムへのつながり") or "").strip(), evidence))
        reason = reason or (r.get("アウトカムを複数段階で設定できない理由") or "").strip()
    return LogicModel(
        id=model_id or mid,
        title=title,
        nodes=list(nodes.values()),
        edges=edges,
        project=project,
        single_stage_reason=reason,
    )

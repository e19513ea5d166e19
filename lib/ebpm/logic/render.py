"""The logic-model diagram: hand-built SVG (left to right by stage), offline, Japanese fonts."""

from __future__ import annotations

import unicodedata
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from ebpm.charts.core import FONT, SYNTHETIC_FOOTER

if TYPE_CHECKING:
    from ebpm.logic.model import LogicModel

BOX_W = 210
GAP_X = 56
GAP_Y = 18
PAD = 8
FONT_SIZE = 12
LINE_H = 16
TOP = 78
LEFT = 16


def _text_width(text: str, size: float = FONT_SIZE) -> float:
    """Approximate rendered width: full-width characters take 1 em, others about 0.55 em."""
    return sum(size if unicodedata.east_asian_width(ch) in "WF" else size * 0.55 for ch in text)


def wrap(text: str, width: float, size: float = FONT_SIZE, max_lines: int = 6) -> list[str]:
    """Wrap Japanese (or mixed) text to ``width`` pixels; the last line ends in … when cut."""
    lines: list[str] = []
    current = ""
    for ch in text.replace("\n", " "):
        if _text_width(current + ch, size) > width:
            lines.append(current)
            current = ch.lstrip()
        else:
            current += ch
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][:-1] + "…"
    return lines


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if float(value).is_integer():
        return f"{value:,.0f}{unit}"
    return f"{value:,.1f}{unit}"


def _fy(fy: int | None) -> str:
    return "" if fy is None else f"{fy}年度"


def render_svg(model: LogicModel, *, width: int | None = None) -> str:
    """The diagram as a standalone SVG string (no external resource, fonts by family name).

    Columns are the stages present (インプット → 活動 → アウトプット → 短期・中期・長期アウトカム →
    インパクト); each indicator box is coloured by its status from the curated actuals.
    """
    from ebpm.logic.model import STAGES, STATUS

    statuses = model.status()
    stages = [s for s in STAGES if any(n.stage == s for n in model.nodes)]
    col_x = {s: LEFT + i * (BOX_W + GAP_X) for i, s in enumerate(stages)}
    inner = BOX_W - 2 * PAD
    boxes: dict[str, tuple[float, float, float]] = {}  # id -> x, y, h
    parts: list[str] = []
    col_bottom = dict.fromkeys(stages, TOP)
    for n in model.nodes:
        x, y = col_x[n.stage], col_bottom[n.stage]
        lines = wrap(n.statement, inner)
        h = PAD + LINE_H * (len(lines) + 1) + PAD
        ind_lines: list[str] = []
        st = None
        if n.indicator is not None:
            ind = n.indicator
            st = statuses[n.id]
            ind_lines = wrap(f"指標: {ind.name}", inner - 4, size=11, max_lines=3)
            actual = (
                f"実績 {_fmt(st.latest, ind.unit)}（{_fy(st.latest_fy)}）"
                if st.latest_fy is not None
                else ("実績 —（読めません）" if n.id in model.data_errors else "実績 —")
            )
            target = (
                f"目標 {_fmt(st.target, ind.unit)}（{_fy(st.target_fy)}）"
                if st.target is not None
                else "目標 未設定"
            )
            ind_lines += [
                actual,
                target,
                f"状態: {st.label}（{ind.direction == 'up' and '上向き' or '下向き'}が改善）",
            ]
            h += 6 + LINE_H * len(ind_lines) + 4
        boxes[n.id] = (x, y, h)
        col_bottom[n.stage] = y + h + GAP_Y
        parts.append(
            f'<g class="node stage-{n.stage}" id="node-{escape(n.id)}" data-status="{st.status if st else ""}">'
            f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{h}" rx="6" fill="#ffffff" stroke="#4a4a4a"/>'
        )
        ty = y + PAD + 12
        parts.append(
            f'<text x="{x + PAD}" y="{ty}" font-size="11" fill="#555">{escape(n.id)}・{escape(n.stage_ja)}</text>'
        )
        for line in lines:
            ty += LINE_H
            parts.append(
                f'<text x="{x + PAD}" y="{ty}" font-size="{FONT_SIZE}" fill="#111">{escape(line)}</text>'
            )
        if st is not None:
            iy = ty + 8
            ih = LINE_H * len(ind_lines) + 4
            colour = STATUS[st.status][1]
            parts.append(
                f'<rect class="indicator status-{st.status}" x="{x + 4}" y="{iy}" width="{BOX_W - 8}" '
                f'height="{ih}" rx="4" fill="{colour}"/>'
            )
            ly = iy + 13
            for line in ind_lines:
                parts.append(
                    f'<text x="{x + 9}" y="{ly}" font-size="11" fill="#ffffff">{escape(line)}</text>'
                )
                ly += LINE_H
        parts.append("</g>")
    edge_parts = []
    for e in model.edges:
        if e.source not in boxes or e.target not in boxes:
            continue
        sx, sy, sh = boxes[e.source]
        tx, ty2, th = boxes[e.target]
        x1, y1 = sx + BOX_W, sy + min(sh / 2, 40)
        x2, y2 = tx, ty2 + min(th / 2, 40)
        if x2 <= x1:  # same column or backwards: loop below
            x1, x2 = sx + BOX_W / 2, tx + BOX_W / 2
            y1, y2 = sy + sh, ty2
        mid = (x1 + x2) / 2
        title = f"<title>{escape(e.note)}</title>" if e.note else ""
        edge_parts.append(
            f'<path class="edge" data-from="{escape(e.source)}" data-to="{escape(e.target)}" '
            f'd="M{x1},{y1} C{mid},{y1} {mid},{y2} {x2 - 6},{y2}" fill="none" stroke="#7a7a7a" '
            f'stroke-width="1.4" marker-end="url(#arrow)">{title}</path>'
        )
    total_w = LEFT * 2 + len(stages) * BOX_W + max(len(stages) - 1, 0) * GAP_X
    total_h = max(col_bottom.values(), default=TOP) + 40
    heads = []
    for s in stages:
        x = col_x[s]
        heads.append(
            f'<text class="stage-head" x="{x + BOX_W / 2}" y="{TOP - 12}" text-anchor="middle" '
            f'font-size="13" font-weight="bold" fill="#222">{escape(STAGES[s])}</text>'
        )
    legend = []
    lx = LEFT
    for _key, (label, colour) in STATUS.items():
        legend.append(
            f'<rect x="{lx}" y="{total_h - 30}" width="14" height="14" rx="2" fill="{colour}"/>'
            f'<text x="{lx + 18}" y="{total_h - 19}" font-size="12" fill="#222">{escape(label)}</text>'
        )
        lx += 30 + _text_width(label)
    foot = ""
    if model.synthetic:
        foot = (
            f'<text x="{lx + 20}" y="{total_h - 19}" font-size="12" fill="#9a4a00">'
            f"{escape(SYNTHETIC_FOOTER)}</text>"
        )
    scale = "" if width is None else f' width="{width}"'
    title = escape(model.title)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="logic-model" role="img" '
        f'aria-label="{title}" viewBox="0 0 {total_w:.0f} {total_h:.0f}"{scale} '
        f'font-family="{escape(FONT)}">'
        f"<title>{title}</title>"
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="4" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#7a7a7a"/>'
        "</marker></defs>"
        f'<rect width="100%" height="100%" fill="#ffffff"/>'
        f'<text x="{LEFT}" y="26" font-size="16" font-weight="bold" fill="#111">{title}</text>'
        f'<text x="{LEFT}" y="44" font-size="12" fill="#555">指標の色は最新の実績値と目標値の比較'
        "（整備済みデータベースから集計）</text>"
        + "".join(heads)
        + "".join(edge_parts)
        + "".join(parts)
        + "".join(legend)
        + foot
        + "</svg>"
    )


class LogicDiagram:
    """A rendered logic model: ``_repr_svg_`` for notebooks and reports, ``.save()`` for files."""

    def __init__(self, model: LogicModel, *, width: int | None = None) -> None:
        self.model = model
        self.svg = render_svg(model, width=width)

    def _repr_svg_(self) -> str:
        return self.svg

    def save(self, path: str | Path) -> Path:
        """Write ``.svg`` or ``.html`` (a self-contained page) depending on the suffix."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        text = self.svg if p.suffix == ".svg" else render_html(self.model, svg=self.svg)
        p.write_text(text, encoding="utf-8")
        return p


def render_html(model: LogicModel, *, svg: str | None = None) -> str:
    """A self-contained HTML page: the diagram and a table of every indicator by fiscal year."""
    from ebpm.logic.model import STATUS

    svg = svg or render_svg(model)
    acts = model.actuals()
    statuses = model.status()
    years = sorted(
        {y for s in acts.values() for y in s}
        | {int(y) for n in model.nodes if n.indicator for y in n.indicator.targets}
    )
    rows = []
    for n in model.nodes:
        if n.indicator is None:
            continue
        ind = n.indicator
        st = statuses[n.id]
        cells = []
        for y in years:
            a = acts.get(n.id, {}).get(y)
            t = ind.targets.get(y)
            text = _fmt(a, "") if a is not None else ""
            if t is not None:
                text += f"<br><span class=t>目標 {escape(str(t))}</span>"
            cells.append(f"<td>{text}</td>")
        rows.append(
            f"<tr><th scope=row>{escape(n.id)}</th><td>{escape(ind.name)}</td><td>{escape(ind.unit)}</td>"
            f"<td>{escape(ind.source)}</td>{''.join(cells)}"
            f'<td><span class="badge" style="background:{STATUS[st.status][1]}">{st.label}</span></td></tr>'
        )
    head = "".join(f"<th scope=col>{y}年度</th>" for y in years)
    notice = f'<p class="synthetic">{escape(SYNTHETIC_FOOTER)}</p>' if model.synthetic else ""
    return f"""<!DOCTYPE html>
<html lang="ja"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(model.title)}（ロジックモデル）</title>
<style>
body {{ font-family: {FONT}; margin: 1.5rem; color: #111; }}
.diagram {{ overflow-x: auto; border: 1px solid #ddd; padding: .5rem; }}
table {{ border-collapse: collapse; margin-top: 1rem; font-size: .9rem; }}
th, td {{ border: 1px solid #ccc; padding: .3rem .5rem; text-align: right; vertical-align: top; }}
td:nth-child(2), td:nth-child(4) {{ text-align: left; }}
.t {{ color: #555; font-size: .8rem; }}
.badge {{ color: #fff; padding: .1rem .4rem; border-radius: 3px; }}
.synthetic {{ color: #9a4a00; font-weight: bold; }}
</style></head><body>
<h1>{escape(model.title)}</h1>
<p>ロジックモデル「{escape(model.id)}」。指標の色は、整備済みデータベースの実績値を目標値と比べた状態です。</p>
{notice}
<div class="diagram">{svg}</div>
<h2>指標の実績と目標（年度別）</h2>
<table><thead><tr><th>ノード</th><th>指標</th><th>単位</th><th>出典</th>{head}<th>状態</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table>
</body></html>
"""

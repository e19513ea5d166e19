"""Japanese HTML for disclosed tables: thousands separators, right-aligned numbers, `x` cells, the note."""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np
import pandas as pd

from ebpm.config import DEFAULT_DISCLOSURE_THRESHOLD
from ebpm.disclosure.suppression import PRIMARY_DOMINANCE, PRIMARY_SMALL, SECONDARY

MARK = "x"


def format_cell(value: Any) -> tuple[str, bool]:
    """Return (text, is_number) in Japanese office style."""
    if isinstance(value, str):
        return value, value == MARK
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "—", False
    if isinstance(value, (bool, np.bool_)):
        return ("はい" if value else "いいえ"), False
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}", True
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if value.is_integer():
            return f"{value:,.0f}", True
        text = f"{value:,.2f}".rstrip("0").rstrip(".")
        return text, True
    if hasattr(value, "isoformat"):
        return value.isoformat(), False
    return str(value), False


_TABLE_STYLE = "border-collapse:collapse;font-variant-numeric:tabular-nums;margin:0.5em 0"
_CELL_STYLE = "border-bottom:1px solid #ccc;padding:0.25em 0.6em"


def frame_html(frame: pd.DataFrame, info: dict[str, Any], *, caption: str | None, note: str) -> str:
    protected = set(info.get("count_columns") or []) | set(info.get("magnitude_columns") or [])
    counts = set(info.get("count_columns") or [])
    show_index = not isinstance(frame.index, pd.RangeIndex) or frame.index.name is not None
    esc = html.escape
    parts = [
        f'<figure class="ebpm-table" style="margin:0.5em 0"><table class="ebpm-disclosed" style="{_TABLE_STYLE}">'
    ]
    if caption:
        parts.append(
            f'<caption style="text-align:left;font-weight:bold;padding-bottom:0.3em">{esc(caption)}</caption>'
        )
    parts.append("<thead><tr>")
    if show_index:
        parts.append(
            f'<th scope="col" style="{_CELL_STYLE}">{esc(str(frame.index.name or ""))}</th>'
        )
    numeric_cols = {
        c for c in frame.columns if c in protected or pd.api.types.is_numeric_dtype(frame[c].dtype)
    }
    for col in frame.columns:
        align = "right" if col in numeric_cols else "left"
        parts.append(
            f'<th scope="col" style="{_CELL_STYLE};text-align:{align}">{esc(str(col))}</th>'
        )
    parts.append("</tr></thead><tbody>")
    for label, row in zip(frame.index, frame.itertuples(index=False), strict=True):
        parts.append("<tr>")
        if show_index:
            parts.append(
                f'<th scope="row" style="{_CELL_STYLE};text-align:left">{esc(str(label))}</th>'
            )
        for col, value in zip(frame.columns, row, strict=True):
            text, is_number = format_cell(value)
            align = "right" if (is_number or col in numeric_cols) else "left"
            attr = f' data-ebpm-count="{esc(str(col))}"' if col in counts else ""
            parts.append(f'<td style="{_CELL_STYLE};text-align:{align}"{attr}>{esc(text)}</td>')
        parts.append("</tr>")
    parts.append("</tbody></table>")
    if note:
        parts.append(
            f'<figcaption class="ebpm-note" style="font-size:0.85em;color:#444">{esc(note)}</figcaption>'
        )
    parts.append("</figure>")
    return "".join(parts)


def note_ja(info: dict[str, Any]) -> str:
    if not info.get("protected"):
        return "（模擬データ）" if info.get("synthetic") else ""
    counts = info.get("suppressed", {})
    thr = info.get("threshold", DEFAULT_DISCLOSURE_THRESHOLD)
    kinds = []
    if counts.get(PRIMARY_SMALL):
        if info.get("count_columns"):
            kinds.append(f"一次秘匿：{thr}未満の人数")
        else:
            kinds.append("一次秘匿：寄与者が少ないもの")
    if counts.get(PRIMARY_DOMINANCE):
        kinds.append("一次秘匿：少数の寄与者が大部分を占めるもの")
    if counts.get(SECONDARY):
        kinds.append("二次秘匿：合計からの逆算を防ぐための追加秘匿")
    tail = "（模擬データ）" if info.get("synthetic") else ""
    if kinds:
        text = f"x は秘匿処理（{'、'.join(kinds)}）により非表示。"
        if info.get("margins_hidden"):
            text += "合計も秘匿しています。"
        return text + tail
    return f"秘匿処理済み（{thr}未満の人数は x で表示。この表には該当なし）。" + tail

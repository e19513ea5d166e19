"""The render-time disclosure gate: tables in an executed notebook must have come through `ebpm.show`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from html.parser import HTMLParser
from typing import Any

from ebpm.config import DEFAULT_DISCLOSURE_THRESHOLD

MARKER_KEY = "ebpm"  # output metadata written by ebpm.show: {"ebpm": {"disclosure": {...}}}

_HTML_TABLE = re.compile(r"<table\b", re.IGNORECASE)
_MD_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)+\|?\s*$", re.MULTILINE)
_FRAME_FOOTER = re.compile(r"\[\d+ rows x \d+ columns\]")
_GRID_RULE = re.compile(r"^\s*\+(?:[-=:]+\+){2,}\s*$", re.MULTILINE)  # tabulate "grid" tables
_SERIES_FOOTER = re.compile(r"^(Name: .*, )?(Length: \d+, )?dtype: \w+\s*$", re.MULTILINE)
_NUM = r"-?[\d,]+(?:\.\d+)?|NaN|<NA>"
_BODY_LINE = re.compile(rf"^\S+(?:\s+\S+)*?(?:\s+(?:{_NUM})){{1,}}\s*$")
_TABLE_MIMES = ("application/vnd.dataresource+json",)


def looks_like_frame_text(text: str) -> bool:
    """True when plain text looks like a printed table: a DataFrame or Series repr, or an HTML or
    Markdown table printed as text (a table that skipped `show`)."""
    if any(p.search(text) for p in (_FRAME_FOOTER, _HTML_TABLE, _MD_RULE, _GRID_RULE)):
        return True
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if _SERIES_FOOTER.search(text) and len(lines) >= 2:
        return True
    for k in range(len(lines) - 2):
        header, first, second = lines[k : k + 3]
        if header.startswith(" ") and len(header.split()) >= 1 and re.search(r"\s{2,}\S", header):
            if _BODY_LINE.match(first) and _BODY_LINE.match(second):
                return True
    return False


class _CountCells(HTMLParser):
    """Collect the text of cells tagged ``data-ebpm-count`` by :func:`show`."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[tuple[str, str]] = []
        self._col: str | None = None
        self._buf: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "td":
            attrs = dict(attrs)
            if "data-ebpm-count" in attrs:
                self._col = attrs["data-ebpm-count"] or ""
                self._buf = []

    def handle_data(self, data):
        if self._col is not None:
            self._buf.append(data)

    def handle_endtag(self, tag):
        if tag == "td" and self._col is not None:
            self.cells.append((self._col, "".join(self._buf).strip()))
            self._col = None


def _as_number(text: str) -> float | None:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def check_outputs(nb: Any) -> list[str]:
    """Check an executed notebook before it is rendered: the disclosure gate.

    Parameters
    ----------
    nb : nbformat.NotebookNode or dict
        The executed notebook.

    Returns
    -------
    list of str
        Japanese problems; empty when every table went through :func:`show` and no marked table
        from a protected source shows a count in ``1..threshold-1``.
    """
    problems: list[str] = []
    for number, cell in enumerate(nb.get("cells", []), start=1):
        if cell.get("cell_type") != "code":
            continue
        for output in cell.get("outputs", []) or []:
            problems.extend(_check_output(number, output))
    return problems


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "".join(value)
    return value if isinstance(value, str) else ""


def _check_output(number: int, output: Mapping[str, Any]) -> list[str]:
    where = f"セル{number}"
    kind = output.get("output_type")
    if kind == "stream":
        if looks_like_frame_text(_text(output.get("text"))):
            return [f"{where}の出力（print）に表が含まれていますが ebpm.show を通っていません"]
        return []
    if kind not in ("display_data", "execute_result"):
        return []
    data = output.get("data", {}) or {}
    marker = ((output.get("metadata") or {}).get(MARKER_KEY) or {}).get("disclosure")
    html_text = _text(data.get("text/html"))
    if marker is None:
        if _HTML_TABLE.search(html_text):
            return [f"{where}の出力に表（HTML）がありますが ebpm.show を通っていません"]
        if _MD_RULE.search(_text(data.get("text/markdown"))):
            return [f"{where}の出力に表（Markdown）がありますが ebpm.show を通っていません"]
        if any(m in data for m in _TABLE_MIMES):
            return [f"{where}の出力に表（データ）がありますが ebpm.show を通っていません"]
        if looks_like_frame_text(_text(data.get("text/plain"))):
            return [f"{where}の出力に表（テキスト）がありますが ebpm.show を通っていません"]
        return []
    if not marker.get("protected"):
        return []
    threshold = int(marker.get("threshold", DEFAULT_DISCLOSURE_THRESHOLD))
    low = 0 if marker.get("suppress_zero") else 1
    parser = _CountCells()
    parser.feed(html_text)
    problems = []
    for col, text in parser.cells:
        value = _as_number(text)
        if value is not None and low <= value < threshold:
            table = marker.get("table") or "（表名なし）"
            problems.append(
                f"{where}: テーブル「{table}」の列「{col}」にしきい値{threshold}未満の人数（{text}）が表示されています"
            )
    return problems

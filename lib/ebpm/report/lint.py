"""Lint a rendered report for the house language rules (docs/reports.md「言葉の約束」)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
)
RULES: dict[str, tuple[str, re.Pattern[str]]] = {
    "backtick": ("バッククォート", re.compile(r"`")),
    "desu_masu": (
        "です・ます調（である調に統一）",
        re.compile(r"(?:です|ます|ました|ません|でした)(?=[。、）」\s]|$)"),
    ),
    "month_en": ("英語の月名", re.compile(rf"(?<![A-Za-z])(?:{MONTHS})(?![A-Za-z])")),
    "exponent": (
        "指数表記",
        # not after "-": run ids such as 20261203-023959-28e1 are hex, not exponents
        re.compile(r"(?<![0-9A-Za-z-])\d+(?:\.\d+)?[eE][+-]?\d+(?![0-9A-Za-z])|×\s*10\^"),
    ),
    "snake_case": (
        "列名のままの英字",
        re.compile(r"(?<![A-Za-z0-9_./:-])[a-z]+(?:_[a-z0-9]+)+(?![A-Za-z0-9_])"),
    ),
    "minus_prose": ("文中のマイナス記号", re.compile(r"(?:^|[^\w.,)）\]])[-−–](?=\d)")),
}


@dataclass(frozen=True)
class Finding:
    """One rule broken: rule key, its Japanese name and the text around it."""

    rule: str
    rule_ja: str
    excerpt: str


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.prose: list[str] = []
        self.chart: list[str] = []
        self._skip = 0
        self._svg = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script", "title"):
            self._skip += 1
        elif tag == "svg":
            self._svg += 1
        elif tag in ("p", "li", "td", "th", "dd", "dt", "h1", "h2", "h3", "caption", "br", "div"):
            (self.chart if self._svg else self.prose).append("\n")

    def handle_endtag(self, tag):
        if tag in ("style", "script", "title") and self._skip:
            self._skip -= 1
        elif tag == "svg" and self._svg:
            self._svg -= 1

    def handle_data(self, data):
        if self._skip:
            return
        (self.chart if self._svg else self.prose).append(data)


def visible_text(html: str) -> tuple[str, str]:
    """(prose text, chart text) a reader sees in ``html``; styles and scripts are left out."""
    parser = _Text()
    parser.feed(html)
    return "".join(parser.prose), "".join(parser.chart)


def _nested(text: str) -> list[str]:
    found, depth = [], 0
    for i, ch in enumerate(text):
        if ch in "（(":
            depth += 1
            if depth == 2:
                found.append(text[max(i - 20, 0) : i + 20])
        elif ch in "）)" and depth:
            depth -= 1
        elif ch == "\n":
            depth = 0
    return found


def lint_html(html: str, *, columns: set[str] | frozenset[str] = frozenset()) -> list[Finding]:
    """Every place where a rendered report breaks the language rules.

    Parameters
    ----------
    html : str
        The report (index.html).
    columns : set of str
        Column names of the tables the report used; any of them seen in the text is a raw name.

    Returns
    -------
    list of Finding
        Empty when the report is clean. Rules: brackets nested deeper than one, backticks, です・ます
        mixed into である調, raw column names, English month names, exponent notation, minus signs in
        prose, and forms terms.yml refuses. Chart text is checked for month names, exponents and raw
        names only (axes may show negative values).
    """
    from ebpm.report.terms import avoided_forms

    prose, chart = visible_text(html)
    out: list[Finding] = []

    def excerpt(text: str, m: re.Match) -> str:
        return text[max(m.start() - 20, 0) : m.end() + 20].replace("\n", " ")

    for key, (name, pattern) in RULES.items():
        targets = [prose] if key in ("backtick", "desu_masu", "minus_prose") else [prose, chart]
        for text in targets:
            for m in pattern.finditer(text):
                out.append(Finding(key, name, excerpt(text, m)))
    for snippet in _nested(prose):
        out.append(Finding("nested_brackets", "二重の括弧", snippet.replace("\n", " ")))
    for form, term in avoided_forms().items():
        for text in (prose, chart):
            for m in re.finditer(re.escape(form), text):
                out.append(Finding("vocabulary", f"「{term}」を使う", excerpt(text, m)))
    if columns:
        words = re.compile(
            r"(?<![A-Za-z0-9_])(?:"
            + "|".join(map(re.escape, sorted(columns)))
            + r")(?![A-Za-z0-9_])"
        )
        for text in (prose, chart):
            for m in words.finditer(text):
                out.append(Finding("column", "列名のままの英字", excerpt(text, m)))
    return out

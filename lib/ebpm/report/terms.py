"""The report vocabulary (terms.yml): 用語集 entries for a report and the forms the lint refuses."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

TERMS_PATH = Path(__file__).resolve().parent / "terms.yml"


@lru_cache(maxsize=1)
def terms() -> list[dict[str, Any]]:
    """All entries of terms.yml: ``term``, ``meaning`` and ``avoid`` (other forms refused)."""
    import yaml

    raw = yaml.safe_load(TERMS_PATH.read_text(encoding="utf-8")) or {}
    return [
        {"term": t["term"], "meaning": t["meaning"], "avoid": list(t.get("avoid") or [])}
        for t in raw.get("terms", [])
    ]


def avoided_forms() -> dict[str, str]:
    """``{refused form: the term to use instead}``."""
    return {a: t["term"] for t in terms() for a in t["avoid"]}


def glossary_for(text: str) -> list[dict[str, str]]:
    """The 用語集 entries whose term (or its short form before a bracket) appears in ``text``."""
    plain = re.sub(r"<[^>]+>", "", text)
    out = []
    for t in terms():
        short = t["term"].split("（")[0]
        if t["term"] in plain or short in plain:
            out.append({"term": t["term"], "meaning": t["meaning"]})
    return out


_OPEN, _CLOSE = "（(", "）)"
_RAW_IN_BRACKETS = re.compile(r"[（(]\s*[a-z][a-z0-9_]*\s*[）)]")
_G_COUNT = re.compile(r"[、,]?\s*G=\d+")


def flatten_brackets(text: str) -> str:
    """Keep one level of brackets: an inner （…） becomes 「、…」 (no brackets nested deeper than one)."""
    out, depth = [], 0
    for ch in text:
        if ch in _OPEN:
            depth += 1
            out.append("（" if depth == 1 else "、")
        elif ch in _CLOSE and depth:
            depth -= 1
            out.append("）" if depth == 0 else "、")
        else:
            out.append(ch)
    text = "".join(out)
    return re.sub(r"、\s*(?=[）。、])|(?<=、)\s+", "", text)


def plain_text(text: str) -> str:
    """Text from a method (grade reasons, labels) made fit for a report: no raw column names in
    brackets, no G=15 notation, brackets one level deep, refused forms replaced by the term."""
    text = _RAW_IN_BRACKETS.sub("", str(text))
    text = _G_COUNT.sub("", text)
    for form, term in avoided_forms().items():
        text = text.replace(form, term)
    return flatten_brackets(text)

"""Machine-readability checks on cell text: platform-dependent characters and embedded line breaks."""

from __future__ import annotations

import csv
import functools
import unicodedata

from ebpm.publish.standard import STANDARDS

# Ranges generally treated as 機種依存文字 in Japanese public data (besides the L1-08 list):
# roman numerals/fractions, circled and parenthesised numbers/letters, enclosed CJK and
# squared (組文字) units such as ㈱ ㍉ ㌔ ㋿, and half-width katakana.
_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x2150, 0x218F, "ローマ数字・分数"),
    (0x2460, 0x24FF, "丸数字・囲み文字"),
    (0x2776, 0x2793, "黒丸数字"),
    (0x3200, 0x33FF, "囲み文字・組文字（㈱・㍉ など）"),
    (0xFF61, 0xFF9F, "半角カタカナ"),
)
_SINGLE = {"№": "記号 №", "℡": "記号 ℡", "∑": "数学記号"}


@functools.cache
def _l1_08() -> dict[str, str]:
    with open(
        STANDARDS / "digital_agency_L1_08_platform_dependent_chars.csv", encoding="utf-8"
    ) as fh:
        return {row["char"]: row["note"] for row in csv.DictReader(fh)}


def platform_dependent(text: str) -> list[tuple[str, str]]:
    """Return ``(character, why)`` for every platform-dependent character in ``text``.

    Uses the Digital Agency's machine-readability rule L1-08 list plus the usual ranges
    (丸数字, ローマ数字, ㈱ and other squared/enclosed characters, 半角カタカナ).

    Examples
    --------
    >>> platform_dependent("①番地 ㈱盛岡")
    [('①', '丸数字・囲み文字'), ('㈱', '囲み文字・組文字（㈱・㍉ など）')]
    """
    found: list[tuple[str, str]] = []
    listed = _l1_08()
    for ch in text:
        if ch in listed:
            found.append((ch, f"L1-08: {listed[ch]}"))
            continue
        if ch in _SINGLE:
            found.append((ch, _SINGLE[ch]))
            continue
        cp = ord(ch)
        for lo, hi, why in _RANGES:
            if lo <= cp <= hi:
                found.append((ch, why))
                break
    return found


def cell_problems(text: str) -> list[str]:
    """Japanese descriptions of what makes one cell not machine-readable (empty when fine)."""
    problems = [
        f"機種依存文字「{ch}」（U+{ord(ch):04X}、{why}）"
        for ch, why in dict.fromkeys(platform_dependent(text))
    ]
    if "\n" in text or "\r" in text:
        problems.append("セルの中の改行（機械可読性ルール L1-14: 1行1データ）")
    if any(unicodedata.category(ch) == "Cc" and ch not in "\r\n" for ch in text):
        problems.append("制御文字")
    return problems

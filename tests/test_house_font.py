"""One house font everywhere: every stylesheet and the chart theme put BIZ UDPゴシック first, then Noto
Sans CJK JP (docs/reports.md says why), and the font is installed where reports are made."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from ebpm.charts.core import FONT

LIB = Path(__file__).resolve().parents[1] / "lib" / "ebpm"
FIRST = "BIZ UDPGothic"


def _declarations() -> list[tuple[str, str]]:
    found = []
    for path in sorted(LIB.rglob("*")):
        if path.suffix not in {".css", ".html", ".py"} or "__pycache__" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"font-family\s*[:=]\s*([^;}{\n]+)", text):
            value = m.group(1)
            if "Noto Sans CJK JP" in value:  # a Japanese text stack (monospace stacks aside)
                found.append((str(path.relative_to(LIB)), value))
    return found


def test_every_japanese_font_stack_starts_with_the_house_font():
    stacks = _declarations()
    assert len(stacks) >= 7, (
        stacks
    )  # report, portal, cycle pages, dictionary, validation, PDF header
    for where, value in stacks:
        first = value.strip().strip("'\"{}").split(",")[0].strip().strip("'\"")
        assert first == FIRST, (where, value)
    assert FONT.split(",")[0] == FIRST


def test_the_house_font_is_installed():
    # make setup installs fonts-morisawa-bizud-gothic; without it reports fall back to Noto CJK
    families = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True).stdout
    if FIRST not in families:
        pytest.fail(
            "BIZ UDPGothic がありません（make setup が fonts-morisawa-bizud-gothic を入れます）"
        )

"""和暦 (Japanese era) dates and fiscal years: parse, validate and format alongside 西暦."""

from __future__ import annotations

import datetime as _dt


def parse_date(text: str) -> _dt.date:
    """Parse 令和/平成/昭和/大正/明治 (元年, full-width, ``H26.12.28``) or Western dates."""
    raise NotImplementedError


def parse_fiscal_year(text: str) -> int:
    """``"平成7年度"`` → 1995; ``"2025年度"`` → 2025."""
    raise NotImplementedError


def to_wareki(date: _dt.date) -> str:
    """``date(2025, 4, 1)`` → ``"令和7年4月1日"``."""
    raise NotImplementedError


def fiscal_year_label(year: int) -> str:
    """``2025`` → ``"令和7年度（2025年度）"``."""
    raise NotImplementedError

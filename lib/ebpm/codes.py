"""団体コード (JIS X 0402 / 全国地方公共団体コード): 5↔6 digits, check digit, merged municipalities."""

from __future__ import annotations

import datetime as _dt


def check_digit(code5: str | int) -> int:
    """Check digit of a 5-digit 団体コード (weights 6,5,4,3,2; mod 11)."""
    raise NotImplementedError


def to_code5(code: str | int) -> str:
    """Normalise to the 5-digit 団体コード (accepts ints, lost leading zeros, 6 digits, full-width)."""
    raise NotImplementedError


def to_code6(code: str | int) -> str:
    """Normalise to the 6-digit 全国地方公共団体コード with its check digit."""
    raise NotImplementedError


def is_valid_code6(code: str | int) -> bool:
    """True when ``code`` is 6 digits and its last digit is the right check digit."""
    raise NotImplementedError


def successor(code5: str | int, on_date: _dt.date | str | None = None) -> str:
    """The code in force on ``on_date`` for a retired code of a merged municipality."""
    raise NotImplementedError

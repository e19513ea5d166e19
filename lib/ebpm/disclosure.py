"""Disclosure control (秘匿処理): primary and secondary suppression, `show` for templates, the render gate."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Suppressed:
    """A table after disclosure control.

    Attributes
    ----------
    frame : pandas.DataFrame
        The publishable table: suppressed cells are the string ``"x"``, totals kept.
    audit : pandas.DataFrame
        One row per suppressed cell: ``row``, ``column``, ``reason`` (一次秘匿（少数）/
        一次秘匿（優越）/二次秘匿) and ``rule``. Never the hidden value.
    """

    frame: Any
    audit: Any
    info: dict[str, Any] = field(default_factory=dict)


def suppress(df, **options) -> Suppressed:
    """Apply primary and secondary suppression to ``df`` (signature being filled in)."""
    raise NotImplementedError


def show(df, *, table=None, count_columns=None, threshold=None, caption=None) -> Suppressed:
    """Display ``df`` in a report after disclosure control; the only way templates show tables."""
    raise NotImplementedError


def check_outputs(nb) -> list[str]:
    """Return Japanese problems found in an executed notebook's outputs (empty list = ok)."""
    return []

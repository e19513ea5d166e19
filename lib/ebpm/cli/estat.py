"""CLI: estat search | fetch | parse (e-Stat API 3.0)."""

from __future__ import annotations

from ebpm.cli import app  # noqa: F401

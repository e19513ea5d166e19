"""CLI: synthesize, estat (city data sources)."""

from __future__ import annotations

from ebpm.cli import app  # noqa: F401

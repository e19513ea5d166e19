"""CLI: build, catalog, query, inspect (data layer)."""

from __future__ import annotations

from ebpm.cli import app  # noqa: F401

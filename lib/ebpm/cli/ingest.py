"""CLI: inspect (how a raw file would be read)."""

from __future__ import annotations

from ebpm.cli import app  # noqa: F401

"""CLI: synthesize (the deterministic 模擬データ city)."""

from __future__ import annotations

from ebpm.cli import app  # noqa: F401

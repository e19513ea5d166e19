"""CLI: reports (the portal, レポート一覧)."""

from __future__ import annotations

from ebpm.cli import app  # noqa: F401

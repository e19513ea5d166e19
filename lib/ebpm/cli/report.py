"""CLI: templates, run, render (papermill templates)."""

from __future__ import annotations

from ebpm.cli import app  # noqa: F401

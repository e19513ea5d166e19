"""CLI: templates, run, render, reports (papermill templates and the portal)."""

from __future__ import annotations

from ebpm.cli import app  # noqa: F401

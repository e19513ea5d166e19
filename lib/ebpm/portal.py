"""The report portal (レポート一覧): reports/index.html built from every reports/*/*/result.json."""

from __future__ import annotations

from pathlib import Path


def write_portal(reports_dir: str | Path | None = None) -> Path:
    """Write ``reports/index.html`` atomically and return its path."""
    raise NotImplementedError

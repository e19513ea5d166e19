"""The evidence register (エビデンス台帳): a DuckDB table of every report run, outside the curated snapshot."""

from __future__ import annotations

from pathlib import Path


def add_run(result_json_path: str | Path, *, register: str | Path | None = None) -> str:
    """Upsert one report run (its result.json) into the register; return its run_id."""
    raise NotImplementedError


def runs(*, register: str | Path | None = None):
    """Return the register as a DataFrame (newest first)."""
    raise NotImplementedError

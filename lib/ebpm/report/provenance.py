"""Where a report's numbers came from: curated build, source tables with licence and attribution, code version."""

from __future__ import annotations

import json
import subprocess
from functools import lru_cache
from typing import Any

from ebpm.config import paths


@lru_cache(maxsize=4)
def code_version(root: str | None = None) -> str:
    """``git describe --always --dirty`` of the project, or ``"unknown"``."""
    cwd = root or str(paths().root)
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def read_manifest() -> dict[str, Any]:
    """The curated build's manifest.json (empty dict when there is no build)."""
    path = paths().manifest
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _table_info(name: str, manifest: dict[str, Any]) -> dict[str, Any]:
    info: dict[str, Any] = {}
    try:
        from ebpm.data import access as data

        info = dict(data.table_info(name) or {})
    except (
        Exception
    ):  # ebpm.data.access absent or table not in the build: fall back to the manifest
        info = {}
    if not info:
        info = dict((manifest.get("tables") or {}).get(name) or {})
    return info


def sources(tables: list[str], manifest: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """One entry per (table, source) with title, publisher, licence, attribution, vintage, synthetic."""
    manifest = read_manifest() if manifest is None else manifest
    out: list[dict[str, Any]] = []
    for table in tables:
        info = _table_info(table, manifest)
        srcs = info.get("sources") or [{}]
        for src in srcs:
            out.append(
                {
                    "table": table,
                    "title": info.get("title") or table,
                    "source": src.get("source", ""),
                    "publisher": src.get("publisher") or info.get("publisher") or "不明",
                    "licence": src.get("licence") or info.get("licence") or "不明",
                    "licence_url": src.get("licence_url") or info.get("licence_url") or "",
                    "attribution": src.get("attribution") or info.get("attribution") or "",
                    "vintage": str(info.get("vintage") or ""),
                    "synthetic": bool(src.get("synthetic", info.get("synthetic", False))),
                    # 鮮度の注意: the table's freshness.next_due has passed (None when fresh)
                    "stale": _stale(table, manifest),
                }
            )
    return out


def _stale(table: str, manifest: dict[str, Any]) -> str | None:
    from ebpm.data.validation import stale_message

    return stale_message((manifest.get("tables") or {}).get(table) or {})


def build_info(manifest: dict[str, Any] | None = None) -> dict[str, Any]:
    """``{"build_id", "built_at"}`` of the curated snapshot (None when unknown)."""
    manifest = read_manifest() if manifest is None else manifest
    return {"build_id": manifest.get("build_id"), "built_at": manifest.get("built_at")}


def vintage(srcs: list[dict[str, Any]]) -> str:
    """Data vintage summary: the distinct vintages of the tables used, joined."""
    seen: list[str] = []
    for s in srcs:
        v = s.get("vintage")
        if v and v not in seen:
            seen.append(v)
    return "、".join(seen)

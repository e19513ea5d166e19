"""Read the true effects of a 模擬データ table (ground_truth.yml via the catalog's ``ground_truth``)."""

from __future__ import annotations

from typing import Any

import yaml

from ebpm import config
from ebpm.errors import DataAccessError


def ground_truth(table: str) -> dict[str, Any]:
    """Return the true values planted in a 模擬データ table.

    The catalog entry's ``ground_truth: {file, key}`` names the YAML file (relative to data/raw)
    and the dotted key inside it, e.g. ``counter_visit`` or ``kpi.online_procedure_share``.

    Parameters
    ----------
    table : str
        Curated table name, e.g. ``"counter_visit"``.

    Returns
    -------
    dict
        The section of ground_truth.yml, plus ``label`` (模擬データ), ``seed`` and
        ``generator_version`` of the whole file.

    Raises
    ------
    DataAccessError
        When the table is unknown, not synthetic, or its truth file or key is missing.
    """
    paths = config.paths()
    entry_file = paths.catalog / f"{table}.yml"
    if not isinstance(table, str) or not entry_file.is_file():
        import difflib

        known = sorted(p.stem for p in paths.catalog.glob("*.yml"))
        close = difflib.get_close_matches(str(table), known, n=3)
        hint = ("もしかして" + "・".join(f"「{c}」" for c in close) + "ですか？") if close else ""
        raise DataAccessError(
            f"カタログにこのテーブルがありません。{hint}（ebpm catalog で一覧）",
            table=str(table),
            parameter="table",
        )
    entry = yaml.safe_load(entry_file.read_text(encoding="utf-8")) or {}
    ref = entry.get("ground_truth")
    if not entry.get("synthetic") or not isinstance(ref, dict) or "file" not in ref:
        raise DataAccessError(
            "模擬データではないため真の値（ground_truth）がありません", table=table
        )
    truth_file = paths.raw / str(ref["file"])
    if not truth_file.is_file():
        raise DataAccessError(
            "真の値のファイルがありません。`ebpm synthesize --seed 20260401` で生成してください",
            table=table,
            file=str(ref["file"]),
        )
    data = yaml.safe_load(truth_file.read_text(encoding="utf-8")) or {}
    node: Any = data
    for part in str(ref.get("key", table)).split("."):
        if not isinstance(node, dict) or part not in node:
            raise DataAccessError(
                f"真の値のファイルにキー「{ref.get('key', table)}」がありません",
                table=table,
                file=str(ref["file"]),
            )
        node = node[part]
    out = dict(node) if isinstance(node, dict) else {"value": node}
    for k in ("label", "seed", "generator_version"):
        out.setdefault(k, data.get(k))
    return out

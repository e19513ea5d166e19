"""Build history (data/curated/history/<build_id>.json) and the differences between two builds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ebpm import config
from ebpm.errors import ParameterError


def history_dir(paths: config.Paths | None = None) -> Path:
    """Folder holding one manifest per successful build."""
    return (paths or config.paths()).curated / "history"


def build_ids(paths: config.Paths | None = None) -> list[str]:
    """Build ids kept in the history, oldest first.

    Ids start with the JST second, so two builds in one second sort by their random suffix; the order
    comes from each manifest's ``previous_build_id`` chain, names only breaking ties.
    """
    import json

    folder = history_dir(paths)
    if not folder.is_dir():
        return []
    names = sorted(p.stem for p in folder.glob("*.json"))
    prev = {}
    for name in names:
        try:
            prev[name] = json.loads((folder / f"{name}.json").read_text(encoding="utf-8")).get(
                "previous_build_id"
            )
        except (OSError, ValueError):
            prev[name] = None
    depth: dict[str, int] = {}

    def _depth(name: str) -> int:
        seen, n, d = set(), name, 0
        while prev.get(n) in prev and n not in seen:
            seen.add(n)
            n, d = prev[n], d + 1
        return d

    for name in names:
        depth[name] = _depth(name)
    return sorted(names, key=lambda n: (depth[n], n))


def load_build(ref: str | None, paths: config.Paths | None = None) -> dict[str, Any]:
    """The manifest of a build: an id (or its unique prefix), ``latest``/None, or ``previous``.

    Raises
    ------
    ParameterError
        When the history has no such build (with the ids it has).
    """
    ids = build_ids(paths)
    if not ids:
        raise ParameterError(
            "ビルド履歴がありません（data/curated/history/）。ebpm build を実行してください。",
            parameter="build",
        )
    if ref in (None, "latest"):
        chosen = [ids[-1]]
    elif ref == "previous":
        chosen = ids[-2:-1]
    else:
        chosen = [i for i in ids if i.startswith(ref)]
    if len(chosen) != 1:
        raise ParameterError(
            f"ビルド「{ref}」を1つに決められません。履歴にあるビルド: {', '.join(ids[-5:])}",
            parameter="build",
        )
    return json.loads((history_dir(paths) / f"{chosen[0]}.json").read_text(encoding="utf-8"))


def _checks(info: dict[str, Any]) -> dict[str, bool]:
    return {c["name"]: bool(c["passed"]) for c in info.get("checks", [])}


def diff_manifests(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """What changed from build ``old`` to build ``new``.

    Returns
    -------
    dict
        ``added`` / ``removed`` table names, ``rows`` {table: (old, new)} for changed counts,
        ``inputs`` changed raw files, ``checks`` {table: [(check, old passed, new passed)]},
        ``schema`` {table: [description]} (column types and titles, from the embedded catalog).
    """
    a, b = old.get("tables", {}), new.get("tables", {})
    out: dict[str, Any] = {
        "from": old.get("build_id"),
        "to": new.get("build_id"),
        "added": sorted(set(b) - set(a)),
        "removed": sorted(set(a) - set(b)),
        "rows": {},
        "checks": {},
        "schema": {},
        "inputs": sorted(
            k
            for k in set(old.get("inputs", {})) | set(new.get("inputs", {}))
            if old.get("inputs", {}).get(k) != new.get("inputs", {}).get(k)
        ),
    }
    for name in sorted(set(a) & set(b)):
        if a[name].get("rows") != b[name].get("rows"):
            out["rows"][name] = (a[name].get("rows"), b[name].get("rows"))
        ca, cb = _checks(a[name]), _checks(b[name])
        changed = [
            (c, ca.get(c), cb.get(c)) for c in sorted(set(ca) | set(cb)) if ca.get(c) != cb.get(c)
        ]
        if changed:
            out["checks"][name] = changed
        sa, sb = a[name].get("columns"), b[name].get("columns")
        if sa is not None and sb is not None and sa != sb:
            lines = [f"列 {c} を追加" for c in sb if c not in sa]
            lines += [f"列 {c} を削除" for c in sa if c not in sb]
            lines += [f"列 {c} の型 {sa[c]} → {sb[c]}" for c in sa if c in sb and sa[c] != sb[c]]
            out["schema"][name] = lines
    return out


def render_diff(d: dict[str, Any]) -> list[str]:
    """Japanese lines describing :func:`diff_manifests` output (empty list: nothing changed)."""

    def mark(v: bool | None) -> str:
        return {True: "合格", False: "不合格", None: "なし"}[v]

    lines = [f"テーブルを追加: {name}" for name in d["added"]]
    lines += [f"テーブルを削除: {name}" for name in d["removed"]]
    for name, (x, y) in d["rows"].items():
        delta = (y or 0) - (x or 0)
        lines.append(f"行数 {name}: {x:,} → {y:,}（{delta:+,}）")
    for name, items in d["schema"].items():
        lines += [f"列定義 {name}: {item}" for item in items]
    for name, items in d["checks"].items():
        lines += [f"チェック {name}.{c}: {mark(x)} → {mark(y)}" for c, x, y in items]
    lines += [f"原データが変わりました: {path}" for path in d["inputs"]]
    return lines

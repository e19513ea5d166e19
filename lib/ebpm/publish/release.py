"""Build, check, validate and atomically swap in one open-data release; log it; rebuild the catalogue."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import secrets
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ebpm import config
from ebpm.errors import PublishError
from ebpm.publish.datasets import EXTRACTORS, Context, publisher
from ebpm.publish.standard import SUPPRESSED, Standard, find_standard, standards
from ebpm.publish.text import cell_problems
from ebpm.publish.validate import validate_package

JST = timezone(timedelta(hours=9))
ENCODING = (
    "utf-8-sig"  # UTF-8 with BOM: opens in Windows Excel; declared in datapackage.json (L3-08)
)
LINE_END = "\r\n"  # RFC 4180
LICENCE = {
    "name": "CC-BY-4.0",
    "path": "https://creativecommons.org/licenses/by/4.0/deed.ja",
    "title": "クリエイティブ・コモンズ 表示 4.0 国際（CC BY 4.0）",
}
RELEASES = ".releases"
AUDIT = "_audit"  # internal: which cells were suppressed; never uploaded (see docs/publish.md)
LOG = "publication_log.jsonl"
KEEP = 2  # releases kept per dataset: the current one and the one before


def default_out() -> Path:
    """``published/`` under the project root (``EBPM_PUBLISHED`` overrides)."""
    env = os.environ.get("EBPM_PUBLISHED")
    return Path(env).resolve() if env else config.paths().root / "published"


# --------------------------------------------------------------------------- helpers


def _cell(value: Any) -> str:
    """One CSV cell: blank for missing, integers without ``.0``, floats in shortest round-trip form."""
    import numbers

    import pandas as pd

    if isinstance(value, str):
        return value
    if value is None or pd.isna(value):
        return ""
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        number = float(value)
        return str(int(number)) if number.is_integer() else repr(number)
    return str(value)


def _sources(std: Standard) -> list[dict[str, Any]]:
    from ebpm.data.access import table_info

    seen: dict[str, dict[str, Any]] = {}
    for table in std.source_tables:
        info = table_info(table)
        if info["synthetic"]:
            raise PublishError(
                f"テーブル「{table}」は模擬データです。模擬データはオープンデータとして公開できません。",
                table=table,
            )
        for s in info["sources"]:
            key = s.get("source") or s.get("path")
            seen.setdefault(key, s)
    return list(seen.values())


def _suppress(std: Standard, frame: Any) -> tuple[Any, Any, dict[str, int]]:
    """Suppress count cells per block (男性 bands, 女性 bands, totals, households); return audit."""
    import pandas as pd

    from ebpm.data.access import table_info
    from ebpm.disclosure import suppress

    empty = pd.DataFrame(columns=["block", "row", "label", "column", "reason", "rule"])
    if not std.count_columns:
        return frame, empty, {}
    rule = None
    for table in std.source_tables:
        rule = rule or table_info(table).get("disclosure")
    threshold = (rule or {}).get("threshold", config.DEFAULT_DISCLOSURE_THRESHOLD)
    counts = [c for c in std.count_columns if c in frame.columns]
    male = [c for c in counts if c.endswith("の男性")]
    female = [c for c in counts if c.endswith("の女性")]
    rest = [c for c in counts if c not in male and c not in female]
    totals = [c for c in ("男性", "女性", "総人口") if c in rest]
    blocks = [("男性の年齢階級", male), ("女性の年齢階級", female), ("合計", totals)]
    blocks += [(c, [c]) for c in rest if c not in totals]
    out = frame.copy()
    audits, by_reason = [], {}
    label_col = next((c for c in ("地域名", "名称") if c in frame.columns), None)
    for name, cols in blocks:
        if not cols:
            continue
        block = frame[cols].astype("Int64")
        if block.isna().any().any():
            block = block.fillna(0)  # a blank count is not published as a number anyway
        if label_col:
            block.insert(0, label_col, frame[label_col].astype(str))
        result = suppress(block, count_columns=cols, threshold=threshold, margins=True)
        published = result.frame
        for c in cols:
            hidden = published[c].astype(str) == SUPPRESSED
            out[c] = out[c].astype(object).where(~hidden, SUPPRESSED)
        if len(result.audit):
            a = result.audit.copy()
            a.insert(0, "block", name)
            audits.append(a)
            for reason, n in a["reason"].value_counts().items():
                by_reason[reason] = by_reason.get(reason, 0) + int(n)
    audit = pd.concat(audits, ignore_index=True) if audits else empty
    return out, audit, by_reason


def _schema_for(std: Standard, frame: Any) -> dict[str, Any]:
    """The standard's Table Schema; a required count column that holds ``x`` is marked so."""
    schema = json.loads(json.dumps(std.schema))
    for f in schema["fields"]:
        col = frame[f["name"]]
        if f["name"] in std.count_columns and (col.astype(str) == SUPPRESSED).any():
            f.setdefault("constraints", {}).pop("required", None)
            f["description"] = (
                f.get("description", "")
                + " 秘匿処理で非表示にしたセルは x（必須項目でも空欄ではなく x）。"
            ).strip()
    return schema


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> str:
    digest = hashlib.sha256()
    with open(path, "w", encoding=ENCODING, newline="") as fh:
        writer = csv.writer(fh, lineterminator=LINE_END, quoting=csv.QUOTE_MINIMAL)
        writer.writerow(header)
        writer.writerows(rows)
        fh.flush()
        os.fsync(fh.fileno())
    digest.update(path.read_bytes())
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_log(out: Path) -> list[dict[str, Any]]:
    """Entries of the publication log (oldest first)."""
    log = out / LOG
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line]


def _append_log(out: Path, entry: dict[str, Any]) -> None:
    with open(out / LOG, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def _published_entries(out: Path, today: str, this: Standard) -> list[dict[str, Any]]:
    """Rows of オープンデータ一覧: every dataset with a current release, then the list itself."""
    log = read_log(out)
    base_url = os.environ.get("EBPM_PUBLISH_BASE_URL", "").rstrip("/")
    rows = []
    for key, std in standards().items():
        dates = [e["published_at"][:10] for e in log if e["dataset"] == key]
        if key == this.key:
            dates.append(today)
        elif not (out / key).exists():
            continue
        rows.append(
            {
                "title": std.title,
                "summary": f"{std.title}（{std.definition}）",
                "category": std.category,
                "update": std.update,
                "licence": "CC BY 4.0",
                "first_published": min(dates) if dates else today,
                "last_published": max(dates) if dates else today,
                "note": f"ファイル名 <全国地方公共団体コード>_{key}.csv、UTF-8（BOM付き）、改行 CRLF",
                "url": f"{base_url}/{key}/"
                if base_url.startswith(("https://", "http://"))
                else None,
            }
        )
    return rows


# --------------------------------------------------------------------------- publish


def publish(
    dataset: str,
    *,
    out: str | Path | None = None,
    areas: str | None = None,
    rebuild_index: bool = True,
) -> dict[str, Any]:
    """Publish one standard open dataset (自治体標準オープンデータセット) from the curated database.

    The release is written to a new folder, checked (machine-readability: platform-dependent
    characters, line breaks in cells), validated with Frictionless against the standard's Table
    Schema, and only then swapped in atomically (``out/<dataset>`` is a symbolic link replaced in
    one step). On any failure nothing visible changes and :class:`~ebpm.errors.PublishError` lists
    the file, row and field of each problem in Japanese.

    Parameters
    ----------
    dataset : str
        ``evacuation_space`` (指定緊急避難場所一覧), ``population`` (地域・年齢別人口) or
        ``opendata_list`` (オープンデータ一覧); the Japanese title works too.
    out : path, optional
        Output folder (default ``published/``).
    areas : str, optional
        For ``population``: a 団体コード prefix selecting the municipalities (default: the city
        itself; ``"03"`` gives every Iwate municipality).
    rebuild_index : bool
        Rebuild ``out/index.html`` after the swap.

    Returns
    -------
    dict
        ``dataset, title, folder, csv, rows, sha256, build_id, published_at, suppressed``.

    Raises
    ------
    PublishError
        Unknown dataset, synthetic source, unreadable characters or a failed validation.
    """
    from ebpm.data.access import build_info

    std = find_standard(dataset)
    if areas is not None and std.key != "population":
        raise PublishError(
            f"--areas は population（地域・年齢別人口）だけで使えます（指定: {std.key}）。",
            parameter="areas",
        )
    out = Path(out).resolve() if out else default_out()
    out.mkdir(parents=True, exist_ok=True)
    sources = _sources(std)
    build = build_info()
    now = datetime.now(JST)
    ctx = Context(areas=areas)
    if std.key == "opendata_list":
        ctx.published = _published_entries(out, now.date().isoformat(), std)
    frame = EXTRACTORS[std.key](std, ctx)
    code6 = publisher(ctx)["code6"]
    csv_name = f"{code6}_{std.key}.csv"

    frame, audit, by_reason = _suppress(std, frame)
    rows = [[_cell(v) for v in record] for record in frame.itertuples(index=False, name=None)]
    problems = []
    for i, record in enumerate(rows, start=2):
        for name, text in zip(std.header, record, strict=True):
            for what in cell_problems(text):
                problems.append(
                    f"ファイル「{csv_name}」・{i}行目・列「{name}」: {what}（値 {text!r}）"
                )
    if problems:
        raise PublishError(
            "機械可読性のルールに合わない文字があるため公開しません（前回の公開物はそのままです）。\n"
            + "\n".join(problems[:50]),
            problems=problems,
        )

    stamp = now.strftime("%Y%m%dT%H%M%S")
    rel_root = out / RELEASES / std.key
    rel_root.mkdir(parents=True, exist_ok=True)
    folder = rel_root / f"{stamp}-{secrets.token_hex(3)}"
    folder.mkdir()
    try:
        sha = _write_csv(folder / csv_name, std.header, rows)
        attribution = list(dict.fromkeys(s["attribution"] for s in sources if s.get("attribution")))
        package = {
            "name": f"{code6}-{std.key.replace('_', '-')}",
            "title": f"{ctx_name(code6)} {std.title}",
            "description": (
                f"{std.title}（{std.definition}）。整備済みデータベースのデータ構築 {build.get('build_id')} から作成。"
                " 文字コード UTF-8（BOM付き）、改行 CRLF。空欄は該当なし・不明、x は秘匿処理。"
            ),
            "version": str(build.get("build_id") or ""),
            "created": now.isoformat(timespec="seconds"),
            "licenses": [LICENCE],
            "sources": [
                {"title": s.get("title_ja") or s.get("publisher") or "", "path": s["licence_url"]}
                if s.get("licence_url")
                else {"title": s.get("title_ja") or s.get("publisher") or ""}
                for s in sources
            ]
            + [{"title": std.definition}],
            "contributors": [{"title": ctx_name(code6), "role": "publisher"}],
            "resources": [
                {
                    "name": csv_name.removesuffix(".csv"),
                    "path": csv_name,
                    "title": std.title,
                    "profile": "tabular-data-resource",
                    "format": "csv",
                    "mediatype": "text/csv",
                    "encoding": ENCODING,
                    "hash": f"sha256:{sha}",
                    "dialect": {"delimiter": ",", "lineTerminator": LINE_END, "header": True},
                    "schema": _schema_for(std, frame),
                    "licenses": [LICENCE],
                }
            ],
            "ebpm": {
                "build_id": build.get("build_id"),
                "built_at": str(build.get("built_at") or ""),
                "code_version": build.get("code_version"),
                "definition": std.definition,
                "attribution": attribution,
                "disclosure": {"suppressed_cells": int(len(audit)), "by_reason": by_reason},
            },
        }
        (folder / "datapackage.json").write_text(
            json.dumps(package, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        findings = validate_package(folder / "datapackage.json")
        if findings:
            raise PublishError(
                "Frictionless の検証に通らないため公開しません（前回の公開物はそのままです）。\n"
                + "\n".join(findings),
                problems=findings,
            )
        _fsync_dir(folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise

    # the swap: one rename of a symbolic link, so readers see the old or the new release, never half
    link = out / std.key
    tmp_link = out / f".{std.key}.{secrets.token_hex(4)}"
    os.symlink(os.path.relpath(folder, out), tmp_link)
    os.replace(tmp_link, link)
    _fsync_dir(out)
    for old in sorted(p for p in rel_root.iterdir() if p.is_dir())[:-KEEP]:
        shutil.rmtree(old, ignore_errors=True)

    audit_dir = out / AUDIT
    audit_dir.mkdir(exist_ok=True)
    audit_file = audit_dir / f"{std.key}_{stamp}.csv"
    audit.to_csv(audit_file, index=False, encoding="utf-8")
    entry = {
        "dataset": std.key,
        "title": std.title,
        "csv": f"{std.key}/{csv_name}",
        "rows": len(rows),
        "sha256": sha,
        "build_id": build.get("build_id"),
        "code_version": build.get("code_version"),
        "published_at": now.isoformat(timespec="seconds"),
        "suppressed": int(len(audit)),
        "licence": LICENCE["name"],
    }
    _append_log(out, entry)
    if rebuild_index:
        from ebpm.publish.catalogue import write_index

        write_index(out)
    return {**entry, "folder": str(link), "audit": str(audit_file)}


def ctx_name(code6: str) -> str:
    """Prefecture + municipality name of a 6-digit code (for titles)."""
    from ebpm.data.access import sql

    df = sql("SELECT prefecture, name FROM municipality WHERE code6 = $c", {"c": code6})
    return f"{df.iloc[0, 0]}{df.iloc[0, 1]}" if len(df) else code6

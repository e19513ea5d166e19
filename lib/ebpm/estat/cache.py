"""Cache e-Stat responses as raw data: pages as received, request.yml and SOURCE.yml, swapped in atomically."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ebpm.config import ESTAT_CREDIT, paths
from ebpm.errors import EstatError
from ebpm.estat.parse import LICENCE, LICENCE_URL, _table_inf, _text, page_sort_key

PUBLISHER = "総務省統計局（政府統計の総合窓口 e-Stat）"


def cache_dir(key: str) -> Path:
    """Folder where responses for ``key`` (a statsDataId) are cached: ``<raw>/estat/<key>``."""
    if not re.fullmatch(r"[A-Za-z0-9_\-]+", key):
        raise EstatError(
            f"統計表ID「{key}」に使えない文字が含まれています。", parameter="statsDataId"
        )
    return paths().raw / "estat" / key


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _yaml_dump(data: Any) -> str:
    import yaml

    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)


def write_cache(
    key: str,
    base_url: str,
    endpoint: str,
    query: dict[str, str],
    pages: list[tuple[int, int, bytes]],
    first: dict[str, Any],
    file_stem: str,
) -> Path:
    """Write pages + request.yml + SOURCE.yml into a staging folder, then swap it in.

    Files of other endpoints already in the folder are carried over; nothing partial is left on error.
    """
    import yaml

    target = cache_dir(key)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".staging-{key}-", dir=target.parent))
    try:
        stale = re.compile(rf"^{re.escape(file_stem)}(_p\d+)?\.json$")
        if target.is_dir():
            for old in target.iterdir():
                if old.is_file() and old.name not in {"SOURCE.yml", "request.yml"}:
                    if not stale.match(old.name):
                        shutil.copy2(old, staging / old.name)
        files = []
        for number, start, body in pages:
            name = (
                f"{file_stem}_p{number}.json"
                if file_stem == "getStatsData"
                else f"{file_stem}.json"
            )
            (staging / name).write_bytes(body)
            files.append(
                {
                    "path": name,
                    "page": number,
                    "start_position": start,
                    "bytes": len(body),
                    "sha256": hashlib.sha256(body).hexdigest(),
                }
            )
        retrieved = datetime.now(UTC).isoformat(timespec="seconds")
        requests: dict[str, Any] = {}
        old_request = target / "request.yml"
        if old_request.is_file():
            loaded = yaml.safe_load(old_request.read_text(encoding="utf-8")) or {}
            requests = dict(loaded.get("requests") or {})
        requests[endpoint] = {
            "endpoint": f"{base_url}/{endpoint}",
            "parameters": {k: v for k, v in query.items() if k.lower() != "appid"},
            "retrieved": retrieved,
            "files": files,
        }
        (staging / "request.yml").write_text(
            _yaml_dump({"key": key, "credit": ESTAT_CREDIT, "requests": requests}), encoding="utf-8"
        )
        table = _table_inf(first)
        stat_name = _text(table.get("STAT_NAME")) or "政府統計"
        gov_org = _text(table.get("GOV_ORG")) or "総務省統計局"
        title = " ".join(
            t for t in (_text(table.get("STATISTICS_NAME")), _text(table.get("TITLE"))) if t
        )
        if endpoint == "getStatsList":
            title = f"e-Stat 統計表の検索結果（検索語: {query.get('searchWord', '')}）"
            attribution = "政府統計の総合窓口（e-Stat）の統計表情報を加工して作成。"
        else:
            attribution = f"「{stat_name}」（{gov_org}）を加工して作成（政府統計の総合窓口 e-Stat の API 経由）。"
        source = {
            "source": f"estat/{key}",
            "title_ja": title or f"e-Stat 統計表 {key}",
            "publisher": PUBLISHER,
            "producer": gov_org,
            "licence": LICENCE,
            "licence_url": LICENCE_URL,
            "attribution": attribution + ESTAT_CREDIT,
            "credit": ESTAT_CREDIT,
            "retrieved": retrieved[:10],
            "origin": {"url": base_url, "api": "e-Stat API 3.0", "key": key},
            "synthetic": False,
            "files": [
                {
                    "path": p.name,
                    "sha256": _sha256(p),
                    "description_ja": f"e-Stat API {p.name.split('_p')[0].removesuffix('.json')} の応答（受信したままの JSON）",
                }
                for p in sorted(staging.glob("*.json"), key=page_sort_key)
            ]
            + [
                {
                    "path": "request.yml",
                    "sha256": _sha256(staging / "request.yml"),
                    "description_ja": "リクエスト条件（appId は除く）・取得日時・sha256",
                }
            ],
            "notes_ja": "e-Stat API の応答を受信したまま保存したもの。appId は保存していません。",
        }
        (staging / "SOURCE.yml").write_text(_yaml_dump(source), encoding="utf-8")
        old = None
        if target.exists():
            old = target.parent / f".old-{key}-{os.getpid()}-{time.monotonic_ns()}"
            os.replace(target, old)
        try:
            os.replace(staging, target)
        except OSError:
            if old is not None:
                os.replace(old, target)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return target
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)

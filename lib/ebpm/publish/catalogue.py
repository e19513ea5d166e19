"""The offline catalogue page ``published/index.html``: every released dataset, licence, downloads, log."""

from __future__ import annotations

import json
import os
import secrets
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ebpm.publish.standard import standards

JST = timezone(timedelta(hours=9))


def _http_only(url: str) -> str:
    """A link target only when it is http(s); anything else (``javascript:`` …) becomes empty."""
    return url if url.startswith(("https://", "http://")) else ""


def _entries(out: Path) -> list[dict[str, Any]]:
    rows = []
    for key in standards():
        folder = out / key
        package_file = folder / "datapackage.json"
        if not package_file.exists():
            continue
        package = json.loads(package_file.read_text(encoding="utf-8"))
        resource = package["resources"][0]
        licence = (package.get("licenses") or [{}])[0]
        with open(folder / resource["path"], encoding=resource.get("encoding", "utf-8")) as fh:
            rows_n = sum(1 for _ in fh) - 1
        rows.append(
            {
                "title": package.get("title", key),
                "definition": package.get("ebpm", {}).get("definition", ""),
                "csv_name": resource["path"],
                "csv_href": f"{key}/{resource['path']}",
                "package_href": f"{key}/datapackage.json",
                "rows": f"{rows_n:,}",
                "licence": licence.get("title", licence.get("name", "")),
                "licence_url": _http_only(licence.get("path", "")),
                "attribution": package.get("ebpm", {}).get("attribution", []),
                "published": package.get("created", "")[:10],
                "build_id": package.get("version", ""),
            }
        )
    return rows


def write_index(out: Path, *, publisher: str = "岩手県盛岡市") -> Path:
    """Render ``out/index.html`` (Japanese, offline, no script) and return its path.

    Titles and other text come from the released ``datapackage.json`` files and are HTML-escaped.
    """
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from ebpm.publish.release import read_log

    templates = Path(__file__).resolve().parents[1] / "templates"
    env = Environment(
        loader=FileSystemLoader(templates),
        autoescape=select_autoescape(["html"]),
        keep_trailing_newline=True,
    )
    html = env.get_template("published.html").render(
        publisher=publisher,
        datasets=_entries(out),
        log=list(reversed(read_log(out))),
        updated=datetime.now(JST).strftime("%Y-%m-%d %H:%M"),
    )
    target = out / "index.html"
    tmp = out / f".index.html.{secrets.token_hex(4)}"
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, target)
    return target

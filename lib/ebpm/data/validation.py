"""Freshness (``next_due``, stale tables) and the validation report data/curated/validation.html."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

JST = dt.timezone(dt.timedelta(hours=9), "JST")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def today() -> dt.date:
    """Today in Japan time (the one clock of ebpm)."""
    return dt.datetime.now(JST).date()


def due_date(next_due: Any) -> dt.date | None:
    """``freshness.next_due`` as a date: ``YYYY-MM-DD`` or a date; rules (free text) → None."""
    if isinstance(next_due, dt.date):
        return next_due
    m = _DATE.match(str(next_due or "").strip())
    return dt.date(int(m[1]), int(m[2]), int(m[3])) if m else None


def stale_message(info: dict[str, Any], on: dt.date | None = None) -> str | None:
    """Japanese warning when a table's ``next_due`` has passed (None when fresh or undated)."""
    due = due_date(info.get("next_due"))
    if due is None or due >= (on or today()):
        return None
    return (
        f"更新予定日 {due.isoformat()} を過ぎています（時点 {info.get('vintage') or '不明'}）。"
        "新しい原データがないか確認してください。"
    )


def stale_tables(manifest: dict[str, Any], on: dt.date | None = None) -> dict[str, str]:
    """{table: warning} for every table of a build whose ``next_due`` has passed."""
    out = {}
    for name, info in manifest.get("tables", {}).items():
        msg = stale_message(info, on)
        if msg:
            out[name] = msg
    return out


_TEMPLATE = """<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><title>検証結果 {{ m.build_id }}</title>
<style>
body{font-family:"BIZ UDPGothic","Noto Sans CJK JP",sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin-bottom:1.5em;width:100%}
th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}
.ok{color:#1a7f37}.ng{color:#b42318;font-weight:bold}.warn{color:#9a6700;font-weight:bold}
code{font-size:.9em}
</style></head><body>
<h1>検証結果（ビルドID {{ m.build_id }}）</h1>
<p>構築日時 {{ m.built_at }}。すべてのテーブルのすべてのチェックと結果です。
不合格・警告には例を示します。<a href="dictionary.html">データ定義書へ</a></p>
<p>合格 {{ counts.ok }}件・警告 {{ counts.warn }}件・不合格 {{ counts.ng }}件</p>
{% for name, info in tables %}
<h2 id="{{ name }}">{{ name }}（{{ info.title }}）{% if info.synthetic %}【模擬データ】{% endif %}</h2>
<p>{{ "{:,}".format(info.rows) }}行{% if stale.get(name) %}・<span class="warn">{{ stale[name] }}</span>{% endif %}</p>
<table><tr><th>チェック</th><th>結果</th><th>内容</th><th>例</th></tr>
{% for c in info.checks %}
<tr><td><code>{{ c.name }}</code></td>
<td>{% if c.passed %}<span class="ok">合格</span>{% elif c.severity == "warn" %}<span class="warn">警告</span>{% else %}<span class="ng">不合格</span>{% endif %}</td>
<td>{{ c.detail }}</td>
<td>{% if not c.passed and c.example %}{{ c.example | join("、") }}{% endif %}</td></tr>
{% endfor %}
</table>
{% endfor %}
</body></html>
"""


def render_validation(manifest: dict[str, Any]) -> str:
    """HTML listing every check of every table of a build, with examples for warnings and failures."""
    import jinja2

    env = jinja2.Environment(autoescape=True)
    tables = sorted(manifest.get("tables", {}).items())
    checks = [c for _n, info in tables for c in info.get("checks", [])]
    counts = {
        "ok": sum(1 for c in checks if c["passed"]),
        "warn": sum(1 for c in checks if not c["passed"] and c.get("severity") == "warn"),
        "ng": sum(1 for c in checks if not c["passed"] and c.get("severity") != "warn"),
    }
    return env.from_string(_TEMPLATE).render(
        m=manifest, tables=tables, counts=counts, stale=stale_tables(manifest)
    )

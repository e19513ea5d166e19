"""Render the offline Japanese data dictionary (データ定義書) of a build as one HTML file."""

from __future__ import annotations

import json
from typing import Any

from ebpm.data.spec import TYPE_LABELS_JA, TableSpec
from ebpm.data.validation import stale_message

_CONSTRAINT_LABELS = {
    "required": "必須",
    "unique": "一意",
    "minimum": "最小",
    "maximum": "最大",
    "pattern": "形式",
    "enum": "値",
}


def constraint_text(constraints: dict[str, Any]) -> str:
    """Constraints in Japanese: ``{'required': True, 'minimum': 0}`` → ``'必須・最小 0'``."""
    parts = []
    for key, value in constraints.items():
        label = _CONSTRAINT_LABELS.get(key, key)
        if value is True:
            parts.append(label)
        elif value is False:
            continue
        elif isinstance(value, list):
            shown = "、".join(str(v) for v in value[:10]) + ("…" if len(value) > 10 else "")
            parts.append(f"{label}: {shown}")
        else:
            parts.append(f"{label} {value}")
    return "・".join(parts)


def _table_context(spec: TableSpec, info: dict[str, Any]) -> dict[str, Any]:
    fks = {
        a: f"{fk.resource}.{b}"
        for fk in spec.foreign_keys
        for a, b in zip(fk.fields, fk.reference_fields, strict=True)
    }
    checks = info.get("checks", [])
    return {
        "name": spec.name,
        "title": spec.title,
        "title_en": spec.title_en,
        "description": spec.description,
        "synthetic": spec.synthetic,
        "census": spec.census,
        "eligibility": spec.eligibility,
        "rows": info["rows"],
        "vintage": info.get("vintage") or "",
        "update_frequency": info.get("update") or "",
        "next_due": info.get("next_due") or "",
        "stale": stale_message(info) or "",
        "normalised": info.get("normalised") or [],
        "sources": info.get("sources", []),
        "disclosure": spec.disclosure,
        "primary_key": spec.primary_key,
        "checks_passed": sum(1 for c in checks if c["passed"]),
        "checks_total": len(checks),
        "warnings": [c for c in checks if not c["passed"]],
        "fields": [
            {
                "name": f.name,
                "title": f.title,
                "title_en": f.title_en,
                "type": TYPE_LABELS_JA.get(f.type, f.type),
                "type_code": f.type,
                "unit": f.unit,
                "description": f.description,
                "constraints": constraint_text(f.constraints),
                "pk": f.name in spec.primary_key,
                "fk": fks.get(f.name, ""),
            }
            for f in spec.fields
        ],
    }


def render_dictionary(manifest: dict[str, Any], specs: list[TableSpec]) -> str:
    """HTML of the data dictionary for one build: every table and column, offline, in Japanese.

    Parameters
    ----------
    manifest : dict
        The build manifest (build id, tables with rows, sources and checks).
    specs : list of TableSpec
        The catalog entries the build used.

    Returns
    -------
    str
        A self-contained HTML document (inline CSS and JS, no external requests).
    """
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("ebpm", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    tables = [
        _table_context(spec, manifest["tables"][spec.name])
        for spec in sorted(specs, key=lambda s: (s.synthetic, s.name))
        if spec.name in manifest["tables"]
    ]
    return env.get_template("dictionary.html").render(
        manifest=manifest,
        tables=tables,
        skipped=manifest.get("skipped", {}),
        total_rows=sum(t["rows"] for t in tables),
        tables_json=json.dumps([t["name"] for t in tables]),
    )

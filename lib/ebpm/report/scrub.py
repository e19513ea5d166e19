"""Scrubbing an executed notebook: secret values out of every cell, output and metadata; no CDN outputs."""

from __future__ import annotations

import html
import json
import re
from typing import Any

from ebpm.report.params import SECRET_MASK

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
# Outputs that would need JavaScript or a CDN to show; reports use inline SVG instead.
DROP_MIME_PREFIXES = (
    "application/vnd.vegalite",
    "application/vnd.vega",
    "application/javascript",
    "text/javascript",
    "application/vnd.jupyter.widget",
    "application/vnd.bokehjs",
    "application/vnd.plotly",
)
RICH_MIMES = {"image/svg+xml", "image/png", "text/html", "text/markdown"}


def secret_strings(values: dict[str, Any], secret_names: list[str]) -> list[str]:
    """Every text form of the secret values that could reach an output (longest first)."""
    found: set[str] = set()
    for name in secret_names:
        value = values.get(name)
        items = value if isinstance(value, (list, tuple)) else [value]
        for item in items:
            if item is None or item == "":
                continue
            text = str(item)
            found.update(
                {text, repr(item), json.dumps(text, ensure_ascii=False)[1:-1], html.escape(text)}
            )
    return sorted((s for s in found if s), key=len, reverse=True)


def mask_text(text: str, secrets: list[str]) -> str:
    """Replace every secret in ``text`` by ``***``."""
    for s in secrets:
        if s in text:
            text = text.replace(s, SECRET_MASK)
    return text


def _walk(obj: Any, secrets: list[str]) -> Any:
    if isinstance(obj, str):
        return mask_text(obj, secrets)
    if isinstance(obj, list):
        return [_walk(v, secrets) for v in obj]
    if isinstance(obj, dict):
        return type(obj)((mask_text(str(k), secrets), _walk(v, secrets)) for k, v in obj.items())
    return obj


def strip_ansi(text: str) -> str:
    return ANSI.sub("", text)


def clean_outputs(cell) -> None:
    """Drop JavaScript/CDN outputs and ANSI colour codes from one code cell, in place."""
    kept = []
    for out in cell.get("outputs", []):
        if out.get("output_type") in ("display_data", "execute_result"):
            data = out.get("data", {})
            for mime in list(data):
                if mime.startswith(DROP_MIME_PREFIXES):
                    del data[mime]
                elif mime == "text/html" and "<script" in str(data[mime]).lower():
                    del data[mime]
            out.get("metadata", {}).pop("application/vnd.vegalite.v5+json", None)
            if "text/plain" in data and set(data) & RICH_MIMES:
                del data["text/plain"]  # the report shows the rich form; a repr may hold raw frames
            if not data:
                continue
        if out.get("output_type") == "error":
            out["traceback"] = [strip_ansi(line) for line in out.get("traceback", [])]
        kept.append(out)
    cell["outputs"] = kept


def scrub_notebook(nb, values: dict[str, Any], secret_names: list[str]):
    """Return ``nb`` with secret values masked everywhere and non-offline outputs removed.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The executed notebook (modified in place and returned).
    values : dict
        All parameter values of the run.
    secret_names : list of str
        Names of the secret parameters.
    """
    import nbformat

    from ebpm.report.params import injection_source
    from ebpm.result import _json_safe

    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags:
            cell["source"] = injection_source(values, secret_names, mask=True)
        if cell.get("cell_type") == "code":
            clean_outputs(cell)
    pm = nb.metadata.setdefault("papermill", {})
    pm["parameters"] = _json_safe(
        {k: (SECRET_MASK if k in secret_names else v) for k, v in values.items()}
    )
    secrets = secret_strings(values, secret_names)
    if not secrets:
        return nb
    plain = json.loads(nbformat.writes(nb))
    return nbformat.reads(json.dumps(_walk(plain, secrets), ensure_ascii=False), as_version=4)

"""Scrubbing an executed notebook: secret values out of every cell, output and metadata; no CDN outputs."""

from __future__ import annotations

import base64
import functools
import html
import json
import re
import urllib.parse
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


MIN_ENCODED = (
    6  # shortest base64 fragment of a secret that is masked (shorter ones match by chance)
)


def _base64_cores(raw: bytes) -> set[str]:
    """Base64 text that encodes ``raw`` wherever it sits in a longer encoded string.

    For each of the three byte alignments the characters that depend on the secret's bytes only are
    kept (so ``base64("user:" + secret)`` is caught as well as ``base64(secret)``); standard and
    URL-safe alphabets, with and without padding.
    """
    found: set[str] = set()
    n = len(raw)
    for k in range(3):
        enc = base64.b64encode(b"\0" * k + raw).decode("ascii")
        core = enc[-(-8 * k // 6) : (8 * (k + n)) // 6]
        if len(core) >= MIN_ENCODED:
            found.update({core, core.replace("+", "-").replace("/", "_")})
    whole = base64.b64encode(raw).decode("ascii")
    found.update({whole, whole.rstrip("="), base64.urlsafe_b64encode(raw).decode("ascii")})
    return {f for f in found if len(f) >= MIN_ENCODED or f == whole}


def secret_strings(values: dict[str, Any], secret_names: list[str]) -> list[str]:
    """Every text form of the secret values that could reach an output (longest first).

    Forms: as given, ``repr``, JSON- and HTML-escaped, URL-encoded (``quote``/``quote_plus``) and
    base64 (standard and URL-safe, any alignment inside a longer encoded text). :func:`mask_text`
    matches them in any letter case (upper, lower, mixed).
    """
    found: set[str] = set()
    for name in secret_names:
        value = values.get(name)
        items = value if isinstance(value, (list, tuple)) else [value]
        for item in items:
            if item is None or item == "":
                continue
            text = str(item)
            found.update(
                {
                    text,
                    repr(item),
                    json.dumps(text, ensure_ascii=False)[1:-1],
                    json.dumps(text)[1:-1],
                    html.escape(text),
                    urllib.parse.quote(text, safe=""),
                    urllib.parse.quote(text),
                    urllib.parse.quote_plus(text),
                }
            )
            found.update(_base64_cores(text.encode("utf-8")))
    return sorted((s for s in found if s), key=len, reverse=True)


@functools.lru_cache(maxsize=32)
def _pattern(secrets: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(s) for s in secrets), re.IGNORECASE)


def mask_text(text: str, secrets: list[str]) -> str:
    """Replace every secret form in ``text`` by ``***``, whatever its letter case."""
    if not secrets or not text:
        return text
    return _pattern(tuple(secrets)).sub(SECRET_MASK, text)


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

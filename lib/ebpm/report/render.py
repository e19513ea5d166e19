"""Report rendering: executed notebook → offline Japanese HTML (own Jinja template) → A4 PDF (Chromium)."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import queue
import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

from ebpm.report.kernel import RECORD_MIME

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"
HIDDEN_TAGS = {"remove-cell", "remove-output", "remove_cell", "parameters", "injected-parameters"}
_EXTERNAL = re.compile(r"""(\s(?:src|href|xlink:href)\s*=\s*["']?)(?:https?:)?//[^"'\s>]*""", re.I)
_REMOVE_ELEMENTS = re.compile(
    r"<(script|link|iframe|object|embed)\b[^>]*>(?:.*?</\1>)?", re.I | re.S
)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def offline_html(fragment: str) -> str:
    """Remove scripts, frames and any reference to another host from an HTML/SVG fragment."""
    fragment = _REMOVE_ELEMENTS.sub("", fragment)
    return _EXTERNAL.sub(r"\1#", fragment)


@lru_cache(maxsize=1)
def _markdown():
    import mistune

    return mistune.create_markdown(escape=False, plugins=["table", "strikethrough"])


_NUMBER_CELL = re.compile(
    r"<td(?P<attrs>[^>]*)>(?P<body>\s*(?:[-−+]?[\d,.]+(?:\s*[%％]|\s*[^\s<\d]{1,3})?|[^\s<]{1,5})\s*)</td>"
)


def nowrap_numbers(fragment: str) -> str:
    """Keep numbers (with a short unit: 1,121人, 77.5%, 20業務) and short words (未達成) on one line."""

    def one(m: re.Match) -> str:
        attrs = m.group("attrs")
        if "nowrap" in attrs:
            return m.group(0)
        if "style=" in attrs:
            attrs = re.sub(r'style="', 'style="white-space:nowrap;', attrs, count=1)
        else:
            attrs += ' style="white-space:nowrap"'
        return f"<td{attrs}>{m.group('body')}</td>"

    return _NUMBER_CELL.sub(one, fragment)


def markdown_html(text: str) -> str:
    return offline_html(_markdown()(text))


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _output_block(out: dict[str, Any]) -> dict[str, str] | None:
    kind = out.get("output_type")
    if kind == "stream":
        if out.get("name") != "stdout":
            return None  # warnings and logs are for the analyst, not the report
        return {"kind": "pre", "html": html_lib.escape(_text(out.get("text", "")))}
    if kind == "error":
        return None  # shown once, at the top, as the failure notice
    data = out.get("data", {})
    if RECORD_MIME in data:
        return None  # an ebpm.record kept in the notebook: it feeds the report, it is not content
    if "image/svg+xml" in data:
        svg = _text(data["image/svg+xml"])
        svg = re.sub(r"^<\?xml[^>]*>\s*", "", svg)
        return {"kind": "figure", "html": offline_html(svg)}
    if "image/png" in data:
        b64 = re.sub(r"[^A-Za-z0-9+/=]", "", _text(data["image/png"]))
        return {"kind": "figure", "html": f'<img alt="図" src="data:image/png;base64,{b64}">'}
    if "text/html" in data:
        return {"kind": "html", "html": nowrap_numbers(offline_html(_text(data["text/html"])))}
    if "text/markdown" in data:
        return {"kind": "markdown", "html": markdown_html(_text(data["text/markdown"]))}
    if "text/plain" in data:
        return {"kind": "pre", "html": html_lib.escape(_text(data["text/plain"]))}
    return None


def notebook_blocks(nb) -> list[dict[str, str]]:
    """The visible content of an executed notebook: markdown and outputs, never code."""
    blocks: list[dict[str, str]] = []
    first_markdown = True
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & HIDDEN_TAGS:
            continue
        if cell.get("cell_type") == "markdown":
            text = _text(cell.get("source", ""))
            if first_markdown:  # the report header already shows the title
                text = re.sub(r"\A\s*# [^\n]*\n?", "", text)
                first_markdown = False
            if text.strip():
                blocks.append({"kind": "markdown", "html": markdown_html(text)})
        elif cell.get("cell_type") == "code":
            for out in cell.get("outputs", []):
                block = _output_block(out)
                if block is not None:
                    blocks.append(block)
    return blocks


def format_value(value: Any) -> str:
    """A parameter value as a manager reads it."""
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if isinstance(value, dt.date):
        return f"{value.year}年{value.month}月{value.day}日"
    if isinstance(value, (list, tuple)):
        return "、".join(format_value(v) for v in value) if value else "（なし）"
    if value is None or value == "":
        return "（指定なし）"
    return str(value)


@lru_cache(maxsize=1)
@lru_cache(maxsize=1)
def _env():
    """The report pages' Jinja environment, made once per process: it keeps the compiled templates
    (about 0.05 s a page), and checks their files' times on each use, so an edit is still seen."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=jinja2.select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(context: dict[str, Any]) -> str:
    """Render ``report.html`` with ``context`` (see :func:`ebpm.report.runner` for the keys)."""
    return _env().get_template("report.html").render(css=_report_css(), **context)


def _report_css() -> str:
    return (TEMPLATE_DIR / "report.css").read_text(encoding="utf-8")


class PdfPrinter:
    """One headless Chromium, started in its own thread, that prints HTML files to A4 PDFs.

    The browser starts in the background as soon as the printer is created, and opens the first page
    (an offline browser context in which any request other than ``file:`` or ``data:`` is blocked)
    while the report is still being made: a new context and page cost Chromium about 0.4 s of CPU.

    ``reuse_page``: print every job on that one page, loading each report in turn (a batch worker or
    the warm service: one user's reports printed one after another; a failed print discards the
    page). Otherwise each print gets a context of its own, closed after it. ``rehearse``: print
    :func:`rehearsal_html` once on the first page if no job is waiting yet (a printer started ahead
    of its first report; one asked to print at once prints at once).
    """

    def __init__(self, *, reuse_page: bool = False, rehearse: bool = True) -> None:
        self._reuse_page = reuse_page
        self._rehearse = rehearse
        self.rehearsed = False  # whether the first page printed the rehearsal page
        self.first_page = threading.Event()  # set once the first page is open (and rehearsed)
        self._closing = False
        self._jobs: queue.Queue = queue.Queue()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._serve, name="ebpm-pdf", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        try:
            from playwright.sync_api import sync_playwright

            pw = sync_playwright().start()
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except BaseException as exc:  # reported to the caller of print_pdf
            self._error = exc
            self._ready.set()
            self.first_page.set()
            return
        self._ready.set()
        slot = _open_page(browser, quiet=True)  # (context, page) for the next job, or None
        if slot is not None and self._rehearse and self._jobs.empty():  # only while nothing waits
            slot = _rehearsed(slot)
            self.rehearsed = slot is not None
        self.first_page.set()
        try:
            while True:
                job = self._jobs.get()
                if job is None:
                    break
                html_path, pdf_path, done = job
                context, page = slot or (None, None)
                slot = None
                try:
                    if page is None:
                        context, page = _open_page(browser)
                    _print_page(page, html_path, pdf_path)
                    if self._reuse_page:
                        slot, context = (context, page), None
                    done.put(None)
                except BaseException as exc:
                    done.put(exc)
                finally:
                    _close_quietly(context)
        finally:
            if slot is not None:
                _close_quietly(slot[0])
            browser.close()
            pw.stop()

    def wait_ready(self) -> None:
        """Block until Chromium is up; raise if it could not start."""
        self._ready.wait()
        if self._error is not None:
            raise RuntimeError(f"Chromium を起動できません: {self._error}") from None

    def print_pdf(self, html_path: str | Path, pdf_path: str | Path) -> None:
        """Print ``html_path`` to ``pdf_path`` (A4); raises if Chromium could not start or print."""
        self.wait_ready()
        done: queue.Queue = queue.Queue()
        self._jobs.put((Path(html_path), Path(pdf_path), done))
        exc = done.get()
        if exc is not None:
            raise exc

    def close(self, wait: bool = True) -> None:
        """Close Chromium. ``wait=False`` only asks it to close, so that other clean-up (the kernel's
        shutdown) overlaps; a later ``close()`` waits for it."""
        if self._thread.is_alive():
            if not self._closing:
                self._closing = True
                self._jobs.put(None)
            if wait:
                self._thread.join(timeout=30)

    def __enter__(self) -> PdfPrinter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _open_page(browser, quiet: bool = False):
    """A new offline context and page that can load only local files; ``quiet``: None on failure (the
    job that needs the page opens it again and reports the error)."""
    context = None
    try:
        context = browser.new_context(offline=True)
        page = context.new_page()
        page.route("**/*", _only_local)
        return context, page
    except Exception:
        _close_quietly(context)
        if quiet:
            return None
        raise


def rehearsal_html() -> str:
    """A constant page in the house style (Japanese text, bold, a table, an SVG with text) that a new
    page prints once before the first report: Chromium's first print on a page pays for its fonts,
    layout and text shaping (about a third of a report's print)."""
    css = _report_css()
    rows = "".join(
        f"<tr><th>指標{i}</th><td>{i * 1234:,}人</td><td>達成</td></tr>" for i in range(12)
    )
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="120"><path d="M0,100L400,20" '
        'stroke="#0072B2"/><text x="8" y="20" font-family="BIZ UDPGothic">令和7年度 達成率 97%</text></svg>'
    )
    return (
        '<!doctype html><html lang="ja"><head><meta charset="utf-8"><style>'
        f"{css}</style></head><body><main><h1>印刷の準備</h1><p>盛岡市 <strong>模擬データ</strong>"
        f" 1,234人。</p><table>{rows}</table>{svg}</main></body></html>"
    )


def _rehearsed(slot):
    """Print :func:`rehearsal_html` once on the slot's page (to memory, discarded); the slot, or None
    when that failed (the job then opens its own page and reports any error)."""
    context, page = slot
    try:
        page.set_content(rehearsal_html(), wait_until="load")
        page.pdf(format="A4", print_background=True, **running_header_footer("準備", "準備"))
        return slot
    except Exception:
        _close_quietly(context)
        return None


def _close_quietly(context) -> None:
    if context is not None:
        try:
            context.close()
        except Exception:  # Chromium already gone: the next job reports that
            pass


def _print_page(page, html_path: Path, pdf_path: Path) -> None:
    # The report is one self-contained file (styles, SVG charts and links inside it), so it is loaded
    # as the page's content rather than navigated to: a navigation to each file:// URL starts a new
    # document in a new renderer, which cost Chromium about 0.16 s of CPU per report (measured on
    # the DX dashboard: 0.53 -> 0.37 CPU-s per print). Requests stay blocked by `_only_local`.
    page.set_content(Path(html_path).read_text(encoding="utf-8"), wait_until="load")
    page.evaluate("document.fonts.ready.then(() => true)")
    running = page.evaluate(_RUNNING_JS)
    page.pdf(
        path=str(pdf_path),
        format="A4",
        print_background=True,
        prefer_css_page_size=True,
        **running_header_footer(running.get("header", ""), running.get("footer", "")),
    )


_RUNNING_JS = """() => {
  const get = (n) => (document.querySelector(`meta[name="${n}"]`) || {}).content || "";
  return {header: get("ebpm-running-header"), footer: get("ebpm-running-footer")};
}"""
_RUNNING_STYLE = (
    "font-family:'BIZ UDPGothic','Noto Sans CJK JP','Noto Sans JP',sans-serif;font-size:8px;color:#555;"
    "width:100%;margin:0 14mm;display:flex;justify-content:space-between;"
)


def running_header_footer(header: str, footer: str) -> dict[str, Any]:
    """Chromium's running header (title, 模擬データ) and footer (date, page N/M) for ``page.pdf``.

    ``header`` and ``footer`` come from the report's ``ebpm-running-header`` / ``-footer`` meta
    tags; without them the PDF has page numbers only.
    """
    head = html_lib.escape(header)
    foot = html_lib.escape(footer)
    return {
        "display_header_footer": True,
        "header_template": f'<div style="{_RUNNING_STYLE}"><span>{head}</span></div>',
        "footer_template": (
            f'<div style="{_RUNNING_STYLE}"><span>{foot}</span>'
            '<span><span class="pageNumber"></span>／<span class="totalPages"></span>ページ</span></div>'
        ),
    }


def _only_local(route) -> None:
    url = route.request.url
    if url.startswith(("file:", "data:")):
        route.continue_()
    else:
        route.abort()

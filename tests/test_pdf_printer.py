"""The in-process PDF printer (`ebpm.report.render.PdfPrinter`) in its two modes: a context per print,
and one page reused (a batch worker, the warm service). In each, every PDF holds its own page only (not
the rehearsal page printed first), nothing is fetched from the network, and a failed print does not
break the next one."""

from __future__ import annotations

import http.server
import subprocess
import threading
from pathlib import Path

import pytest
from ebpm.report.render import PdfPrinter

# the module's printers (one per mode) are started once, on one worker
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pdf_printer")]

MODES = [{}, {"reuse_page": True}]
MODE_IDS = ["context_per_print", "reuse_page"]


@pytest.fixture(scope="module", params=MODES, ids=MODE_IDS)
def printer(request):
    """One printer per mode, shared by the two tests of that mode as a batch worker shares it between
    reports (one Chromium start per mode instead of one per test). pytest runs a mode's tests
    together: three pages, then a failed print and one more page, all on the same printer, whose
    first page has printed the rehearsal page (the default)."""
    with PdfPrinter(**request.param) as shared:
        assert shared.first_page.wait(120)
        assert shared.rehearsed  # nothing was waiting: the first page printed the rehearsal page
        yield shared


@pytest.fixture
def outside():
    """A local HTTP server standing in for the internet; records every request it gets."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the http.server API)
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"body{color:red}")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


def _page(folder: Path, name: str, text: str, url: str) -> Path:
    page = folder / f"{name}.html"
    page.write_text(
        "<!doctype html><meta charset='utf-8'>"
        f"<link rel='stylesheet' href='{url}/{name}.css'><img src='{url}/{name}.png'>"
        f"<title>{name}</title><p>{text}</p>",
        encoding="utf-8",
    )
    return page


def _text(pdf: Path) -> str:
    done = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True)
    return done.stdout


def test_each_pdf_holds_its_own_page_and_nothing_is_fetched(printer, tmp_path, outside):
    url, hits = outside
    texts = {"a": "盛岡市 第一の報告", "b": "盛岡市 第二の報告", "c": "盛岡市 第三の報告"}
    for name, text in texts.items():
        printer.print_pdf(_page(tmp_path, name, text, url), tmp_path / f"{name}.pdf")
    for name, text in texts.items():
        got = _text(tmp_path / f"{name}.pdf")
        assert text in got
        assert all(other not in got for other in texts.values() if other != text)
        assert "印刷の準備" not in got  # the page printed once before the first job
    assert hits == []


def test_a_failed_print_raises_and_the_next_one_works(printer, tmp_path, outside):
    url, _ = outside
    with pytest.raises(FileNotFoundError, match="no_such_page"):
        printer.print_pdf(tmp_path / "no_such_page.html", tmp_path / "a.pdf")
    assert not (tmp_path / "a.pdf").exists()
    printer.print_pdf(_page(tmp_path, "b", "二つ目", url), tmp_path / "b.pdf")
    assert "二つ目" in _text(tmp_path / "b.pdf")


def test_close_without_waiting_then_waiting_stops_chromium(tmp_path):
    # a run asks Chromium to close, shuts its kernel down meanwhile, then waits for Chromium
    printer = PdfPrinter()
    printer.wait_ready()
    printer.close(wait=False)
    printer.close(wait=False)  # asking twice is harmless
    printer.close()
    assert not printer._thread.is_alive()


def test_the_rehearsal_page_is_house_styled_offline_and_prints(tmp_path):
    from ebpm.report.render import offline_html, rehearsal_html

    page = rehearsal_html()
    assert offline_html(page) == page  # nothing to fetch, no script
    assert "BIZ UDPGothic" in page and "<table>" in page and "<svg" in page
    (tmp_path / "r.html").write_text(page, encoding="utf-8")
    with PdfPrinter(rehearse=False) as printer:
        printer.print_pdf(tmp_path / "r.html", tmp_path / "r.pdf")
    assert "印刷の準備" in _text(tmp_path / "r.pdf")

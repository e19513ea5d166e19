"""The warm PDF printer (`ebpm.report.pdf_service`): left by a run, used by the next, exits when idle."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from ebpm.report import pdf_service, render, warm
from ebpm.report.runner import run

FIXTURES = Path(__file__).parent / "fixtures" / "reports"

pytestmark = pytest.mark.slow


def _page(folder: Path) -> Path:
    page = folder / "page.html"
    page.write_text(
        "<!doctype html><meta charset='utf-8'><title>試し</title><p>盛岡市 テスト</p>",
        encoding="utf-8",
    )
    return page


def _assert_prints_with_its_own_chromium(socket_path: str, folder: Path) -> None:
    printer = pdf_service.RemotePrinter(socket_path, pid=0)
    try:
        printer.print_pdf(_page(folder), folder / "local.pdf")
    finally:
        printer.close()
    assert not printer.used_service
    assert (folder / "local.pdf").read_bytes().startswith(b"%PDF")


class _NoLocalChromium:
    def __init__(self, *args, **kwargs):
        raise AssertionError("a run started its own Chromium although a printer was waiting")


def test_next_run_prints_with_the_printer_an_earlier_run_left(runtime, monkeypatch):
    nb = str(FIXTURES / "basic.ipynb")
    first = run(nb, {}, out=runtime / "a", pdf=True, keep_warm=True)
    assert first.status == "ok"
    from ebpm.config import paths

    key = warm.spare_key(paths().root)  # the run's key, shared by its spare kernel and printer
    printer = pdf_service.wait_ready(key, timeout=120)
    assert printer is not None
    monkeypatch.setattr(render, "PdfPrinter", _NoLocalChromium)
    second = run(nb, {"n": 3}, out=runtime / "b", pdf=True, keep_warm=False)
    assert second.status == "ok", second.error
    assert (runtime / "b" / "report.pdf").read_bytes().startswith(b"%PDF")
    assert warm.pid_alive(printer.pid)  # shared, not used up: it waits for the next run


def test_printer_refuses_what_is_not_an_html_file_and_reports_it(runtime):
    pdf_service.leave("k1", runtime)
    printer = pdf_service.wait_ready("k1", timeout=120)
    assert printer is not None
    printer.print_pdf(_page(runtime), runtime / "ok.pdf")
    assert printer.used_service and (runtime / "ok.pdf").read_bytes().startswith(b"%PDF")
    with pytest.raises(RuntimeError, match="印刷する HTML のファイルがありません"):
        printer.print_pdf(runtime / "missing.html", runtime / "x.pdf")
    assert not (runtime / "x.pdf").exists()


def test_a_printer_that_has_gone_falls_back_to_a_local_chromium(runtime):
    _assert_prints_with_its_own_chromium(str(runtime / "gone.sock"), runtime)


def test_unused_printer_exits_by_itself_and_withdraws_its_claim(runtime, monkeypatch):
    monkeypatch.setattr(pdf_service, "IDLE_S", 2)
    pdf_service.leave("k2", runtime)
    printer = pdf_service.wait_ready("k2", timeout=120)
    assert printer is not None
    deadline = time.monotonic() + 120
    while warm.pid_alive(printer.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not warm.pid_alive(printer.pid)
    assert not (warm.warm_dir() / "pdf-k2.json").exists()
    assert not Path(printer.socket_path).exists()
    assert pdf_service.connect("k2") is None


def test_a_stale_claim_is_never_handed_out(runtime):
    claim = warm.warm_dir() / "pdf-k3.json"
    claim.write_text(json.dumps({"pid": 999999, "socket": str(runtime / "s.sock")}))
    assert pdf_service.connect("k3") is None and not claim.exists()


def test_a_failure_in_the_printer_sends_the_run_to_its_own_chromium(runtime, monkeypatch):
    def broken(*_args):
        return {"ok": False, "retry": True, "error": "TargetClosedError: browser has been closed"}

    monkeypatch.setattr(pdf_service, "_request", broken)
    _assert_prints_with_its_own_chromium("/nonexistent.sock", runtime)


class _BrokenPrinter:
    def print_pdf(self, html_path, pdf_path):
        raise RuntimeError("Chromium has crashed")


def _ask(message: dict, printer) -> tuple[bool, dict]:
    import socket

    ours, theirs = socket.socketpair()
    with ours, theirs:
        ours.sendall(json.dumps(message).encode() + b"\n")
        healthy = pdf_service._answer(theirs, printer)
        reply = json.loads(ours.makefile("rb").readline())
    return healthy, reply


def test_the_service_stops_when_its_chromium_fails_and_tells_the_run_to_retry(tmp_path):
    page = _page(tmp_path)
    healthy, reply = _ask({"html": str(page), "pdf": str(tmp_path / "x.pdf")}, _BrokenPrinter())
    assert not healthy and reply["ok"] is False and reply["retry"] is True
    # a wrong request is the run's problem, not the printer's: no retry, and the service goes on
    healthy, reply = _ask(
        {"html": "relative.html", "pdf": str(tmp_path / "x.pdf")}, _BrokenPrinter()
    )
    assert healthy and reply["retry"] is False and "HTML のファイルがありません" in reply["error"]

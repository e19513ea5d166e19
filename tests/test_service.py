"""The warm report service (`ebpm.report.service`): left by a run, it prints and makes the next runs, exits when idle."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from ebpm.report import render, service, warm
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
    printer = service.RemotePrinter(socket_path, pid=0)
    try:
        printer.print_pdf(_page(folder), folder / "local.pdf")
    finally:
        printer.close()
    assert not printer.used_service
    assert (folder / "local.pdf").read_bytes().startswith(b"%PDF")


class _NoLocalChromium:
    def __init__(self, *args, **kwargs):
        raise AssertionError("a run started its own Chromium although a printer was waiting")


def test_printer_refuses_what_is_not_an_html_file_and_reports_it(runtime):
    service.leave("k1", runtime)
    printer = service.wait_ready("k1", timeout=120)
    assert printer is not None
    printer.print_pdf(_page(runtime), runtime / "ok.pdf")
    assert printer.used_service and (runtime / "ok.pdf").read_bytes().startswith(b"%PDF")
    with pytest.raises(RuntimeError, match="印刷する HTML のファイルがありません"):
        printer.print_pdf(runtime / "missing.html", runtime / "x.pdf")
    assert not (runtime / "x.pdf").exists()


def test_a_printer_that_has_gone_falls_back_to_a_local_chromium(runtime):
    _assert_prints_with_its_own_chromium(str(runtime / "gone.sock"), runtime)


def test_unused_printer_exits_by_itself_and_withdraws_its_claim(runtime, monkeypatch):
    monkeypatch.setattr(service, "IDLE_S", 2)
    service.leave("k2", runtime)
    printer = service.wait_ready("k2", timeout=120)
    assert printer is not None
    deadline = time.monotonic() + 120
    while warm.pid_alive(printer.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not warm.pid_alive(printer.pid)
    assert not (warm.warm_dir() / "service-k2.json").exists()
    assert not Path(printer.socket_path).exists()
    assert service.connect("k2") is None


def test_a_stale_claim_is_never_handed_out(runtime):
    claim = warm.warm_dir() / "service-k3.json"
    claim.write_text(json.dumps({"pid": 999999, "socket": str(runtime / "s.sock")}))
    assert service.connect("k3") is None and not claim.exists()


def test_a_failure_in_the_printer_sends_the_run_to_its_own_chromium(runtime, monkeypatch):
    def broken(*_args):
        return {"ok": False, "retry": True, "error": "TargetClosedError: browser has been closed"}

    monkeypatch.setattr(service, "_request", broken)
    _assert_prints_with_its_own_chromium("/nonexistent.sock", runtime)


class _BrokenPrinter:
    def print_pdf(self, html_path, pdf_path):
        raise RuntimeError("Chromium has crashed")


def _ask(message: dict, printer) -> tuple[bool, dict]:
    import socket

    ours, theirs = socket.socketpair()
    with ours, theirs:
        ours.sendall(json.dumps(message).encode() + b"\n")
        healthy = service._answer(theirs, printer)
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


def _made_here(*_args, **_kwargs):
    raise AssertionError("the report was made in this process, not in the waiting service")


def test_the_next_run_is_made_in_the_service_and_the_command_loads_no_cli(runtime, monkeypatch):
    import os
    import subprocess
    import sys

    from ebpm.config import paths
    from ebpm.errors import ParameterError
    from ebpm.report import runner

    nb = str(FIXTURES / "basic.ipynb")
    assert run(nb, {}, out=runtime / "a", pdf=True, keep_warm=True).status == "ok"
    key = warm.spare_key(paths().root)
    assert service.wait_ready(key, timeout=120) is not None
    # this test is about what the service does, not how long a command waits for a busy one
    monkeypatch.setattr(service, "_READY_TIMEOUT_S", 120)
    monkeypatch.setattr(runner, "run", _made_here)
    monkeypatch.setattr(render, "PdfPrinter", _NoLocalChromium)

    made = service.run_in_service(
        nb, {"label": "玉山"}, assignments=["n=7"], out=runtime / "b", keep_warm=True
    )
    assert made is not None and made.status == "ok", made and made.error
    result = json.loads((runtime / "b" / "result.json").read_text(encoding="utf-8"))
    assert result["parameters"]["n"] == 7 and result["parameters"]["label"] == "玉山"
    assert (runtime / "b" / "report.pdf").read_bytes().startswith(b"%PDF")
    assert made.parameters == {}  # parameter values (secrets among them) never travel back

    # a wrong parameter is the project's Japanese error, word for word as a local run says it
    with pytest.raises(ParameterError) as remote:
        service.run_in_service(nb, {}, assignments=["n=999"], out=runtime / "c", keep_warm=True)
    with pytest.raises(ParameterError) as local:
        runner.make_job(nb, {"n": "999"}, runtime / "c")
    assert str(remote.value) == str(local.value) and remote.value.parameter == "n"
    assert not (runtime / "c").exists()

    # the command itself: handed over without typer, Jupyter or the report pipeline
    ebpm = Path(sys.executable).parent / "ebpm"
    done = subprocess.run(
        [sys.executable, "-X", "importtime", str(ebpm), "run", nb, "-p", "n=4", "--out", str(runtime / "d")],
        capture_output=True,
        text=True,
        env={**os.environ, "EBPM_KEEP_WARM": "1"},
        cwd=runtime,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"完了 {runtime / 'd'}/index.html" in done.stderr
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert {"typer", "rich.console", "nbclient", "jupyter_client", "pandas"}.isdisjoint(imported)
    assert json.loads((runtime / "d" / "result.json").read_text())["parameters"]["n"] == 4

    # a run made from Python, not through the service, prints with the service's Chromium
    api = run(nb, {"n": 3}, out=runtime / "f", pdf=True, keep_warm=True)
    assert api.status == "ok", api.error
    assert (runtime / "f" / "report.pdf").read_bytes().startswith(b"%PDF")
    assert service.connect(key) is not None  # shared, not used up

    # Ctrl-C: the command goes away while its notebook runs; the service interrupts the cell and
    # writes and registers nothing (as a command interrupted without a service leaves nothing)
    import socket

    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    slow, started = runtime / "slow.ipynb", runtime / "started"
    cells = [
        new_code_cell(f"open({str(started)!r}, 'w').close()"),
        new_code_cell("import time\ntime.sleep(300)"),
    ]
    nbformat.write(new_notebook(cells=cells), slow)
    request = {
        "template": str(slow), "params": {}, "assignments": [], "out": None, "pdf": True,
        "keep_warm": True, "plan": None, "register": True, "code": service.code_stamp(),
    }  # fmt: skip
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(service.connect(key).socket_path)
        sock.sendall(b'{"hello": "run"}\n')
        with sock.makefile("rb") as reader:
            assert json.loads(reader.readline()) == {"ready": True}
            sock.sendall(json.dumps(request).encode() + b"\n")
            deadline = time.monotonic() + 120
            while not started.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert started.exists()  # the notebook is running
            # meanwhile a second command hears "busy" at once and makes its report itself
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as other:
                other.settimeout(120)
                other.connect(service.connect(key).socket_path)
                other.sendall(b'{"hello": "run"}\n')
                with other.makefile("rb") as busy:
                    assert json.loads(busy.readline()) == {"ready": False, "busy": True}
    # the service serves again once the run has stopped (were the cell not interrupted, it would
    # stay busy for 300 s and every ask below would be answered "busy" until the deadline)
    made, deadline = None, time.monotonic() + 120
    while made is None and time.monotonic() < deadline:
        made = service.run_in_service(nb, {}, out=runtime / "after", keep_warm=True)
        time.sleep(0.2)
    assert made is not None and made.status == "ok", made and made.error
    assert not (runtime / "reports" / "slow").exists()
    from ebpm.report.register import runs

    assert "slow" not in set(runs()["template"])

    # --no-keep-warm: the service makes this one and then leaves nothing waiting
    server = service.connect(key)
    made = service.run_in_service(nb, {}, out=runtime / "e", keep_warm=False)
    assert made is not None and made.status == "ok"
    deadline = time.monotonic() + 60
    while warm.pid_alive(server.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not warm.pid_alive(server.pid) and service.connect(key) is None


class _StubPrinter:
    def print_pdf(self, html_path, pdf_path):
        raise AssertionError("nothing should be printed")


def _hello(conn_messages: list[bytes], monkeypatch, stamp: str = "now"):
    """Talk to ``_answer`` over a socket pair: send ``conn_messages`` after the hello, then close."""
    import socket

    monkeypatch.setattr(service, "_run", _made_here)
    ours, theirs = socket.socketpair()
    with ours:
        with theirs:
            ours.sendall(b'{"hello": "run"}\n' + b"".join(conn_messages))
            ours.shutdown(socket.SHUT_WR)  # the command has said all it will say
            go_on = service._answer(theirs, _StubPrinter(), stamp)
        replies = [json.loads(line) for line in ours.makefile("rb")]
    return go_on, replies


def test_a_service_with_older_code_refuses_the_run_and_stops(monkeypatch):
    go_on, replies = _hello(
        [json.dumps({"template": "x", "code": "later"}).encode() + b"\n"], monkeypatch
    )
    assert not go_on
    assert replies == [{"ready": True}, {"ok": False, "retry": True, "stale": True}]


def test_a_command_that_gave_up_leaves_the_service_serving(monkeypatch):
    go_on, replies = _hello([], monkeypatch)  # hello, then gone (it makes the report itself)
    assert go_on and replies == [{"ready": True}]


def test_the_service_is_free_again_before_its_last_reply_is_sent(monkeypatch, tmp_path):
    """A command that gets its report and at once asks for the next must not hear "busy": the
    service's turn is released before its last reply goes out (a run, a stale run, a print)."""
    import socket

    class Printer:
        def print_pdf(self, html_path, pdf_path):
            Path(pdf_path).write_bytes(b"%PDF")

    monkeypatch.setattr(service, "_run", lambda request, printer, conn: {"ok": True, "outcome": {}})
    ready = b'{"ready": true}\n'
    hello = b'{"hello": "run"}\n'
    page = _page(tmp_path)
    asks = [
        (hello + json.dumps({"template": "x", "code": "now"}).encode() + b"\n", ready),
        (hello + json.dumps({"template": "x", "code": "later"}).encode() + b"\n", ready),
        (json.dumps({"html": str(page), "pdf": str(tmp_path / "x.pdf")}).encode() + b"\n", b""),
    ]
    for said, sent_before in asks:
        ours, theirs = socket.socketpair()
        with ours, theirs:
            ours.sendall(said)
            at_release = []

            def release(ours=ours, at_release=at_release):
                try:  # what the command could read at that moment
                    at_release.append(ours.recv(65536, socket.MSG_PEEK | socket.MSG_DONTWAIT))
                except BlockingIOError:
                    at_release.append(b"")

            service._answer(theirs, Printer(), "now", release)
            lines = ours.makefile("rb").read1(65536).splitlines(keepends=True)
        assert at_release == [sent_before], said  # released once, before the last line
        assert lines[-1] != sent_before and "ok" in json.loads(lines[-1])


def test_code_stamp_changes_when_any_module_changes(tmp_path):
    import os
    import shutil

    package = tmp_path / "ebpm"
    shutil.copytree(Path(service.__file__).resolve().parent.parent, package)
    before = service.code_stamp(package)
    assert before == service.code_stamp(package)
    module = package / "report" / "service.py"
    stat = module.stat()
    os.utime(module, ns=(stat.st_atime_ns, stat.st_mtime_ns - 10**9))  # older, not only newer
    assert service.code_stamp(package) != before
    os.utime(module, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert service.code_stamp(package) == before
    (package / "report" / "__pycache__").mkdir(exist_ok=True)
    (package / "report" / "__pycache__" / "x.pyc").write_bytes(b"compiled")  # not the code
    assert service.code_stamp(package) == before
    (package / "report" / "new.py").write_text("", encoding="utf-8")
    assert service.code_stamp(package) != before


def _fake_service(runtime, answer):
    """A claim and a socket for this project's key, served by ``answer(conn)`` in a thread."""
    import os
    import socket
    import threading

    from ebpm.config import paths

    key = warm.spare_key(paths().root)
    path = runtime / "fake.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)
    claim = warm.warm_dir() / f"service-{key}.json"
    claim.write_text(json.dumps({"pid": os.getpid(), "socket": str(path)}), encoding="utf-8")

    def serve():
        conn, _ = server.accept()
        with conn:
            answer(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return server, claim, thread


def test_the_doorman_hands_over_when_idle_and_answers_busy_at_once_otherwise():
    """While the service makes a report, a second command hears "busy" at once (and makes its own)
    and a print is told to retry (with the run's own Chromium); nothing queues behind the run."""
    import queue
    import shutil
    import socket
    import tempfile
    import threading

    folder = Path(tempfile.mkdtemp(prefix="ebpm-t-"))  # a socket path must stay short
    path = str(folder / "s.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(8)
    server.settimeout(0.2)
    handoff, busy, closing = queue.Queue(), threading.Event(), threading.Event()
    door = threading.Thread(target=service._doorman, args=(server, handoff, busy, closing))
    door.start()

    def connect():
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(60)
        sock.connect(path)
        return sock

    try:
        with connect():
            handoff.get(timeout=60).close()  # idle: handed to the serving loop, now busy
        assert busy.is_set()
        asks = [
            (b'{"hello": "run"}\n', {"ready": False, "busy": True}),
            (b'{"html": "/a.html", "pdf": "/a.pdf"}\n', {"ok": False, "retry": True, "busy": True}),
        ]
        for message, reply in asks:
            with connect() as other, other.makefile("rb") as reader:
                other.sendall(message)
                assert json.loads(reader.readline()) == reply
        assert handoff.empty()
        busy.clear()  # the run is over: the next one is served again
        with connect():
            handoff.get(timeout=60).close()
    finally:
        closing.set()
        door.join(60)
        server.close()
        shutil.rmtree(folder, ignore_errors=True)
    assert not door.is_alive()


def test_a_service_that_does_not_answer_leaves_the_run_to_the_command(runtime, monkeypatch):
    import threading

    release = threading.Event()

    def busy(conn):  # accepts, never answers (a service that has stopped answering)
        release.wait(60)

    server, claim, thread = _fake_service(runtime, busy)
    monkeypatch.setattr(service, "_READY_TIMEOUT_S", 0.2)
    try:
        assert service.run_in_service("basic", {}, out=runtime / "x") is None
    finally:
        release.set()
        thread.join(10)
        server.close()
        claim.unlink(missing_ok=True)
    assert not (runtime / "x").exists()


def test_a_stale_service_also_gives_up_its_spare_kernel(runtime, monkeypatch):
    from ebpm.config import paths

    key = warm.spare_key(paths().root)
    adopted = []
    monkeypatch.setattr(
        warm, "adopt", lambda k: adopted.append(k) or {"pid": 0, "connection_file": ""}
    )
    monkeypatch.setattr(warm, "stop", lambda pid, connection_file=None: adopted.append(pid))

    def stale(conn):
        reader = conn.makefile("rb")
        reader.readline()
        conn.sendall(b'{"ready": true}\n')
        request = json.loads(reader.readline())
        assert request["code"] == service.code_stamp() and request["assignments"] == ["n=2"]
        conn.sendall(b'{"ok": false, "retry": true, "stale": true}\n')

    server, claim, thread = _fake_service(runtime, stale)
    try:
        assert service.run_in_service("basic", {}, assignments=["n=2"]) is None
    finally:
        thread.join(10)
        server.close()
        claim.unlink(missing_ok=True)
    assert adopted == [key, 0]


@pytest.mark.parametrize(
    "error",
    [
        {"type": "ParameterError", "message": "範囲外です。", "parameter": "n"},
        {"type": "DataAccessError", "message": "ありません。", "file": "a.duckdb"},
        {"type": "KeyError", "message": "どの型でもない"},  # not one of ours: the base class
        {
            "type": "ParameterError",
            "message": "範囲外です。",
            "parameter": "n",
            "text": "範囲外です。",
        },
    ],
)
def test_errors_from_the_service_are_the_projects_own(error):
    from ebpm import errors

    err = service._error_from(error)
    assert isinstance(err, errors.EbpmError)
    expected = getattr(errors, error["type"], errors.EbpmError)
    if not issubclass(expected, errors.EbpmError):
        expected = errors.EbpmError
    assert type(err) is expected
    where = {k: error.get(k) for k in ("file", "row", "column", "table", "parameter")}
    assert str(err) == error.get("text", str(expected(error["message"], **where)))
    assert err.parameter == error.get("parameter")


def test_values_json_cannot_carry_are_left_to_the_command(runtime, monkeypatch):
    import datetime as dt

    def never(*_args):
        raise AssertionError("nothing should be sent")

    from ebpm.config import paths

    key = warm.spare_key(paths().root)
    monkeypatch.setattr(service, "connect", lambda k: service.RemotePrinter("/nonexistent", 0))
    monkeypatch.setattr(service, "_request_run", never)
    assert key  # a date read from a -f YAML file: the command validates it itself
    assert service.run_in_service("basic", {"start": dt.date(2024, 4, 1)}) is None


class _KernelStandIn:
    def __init__(self):
        import threading

        self.interrupts, self.kills = 0, 0
        self.killed = threading.Event()

    def interrupt(self):
        self.interrupts += 1

    def kill(self):
        self.kills += 1
        self.killed.set()


def test_a_cancel_interrupts_once_and_kills_the_kernel_if_the_execution_goes_on():
    """An idle kernel ignores SIGINT (one landing between two cells is lost) and a second SIGINT
    can leave a kernel that handles the first never answering: one interrupt, then a kill."""
    from ebpm.report.runner import Cancel

    kernel, cancel = _KernelStandIn(), Cancel(grace_s=0.05)
    cancel.attach(kernel)
    cancel.started()
    assert not cancel.is_set() and kernel.interrupts == 0
    cancel.set()
    cancel.set()  # twice is harmless: one stopper
    assert kernel.killed.wait(30)
    cancel.join(30)
    assert cancel.is_set() and (kernel.interrupts, kernel.kills) == (1, 1)


def test_a_cancel_whose_execution_ends_sends_nothing_more():
    from ebpm.report.runner import Cancel

    kernel, cancel = _KernelStandIn(), Cancel(grace_s=600)
    cancel.attach(kernel)
    cancel.started()
    cancel.set()
    cancel.done()  # the run ends: nothing may reach the kernel's pid after it is shut down
    cancel.join(30)
    assert kernel.kills == 0 and kernel.interrupts <= 1


def test_a_cancel_before_the_cells_start_sends_no_signal():
    """A spare kernel may still be running its warm-up: no cell will run, so nothing is sent."""
    from ebpm.report.runner import Cancel

    kernel, cancel = _KernelStandIn(), Cancel(grace_s=0)
    cancel.attach(kernel)
    cancel.set()
    cancel.started()
    cancel.join(30)
    assert cancel.is_set() and (kernel.interrupts, kernel.kills) == (0, 0)


def test_a_cancelled_run_runs_no_further_cell_and_ends_even_if_the_cell_ignores_sigint(tmp_path):
    """With a real kernel: a cancel seen between cells stops the loop before the next cell, and a
    cell that ignores SIGINT (as a lost interrupt would leave it running) is ended by the kill."""
    import threading
    import time

    from ebpm.report.kernels import Kernel
    from ebpm.report.runner import Cancel, execute
    from nbformat.v4 import new_code_cell, new_notebook

    first, second, armed = (tmp_path / n for n in ("first", "second", "armed"))

    class CancelAfterFirst:  # set as soon as the first cell has run
        def is_set(self):
            return first.exists()

    kernel = Kernel(cwd=tmp_path)
    try:
        cells = [new_code_cell(f"open({str(p)!r}, 'w').close()") for p in (first, second)]
        nb, error = execute(new_notebook(cells=cells), kernel, cancel=CancelAfterFirst())
        assert error is None and first.exists() and not second.exists()

        cancel = Cancel(grace_s=0.5)
        cancel.attach(kernel)
        cancel.started()
        stuck = (
            "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
            f"open({str(armed)!r}, 'w').close()\ntime.sleep(300)"
        )

        def press_ctrl_c():
            deadline = time.monotonic() + 120
            while not armed.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            cancel.set()

        threading.Thread(target=press_ctrl_c, daemon=True).start()
        nb, error = execute(new_notebook(cells=[new_code_cell(stuck)]), kernel, cancel=cancel)
        cancel.done()
        assert armed.exists() and error is not None and not kernel.alive()
    finally:
        kernel.shutdown()

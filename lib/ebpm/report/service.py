"""The warm report service left behind by `ebpm run` (unless --cold): the next run is made in it.

A report otherwise pays for starting Python and importing the report pipeline (about 0.5 s), and for
starting Playwright and Chromium (about a second on two cores). After a run, a detached process
(``python -m ebpm.report.service``) keeps the pipeline imported and one headless Chromium
(:class:`ebpm.report.render.PdfPrinter`, every request but ``file:``/``data:`` blocked), and listens on
a Unix socket in the user's private runtime folder (mode 0700). One JSON line each way:

- ``{"html": ..., "pdf": ...}``: print that HTML file to that PDF (a run made outside the service:
  :func:`ebpm.report.runner.run` called from Python, or a command that found the service busy);
- ``{"hello": "run"}``, answered ``{"ready": true}``, then the run's arguments: the service makes the
  whole report (:func:`ebpm.report.runner.run`) on the warm spare kernel an earlier run left, prints
  it with its own Chromium, and answers with the outcome, or with the project's Japanese error.

No report code runs in the service itself: notebooks run in a fresh kernel as always (the spare of
:mod:`ebpm.report.warm`, whose namespace nothing has touched), so nothing of one report reaches the
next. The service serves one request at a time. A doorman thread answers at once while it is busy
(``{"ready": false, "busy": true}`` to a run, ``retry`` to a print), so a second command makes its
report itself without waiting and a print goes to the run's own Chromium. A run whose ebpm code
changed since the service started is also made by the command (the service then exits). The
service announces itself only once Chromium is up, the pipeline is imported and the socket listens
(an atomic rename of its claim file), so a run never waits on a half-started service. It exits when nobody has used it for ``IDLE_S`` seconds, or after its Chromium
fails; a run that cannot reach it prints with its own Chromium as before.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

IDLE_S = 600
_CONNECT_TIMEOUT_S = 2.0
# a live service answers a hello at once, "ready" or "busy" (its doorman); this only bounds one that
# has stopped answering altogether
_READY_TIMEOUT_S = 30.0
_REQUEST_TIMEOUT_S = 10.0  # after "ready", the command sends its request at once
_PRINT_TIMEOUT_S = 180.0


def _claim(key: str) -> Path:
    from ebpm.report.warm import warm_dir

    return warm_dir() / f"service-{key}.json"


class RemotePrinter:
    """The client side: the same ``print_pdf`` / ``close`` as :class:`~ebpm.report.render.PdfPrinter`.

    If the service has gone (idle exit, killed) or its Chromium failed (the service then stops
    itself), the run starts a local printer and goes on with it; a request the service refused
    (no such HTML file) is raised as is.
    """

    def __init__(self, socket_path: str, pid: int) -> None:
        self.socket_path = socket_path
        self.pid = pid
        self._local = None
        self.used_service = False

    def print_pdf(self, html_path: str | Path, pdf_path: str | Path) -> None:
        if self._local is None:
            try:
                reply = _request(self.socket_path, Path(html_path), Path(pdf_path))
            except OSError:
                reply = {"ok": False, "retry": True}
            if reply.get("ok"):
                self.used_service = True
                return
            if not reply.get("retry"):  # the request itself was wrong: a local print would be too
                raise RuntimeError(reply.get("error") or "PDF を作れませんでした。")
            from ebpm.report.render import PdfPrinter

            self._local = PdfPrinter()  # the service is gone or its Chromium failed
        self._local.print_pdf(html_path, pdf_path)

    def close(self, wait: bool = True) -> None:
        if self._local is not None:
            self._local.close(wait)


def _request(socket_path: str, html_path: Path, pdf_path: Path) -> dict[str, Any]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(_CONNECT_TIMEOUT_S)
        sock.connect(socket_path)
        sock.settimeout(_PRINT_TIMEOUT_S)
        message = {"html": str(html_path.resolve()), "pdf": str(pdf_path.resolve())}
        sock.sendall(json.dumps(message).encode("utf-8") + b"\n")
        with sock.makefile("rb") as reader:
            line = reader.readline()
    if not line:
        raise ConnectionError("PDF の印刷サービスが応答しませんでした。")
    return json.loads(line)


def connect(key: str) -> RemotePrinter | None:
    """The waiting service for ``key`` as a printer, or None (none started, or it has exited)."""
    from ebpm.report.warm import pid_alive

    claim = _claim(key)
    try:
        info = json.loads(claim.read_text(encoding="utf-8"))
        pid, path = int(info["pid"]), str(info["socket"])
    except (OSError, ValueError, KeyError):
        return None
    if not pid_alive(pid) or not Path(path).exists():
        claim.unlink(missing_ok=True)
        return None
    return RemotePrinter(path, pid)


def leave(key: str, cwd: Path, rehearse: Path | None = None) -> None:
    """Start a detached service for ``key`` unless a live one is already there.

    ``rehearse``: the report this run made. The service prints it once, to a file it deletes, before
    it announces itself: Chromium's first print on a page costs about half as much again as the
    next ones (layout, fonts, text shaping), and the next report is most often the same template.
    """
    if connect(key) is not None:
        return
    from ebpm.report.warm import spawn_detached

    argv = [sys.executable, "-m", "ebpm.report.service", "--key", key, "--idle", str(IDLE_S)]
    if rehearse is not None and rehearse.is_file():
        argv += ["--rehearse", str(rehearse.resolve())]
    spawn_detached(argv, cwd)


def wait_ready(key: str, timeout: float = 120.0) -> RemotePrinter | None:
    """Block until the service for ``key`` has announced itself (tests, benchmarks)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        printer = connect(key)
        if printer is not None:
            return printer
        time.sleep(0.1)
    return None


def stop(key: str) -> bool:
    """Stop the service for ``key`` if one runs; return whether one was stopped."""
    from ebpm.report.warm import stop as stop_pid

    printer = connect(key)
    if printer is None:
        return False
    stop_pid(printer.pid)  # SIGTERM: the service's own clean-up may not run, so do it here
    _claim(key).unlink(missing_ok=True)
    socket_dir = Path(printer.socket_path).parent
    if socket_dir.name.startswith("ebpm-service-"):
        import shutil

        shutil.rmtree(socket_dir, ignore_errors=True)
    return True


def stop_all() -> int:
    """Stop every waiting report service; return how many were stopped."""
    from ebpm.report.warm import warm_dir

    return sum(stop(p.stem.removeprefix("service-")) for p in warm_dir().glob("service-*.json"))


def code_stamp(package: Path | None = None) -> str:
    """The ebpm code this process would run: a hash of every file's name, size and change time
    under ``package`` (default: the installed ``ebpm`` package).

    A service started before the library was changed (a developer's edit, an update) must not make
    reports with the old code; the command sends its stamp and a service with another one exits.
    """
    import hashlib

    package = package or Path(__file__).resolve().parent.parent
    entries = []
    for folder, subfolders, files in os.walk(package):
        subfolders[:] = [d for d in subfolders if d != "__pycache__"]
        for name in files:
            st = os.stat(os.path.join(folder, name))
            entries.append(f"{folder}/{name}:{st.st_size}:{st.st_mtime_ns}")
    return hashlib.sha256("\n".join(sorted(entries)).encode()).hexdigest()[:20]


def run_in_service(
    template: str | None,
    params: dict[str, Any],
    *,
    assignments: list[str] = (),  # type: ignore[assignment]
    out: str | Path | None = None,
    pdf: bool = True,
    keep_warm: bool | None = None,
    plan: str | None = None,
    register: bool = True,
):
    """Make one report in the waiting service for this project; None when the command must make it.

    None when no service waits, it is busy with another run, its code is older than the command's
    (the service exits and its spare kernel is stopped too), or it failed before answering. A
    Japanese error of the run (a wrong parameter, say) is raised here as it would be by
    :func:`ebpm.report.runner.run`. ``assignments`` are ``-p name=value`` texts, read in the
    service (:func:`ebpm.report.params.parse_assignments`) over ``params``. Relative paths are the
    caller's: they are made absolute first.
    """
    from ebpm.config import paths
    from ebpm.report import warm

    key = warm.spare_key(paths().root)
    server = connect(key)
    if server is None:
        return None
    if template and Path(template).suffix == ".ipynb" and Path(template).exists():
        template = str(Path(template).resolve())
    request = {
        "template": template,
        "params": params,
        "assignments": list(assignments),
        "out": str(Path(out).resolve()) if out is not None else None,
        "pdf": pdf,
        "keep_warm": warm.keep_warm_default() if keep_warm is None else keep_warm,
        "plan": plan,
        "register": register,
        "code": code_stamp(),
    }
    try:
        message = json.dumps(request, ensure_ascii=False).encode("utf-8") + b"\n"
    except (TypeError, ValueError):
        return None  # a value JSON cannot carry (a date from a YAML file): made by the command
    try:
        reply = _request_run(server.socket_path, message)
    except (OSError, ValueError):
        return None
    if reply is None:
        return None
    if reply.get("stale"):  # its spare kernel imported the old code as well
        info = warm.adopt(key)
        if info:
            warm.stop(int(info["pid"]), info["connection_file"])
        return None
    if reply.get("ok"):
        from ebpm.report.outcome import RunOutcome

        return RunOutcome(**reply["outcome"])
    if "error" in reply and isinstance(reply["error"], dict):
        raise _error_from(reply["error"])
    return None


def _request_run(socket_path: str, message: bytes) -> dict[str, Any] | None:
    """Hand the run over: None if the service is busy with another run (its doorman says so at
    once), or did not answer at all within ``_READY_TIMEOUT_S``."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(_CONNECT_TIMEOUT_S)
        sock.connect(socket_path)
        sock.sendall(b'{"hello": "run"}\n')
        with sock.makefile("rb") as reader:
            sock.settimeout(_READY_TIMEOUT_S)
            try:
                ready = json.loads(reader.readline() or b"{}")
            except TimeoutError:
                return None  # not answering: closing the socket tells it not to wait for us
            if not ready.get("ready"):
                return None
            sock.settimeout(None)  # the run takes as long as the notebook does
            sock.sendall(message)
            line = reader.readline()
    return json.loads(line) if line else None


def _error_from(fields: dict[str, Any]):
    from ebpm import errors

    cls = getattr(errors, str(fields.get("type", "")), None)
    if not (isinstance(cls, type) and issubclass(cls, errors.EbpmError)):
        cls = errors.EbpmError
    where = {k: fields.get(k) for k in ("file", "row", "column", "table", "parameter")}
    err = cls(str(fields.get("message", "")), **where)
    if "text" in fields:  # the words the run said, exactly (some errors name their place inside)
        err.args = (str(fields["text"]),)
    return err


def serve(key: str, idle_s: float = IDLE_S, rehearse: Path | None = None) -> None:
    """The service itself: Chromium up, pipeline imported, socket listening, claim written; then
    serve until idle."""
    import gc
    import queue
    import shutil
    import signal
    import tempfile
    import threading

    from ebpm.report.render import PdfPrinter

    if threading.current_thread() is threading.main_thread():  # stop(): clean up, close Chromium
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    stamp = code_stamp()
    claim = _claim(key)
    # a Unix socket path is limited to about 100 bytes, so it lives in a private (0700) temp folder
    folder = Path(tempfile.mkdtemp(prefix="ebpm-service-"))
    path = folder / "print.sock"
    printer = PdfPrinter(reuse_page=True, rehearse=rehearse is None)  # or on the last report
    from ebpm.report import runner

    runner.preload()  # while Chromium starts
    gc.collect()
    gc.freeze()  # the imported pipeline: later collections skip it
    printer.wait_ready()
    if rehearse is not None:
        try:
            printer.print_pdf(rehearse, folder / "rehearsal.pdf")
        except Exception:  # only a head start: a real print that fails is reported
            pass
        (folder / "rehearsal.pdf").unlink(missing_ok=True)
    if connect(key) is not None:  # another run left one meanwhile: that one serves
        printer.close()
        shutil.rmtree(folder, ignore_errors=True)
        return
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    os.chmod(path, 0o600)
    server.listen(8)
    server.settimeout(1.0)
    handoff: queue.Queue = queue.Queue()
    busy, closing = threading.Event(), threading.Event()
    door = threading.Thread(
        target=_doorman, args=(server, handoff, busy, closing), name="ebpm-doorman", daemon=True
    )
    door.start()
    tmp = claim.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"pid": os.getpid(), "socket": str(path)}), encoding="utf-8")
    os.replace(tmp, claim)  # announced: Chromium is up and the socket listens
    last = time.monotonic()
    try:
        while time.monotonic() - last < idle_s:
            try:
                conn = handoff.get(timeout=1.0)
            except queue.Empty:
                continue
            turn = _Turn(busy)
            try:
                with conn:
                    conn.settimeout(_PRINT_TIMEOUT_S)
                    go_on = _answer(conn, printer, stamp, turn.release)
            finally:
                turn.release()
            if not go_on:  # Chromium failed, the code changed, or the run wanted no warm service
                break
            last = time.monotonic()
    finally:
        closing.set()
        try:  # withdraw the claim only if it is still ours
            if json.loads(claim.read_text(encoding="utf-8")).get("pid") == os.getpid():
                claim.unlink()
        except (OSError, ValueError):
            pass
        server.close()
        shutil.rmtree(folder, ignore_errors=True)
        printer.close()


class _Turn:
    """One connection's hold on the service. Released once, just before its last reply is sent: a
    command that gets its report and at once asks for the next finds the service free, and a
    connection handed over meanwhile keeps the service marked busy."""

    def __init__(self, busy) -> None:
        self._busy = busy
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._busy.clear()


def _doorman(server: socket.socket, handoff, busy, closing) -> None:
    """Accept every connection: hand it to the serving loop when idle (and mark the service busy at
    once, so a second one cannot queue behind it), or answer it busy on the spot."""
    while not closing.is_set():
        try:
            conn, _ = server.accept()
        except TimeoutError:
            continue
        except OSError:  # the socket was closed: the service is stopping
            return
        if not busy.is_set():
            busy.set()
            handoff.put(conn)
        else:
            _turn_away(conn)


def _turn_away(conn: socket.socket) -> None:
    """Busy: a run is told so (the command makes its report itself), a print is told to retry (the
    run prints with a Chromium of its own)."""
    with conn:
        conn.settimeout(_CONNECT_TIMEOUT_S)
        try:
            with conn.makefile("rb") as reader:
                first = json.loads(reader.readline() or b"{}")
        except (OSError, ValueError):
            return
        if isinstance(first, dict) and first.get("hello") == "run":
            _send(conn, {"ready": False, "busy": True})
        else:
            _send(conn, {"ok": False, "retry": True, "busy": True})


def _send(conn: socket.socket, reply: dict[str, Any]) -> None:
    try:
        conn.sendall(json.dumps(reply, ensure_ascii=False).encode("utf-8") + b"\n")
    except OSError:  # the command has gone (interrupted): nothing to tell it
        pass


def _answer(conn: socket.socket, printer, stamp: str | None = None, release=lambda: None) -> bool:
    """Serve one request; False when the service should stop (its Chromium failed, its code is
    older than the command's, or the run asked to leave nothing warm).

    A wrong print request is answered with ``retry: false`` (the run reports it); a failure of
    Chromium with ``retry: true`` (the run prints with its own Chromium instead).
    """
    with conn.makefile("rb") as reader:
        try:
            job = json.loads(reader.readline() or b"{}")
        except ValueError as exc:
            job = exc
        if isinstance(job, dict) and job.get("hello") == "run":
            return _answer_run(conn, reader, printer, stamp, release)
    healthy = True
    try:
        if isinstance(job, Exception):
            raise job
        html_path, pdf_path = Path(job["html"]), Path(job["pdf"])
        if not (html_path.is_absolute() and pdf_path.is_absolute() and html_path.is_file()):
            raise ValueError("印刷する HTML のファイルがありません。")
    except (ValueError, KeyError, TypeError) as exc:
        reply: dict[str, Any] = {"ok": False, "retry": False, "error": f"{exc}"}
    else:
        try:
            printer.print_pdf(html_path, pdf_path)
            reply = {"ok": True}
        except Exception as exc:
            reply = {"ok": False, "retry": True, "error": f"{type(exc).__name__}: {exc}"}
            healthy = False
    release()
    _send(conn, reply)
    return healthy


def _answer_run(conn: socket.socket, reader, printer, stamp: str | None, release) -> bool:
    _send(conn, {"ready": True})
    conn.settimeout(_REQUEST_TIMEOUT_S)  # the command sends its request at once
    try:
        request = json.loads(reader.readline() or b"null")
    except (OSError, ValueError):
        request = None
    if not isinstance(request, dict):  # the command went away: it makes the report itself
        return True
    if request.get("code") != stamp:
        release()
        _send(conn, {"ok": False, "retry": True, "stale": True})
        return False
    conn.settimeout(_PRINT_TIMEOUT_S)
    watched = _WatchedPrinter(printer)
    reply = _run(request, watched, conn)
    release()
    _send(conn, reply)
    return watched.healthy and bool(request.get("keep_warm", True))


def _watch(conn: socket.socket, cancel, finished) -> None:
    """Cancel the run if the command goes away while it waits (Ctrl-C): it sends nothing more, so
    a readable socket with nothing to read means it has closed."""
    import select

    while not finished.is_set():
        readable, _, _ = select.select([conn], [], [], 0.2)
        if not readable:
            continue
        try:
            gone = conn.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            gone = True
        if gone:
            cancel.set()
        return


class _WatchedPrinter:
    """The service's Chromium as a run's printer: never closed by the run; if it fails, the run's
    PDF is printed with a Chromium of its own and the service stops after answering."""

    def __init__(self, printer) -> None:
        self.printer = printer
        self.healthy = True

    def print_pdf(self, html_path: str | Path, pdf_path: str | Path) -> None:
        if self.healthy:
            try:
                self.printer.print_pdf(html_path, pdf_path)
                return
            except Exception:
                self.healthy = False
        from ebpm.report.render import PdfPrinter

        with PdfPrinter() as own:
            own.print_pdf(html_path, pdf_path)

    def close(self, wait: bool = True) -> None:
        return None


def _run(request: dict[str, Any], printer, conn: socket.socket | None = None) -> dict[str, Any]:
    import dataclasses
    import threading

    from ebpm.errors import EbpmError
    from ebpm.report import runner
    from ebpm.report.params import parse_assignments

    cancel, finished = runner.Cancel(), threading.Event()
    if conn is not None:
        threading.Thread(target=_watch, args=(conn, cancel, finished), daemon=True).start()
    try:
        params = {
            **(request.get("params") or {}),
            **parse_assignments(request.get("assignments") or []),
        }
        outcome = runner.run(
            request.get("template"),
            params,
            out=request.get("out"),
            pdf=bool(request.get("pdf", True)),
            keep_warm=bool(request.get("keep_warm", True)),
            plan=request.get("plan"),
            register=bool(request.get("register", True)),
            printer=printer,
            preloaded=True,
            cancel=cancel,
        )
    except EbpmError as err:
        fields = {k: getattr(err, k) for k in ("message", "file", "row", "column", "table")}
        return {
            "ok": False,
            "error": {
                "type": type(err).__name__,
                **fields,
                "parameter": err.parameter,
                "text": str(err),
            },
        }
    except Exception as exc:  # a fault of the service: the command makes the report itself
        return {"ok": False, "retry": True, "error": type(exc).__name__}
    finally:
        finished.set()
    fields = dataclasses.asdict(outcome)
    fields.pop("parameters", None)  # the command does not need them (a secret may be among them)
    return {"ok": True, "outcome": fields}


def main(argv: list[str] | None = None) -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--key", required=True)
    ap.add_argument("--idle", type=float, default=IDLE_S)
    ap.add_argument("--rehearse", type=Path, default=None, help="a report to print once first")
    args = ap.parse_args(argv)
    serve(args.key, args.idle, args.rehearse)


if __name__ == "__main__":
    main()

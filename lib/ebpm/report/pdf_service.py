"""A warm PDF printer left behind by `ebpm run` (unless --cold): one Chromium that later runs reuse.

A report's PDF otherwise waits for Playwright and Chromium to start (about a second on two cores).
After a run, a detached process (``python -m ebpm.report.pdf_service``) keeps one headless Chromium
(:class:`ebpm.report.render.PdfPrinter`, every request but ``file:``/``data:`` blocked) and listens on a
Unix socket in the user's private runtime folder (mode 0700). The next run sends it the paths of the
HTML to print and of the PDF to write, one JSON line each way. It prints nothing else: no report code
runs in it, and nothing of one report stays in it (each print has its own browser context).

The service announces itself only once Chromium is up and the socket listens (an atomic rename of its
claim file), so a run never waits on a half-started printer. It exits when nobody has used it for
``IDLE_S`` seconds, or after its Chromium fails; a run that cannot reach it, or whose print failed in it,
prints with its own Chromium as before.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

IDLE_S = 600
_CONNECT_TIMEOUT_S = 2.0
_PRINT_TIMEOUT_S = 180.0


def _claim(key: str) -> Path:
    from ebpm.report.warm import warm_dir

    return warm_dir() / f"pdf-{key}.json"


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


def leave(key: str, cwd: Path) -> None:
    """Start a detached printing service for ``key`` unless a live one is already there."""
    if connect(key) is not None:
        return
    from ebpm.report.warm import spawn_detached

    spawn_detached(
        [sys.executable, "-m", "ebpm.report.pdf_service", "--key", key, "--idle", str(IDLE_S)], cwd
    )


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
    if socket_dir.name.startswith("ebpm-pdf-"):
        import shutil

        shutil.rmtree(socket_dir, ignore_errors=True)
    return True


def stop_all() -> int:
    """Stop every waiting printing service; return how many were stopped."""
    from ebpm.report.warm import warm_dir

    return sum(stop(p.stem.removeprefix("pdf-")) for p in warm_dir().glob("pdf-*.json"))


def serve(key: str, idle_s: float = IDLE_S) -> None:
    """The service itself: Chromium up, socket listening, claim written; then print until idle."""
    import shutil
    import signal
    import tempfile
    import threading

    from ebpm.report.render import PdfPrinter

    if threading.current_thread() is threading.main_thread():  # stop(): clean up, close Chromium
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    claim = _claim(key)
    # a Unix socket path is limited to about 100 bytes, so it lives in a private (0700) temp folder
    folder = Path(tempfile.mkdtemp(prefix="ebpm-pdf-"))
    path = folder / "print.sock"
    printer = PdfPrinter(prepare_next=True)
    printer.wait_ready()
    if connect(key) is not None:  # another run left one meanwhile: that one serves
        printer.close()
        shutil.rmtree(folder, ignore_errors=True)
        return
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    os.chmod(path, 0o600)
    server.listen(8)
    server.settimeout(1.0)
    tmp = claim.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"pid": os.getpid(), "socket": str(path)}), encoding="utf-8")
    os.replace(tmp, claim)  # announced: Chromium is up and the socket listens
    last = time.monotonic()
    try:
        while time.monotonic() - last < idle_s:
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(_PRINT_TIMEOUT_S)
                healthy = _answer(conn, printer)
            if not healthy:  # Chromium failed: stop serving, so later runs start their own
                break
            last = time.monotonic()
    finally:
        try:  # withdraw the claim only if it is still ours
            if json.loads(claim.read_text(encoding="utf-8")).get("pid") == os.getpid():
                claim.unlink()
        except (OSError, ValueError):
            pass
        server.close()
        shutil.rmtree(folder, ignore_errors=True)
        printer.close()


def _answer(conn: socket.socket, printer) -> bool:
    """Serve one request; False when the printer itself failed (the service should stop).

    A wrong request is answered with ``retry: false`` (the run reports it); a failure of Chromium
    with ``retry: true`` (the run prints with its own Chromium instead).
    """
    healthy = True
    try:
        with conn.makefile("rb") as reader:
            job = json.loads(reader.readline() or b"{}")
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
    try:
        conn.sendall(json.dumps(reply, ensure_ascii=False).encode("utf-8") + b"\n")
    except OSError:
        pass
    return healthy


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--key", required=True)
    ap.add_argument("--idle", type=float, default=IDLE_S)
    args = ap.parse_args(argv)
    serve(args.key, args.idle)


if __name__ == "__main__":
    main()

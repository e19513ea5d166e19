"""A warm spare kernel left behind by `ebpm run` (unless --cold) for the next run of any template.

The spare is a fresh kernel that has only imported the house libraries (``HOUSE_WARMUP``); it never ran
a report, so nothing (no parameter, no secret) carries over. It exits by itself when nobody adopts it within
``SPARE_IDLE_S`` seconds. Adoption is atomic (a rename), so two runs never share one kernel.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SPARE_IDLE_S = 600
KEEP_WARM_ENV = "EBPM_KEEP_WARM"


def warm_dir() -> Path:
    from jupyter_core.paths import jupyter_runtime_dir

    path = Path(jupyter_runtime_dir()) / "ebpm-warm"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


# vl-convert's fonts and first render, which starts its JavaScript engine (about 0.8 s)
RENDERER_WARMUP = (
    "import ebpm.charts.core as _ebpm_charts; _ebpm_charts.warm_renderer(); del _ebpm_charts"
)
# The last step of every warm-up: collect, then freeze what survived (modules, schemas, caches) so that
# later full collections skip it. IPython's %reset, run before every report, collects twice; with the
# million-odd objects pandas, Altair and statsmodels leave in the heap each collection took about 0.1 s,
# after the freeze about a millisecond (the same for Python's own collections while a report runs).
# Frozen objects are only never *collected*: nothing about the namespace changes.
GC_FREEZE = "import gc as _gc; _gc.collect(); _gc.freeze(); del _gc"
# What every report kernel needs, imported once by a spare so that any template can adopt it:
# the kernel hooks, the data layer (its connection opened and one query run: about 0.1 s off the first
# real one), pandas/numpy/scipy/statsmodels, Altair and vl-convert, then one house chart built and
# rendered from constant numbers (Vega's code paths; about 0.25 s off the first real chart).
# guarded() ends it with GC_FREEZE; listed here too so that the bare-run test
# (tests/test_reports_warm.py) runs it.
HOUSE_WARMUP_LINES = (
    "import ebpm.report.kernel",
    "import numpy, pandas, duckdb, scipy.stats, statsmodels.api",
    "import altair",
    "import ebpm.data.access, ebpm.disclosure.protect, ebpm.methods.did",
    "import ebpm.data.access as _ebpm_access; _ebpm_access.rehearse(); del _ebpm_access",
    RENDERER_WARMUP,
    "import ebpm.charts.kpi as _ebpm_kpi; _ebpm_kpi.rehearse(); del _ebpm_kpi",
    "import IPython.display",
    GC_FREEZE,
)


def guarded(lines) -> str:
    """Warm-up code: each line in its own ``try`` (a warm-up must not fail; the real import later
    fails loudly), in order, each distinct line once, always ending with :data:`GC_FREEZE`."""
    ordered = [line for line in dict.fromkeys(lines) if line != GC_FREEZE] + [GC_FREEZE]
    return "\n".join(f"try:\n    {line}\nexcept Exception:\n    pass" for line in ordered)


HOUSE_WARMUP = guarded(HOUSE_WARMUP_LINES)


def spare_key(cwd: Path) -> str:
    """Spares are interchangeable for the same interpreter, folder, EBPM_* settings and e-Stat
    settings (any template). A kernel keeps the environment it started with, so a spare (or the
    warm service, which starts the next spares) left before ``ESTAT_APP_ID`` was set is not used
    after; the appId enters the key only as a hash."""
    settings = sorted(
        (k, v) for k, v in os.environ.items() if k.startswith("EBPM_") and k != KEEP_WARM_ENV
    ) + sorted(
        (k, hashlib.sha256(v.encode()).hexdigest())
        for k, v in os.environ.items()
        if k.startswith("ESTAT_")
    )
    blob = json.dumps([sys.executable, HOUSE_WARMUP, str(cwd), settings])
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def keep_warm_default() -> bool:
    """Leave a spare after a run unless ``EBPM_KEEP_WARM=0`` (the test suite sets it)."""
    return os.environ.get(KEEP_WARM_ENV, "1") != "0"


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped) is not alive
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def spawn_detached(argv: list[str], cwd: Path) -> subprocess.Popen:
    """Start a process that outlives this command (its own session, no terminal, output discarded).

    Used for the warm spare kernel and the warm PDF printer; each exits by itself when idle.
    """
    env = {k: v for k, v in os.environ.items() if k != "JPY_PARENT_PID"}
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    return subprocess.Popen(
        argv,
        cwd=str(cwd),
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def leave_spare(key: str, warmup: str, cwd: Path) -> None:
    """Start a detached, warming kernel for ``key`` unless a live one is already waiting."""
    folder = warm_dir()
    claim = folder / f"{key}.json"
    if claim.exists():
        try:
            if pid_alive(int(json.loads(claim.read_text())["pid"])):
                return
        except (OSError, ValueError, KeyError):
            pass
    token = secrets.token_hex(4)
    conn = str(folder / f"kernel-{key}-{token}.json")
    _write_unbound_connection_file(Path(conn))
    script = folder / f"warm-{key}-{token}.py"
    script.write_text(
        f"import ebpm.report.kernel as _ebpm_kernel\n_ebpm_kernel.arm_idle_exit({SPARE_IDLE_S})\n"
        f"del _ebpm_kernel\n{warmup}\n",
        encoding="utf-8",
    )
    proc = spawn_detached(
        [
            sys.executable,
            "-m",
            "ipykernel_launcher",
            "-f",
            conn,
            "--HistoryManager.hist_file=:memory:",
            f"--IPKernelApp.exec_files=['{script}']",
        ],
        cwd,
    )
    tmp = claim.with_suffix(f".{token}.tmp")
    tmp.write_text(
        json.dumps(
            {
                "connection_file": conn,
                "pid": proc.pid,
                "script": str(script),
                "created": time.time(),
            }
        ),
        encoding="utf-8",
    )
    os.replace(tmp, claim)


PORTS = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")


def _write_unbound_connection_file(path: Path) -> None:
    """A connection file with every port 0: the kernel binds free ports itself and writes them in.

    Ports picked here and bound later by the kernel could be taken meanwhile by another process
    starting at the same moment (a kernel, Chromium), and the spare would die at start.
    """
    import uuid

    info = {**{name: 0 for name in PORTS}, "ip": "127.0.0.1", "key": str(uuid.uuid4()),
            "transport": "tcp", "signature_scheme": "hmac-sha256", "kernel_name": ""}  # fmt: skip
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # holds the key
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(info, fh)


def wait_bound(connection_file: str, pid: int, timeout: float = 120.0) -> bool:
    """Block until the spare has bound its ports and written them into its connection file; False
    if it died first or ``timeout`` passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            info = json.loads(Path(connection_file).read_text(encoding="utf-8"))
            if all(int(info.get(name) or 0) > 0 for name in PORTS):
                return True
        except (OSError, ValueError):  # not there, or being written
            pass
        if not pid_alive(pid):
            return False
        time.sleep(0.02)
    return False


def adopt(key: str) -> dict[str, Any] | None:
    """Take the waiting spare for ``key`` (connection file and pid), or None (none, or it died)."""
    claim = warm_dir() / f"{key}.json"
    taken = claim.with_suffix(f".taken-{os.getpid()}-{secrets.token_hex(3)}")
    try:
        os.rename(claim, taken)
    except FileNotFoundError:
        return None
    try:
        info = json.loads(taken.read_text(encoding="utf-8"))
    finally:
        taken.unlink(missing_ok=True)
    Path(info.get("script", "")).unlink(missing_ok=True)
    pid, conn = int(info.get("pid", 0)), info["connection_file"]
    if not pid_alive(pid) or not Path(conn).exists():
        Path(conn).unlink(missing_ok=True)
        return None
    if not wait_bound(conn, pid):  # died while starting, or never bound its ports: not usable
        stop(pid, conn)
        return None
    return info


def stop(pid: int, connection_file: str | None = None, grace_s: float = 3.0) -> None:
    """Stop an adopted kernel process (SIGTERM, then SIGKILL) and remove its connection file."""
    try:
        if pid_alive(pid):
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + grace_s
            while pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    if connection_file:
        Path(connection_file).unlink(missing_ok=True)


def wait_warm(key: str, timeout: float = 120.0) -> bool:
    """Block until the spare for ``key`` has finished its warm-up (without adopting it).

    Readiness is the kernel's reply to ``kernel_info``, which it sends only after its warm-up
    script has run. The heartbeat is not used: right after the launch the kernel has not yet
    bound its sockets, and a client without a kernel manager reads that as "died".
    """
    import queue

    from jupyter_client.blocking import BlockingKernelClient

    claim = warm_dir() / f"{key}.json"
    deadline = time.monotonic() + timeout
    while not claim.exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    info = json.loads(claim.read_text(encoding="utf-8"))
    if not wait_bound(
        info["connection_file"], int(info["pid"]), max(deadline - time.monotonic(), 0)
    ):
        return False
    kc = BlockingKernelClient(connection_file=info["connection_file"])
    kc.load_connection_file()
    kc.start_channels(hb=False)
    try:
        msg_id = kc.kernel_info()
        while (left := deadline - time.monotonic()) > 0:
            if not pid_alive(int(info["pid"])):
                return False
            try:
                reply = kc.get_shell_msg(timeout=min(1.0, left))
            except queue.Empty:
                continue
            if reply.get("parent_header", {}).get("msg_id") == msg_id:
                return True
        return False
    finally:
        kc.stop_channels()


def stop_all() -> int:
    """Stop every waiting spare and report service (tests and `make clean`); return how many."""
    from ebpm.report import service

    stopped = service.stop_all()
    for claim in warm_dir().glob("*.json"):
        if claim.name.startswith(("kernel-", "service-")):
            continue
        info = adopt(claim.stem)
        if info:
            stop(int(info["pid"]), info["connection_file"])
            stopped += 1
    return stopped

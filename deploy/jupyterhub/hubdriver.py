"""Drive a local ebpm JupyterHub from Python: start it, log users in, spawn, run code, stop by PID.

Used by tests/test_hub.py and bench/bench_hub.py. Readiness is always a signal (HTTP 200 from
/hub/health, ``ready`` in the REST API, an ``execute_reply``), polled until a generous deadline;
nothing waits for a fixed time.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
POLL = 0.25  # seconds between polls of a readiness signal (not a synchronisation sleep)


def free_ports(n: int) -> list[int]:
    """``n`` distinct free TCP ports on 127.0.0.1."""
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


class HubError(RuntimeError):
    """The hub did not become ready, or a request failed; carries the hub log tail."""


@dataclass
class Hub:
    """A running hub started by :func:`start` (stop it with :meth:`stop`)."""

    proc: subprocess.Popen
    url: str
    token: str
    password: str
    state: Path
    log: Path
    env: dict[str, str] = field(default_factory=dict)

    # -- helpers -----------------------------------------------------------------------------
    def log_tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def api(self, method: str, path: str, **kw) -> requests.Response:
        headers = {"Authorization": f"token {self.token}", **kw.pop("headers", {})}
        return requests.request(
            method, f"{self.url}/hub/api{path}", headers=headers, timeout=60, **kw
        )

    def wait(self, what: str, check, deadline: float) -> object:
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise HubError(
                    f"hub exited ({self.proc.returncode}) while waiting for {what}\n{self.log_tail()}"
                )
            result = check()
            if result:
                return result
            time.sleep(POLL)
        raise HubError(f"timed out after {deadline:.0f} s waiting for {what}\n{self.log_tail()}")

    # -- users ---------------------------------------------------------------------------------
    def login(self, user: str, password: str | None = None) -> requests.Session:
        """Log in through the login form (with its XSRF token) and return the browser session."""
        session = requests.Session()
        page = session.get(f"{self.url}/hub/login", timeout=60)
        match = re.search(r'name="_xsrf"\s+value="([^"]+)"', page.text)
        data = {"username": user, "password": password or self.password}
        if match:
            data["_xsrf"] = match.group(1)
        resp = session.post(f"{self.url}/hub/login", data=data, allow_redirects=False, timeout=60)
        session.login_status = resp.status_code  # type: ignore[attr-defined]
        return session

    def start_server(self, user: str) -> None:
        resp = self.api("POST", f"/users/{user}/server")
        if resp.status_code not in (201, 202, 400):  # 400: already running
            raise HubError(f"spawn {user}: {resp.status_code} {resp.text}\n{self.log_tail()}")

    def server_ready(self, user: str) -> bool:
        info = self.api("GET", f"/users/{user}").json()
        server = (info.get("servers") or {}).get("")
        return bool(server and server.get("ready"))

    def user_token(self, user: str) -> str:
        resp = self.api(
            "POST", f"/users/{user}/tokens", json={"note": "ebpm test", "expires_in": 3600}
        )
        if resp.status_code != 201:
            raise HubError(f"token {user}: {resp.status_code} {resp.text}")
        return resp.json()["token"]

    def stop_server(self, user: str) -> None:
        self.api("DELETE", f"/users/{user}/server")

    # -- teardown --------------------------------------------------------------------------------
    def stop(self, deadline: float = 90) -> None:
        """Stop the hub by its PID, then every process it started (proxy, servers, culler) by theirs.

        JupyterHub starts the proxy and services in their own sessions, so a process-group kill
        would miss them: their PIDs are collected first and each is ended by PID.
        """
        import psutil

        try:
            children = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            children = []
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # the hub stops servers and the proxy itself
            try:
                self.proc.wait(deadline)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(30)
        for child in children:
            try:
                child.terminate()
            except psutil.NoSuchProcess:
                continue
        _, alive = psutil.wait_procs(children, timeout=30)
        for child in alive:
            try:
                child.kill()
            except psutil.NoSuchProcess:
                pass


def start(
    state: Path,
    *,
    shared: Path,
    portal: Path,
    templates: Path | None = None,
    users: str = "alice,bob",
    deadline: float = 180,
) -> Hub:
    """Start the hub of ``deploy/jupyterhub`` on free 127.0.0.1 ports and wait for /hub/health."""
    port, api_port, hub_port = free_ports(3)
    state.mkdir(parents=True, exist_ok=True)
    password, token = secrets.token_urlsafe(12), secrets.token_hex(24)
    venv_bin = Path(sys.executable).parent
    env = {
        **os.environ,
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "EBPM_HUB_STATE": str(state),
        "EBPM_HUB_SHARED": str(shared),
        "EBPM_HUB_PORTAL": str(portal),
        "EBPM_HUB_PORT": str(port),
        "EBPM_HUB_API_PORT": str(api_port),
        "EBPM_HUB_HUB_PORT": str(hub_port),
        "EBPM_HUB_USERS": users,
        "EBPM_HUB_PASSWORD": password,
        "EBPM_HUB_SERVICE_TOKEN": token,
    }
    if templates is not None:
        env["EBPM_HUB_TEMPLATES"] = str(templates)
    log = state / "hub.log"
    with open(log, "w") as fh:
        proc = subprocess.Popen(
            [str(venv_bin / "jupyterhub"), "-f", str(HERE / "jupyterhub_config.py")],
            cwd=state,
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # not in the caller's process group (Ctrl-C goes to the caller)
        )
    hub = Hub(
        proc=proc,
        url=f"http://127.0.0.1:{port}",
        token=token,
        password=password,
        state=state,
        log=log,
        env=env,
    )

    def healthy() -> bool:
        try:
            return requests.get(f"{hub.url}/hub/health", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    try:
        hub.wait("/hub/health", healthy, deadline)
    except BaseException:
        hub.stop()
        raise
    return hub


# --------------------------------------------------------------------------- kernels


async def _execute(base: str, token: str, code: str, deadline: float) -> dict:
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    headers = {"Authorization": f"token {token}"}
    resp = requests.post(f"{base}/api/kernels", json={"name": "ebpm"}, headers=headers, timeout=60)
    resp.raise_for_status()
    kernel = resp.json()["id"]
    ws_url = base.replace("http://", "ws://") + f"/api/kernels/{kernel}/channels"
    conn = await websocket_connect(HTTPRequest(ws_url, headers=headers))
    msg_id, session = uuid.uuid4().hex, uuid.uuid4().hex
    conn.write_message(
        json.dumps(
            {
                "header": {
                    "msg_id": msg_id,
                    "username": "ebpm",
                    "session": session,
                    "msg_type": "execute_request",
                    "version": "5.3",
                },
                "parent_header": {},
                "metadata": {},
                "content": {
                    "code": code,
                    "silent": False,
                    "store_history": False,
                    "user_expressions": {},
                    "allow_stdin": False,
                    "stop_on_error": True,
                },
                "channel": "shell",
                "buffers": [],
            }
        )
    )
    out: dict = {"stdout": "", "error": None, "status": None}
    end = time.monotonic() + deadline
    idle = replied = False
    while not (idle and replied):
        remaining = end - time.monotonic()
        if remaining <= 0:
            raise HubError(f"kernel did not answer within {deadline:.0f} s; so far: {out}")
        raw = await asyncio.wait_for(conn.read_message(), remaining)
        if raw is None:
            raise HubError(f"kernel websocket closed; so far: {out}")
        msg = json.loads(raw)
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind = msg["header"]["msg_type"]
        if kind == "stream":
            out["stdout"] += msg["content"].get("text", "")
        elif kind == "error":
            out["error"] = "\n".join(msg["content"].get("traceback", [])) or msg["content"].get(
                "evalue"
            )
        elif kind == "execute_reply":
            out["status"] = msg["content"]["status"]
            replied = True
        elif kind == "status" and msg["content"]["execution_state"] == "idle":
            idle = True
    conn.close()
    requests.delete(f"{base}/api/kernels/{kernel}", headers=headers, timeout=60)
    return out


def execute(hub: Hub, user: str, token: str, code: str, *, deadline: float = 600) -> dict:
    """Run ``code`` in a new ``ebpm`` kernel of ``user``'s server; return stdout, error, status."""
    return asyncio.run(_execute(f"{hub.url}/user/{user}", token, code, deadline))


if __name__ == "__main__":  # pragma: no cover - manual smoke run
    print(free_ports(3))

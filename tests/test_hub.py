"""JupyterHub for staff: two users log in, run a template, share data and the portal, not each other's server.

Starts the real hub of deploy/jupyterhub (configurable-http-proxy from its package.json) on free
127.0.0.1 ports. Every wait is on a readiness signal with a generous deadline (busy 2-core machine).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]
HUB_DIR = ROOT / "deploy" / "jupyterhub"
sys.path.insert(0, str(HUB_DIR))
import hubdriver  # noqa: E402

pytestmark = pytest.mark.slow

USERS = ("alice", "bob")

KERNEL_CODE = """
import json, os, subprocess
import ebpm
rows = int(ebpm.sql("SELECT count(*) AS n FROM population")["n"].iloc[0])
try:
    ebpm.connect().execute("CREATE TABLE intruder AS SELECT 1")
    write = "written"
except Exception as exc:
    write = type(exc).__name__
run = subprocess.run(
    ["ebpm", "run", "basic", "-p", "label={user}", "--no-pdf", "--cold", "--publish"],
    capture_output=True, text=True,
)
print(json.dumps({{
    "rows": rows, "write": write, "rc": run.returncode, "stderr": run.stderr[-3000:],
    "reports": os.environ["EBPM_REPORTS"], "curated": os.environ["EBPM_CURATED"],
}}))
"""


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    if not (HUB_DIR / "node_modules" / ".bin" / "configurable-http-proxy").exists():
        pytest.fail(
            "configurable-http-proxy がありません。`make hub-proxy`（make test が実行）で導入してください。"
        )
    base = tmp_path_factory.mktemp("hub")
    # the shared, read-only data: the tiny fixture project built by `ebpm build`
    shared = base / "shared"
    fixtures = ROOT / "tests" / "fixtures" / "data"
    shutil.copytree(fixtures / "catalog", shared / "catalog")
    env = {
        **os.environ,
        "EBPM_RAW": str(fixtures / "raw"),
        "EBPM_CATALOG": str(shared / "catalog"),
        "EBPM_CURATED": str(shared / "curated"),
    }
    (shared / "curated").mkdir(parents=True)
    bin_ = Path(sys.executable).parent
    done = subprocess.run(
        [str(bin_ / "ebpm"), "build", "-q"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    for path in [*shared.rglob("*")]:  # read-only on disk (binding for a non-root hub's users)
        path.chmod(0o555 if path.is_dir() else 0o444)
    templates = base / "templates"
    templates.mkdir()
    for name in ("basic.ipynb", "basic.params.yml"):
        shutil.copy(ROOT / "tests" / "fixtures" / "reports" / name, templates / name)
    portal = base / "portal"
    running = hubdriver.start(base / "state", shared=shared, portal=portal, templates=templates)
    try:
        yield {"hub": running, "shared": shared, "portal": portal, "state": base / "state"}
    finally:
        pids = [running.proc.pid]
        running.stop()
        import psutil

        assert not any(
            psutil.pid_exists(p) and psutil.Process(p).status() != "zombie" for p in pids
        )
        for path in shared.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)


def test_login_rules(hub):
    h = hub["hub"]
    assert h.login("alice").login_status == 302
    assert h.login("alice", password="wrong-password").login_status == 403
    assert h.login("carol").login_status == 403  # not in the allowed users


def test_two_users_work_side_by_side(hub):
    h = hub["hub"]
    sessions = {u: h.login(u) for u in USERS}
    for user in USERS:
        h.start_server(user)
    for user in USERS:
        h.wait(f"{user}'s server", lambda u=user: h.server_ready(u), 300)
    tokens = {u: h.user_token(u) for u in USERS}

    # each opens their own JupyterLab through the login session (OAuth with the hub) …
    lab = sessions["alice"].get(f"{h.url}/user/alice/lab", timeout=120)
    assert lab.status_code == 200 and "JupyterLab" in lab.text
    # … in Japanese: the language pack is installed in the environment every server runs
    ja = sessions["alice"].get(f"{h.url}/user/alice/lab/api/translations/ja_JP", timeout=120)
    assert ja.status_code == 200 and ja.json().get("data"), ja.text[:300]
    auth = {"Authorization": f"token {tokens['alice']}"}
    plugin = "@jupyterlab/translation-extension:plugin"
    locale = requests.get(
        f"{h.url}/user/alice/lab/api/settings/{plugin}", headers=auth, timeout=120
    )
    assert locale.status_code == 200, locale.text[:300]
    body = locale.json()  # overrides.json turns the schema default into ja_JP for every user
    effective = body["settings"].get("locale", body["schema"]["properties"]["locale"]["default"])
    assert effective == "ja_JP", body["settings"]
    # … and neither can open the other's server, by session or by token
    assert sessions["alice"].get(f"{h.url}/user/bob/lab", timeout=120).status_code == 403
    assert sessions["bob"].get(f"{h.url}/user/alice/lab", timeout=120).status_code == 403
    for me, other in (("alice", "bob"), ("bob", "alice")):
        auth = {"Authorization": f"token {tokens[me]}"}
        own = requests.get(f"{h.url}/user/{me}/api/contents/", headers=auth, timeout=120)
        assert own.status_code == 200
        assert {"notebooks", "reports", "secrets"} <= {i["name"] for i in own.json()["content"]}
        theirs = requests.get(f"{h.url}/user/{other}/api/contents/", headers=auth, timeout=120)
        assert theirs.status_code == 403
        # the contents API cannot climb out of the user's own folder
        up = requests.get(f"{h.url}/user/{me}/api/contents/..%2F{other}", headers=auth, timeout=120)
        assert up.status_code in (400, 403, 404)

    # each runs a template through `ebpm run --publish` in an ebpm kernel of their own server
    results = {}
    for user in USERS:
        out = hubdriver.execute(h, user, tokens[user], KERNEL_CODE.format(user=user), deadline=900)
        assert out["status"] == "ok", out
        results[user] = json.loads(out["stdout"].strip().splitlines()[-1])
    for user, res in results.items():
        assert res["rc"] == 0, res["stderr"]
        assert res["rows"] > 0  # the shared curated database is readable …
        assert res["write"] != "written"  # … and read-only
        assert res["curated"] == str(hub["shared"] / "curated")
        assert Path(res["reports"]).is_relative_to(hub["state"] / "home" / user)
        reports = list(Path(res["reports"]).glob("basic/*/index.html"))
        assert len(reports) == 1
    # both reports are in the shared portal, each user's own folder has only their own
    portal = (hub["portal"] / "index.html").read_text(encoding="utf-8")
    assert "動作確認（alice）" in portal and "動作確認（bob）" in portal
    assert not list((hub["state"] / "home" / "alice" / "reports").rglob("*bob*"))
    # secrets folder is private to its owner on disk
    mode = (hub["state"] / "home" / "alice" / "secrets").stat().st_mode
    assert stat.S_IMODE(mode) == 0o700
    # no password or token in the hub's log (JupyterHub masks them as [secret])
    log = h.log.read_text(errors="replace")
    for secret in (h.password, h.token, *tokens.values()):
        assert secret not in log
    for user in USERS:
        h.stop_server(user)

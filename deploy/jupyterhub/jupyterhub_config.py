"""JupyterHub configuration for ebpm: one server, many staff (see README.md in this folder).

Everything is set from environment variables so that `make hub`, the test and a city server use
the same file. Defaults give a local demo bound to 127.0.0.1.

EBPM_HUB_IP / EBPM_HUB_PORT          public address (127.0.0.1:8000)
EBPM_HUB_API_PORT / EBPM_HUB_HUB_PORT proxy API and hub ports (8001 / 8081, both on 127.0.0.1)
EBPM_HUB_STATE                        state folder: hub database, cookie secret, proxy pid, homes
EBPM_HUB_HOMES                        users' folders (default <state>/home/<user>)
EBPM_HUB_SHARED                       shared read-only data: <shared>/curated (database), <shared>/catalog
EBPM_HUB_TEMPLATES                    analysis templates folder (default: the project's notebooks/templates)
EBPM_HUB_PORTAL                       shared report portal folder (`ebpm run --publish` writes there)
EBPM_HUB_AUTH                         shared-password (demo) | pam | native | ldap | oidc
EBPM_HUB_USERS                        comma-separated allowed users (demo: alice,bob)
EBPM_HUB_PASSWORD                     demo shared password (at least 8 characters; never committed)
EBPM_HUB_MEM_LIMIT                    per-user memory limit, e.g. 2G (enforced by systemd/kube spawners)
EBPM_HUB_CULL_AFTER                   seconds of inactivity before a server is stopped (3600)
EBPM_HUB_KEEP_WARM                    1: keep a spare report kernel and PDF printer per user after `ebpm run` (default 0)
EBPM_HUB_SERVICE_TOKEN                optional API token for an automation service (tests, bench)
"""

# ruff: noqa: F821  (`c` is injected by JupyterHub)
from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parents[1]
VENV_BIN = Path(sys.executable).parent  # the hub runs from the project's .venv
env = os.environ.get

state = Path(env("EBPM_HUB_STATE", str(HERE / "state"))).resolve()
state.mkdir(parents=True, exist_ok=True, mode=0o700)
homes = Path(env("EBPM_HUB_HOMES", str(state / "home"))).resolve()
shared = Path(env("EBPM_HUB_SHARED", str(PROJECT / "data"))).resolve()
portal = Path(env("EBPM_HUB_PORTAL", str(state / "portal"))).resolve()
portal.mkdir(parents=True, exist_ok=True)
ip = env("EBPM_HUB_IP", "127.0.0.1")

# --- network: everything on 127.0.0.1 unless configured (a reverse proxy with TLS goes in front)
c.JupyterHub.bind_url = f"http://{ip}:{env('EBPM_HUB_PORT', '8000')}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{env('EBPM_HUB_HUB_PORT', '8081')}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{env('EBPM_HUB_API_PORT', '8001')}"
# the proxy from this folder's package.json (`make hub` runs `npm ci` here); not a global install
c.ConfigurableHTTPProxy.command = [str(HERE / "node_modules" / ".bin" / "configurable-http-proxy")]
c.ConfigurableHTTPProxy.pid_file = str(state / "proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "cookie_secret")
c.JupyterHub.pid_file = str(state / "hub.pid")

# --- authentication
users = {u.strip() for u in env("EBPM_HUB_USERS", "alice,bob").split(",") if u.strip()}
auth = env("EBPM_HUB_AUTH", "shared-password")
if auth == "shared-password":
    # demo and tests only: one password for the listed users (JupyterHub's built-in authenticator)
    c.JupyterHub.authenticator_class = "shared-password"
    password = env("EBPM_HUB_PASSWORD")
    if not password:
        sys.exit("EBPM_HUB_PASSWORD を設定してください（8文字以上。デモ用の共有パスワード）。")
    c.SharedPasswordAuthenticator.user_password = password
    c.Authenticator.allowed_users = users
elif auth == "pam":
    # the city's Linux accounts (the default JupyterHub authenticator); use with the localprocess
    # or systemd spawner so that each user's server runs as that user (real file isolation)
    c.JupyterHub.authenticator_class = "pam"
    c.Authenticator.allowed_users = users
elif auth == "native":
    # pip install jupyterhub-nativeauthenticator: sign-up with admin approval, passwords in the hub db
    c.JupyterHub.authenticator_class = "native"
    import nativeauthenticator

    c.JupyterHub.template_paths = [f"{os.path.dirname(nativeauthenticator.__file__)}/templates/"]
    c.Authenticator.admin_users = {u for u in env("EBPM_HUB_ADMINS", "").split(",") if u}
    c.Authenticator.allow_all = True  # approval by an admin is the gate
else:  # ldap / oidc: see README.md (ldapauthenticator, oauthenticator.generic)
    sys.exit(f"EBPM_HUB_AUTH={auth} は README の手順で設定を足してください。")

# --- spawner: the ebpm environment as every user's server and kernel
if auth == "shared-password":
    # demo/test: all servers run as the hub's OS user; isolation is at the web layer only
    c.JupyterHub.spawner_class = "simple"
    c.SimpleLocalProcessSpawner.home_dir_template = str(homes / "{username}")
else:
    c.JupyterHub.spawner_class = "localprocess"  # switches to each user's UID (hub runs as root)
c.Spawner.cmd = [str(VENV_BIN / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.port = 0
c.Spawner.args = ["--ServerApp.ip=127.0.0.1", "--MappingKernelManager.default_kernel_name=ebpm"]
if os.geteuid() == 0 and auth == "shared-password":
    c.Spawner.args.append("--allow-root")
c.Spawner.mem_limit = env("EBPM_HUB_MEM_LIMIT", "2G")  # enforced by systemdspawner / kubespawner
c.Spawner.start_timeout = 120  # a busy 2-core machine
c.Spawner.http_timeout = 120


def _per_user(spawner) -> None:
    """Per-user folders; the curated database and catalog are shared and read-only."""
    name = spawner.user.name
    home = homes / name
    for sub in ("notebooks", "reports", "secrets"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    os.chmod(home / "secrets", 0o700)
    spawner.environment.update(
        {
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "EBPM_ROOT": str(PROJECT),
            "EBPM_CURATED": str(shared / "curated"),
            "EBPM_CATALOG": str(shared / "catalog"),
            "EBPM_REPORTS": str(home / "reports"),
            "EBPM_SECRETS": str(home / "secrets"),
            "EBPM_PORTAL_SHARED": str(portal),
            "JUPYTER_PREFER_ENV_PATH": "1",
            # a spare report kernel per user waits 10 minutes after each `ebpm run`: on a shared
            # server that is ~150 MB per user, so it is off unless the city turns it on
            "EBPM_KEEP_WARM": env("EBPM_HUB_KEEP_WARM", "0"),
        }
    )
    if env("EBPM_HUB_TEMPLATES"):
        spawner.environment["EBPM_TEMPLATES"] = env("EBPM_HUB_TEMPLATES")


c.Spawner.pre_spawn_hook = _per_user

# --- idle culling: stop servers nobody used for EBPM_HUB_CULL_AFTER seconds
c.JupyterHub.load_roles = [
    {
        "name": "idle-culler",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["idle-culler"],
    }
]
c.JupyterHub.services = [
    {
        "name": "idle-culler",
        "command": [
            sys.executable,
            "-m",
            "jupyterhub_idle_culler",
            f"--timeout={env('EBPM_HUB_CULL_AFTER', '3600')}",
        ],
    }
]

# --- optional automation service (tests and bench): start/stop servers, issue user tokens
token = env("EBPM_HUB_SERVICE_TOKEN")
if token:
    c.JupyterHub.services.append({"name": "ebpm-automation", "api_token": token})
    c.JupyterHub.load_roles.append(
        {
            "name": "ebpm-automation",
            "scopes": ["admin:users", "admin:servers", "list:users", "tokens"],
            "services": ["ebpm-automation"],
        }
    )

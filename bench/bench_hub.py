"""Benchmark the ebpm JupyterHub: login → ready JupyterLab for 1 and 10 users; memory per idle user.

Usage: ``.venv/bin/python bench/bench_hub.py [--users 10]`` (needs ``make hub-proxy``).

Baseline in the same run: one bare ``jupyterhub-singleuser``-free ``jupyter lab`` started directly
(no hub, no proxy), timed from launch to its /lab page answering 200. Ratios are the hub's
login → /user/<name>/lab 200 time against that. Memory: resident set size (RSS) of each idle user's
server process tree (no kernel running), from psutil. Results go to bench/results/hub.json.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "deploy" / "jupyterhub"))
import hubdriver  # noqa: E402


def bare_lab(tmp: Path) -> float:
    """Seconds from launching `jupyter lab` to its /lab answering 200 (the baseline)."""
    (port,) = hubdriver.free_ports(1)
    token = secrets.token_hex(16)
    args = [
        str(Path(sys.executable).parent / "jupyter"),
        "lab",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.open_browser=False",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={tmp}",
    ]
    if os.geteuid() == 0:
        args.append("--allow-root")
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                r = requests.get(f"http://127.0.0.1:{port}/lab?token={token}", timeout=5)
                if r.status_code == 200:
                    return time.perf_counter() - start
            except requests.RequestException:
                pass
            if proc.poll() is not None:
                raise RuntimeError("jupyter lab exited")
            time.sleep(hubdriver.POLL)
    finally:
        proc.terminate()
        proc.wait(30)


def login_to_lab(hub: hubdriver.Hub, user: str) -> float:
    """Seconds from the login form to the user's JupyterLab page answering 200."""
    start = time.perf_counter()
    session = hub.login(user)
    hub.start_server(user)
    hub.wait(f"{user} ready", lambda: hub.server_ready(user), 600)
    page = session.get(f"{hub.url}/user/{user}/lab", timeout=300)
    if page.status_code != 200:
        raise RuntimeError(f"{user}: {page.status_code}")
    return time.perf_counter() - start


def idle_rss_mb(hub: hubdriver.Hub) -> list[float]:
    """RSS (MB) of each user's server process tree."""
    out = []
    for child in psutil.Process(hub.proc.pid).children():
        try:
            if "jupyterhub-singleuser" in " ".join(child.cmdline()):
                tree = [child, *child.children(recursive=True)]
                out.append(sum(p.memory_info().rss for p in tree) / 2**20)
        except psutil.NoSuchProcess:
            continue
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10)
    args = parser.parse_args()
    names = [f"user{i:02d}" for i in range(args.users + 1)]
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "lab").mkdir()
        baseline = bare_lab(tmp / "lab")
        shared = tmp / "shared"
        shutil.copytree(ROOT / "data" / "catalog", shared / "catalog")
        (shared / "curated").mkdir()
        hub = hubdriver.start(
            tmp / "state", shared=shared, portal=tmp / "portal", users=",".join(names)
        )
        try:
            one = login_to_lab(hub, names[0])
            with ThreadPoolExecutor(args.users) as pool:
                many = list(pool.map(lambda u: login_to_lab(hub, u), names[1:]))
            rss = idle_rss_mb(hub)
        finally:
            hub.stop()
    report = {
        "bare_jupyter_lab_s": round(baseline, 2),
        "one_user_login_to_lab_s": round(one, 2),
        "one_user_ratio": round(one / baseline, 2),
        "users_together": args.users,
        "together_median_s": round(statistics.median(many), 2),
        "together_max_s": round(max(many), 2),
        "together_max_ratio": round(max(many) / baseline, 2),
        "idle_rss_mb_median": round(statistics.median(rss), 1),
        "idle_servers_measured": len(rss),
        "cpus": os.cpu_count(),
    }
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "hub.json").write_text(
        json.dumps(report, indent=2), encoding="utf-8"
    )
    print(
        f"ログイン→JupyterLab: 1人 {one:.1f} s（単体の jupyter lab 起動 {baseline:.1f} s の {report['one_user_ratio']}×）、"
        f"{args.users}人同時 中央値 {report['together_median_s']} s・最大 {report['together_max_s']} s"
        f"（{report['together_max_ratio']}×）、アイドル1人あたり {report['idle_rss_mb_median']} MB"
    )


if __name__ == "__main__":
    main()

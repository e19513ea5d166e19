"""Warm spare kernels (`ebpm run --keep-warm`): adopted by the next run, never shared, exit when idle."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ebpm.report import warm
from ebpm.report.runner import run

FIXTURES = Path(__file__).parent / "fixtures" / "reports"
SECRET = "SECRET-7f3a9c"

pytestmark = pytest.mark.slow


def test_next_run_adopts_the_spare_and_nothing_carries_over(runtime):
    nb = str(FIXTURES / "secret.ipynb")
    first = run(nb, {"api_key": SECRET}, out=runtime / "a", pdf=False, keep_warm=True)
    claims = [p for p in warm.warm_dir().glob("*.json") if not p.name.startswith("kernel-")]
    assert first.status == "ok" and len(claims) == 1
    pid = json.loads(claims[0].read_text())["pid"]
    assert warm.wait_warm(claims[0].stem, timeout=120)
    second = run(nb, {"year": "2025"}, out=runtime / "b", pdf=False, keep_warm=False)
    res = json.loads((runtime / "b" / "result.json").read_text(encoding="utf-8"))
    assert second.status == "ok" and res["timings"]["kernel_start"] == 0.0  # adopted, not started
    assert not warm.pid_alive(pid)  # the adopted kernel was stopped after its one run
    assert list(warm.warm_dir().glob("*.json")) == []  # and no spare left (keep_warm=False)
    blob = b"".join(p.read_bytes() for p in (runtime / "b").iterdir())
    assert SECRET.encode() not in blob and "年は2025" in res["answer"]


def test_unadopted_spare_exits_by_itself(runtime, monkeypatch):
    monkeypatch.setattr(warm, "SPARE_IDLE_S", 2)
    warm.leave_spare("testkey", "import json", runtime)
    pid = json.loads((warm.warm_dir() / "testkey.json").read_text())["pid"]
    deadline = time.monotonic() + 60
    while warm.pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not warm.pid_alive(pid)
    assert warm.adopt("testkey") is None  # a dead spare is never handed out


def test_a_spare_serves_any_template_and_cold_ignores_it(runtime):
    """The spare imports the house libraries only, so another template adopts it; --cold does not."""
    first = run(
        str(FIXTURES / "secret.ipynb"),
        {"api_key": SECRET},
        out=runtime / "a",
        pdf=False,
        keep_warm=True,
    )
    assert first.status == "ok"
    claims = [p for p in warm.warm_dir().glob("*.json") if not p.name.startswith("kernel-")]
    assert len(claims) == 1 and warm.wait_warm(claims[0].stem, timeout=120)
    cold = run(str(FIXTURES / "basic.ipynb"), {}, out=runtime / "cold", pdf=False, cold=True)
    res = json.loads((runtime / "cold" / "result.json").read_text(encoding="utf-8"))
    assert cold.status == "ok" and res["timings"]["kernel_start"] > 0.0
    assert claims[0].exists()  # the cold run neither adopted the spare nor left another
    other = run(str(FIXTURES / "basic.ipynb"), {}, out=runtime / "b", pdf=False, keep_warm=False)
    res = json.loads((runtime / "b" / "result.json").read_text(encoding="utf-8"))
    assert other.status == "ok" and res["timings"]["kernel_start"] == 0.0
    assert list(warm.warm_dir().glob("*.json")) == []


def test_a_spare_still_warming_is_adopted(runtime):
    """Adopting a spare before its warm-up has finished waits for it (the client asks the manager
    whether the kernel is alive meanwhile; an adopted kernel answers by its pid)."""
    from ebpm.config import paths

    root = paths().root
    warm.leave_spare(warm.spare_key(root), warm.HOUSE_WARMUP, root)
    done = run(str(FIXTURES / "basic.ipynb"), {}, out=runtime / "b", pdf=False, keep_warm=False)
    res = json.loads((runtime / "b" / "result.json").read_text(encoding="utf-8"))
    assert done.status == "ok", res["error"]
    assert res["timings"]["kernel_start"] == 0.0


def test_every_warm_up_line_runs():
    """The spare's warm-up swallows errors (a spare must start even if one import fails), so a line
    that broke would silently stop warming; here every line runs bare and must succeed, leaving no
    name behind but the modules it imported."""
    code = (
        "\n".join(warm.HOUSE_WARMUP_LINES)
        + "\nimport types\n"
        + (
            "left = [k for k, v in list(globals().items()) if not k.startswith('__')"
            " and not isinstance(v, types.ModuleType)]\nassert not left, left\n"
        )
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-1500:]


def test_every_warm_up_ends_by_freezing_the_heap():
    """IPython's %reset before each report collects garbage twice; over the heap the libraries leave
    that took about 0.1 s each, so every warm-up ends by freezing what survived (warm.GC_FREEZE)."""
    from ebpm.report.runner import warmup_source

    template = Path(__file__).parents[1] / "notebooks" / "templates" / "dx_kpi_dashboard.ipynb"
    for code in (
        warm.HOUSE_WARMUP,
        warm.guarded([warm.GC_FREEZE, "import json"]),
        warmup_source(template),
    ):
        body = code.removesuffix("\ndel ebpm\n")
        assert body.rstrip().endswith(f"try:\n    {warm.GC_FREEZE}\nexcept Exception:\n    pass")
        assert body.count(warm.GC_FREEZE) == 1
    check = (
        warm.guarded(["import json", "junk = [[i] for i in range(1000)]; del junk"])
        + "\nimport gc\nassert gc.get_freeze_count() > 1000, gc.get_freeze_count()\n"
    )
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-1500:]


def test_a_spare_left_before_the_estat_app_id_was_set_is_not_used_after(monkeypatch, tmp_path):
    monkeypatch.delenv("ESTAT_APP_ID", raising=False)
    before = warm.spare_key(tmp_path)
    monkeypatch.setenv("ESTAT_APP_ID", "0123456789abcdef-secret")
    with_id = warm.spare_key(tmp_path)
    assert with_id != before
    assert "0123456789abcdef" not in with_id
    monkeypatch.setenv("ESTAT_APP_ID", "another-id")
    assert warm.spare_key(tmp_path) not in (before, with_id)


def test_a_spare_binds_its_own_ports(tmp_path):
    """The spare's connection file leaves every port 0: the kernel binds free ports itself and
    writes them in (ports picked ahead could be taken by another starting process meanwhile), and
    adopters wait for them."""
    import os
    import stat

    path = tmp_path / "kernel.json"
    warm._write_unbound_connection_file(path)
    info = json.loads(path.read_text(encoding="utf-8"))
    assert all(info[name] == 0 for name in warm.PORTS) and info["key"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it holds the key
    assert not warm.wait_bound(str(path), os.getpid(), timeout=0.2)  # not bound yet
    assert not warm.wait_bound(str(path), 0, timeout=60)  # a dead spare: no waiting
    path.write_text(json.dumps({**info, **{n: 40000 + i for i, n in enumerate(warm.PORTS)}}))
    assert warm.wait_bound(str(path), os.getpid(), timeout=60)


def test_a_real_spare_writes_its_ports_before_it_is_adopted(runtime):
    warm.leave_spare("portkey", "import json", runtime)
    info = warm.adopt("portkey")
    try:
        assert info is not None
        ports = json.loads(Path(info["connection_file"]).read_text(encoding="utf-8"))
        assert all(ports[name] > 0 for name in warm.PORTS)
    finally:
        if info:
            warm.stop(int(info["pid"]), info["connection_file"])

"""`ebpm.report.kernels.wait_ready`: a started kernel is ready once it answers and its IOPub reaches us;
a kernel that died is reported in Japanese instead of being waited for until the timeout."""

from __future__ import annotations

import pytest
from ebpm.report.kernels import Kernel, wait_ready
from jupyter_core.utils import run_sync

pytestmark = pytest.mark.slow


def test_a_new_kernel_is_ready_and_runs_code_right_after(tmp_path):
    kernel = Kernel(cwd=tmp_path)
    try:
        run_sync(wait_ready)(kernel.kc, 120)
        # the first request after readiness gets its output and its reply (nothing was missed)
        seen: list[str] = []
        reply = run_sync(kernel.kc.execute_interactive)(
            "print('盛岡')",
            timeout=60,
            output_hook=lambda m: seen.append(m["content"].get("text", "")),
        )
        assert reply["content"]["status"] == "ok"
        assert "盛岡\n" in seen
    finally:
        kernel.shutdown()


def test_a_dead_kernel_is_reported_not_waited_for(tmp_path):
    kernel = Kernel(cwd=tmp_path)
    try:
        run_sync(wait_ready)(kernel.kc, 120)
        run_sync(kernel.km.shutdown_kernel)(now=True)
        with pytest.raises(RuntimeError, match="カーネルが応答する前に終了しました"):
            run_sync(wait_ready)(kernel.kc, 120)
    finally:
        kernel.kc.stop_channels()

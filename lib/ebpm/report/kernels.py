"""Jupyter kernels for report runs: start with warm-up imports, adopt a spare, reuse or replace in a batch."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

from ebpm.config import paths

KERNEL_NAME = "python3"
SETUP_TIMEOUT_S = 120


class Kernel:
    """A started (possibly still booting) Jupyter kernel with its client."""

    def __init__(self, *, cwd: Path, warmup: str = "") -> None:
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        t0 = time.perf_counter()
        self.km = AsyncKernelManager(kernel_name=KERNEL_NAME)
        # history in memory only: parameter values (secrets too) never reach IPython's sqlite file
        env = {**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
        run_sync(self.km.start_kernel)(
            extra_arguments=["--HistoryManager.hist_file=:memory:"],
            cwd=str(cwd),
            env=env,
            stdout=subprocess.DEVNULL,  # kernel logs could carry parameter values
            stderr=subprocess.DEVNULL,
        )
        self.kc = self.km.client()
        self.kc.start_channels()
        if warmup:
            self.kc.execute(warmup, silent=True, store_history=False, allow_stdin=False)
        self.started_s = time.perf_counter() - t0
        self.runs = 0
        self.ready = False
        self.adopted = False

    async def _ready(self) -> None:
        if not self.ready:
            await wait_ready(self.kc, SETUP_TIMEOUT_S)
            self.ready = True

    def ensure_ready(self) -> None:
        """Wait (once) until the kernel answers and its IOPub messages reach us: output sent before
        the IOPub subscription is connected would be lost."""
        from jupyter_core.utils import run_sync

        if not self.ready:
            run_sync(self._ready)()

    async def _ready_and_run(self, code: str) -> dict[str, Any]:
        await self._ready()
        reply = await self.kc.execute_interactive(
            code,
            store_history=False,
            allow_stdin=False,
            timeout=SETUP_TIMEOUT_S,
            output_hook=_ignore,
        )
        return reply["content"]

    @classmethod
    def adopt(cls, info: dict[str, Any]) -> Kernel:
        """Use a warm spare kernel left by an earlier run (see :mod:`ebpm.report.warm`)."""
        self = cls.__new__(cls)
        self.km = AdoptedKernelManager(
            kernel_name=KERNEL_NAME, connection_file=info["connection_file"]
        )
        self.km.load_connection_file()
        self.km.adopted_pid = int(info["pid"])
        self.kc = self.km.client()
        self.kc.start_channels()
        self.started_s = 0.0
        self.runs = 0
        self.ready = False
        self.adopted = True
        return self

    def run_code(self, code: str) -> dict[str, Any]:
        """Run ``code`` outside the notebook (nothing of it is recorded in the notebook)."""
        from jupyter_core.utils import run_sync

        return run_sync(self._ready_and_run)(code)

    def _pid(self) -> int:
        if self.adopted:
            return int(getattr(self.km, "adopted_pid", 0))
        return int(getattr(getattr(self.km, "provisioner", None), "pid", 0) or 0)

    def _signal(self, signum: int) -> None:
        pid = self._pid()
        if pid > 0:
            try:
                os.kill(pid, signum)
            except ProcessLookupError:  # already gone: nothing runs
                pass

    def interrupt(self) -> None:
        """Interrupt the cell running now (SIGINT, as JupyterLab's stop button does)."""
        import signal

        self._signal(signal.SIGINT)

    def kill(self) -> None:
        """End the kernel process at once (SIGKILL); the client then finds it dead."""
        import signal

        self._signal(signal.SIGKILL)

    def alive(self) -> bool:
        from jupyter_core.utils import run_sync

        return bool(run_sync(self.km.is_alive)())

    def shutdown(self) -> None:
        from jupyter_core.utils import run_sync

        try:
            self.kc.stop_channels()
            run_sync(self.km.shutdown_kernel)(now=True)
        except Exception:  # already gone
            pass


def _ignore(_msg: Any) -> None:
    return None


async def wait_ready(kc, timeout: float) -> None:
    """Return once the kernel answers on the shell channel and its IOPub messages reach us.

    Like jupyter_client's ``wait_for_ready`` (ask ``kernel_info`` until the reply comes, and ask
    again if no IOPub message follows: the subscription was not connected yet), but it stops at the
    request's own ``idle`` status instead of waiting for 0.2 s of IOPub silence, which every run paid.
    Later requests read only messages whose parent is their own, so nothing older can be mistaken.
    """
    from queue import Empty

    from jupyter_core.utils import ensure_async

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg_id = kc.kernel_info()
        replied = False
        try:
            while not replied:
                msg = await ensure_async(kc.get_shell_msg(timeout=1))
                replied = msg["parent_header"].get("msg_id") == msg_id
        except Empty:
            pass
        if replied:
            try:
                while True:
                    msg = await ensure_async(kc.get_iopub_msg(timeout=0.5))
                    if (
                        msg["parent_header"].get("msg_id") == msg_id
                        and msg["msg_type"] == "status"
                        and msg["content"].get("execution_state") == "idle"
                    ):
                        return
            except Empty:
                pass  # IOPub not connected when the kernel answered: ask again
        if not await ensure_async(kc.is_alive()):
            raise RuntimeError("カーネルが応答する前に終了しました。")
    raise RuntimeError(f"カーネルが {timeout:.0f} 秒以内に応答しませんでした。")


def _adopted_manager_class():
    from jupyter_client.manager import AsyncKernelManager

    class _Adopted(AsyncKernelManager):
        """A kernel started by an earlier command: alive while its pid is; stopped by signal."""

        adopted_pid = 0

        @property
        def has_kernel(self) -> bool:
            from ebpm.report.warm import pid_alive

            return pid_alive(self.adopted_pid)

        async def _async_is_alive(self) -> bool:  # type: ignore[override]
            # the client's wait_for_ready asks this while the spare is still warming; a manager
            # that did not start the kernel has no provisioner, so the pid is the answer
            return self.has_kernel

        is_alive = _async_is_alive  # type: ignore[assignment]

        async def shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:  # type: ignore[override]
            from ebpm.report.warm import stop

            stop(self.adopted_pid, self.connection_file)

        async def cleanup_resources(self, restart: bool = False) -> None:  # type: ignore[override]
            return None

    return _Adopted


class _LazyAdopted:
    def __call__(self, *args: Any, **kwargs: Any):
        return _adopted_manager_class()(*args, **kwargs)


AdoptedKernelManager = _LazyAdopted()


class KernelPool:
    """Kernels for one worker: one reused kernel (reset between runs) or a fresh pre-started one each time.

    Parameters
    ----------
    reuse : bool
        Reuse the kernel between runs of a batch (namespace reset; a failed run gets a new kernel).
        Otherwise each run gets a fresh kernel and the next one is started while this one works.
    """

    def __init__(self, *, reuse: bool = True, cwd: Path | None = None) -> None:
        self.reuse = reuse
        self.cwd = cwd or paths().root
        self._spare: Kernel | None = None
        self._warmup = ""

    def prestart(self, warmup: str) -> None:
        self._warmup = warmup
        if self._spare is None:
            self._spare = Kernel(cwd=self.cwd, warmup=warmup)

    def acquire(self, warmup: str) -> Kernel:
        self._warmup = warmup
        kernel = self._spare or Kernel(cwd=self.cwd, warmup=warmup)
        self._spare = None
        return kernel

    def release(self, kernel: Kernel, *, ok: bool, more: bool = True) -> None:
        kernel.runs += 1
        if self.reuse and ok and more and kernel.alive():
            reply = kernel.run_code(RESET_SOURCE)
            if reply.get("status") == "ok":
                self._spare = kernel
                return
        kernel.shutdown()
        if more and not self.reuse:
            self._spare = Kernel(cwd=self.cwd, warmup=self._warmup)

    def close(self) -> None:
        if self._spare is not None:
            self._spare.shutdown()
            self._spare = None


# between two reports of a batch: empty the namespace (IPython's %reset collects garbage), then freeze
# what the report left alive in modules (its lazy imports, caches) as the warm-up did (warm.GC_FREEZE)
RESET_SOURCE = (
    "import ebpm.report.kernel as _ebpm_kernel\n"
    "_ebpm_kernel.end_run()\n"
    "get_ipython().run_line_magic('reset', '-f')\n"
    "import gc as _gc; _gc.freeze(); del _gc\n"
)

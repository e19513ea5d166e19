"""Running a report notebook's cells on a started kernel: nbclient, with papermill's record of each cell.

Papermill runs notebooks through nbclient too; ``ebpm run`` only needs that one loop (every cell in
order, stop at the first error without raising, note each cell's status and times) and imports nbclient
directly. Importing papermill's engine cost every run about 0.4 s before its first cell (papermill.iorw
pulls in requests and its cloud I/O handlers), and a warm run has nothing to overlap that with.
The notebook keeps papermill's metadata (``metadata.papermill`` on the notebook and on each cell), so
a notebook from ``ebpm run`` reads as one from papermill; the templates stay papermill templates.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

PENDING = "pending"
RUNNING = "running"
COMPLETED = "completed"
FAILED = "failed"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _stamp(mark: dict[str, Any], began: dt.datetime) -> None:
    ended = _now()
    mark["end_time"] = ended.isoformat()
    mark["duration"] = (ended - began).total_seconds()


class CellRunner(NotebookClient):
    """An nbclient client for a kernel that is already running (``km`` and ``kc`` given).

    :meth:`run` executes the cells in order and stops at the first cell that raises, without raising
    itself: the failed cell keeps its traceback, is marked ``failed`` and the notebook's
    ``metadata.papermill.exception`` is true. A timeout or a dead kernel propagates (nbclient's
    ``CellTimeoutError`` / ``DeadKernelError``) and leaves that cell marked ``running``, so the caller can
    name the step that stopped.

    ``cancel`` (an object with ``is_set()``, :class:`ebpm.report.runner.Cancel`) stops the loop
    before the next cell, and nothing more is asked of the kernel.
    """

    cancel: Any = None

    def _cancelled(self) -> bool:
        return self.cancel is not None and self.cancel.is_set()

    def run(self):
        nb = self.nb
        started = _now()
        book = nb.metadata.setdefault("papermill", {})
        book.update(start_time=started.isoformat(), end_time=None, duration=None, exception=None)
        for cell in nb.cells:
            if cell.get("cell_type") == "code":
                cell.execution_count = None
            cell.metadata["papermill"] = {
                "exception": None,
                "start_time": None,
                "end_time": None,
                "duration": None,
                "status": PENDING,
            }
        self.reset_execution_trackers()
        try:
            with self.setup_kernel():
                for index, cell in enumerate(nb.cells):
                    if self._cancelled():
                        break
                    mark = cell.metadata["papermill"]
                    began = _now()
                    mark.update(start_time=began.isoformat(), status=RUNNING, exception=False)
                    try:
                        self.execute_cell(cell, index)
                    except CellExecutionError:
                        _stamp(mark, began)
                        mark.update(status=FAILED, exception=True)
                        book["exception"] = True
                        break
                    except BaseException:
                        _stamp(mark, began)  # still "running": where it stopped
                        raise
                    _stamp(mark, began)
                    mark["status"] = COMPLETED
                info = None if self._cancelled() else self.wait_for_reply(self.kc.kernel_info())
                if info is not None:
                    nb.metadata["language_info"] = info["content"]["language_info"]
        finally:
            _stamp(book, started)
        return nb

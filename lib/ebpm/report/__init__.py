"""Reports from papermill templates: typed parameters, execution, scrubbing, HTML/PDF, result.json."""

from ebpm.report.kernel import figure, record
from ebpm.report.params import load_schema, validate

__all__ = ["figure", "load_schema", "record", "run", "run_batch", "validate"]


def __getattr__(name: str):
    if name == "run":
        from ebpm.report.runner import run

        return run
    if name == "run_batch":
        from ebpm.report.batch import run_batch

        return run_batch
    raise AttributeError(f"module 'ebpm.report' has no attribute {name!r}")

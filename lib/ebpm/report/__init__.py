"""Reports from papermill templates: typed parameters, execution, scrubbing, HTML/PDF, result.json."""

from ebpm._lazy import lazy_exports

__all__ = ["figure", "load_schema", "record", "run", "run_batch", "validate"]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "figure": "ebpm.report.kernel",
        "record": "ebpm.report.kernel",
        "load_schema": "ebpm.report.params",
        "validate": "ebpm.report.params",
        "run": "ebpm.report.runner",
        "run_batch": "ebpm.report.batch",
    },
)

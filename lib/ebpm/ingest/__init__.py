"""Readers for Japanese public-sector files: CSV (CP932/BOM/UTF-16), Excel, column typing, 和暦, 団体コード, 全角."""

from ebpm._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "read_csv": "ebpm.ingest.read",
        "read_excel": "ebpm.ingest.read",
        "Ingested": "ebpm.ingest.read",
    },
)

"""The curated database: catalog spec, staging, checks, build and atomic snapshot, dictionary, read-only access."""

from ebpm._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "connect": "ebpm.data.access",
        "load": "ebpm.data.access",
        "sql": "ebpm.data.access",
        "sql_arrow": "ebpm.data.access",
        "catalog": "ebpm.data.access",
        "build_info": "ebpm.data.access",
        "manifest": "ebpm.data.access",
        "table_info": "ebpm.data.access",
        "column_titles": "ebpm.data.access",
        "build": "ebpm.data.builder",
    },
)

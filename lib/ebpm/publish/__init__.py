"""Open-data publishing: standard datasets (自治体標準オープンデータセット) validated by Frictionless."""

from ebpm._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "publish": "ebpm.publish.release",
        "read_log": "ebpm.publish.release",
        "standards": "ebpm.publish.standard",
        "find_standard": "ebpm.publish.standard",
        "Standard": "ebpm.publish.standard",
        "platform_dependent": "ebpm.publish.text",
        "validate_package": "ebpm.publish.validate",
        "write_index": "ebpm.publish.catalogue",
    },
)

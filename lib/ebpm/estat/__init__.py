"""The e-Stat API client, its cache and the response parser (appId from the environment only)."""

from ebpm._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "cache_dir": "ebpm.estat.client",
        "get_meta_info": "ebpm.estat.client",
        "get_stats_data": "ebpm.estat.client",
        "get_stats_list": "ebpm.estat.client",
        "parse_meta_info": "ebpm.estat.client",
        "parse_response": "ebpm.estat.client",
        "parse_stats_data": "ebpm.estat.client",
        "parse_stats_list": "ebpm.estat.client",
        "read_estat_json": "ebpm.estat.client",
    },
)

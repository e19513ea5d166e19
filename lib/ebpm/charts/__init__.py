"""Charts: the house Altair theme, offline SVG/PNG rendering, maps and chart builders."""

from ebpm._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "enable_theme": "ebpm.charts.core",
        "theme": "ebpm.charts.core",
        "format_man": "ebpm.charts.core",
        "with_footer": "ebpm.charts.core",
        "to_svg": "ebpm.charts.core",
        "to_png": "ebpm.charts.core",
        "PALETTE": "ebpm.charts.core",
        "FONT": "ebpm.charts.core",
        "SYNTHETIC_FOOTER": "ebpm.charts.core",
        "choropleth": "ebpm.charts.maps",
        "points_map": "ebpm.charts.maps",
        "orient_features": "ebpm.charts.maps",
        "boundaries": "ebpm.charts.maps",
        "MAP_CREDIT": "ebpm.charts.maps",
    },
)

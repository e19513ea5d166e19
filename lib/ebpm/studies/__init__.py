"""Study helpers every template shares: queries, derived variables, parameter checks, tables and charts."""

from ebpm._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "month_index": "ebpm.studies.periods",
        "daily_features": "ebpm.studies.periods",
        "counter_panel": "ebpm.studies.queries",
        "call_centre_daily": "ebpm.studies.queries",
        "municipal_panel": "ebpm.studies.queries",
        "town_choices": "ebpm.studies.queries",
        "municipality_choices": "ebpm.studies.queries",
        "town_population": "ebpm.studies.queries",
        "census_change": "ebpm.studies.queries",
        "smallarea_points": "ebpm.studies.queries",
        "is_synthetic": "ebpm.studies.queries",
    },
)

"""Study helpers every template shares: queries, derived variables, answer sentences and recommendations."""

from ebpm._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "effect_answer": "ebpm.studies.answers",
        "synth_answer": "ebpm.studies.answers",
        "profile_answer": "ebpm.studies.answers",
        "survey_answer": "ebpm.studies.answers",
        "power_answer": "ebpm.studies.answers",
        "recommend": "ebpm.studies.answers",
        "RECOMMEND_RULE_JA": "ebpm.studies.answers",
        "month_index": "ebpm.studies.periods",
        "daily_features": "ebpm.studies.periods",
        "linear_projection": "ebpm.studies.periods",
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

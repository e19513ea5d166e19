"""The case-study library (取組事例): structured, validated records and own published studies."""

from ebpm._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "Case": "ebpm.cases.library",
        "CaseError": "ebpm.cases.library",
        "load_cases": "ebpm.cases.library",
        "validate_cases": "ebpm.cases.library",
        "own_case": "ebpm.cases.library",
    },
)

"""Analysis plans (分析計画・事前登録) and study folders: schema, lock hash, deviations, status."""

from ebpm._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "Plan": "ebpm.plans.plan",
        "PlanError": "ebpm.plans.plan",
        "load_plan": "ebpm.plans.plan",
        "parse_plan": "ebpm.plans.plan",
        "write_new_plan": "ebpm.plans.plan",
        "canonical_json": "ebpm.plans.plan",
        "minimum_detectable_effect": "ebpm.plans.plan",
        "studies": "ebpm.plans.study",
        "study_status": "ebpm.plans.study",
    },
)

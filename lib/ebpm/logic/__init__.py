"""Logic models (ロジックモデル): YAML schema, actuals from the curated data, diagram, review-sheet columns."""

from ebpm._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "LogicModel": "ebpm.logic.model",
        "logic_model": "ebpm.logic.model",
        "load_logic_model": "ebpm.logic.model",
        "parse_logic_model": "ebpm.logic.model",
        "logic_model_paths": "ebpm.logic.model",
        "LogicModelError": "ebpm.logic.model",
        "render_svg": "ebpm.logic.render",
        "render_html": "ebpm.logic.render",
        "export_review_sheet": "ebpm.logic.review_sheet",
        "import_review_sheet": "ebpm.logic.review_sheet",
    },
)

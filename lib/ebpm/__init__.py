"""ebpm — 盛岡市 EBPM（証拠に基づく政策立案）分析環境の公開API (heavy imports are lazy)."""

from __future__ import annotations

from ebpm._lazy import lazy_exports

__version__ = "0.1.0"

# public name -> module that defines it; imported on first use so that `import ebpm` stays fast
_LAZY: dict[str, str] = {
    # data access (curated database, read-only)
    "connect": "ebpm.data.access",
    "load": "ebpm.data.access",
    "sql": "ebpm.data.access",
    "catalog": "ebpm.data.access",
    # build
    "build": "ebpm.data.builder",
    # ingest: Japanese public-sector files read alone (the build uses the same readers)
    "read_csv": "ebpm.ingest.read",
    "read_excel": "ebpm.ingest.read",
    # evaluation methods
    "describe": "ebpm.methods.describe",
    "compare": "ebpm.methods.compare",
    "regress": "ebpm.methods.regress",
    "did": "ebpm.methods.did",
    "event_study": "ebpm.methods.event_study",
    "its": "ebpm.methods.its",  # the module, not the package: submodule import shadows the name
    "rdd": "ebpm.methods.rdd",
    "synth": "ebpm.methods.synth",
    "power": "ebpm.methods.power",
    # maps (offline, with the 国土数値情報 credit line)
    "choropleth": "ebpm.charts.maps",
    "points_map": "ebpm.charts.maps",
    # population projection (コーホート変化率法)
    "cohort_change_projection": "ebpm.methods.demography",
    "weighted_proportions": "ebpm.methods.survey",
    # reports
    "record": "ebpm.report",
    "figure": "ebpm.report",
    "show": "ebpm.disclosure.protect",
    "suppress": "ebpm.disclosure.protect",
    # the EBPM cycle
    "logic_model": "ebpm.logic.model",
    # synthetic city
    "synthesize": "ebpm.synth_city",
    "ground_truth": "ebpm.synth_city",
}

__all__ = sorted(_LAZY) + ["__version__"]


def _japanese_arguments(fn):
    from ebpm.errors import japanese_arguments

    return japanese_arguments(fn)


# a call with an unknown keyword (did-you-mean) or a missing argument is a Japanese ParameterError
__getattr__, __dir__ = lazy_exports(__name__, _LAZY, wrap=_japanese_arguments)


def _activate_kernel() -> None:
    """In a Jupyter kernel: record tables per cell and use the house chart theme (cheap otherwise)."""
    import sys

    if "ipykernel" not in sys.modules:
        return
    import importlib

    # by name: the kernel hooks live in the report stage, which this base module does not import
    importlib.import_module("ebpm.report.kernel").activate_interactive()


_activate_kernel()

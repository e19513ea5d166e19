"""Policy-evaluation estimators with diagnostics, credibility grades and Japanese summaries."""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "describe": "ebpm.methods.describe",
    "regress": "ebpm.methods.regress",
    "did": "ebpm.methods.did",
    "event_study": "ebpm.methods.event_study",
    "power": "ebpm.methods.power",
    "its": "ebpm.methods.its",
    "rdd": "ebpm.methods.rdd",
    "synth": "ebpm.methods.synth",
    "EstimationResult": "ebpm.methods.result",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ebpm.methods' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value

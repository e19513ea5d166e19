"""Policy-evaluation estimators with diagnostics, credibility grades and Japanese summaries.

The functions are bound eagerly here: a lazy ``__getattr__`` would be shadowed by the submodule
of the same name (``ebpm.methods.its`` the module vs ``its`` the function) once that submodule was
imported. ``import ebpm`` itself stays light because its own map points at the submodules.
"""

from __future__ import annotations

from ebpm.methods.compare import compare
from ebpm.methods.describe import describe
from ebpm.methods.did import did
from ebpm.methods.event_study import event_study
from ebpm.methods.its import its
from ebpm.methods.power import power
from ebpm.methods.rdd import rdd
from ebpm.methods.regress import regress
from ebpm.methods.synth import synth
from ebpm.result import EstimationResult

__all__ = [
    "EstimationResult",
    "compare",
    "describe",
    "did",
    "event_study",
    "its",
    "power",
    "rdd",
    "regress",
    "synth",
]

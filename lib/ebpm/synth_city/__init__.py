"""The deterministic 模擬データ city of 盛岡市: tables with known true effects (`ebpm.synthesize`)."""

from __future__ import annotations

from ebpm.synth_city.generate import GENERATOR_VERSION, TABLES, Settings, synthesize
from ebpm.synth_city.truth import ground_truth

__all__ = ["GENERATOR_VERSION", "TABLES", "Settings", "ground_truth", "synthesize"]

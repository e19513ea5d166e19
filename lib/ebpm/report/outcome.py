"""What a report run produced: the record `ebpm run`, batch workers and the warm service hand back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class RunOutcome:
    """What a run produced (also what batch workers and the warm service send back)."""

    template: str
    run_id: str
    out_dir: str
    status: str
    error: dict[str, str] | None = None
    duration_s: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)

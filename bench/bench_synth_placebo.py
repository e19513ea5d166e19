"""Placebo speed-up of ebpm.synth: fast placebos (2 starts, short search) against full-effort ones.

Reports the time ratio and whether the placebo inference changes (p-value, RMSPE ratios).
Run: .venv/bin/python bench/bench_synth_placebo.py   (needs ../shared/data/teaching)
"""

from __future__ import annotations

import importlib
import time

import ebpm
import numpy as np
import pandas as pd
from ebpm.config import paths

sy = importlib.import_module(
    "ebpm.methods.synth"
)  # `import ebpm.methods.synth as sy` gives the function

YEARS = range(1980, 1989)
PREDICTORS = [("lnincome", YEARS), ("age15to24", YEARS), ("retprice", YEARS),
              ("beer", range(1984, 1989)), ("cigsale", 1975), ("cigsale", 1980), ("cigsale", 1988)]  # fmt: skip


def run(fast: bool) -> tuple[float, ebpm.methods.EstimationResult]:
    frame = pd.read_stata(paths().shared / "data" / "teaching" / "prop99_smoking.dta")
    frame["state"] = frame["state"].astype(str)
    saved = sy.PLACEBO_EFFORT
    if not fast:
        sy.PLACEBO_EFFORT = 400  # the main fit's effort
    try:
        t0 = time.perf_counter()
        res = ebpm.synth(frame, "cigsale", "state", "year", "California", 1989, PREDICTORS,
                         placebo_starts=2 if fast else 8)  # fmt: skip
        return time.perf_counter() - t0, res
    finally:
        sy.PLACEBO_EFFORT = saved


def main() -> None:
    t_fast, fast = run(True)
    t_full, full = run(False)
    a = fast.details["placebos"].set_index("unit")
    b = full.details["placebos"].set_index("unit")
    rel = np.abs(a["pre_rmspe"] - b["pre_rmspe"]) / b["pre_rmspe"]
    print(f"time full/fast: {t_full / t_fast:.1f}x  ({t_full:.1f}s vs {t_fast:.1f}s)")
    print(f"p-value fast {fast.pvalue:.4f}  full {full.pvalue:.4f}")
    print(
        f"placebo pre-RMSPE, fast vs full: median rel. diff {rel.median():.4f}, max {rel.max():.4f}"
    )
    print(
        f"placebos where the fast search fits worse by >5%: {(a['pre_rmspe'] > 1.05 * b['pre_rmspe']).sum()}"
    )
    print(f"interval fast {fast.ci}  full {full.ci}")


if __name__ == "__main__":
    main()

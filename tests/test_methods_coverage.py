"""Simulation (模擬データ, fixed seed): 95% CIs of the 2×2 DiD and of TWFE with unit-clustered SEs cover
the true effect close to 95% of the time, and the event-study pre-trend test keeps its size."""

from __future__ import annotations

import warnings

import ebpm
import numpy as np
import pandas as pd
import pytest

REPS = 300
TRUE = 1.5


def _two_by_two(rng: np.random.Generator) -> pd.DataFrame:
    """Independent samples, unequal variances and cell sizes (the case HC2 is made for)."""
    sizes = {(0, 0): 60, (0, 1): 80, (1, 0): 50, (1, 1): 70}
    sds = {(0, 0): 1.0, (0, 1): 1.5, (1, 0): 2.0, (1, 1): 3.0}
    parts = []
    for (t, p), n in sizes.items():
        y = 5 + 1.0 * t + 0.7 * p + TRUE * t * p + rng.normal(0, sds[(t, p)], n)
        parts.append(pd.DataFrame({"y": y, "treat": t, "post": p}))
    return pd.concat(parts, ignore_index=True)


def _panel(
    rng: np.random.Generator, n_units: int = 40, n_periods: int = 8, rho: float = 0.6
) -> pd.DataFrame:
    """Staggered adoption, homogeneous effect, AR(1) errors within unit (serial correlation)."""
    first = rng.choice([3, 5, np.inf], n_units, p=[0.3, 0.3, 0.4])
    e = np.zeros((n_units, n_periods))
    e[:, 0] = rng.normal(size=n_units)
    for t in range(1, n_periods):
        e[:, t] = rho * e[:, t - 1] + np.sqrt(1 - rho**2) * rng.normal(size=n_units)
    unit_fe = rng.normal(0, 1, n_units)[:, None]
    time_fe = np.linspace(0, 2, n_periods)[None, :]
    d = (np.arange(n_periods)[None, :] >= first[:, None]).astype(float)
    y = unit_fe + time_fe + TRUE * d + e
    return pd.DataFrame(
        {
            "unit": np.repeat(np.arange(n_units), n_periods),
            "time": np.tile(np.arange(n_periods), n_units),
            "d": d.ravel(),
            "y": y.ravel(),
        }
    )


@pytest.mark.slow
def test_did_interval_coverage():
    rng = np.random.default_rng(20260401)
    hits_2x2, hits_twfe, rejections = 0, 0, 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(REPS):
            r = ebpm.did(_two_by_two(rng), "y", "treat", "post")
            hits_2x2 += r.ci[0] < TRUE < r.ci[1]
            p = ebpm.did(_panel(rng), "y", None, "d", unit="unit", time="time")
            hits_twfe += p.ci[0] < TRUE < p.ci[1]
            rejections += p.diagnostics["pre_trend"]["f_p"] < 0.05
    coverage_2x2, coverage_twfe = hits_2x2 / REPS, hits_twfe / REPS
    print(
        f"coverage 2x2={coverage_2x2:.3f} twfe={coverage_twfe:.3f} pre-trend size={rejections / REPS:.3f}"
    )
    assert 0.92 <= coverage_2x2 <= 0.98
    assert 0.92 <= coverage_twfe <= 0.98
    # parallel trends hold by construction: the joint test should reject about 5% of the time.
    # With 40 clusters and AR(1) errors the Hotelling-corrected cluster Wald test still over-rejects a
    # little (7.3% with this seed; 8.3% for W/q ~ F(q, G−1)); 10% is the bound beyond which the grade
    # would often be lowered unfairly.
    assert rejections / REPS <= 0.10

"""Simulation (模擬データ, fixed seed): 95% CIs of the 2×2 DiD and of TWFE with unit-clustered SEs cover
the true effect close to 95% of the time, the event-study pre-trend test keeps its size, and with few
clusters the wild-cluster-bootstrap intervals of TWFE, staggered and the event-study average cover
within [0.93, 0.98] (a subset of bench/few_cluster_coverage.py; design in tests/coverage_sim.py)."""

from __future__ import annotations

import warnings

import ebpm
import numpy as np
import pandas as pd
import pytest
from coverage_sim import coverage

REPS = 200  # Monte Carlo SE about 0.015 for a 95% coverage
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
    rng: np.random.Generator, n_units: int = 60, n_periods: int = 8, rho: float = 0.6
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
            # 60 units, about 36 treated: at least 50 clusters and 10 treated, so the analytic CR1
            # interval with t(G−1) is the headline (below that the bootstrap is, tested below)
            p = ebpm.did(_panel(rng), "y", None, "d", unit="unit", time="time")
            assert p.diagnostics["inference"]["method"] == "analytic"
            hits_twfe += p.ci[0] < TRUE < p.ci[1]
            rejections += p.diagnostics["pre_trend"]["f_p"] < 0.05
    coverage_2x2, coverage_twfe = hits_2x2 / REPS, hits_twfe / REPS
    print(
        f"coverage 2x2={coverage_2x2:.3f} twfe={coverage_twfe:.3f} pre-trend size={rejections / REPS:.3f}"
    )
    assert 0.92 <= coverage_2x2 <= 0.98
    assert 0.92 <= coverage_twfe <= 0.98
    # parallel trends hold by construction: the joint test should reject about 5% of the time.
    # With 60 clusters and AR(1) errors the Hotelling-corrected cluster Wald test still over-rejects a
    # little (7.0% with this seed and 200 replications: coverage 2x2 0.940, TWFE 0.955); 10% is the
    # bound beyond which the grade would often be lowered unfairly.
    assert rejections / REPS <= 0.10


@pytest.mark.slow
@pytest.mark.parametrize(
    ("estimator", "n_clusters", "n_treated"),
    [("twfe", 15, 3), ("staggered", 15, 5), ("event_study", 15, 5)],
)
def test_few_cluster_bootstrap_coverage(estimator, n_clusters, n_treated):
    # 200 replications (the first 200 of the 300 behind the table in docs/methods.md, same seed):
    # Monte Carlo SE about 0.015, enough to tell these intervals from the CR1/normal ones (0.84–0.92
    # in this setting) while keeping the file near a minute on one core. The other cells of the
    # table (G = 10, 30; 2–5 treated) are in bench/few_cluster_coverage.py.
    cov = coverage(estimator, n_clusters, n_treated, reps=200, seed=1)
    print(f"coverage {estimator} G={n_clusters} treated={n_treated}: {cov:.3f}")
    assert 0.93 <= cov <= 0.98

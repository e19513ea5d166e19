"""Few-cluster coverage simulation (模擬データ, fixed seeds), shared by tests/test_methods_coverage.py and
bench/few_cluster_coverage.py.

Design: G clusters (one unit each), T = 10 periods, ``n_treated`` treated units adopting at period
4 or 6 (staggered) with a true effect of 1.0, AR(1) errors within unit (ρ = 0.5), cluster-specific
error SDs drawn from 0.5–2.0 (heteroskedastic clusters), unit and period effects. Coverage of the
95% interval = share of replications in which the headline method does not reject the true value
(test inversion: the interval covers θ iff the test at θ does not reject), which needs one bootstrap
p-value per replication instead of an interval search.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TRUE = 1.0
N_PERIODS = 10
RHO = 0.5
# 399 draws in the simulation (the product uses 1999): with α(B + 1) = 20 an integer the bootstrap
# test's size does not depend on B (Davidson & MacKinnon 2000), only its power a little.
DRAWS = 399


def panel(rng: np.random.Generator, n_clusters: int, n_treated: int) -> pd.DataFrame:
    first = np.full(n_clusters, np.nan)
    first[:n_treated] = rng.choice([4.0, 6.0], n_treated)
    if n_treated >= 2:
        first[:2] = (4.0, 6.0)  # at least two timing groups
    sd = rng.uniform(0.5, 2.0, n_clusters)[:, None]
    e = np.zeros((n_clusters, N_PERIODS))
    e[:, 0] = rng.normal(size=n_clusters)
    for t in range(1, N_PERIODS):
        e[:, t] = RHO * e[:, t - 1] + np.sqrt(1 - RHO**2) * rng.normal(size=n_clusters)
    t_idx = np.arange(N_PERIODS)[None, :]
    d = (t_idx >= np.nan_to_num(first, nan=np.inf)[:, None]).astype(float)
    y = rng.normal(0, 1, (n_clusters, 1)) + 0.2 * t_idx + TRUE * d + sd * e
    return pd.DataFrame(
        {
            "unit": np.repeat(np.arange(n_clusters), N_PERIODS),
            "time": np.tile(np.arange(N_PERIODS), n_clusters).astype(float),
            "first": np.repeat(first, N_PERIODS),
            "d": d.ravel(),
            "y": y.ravel(),
        }
    )


def covered(frame: pd.DataFrame, estimator: str) -> bool:
    """Whether the headline (few-cluster) method's 95% interval covers the true effect."""
    from ebpm.methods._panel import fit_twfe, wild_bootstrap
    from ebpm.methods.staggered import cs_wild_bootstrap, make_panel

    if estimator == "twfe":
        fit = fit_twfe(frame, "y", ["d"], "unit", "time")
        return (
            wild_bootstrap(fit, np.array([1.0]), search=False, draws=DRAWS)["pvalue_at"](TRUE)
            > 0.05
        )
    if estimator == "staggered":
        p = make_panel(frame, "y", "unit", "time", "d", "first")
        return (
            cs_wild_bootstrap(p, p.units, "never", search=False, draws=DRAWS)["pvalue_at"](TRUE)
            > 0.05
        )
    if estimator == "event_study":
        # the event study's post-period average (window −3 … 3, reference −1, binned ends)
        work = frame[["unit", "time", "y"]].copy()
        rel = (frame["time"] - frame["first"]).clip(-3, 3)
        names = []
        for e in (-3, -2, 0, 1, 2, 3):
            work[f"e{e + 3}"] = (rel == e).astype(float)
            names.append(f"e{e + 3}")
        fit = fit_twfe(work, "y", names, "unit", "time")
        a = np.array([0, 0, 0.25, 0.25, 0.25, 0.25])
        return wild_bootstrap(fit, a, search=False, draws=DRAWS)["pvalue_at"](TRUE) > 0.05
    raise ValueError(estimator)


def coverage(estimator: str, n_clusters: int, n_treated: int, reps: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    return float(
        np.mean([covered(panel(rng, n_clusters, n_treated), estimator) for _ in range(reps)])
    )

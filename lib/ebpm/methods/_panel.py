"""Two-way fixed-effects regression (within transformation) with cluster-robust SEs, shared by did and event_study."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ebpm.errors import EstimationError
from ebpm.methods import _common as c


def _group_demean(values: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    counts = np.bincount(codes, minlength=n_groups).astype(float)
    means = np.column_stack(
        [
            np.bincount(codes, weights=values[:, j], minlength=n_groups) / counts
            for j in range(values.shape[1])
        ]
    )
    return values - means[codes]


def within(
    values: np.ndarray,
    unit_codes: np.ndarray,
    time_codes: np.ndarray,
    tol: float = 1e-11,
    max_iter: int = 10_000,
) -> np.ndarray:
    """Residualise columns on unit and period dummies by alternating projections (exact in one pass if balanced)."""
    out = np.asarray(values, dtype=float).copy()
    nu, nt = int(unit_codes.max()) + 1, int(time_codes.max()) + 1
    scale = max(float(np.abs(out).max()), 1.0)
    for _ in range(max_iter):
        out = _group_demean(out, unit_codes, nu)
        out = _group_demean(out, time_codes, nt)
        check = _group_demean(out, unit_codes, nu) - out
        if float(np.abs(check).max()) < tol * scale:
            break
    return out


def fit_twfe(
    frame: pd.DataFrame,
    y: str,
    regressors: list[str],
    unit: str,
    time: str,
    cluster: str | None = None,
) -> dict[str, Any]:
    """Regress ``y`` on ``regressors`` with unit and period fixed effects; cluster-robust covariance.

    The fixed effects are swept out by alternating projections (Frisch–Waugh–Lovell); the covariance is
    CR1 with the factor G/(G−1)·(N−1)/(N−K), where K counts the regressors, the period effects and the
    constant but not the unit effects, which are nested in the clusters (as Stata's ``xtreg, fe
    vce(cluster)``; Cameron & Miller 2015, §III.D). Intervals and tests use t with G−1 degrees of freedom.

    Returns
    -------
    dict
        ``params`` (Series), ``cov`` (DataFrame), ``n``, ``n_units``, ``n_clusters``, ``df`` (G−1),
        ``cluster_warning``, ``cluster_severity``.
    """
    cluster = cluster or unit
    # plain arrays from here on: the pandas selection, dropna and duplicated this replaces cost
    # more than the regression itself on a few hundred rows
    cols = list(dict.fromkeys([unit, time, y, *regressors, cluster]))
    arrays = {col: frame[col].to_numpy() for col in cols}
    keep = np.ones(len(frame), dtype=bool)
    for values in arrays.values():
        keep &= ~pd.isna(values)
    if not keep.all():
        arrays = {col: values[keep] for col, values in arrays.items()}
    unit_codes = pd.factorize(arrays[unit])[0]
    time_codes = pd.factorize(arrays[time])[0]
    if len(unit_codes):
        cell = unit_codes.astype(np.int64) * (int(time_codes.max()) + 1) + time_codes
        _, inverse, counts = np.unique(cell, return_inverse=True, return_counts=True)
        repeated = counts[inverse] > 1
        if repeated.any():
            first = int(np.flatnonzero(repeated)[0])
            raise EstimationError(
                f"同じ単位・時点の行が複数あります（{unit}={arrays[unit][first]}、"
                f"{time}={arrays[time][first]}）。1単位1時点1行にしてください。",
                column=unit,
            )
    exog = np.column_stack([np.asarray(arrays[r], dtype=float) for r in regressors])
    constant = [r for j, r in enumerate(regressors) if len(np.unique(exog[:, j])) < 2]
    if constant:
        raise EstimationError(
            f"{'、'.join(constant)} がすべての行で同じ値で、効果を推定できません"
            "（介入群・比較群や介入前後がそろっているか確かめてください）。"
        )
    cl_codes = pd.factorize(arrays[cluster])[0]
    n_clusters = int(cl_codes.max()) + 1
    warning, severity = c.cluster_count_check(n_clusters, cluster)
    arr = within(
        np.column_stack([np.asarray(arrays[y], dtype=float), exog]), unit_codes, time_codes
    )
    yt, xt = arr[:, 0], arr[:, 1:]
    k = xt.shape[1]
    if np.linalg.matrix_rank(xt, tol=1e-8 * max(1.0, float(np.abs(xt).max()))) < k:
        raise EstimationError(
            "説明変数が単位・時点の固定効果や互いと完全に重なっていて推定できません（多重共線性）。"
            "介入の時期や期間の区切りを見直してください。"
        )
    xtx_inv = np.linalg.inv(xt.T @ xt)
    beta = xtx_inv @ xt.T @ yt
    resid = yt - xt @ beta
    scores = np.zeros((n_clusters, k))
    np.add.at(scores, cl_codes, xt * resid[:, None])
    n = len(yt)
    big_k = k + int(time_codes.max()) + 1  # regressors + period effects incl. the constant
    factor = n_clusters / (n_clusters - 1) * (n - 1) / max(n - big_k, 1)
    cov = factor * xtx_inv @ (scores.T @ scores) @ xtx_inv
    return {
        "params": pd.Series(beta, index=regressors),
        "cov": pd.DataFrame(cov, index=regressors, columns=regressors),
        "n": n,
        "n_units": int(unit_codes.max()) + 1,
        "n_clusters": n_clusters,
        "df": n_clusters - 1,
        "cluster_warning": warning,
        "cluster_severity": severity,
        "n_treated_clusters": None,
        "_arrays": (xt, yt, cl_codes, unit_codes, time_codes),
    }


def _group_means(values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    from scipy import sparse

    n_groups = int(codes.max()) + 1
    ind = sparse.csr_matrix(
        (np.ones(len(codes)), (codes, np.arange(len(codes)))), shape=(n_groups, len(codes))
    )
    counts = np.asarray(ind.sum(axis=1)).ravel()
    return ind @ values / counts[:, None]


def _demean_sparse(values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    from scipy import sparse

    n_groups = int(codes.max()) + 1
    ind = sparse.csr_matrix(
        (np.ones(len(codes)), (codes, np.arange(len(codes)))), shape=(n_groups, len(codes))
    )
    counts = np.asarray(ind.sum(axis=1)).ravel()
    return values - (ind @ values / counts[:, None])[codes]


def within_many(
    values: np.ndarray, unit_codes: np.ndarray, time_codes: np.ndarray, tol: float = 1e-11
) -> np.ndarray:
    """:func:`within` for many columns at once (bootstrap draws), with sparse group means."""
    out = np.asarray(values, dtype=float)
    nu, nt = int(unit_codes.max()) + 1, int(time_codes.max()) + 1
    if (
        len(unit_codes) == nu * nt
    ):  # balanced (duplicates are refused by fit_twfe): exact in one pass
        grand = out.mean(axis=0)
        unit_means = _group_means(out, unit_codes)[unit_codes]
        time_means = _group_means(out, time_codes)[time_codes]
        return out - unit_means - time_means + grand
    scale = max(float(np.abs(out).max()), 1.0)
    for _ in range(10_000):
        out = _demean_sparse(_demean_sparse(out, unit_codes), time_codes)
        if float(np.abs(_demean_sparse(out, unit_codes) - out).max()) < tol * scale:
            break
    return out


def treated_clusters(frame: pd.DataFrame, treated: pd.Series, cluster: str) -> int:
    """Number of clusters with at least one treated unit (``treated`` a boolean row mask)."""
    return int(frame.loc[np.asarray(treated, dtype=bool), cluster].nunique())


def wild_bootstrap(
    fit: dict[str, Any], a: np.ndarray, search: bool = True, draws: int | None = None
) -> dict[str, Any]:
    """Restricted wild cluster bootstrap interval for a'β of a :func:`fit_twfe` result."""
    from ebpm.methods._inference import DRAWS, wild_cluster_linear

    xt, yt, cl_codes, unit_codes, time_codes = fit["_arrays"]
    return wild_cluster_linear(
        xt,
        yt,
        np.asarray(a, dtype=float),
        cl_codes,
        lambda u: within_many(u, unit_codes, time_codes),
        search=search,
        draws=draws or DRAWS,
    )


def t_interval(estimate: float, se: float, df: int) -> tuple[tuple[float, float], float]:
    """95% CI and two-sided p-value from the t distribution with ``df`` degrees of freedom.

    Calls the functions ``scipy.stats.t.ppf``/``sf`` evaluate (``stdtrit``, ``stdtr``) directly: the
    same numbers without the distribution machinery's argument handling, which cost more than the
    rest of an event study's coefficient table.
    """
    from scipy.special import stdtr, stdtrit

    q = float(stdtrit(df, 0.975))
    p = float(2 * stdtr(df, -abs(estimate / se))) if se > 0 else float("nan")
    return (estimate - q * se, estimate + q * se), p

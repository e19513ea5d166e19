"""Two-way fixed-effects regression (linearmodels PanelOLS) with unit-clustered SEs, shared by did and event_study."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ebpm.errors import EstimationError
from ebpm.methods import _common as c


def fit_twfe(
    frame: pd.DataFrame,
    y: str,
    regressors: list[str],
    unit: str,
    time: str,
    cluster: str | None = None,
) -> dict[str, Any]:
    """Regress ``y`` on ``regressors`` with unit and period fixed effects; cluster-robust covariance.

    SEs are clustered by ``cluster`` (default ``unit``) with the G/(G−1) small-sample factor
    (linearmodels ``group_debias=True``); intervals and tests use the t distribution with G−1 degrees
    of freedom, as is usual with few clusters (Cameron & Miller 2015).

    Returns
    -------
    dict
        ``params`` (Series), ``cov`` (DataFrame), ``n``, ``n_units``, ``n_clusters``, ``df`` (G−1),
        ``cluster_warning``, ``cluster_severity``.
    """
    from linearmodels.panel import PanelOLS

    cluster = cluster or unit
    cols = list(dict.fromkeys([unit, time, y, *regressors, cluster]))
    data = frame[cols].dropna()
    if data.duplicated([unit, time]).any():
        dup = data[data.duplicated([unit, time], keep=False)].iloc[0]
        raise EstimationError(
            f"同じ単位・時点の行が複数あります（{unit}={dup[unit]}、{time}={dup[time]}）。1単位1時点1行にしてください。",
            column=unit,
        )
    indexed = data.set_index([unit, time])
    exog = indexed[regressors].astype(float)
    keep = exog.std(ddof=0) > 0
    if not keep.all():
        constant = [r for r, k in keep.items() if not k]
        raise EstimationError(
            f"{'、'.join(constant)} がすべての行で同じ値で、効果を推定できません（介入群・比較群や介入前後がそろっているか確かめてください）。"
        )
    clusters = pd.Series(
        pd.factorize(indexed[cluster] if cluster != unit else indexed.index.get_level_values(0))[0],
        index=indexed.index,
    )
    n_clusters = int(clusters.max()) + 1
    warning, severity = c.cluster_count_check(n_clusters, cluster)
    model = PanelOLS(
        indexed[y].astype(float), exog, entity_effects=True, time_effects=True, drop_absorbed=False
    )
    try:
        fit = model.fit(cov_type="clustered", clusters=clusters.to_frame("c"), group_debias=True)
    except Exception as err:  # rank deficiency or a regressor absorbed by the fixed effects
        raise EstimationError(
            "説明変数が単位・時点の固定効果と完全に重なっていて推定できません（多重共線性）。"
            f"介入の時期や期間の区切りを見直してください（{err}）。"
        ) from err
    params = fit.params.astype(float)
    if not np.isfinite(params).all():
        raise EstimationError("推定値が求まりませんでした（多重共線性の可能性）。")
    return {
        "params": params,
        "cov": fit.cov.astype(float),
        "n": int(fit.nobs),
        "n_units": int(indexed.index.get_level_values(0).nunique()),
        "n_clusters": n_clusters,
        "df": n_clusters - 1,
        "cluster_warning": warning,
        "cluster_severity": severity,
    }


def t_interval(estimate: float, se: float, df: int) -> tuple[tuple[float, float], float]:
    """95% CI and two-sided p-value from the t distribution with ``df`` degrees of freedom."""
    from scipy import stats

    q = float(stats.t.ppf(0.975, df))
    p = float(2 * stats.t.sf(abs(estimate / se), df)) if se > 0 else float("nan")
    return (estimate - q * se, estimate + q * se), p

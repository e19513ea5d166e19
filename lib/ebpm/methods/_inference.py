"""Few-cluster inference: restricted wild cluster bootstrap (WCR) confidence intervals by test inversion.

When clusters are few (fewer than :data:`FEW_CLUSTERS`) or few of them are treated (fewer than
:data:`FEW_TREATED`), cluster-robust t intervals undercover (MacKinnon & Webb 2017, J. Applied
Econometrics 32(2)). The headline interval then comes from the restricted wild cluster bootstrap-t
(Cameron, Gelbach & Miller 2008; Roodman, MacKinnon, Nielsen & Webb 2019, Stata Journal 19(1)):
for each candidate value θ0 the null a'β = θ0 is imposed, the restricted residuals are multiplied by
one weight per cluster (Rademacher, or Webb's six-point weights when G ≤ :data:`WEBB_MAX_G`), and the
bootstrap t statistics are compared with the original one. The 95% interval is the set of θ0 not
rejected at 5%. Because the restricted residuals are linear in θ0, every bootstrap quantity is
``a − θ0·b`` and one set of draws serves the whole interval search (as boottest does).

Draws use a fixed seed (:data:`SEED`), so results are reproducible; with 2^G ≤ B Rademacher weights
are enumerated exactly.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

FEW_CLUSTERS = 50  # below this many clusters the headline interval comes from the bootstrap
FEW_TREATED = 10  # … or below this many treated clusters
WEBB_MAX_G = 12  # Webb six-point weights up to this many clusters (Rademacher has only 2^G draws)
DRAWS = 1999  # bootstrap draws (B + 1 = 2000 keeps α(B + 1) an integer for α = 0.05)
SEED = 20260401  # fixed seed: the same data give the same interval
ALPHA = 0.05
MIN_TREATED_VALID = 3  # with fewer treated clusters no method reaches nominal coverage (WCR is
# very conservative: 0.98–1.00 in our simulation; MacKinnon & Webb 2018, Econometrics Journal 21(2))
SEARCH_SE = 60.0  # interval ends are searched up to this many analytic SEs from the estimate

_WEBB = np.array([-math.sqrt(1.5), -1.0, -math.sqrt(0.5), math.sqrt(0.5), 1.0, math.sqrt(1.5)])


def needs_bootstrap(n_clusters: int, n_treated_clusters: int | None) -> bool:
    """True when the cluster count or the treated-cluster count is below the documented thresholds."""
    return n_clusters < FEW_CLUSTERS or (
        n_treated_clusters is not None and n_treated_clusters < FEW_TREATED
    )


def cluster_weights(
    n_clusters: int, draws: int = DRAWS, seed: int = SEED, kind: str | None = None
) -> tuple[np.ndarray, str]:
    """G × B matrix of bootstrap weights and their Japanese name.

    ``kind`` ``"webb"`` or ``"rademacher"``; default Webb six-point for G ≤ :data:`WEBB_MAX_G`, else
    Rademacher. Rademacher weights are enumerated exactly (all 2^G sign patterns, as boottest and
    wildboottest do) when 2^G ≤ ``draws``.
    """
    rng = np.random.default_rng(seed)
    kind = kind or ("webb" if n_clusters <= WEBB_MAX_G else "rademacher")
    if kind == "webb":
        return rng.choice(_WEBB, size=(n_clusters, draws)), "Webb の6点分布"
    if 2**n_clusters <= draws:
        grid = np.array(list(itertools.product([1.0, -1.0], repeat=n_clusters))).T
        return grid, "Rademacher 分布（全列挙）"
    return rng.choice([-1.0, 1.0], size=(n_clusters, draws)), "Rademacher 分布"


def _invert(
    t_orig: Callable[[float], float],
    t_boot: Callable[[float], np.ndarray],
    estimate: float,
    scale: float,
    alpha: float = ALPHA,
) -> tuple[tuple[float, float], float, bool]:
    """Invert the bootstrap test: the interval of θ0 whose bootstrap p-value exceeds α.

    Returns ((low, high), p-value of θ0 = 0, bounded); ``bounded`` is False when an end was not found
    within :data:`SEARCH_SE` scales of the estimate (the end is then reported at that distance).
    """

    def pval(theta0: float) -> float:
        t = abs(t_orig(theta0))
        tb = np.abs(t_boot(theta0))
        return float(
            np.mean(tb > t + 1e-9 * max(t, 1.0))
        )  # ties (the original draw) excluded, as wildboottest

    bounded = True
    ends = []
    for direction in (-1.0, 1.0):
        inside = estimate
        outside = None
        step = scale
        while step <= SEARCH_SE * scale:
            cand = estimate + direction * step
            if pval(cand) <= alpha:
                outside = cand
                break
            inside = cand
            step *= 2
        if outside is None:
            bounded = False
            ends.append(estimate + direction * SEARCH_SE * scale)
            continue
        for _ in range(60):
            mid = (inside + outside) / 2
            if pval(mid) > alpha:
                inside = mid
            else:
                outside = mid
            if abs(outside - inside) <= 1e-7 * scale:
                break
        ends.append((inside + outside) / 2)
    return (min(ends), max(ends)), pval(0.0), bounded


def wild_cluster_linear(
    xt: np.ndarray,
    yt: np.ndarray,
    a: np.ndarray,
    cl_codes: np.ndarray,
    project: Callable[[np.ndarray], np.ndarray] | None = None,
    *,
    draws: int = DRAWS,
    seed: int = SEED,
    kind: str | None = None,
    search: bool = True,
) -> dict[str, Any]:
    """WCR bootstrap-t interval and p-value for a'β in OLS of ``yt`` on ``xt`` (fixed effects swept out).

    Parameters
    ----------
    xt, yt : arrays
        Regressors (N × k) and outcome (N) after removing fixed effects (or with a constant column).
    a : array (k)
        The linear combination of coefficients tested.
    cl_codes : array (N)
        Cluster codes 0 … G−1. Fixed effects must be nested in clusters or removed by ``project``.
    project : callable, optional
        The fixed-effect residual maker applied to an N × B matrix (``None``: no fixed effects).

    Returns
    -------
    dict
        ``ci``, ``pvalue``, ``bounded``, ``weights_ja``, ``draws``, ``seed`` and ``pvalue_at``
        (the bootstrap p-value of any θ0). ``search=False`` skips the interval search.
    """
    n, k = xt.shape
    g = int(cl_codes.max()) + 1
    xtx_inv = np.linalg.inv(xt.T @ xt)
    beta = xtx_inv @ xt.T @ yt
    resid = yt - xt @ beta
    h = xt @ (xtx_inv @ a)  # a'β̂ = h'y
    estimate = float(a @ beta)

    def csum(m):
        out = np.zeros((g,) + m.shape[1:])
        np.add.at(out, cl_codes, m)
        return out

    s_orig = csum(h * resid)
    se_orig = float(np.sqrt(np.sum(s_orig**2)))
    # restricted residuals e_r(θ0) = resid + xt·xtx_inv·a·(a'β̂ − θ0)/(a'xtx_inv a) = ea − θ0·eb
    q = float(a @ xtx_inv @ a)
    shift = xt @ (xtx_inv @ a) / q
    ea = resid + shift * estimate
    eb = shift
    weights, weights_ja = cluster_weights(g, draws, seed, kind)
    b = weights.shape[1]
    pieces = {}
    for name, e in (("a", ea), ("b", eb)):
        # numerator a'(β̂* − β_r) = h'U; U = e ∘ v is never projected here because h is already
        # orthogonal to the fixed effects.
        num = csum(h * e).T @ weights  # (B,)
        # residuals of the bootstrap fit: P(U) − xt (β̂* − β_r); cluster scores of h ∘ residual
        scores = np.zeros((g, b))
        chunk = max(1, 4_000_000 // max(n, 1))
        for lo in range(0, b, chunk):
            u = e[:, None] * weights[cl_codes, lo : lo + chunk]
            pu = project(u) if project is not None else u
            coef = xtx_inv @ (xt.T @ pu)
            scores[:, lo : lo + chunk] = csum(h[:, None] * (pu - xt @ coef))
        pieces[name] = (num, scores)
    (na, sa), (nb, sb) = pieces["a"], pieces["b"]

    def t_boot(theta0):
        var = np.sum((sa - theta0 * sb) ** 2, axis=0)
        return (na - theta0 * nb) / np.sqrt(np.maximum(var, 1e-300))

    def t_orig(theta0):
        return (estimate - theta0) / se_orig

    def pvalue_at(theta0: float) -> float:
        t = abs(t_orig(theta0))
        return float(np.mean(np.abs(t_boot(theta0)) > t + 1e-9 * max(t, 1.0)))

    if not search:  # simulations: only the p-value at given values
        return {"estimate": estimate, "pvalue_at": pvalue_at}
    scale = se_orig if se_orig > 0 else max(abs(estimate), 1.0)
    ci, p, bounded = _invert(t_orig, t_boot, estimate, scale)
    return {
        "estimate": estimate,
        "pvalue_at": pvalue_at,
        "ci": ci,
        "pvalue": p,
        "bounded": bounded,
        "weights_ja": weights_ja,
        "draws": int(b),
        "seed": seed,
    }


def wild_cluster_influence(
    estimate: float,
    psi: np.ndarray,
    boot_a: tuple[np.ndarray, np.ndarray],
    boot_b: tuple[np.ndarray, np.ndarray],
    cl_codes: np.ndarray,
    search: bool = True,
) -> dict[str, Any]:
    """Restricted wild cluster bootstrap-t for an estimator that is linear in the outcomes.

    ``psi`` (n) is the influence function of the estimate (unit level); ``boot_a`` and ``boot_b`` are
    the (estimate, influence) of the estimator applied to ``ea ∘ v`` and ``eb ∘ v`` for every draw,
    where ``ea − θ0·eb`` are the residuals of the model that imposes θ = θ0 (B draws, n × B
    influence). Cluster-level scores sum the influence over units in a cluster (the multiplier
    bootstrap of Callaway & Sant'Anna 2021, §4, at the cluster level, turned into a bootstrap-t on the
    restricted model).
    """
    g = int(cl_codes.max()) + 1

    def csum(m):
        out = np.zeros((g,) + m.shape[1:])
        np.add.at(out, cl_codes, m)
        return out

    se_orig = float(np.sqrt(np.sum(csum(psi) ** 2)))
    na, pa = boot_a[0], csum(boot_a[1])
    nb, pb = boot_b[0], csum(boot_b[1])

    def t_boot(theta0):
        var = np.sum((pa - theta0 * pb) ** 2, axis=0)
        return (na - theta0 * nb) / np.sqrt(np.maximum(var, 1e-300))

    def t_orig(theta0):
        return (estimate - theta0) / se_orig

    def pvalue_at(theta0: float) -> float:
        t = abs(t_orig(theta0))
        return float(np.mean(np.abs(t_boot(theta0)) > t + 1e-9 * max(t, 1.0)))

    if not search:
        return {"pvalue_at": pvalue_at}
    scale = se_orig if se_orig > 0 else max(abs(estimate), 1.0)
    ci, p, bounded = _invert(t_orig, t_boot, estimate, scale)
    return {"ci": ci, "pvalue": p, "bounded": bounded, "pvalue_at": pvalue_at}


def describe(
    boot: dict[str, Any] | None,
    n_clusters: int,
    n_treated_clusters: int | None,
    cluster: str,
    analytic: tuple[tuple[float, float], float],
    analytic_ja: str,
) -> dict[str, Any]:
    """The ``diagnostics["inference"]`` record: method, why, and the analytic interval kept for reference."""
    (lo, hi), p = analytic
    out: dict[str, Any] = {
        "cluster": cluster,
        "n_clusters": int(n_clusters),
        "n_treated_clusters": None if n_treated_clusters is None else int(n_treated_clusters),
        "analytic_ci": [float(lo), float(hi)],
        "analytic_pvalue": float(p),
        "analytic_method_ja": analytic_ja,
        "thresholds": {
            "few_clusters": FEW_CLUSTERS,
            "few_treated": FEW_TREATED,
            "min_treated_valid": MIN_TREATED_VALID,
        },
    }
    few = f"クラスター（{cluster}）が{n_clusters}個"
    if n_treated_clusters is not None:
        few += f"、うち介入を受けたものが{n_treated_clusters}個"
    if boot is None:
        out.update(
            {
                "method": "analytic",
                "method_ja": analytic_ja,
                "reason_ja": f"{few}あり、クラスター頑健標準誤差による区間を使える"
                f"（{FEW_CLUSTERS}個以上、介入クラスター{FEW_TREATED}個以上）。",
                "valid": True,
            }
        )
        return out
    single = n_treated_clusters is not None and n_treated_clusters < MIN_TREATED_VALID
    method_ja = (
        f"制約付きワイルド・クラスター・ブートストラップ（{boot['weights_ja']}、{boot['draws']:,}回、"
        f"乱数の種 {boot['seed']}）"
    )
    out.update(
        {
            "method": "wild_cluster_bootstrap",
            "method_ja": method_ja,
            "weights_ja": boot["weights_ja"],
            "draws": boot["draws"],
            "seed": boot["seed"],
            "bounded": bool(boot["bounded"]),
            "valid": not single,
            "reason_ja": f"{few}と少なく（基準: {FEW_CLUSTERS}個未満か介入クラスター{FEW_TREATED}個未満）、"
            "通常のクラスター頑健標準誤差の区間は狭すぎるため、95%信頼区間とp値は"
            f"{method_ja}で求めた。",
        }
    )
    if single:
        out["reason_ja"] = (
            f"{few}で、介入を受けたクラスターが{MIN_TREATED_VALID - 1}つ以下のときは、どの方法でも95%信頼区間の"
            f"正しさを保証できない。示した区間は{method_ja}による保守的な（広めの）目安である。"
        )
    elif not boot["bounded"]:
        out["reason_ja"] += "区間の端が定まらず、示した区間は探索した範囲の端である。"
    return out

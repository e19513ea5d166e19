"""Pre-trend sensitivity (Rambachan–Roth "honest DiD"): smoothness-restricted FLCIs and the breakdown value.

Rambachan, A. and Roth, J. (2023). A more credible approach to parallel trends. Review of Economic
Studies 90(5), 2555–2591. Under the smoothness restriction Δ^SD(M) the differential trend δ may bend by
at most M per period (|δ_{t+1} − 2δ_t + δ_{t−1}| ≤ M, δ = 0 in the reference period); M = 0 allows
exactly a linear extrapolation of the pre-trend. For a target θ = l'τ_post the fixed-length confidence
interval (FLCI; Armstrong & Kolesár 2018, R&R §4.1) is the affine estimator v'β̂ with the shortest
half-length σ_v · cv_α(b_v / σ_v), where b_v is its worst-case bias over Δ^SD(M) and cv_α(t) the
1 − α quantile of |N(t, 1)|. The *breakdown value* is the largest M at which the interval still
excludes zero on the side of the estimate — how far the trend may bend before the effect's sign is
no longer established.

Checked against the R package HonestDiD's README (Medicaid example) in
tests/test_methods_honest.py.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["flci_sd", "sensitivity_sd", "breakdown_sd"]


def _w_map(n_pre: int, n_post: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Linear maps from the coefficient weights to second-difference weights.

    Periods run −n_pre−1 … n_post−1 with the reference (δ = 0) at −1. For a functional
    f(δ) = Σ c_t δ_t that is zero on linear trends through the reference, f(δ) = Σ_k w_k Δ²δ_k; the
    worst case over Δ^SD(M) is then M·Σ|w_k|. Returns (A_pre, A_post, trend) with
    w = A_pre @ v_pre + A_post @ l and the trend row: f is bounded iff trend_pre·v_pre + trend_post·l = 0.
    """
    n = n_pre + 1 + n_post
    ref = n_pre
    d2 = np.zeros((n - 2, n))
    for k in range(n - 2):
        d2[k, k : k + 3] = (1.0, -2.0, 1.0)
    e_ref = np.zeros((1, n))
    e_ref[0, ref] = 1.0
    basis = np.vstack([d2, e_ref])  # (n−1) × n, full row rank
    # c' = w' d2 + λ e_ref'  ⇒  [w; λ] = pinv(basis') c
    solve = np.linalg.pinv(basis.T)  # (n−1) × n
    idx_pre = np.arange(n_pre)
    idx_post = np.arange(ref + 1, n)
    a_pre = solve[: n - 2][:, idx_pre]
    a_post = solve[: n - 2][:, idx_post]
    t = np.arange(n) - ref  # event time relative to the reference, 0 at the reference
    return a_pre, a_post, np.concatenate([t[idx_pre], t[idx_post]])


def _cv(t: float, alpha: float) -> float:
    """1 − α quantile of |N(t, 1)| (Newton on Φ(c − t) − Φ(−c − t) = 1 − α)."""
    t = abs(t)
    target = 1.0 - alpha
    c = max(t + 1.6448536269514722, 1.959963984540054)
    for _ in range(50):
        f = 0.5 * (math.erfc(-(c - t) / math.sqrt(2)) - math.erfc((c + t) / math.sqrt(2))) - target
        d = (math.exp(-0.5 * (c - t) ** 2) + math.exp(-0.5 * (c + t) ** 2)) / math.sqrt(2 * math.pi)
        step = f / d
        c -= step
        if abs(step) < 1e-13 * c:
            break
    return c


def _dcv(t: float, cv: float) -> float:
    """Derivative of :func:`_cv` in t (implicit function theorem)."""
    a, b = math.exp(-0.5 * (cv - t) ** 2), math.exp(-0.5 * (cv + t) ** 2)
    return (a - b) / (a + b)


def flci_sd(
    betahat: np.ndarray,
    sigma: np.ndarray,
    n_pre: int,
    n_post: int,
    m: float,
    l_vec: np.ndarray | None = None,
    alpha: float = 0.05,
) -> dict[str, float]:
    """Fixed-length 1 − α confidence interval for l'τ_post under Δ^SD(M).

    Parameters
    ----------
    betahat : array (n_pre + n_post)
        Event-study coefficients, pre-periods first (oldest first, reference −1 left out), then post.
    sigma : array
        Their covariance matrix.
    n_pre, n_post : int
        Numbers of pre- and post-period coefficients.
    m : float
        Smoothness bound M ≥ 0 (outcome units per period²).
    l_vec : array, optional
        Weights of the target on the post coefficients (default: the first post period, as HonestDiD).
    alpha : float
        1 − confidence level.

    Returns
    -------
    dict
        ``lb``, ``ub``, ``estimate`` (v'β̂), ``half_length``, ``max_bias``, ``sd``.
    """
    from scipy.optimize import minimize

    b = np.asarray(betahat, dtype=float)
    s = np.asarray(sigma, dtype=float)
    lv = np.zeros(n_post) if l_vec is None else np.asarray(l_vec, dtype=float)
    if l_vec is None:
        lv[0] = 1.0
    a_pre, a_post, trend = _w_map(n_pre, n_post)
    t_pre, t_post = trend[:n_pre], trend[n_pre:]
    # v_pre = v0 + N z satisfies the no-linear-trend constraint t_pre·v_pre = −t_post·l
    rhs = -float(t_post @ lv)
    v0 = t_pre * rhs / float(t_pre @ t_pre)
    _, _, vt = np.linalg.svd(t_pre[None, :])
    null = vt[1:].T  # n_pre × (n_pre − 1)
    s_pp, s_pq, s_qq = s[:n_pre, :n_pre], s[:n_pre, n_pre:], s[n_pre:, n_pre:]

    def v_pre_of(z):
        return v0 + null @ z

    def var_of(z):
        vp = v_pre_of(z)
        return float(vp @ s_pp @ vp + 2 * vp @ s_pq @ lv + lv @ s_qq @ lv)

    def l1_of(z):
        return float(np.abs(a_pre @ v_pre_of(z) + a_post @ lv).sum())

    # minimum-variance z (closed form): the M = 0 solution and the starting point
    h_mat = null.T @ s_pp @ null
    g = null.T @ (s_pp @ v0 + s_pq @ lv)
    z = -np.linalg.solve(h_mat, g) if null.shape[1] else np.zeros(0)
    if m > 0 and null.shape[1]:
        # half-length σ·cv(M·Σ|w|/σ) is convex in z (perspective of a convex, increasing cv);
        # split |w| ≤ u to make it smooth with linear constraints and solve once with SLSQP.
        k = null.shape[1]
        c0 = a_pre @ v0 + a_post @ lv
        cz = a_pre @ null

        def half(x):
            sd = math.sqrt(max(var_of(x[:k]), 1e-300))
            return sd * _cv(m * float(x[k:].sum()) / sd, alpha)

        def grad(x):
            vp = v_pre_of(x[:k])
            sd = math.sqrt(max(var_of(x[:k]), 1e-300))
            t = m * float(x[k:].sum()) / sd
            cv = _cv(t, alpha)
            dcv = _dcv(t, cv)
            dsd = null.T @ (s_pp @ vp + s_pq @ lv) / sd
            return np.concatenate([dsd * (cv - t * dcv), np.full(len(x) - k, m * dcv)])

        eye = np.eye(len(c0))
        jac_hi = np.hstack([-cz, eye])
        jac_lo = np.hstack([cz, eye])
        x0 = np.concatenate([z, np.abs(c0 + cz @ z) * (1 + 1e-9)])
        cons = [
            {"type": "ineq", "fun": lambda x: x[k:] - (c0 + cz @ x[:k]), "jac": lambda x: jac_hi},
            {"type": "ineq", "fun": lambda x: x[k:] + (c0 + cz @ x[:k]), "jac": lambda x: jac_lo},
        ]
        scale = half(x0)
        res = minimize(
            lambda x: half(x) / scale,
            x0,
            jac=lambda x: grad(x) / scale,
            method="SLSQP",
            constraints=cons,
            options={"maxiter": 1000, "ftol": 1e-13},
        )
        if half(res.x) < half(x0):
            z = res.x[:k]
    vp = v_pre_of(z)
    sd = math.sqrt(var_of(z))
    bias = m * l1_of(z)
    half_length = sd * _cv(bias / sd, alpha)
    est = float(vp @ b[:n_pre] + lv @ b[n_pre:])
    return {
        "lb": est - half_length,
        "ub": est + half_length,
        "estimate": est,
        "half_length": half_length,
        "max_bias": bias,
        "sd": sd,
    }


def sensitivity_sd(
    betahat, sigma, n_pre: int, n_post: int, m_values, l_vec=None, alpha: float = 0.05
) -> list[dict[str, float]]:
    """:func:`flci_sd` for each M in ``m_values`` (rows with ``m``, ``lb``, ``ub``)."""
    return [
        {"m": float(m), **flci_sd(betahat, sigma, n_pre, n_post, float(m), l_vec, alpha)}
        for m in m_values
    ]


def breakdown_sd(
    betahat, sigma, n_pre: int, n_post: int, l_vec=None, alpha: float = 0.05
) -> dict[str, Any]:
    """Largest M at which the FLCI still excludes zero on the estimate's side (bisection to 0.1%).

    Returns
    -------
    dict
        ``breakdown_m`` (None when even M = 0 — a linear extrapolation of the pre-trend — leaves the
        sign open), ``sign`` (+1/−1), ``at_zero`` (the M = 0 interval), ``pre_curvature`` (largest
        |second difference| of the pre-period coefficients with the reference 0: the bending already
        seen before adoption, the natural yardstick for M).
    """
    b = np.asarray(betahat, dtype=float)
    base = flci_sd(b, sigma, n_pre, n_post, 0.0, l_vec, alpha)
    sign = 1 if base["estimate"] >= 0 else -1
    pre_path = np.concatenate([b[:n_pre], [0.0]])
    curv = float(np.abs(np.diff(pre_path, 2)).max()) if len(pre_path) >= 3 else None

    def holds(m):
        r = flci_sd(b, sigma, n_pre, n_post, m, l_vec, alpha)
        return r["lb"] > 0 if sign > 0 else r["ub"] < 0

    out: dict[str, Any] = {"sign": sign, "at_zero": base, "pre_curvature": curv}
    if not holds(0.0):
        out["breakdown_m"] = None
        return out
    scale = max(float(np.sqrt(np.diag(np.asarray(sigma, dtype=float))).max()), 1e-12)
    hi = scale
    while holds(hi) and hi < 1e6 * scale:
        hi *= 2
    lo = hi / 2 if hi > scale else 0.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if holds(mid):
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-3 * max(hi, 1e-12):
            break
    out["breakdown_m"] = lo
    return out

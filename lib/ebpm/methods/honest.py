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


class _Flci:
    """The FLCI problem of :func:`flci_sd` for one (β̂, Σ, l): the M-independent pieces built once.

    :meth:`solve` takes an optional warm start (a solution at a nearby M): the constraints do not
    depend on M, so any earlier solution is feasible, and SLSQP from a nearby optimum needs a few
    iterations instead of a dozen. The problem is convex, so the optimum is the same.
    """

    def __init__(self, betahat, sigma, n_pre: int, n_post: int, l_vec=None, alpha: float = 0.05):
        self.b = np.asarray(betahat, dtype=float)
        s = np.asarray(sigma, dtype=float)
        lv = np.zeros(n_post) if l_vec is None else np.asarray(l_vec, dtype=float)
        if l_vec is None:
            lv[0] = 1.0
        self.lv, self.alpha, self.n_pre = lv, alpha, n_pre
        a_pre, a_post, trend = _w_map(n_pre, n_post)
        t_pre, t_post = trend[:n_pre], trend[n_pre:]
        # v_pre = v0 + N z satisfies the no-linear-trend constraint t_pre·v_pre = −t_post·l
        rhs = -float(t_post @ lv)
        self.v0 = v0 = t_pre * rhs / float(t_pre @ t_pre)
        _, _, vt = np.linalg.svd(t_pre[None, :])
        self.null = null = vt[1:].T  # n_pre × (n_pre − 1)
        s_pp, s_pq, s_qq = s[:n_pre, :n_pre], s[:n_pre, n_pre:], s[n_pre:, n_pre:]
        # var(z) = z'Hz + 2 g'z + c0 with v_pre = v0 + N z
        self.h_mat = null.T @ s_pp @ null
        self.g = null.T @ (s_pp @ v0 + s_pq @ lv)
        self.var0 = float(v0 @ s_pp @ v0 + 2 * v0 @ s_pq @ lv + lv @ s_qq @ lv)
        self.s_pp, self.s_pq, self.s_qq = s_pp, s_pq, s_qq
        self.c0 = a_pre @ v0 + a_post @ lv
        self.cz = a_pre @ null
        self.k = null.shape[1]
        # minimum-variance z (closed form): the M = 0 solution and the starting point
        self.z_min = -np.linalg.solve(self.h_mat, self.g) if self.k else np.zeros(0)
        eye = np.eye(len(self.c0))
        self.jac_hi = np.hstack([-self.cz, eye])
        self.jac_lo = np.hstack([self.cz, eye])
        self.jac_both = np.vstack([self.jac_hi, self.jac_lo])

    def v_pre_of(self, z):
        return self.v0 + self.null @ z

    def var_of(self, z):
        vp = self.v_pre_of(z)
        return float(
            vp @ self.s_pp @ vp + 2 * vp @ self.s_pq @ self.lv + self.lv @ self.s_qq @ self.lv
        )

    def l1_of(self, z):
        return float(np.abs(self.c0 + self.cz @ z).sum())

    def start_of(self, z):
        """A feasible SLSQP point (z, u) with u just above |w(z)|."""
        return np.concatenate([z, np.abs(self.c0 + self.cz @ z) * (1 + 1e-9)])

    def solve(
        self, m: float, warm: np.ndarray | None = None
    ) -> tuple[dict[str, float], np.ndarray]:
        """The FLCI at M = ``m`` and the SLSQP point (z, u) it came from (for warm starts)."""
        from scipy.optimize import minimize

        alpha, k = self.alpha, self.k
        z = self.z_min
        x_best = self.start_of(z)
        if m > 0 and k:
            # half-length σ·cv(M·Σ|w|/σ) is convex in z (perspective of a convex, increasing cv);
            # split |w| ≤ u to make it smooth with linear constraints and solve once with SLSQP.
            c0, cz = self.c0, self.cz

            h_mat, g, var0 = self.h_mat, self.g, self.var0

            def var_z(z):  # var_of as the quadratic z'Hz + 2g'z + var0 (fewer products per call)
                return float(z @ (h_mat @ z) + 2 * (g @ z) + var0)

            last = [math.nan, math.nan]  # SLSQP asks for the value and the gradient at each x

            def cv_of(t):
                if t != last[0]:
                    last[:] = [t, _cv(t, alpha)]
                return last[1]

            def half(x):
                sd = math.sqrt(max(var_z(x[:k]), 1e-300))
                return sd * cv_of(m * float(x[k:].sum()) / sd)

            def grad(x):
                z = x[:k]
                sd = math.sqrt(max(var_z(z), 1e-300))
                t = m * float(x[k:].sum()) / sd
                cv = cv_of(t)
                dcv = _dcv(t, cv)
                dsd = (h_mat @ z + g) / sd
                return np.concatenate([dsd * (cv - t * dcv), np.full(len(x) - k, m * dcv)])

            # u ≥ w and u ≥ −w as one constraint block (the same rows, in the same order, as two
            # blocks: one callback per evaluation instead of two)
            jac_both = self.jac_both

            def both(x):
                w = c0 + cz @ x[:k]
                u = x[k:]
                return np.concatenate([u - w, u + w])

            cons = [{"type": "ineq", "fun": both, "jac": lambda x: jac_both}]
            x0 = x_best
            if warm is not None:
                # the earlier optimum, with u tightened to |w| (feasible: constraints have no M)
                xw = self.start_of(warm[:k])
                if half(xw) < half(x0):
                    x0 = xw
            scale = half(x0)
            res = minimize(
                lambda x: half(x) / scale,
                x0,
                jac=lambda x: grad(x) / scale,
                method="SLSQP",
                constraints=cons,
                options={"maxiter": 1000, "ftol": 1e-13},
            )
            if half(res.x) < half(self.start_of(self.z_min)):
                z = res.x[:k]
                x_best = res.x
        vp = self.v_pre_of(z)
        sd = math.sqrt(self.var_of(z))
        bias = m * self.l1_of(z)
        half_length = sd * _cv(bias / sd, alpha)
        n_pre = self.n_pre
        est = float(vp @ self.b[:n_pre] + self.lv @ self.b[n_pre:])
        out = {
            "lb": est - half_length,
            "ub": est + half_length,
            "estimate": est,
            "half_length": half_length,
            "max_bias": bias,
            "sd": sd,
        }
        return out, x_best


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
    return _Flci(betahat, sigma, n_pre, n_post, l_vec, alpha).solve(m)[0]


def sensitivity_sd(
    betahat, sigma, n_pre: int, n_post: int, m_values, l_vec=None, alpha: float = 0.05
) -> list[dict[str, float]]:
    """:func:`flci_sd` for each M in ``m_values`` (rows with ``m``, ``lb``, ``ub``).

    The problem is set up once and each M starts from the solution at the previous one.
    """
    problem = _Flci(betahat, sigma, n_pre, n_post, l_vec, alpha)
    rows, warm = [], None
    for m in m_values:
        r, warm = problem.solve(float(m), warm)
        rows.append({"m": float(m), **r})
    return rows


def breakdown_sd(
    betahat, sigma, n_pre: int, n_post: int, l_vec=None, alpha: float = 0.05
) -> dict[str, Any]:
    """Largest M at which the FLCI still excludes zero on the estimate's side (to 0.1%).

    The bound is bracketed by doubling M from the largest coefficient SE, and the crossing of zero
    by the interval's near bound located with Brent's method (:func:`scipy.optimize.brentq`, far
    fewer FLCI solves than bisection); the value returned is the one a bisection of the bracket to
    0.1% would return (the bisection is replayed against the located crossing, solving the FLCI
    again only for a midpoint too close to call).

    Returns
    -------
    dict
        ``breakdown_m`` (None when even M = 0 — a linear extrapolation of the pre-trend — leaves the
        sign open), ``sign`` (+1/−1), ``at_zero`` (the M = 0 interval), ``pre_curvature`` (largest
        |second difference| of the pre-period coefficients with the reference 0: the bending already
        seen before adoption, the natural yardstick for M).
    """
    from scipy.optimize import brentq

    b = np.asarray(betahat, dtype=float)
    problem = _Flci(b, sigma, n_pre, n_post, l_vec, alpha)
    base, x_zero = problem.solve(0.0)
    sign = 1 if base["estimate"] >= 0 else -1
    pre_path = np.concatenate([b[:n_pre], [0.0]])
    curv = float(np.abs(np.diff(pre_path, 2)).max()) if len(pre_path) >= 3 else None
    solved: dict[float, tuple[float, np.ndarray]] = {0.0: (_margin(base, sign), x_zero)}

    def margin(m: float) -> float:
        """Signed distance of the near bound from zero (> 0: the sign still holds at M = m)."""
        if m not in solved:
            near = min(solved, key=lambda s: abs(s - m))  # warm start from the closest M solved
            r, x = problem.solve(m, solved[near][1])
            solved[m] = (_margin(r, sign), x)
        return solved[m][0]

    def holds(m: float) -> bool:
        return margin(m) > 0

    out: dict[str, Any] = {"sign": sign, "at_zero": base, "pre_curvature": curv}
    if not holds(0.0):
        out["breakdown_m"] = None
        return out
    scale = max(float(np.sqrt(np.diag(np.asarray(sigma, dtype=float))).max()), 1e-12)
    hi = scale
    while holds(hi) and hi < 1e6 * scale:
        hi *= 2
    lo = hi / 2 if hi > scale else 0.0
    if holds(hi):  # no crossing below the cap: the bisection would end at the cap
        root, slack = math.inf, 0.0
    elif not (math.isfinite(margin(lo)) and math.isfinite(margin(hi))):
        root, slack = math.nan, math.inf  # no root finding on a non-finite bound: plain bisection
    else:
        rtol = 1e-6
        try:
            root = brentq(margin, lo, hi, xtol=1e-12 * hi, rtol=rtol)
            slack = 4 * (1e-12 * hi + rtol * root)
        except (ValueError, RuntimeError):  # e.g. a non-finite bound inside: plain bisection
            root, slack = math.nan, math.inf
    # replay the bisection of [lo, hi] to 0.1%: a midpoint well below the crossing holds, one well
    # above fails; only a midpoint within the root's tolerance (or any, without a root) is solved
    for _ in range(60):
        mid = (lo + hi) / 2
        if mid < root - slack:
            ok = True
        elif mid > root + slack:
            ok = False
        else:
            ok = holds(mid)
        if ok:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-3 * max(hi, 1e-12):
            break
    out["breakdown_m"] = lo
    return out


def _margin(r: dict[str, float], sign: int) -> float:
    return r["lb"] if sign > 0 else -r["ub"]

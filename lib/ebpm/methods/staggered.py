"""Staggered adoption: Goodman-Bacon decomposition of TWFE and Callaway–Sant'Anna group-time ATTs.

Both work on a balanced panel with an absorbing treatment (once treated, always treated).

References
----------
Goodman-Bacon, A. (2021). Difference-in-differences with variation in treatment timing.
    Journal of Econometrics 225(2), 254–277 (weights: eq. 10a–10g; Figure 2 example).
Callaway, B. and Sant'Anna, P. H. C. (2021). Difference-in-differences with multiple time periods.
    Journal of Econometrics 225(2), 200–230 (unconditional ATT(g,t), eq. 2.6–2.7; aggregation §3;
    influence functions and the estimated-weight correction as in the authors' R package ``did``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ebpm.errors import EstimationError

__all__ = [
    "Panel",
    "make_panel",
    "bacon_decomposition",
    "twfe_coefficient",
    "callaway_santanna",
    "cs_overall_batch",
    "cs_wild_bootstrap",
]

NEVER = np.inf  # first-treated value of never-treated units


@dataclass(frozen=True)
class Panel:
    """A balanced panel as matrices: units × periods."""

    units: np.ndarray  # unit labels (N)
    times: np.ndarray  # sorted periods (T)
    y: np.ndarray  # N × T outcome
    d: np.ndarray  # N × T treatment 0/1
    first: np.ndarray  # N first treated period (inf = never)


def make_panel(
    data: pd.DataFrame, y: str, unit: str, time: str, d: str, first_treated: str | None = None
) -> Panel:
    """Reshape long data into a balanced :class:`Panel`; raise in Japanese if it is not balanced/absorbing.

    ``first_treated`` optionally names a column with each unit's first treated period (missing, 0 or
    inf = never treated); by default it is read off the first period with ``d == 1``.
    """
    frame = data[[unit, time, y, d]].dropna()
    if frame.duplicated([unit, time]).any():
        dup = frame[frame.duplicated([unit, time], keep=False)].iloc[0]
        raise EstimationError(
            f"同じ単位・時点の行が複数あります（{unit}={dup[unit]}、{time}={dup[time]}）。1単位1時点1行にしてください。",
            column=unit,
        )
    wide = frame.pivot(index=unit, columns=time, values=[y, d])  # one reshape for both
    wide_y = wide[y].sort_index(axis=1)
    wide_d = wide[d].sort_index(axis=1)
    if wide_y.isna().any().any():
        incomplete = int(wide_y.isna().any(axis=1).sum())
        raise EstimationError(
            f"パネルが揃っていません（{incomplete}単位で欠けている時点があります）。"
            "この分解には全単位・全時点がそろったデータ（バランスパネル）が必要です。",
            column=time,
        )
    dm = wide_d.to_numpy(dtype=float)
    if (np.diff(dm, axis=1) < 0).any():
        bad = wide_d.index[(np.diff(dm, axis=1) < 0).any(axis=1)][0]
        raise EstimationError(
            f"介入が途中で終わる単位があります（{unit}={bad}）。一度介入を受けたら以後も介入が続く"
            "（吸収的な）データにしか使えません。",
            column=d,
        )
    times = wide_y.columns.to_numpy()
    treated_any = dm.max(axis=1) > 0
    first_idx = np.argmax(dm > 0, axis=1)
    first = np.where(treated_any, times[first_idx].astype(float), NEVER)
    if first_treated is not None:
        given = data.groupby(unit)[first_treated].first().reindex(wide_y.index).astype(float)
        given = given.where(given.notna() & (given != 0), NEVER)
        first = given.to_numpy()
    return Panel(wide_y.index.to_numpy(), times, wide_y.to_numpy(dtype=float), dm, first)


def _double_demean(m: np.ndarray) -> np.ndarray:
    return m - m.mean(axis=1, keepdims=True) - m.mean(axis=0, keepdims=True) + m.mean()


def twfe_coefficient(panel: Panel) -> float:
    """The TWFE (unit and period fixed effects) coefficient on D in a balanced panel (FWL)."""
    dd = _double_demean(panel.d)
    denom = (dd * dd).sum()
    if denom <= 0:
        raise EstimationError(
            "介入の有無が単位・時点の固定効果だけで説明でき、効果を推定できません。"
        )
    return float((dd * panel.y).sum() / denom)


def _two_by_two(y: np.ndarray, d: np.ndarray) -> float:
    """TWFE coefficient on a two-group sub-panel (equals the 2×2 DiD of period means)."""
    dd = _double_demean(d)
    return float((dd * y).sum() / (dd * dd).sum())


def bacon_decomposition(panel: Panel) -> pd.DataFrame:
    """Goodman-Bacon (2021) decomposition of the TWFE coefficient into 2×2 comparisons.

    Returns
    -------
    DataFrame
        One row per comparison: ``treated`` and ``control`` (first-treated period, ``inf`` never,
        earliest period or before = always treated), ``type`` (``"treated_vs_never"``,
        ``"earlier_vs_later"``, ``"later_vs_earlier"``, ``"treated_vs_always"``), ``type_ja``,
        ``estimate`` and ``weight``. Weights sum to 1 and ``(weight * estimate).sum()`` equals the TWFE
        coefficient (Goodman-Bacon 2021, Theorem 1).
    """
    n_units, n_times = panel.d.shape
    t0 = panel.times[0]
    first = np.where(panel.first <= t0, -np.inf, panel.first)  # always treated
    groups = np.unique(first)
    share_n = {g: float(np.mean(first == g)) for g in groups}
    dbar = {g: float(panel.d[first == g].mean()) for g in groups}
    v_d = float((_double_demean(panel.d) ** 2).mean())
    rows = []
    for i, k in enumerate(groups):
        for l_ in groups[i + 1 :]:
            # k adopts earlier than l_ (or k always treated / l_ never treated)
            nk, nl = share_n[k], share_n[l_]
            dk, dl = dbar[k], dbar[l_]
            nkl = nk / (nk + nl)
            sub = (first == k) | (first == l_)
            if dk == dl:
                continue
            if np.isinf(l_) and l_ > 0:  # l_ never treated: one clean comparison
                w = (nk + nl) ** 2 * nkl * (1 - nkl) * dk * (1 - dk) / v_d
                est = _two_by_two(panel.y[sub], panel.d[sub])
                rows.append((k, l_, "treated_vs_never", est, w))
                continue
            if np.isinf(k) and k < 0:  # k always treated: the later group against it
                w = (nk + nl) ** 2 * nkl * (1 - nkl) * dl * (1 - dl) / v_d
                est = _two_by_two(panel.y[sub], panel.d[sub])
                rows.append((l_, k, "treated_vs_always", est, w))
                continue
            # earlier k vs later l_ as control: periods before l_ adopts
            window = panel.times < l_
            w_early = (
                ((nk + nl) * (1 - dl)) ** 2
                * nkl
                * (1 - nkl)
                * ((dk - dl) / (1 - dl))
                * ((1 - dk) / (1 - dl))
                / v_d
            )
            est_early = _two_by_two(panel.y[sub][:, window], panel.d[sub][:, window])
            rows.append((k, l_, "earlier_vs_later", est_early, w_early))
            # later l_ vs earlier k as control: periods from k's adoption on
            window = panel.times >= k
            w_late = ((nk + nl) * dk) ** 2 * nkl * (1 - nkl) * (dl / dk) * ((dk - dl) / dk) / v_d
            est_late = _two_by_two(panel.y[sub][:, window], panel.d[sub][:, window])
            rows.append((l_, k, "later_vs_earlier", est_late, w_late))
    labels = {
        "treated_vs_never": "介入群 対 未介入群",
        "earlier_vs_later": "早期介入群 対 後期介入群（介入前）",
        "later_vs_earlier": "後期介入群 対 早期介入群（介入後・問題のある比較）",
        "treated_vs_always": "介入群 対 当初から介入済みの群（問題のある比較）",
    }
    out = pd.DataFrame(rows, columns=["treated", "control", "type", "estimate", "weight"])
    out.insert(3, "type_ja", out["type"].map(labels))
    return out


# --- Callaway & Sant'Anna ------------------------------------------------------------------------------


def _agg(
    att: np.ndarray,
    inf: np.ndarray,
    keep: np.ndarray,
    pg: np.ndarray,
    g_of_unit: np.ndarray,
    cell_g: np.ndarray,
):
    """Aggregate ATT(g,t) cells with weights P(G=g) and the estimated-weight influence correction."""
    n = inf.shape[0]
    idx = np.flatnonzero(keep)
    if len(idx) == 0:
        return np.nan, np.nan, np.zeros(n)
    w = pg[idx] / pg[idx].sum()
    estimate = float(w @ att[idx])
    # influence of estimating P(G=g): numerator and denominator terms (Callaway & Sant'Anna 2021, §4)
    ind = np.stack([(g_of_unit == cell_g[k]).astype(float) for k in idx], axis=1)  # n × K
    if1 = (ind - pg[idx]) / pg[idx].sum()
    if2 = np.outer((ind - pg[idx]).sum(axis=1), pg[idx] / pg[idx].sum() ** 2)
    wif = if1 - if2
    psi = inf[:, idx] @ w + wif @ att[idx]
    se = float(np.sqrt(np.mean(psi**2) / n))
    return estimate, se, psi


def callaway_santanna(
    panel: Panel, control: str = "never", anticipation: int = 0, pre_window: int | None = None
) -> tuple[pd.DataFrame, dict[str, float], pd.DataFrame]:
    """Unconditional Callaway–Sant'Anna group-time ATTs with analytic (influence-function) SEs.

    ATT(g,t) = E[Y_t − Y_b | G=g] − E[Y_t − Y_b | C], with base period b = g−1 for t ≥ g and b = t−1
    for pre-periods (the "varying" base of the R package ``did``); C = never treated (``control="never"``)
    or never and not-yet treated by max(t, b) (``"notyet"``). SEs treat units as independent
    (clustered by unit).

    Returns
    -------
    (cells, overall, dynamic)
        ``cells``: group, time, rel_time, estimate, se, post; ``overall``: the simple average of
        post-treatment cells weighted by group size (``estimate``, ``se``) and ``pre_trend``, a joint
        chi-square test of the pre-period event-time averages back to ``-pre_window``; ``dynamic``:
        event-time averages (rel_time, estimate, se).
    """
    times = panel.times.astype(float)
    first = panel.first
    t0 = times[0]
    usable = first > t0  # units treated in the first period have no pre-period and are dropped
    y = panel.y[usable]
    g_unit = first[usable]
    n = len(g_unit)
    groups = np.unique(g_unit[np.isfinite(g_unit)])
    if len(groups) == 0:
        raise EstimationError("介入前の期間を持つ介入単位がありません。")
    if control == "never" and not np.isinf(g_unit).any():
        raise EstimationError(
            "未介入のままの単位がないため、control='never' は使えません。control='notyet' を使ってください。"
        )
    cells, infs = [], []
    for g in groups:
        for j in range(1, len(times)):
            t = times[j]
            if t >= g - anticipation:
                base_idx = int(np.searchsorted(times, g - anticipation)) - 1
                if base_idx < 0:
                    continue
            else:
                base_idx = j - 1
            base = times[base_idx]
            treat = g_unit == g
            if control == "never":
                ctrl = np.isinf(g_unit)
            else:
                ctrl = (g_unit > max(t, base) + anticipation) & ~treat
            if treat.sum() == 0 or ctrl.sum() == 0:
                continue
            dy = y[:, j] - y[:, base_idx]
            sub = treat | ctrl
            n_sub = sub.sum()
            p1 = treat.sum() / n_sub
            p0 = ctrl.sum() / n_sub
            m1 = dy[treat].mean()
            m0 = dy[ctrl].mean()
            inf_sub = np.where(treat, (dy - m1) / p1, 0.0) - np.where(ctrl, (dy - m0) / p0, 0.0)
            inf = np.where(sub, inf_sub * n / n_sub, 0.0)
            cells.append((g, t, t - g, m1 - m0, float(np.sqrt(np.mean(inf**2) / n)), t >= g))
            infs.append(inf)
    if not cells:
        raise EstimationError("比較できる介入群と比較群の組がありません（比較群が空です）。")
    table = pd.DataFrame(cells, columns=["group", "time", "rel_time", "estimate", "se", "post"])
    inf_m = np.column_stack(infs)
    att = table["estimate"].to_numpy()
    cell_g = table["group"].to_numpy()
    pg_of = {g: float(np.mean(g_unit == g)) for g in groups}
    pg = np.array([pg_of[g] for g in cell_g])
    est, se, _ = _agg(att, inf_m, table["post"].to_numpy(), pg, g_unit, cell_g)
    overall = {"estimate": est, "se": se, "n_units": n}
    dyn, pre_psi, pre_est = [], [], []
    for e in sorted(table["rel_time"].unique()):
        keep = (table["rel_time"] == e).to_numpy()
        e_est, e_se, psi = _agg(att, inf_m, keep, pg, g_unit, cell_g)
        dyn.append((e, e_est, e_se))
        if e < -anticipation and e_se > 0 and (pre_window is None or e >= -pre_window):
            pre_psi.append(psi)
            pre_est.append(e_est)
    dynamic = pd.DataFrame(dyn, columns=["rel_time", "estimate", "se"])
    overall["pre_trend"] = _pre_test(np.array(pre_est), pre_psi, n)
    return table, overall, dynamic


def _pre_test(est: np.ndarray, psis: list[np.ndarray], n: int) -> dict[str, float | int | None]:
    """Joint chi-square test that all pre-period event-time ATTs are zero (covariance from influence functions)."""
    from scipy import stats

    if len(psis) == 0:
        return {"q": 0, "wald": None, "chi2_p": None}
    m = np.column_stack(psis)
    v = m.T @ m / n**2
    wald = float(est @ np.linalg.pinv(v) @ est)
    q = len(est)
    return {"q": q, "wald": wald, "chi2_p": float(stats.chi2.sf(wald, q))}


# --- few-cluster inference for the overall ATT ------------------------------------------------------


def cs_overall_batch(
    panel: Panel, y3: np.ndarray, control: str = "never", anticipation: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The overall Callaway–Sant'Anna ATT and its influence function for K outcome arrays at once.

    ``y3`` is units × periods × K (units in ``panel`` order). The same cells, weights and
    estimated-weight correction as :func:`callaway_santanna`; everything is linear in the outcomes,
    which the wild bootstrap relies on. Returns (estimates (K), psi (n × K)) with
    se = sqrt(Σ psi²)/n.
    """
    times = panel.times.astype(float)
    usable = panel.first > times[0]
    y = y3[usable]
    g_unit = panel.first[usable]
    n = len(g_unit)
    groups = np.unique(g_unit[np.isfinite(g_unit)])
    plan = []
    for g in groups:
        for j in range(1, len(times)):
            t = times[j]
            if t < g - anticipation:
                continue  # only post-treatment cells enter the overall ATT
            base_idx = int(np.searchsorted(times, g - anticipation)) - 1
            if base_idx < 0:
                continue
            base = times[base_idx]
            treat = g_unit == g
            if control == "never":
                ctrl = np.isinf(g_unit)
            else:
                ctrl = (g_unit > max(t, base) + anticipation) & ~treat
            if treat.sum() == 0 or ctrl.sum() == 0:
                continue
            plan.append((g, j, base_idx, treat, ctrl))
    cell_g = np.array([p_[0] for p_ in plan])
    pg_of = {g: float(np.mean(g_unit == g)) for g in groups}
    pg = np.array([pg_of[g] for g in cell_g])
    w = pg / pg.sum()
    psi = np.zeros((n, y.shape[2]))
    att = np.zeros((len(plan), y.shape[2]))
    for c_idx, (_, j, base_idx, treat, ctrl) in enumerate(plan):
        dy = y[:, j, :] - y[:, base_idx, :]
        sub = treat | ctrl
        n_sub = sub.sum()
        p1, p0 = treat.sum() / n_sub, ctrl.sum() / n_sub
        m1, m0 = dy[treat].mean(axis=0), dy[ctrl].mean(axis=0)
        psi[treat] += (w[c_idx] * n / n_sub / p1) * (dy[treat] - m1)
        psi[ctrl] -= (w[c_idx] * n / n_sub / p0) * (dy[ctrl] - m0)
        att[c_idx] = m1 - m0
    ind = np.stack([(g_unit == cg).astype(float) for cg in cell_g], axis=1)
    wif = (ind - pg) / pg.sum() - np.outer((ind - pg).sum(axis=1), pg / pg.sum() ** 2)
    psi += wif @ att
    return w @ att, psi


def cs_wild_bootstrap(
    panel: Panel,
    cluster_of_unit: np.ndarray,
    control: str = "never",
    anticipation: int = 0,
    search: bool = True,
    draws: int | None = None,
) -> dict:
    """Restricted wild cluster bootstrap-t interval for the overall ATT (units in ``panel`` order).

    The model under the null θ = θ0 is y = unit FE + period FE + θ0·D + e (a homogeneous effect);
    its residuals ``ea − θ0·eb`` (two-way demeaned y and D) are multiplied by one weight per cluster
    and the estimator re-run on them. The fitted part contributes exactly θ0 to every post cell and
    nothing to the influence function, so the bootstrap estimate is θ0 + CS(e ∘ v).
    """
    from ebpm.methods._inference import DRAWS, SEED, cluster_weights, wild_cluster_influence

    times = panel.times.astype(float)
    usable = panel.first > times[0]
    cl = pd.factorize(np.asarray(cluster_of_unit)[usable])[0]
    estimate, psi = cs_overall_batch(panel, panel.y[:, :, None], control, anticipation)
    n = int(usable.sum())
    y_u, d_u = panel.y[usable], panel.d[usable]
    ea, eb = _double_demean(y_u), _double_demean(d_u)
    g = int(cl.max()) + 1
    weights, weights_ja = cluster_weights(g, draws or DRAWS)
    full_first = panel.first[usable]
    sub = Panel(panel.units[usable], panel.times, y_u, d_u, full_first)
    va = ea[:, :, None] * weights[cl][:, None, :]
    vb = eb[:, :, None] * weights[cl][:, None, :]
    na, pa = cs_overall_batch(sub, va, control, anticipation)
    nb, pb = cs_overall_batch(sub, vb, control, anticipation)
    boot = wild_cluster_influence(
        float(estimate[0]), psi[:, 0] / n, (na, pa / n), (nb, pb / n), cl, search
    )
    boot.update({"weights_ja": weights_ja, "draws": int(weights.shape[1]), "seed": SEED})
    return boot

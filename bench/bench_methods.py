"""Benchmark: three statistics paths against their previous implementations, same process, same data.

Run from the project root::

    .venv/bin/python bench/bench_methods.py [--rounds N] [--skip-synth]

Each case times the current library code and the previous implementation kept below as the baseline
(rounds interleaved, so load from other processes hits both alike; the median is reported), and
checks that the answers agree:

- ``honest``: Rambachan–Roth breakdown value and the 6-point sensitivity table on the HonestDiD
  README's Medicaid event study (tests/fixtures/honestdid). Baseline: bisection to 0.1%, every M
  solved cold (the code before). Answer: the same breakdown value, table within 1e-6 · SE.
- ``did_2x2`` and ``did_panel``: ``ebpm.did`` on the coverage simulation's designs
  (tests/test_methods_coverage.py, 模擬データ). Baseline: the 2×2 fitted through the patsy formula;
  in the panel, the previous ``fit_twfe`` (pandas), t intervals and Wald p-values through
  ``scipy.stats`` and the baseline honest functions. Answer: estimates, intervals, grade, reasons and
  the breakdown value equal, the sensitivity table within 1e-6.
- ``synth_placebo``: ``ebpm.synth`` on Prop 99 (ADH 2010) with its 38 placebos. Baseline: the V search
  as before (scipy ``nnls`` set up on every call, every Nelder–Mead run to its iteration cap).
  Answer: the same p-value, and the placebos' pre-period RMSPE (max relative difference printed).

Results go to bench/results/methods.json.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import ebpm  # noqa: E402
from ebpm.config import paths  # noqa: E402

honest = importlib.import_module("ebpm.methods.honest")
did_mod = importlib.import_module("ebpm.methods.did")
es_mod = importlib.import_module("ebpm.methods.event_study")
synth_mod = importlib.import_module("ebpm.methods.synth")


# --- baselines: the previous implementations -----------------------------------------------------


def old_breakdown_sd(betahat, sigma, n_pre, n_post, l_vec=None, alpha=0.05):
    """Bisection to 0.1%, each M solved from scratch (flci_sd without a warm start is the old solve)."""
    flci_sd = honest.flci_sd
    b = np.asarray(betahat, dtype=float)
    base = flci_sd(b, sigma, n_pre, n_post, 0.0, l_vec, alpha)
    sign = 1 if base["estimate"] >= 0 else -1
    pre_path = np.concatenate([b[:n_pre], [0.0]])
    curv = float(np.abs(np.diff(pre_path, 2)).max()) if len(pre_path) >= 3 else None

    def holds(m):
        r = flci_sd(b, sigma, n_pre, n_post, m, l_vec, alpha)
        return r["lb"] > 0 if sign > 0 else r["ub"] < 0

    out = {"sign": sign, "at_zero": base, "pre_curvature": curv}
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


def old_sensitivity_sd(betahat, sigma, n_pre, n_post, m_values, l_vec=None, alpha=0.05):
    return [
        {"m": float(m), **honest.flci_sd(betahat, sigma, n_pre, n_post, float(m), l_vec, alpha)}
        for m in m_values
    ]


def old_fit_2x2(work, se):
    from ebpm.methods.regress import fit_ols

    return fit_ols(work, "y ~ treat + post + treat:post", se)


def old_simplex_weights(x1, x0, v):
    from scipy.optimize import nnls

    s = np.sqrt(v)
    a = s[:, None] * x0
    b = s * x1
    scale = synth_mod.SIMPLEX_PENALTY * max(1.0, float(np.abs(a).max()))
    a_aug = np.vstack([a, np.full((1, x0.shape[1]), scale)])
    b_aug = np.append(b, scale)
    w, _ = nnls(a_aug, b_aug, maxiter=50 * x0.shape[1])
    total = w.sum()
    return w / total if total > 0 else np.full(x0.shape[1], 1.0 / x0.shape[1])


def old_fit_weights(x1, x0, z1, z0, *, starts=8, rng, v_start_regression=None,
                    v_start_extra=None, effort=400, fixed_v=None):  # fmt: skip
    from scipy.optimize import minimize

    k = x1.shape[0]

    def loss_of(v):
        w = old_simplex_weights(x1, x0, v)
        return float(np.mean((z1 - z0 @ w) ** 2)), w

    if fixed_v is not None or k == 1:
        v = fixed_v if fixed_v is not None else np.ones(1)
        loss, w = loss_of(v)
        return synth_mod._Fit(w, v, loss, 0)
    inits = [np.zeros(k)]
    for extra in (v_start_regression, v_start_extra):
        if extra is not None:
            inits.append(np.log(np.clip(extra, 1e-8, None)))
    while len(inits) < max(starts, 1):
        inits.append(np.log(np.clip(rng.dirichlet(np.ones(k)), 1e-8, None)))

    def run(theta0):
        res = minimize(
            lambda th: loss_of(synth_mod._softmax(th))[0],
            theta0,
            method="Nelder-Mead",
            options={"maxiter": effort * k, "xatol": 1e-6, "fatol": 1e-10, "adaptive": True},
        )
        return res.x, loss_of(synth_mod._softmax(res.x))[0]

    best_theta, best_loss = None, math.inf
    for theta0 in inits:
        theta, loss = run(theta0)
        if loss < best_loss:
            best_theta, best_loss = theta, loss
    theta, loss = run(best_theta)
    if loss < best_loss:
        best_theta = theta
    v = synth_mod._softmax(best_theta)
    loss, w = loss_of(v)
    return synth_mod._Fit(w, v, loss, len(inits))


def old_fit_twfe(frame, y, regressors, unit, time, cluster=None):
    """fit_twfe before: pandas selection, dropna and duplicated on the frame."""
    from ebpm.errors import EstimationError
    from ebpm.methods import _common as c
    from ebpm.methods._panel import within

    cluster = cluster or unit
    cols = list(dict.fromkeys([unit, time, y, *regressors, cluster]))
    data = frame[cols].dropna()
    if data.duplicated([unit, time]).any():
        raise EstimationError("duplicated")
    exog = data[regressors].astype(float)
    constant = [r for r in regressors if exog[r].nunique() < 2]
    if constant:
        raise EstimationError("constant")
    unit_codes = pd.factorize(data[unit])[0]
    time_codes = pd.factorize(data[time])[0]
    cl_codes = pd.factorize(data[cluster])[0]
    n_clusters = int(cl_codes.max()) + 1
    warning, severity = c.cluster_count_check(n_clusters, cluster)
    arr = within(
        np.column_stack([data[y].to_numpy(dtype=float), exog.to_numpy()]), unit_codes, time_codes
    )
    yt, xt = arr[:, 0], arr[:, 1:]
    k = xt.shape[1]
    if np.linalg.matrix_rank(xt, tol=1e-8 * max(1.0, float(np.abs(xt).max()))) < k:
        raise EstimationError("collinear")
    xtx_inv = np.linalg.inv(xt.T @ xt)
    beta = xtx_inv @ xt.T @ yt
    resid = yt - xt @ beta
    scores = np.zeros((n_clusters, k))
    np.add.at(scores, cl_codes, xt * resid[:, None])
    n = len(yt)
    big_k = k + int(time_codes.max()) + 1
    factor = n_clusters / (n_clusters - 1) * (n - 1) / max(n - big_k, 1)
    cov = factor * xtx_inv @ (scores.T @ scores) @ xtx_inv
    return {"params": pd.Series(beta, index=regressors),
            "cov": pd.DataFrame(cov, index=regressors, columns=regressors),
            "n": n, "n_units": int(unit_codes.max()) + 1, "n_clusters": n_clusters,
            "df": n_clusters - 1, "cluster_warning": warning, "cluster_severity": severity,
            "n_treated_clusters": None, "_arrays": (xt, yt, cl_codes, unit_codes, time_codes)}  # fmt: skip


def old_t_interval(estimate, se, df):
    from scipy import stats

    q = float(stats.t.ppf(0.975, df))
    p = float(2 * stats.t.sf(abs(estimate / se), df)) if se > 0 else float("nan")
    return (estimate - q * se, estimate + q * se), p


def old_joint_wald(params, cov, names, df_denom):
    from scipy import stats

    empty = {"q": 0, "wald": None, "chi2_p": None, "f": None, "f_p": None, "f_plain_p": None}
    if not names:
        return empty
    b = params[names].to_numpy(dtype=float)
    v = cov.loc[names, names].to_numpy(dtype=float)
    wald = float(b @ np.linalg.pinv(v) @ b)
    q = len(names)
    eta = max(df_denom, 1)
    out = {"q": q, "wald": wald, "chi2_p": float(stats.chi2.sf(wald, q)),
           "f_plain_p": float(stats.f.sf(wald / q, q, eta)), "f": None, "f_p": None,
           "test_ja": "Hotelling 補正のF検定"}  # fmt: skip
    if eta - q + 1 >= 1:
        f = (eta - q + 1) / (eta * q) * wald
        out.update({"f": f, "f_p": float(stats.f.sf(f, q, eta - q + 1))})
    return out


SWAPS = [  # (module, name, baseline)
    (honest, "breakdown_sd", old_breakdown_sd),
    (honest, "sensitivity_sd", old_sensitivity_sd),
    (did_mod, "_fit_2x2", old_fit_2x2),
    (did_mod, "fit_twfe", old_fit_twfe),
    (did_mod, "t_interval", old_t_interval),
    (es_mod, "fit_twfe", old_fit_twfe),
    (es_mod, "t_interval", old_t_interval),
    (es_mod, "joint_wald", old_joint_wald),
    (synth_mod, "fit_weights", old_fit_weights),
]


class Baseline:
    """Swap the baseline implementations into the library modules for the duration of a block."""

    def __enter__(self):
        self.saved = [getattr(module, name) for module, name, _ in SWAPS]
        for module, name, old in SWAPS:
            setattr(module, name, old)

    def __exit__(self, *exc):
        for (module, name, _), current in zip(SWAPS, self.saved, strict=True):
            setattr(module, name, current)


# --- cases ----------------------------------------------------------------------------------------


def _timed(fn, rounds: int) -> tuple[float, float, object, object]:
    """Median seconds of the baseline and of the current code, interleaved, with their last answers."""
    t_old, t_new = [], []
    for _ in range(rounds):
        with Baseline():
            t0 = time.perf_counter()
            old = fn()
            t_old.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        new = fn()
        t_new.append(time.perf_counter() - t0)
    return statistics.median(t_old), statistics.median(t_new), old, new


def case_honest(rounds: int) -> dict:
    from test_methods_honest import _betahat_sigma

    b, v = _betahat_sigma()

    def run():
        bd = honest.breakdown_sd(b, v, 5, 2)
        grid = np.linspace(0, 2 * bd["breakdown_m"], 6)
        return bd, honest.sensitivity_sd(b, v, 5, 2, grid)

    t_old, t_new, (bd_o, tab_o), (bd_n, tab_n) = _timed(run, rounds * 3)
    diff = max(abs(o[k] - n[k]) / o["sd"] for o, n in zip(tab_o, tab_n, strict=True)
               for k in ("lb", "ub"))  # fmt: skip
    return {"old_s": t_old, "new_s": t_new, "same_breakdown": bd_o["breakdown_m"] == bd_n["breakdown_m"],
            "breakdown_m": bd_n["breakdown_m"], "table_max_diff_per_se": diff}  # fmt: skip


def _did_answers(res) -> dict:
    d = res.diagnostics
    out = {"estimate": res.estimate, "se": res.se, "ci": list(res.ci), "p": res.pvalue,
           "grade": res.grade, "reasons": list(res.reasons)}  # fmt: skip
    if "pre_trend" in d:
        out["pre_f_p"] = d["pre_trend"].get("f_p")
    return out


def case_did(rounds: int, panel: bool) -> dict:
    from test_methods_coverage import _panel, _two_by_two

    rng = np.random.default_rng(20260401)
    data = [(_panel if panel else _two_by_two)(rng) for _ in range(10)]
    kw = {"y": "y", "treat": None, "post": "d", "unit": "unit", "time": "time"} if panel else \
         {"y": "y", "treat": "treat", "post": "post"}  # fmt: skip

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [ebpm.did(df, **kw) for df in data]

    run()  # warm imports
    t_old, t_new, old, new = _timed(run, rounds)
    same = all(_did_answers(o) == _did_answers(n) for o, n in zip(old, new, strict=True))
    table_diff = 0.0
    for o, n in zip(old, new, strict=True):
        ho, hn = o.diagnostics.get("honest_did"), n.diagnostics.get("honest_did")
        same = same and (ho is None) == (hn is None)
        if ho and hn:
            same = same and ho["breakdown_m"] == hn["breakdown_m"]
            table_diff = max([table_diff] + [abs(a[k] - b[k]) for a, b in zip(ho["table"], hn["table"],
                             strict=True) for k in ("m", "lb", "ub")])  # fmt: skip
    return {"old_ms_per_call": 1e3 * t_old / len(data), "new_ms_per_call": 1e3 * t_new / len(data),
            "old_s": t_old, "new_s": t_new, "same_answers": same, "honest_table_diff": table_diff}  # fmt: skip


def case_synth(rounds: int) -> dict:
    path = paths().shared / "data" / "teaching" / "prop99_smoking.dta"
    frame = pd.read_stata(path)
    frame["state"] = frame["state"].astype(str)
    years = range(1980, 1989)
    preds = [("lnincome", years), ("age15to24", years), ("retprice", years),
             ("beer", range(1984, 1989)), ("cigsale", 1975), ("cigsale", 1980), ("cigsale", 1988)]  # fmt: skip

    def run():
        return ebpm.synth(frame, "cigsale", "state", "year", "California", 1989, preds)

    t_old, t_new, old, new = _timed(run, rounds)
    po = old.details["placebos"].set_index("unit")["pre_rmspe"]
    pn = new.details["placebos"].set_index("unit")["pre_rmspe"].reindex(po.index)
    rel = ((pn - po) / po).to_numpy()
    return {"old_s": t_old, "new_s": t_new, "p_old": old.pvalue, "p_new": new.pvalue,
            "ci_old": list(old.ci), "ci_new": list(new.ci),
            "max_weight_diff": float((old.weights - new.weights.reindex(old.weights.index)).abs().max()),
            "placebo_pre_rmspe_max_rel_diff": float(np.abs(rel).max()),
            "placebo_pre_rmspe_worse_max": float(rel.max())}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--skip-synth", action="store_true", help="leave out the ~1 min Prop 99 case"
    )
    args = parser.parse_args()
    results = {
        "honest": case_honest(args.rounds),
        "did_2x2": case_did(args.rounds, panel=False),
        "did_panel": case_did(args.rounds, panel=True),
    }
    if not args.skip_synth:
        results["synth_placebo"] = case_synth(1)
    for name, r in results.items():
        ratio = r["old_s"] / r["new_s"]
        r["speedup"] = ratio
        extra = {k: v for k, v in r.items() if k not in ("old_s", "new_s", "speedup")}
        print(
            f"{name:14s} baseline {r['old_s']:.3f}s  now {r['new_s']:.3f}s  speed-up {ratio:.2f}x  {extra}"
        )
    out = ROOT / "bench" / "results" / "methods.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=float))
    print(f"-> {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

"""Synthetic control (合成コントロール法): donor weights, multi-start V search, placebo-in-space inference."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ebpm.errors import EstimationError, ParameterError
from ebpm.methods._common import (
    change_range,
    close_summary,
    drop_missing,
    fmt_num,
    fmt_p,
    is_synthetic,
    require_columns,
    require_frame,
    require_numeric,
    title_of,
    unit_of,
)
from ebpm.methods._inputs import as_time_column, check_columns, match_time, suggest
from ebpm.methods.grading import Check, decide
from ebpm.result import EstimationResult

MIN_DONORS = 5  # fewer donors than this: the synthetic unit has little to be built from
MIN_PRE = 5  # pre-period points to judge the fit on
GOOD_FIT = 0.05  # pre-period RMSPE / mean |outcome|: ≤5% good, ≤10% fair, worse is poor
FAIR_FIT = 0.10
MAX_SINGLE_WEIGHT = (
    0.8  # one donor carrying more than this is a matched comparison, not a synthesis
)
PLACEBO_P = (
    0.10  # ADH (2010) read p≈0.026 as significant; we ask for ≤ 0.10 (few donors give coarse p)
)
# A pre-period RMSPE at or below this share of the outcome's level is an exact fit (rounding noise):
# its post/pre ratio is infinite, not 10¹⁴ — a placebo that the donors reproduce exactly leaves every
# constant effect inside the permutation confidence set (an unbounded interval).
EXACT_FIT = 1e-9
PLACEBO_EFFORT = 80  # Nelder–Mead iterations per predictor for each placebo (main fit: 400)
# A Nelder–Mead run stops early once its best loss has improved by no more than STALL_TOL (relative)
# over its last STALL_EVALS × k loss evaluations (k predictors): the search has stalled. On the Prop 99
# placebos this saves about 30% of the evaluations and changes no run's final loss by more than 2e-5
# (relative), see bench/bench_methods.py.
STALL_EVALS = 50
STALL_TOL = 1e-10
SIMPLEX_PENALTY = 1e4  # weight of the sum-to-one row in the NNLS formulation


# --- predictors ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Predictor:
    """One row of the predictor matrix: a column averaged over some years."""

    column: str
    years: tuple[Any, ...]
    label: str


def _years(value: Any) -> tuple[Any, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        return (value,)
    return tuple(value)


def parse_predictors(
    spec: Sequence[Any] | None, y: str, pre_times: Sequence[Any]
) -> list[Predictor]:
    """Turn the ``predictors`` argument into :class:`Predictor` rows.

    Accepted items: ``"col"`` (mean over the whole pre-period), ``("col", years)`` or
    ``("col", years, "mean")`` where ``years`` is one time value or an iterable of them. ``None``
    uses every pre-period value of the outcome (one row per pre-period time).
    """
    pre = tuple(pre_times)
    if spec is None:
        return [Predictor(y, (t,), f"{y}（{t}）") for t in pre]
    if isinstance(spec, str):
        spec = [spec]
    out = []
    for item in spec:
        if isinstance(item, str):
            out.append(Predictor(item, pre, f"{item}（介入前平均）"))
            continue
        if not isinstance(item, (tuple, list)) or not 2 <= len(item) <= 3:
            raise ParameterError(
                f'予測変数の指定 {item!r} を解釈できません。列名、または (列名, 年, "mean") の形で'
                "指定してください。",
                parameter="predictors",
            )
        if len(item) == 3 and item[2] != "mean":
            raise ParameterError(
                f'予測変数の集計方法「{item[2]}」は指定できません（"mean" のみ）。',
                parameter="predictors",
            )
        years = _years(item[1])
        span = f"{years[0]}" if len(years) == 1 else f"{years[0]}〜{years[-1]}平均"
        out.append(Predictor(str(item[0]), years, f"{item[0]}（{span}）"))
    if not out:
        raise ParameterError("予測変数が空です。", parameter="predictors")
    return out


def _predictor_matrix(
    frame: pd.DataFrame, unit: str, time: str, units: list[Any], preds: list[Predictor]
) -> pd.DataFrame:
    """Rows = predictors, columns = units: the mean of the column over the given years."""
    rows = {}
    for pr in preds:
        sub = frame[frame[time].isin(pr.years)]
        values = require_numeric(sub, pr.column, "予測変数")
        rows[pr.label] = values.groupby(sub[unit], observed=True).mean().reindex(units)
    return pd.DataFrame(rows).T


# --- the two optimisation problems -----------------------------------------------------------------


def simplex_weights(x1: np.ndarray, x0: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Donor weights W ≥ 0, ΣW = 1 minimising (x1 − x0 W)' diag(v) (x1 − x0 W).

    Solved as a non-negative least-squares problem with the sum-to-one constraint added as a heavily
    weighted extra row (Lawson–Hanson NNLS, exact up to 1/penalty²), then renormalised.
    """
    return _SimplexSolver(x1, x0)(v)


def _public_nnls(a: np.ndarray, b: np.ndarray, maxiter: int) -> np.ndarray:
    from scipy.optimize import nnls

    return nnls(a, b, maxiter=maxiter)[0]


def _load_nnls():
    """The Lawson–Hanson routine behind ``scipy.optimize.nnls``, called without its wrapper.

    The V search calls it about 140,000 times for Prop 99 with placebos, and the public wrapper
    (argument conversion, finiteness and shape checks, deprecation shim) costs a third as much as
    the solve itself. Our buffers are already C-ordered float64 (the wrapper passes them through
    unchanged) and finiteness is checked by :class:`_SimplexSolver`, so the raw routine returns the
    same weights to the bit (tested against the public function). Where this scipy has no such
    routine (older releases), the public function is used.
    """
    try:
        from scipy.optimize._slsqplib import nnls as raw
    except ImportError:
        return _public_nnls

    def solve(a: np.ndarray, b: np.ndarray, maxiter: int) -> np.ndarray:
        x, _, info = raw(a, b, maxiter)
        if info == 3:  # as scipy.optimize.nnls
            raise RuntimeError("Maximum number of iterations reached.")
        return x

    # a private routine may change between scipy releases: use it only if it still answers a small
    # problem exactly as the public function does
    a = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 7.0]])
    b = np.array([1.0, -2.0, 3.5])
    try:
        same = np.array_equal(solve(a.copy(), b.copy(), 30), _public_nnls(a, b, 30))
    except Exception:
        same = False
    return solve if same else _public_nnls


_nnls = None  # the routine, found on first use: importing scipy.optimize costs about a second


def _nnls_routine():
    global _nnls
    if _nnls is None:
        _nnls = _load_nnls()
    return _nnls


class _SimplexSolver:
    """:func:`simplex_weights` for one (x1, x0) pair, called many times with different V.

    The outer V search solves the inner problem thousands of times for the same predictors: the
    augmented NNLS matrix (√V·x0 over the sum-to-one row) lives in a preallocated buffer that each
    call overwrites, so a reused solver gives exactly the weights of a new one (tested), and those of
    the earlier one-shot formulation kept in bench/bench_methods.py.
    """

    def __init__(self, x1: np.ndarray, x0: np.ndarray):
        self._nnls = _nnls_routine()
        self.x1 = np.asarray(x1, dtype=float)
        self.x0 = np.asarray(x0, dtype=float)
        # scipy's nnls refuses non-finite input (ValueError); the raw routine does not check, so the
        # fixed part is checked once here and V (the only part that changes) in __call__
        if not (np.isfinite(self.x1).all() and np.isfinite(self.x0).all()):
            raise ValueError("array must not contain infs or NaNs")
        k, j = self.x0.shape
        self.k = k
        self.a_aug = np.empty((k + 1, j))
        self.b_aug = np.empty(k + 1)
        self.a_top = self.a_aug[:k]
        self.b_top = self.b_aug[:k]
        # max|√v_i x0_ij| = max_i √v_i · max_j |x0_ij| exactly (rounding is monotone)
        self.row_max = np.abs(self.x0).max(axis=1) if j else np.zeros(k)
        self.maxiter = 50 * j
        self.equal = np.full(j, 1.0 / j)

    def __call__(self, v: np.ndarray) -> np.ndarray:
        k = self.k
        s = np.sqrt(v)
        np.multiply(s[:, None], self.x0, out=self.a_top)
        np.multiply(s, self.x1, out=self.b_top)
        # ufunc reductions called directly: what .max()/.sum() compute, without their dispatch
        top = float(np.maximum.reduce(s * self.row_max))  # NaN or inf iff V is not finite
        if not math.isfinite(top):
            raise ValueError("array must not contain infs or NaNs")
        scale = SIMPLEX_PENALTY * max(1.0, top)
        self.a_aug[k] = scale
        self.b_aug[k] = scale
        w = self._nnls(self.a_aug, self.b_aug, self.maxiter)
        total = np.add.reduce(w)
        return w / total if total > 0 else self.equal.copy()


def _softmax(theta: np.ndarray) -> np.ndarray:
    e = np.exp(theta - np.maximum.reduce(theta))
    return e / np.add.reduce(e)


def _regression_v(xs: np.ndarray, z: np.ndarray) -> np.ndarray | None:
    """Starting V from a regression of pre-period outcomes on the standardised predictors (as Synth)."""
    n_units, k = xs.shape[1], xs.shape[0]
    if n_units <= k + 1:
        return None
    design = np.column_stack([np.ones(n_units), xs.T])
    beta, *_ = np.linalg.lstsq(design, z.T, rcond=None)
    v = (beta[1:] ** 2).sum(axis=1)
    if not np.isfinite(v).all() or v.sum() <= 0:
        return None
    return v / v.sum()


@dataclass
class _Fit:
    w: np.ndarray
    v: np.ndarray
    loss: float
    starts: int


def fit_weights(
    x1: np.ndarray,
    x0: np.ndarray,
    z1: np.ndarray,
    z0: np.ndarray,
    *,
    starts: int = 8,
    rng: np.random.Generator,
    v_start_regression: np.ndarray | None = None,
    v_start_extra: np.ndarray | None = None,
    effort: int = 400,
    fixed_v: np.ndarray | None = None,
) -> _Fit:
    """Outer search over diagonal V (softmax-parametrised) minimising the pre-period MSPE.

    Starts: equal V, the regression-based V, ``v_start_extra`` (placebos: the treated fit's V) and
    random Dirichlet draws up to ``starts``; each is run
    with Nelder–Mead (at most ``effort × k`` iterations, or until its best loss has stalled: no
    relative improvement above :data:`STALL_TOL` in its last ``STALL_EVALS × k`` evaluations); the
    best is restarted once and kept. The inner problem is solved by one :class:`_SimplexSolver`.
    """
    from scipy.optimize import minimize

    k = x1.shape[0]
    solve = _SimplexSolver(x1, x0)

    n_fit = len(z1)
    add = np.add.reduce

    def loss_of(v):
        # the pre-period MSPE: add.reduce(r·r)/n is what np.mean(r**2) computes (same pairwise sum,
        # same division), without its dispatch — the Nelder–Mead runs call this 10⁵ times
        w = solve(v)
        r = z1 - z0 @ w
        return float(add(r * r)) / n_fit, w

    best_so_far: list[float] = []  # lowest loss after each evaluation of the current run
    record = best_so_far.append

    def loss_theta(theta):  # the Nelder–Mead objective; records the best loss of the run so far
        loss = loss_of(_softmax(theta))[0]
        record(min(loss, best_so_far[-1]) if best_so_far else loss)
        return loss

    window = STALL_EVALS * k

    def stalled(intermediate_result):
        """Stop a run whose best loss has not moved (relative STALL_TOL) in the last ``window`` calls."""
        n = len(best_so_far)
        if n > window and best_so_far[-1 - window] - best_so_far[-1] <= STALL_TOL * abs(
            best_so_far[-1]
        ):
            raise StopIteration

    if fixed_v is not None or k == 1:
        v = fixed_v if fixed_v is not None else np.ones(1)
        loss, w = loss_of(v)
        return _Fit(w, v, loss, 0)

    inits = [np.zeros(k)]
    for extra in (v_start_regression, v_start_extra):
        if extra is not None:
            inits.append(np.log(np.clip(extra, 1e-8, None)))
    while len(inits) < max(starts, 1):
        inits.append(np.log(np.clip(rng.dirichlet(np.ones(k)), 1e-8, None)))

    def run(theta0):
        best_so_far.clear()
        res = minimize(
            loss_theta,
            theta0,
            method="Nelder-Mead",
            callback=stalled,
            options={"maxiter": effort * k, "xatol": 1e-6, "fatol": 1e-10, "adaptive": True},
        )
        return res.x, loss_of(_softmax(res.x))[0]

    best_theta, best_loss = None, math.inf
    for theta0 in inits:
        theta, loss = run(theta0)
        if loss < best_loss:
            best_theta, best_loss = theta, loss
    # one restart from the best point: Nelder–Mead often stalls on a collapsed simplex
    theta, loss = run(best_theta)
    if loss < best_loss:
        best_theta = theta
    v = _softmax(best_theta)
    loss, w = loss_of(v)
    return _Fit(w, v, loss, len(inits))


# --- the estimator ---------------------------------------------------------------------------------


def synth(
    data: pd.DataFrame,
    y: str,
    unit: str,
    time: str,
    treated_unit: Any,
    treatment_time: Any,
    predictors: Sequence[Any] | None = None,
    *,
    donors: Sequence[Any] | None = None,
    fit_times: Sequence[Any] | None = None,
    starts: int = 8,
    placebo: bool = True,
    placebo_starts: int = 2,
    placebo_filter: float | None = 5.0,
    seed: int = 0,
    effect_unit: str = "",
    outcome_label: str | None = None,
    synthetic: bool | None = None,
    source: str | None = None,
) -> EstimationResult:
    """Synthetic control method of Abadie, Diamond & Hainmueller (2010).

    Parameters
    ----------
    data : DataFrame
        Long panel: one row per unit and time.
    y, unit, time : str
        Outcome, unit and time columns.
    treated_unit : Any
        The value of ``unit`` that received the intervention.
    treatment_time : Any
        First time under the intervention; earlier times form the pre-period.
    predictors : list, optional
        Items ``"col"`` (mean over the pre-period) or ``("col", years, "mean")`` (mean over
        ``years``, one value or an iterable; use this for lagged outcomes such as
        ``("cigsale", 1975)``). Default: every pre-period value of the outcome.
    donors : list, optional
        Donor pool; default every other unit.
    fit_times : list, optional
        Pre-period times whose outcome MSPE the V search minimises (Synth's ``time.optimize.ssr``);
        default the whole pre-period.
    starts : int
        Starting points of the V search for the treated unit (equal V, regression V, random).
    placebo : bool
        Run placebo-in-space: re-estimate with each donor as if treated.
    placebo_starts : int
        Starting points for each placebo (fewer, for speed).
    placebo_filter : float or None
        Leave out of the plot the placebos whose pre-period RMSPE exceeds this
        multiple of the treated unit's (ADH 2010 used 20, 5 and 2). The p-value uses the RMSPE
        ratio of every placebo, as in ADH (2010).
    seed : int
        Seed of the random starts (results are deterministic).
    effect_unit, outcome_label : str
        Natural unit and Japanese name of the outcome.
    synthetic : bool, optional
        Mark the result as 模擬データ; defaults to ``data.attrs["synthetic"]``.
    source : str, optional
        Source line for the chart footer.

    Returns
    -------
    EstimationResult
        ``estimate`` is the mean post-period gap (treated − synthetic). ``ci`` is the 95% confidence
        set for a constant effect from inverting the placebo (permutation) test (Firpo & Possebom
        2018; :func:`permutation_interval`; NaN with fewer than 20 units or when it is empty,
        ``diagnostics["interval"]`` says which); ``se`` is NaN (there is no sampling-based SE for one
        treated unit); ``pvalue`` is the placebo rank p-value of the post/pre RMSPE ratio. Extra attributes: ``weights`` (Series by donor), ``gap`` (Series by
        time); ``details["v_weights"]`` holds the predictor weights.
    """
    require_frame(data)
    check_columns(data, y=y, unit=unit, time=time)
    require_columns(data, [y, unit, time])
    if starts < 1 or placebo_starts < 1:
        raise ParameterError("starts と placebo_starts は1以上にしてください。", parameter="starts")
    warnings: list[str] = []
    synthetic = is_synthetic(data, synthetic)
    frame = drop_missing(data, [unit, time], warnings)
    require_numeric(frame, y)
    dup = frame[frame.duplicated([unit, time], keep=False)]
    if len(dup):
        pairs = list(dict.fromkeys(zip(dup[unit], dup[time], strict=True)))
        shown = "、".join(f"{unit}={u}・{time}={t}" for u, t in pairs[:5])
        raise EstimationError(
            f"同じ単位・時点の行が複数あります（{len(pairs)}組: {shown}"
            f"{' ほか' if len(pairs) > 5 else ''}）。1単位1時点1行に集計してから渡してください"
            "（平均して使うことはしません）。",
            column=unit,
        )
    frame = frame.assign(**{time: as_time_column(frame[time], time)})
    treatment_time = match_time(treatment_time, frame[time], "treatment_time")

    units_all = list(pd.unique(frame[unit]))
    if treated_unit not in units_all:
        hint = suggest(treated_unit, units_all)
        shown = "、".join(map(str, units_all[:10])) + (" …" if len(units_all) > 10 else "")
        raise EstimationError(
            f"介入を受けた単位「{treated_unit}」がデータにありません。{hint}（ある単位: {shown}）",
            column=unit,
            parameter="treated_unit",
        )
    times = sorted(pd.unique(frame[time]))
    pre_times = [t for t in times if t < treatment_time]
    post_times = [t for t in times if t >= treatment_time]
    if not pre_times:
        raise EstimationError(
            f"介入時点 {treatment_time} より前の期間がありません（介入前の期間がない）。",
            parameter="treatment_time",
        )
    if not post_times:
        raise EstimationError(
            f"介入時点 {treatment_time} 以降の期間がありません。", parameter="treatment_time"
        )

    pool = [u for u in (donors if donors is not None else units_all) if u != treated_unit]
    missing = [u for u in pool if u not in units_all]
    if missing:
        raise EstimationError(f"比較候補 {missing[:5]} がデータにありません。", parameter="donors")

    wide = frame.pivot_table(index=time, columns=unit, values=y, aggfunc="mean", observed=True)
    wide = wide.reindex(index=times)
    if wide[treated_unit].isna().any():
        gaps = [t for t in times if pd.isna(wide.loc[t, treated_unit])][:5]
        raise EstimationError(
            f"介入を受けた単位「{treated_unit}」の結果変数に欠測があります（時点 {gaps}）。",
            column=y,
        )
    incomplete = [u for u in pool if wide[u].isna().any()]
    if incomplete:
        warnings.append(
            f"結果変数に欠測のある比較候補{len(incomplete)}件（{', '.join(map(str, incomplete[:5]))}"
            f"{' …' if len(incomplete) > 5 else ''}）を除いた。"
        )
        pool = [u for u in pool if u not in incomplete]

    preds = parse_predictors(predictors, y, pre_times)
    xmat = _predictor_matrix(frame, unit, time, [treated_unit, *pool], preds)
    if xmat[treated_unit].isna().any():
        bad = xmat.index[xmat[treated_unit].isna()].tolist()
        raise EstimationError(
            f"介入を受けた単位の予測変数 {bad} が計算できません（その年の値が欠測）。",
            parameter="predictors",
        )
    no_pred = [u for u in pool if xmat[u].isna().any()]
    if no_pred:
        warnings.append(f"予測変数が欠測の比較候補{len(no_pred)}件を除いた。")
        pool = [u for u in pool if u not in no_pred]
    if len(pool) < 2:
        raise EstimationError(
            f"比較候補が{len(pool)}件しかなく、合成コントロールを作れません（2件以上が必要）。",
            parameter="donors",
        )

    # standardise every predictor row by its SD over all units (treated + donors), as Synth does
    units = [treated_unit, *pool]
    xraw = xmat[units].to_numpy(dtype=float)
    sd = xraw.std(axis=1, ddof=1)
    sd[~np.isfinite(sd) | (sd == 0)] = 1.0
    xs = xraw / sd[:, None]
    yw = wide[units].to_numpy(dtype=float)
    pre_mask = np.array([t < treatment_time for t in times])
    fit_mask = pre_mask
    if fit_times is not None:
        fit_mask = pre_mask & np.isin(np.asarray(times), np.asarray(list(fit_times)))
        if not fit_mask.any():
            raise ParameterError(
                "fit_times に介入前の時点が含まれていません。", parameter="fit_times"
            )
    z = yw[fit_mask]
    rng = np.random.default_rng(seed)
    v_reg = _regression_v(xs, z)
    # Outcomes-only predictors fitted on the same times: V ∝ SD² makes the inner objective equal
    # the outer one, so its solution is the global optimum and no search is needed.
    fixed_v = sd**2 / np.sum(sd**2) if predictors is None and fit_times is None else None

    main = fit_weights(
        xs[:, 0],
        xs[:, 1:],
        z[:, 0],
        z[:, 1:],
        starts=starts,
        rng=rng,
        v_start_regression=v_reg,
        fixed_v=fixed_v,
    )
    synth_path = yw[:, 1:] @ main.w
    gap = yw[:, 0] - synth_path
    pre_rmspe = float(np.sqrt(np.mean(gap[pre_mask] ** 2)))
    post_rmspe = float(np.sqrt(np.mean(gap[~pre_mask] ** 2)))
    level = float(np.nanmax(np.abs(yw))) or 1.0
    ratio = rmspe_ratio(post_rmspe, pre_rmspe, level)
    estimate = float(np.mean(gap[~pre_mask]))

    weights = pd.Series(main.w, index=pd.Index(pool, name=unit), name="weight").sort_values(
        ascending=False
    )
    v_weights = pd.Series(main.v, index=xmat.index, name="v")
    balance = pd.DataFrame(
        {
            "treated": xraw[:, 0],
            "synthetic": xraw[:, 1:] @ main.w,
            "donor_mean": xraw[:, 1:].mean(axis=1),
        },
        index=xmat.index,
    )

    diagnostics: dict[str, Any] = {
        "pre_rmspe": pre_rmspe,
        "post_rmspe": post_rmspe,
        "post_pre_ratio": ratio,
        "n_donors": len(pool),
        "n_pre": int(pre_mask.sum()),
        "n_post": int((~pre_mask).sum()),
        "max_weight": float(weights.iloc[0]),
        "effective_donors": float(1 / np.sum(main.w**2)),
        "starts": main.starts,
        "weights": {str(k): float(v) for k, v in weights.items() if v > 1e-3},
        "v_weights": {str(k): float(v) for k, v in v_weights.items()},
    }

    se = math.nan
    ci = (math.nan, math.nan)
    pvalue = math.nan
    placebo_table = None
    placebo_gaps = None
    if placebo:
        placebo_table, placebo_gaps = _placebos(
            xs, yw, pre_mask, fit_mask, units, placebo_starts, rng, fixed_v, main.v, level
        )
        all_ratios = np.append(placebo_table["post_pre_ratio"].to_numpy(), ratio)
        rank = int(np.sum(all_ratios >= ratio))
        pvalue = rank / len(all_ratios)
        kept = placebo_table
        if placebo_filter is not None:
            kept = placebo_table[placebo_table["pre_rmspe"] <= placebo_filter * pre_rmspe]
        placebo_table["kept"] = placebo_table.index.isin(kept.index)
        ci, interval = permutation_interval(
            gap[~pre_mask], pre_rmspe, placebo_table["post_pre_ratio"].to_numpy()
        )
        diagnostics["placebo"] = {
            "pvalue": pvalue,
            "rank": rank,
            "n_units": len(all_ratios),
            "filter": placebo_filter,
        }
        diagnostics["interval"] = interval

    # a weighted average cannot leave the donors' range: say so when the treated unit is outside it
    pre_means = yw[pre_mask].mean(axis=0)
    if not pre_means[1:].min() <= pre_means[0] <= pre_means[1:].max():
        side = "上回って" if pre_means[0] > pre_means[1:].max() else "下回って"
        warnings.append(
            f"介入単位の介入前の平均（{fmt_num(pre_means[0])}）がすべての比較候補を{side}おり、"
            "重み付き平均では介入前の水準を再現できない。"
        )
        diagnostics["outside_donor_range"] = True
    checks = _checks(diagnostics, z[:, 0], weights, pool, placebo)
    grade, reasons = grading = decide("synth", checks)

    gap_series = pd.Series(gap, index=pd.Index(times, name=time), name="gap")
    result = EstimationResult(
        method="synth",
        method_ja="合成コントロール法",
        estimate=estimate,
        se=se,
        ci=ci,
        pvalue=pvalue,
        n=len(units),
        se_type="なし（区間はプラセボ検定の反転による）",
        unit=effect_unit or unit_of(data, y),
        outcome_label=outcome_label or title_of(data, y),
        diagnostics=diagnostics,
        grade=grade,
        reasons=reasons,
        grading=grading,
        warnings=warnings,
        synthetic=synthetic,
        details={
            "weights": weights,
            "gap": gap_series,
            "v_weights": v_weights,
            "predictor_balance": balance,
            "series": pd.DataFrame(
                {"time": times, "treated": yw[:, 0], "synthetic": synth_path, "gap": gap}
            ),
            "placebos": placebo_table,
            "placebo_gaps": placebo_gaps,
            "treated_unit": treated_unit,
            "treatment_time": treatment_time,
            "source": source,
        },
        _chart_builder=_chart,
        _summary_builder=_summary,
    )
    result.weights = weights  # type: ignore[attr-defined]
    result.gap = gap_series  # type: ignore[attr-defined]
    return result


def permutation_interval(
    post_gap: np.ndarray, pre_rmspe: float, placebo_ratios: np.ndarray, alpha: float = 0.05
) -> tuple[tuple[float, float], dict[str, Any]]:
    """95% confidence set for a constant effect by inverting the placebo (permutation) test.

    Firpo & Possebom (2018), J. Causal Inference 6(2), §3: under the sharp null "the effect is α in
    every post period" the treated unit's post-period gap becomes ``gap − α`` (its weights and
    pre-period fit do not change, and the placebos do not involve it), so its RMSPE ratio is
    sqrt(mean((gap − α)²))/pre_RMSPE. α is kept when the permutation p-value (rank of that ratio among
    all units, as ADH 2010) exceeds ``alpha``, i.e. when the ratio is at most the k-th largest placebo
    ratio; that set is an interval around the mean gap, in closed form. With fewer than 1/alpha units
    no α can be rejected and there is no interval (NaN); when the deciding placebo ratio is infinite
    (its pre-period fit is exact, :data:`EXACT_FIT`) no α is rejected either and the set is the whole
    line (status ``"unbounded"``, NaN); if even the mean gap is rejected the set is empty (NaN) — a
    constant effect does not fit the post-period gaps. Each status has a Japanese ``note_ja`` that
    says in words why no interval is shown.
    """
    n_units = len(placebo_ratios) + 1
    # keep α iff 1 + #{placebo ratio ≥ r(α)} > alpha·n_units
    need = math.floor(alpha * n_units - 1) + 1 if alpha * n_units >= 1 else 0
    info: dict[str, Any] = {
        "method": "permutation_inversion",
        "method_ja": "プラセボ（並べ替え）検定の反転による95%信頼集合（介入後の効果が一定と仮定、Firpo & Possebom 2018）",
        "n_units": n_units,
    }
    if need == 0:
        info["status"] = "too_few_units"
        info["note_ja"] = (
            f"単位が{n_units}しかなく、プラセボ検定はどの効果の大きさも5%水準で棄却できないため、"
            "95%信頼区間は示さない（p値と順位のみ）。"
        )
        return (math.nan, math.nan), info
    ratios = np.sort(np.asarray(placebo_ratios, dtype=float))[::-1]
    bound = ratios[need - 1] * pre_rmspe  # largest allowed post RMSPE of gap − α
    mean = float(np.mean(post_gap))
    spread = float(np.mean((post_gap - mean) ** 2))
    if bound == math.inf:
        info["status"] = "unbounded"
        info["note_ja"] = (
            "95%信頼区間は有限に定まらない。比較の単位が少なく、介入前の推移をほぼ完全に再現できる"
            "比較候補があるため、プラセボ検定がどの大きさの効果も棄却できない（p値と順位のみ示す）。"
        )
        return (math.nan, math.nan), info
    if not np.isfinite(bound) or bound**2 < spread:
        info["status"] = "empty"
        info["note_ja"] = (
            "介入後の差が時点ごとに大きくばらつき、どの一定の効果もプラセボ検定で棄却されるため、"
            "95%信頼区間は示さない（効果が一定でない可能性）。"
        )
        return (math.nan, math.nan), info
    half = math.sqrt(bound**2 - spread)
    info["status"] = "ok"
    info["note_ja"] = "区間はプラセボ検定を反転して求めた（介入後の効果が一定と仮定）。"
    return (mean - half, mean + half), info


def rmspe_ratio(post: float, pre: float, level: float) -> float:
    """Post/pre RMSPE ratio; infinite when the pre-period fit is exact (pre ≤ EXACT_FIT × level)."""
    return post / pre if pre > EXACT_FIT * level else math.inf


def _placebos(xs, yw, pre_mask, fit_mask, units, starts, rng, fixed_v, v_main, level=1.0):
    """Re-run with each donor as the treated unit; donors = the other donors (treated left out).

    The standardised predictor matrix is computed once (scaled over all units, treated included)
    and reused, which differs negligibly from re-standardising per placebo and saves the work.
    """
    rows, gaps = [], {}
    donors = list(range(1, len(units)))
    z = yw[fit_mask]
    for j in donors:
        others = [d for d in donors if d != j]
        sub = xs[:, others]
        v_reg = _regression_v(xs[:, [j, *others]], z[:, [j, *others]])
        fit = fit_weights(
            xs[:, j],
            sub,
            z[:, j],
            z[:, others],
            starts=starts,
            rng=rng,
            v_start_regression=v_reg,
            v_start_extra=v_main,
            effort=PLACEBO_EFFORT,
            fixed_v=fixed_v,
        )
        gap = yw[:, j] - yw[:, others] @ fit.w
        pre = float(np.sqrt(np.mean(gap[pre_mask] ** 2)))
        post = float(np.sqrt(np.mean(gap[~pre_mask] ** 2)))
        rows.append(
            {
                "unit": units[j],
                "pre_rmspe": pre,
                "post_rmspe": post,
                "post_pre_ratio": rmspe_ratio(post, pre, level),
                "mean_post_gap": float(np.mean(gap[~pre_mask])),
            }
        )
        gaps[units[j]] = gap
    return pd.DataFrame(rows), pd.DataFrame(gaps)


def _checks(diag, z_treated, weights, pool, placebo) -> list[Check]:
    checks = []
    scale = float(np.mean(np.abs(z_treated)))
    rel = diag["pre_rmspe"] / scale if scale > 0 else math.inf
    diag["pre_rmspe_relative"] = rel
    checks.append(
        Check(
            "pre_fit",
            rel <= GOOD_FIT,
            f"介入前の当てはまり（RMSPE {fmt_num(diag['pre_rmspe'])}）は結果変数の平均水準の"
            f"{rel * 100:.1f}%"
            + (
                "で良好。"
                if rel <= GOOD_FIT
                else "で、合成コントロールが介入前の推移を十分に再現できていない。"
            ),
            severity=1 if rel <= FAIR_FIT else 2,
        )
    )
    n_donors, n_pre = diag["n_donors"], diag["n_pre"]
    checks.append(
        Check(
            "donors",
            n_donors >= MIN_DONORS and n_pre >= MIN_PRE,
            f"比較候補は{n_donors}件、介入前の時点は{n_pre}点"
            f"（それぞれ{MIN_DONORS}件・{MIN_PRE}点以上が目安）。",
        )
    )
    top = weights.iloc[0]
    concentrated = top > MAX_SINGLE_WEIGHT
    checks.append(
        Check(
            "weight_concentration",
            not concentrated,
            f"最大の重みは「{weights.index[0]}」の{top:.2f}（実質的な比較候補数 "
            f"{diag['effective_donors']:.1f}）"
            + (
                "で、ほぼ1つの単位との比較になっている。"
                if concentrated
                else "で、複数の単位から合成されている。"
            ),
        )
    )
    if placebo and 1 / diag["placebo"]["n_units"] > PLACEBO_P:
        pl = diag["placebo"]
        checks.append(
            Check(
                "placebo",
                None,
                f"単位が{pl['n_units']}しかなく、プラセボ検定のp値は最小でも{fmt_p(1 / pl['n_units'])}"
                f"にしかならないため判定できない（介入単位の順位は{pl['rank']}番目）。",
            )
        )
    elif placebo:
        pl = diag["placebo"]
        ok = pl["pvalue"] <= PLACEBO_P
        checks.append(
            Check(
                "placebo",
                ok,
                f"介入単位の介入後/介入前 RMSPE 比は{pl['n_units']}単位中{pl['rank']}番目に大きい"
                f"（プラセボ検定 {fmt_p(pl['pvalue'])}）"
                + (
                    "で、偶然の差とは考えにくい。"
                    if ok
                    else "で、他の単位でも同じくらいの差が出ており、効果と偶然を区別できない。"
                ),
            )
        )
    else:
        checks.append(Check("placebo", None, "プラセボ検定を行っていない。"))
    return checks


def _summary(res: EstimationResult) -> str:
    d, det = res.diagnostics, res.details
    w = det["weights"]
    top = "、".join(f"{u} {v:.2f}" for u, v in w[w > 0.05].head(5).items())
    word = "高かった" if res.estimate >= 0 else "低かった"
    head = (
        f"{det['treated_unit']}の介入後の{res.outcome_label}は、介入がなかった場合の推計"
        f"（合成コントロール）に比べて平均で約{fmt_num(abs(res.estimate))}{res.unit}{word}"
    )
    if math.isfinite(res.ci[0]):
        words = change_range(res.ci[0], res.ci[1], res.unit, less="低い", more="高い",
                             particle="", num=fmt_num)  # fmt: skip
        head += f"（プラセボ検定を反転した95%信頼区間は{words}）"
    head += f"。合成コントロールは{top}の重み付き平均である。"
    interval = d.get("interval")
    if interval and interval.get("status") != "ok":
        head += interval["note_ja"]
    sure = ""
    if "placebo" in d:
        pl = d["placebo"]
        sure = (
            f"同じ分析を比較候補それぞれに当てはめると、介入単位の差の大きさは{pl['n_units']}単位中"
            f"{pl['rank']}番目（{fmt_p(pl['pvalue'])}）。"
        )
    caveat = "介入単位は一つだけで、同じ時期にその単位だけに起きた別の出来事も差に含まれうる。"
    if math.isfinite(res.ci[0]):
        caveat += "区間は標本誤差ではなく、プラセボ検定を反転して求めた（効果が介入後一定と仮定）。"
    return close_summary(f"{head}{sure}{caveat}", res)


def _chart(res: EstimationResult):
    import altair as alt

    from ebpm.charts.core import enable_theme, with_footer

    enable_theme()
    det = res.details
    s = det["series"]
    is_dt = pd.api.types.is_datetime64_any_dtype(s["time"])
    tenc = "time:T" if is_dt else "time:Q"
    taxis = alt.Axis(title="時点") if is_dt else alt.Axis(title="時点", format="~g")
    treated = str(det["treated_unit"])
    paths = pd.concat(
        [
            s[["time", "treated"]].rename(columns={"treated": "value"}).assign(series=treated),
            s[["time", "synthetic"]]
            .rename(columns={"synthetic": "value"})
            .assign(series="合成コントロール"),
        ]
    )
    rule = (
        alt.Chart(pd.DataFrame({"time": [det["treatment_time"]]}))
        .mark_rule(strokeDash=[4, 3], color="#777")
        .encode(x=alt.X(tenc))
    )
    top = (
        alt.Chart(paths)
        .mark_line()
        .encode(
            x=alt.X(tenc, axis=taxis),
            y=alt.Y("value:Q", title=res.outcome_label, scale=alt.Scale(zero=False)),
            color=alt.Color(
                "series:N",
                title=None,
                scale=alt.Scale(domain=[treated, "合成コントロール"], range=["#000000", "#0072B2"]),
            ),
            strokeDash=alt.StrokeDash(
                "series:N",
                scale=alt.Scale(domain=[treated, "合成コントロール"], range=[[1, 0], [6, 4]]),
                legend=None,
            ),
        )
    )
    top = (top + rule).properties(
        title=alt.TitleParams(
            f"{treated}と合成コントロールの{res.outcome_label}",
            subtitle=f"実線: {treated}　破線: 合成コントロール　縦の点線: 介入開始",
        ),
        height=220,
    )
    layers = []
    pg = det.get("placebo_gaps")
    if pg is not None and len(pg.columns):
        kept = det["placebos"].loc[det["placebos"]["kept"], "unit"]
        pg = pg[[c for c in pg.columns if c in set(kept)]]
        long = pg.assign(time=s["time"].to_numpy()).melt("time", var_name="unit", value_name="gap")
        layers.append(
            alt.Chart(long)
            .mark_line(color="#bbbbbb", strokeWidth=1)
            .encode(x=alt.X(tenc), y=alt.Y("gap:Q"), detail=alt.Detail("unit:N"))
        )
    layers.append(
        alt.Chart(s)
        .mark_line(color="#000000", strokeWidth=2.5)
        .encode(x=alt.X(tenc, axis=taxis), y=alt.Y("gap:Q", title=f"差（{treated} − 合成）"))
    )
    zero = alt.Chart(pd.DataFrame({"y": [0]})).mark_rule(color="#555").encode(y=alt.Y("y:Q"))
    bottom = alt.layer(*layers, zero, rule).properties(
        title=alt.TitleParams("介入単位との差（黒）とプラセボの差（灰色）"), height=220
    )
    chart = alt.vconcat(top, bottom, spacing=18)
    return with_footer(chart, source=det.get("source"), synthetic=res.synthetic)

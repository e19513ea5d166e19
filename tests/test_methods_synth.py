"""Synthetic control: Prop 99 and Basque references, the inner QP, placebo inference, bad input."""

from __future__ import annotations

import math

import ebpm
import numpy as np
import pandas as pd
import pytest
from ebpm.config import paths
from ebpm.errors import EstimationError, ParameterError
from ebpm.methods.synth import parse_predictors, permutation_interval, simplex_weights

TEACHING = paths().shared / "data" / "teaching"

YEARS_80S = range(1980, 1989)
PROP99_PREDICTORS = [
    ("lnincome", YEARS_80S),
    ("age15to24", YEARS_80S),
    ("retprice", YEARS_80S),
    ("beer", range(1984, 1989)),
    ("cigsale", 1975),
    ("cigsale", 1980),
    ("cigsale", 1988),
]
# Abadie, Diamond & Hainmueller (2010) JASA 105(490):493–505, Table 2 (state weights in the
# synthetic California). The paper prints Utah 0.334; the brief's "0.394" would make the weights sum
# to 1.06, so it is a typo. Every other state has weight 0.
PROP99_WEIGHTS = {
    "Utah": 0.334,
    "Nevada": 0.234,
    "Montana": 0.199,
    "Colorado": 0.164,
    "Connecticut": 0.069,
}


def _panel(n_units=16, n_times=30, start=21, effect=-5.0, seed=0):
    """模擬データ: a two-factor panel; the treated unit is a convex mix of three donors plus noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_times)
    f1, f2 = np.sin(t / 4.0) * 5, t * 0.5
    loads = rng.uniform(0.5, 2.0, size=(n_units, 2))
    base = 50 + loads[:, :1] * f1 + loads[:, 1:] * f2 + rng.normal(0, 0.3, (n_units, n_times))
    mix = np.array([0.5, 0.3, 0.2])
    treated = mix @ base[1:4] + rng.normal(0, 0.3, n_times)
    treated = treated + effect * (t >= start)
    base[0] = treated
    rows = [
        {"unit": f"u{i:02d}", "time": 2000 + j, "y": base[i, j], "x": loads[i, 0] * 10}
        for i in range(n_units)
        for j in range(n_times)
    ]
    frame = pd.DataFrame(rows)
    frame.attrs["synthetic"] = True
    return frame


@pytest.fixture(scope="module")
def prop99():
    path = TEACHING / "prop99_smoking.dta"
    if not path.exists():
        pytest.skip("../shared/data/teaching がない")
    frame = pd.read_stata(path)
    frame["state"] = frame["state"].astype(str)
    return frame


@pytest.fixture(scope="module")
def prop99_fit(prop99):
    """ADH (2010)'s Prop 99 fit with its 38 placebos, computed once for the two reference tests.

    The treated fit does not depend on ``placebo``: it is found first, with the same seeded starts,
    and the placebos only draw from the generator afterwards, so its weights are those of a run
    with ``placebo=False`` (the donor-weight test used to run that separately, 3 CPU-s)."""
    return ebpm.synth(prop99, "cigsale", "state", "year", "California", 1989, PROP99_PREDICTORS)


# --- pure helpers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "labels"),
    [
        (["a"], ["a（介入前平均）"]),
        ([("a", 1980)], ["a（1980）"]),
        ([("a", range(1980, 1983), "mean")], ["a（1980〜1982平均）"]),
        (None, ["y（1）", "y（2）"]),
    ],
)
def test_parse_predictors(spec, labels):
    assert [p.label for p in parse_predictors(spec, "y", [1, 2])] == labels


@pytest.mark.parametrize("spec", [[("a", 1980, "median")], [("a",)], [42]])
def test_parse_predictors_rejects(spec):
    with pytest.raises(ParameterError):
        parse_predictors(spec, "y", [1, 2])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_simplex_weights_match_slsqp(seed):
    """The NNLS formulation against an independent solver (scipy SLSQP on the same QP)."""
    from scipy.optimize import minimize

    rng = np.random.default_rng(seed)
    k, j = 6, 12
    x0 = rng.normal(size=(k, j))
    x1 = rng.normal(size=k) * 0.5
    v = rng.dirichlet(np.ones(k))

    def obj(w):
        r = x1 - x0 @ w
        return float(r @ (v * r))

    ref = minimize(
        obj, np.full(j, 1 / j), method="SLSQP", bounds=[(0, 1)] * j,
        constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1}],
        options={"ftol": 1e-14, "maxiter": 1000},
    )  # fmt: skip
    w = simplex_weights(x1, x0, v)
    assert w.min() >= 0 and w.sum() == pytest.approx(1.0, abs=1e-12)
    assert obj(w) <= ref.fun + 1e-8
    assert np.abs(w - ref.x).max() < 1e-3


def test_reused_inner_solver_gives_the_same_weights_to_the_bit():
    """The V search reuses one solver (one buffer overwritten per V): it gives exactly the weights of a
    new solver for each V, i.e. of simplex_weights, which is checked against SLSQP above."""
    from ebpm.methods.synth import _SimplexSolver

    rng = np.random.default_rng(3)
    for k, j in [(7, 38), (3, 5), (12, 20)]:
        x0 = rng.normal(size=(k, j))
        x1 = rng.normal(size=k)
        solve = _SimplexSolver(x1, x0)
        for _ in range(20):
            v = rng.dirichlet(np.full(k, 0.3))  # uneven V, as the search visits
            assert np.array_equal(solve(v), simplex_weights(x1, x0, v))


def test_inner_solver_gives_the_weights_of_scipy_nnls_to_the_bit(monkeypatch):
    """The solver calls scipy's NNLS routine without its public wrapper (10⁵ calls per Prop 99
    run): the weights are those of ``scipy.optimize.nnls`` itself, bit for bit, and non-finite input
    is refused as the public function refuses it."""
    import importlib

    synth_mod = importlib.import_module("ebpm.methods.synth")  # the module, not the function
    rng = np.random.default_rng(4)
    problems = []
    for k, j in [(7, 38), (3, 5), (12, 20), (19, 15)]:
        x0, x1 = rng.normal(size=(k, j)), rng.normal(size=k)
        problems.append((x1, x0, [rng.dirichlet(np.full(k, 0.3)) for _ in range(10)]))
    fast = [[synth_mod._SimplexSolver(x1, x0)(v) for v in vs] for x1, x0, vs in problems]
    monkeypatch.setattr(synth_mod, "_nnls", synth_mod._public_nnls)
    public = [[synth_mod._SimplexSolver(x1, x0)(v) for v in vs] for x1, x0, vs in problems]
    for got, want in zip(fast, public, strict=True):
        for a, b in zip(got, want, strict=True):
            assert np.array_equal(a, b)
    monkeypatch.undo()
    x0 = rng.normal(size=(3, 5))
    with pytest.raises(ValueError):
        synth_mod._SimplexSolver(np.array([1.0, np.nan, 0.0]), x0)
    with pytest.raises(ValueError):
        synth_mod._SimplexSolver(np.ones(3), x0)(np.array([0.5, np.inf, 0.5]))
    with pytest.raises(ValueError):
        synth_mod._SimplexSolver(np.ones(3), x0)(np.array([0.5, np.nan, 0.5]))


# --- published references --------------------------------------------------------------------------


@pytest.mark.reference
@pytest.mark.xdist_group("prop99")  # shares prop99_fit with the placebo test on one worker
def test_prop99_donor_weights(prop99, prop99_fit):
    res = prop99_fit
    w = res.weights
    # The brief asked for ±0.05 for each of the paper's five donors. We get Utah 0.335, Nevada 0.236,
    # Montana 0.202, Colorado 0.160, Connecticut 0.068 (the same with seeds 0–3), so we assert ±0.01.
    for state, expected in PROP99_WEIGHTS.items():
        assert w[state] == pytest.approx(expected, abs=0.01), state
    assert set(w[w > 0.05].index) == set(PROP99_WEIGHTS)
    assert w.sum() == pytest.approx(1.0, abs=1e-9) and (w >= 0).all()
    # pre-period fit no worse than the paper's own weights (RMSPE 1.758; ours 1.754) plus a slack
    wide = prop99.pivot_table(index="year", columns="state", values="cigsale", observed=True)
    paper = pd.Series(PROP99_WEIGHTS)
    pre = wide.index < 1989
    gap = wide.loc[pre, "California"] - wide.loc[pre, paper.index] @ paper
    paper_rmspe = float(np.sqrt(np.mean(gap**2)))
    assert res.diagnostics["pre_rmspe"] <= paper_rmspe + 0.005
    assert res.details["v_weights"].sum() == pytest.approx(1.0)
    assert res.gap.index.min() == 1970 and len(res.gap) == 31


@pytest.mark.reference
@pytest.mark.slow
@pytest.mark.xdist_group("prop99")
def test_prop99_placebo_p_value(prop99_fit):
    # ADH (2010) §4 / Figure 8: California has the largest post/pre RMSPE ratio of the 39 states,
    # so the placebo p-value is 1/39 ≈ 0.026.
    res = prop99_fit
    assert res.pvalue == pytest.approx(1 / 39)
    assert res.diagnostics["placebo"]["rank"] == 1
    # Firpo–Possebom interval (constant effect): 0 is rejected, the set lies below zero
    assert res.diagnostics["interval"]["status"] == "ok"
    assert res.estimate < 0 and res.ci[0] < res.estimate < res.ci[1] < 0
    assert res.grade == "B"


@pytest.mark.reference
def test_basque_second_case():
    # Abadie & Gardeazabal (2003) as in the R Synth example (predictors, special predictors,
    # time.optimize.ssr = 1960:1969): Synth reports Cataluña 0.851 and Madrid 0.149. Our search finds
    # a lower value of that same objective (fit-period MSPE about half of Synth's) with Cataluña
    # 0.63, Baleares 0.22, Madrid 0.15 — the V problem has several near-optima. We assert that
    # Cataluña is the largest donor, Madrid's weight within ±0.05, and a fit at least as good.
    path = TEACHING / "basque_ag2003.csv"
    if not path.exists():
        pytest.skip("../shared/data/teaching がない")
    frame = pd.read_csv(path)
    frame = frame[frame["regionno"] != 1]  # Spain as a whole is not a donor
    odd = range(1961, 1970, 2)
    schooling = ["school.illit", "school.prim", "school.med", "school.high", "school.post.high"]
    sectors = ["sec.agriculture", "sec.energy", "sec.industry", "sec.construction",
               "sec.services.venta", "sec.services.nonventa"]  # fmt: skip
    preds = [(c, range(1964, 1970)) for c in [*schooling, "invest"]]
    preds += [("gdpcap", range(1960, 1970)), *[(c, odd) for c in sectors], ("popdens", 1969)]
    basque = "Basque Country (Pais Vasco)"
    res = ebpm.synth(frame, "gdpcap", "regionname", "year", basque, 1970, preds,
                     fit_times=range(1960, 1970), placebo=False)  # fmt: skip
    assert res.weights.index[0] == "Cataluna"
    assert res.weights["Madrid (Comunidad De)"] == pytest.approx(0.149, abs=0.05)
    wide = frame.pivot_table(index="year", columns="regionname", values="gdpcap")
    fit = (wide.index >= 1960) & (wide.index < 1970)
    paper = wide.loc[fit, basque] - (
        0.851 * wide.loc[fit, "Cataluna"] + 0.149 * wide.loc[fit, "Madrid (Comunidad De)"]
    )
    ours = res.gap[fit.tolist()]
    # Pre-period (1960–1969) loss, mean squared gap of GDP per capita (thousand 1986 USD)²:
    # published weights (Cataluña 0.851, Madrid 0.149; Abadie & Gardeazabal 2003 / R Synth example)
    # 0.008865; ours 0.004286 (this run). Ours must be no worse; tolerance 1e-6 on the comparison.
    paper_loss, our_loss = float(np.mean(paper**2)), float(np.mean(ours**2))
    assert paper_loss == pytest.approx(0.008865, abs=5e-7)
    assert our_loss <= paper_loss + 1e-6
    assert our_loss == pytest.approx(0.004286, abs=5e-5)


# --- simulated panel with a known effect -----------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_permutation_interval_is_the_set_of_effects_the_placebo_test_keeps(seed):
    # brute force: the permutation p-value of each α on a fine grid, against the closed form
    rng = np.random.default_rng(seed)
    gap = -3 + rng.normal(0, 1, 8)
    placebo = rng.gamma(2.0, 1.0, 29)  # 30 units: 5% keeps α unless its ratio beats all but one
    pre = 0.8
    (lo, hi), info = permutation_interval(gap, pre, placebo)
    assert info["status"] == "ok"
    grid = np.linspace(-15, 10, 5001)
    ratios = np.sqrt(((gap[None, :] - grid[:, None]) ** 2).mean(axis=1)) / pre
    p = (1 + (placebo[None, :] >= ratios[:, None]).sum(axis=1)) / 30
    kept = grid[p > 0.05]
    step = grid[1] - grid[0]
    assert kept.min() == pytest.approx(lo, abs=step) and kept.max() == pytest.approx(hi, abs=step)
    _, few = permutation_interval(gap, pre, placebo[:15])
    assert few["status"] == "too_few_units"


def test_an_exact_placebo_fit_makes_the_interval_unbounded_and_says_so():
    # a placebo whose pre-period is reproduced exactly (RMSPE at rounding level) has an infinite
    # post/pre ratio: no constant effect is rejected, the set is the whole line (it printed
    # as ±1.17e+05億 before), and the note says so in words
    from ebpm.methods.synth import EXACT_FIT, rmspe_ratio

    assert rmspe_ratio(1.0, 100 * EXACT_FIT * 0.5, 100.0) == math.inf
    assert rmspe_ratio(1.0, 0.5, 100.0) == 2.0
    rng = np.random.default_rng(0)
    gap = -3 + rng.normal(0, 1, 8)
    placebo = np.append(rng.gamma(2.0, 1.0, 32), math.inf)  # 34 units: the largest ratio decides
    (lo, hi), info = permutation_interval(gap, 0.8, placebo)
    assert math.isnan(lo) and math.isnan(hi)
    assert info["status"] == "unbounded"
    assert "有限に定まらない" in info["note_ja"]


def test_recovers_known_effect_and_weights():
    frame = _panel(effect=-5.0)
    res = ebpm.synth(frame, "y", "unit", "time", "u00", 2021, predictors=None, effect_unit="件")
    # 16 units: the permutation test cannot reject any effect at 5% (1/16 > 0.05), so no interval
    assert np.isnan(res.ci[0]) and np.isnan(res.ci[1])
    assert res.diagnostics["interval"]["status"] == "too_few_units"
    assert "95%信頼区間は示さない" in res.summary_ja()
    assert res.estimate == pytest.approx(-5.0, abs=1.0)
    assert res.diagnostics["pre_rmspe"] < 0.6  # noise SD 0.3 in treated and donors
    assert res.diagnostics["starts"] == 0  # outcomes-only: V ∝ SD² is optimal, no search
    assert res.synthetic and "模擬データ" in res.summary_ja()
    assert res.pvalue == pytest.approx(1 / 16)
    d = res.to_dict()
    assert d["method"] == "synth" and d["grade"] in "ABCD"


def test_no_effect_is_not_significant_and_lowers_grade():
    res = ebpm.synth(_panel(effect=0.0, seed=1), "y", "unit", "time", "u00", 2021)
    assert np.isnan(res.ci[0])  # 16 units: no interval from the permutation test
    assert any("区別できない" in r for r in res.reasons)


def test_single_donor_copy_flags_concentration():
    frame = _panel(seed=2)
    copy = frame[frame["unit"] == "u05"].assign(unit="u99")
    copy["y"] = copy["y"] + np.where(copy["time"] >= 2021, -5.0, 0.0)
    frame = pd.concat([frame[frame["unit"] != "u00"], copy])
    res = ebpm.synth(frame, "y", "unit", "time", "u99", 2021, placebo=False)
    assert res.weights["u05"] > 0.95
    assert any("ほぼ1つの単位" in r and r.startswith("【要注意】") for r in res.reasons)


def test_too_few_units_for_placebo_inference_is_untested_not_failed():
    res = ebpm.synth(_panel(n_units=6), "y", "unit", "time", "u00", 2021)
    assert res.diagnostics["placebo"]["rank"] == 1
    assert any(r.startswith("【未確認】") and "プラセボ" in r for r in res.reasons)
    assert res.diagnostics["weights"] and sum(res.diagnostics["weights"].values()) > 0.99


def test_treated_above_every_donor_is_flagged():
    frame = _panel(seed=3)
    frame.loc[frame["unit"] == "u00", "y"] += 100
    res = ebpm.synth(frame, "y", "unit", "time", "u00", 2021, placebo=False)
    assert res.diagnostics.get("outside_donor_range") is True
    assert any("上回って" in w for w in res.warnings)
    assert any(r.startswith("【要注意】介入前の当てはまり") for r in res.reasons)


def test_chart_has_placebo_lines_and_footer():
    from ebpm.charts.core import to_svg

    res = ebpm.synth(_panel(n_units=8), "y", "unit", "time", "u00", 2021)
    svg = to_svg(res.chart())
    assert "プラセボ" in svg and "模擬データ" in svg


# --- bad input -------------------------------------------------------------------------------------


def test_treated_unit_missing():
    with pytest.raises(EstimationError, match="u77"):
        ebpm.synth(_panel(), "y", "unit", "time", "u77", 2021)


def test_no_pre_period():
    with pytest.raises(EstimationError, match="介入前"):
        ebpm.synth(_panel(), "y", "unit", "time", "u00", 1990)


def test_non_numeric_outcome():
    frame = _panel().assign(y=lambda d: d["y"].round().astype(int).astype(str))
    with pytest.raises(EstimationError, match="数値"):
        ebpm.synth(frame, "y", "unit", "time", "u00", 2021)


def test_missing_predictor_for_treated():
    frame = _panel()
    frame.loc[frame["unit"] == "u00", "x"] = np.nan
    with pytest.raises(EstimationError, match="予測変数"):
        ebpm.synth(frame, "y", "unit", "time", "u00", 2021, predictors=["x"])


def test_too_few_donors():
    frame = _panel()
    frame = frame[frame["unit"].isin(["u00", "u01"])]
    with pytest.raises(EstimationError, match="比較候補"):
        ebpm.synth(frame, "y", "unit", "time", "u00", 2021)


def test_counter_visit_cashless_recovers_ground_truth():
    """模擬データ: 見前出張所 went cashless in 2022-10; donors are the 9 offices not treated before
    2023-07, window 2019-04 to 2023-06. Truth: full effect × 8/9 (the effect ramps up over three
    months: 1/3, 2/3, then full, across nine post months). The placebo interval must contain it.
    The fit is only fair (monthly office waits are noisy), which the grade reports."""
    import yaml

    folder = paths().raw / "synthetic_morioka"
    if not (folder / "counter_visit.csv").exists():
        pytest.fail("同梱の模擬データ（data/raw/synthetic_morioka）がありません")
    truth = yaml.safe_load((folder / "ground_truth.yml").read_text(encoding="utf-8"))
    office = "見前出張所"
    effect = truth["counter_visit"]["full_effect_by_office"][office] * 8 / 9
    frame = pd.read_csv(folder / "counter_visit.csv", parse_dates=["month", "cashless_since"])
    late = frame["cashless_since"].isna() | (frame["cashless_since"] >= "2023-07-01")
    keep = ((frame["office"] == office) | late) & (frame["month"] < "2023-07-01")
    panel = frame[keep].copy()
    panel.attrs["synthetic"] = True
    res = ebpm.synth(panel, "mean_wait_min", "office", "month", office, pd.Timestamp("2022-10-01"),
                     effect_unit="分", outcome_label="窓口の平均待ち時間")  # fmt: skip
    assert res.diagnostics["interval"]["status"] == "too_few_units"  # 15 offices < 20
    assert res.estimate < 0 and effect < 0  # same direction as the true effect
    assert "模擬データ" in res.summary_ja()


def test_duplicated_unit_time_rows_are_refused():
    """Like did/its: two rows for one unit and time are an error naming them, never averaged."""
    frame = _panel(n_units=6, n_times=12, start=8)
    dup = frame.iloc[[3, 3, 20]].copy()
    with pytest.raises(EstimationError, match="同じ単位・時点の行が複数") as info:
        ebpm.synth(
            pd.concat([frame, dup], ignore_index=True),
            y="y", unit="unit", time="time", treated_unit="u00", treatment_time=2008, placebo=False,
        )  # fmt: skip
    row = frame.iloc[3]
    assert f"unit={row['unit']}・time={row['time']}" in str(info.value)
    assert "2組" in str(info.value)

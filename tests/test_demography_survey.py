"""Cohort-change-ratio projection (hand-checked case) and survey-weighted proportions (against statsmodels)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from ebpm.errors import ParameterError
from ebpm.methods import demography, survey


def _toy() -> pd.DataFrame:
    # one sex, bands 0, 5, 10, 15 and the open band 20+ (the woman ages 15–49 are the bands 15 and 20+)
    rows = []
    for year, values in {2015: [10, 10, 10, 10, 20], 2020: [12, 9, 11, 8, 27]}.items():
        for age, v in zip([0, 5, 10, 15, 20], values, strict=True):
            rows.append({"year": year, "sex": "female", "age_from": age, "population": v})
    return pd.DataFrame(rows)


def test_cohort_change_projection_matches_the_hand_calculation():
    """Hand calculation with the formulas of Hamilton & Perry (1962) / Swanson et al. (2010):
    R5 = 9/10, R10 = 11/10, R15 = 8/10, R20+ = 27/(10+20) = 0.9, CWR = 12/(8+27).
    2025: 5–9 = 0.9·12 = 10.8, 10–14 = 1.1·9 = 9.9, 15–19 = 0.8·11 = 8.8, 20+ = 0.9·(8+27) = 31.5,
          0–4 = 12/35·(8.8+31.5) = 13.817142857.
    2030: 5–9 = 0.9·13.817142857 = 12.435428571, 10–14 = 1.1·10.8 = 11.88, 15–19 = 0.8·9.9 = 7.92,
          20+ = 0.9·(8.8+31.5) = 36.27, 0–4 = 12/35·(7.92+36.27) = 15.150857143."""
    out = demography.cohort_change_projection(_toy(), base_year=2020, to_year=2030)
    got = out.set_index(["year", "age_from"])["population"]
    expected = {
        (2025, 5): 10.8, (2025, 10): 9.9, (2025, 15): 8.8, (2025, 20): 31.5, (2025, 0): 13.817142857,
        (2030, 5): 12.435428571, (2030, 10): 11.88, (2030, 15): 7.92, (2030, 20): 36.27,
        (2030, 0): 15.150857143,
    }  # fmt: skip
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-8), key
    assert out.loc[out["year"] == 2020, "projected"].eq(False).all()
    assert out.loc[out["year"] > 2020, "projected"].all()


def test_zero_denominators_take_the_reference_ratio():
    small = _toy()
    small.loc[(small["year"] == 2015) & (small["age_from"] == 5), "population"] = 0
    ref = _toy()
    out = demography.cohort_change_projection(small, base_year=2020, to_year=2025, reference=ref)
    # R10 of the small area is 11/0 (undefined) -> the reference's 1.1 applies: 1.1·9 = 9.9
    assert out.set_index(["year", "age_from"])["population"][(2025, 10)] == pytest.approx(9.9)


def test_projection_refuses_a_past_target_year():
    with pytest.raises(ParameterError, match="基準年"):
        demography.cohort_change_projection(_toy(), base_year=2020, to_year=2020)


def test_ageing_indicators_by_hand():
    frame = pd.DataFrame({"age_from": [0, 15, 65, 75], "population": [10, 60, 20, 10]})
    ind = demography.ageing_indicators(frame)
    assert ind["total"] == 100 and ind["share_65_over"] == 30 and ind["share_75_over"] == 10
    assert ind["old_age_dependency"] == pytest.approx(50.0)


def _survey(seed: int = 7, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "y": rng.integers(0, 2, n),
            "w": rng.uniform(0.5, 4.0, n),
            "g": rng.choice(["a", "b", "c"], n),
            "year": rng.choice([2021, 2025], n),
        }
    )


def test_weighted_proportion_matches_statsmodels():
    """Reference: the HC1 SE of the intercept of WLS(y ~ 1, weights=w) in statsmodels equals the
    linearised SE (Σw²(y−p)²/(Σw)²·n/(n−1)); the CI is statsmodels' Wilson interval at n_eff."""
    import statsmodels.api as sm
    from statsmodels.stats.proportion import proportion_confint

    df = _survey()
    est = survey.weighted_proportion(df["y"], df["w"])
    fit = sm.WLS(df["y"].astype(float), np.ones(len(df)), weights=df["w"]).fit(cov_type="HC1")
    assert est["share"] == pytest.approx(float(fit.params.iloc[0]), rel=1e-12)
    assert est["se"] == pytest.approx(float(fit.bse.iloc[0]), rel=1e-9)
    lo, hi = proportion_confint(est["share"] * est["n_eff"], est["n_eff"], method="wilson")
    assert (est["ci_low"], est["ci_high"]) == pytest.approx((lo, hi), abs=1e-9)


def test_weighted_proportions_suppress_small_groups():
    df = _survey(n=120)
    df.loc[df.index[:5], "g"] = "tiny"
    out = survey.weighted_proportions(df, y="y", weight="w", by="g", threshold=10)
    tiny = out.set_index("g").loc["tiny"]
    assert tiny["n"] == 5 and tiny["share"] == "x" and tiny["ci_low"] == "x"
    assert out.iloc[0]["g"] == "全体" and out.iloc[0]["n"] == 120


def test_compare_proportions_difference_and_interval():
    df = _survey()
    res = survey.compare_proportions(df, y="y", weight="w", group="year", a=2021, b=2025)
    a = survey.weighted_proportion(df.loc[df.year == 2021, "y"], df.loc[df.year == 2021, "w"])
    b = survey.weighted_proportion(df.loc[df.year == 2025, "y"], df.loc[df.year == 2025, "w"])
    assert res["diff"] == pytest.approx(b["share"] - a["share"])
    assert res["ci_high"] - res["diff"] == pytest.approx(1.959963985 * np.hypot(a["se"], b["se"]))
    with pytest.raises(ParameterError, match="2030"):
        survey.compare_proportions(df, y="y", weight="w", group="year", a=2021, b=2030)

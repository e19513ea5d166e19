"""Rambachan–Roth sensitivity (honest DiD): smoothness FLCIs against the HonestDiD README, breakdown value."""

from __future__ import annotations

from pathlib import Path

import ebpm
import numpy as np
import pandas as pd
import pytest
from ebpm.methods._panel import fit_twfe
from ebpm.methods.honest import breakdown_sd, flci_sd, sensitivity_sd

FIXTURE = Path(__file__).parent / "fixtures" / "honestdid" / "ehec_2008_2015_wide.csv"


def _medicaid() -> pd.DataFrame:
    wide = pd.read_csv(FIXTURE)
    long = wide.melt(["stfips", "yexp2"], var_name="year", value_name="dins")
    long["year"] = long["year"].str[1:].astype(int)
    long["first"] = np.where(long["yexp2"] == 2014, 2014.0, np.nan)
    return long


def _betahat_sigma():
    """fixest::feols(dins ~ i(year, D, ref = 2013) | stfips + year, cluster = "stfips") as in the README."""
    work = _medicaid()
    rel = work["year"] - work["first"]
    names = []
    for e in (-6, -5, -4, -3, -2, 0, 1):
        work[f"e{e}"] = (rel == e).astype(float)
        names.append(f"e{e}")
    fit = fit_twfe(work, "dins", names, "stfips", "year")
    return fit["params"].to_numpy(), fit["cov"].to_numpy()


@pytest.mark.reference
def test_smoothness_flci_matches_honestdid_readme():
    # HonestDiD README (R package, asheshrambachan/HonestDiD), "Sensitivity Analysis Using Smoothness
    # Restrictions": createSensitivityResults(betahat, sigma, numPrePeriods = 5, numPostPeriods = 2,
    # Mvec = seq(0, 0.05, by = 0.01)), method FLCI, first post period:
    expected = {
        0.00: (0.0259, 0.0607),
        0.01: (0.0132, 0.0787),
        0.02: (0.00286, 0.0907),
        0.03: (-0.00714, 0.101),
        0.04: (-0.0171, 0.111),
        0.05: (-0.0271, 0.121),
    }
    # Tolerance: half a unit in the last printed digit (3 significant digits) plus 1e-4, because our
    # CR1 small-sample factor counts the period effects slightly differently from fixest's default
    # (sigma differs by about 0.2%).
    b, v = _betahat_sigma()
    rows = sensitivity_sd(b, v, 5, 2, list(expected))

    def tol(x):
        return 0.5 * 10 ** (np.floor(np.log10(abs(x))) - 2) + 1e-4

    for row in rows:
        lb, ub = expected[round(row["m"], 2)]
        assert row["lb"] == pytest.approx(lb, abs=tol(lb))
        assert row["ub"] == pytest.approx(ub, abs=tol(ub))
    # README: "the breakdown value for a significant effect is M ≈ 0.03" — the interval excludes
    # zero at M = 0.02 and includes it at 0.03, so the breakdown lies between them.
    bd = breakdown_sd(b, v, 5, 2)
    assert 0.02 < bd["breakdown_m"] < 0.03
    assert bd["sign"] == 1


def test_flci_widens_with_m_and_is_the_t_interval_shape_at_zero():
    b, v = _betahat_sigma()
    r0, r1 = flci_sd(b, v, 5, 2, 0.0), flci_sd(b, v, 5, 2, 0.02)
    assert r0["max_bias"] == 0.0
    assert r0["half_length"] == pytest.approx(1.959963984540054 * r0["sd"], rel=1e-9)
    assert r1["half_length"] > r0["half_length"]


def test_event_study_reports_the_sensitivity_in_japanese():
    res = ebpm.event_study(_medicaid(), "dins", "stfips", "year", "first", window=(-6, 1))
    honest = res.diagnostics["honest_did"]
    assert honest["restriction"] == "smoothness"
    assert honest["breakdown_m"] > 0 and honest["sign"] == 1
    assert [r["m"] for r in honest["table"]][0] == 0.0
    text = res.summary_ja()
    assert "感度分析（Rambachan–Roth）" in text and "効果の向き（プラス）は保たれる" in text
    assert any("Rambachan–Roth" in r for r in res.reasons)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_breakdown_is_where_the_interval_reaches_zero(seed):
    # The definition: the FLCI excludes zero at the breakdown M and includes it 0.1% above (the
    # stated tolerance). Random event studies with a positive effect, 3–5 pre and 1–3 post periods.
    rng = np.random.default_rng(seed)
    n_pre, n_post = 3 + seed % 3, 1 + seed % 3
    n = n_pre + n_post
    a = rng.normal(size=(n, n))
    sigma = (a @ a.T / n + 0.3 * np.eye(n)) * 0.01
    b = rng.normal(size=n) * 0.1 + np.r_[np.zeros(n_pre), np.full(n_post, 0.6)]
    lv = np.ones(n_post) / n_post
    bd = breakdown_sd(b, sigma, n_pre, n_post, lv)
    m = bd["breakdown_m"]
    assert m is not None and m > 0
    assert flci_sd(b, sigma, n_pre, n_post, m, lv)["lb"] > 0
    assert flci_sd(b, sigma, n_pre, n_post, m * 1.001, lv)["lb"] <= 0
    # the sensitivity table (each M warm-started from the previous) matches one-off solves
    grid = np.linspace(0, 2 * m, 5)
    for row in sensitivity_sd(b, sigma, n_pre, n_post, grid, lv):
        one = flci_sd(b, sigma, n_pre, n_post, row["m"], lv)
        assert row["half_length"] == pytest.approx(one["half_length"], rel=1e-7)
        assert row["lb"] == pytest.approx(one["lb"], abs=1e-6 * one["sd"])

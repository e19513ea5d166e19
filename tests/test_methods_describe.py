"""Descriptive statistics: CIs against scipy/statsmodels, survey weights, the synthetic citizen survey."""

from __future__ import annotations

import json

import ebpm
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import yaml
from ebpm.config import paths
from ebpm.errors import EstimationError
from ebpm.methods.describe import weighted_quantile
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

CITY = paths().raw / "synthetic_morioka"


def _toy(n=300, seed=0) -> pd.DataFrame:
    """模擬データ: waiting minutes, a district and survey weights."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "wait": rng.gamma(4, 3, n),
            "district": rng.choice(["玉山", "都南", "盛岡"], n, p=[0.2, 0.3, 0.5]),
            "w": rng.uniform(0.5, 3.0, n),
        }
    )
    frame.attrs["synthetic"] = True
    return frame


def _row(res, column, group, stat, level=None):
    t = res.details["table"]
    sel = (t["column"] == column) & (t["group"] == group) & (t["stat"] == stat)
    if level is not None:
        sel &= t["level"] == level
    return t[sel].iloc[0]


def test_unweighted_mean_ci_is_the_t_interval():
    frame = _toy()
    res = ebpm.describe(frame, "wait")
    row = _row(res, "wait", "全体", "mean")
    x = frame["wait"]
    lo, hi = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))  # scipy reference
    assert (row["ci_low"], row["ci_high"]) == (
        pytest.approx(lo, rel=1e-12),
        pytest.approx(hi, rel=1e-12),
    )
    assert res.estimate == pytest.approx(x.mean())
    assert res.grade == "D"


def test_weighted_mean_se_matches_weighted_regression_hc1():
    # Linearised SE of the ratio mean = HC1 SE of an intercept-only WLS (independent statsmodels route)
    frame = _toy()
    res = ebpm.describe(frame, "wait", weights="w")
    row = _row(res, "wait", "全体", "mean")
    ref = sm.WLS(frame["wait"], np.ones(len(frame)), weights=frame["w"]).fit(cov_type="HC1")
    assert row["estimate"] == pytest.approx(float(ref.params.iloc[0]), rel=1e-12)
    assert row["se"] == pytest.approx(float(ref.bse.iloc[0]), rel=1e-10)
    assert res.se_type.startswith("線形化法")


def test_unweighted_share_is_wilson():
    frame = _toy()
    res = ebpm.describe(frame, "district")
    row = _row(res, "district", "全体", "share", "都南")
    count = int((frame["district"] == "都南").sum())
    lo, hi = proportion_confint(count, len(frame), alpha=0.05, method="wilson")
    assert row["ci_low"] == pytest.approx(lo, rel=1e-9)
    assert row["ci_high"] == pytest.approx(hi, rel=1e-9)


@pytest.mark.parametrize(
    ("values", "weights", "p", "expected"),
    [
        ([1, 2, 3, 4], [1, 1, 1, 1], 0.5, 2),  # numpy 'inverted_cdf' gives 2
        ([1, 2, 3, 4], [1, 1, 1, 1], 0.75, 3),
        ([1, 2, 3, 4], [1, 1, 1, 5], 0.5, 4),  # weight moves the median
        ([5, 1, 3], [1, 1, 1], 0.5, 3),
    ],
)
def test_weighted_quantile(values, weights, p, expected):
    got = weighted_quantile(np.array(values, float), np.array(weights, float), p)
    assert got == expected
    if len(set(weights)) == 1:
        assert got == np.quantile(values, p, method="inverted_cdf")


def test_by_group_quantile_ci_brackets_estimate():
    res = ebpm.describe(_toy(), ["wait", "district"], by="district", effect_unit="分")
    t = res.details["table"]
    assert set(t["group"]) == {"全体", "玉山", "都南", "盛岡"}
    q = t[t["stat"] == "q50"]
    assert (q["ci_low"] <= q["estimate"]).all() and (q["estimate"] <= q["ci_high"]).all()
    assert "模擬データ" in res.summary_ja()
    json.dumps(res.to_dict())
    assert "模擬データ" in json.dumps(res.chart().to_dict(), ensure_ascii=False)


def test_synthetic_citizen_survey_recovers_population_means():
    path, truth_path = CITY / "citizen_survey.csv", CITY / "ground_truth.yml"
    if not path.exists() or not truth_path.exists():
        pytest.fail("同梱の模擬データ（data/raw/synthetic_morioka）がありません")
    truth = yaml.safe_load(truth_path.read_text(encoding="utf-8"))["citizen_survey"]
    df = pd.read_csv(path)
    df = df[df["responded"].astype(str).str.lower() == "true"]
    weighted = ebpm.describe(df, "satisfaction", by="fiscal_year", weights="weight", synthetic=True)
    plain = ebpm.describe(df, "satisfaction", by="fiscal_year", synthetic=True)
    covered, err_w, err_u = 0, [], []
    for year, value in truth["population_mean_satisfaction"].items():
        row = _row(weighted, "satisfaction", year, "mean")
        covered += row["ci_low"] <= value <= row["ci_high"]
        err_w.append(abs(row["estimate"] - value))
        err_u.append(abs(_row(plain, "satisfaction", year, "mean")["estimate"] - value))
    # 5 yearly 95% CIs: at least 4 should cover; non-response differs by stratum, so weights must help
    assert covered >= 4
    assert np.mean(err_w) < np.mean(err_u)


def test_bad_input():
    frame = _toy()
    with pytest.raises(EstimationError, match="「nope」"):
        ebpm.describe(frame, "nope")
    with pytest.raises(EstimationError, match="0以下"):
        ebpm.describe(frame.assign(w=0.0), "wait", weights="w")
    with pytest.raises(EstimationError, match="数値"):
        ebpm.describe(frame.assign(w="a"), "wait", weights="w")


def _cities() -> pd.DataFrame:
    """All 14 cities of Iwate with their 2020 census population (国勢調査2020 確定値; a census)."""
    frame = pd.DataFrame(
        {
            "area_name": [f"市{i:02d}" for i in range(14)],
            "total": np.linspace(20_000, 290_000, 14).round(),
            "kind": ["大"] * 4 + ["小"] * 10,
        }
    )
    frame.attrs["census"] = True  # what ebpm.load sets for a table flagged census: true
    return frame


def test_census_flag_gives_no_ci_and_says_why():
    res = ebpm.describe(_cities(), ["total", "kind"])
    table = res.details["table"]
    assert table[["se", "ci_low", "ci_high"]].isna().all().all()
    assert np.isnan(res.ci[0]) and np.isnan(res.ci[1]) and np.isnan(res.se)
    assert res.diagnostics["census"] is True
    text = res.summary_ja()
    assert "全数のため信頼区間は示さない" in text and "95%信頼区間" not in text
    assert any("全数のため信頼区間は示さない" in r for r in res.reasons)
    # the statistics themselves are unchanged: the mean is the plain mean of the 14 values
    assert res.estimate == pytest.approx(_cities()["total"].mean())
    spec = res.chart().to_dict()
    assert "全数のため信頼区間は示さない" in json.dumps(spec, ensure_ascii=False)


def test_census_can_be_overridden_either_way():
    sample = _cities()
    sample.attrs.pop("census")
    with_ci = ebpm.describe(sample, "total")
    assert not np.isnan(with_ci.ci[0]) and with_ci.diagnostics["census"] is False
    assert "95%信頼区間" in with_ci.summary_ja()
    assert np.isnan(ebpm.describe(sample, "total", census=True).ci[0])
    # a census frame read as a sample of a wider population when the planner says so
    assert not np.isnan(ebpm.describe(_cities(), "total", census=False).ci[0])


def test_census_argument_is_checked():
    from ebpm.errors import ParameterError

    with pytest.raises(ParameterError, match="census は True か False"):
        ebpm.describe(_cities(), "total", census="yes")
    with pytest.raises(ParameterError, match="調査ウェイト"):
        ebpm.describe(_toy(), "wait", weights="w", census=True)

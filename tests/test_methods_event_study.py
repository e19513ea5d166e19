"""Event study: coefficients against a dummy-variable OLS reference, the joint pre-trend test, bad input."""

from __future__ import annotations

import json

import ebpm
import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from ebpm.config import paths
from ebpm.errors import EstimationError, ParameterError

TEACHING = paths().shared / "data" / "teaching"


def panel(n_units=40, n_periods=10, effect=1.5, pre_trend=0.0, seed=0) -> pd.DataFrame:
    """模擬データ: staggered adoption at periods 4 or 6 (some never), effect ``effect`` from adoption on;
    ``pre_trend`` adds a drift to treated units before adoption (a parallel-trends violation)."""
    rng = np.random.default_rng(seed)
    first = rng.choice([4.0, 6.0, np.nan], n_units, p=[0.35, 0.35, 0.3])
    rows = []
    for i in range(n_units):
        a = rng.normal(0, 1)
        for t in range(n_periods):
            rel = t - first[i] if not np.isnan(first[i]) else np.nan
            y = a + 0.2 * t + rng.normal(0, 0.5)
            if not np.isnan(rel):
                y += effect * (rel >= 0) + pre_trend * min(rel, 0)
            rows.append((i, t, first[i], y))
    frame = pd.DataFrame(rows, columns=["unit", "time", "first", "y"])
    frame.attrs["synthetic"] = True
    return frame


def _reference_fit(frame: pd.DataFrame, lo: int, hi: int, reference: int):
    """statsmodels OLS with unit and time dummies and the same binned event dummies (cluster by unit)."""
    rel = (frame["time"] - frame["first"]).clip(lo, hi)
    work = frame.copy()
    names = []
    for e in range(lo, hi + 1):
        if e == reference:
            continue
        name = f"e{'m' if e < 0 else 'p'}{abs(e)}"
        work[name] = (rel == e).astype(float)
        names.append(name)
    fit = smf.ols(f"y ~ {' + '.join(names)} + C(unit) + C(time)", work).fit(
        cov_type="cluster", cov_kwds={"groups": work["unit"], "use_correction": False}
    )
    return fit, names


def test_coefficients_match_dummy_ols_and_wald_uses_full_covariance():
    frame = panel()
    res = ebpm.event_study(frame, "y", "unit", "time", "first", window=(-3, 3))
    fit, names = _reference_fit(frame, -3, 3, -1)
    coefs = res.details["coefficients"].set_index("rel_time")
    for e, name in zip([-3, -2, 0, 1, 2, 3], names, strict=True):
        # point estimates: identical model (FWL), tolerance 1e-8
        assert coefs.loc[e, "estimate"] == pytest.approx(fit.params[name], abs=1e-8)
    # SEs: CR1 with G/(G−1)·(N−1)/(N−K), K = 6 event dummies + 10 period effects (unit effects are
    # nested in the clusters and not counted); statsmodels without its own correction, rescaled
    g, n, k = frame["unit"].nunique(), len(frame), 6 + frame["time"].nunique()
    factor = np.sqrt(g / (g - 1) * (n - 1) / (n - k))
    assert coefs.loc[2, "se"] == pytest.approx(fit.bse["ep2"] * factor, rel=1e-8)
    assert coefs.loc[-1, "reference"] and coefs.loc[-1, "estimate"] == 0.0
    # joint pre-trend Wald with the full covariance block, against statsmodels' wald_test (scaled by G/(G−1))
    pre = res.diagnostics["pre_trend"]
    ref = fit.wald_test("em3 = 0, em2 = 0", use_f=False, scalar=True)
    assert pre["q"] == 2
    assert pre["wald"] == pytest.approx(float(ref.statistic) / factor**2, rel=1e-8)
    diag_only = sum((coefs.loc[e, "estimate"] / coefs.loc[e, "se"]) ** 2 for e in (-3, -2))
    assert pre["wald"] != pytest.approx(diag_only, rel=1e-3)  # not the diagonal shortcut


def test_recovers_effect_and_passes_pre_trend():
    # a fixed draw; the size of the pre-trend test over many draws is checked in test_methods_coverage.py
    res = ebpm.event_study(
        panel(effect=1.5, seed=4), "y", "unit", "time", "first", window=(-3, 3), effect_unit="件"
    )
    assert res.ci[0] < 1.5 < res.ci[1]
    assert res.diagnostics["pre_trend"]["f_p"] > 0.05
    assert res.grade == "A"
    assert "模擬データ" in res.summary_ja()
    json.dumps(res.to_dict())
    spec = res.chart().to_dict()
    assert "模擬データ" in json.dumps(spec, ensure_ascii=False)


def test_pre_trend_violation_lowers_grade():
    res = ebpm.event_study(
        panel(pre_trend=0.6, seed=3), "y", "unit", "time", "first", window=(-3, 3)
    )
    assert res.diagnostics["pre_trend"]["f_p"] < 0.05
    # the failed pre-trend test costs two steps; the effect's sign also does not survive a linear
    # extrapolation of that pre-trend (honest DiD breakdown: none), one more step
    assert res.diagnostics["honest_did"]["breakdown_m"] is None
    assert res.grade == "D"
    assert any(r.startswith("【要注意】") and "平行トレンド" in r for r in res.reasons)
    assert any(r.startswith("【要注意】") and "Rambachan–Roth" in r for r in res.reasons)


@pytest.mark.reference
def test_castle_event_study_consistent_with_twfe_data():
    # castle_bacondecomp.csv: with window covering every event time (no binning) the post coefficients
    # come from the same FE model as TWFE; check the reference dummy OLS on real data, tolerance 1e-8.
    path = TEACHING / "castle_bacondecomp.csv"
    if not path.exists():
        pytest.skip("../shared/data/teaching がない")
    df = pd.read_csv(path)
    res = ebpm.event_study(df, "l_homicide", "state", "year", "treatment_date", window=(-4, 3))
    frame = df.rename(
        columns={"state": "unit", "year": "time", "treatment_date": "first", "l_homicide": "y"}
    )
    fit, names = _reference_fit(frame, -4, 3, -1)
    coefs = res.details["coefficients"].set_index("rel_time")
    assert coefs.loc[0, "estimate"] == pytest.approx(fit.params["ep0"], abs=1e-8)
    assert coefs.loc[-4, "estimate"] == pytest.approx(fit.params["em4"], abs=1e-8)


def test_bad_input():
    frame = panel()
    with pytest.raises(ParameterError, match="window"):
        ebpm.event_study(frame, "y", "unit", "time", "first", window=(2, 3))
    with pytest.raises(ParameterError, match="reference"):
        ebpm.event_study(frame, "y", "unit", "time", "first", window=(-3, 3), reference=0)
    with pytest.raises(EstimationError, match="介入を受けた単位がありません"):
        ebpm.event_study(frame.assign(first=np.nan), "y", "unit", "time", "first")
    with pytest.raises(EstimationError, match="介入前の期間"):
        ebpm.event_study(
            frame.assign(first=frame["first"].where(frame["first"].isna(), -1.0)),
            "y",
            "unit",
            "time",
            "first",
        )
    with pytest.raises(EstimationError, match="数値"):
        ebpm.event_study(frame.assign(y="a"), "y", "unit", "time", "first")
    with pytest.raises(EstimationError, match="一定ではありません"):
        ebpm.event_study(
            frame.assign(first=frame["first"] + (frame["time"] == 3)), "y", "unit", "time", "first"
        )


def test_synthetic_city_counter_visit_event_time_effects():
    city = paths().raw / "synthetic_morioka"
    if not (city / "counter_visit.csv").exists() or not (city / "ground_truth.yml").exists():
        pytest.fail("同梱の模擬データ（data/raw/synthetic_morioka）がありません")
    import yaml

    truth = yaml.safe_load((city / "ground_truth.yml").read_text(encoding="utf-8"))["counter_visit"]
    by_e = truth["att_by_event_time"]
    df = pd.read_csv(city / "counter_visit.csv")
    month, since = pd.to_datetime(df["month"]), pd.to_datetime(df["cashless_since"])
    df["period"] = (month.dt.year - 2019) * 12 + month.dt.month
    df["first"] = (since.dt.year - 2019) * 12 + since.dt.month
    df.attrs["synthetic"] = True
    res = ebpm.event_study(
        df, truth["outcome"], "office", "period", "first", window=(-6, 6), effect_unit="分"
    )
    post = res.details["coefficients"].query("rel_time >= 0").set_index("rel_time")
    covered = sum(post.loc[e, "ci_low"] <= by_e[e] <= post.loc[e, "ci_high"] for e in range(7))
    assert covered >= 6  # 7 event-time CIs against the generator's true effect (ramp over 3 months)
    assert res.ci[0] < np.mean([by_e[e] for e in range(7)]) < res.ci[1]
    assert res.diagnostics["pre_trend"]["f_p"] > 0.05  # no pre-period effect in the generator

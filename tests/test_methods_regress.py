"""Regression: Dehejia–Wahba NSW experimental estimate, SE types against statsmodels, bad input."""

from __future__ import annotations

import json

import ebpm
import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from ebpm.config import paths
from ebpm.errors import EstimationError, ParameterError
from ebpm.methods.regress import _first_term

TEACHING = paths().shared / "data" / "teaching"


def _nsw() -> pd.DataFrame:
    path = TEACHING / "nsw_dehejia_wahba.dta"
    if not path.exists():
        pytest.skip("../shared/data/teaching がない")
    return pd.read_stata(path)


def _toy(n=200, seed=0, clusters=40) -> pd.DataFrame:
    """模擬データ: y = 1 + 2x + 0.5z + cluster shock + noise."""
    rng = np.random.default_rng(seed)
    g = rng.integers(0, clusters, n)
    x = rng.normal(size=n)
    z = rng.normal(size=n)
    y = 1 + 2 * x + 0.5 * z + rng.normal(size=clusters)[g] + rng.normal(size=n)
    frame = pd.DataFrame({"y": y, "x": x, "z": z, "g": g, "kind": np.where(z > 0, "a", "b")})
    frame.attrs["synthetic"] = True
    return frame


@pytest.mark.reference
@pytest.mark.parametrize(
    ("se", "expected_se", "label"),
    [
        # Dehejia & Wahba (1999) NSW experimental sample (185 treated, 260 controls): difference in
        # mean re78 = 1,794.34 USD (LaLonde/Dehejia–Wahba; Cunningham, Mixtape ch. 5: 1,794).
        # Classical OLS SE 632.85; HC1 670.82 (heteroskedasticity-robust), values of statsmodels 0.15
        # `ols("re78 ~ treat").fit(cov_type=...)` on the same file; tolerance 0.01 USD.
        ("classical", 632.853392414366, "通常"),
        ("HC1", 670.824490766941, "頑健（HC1）"),
    ],
)
def test_nsw_experimental_estimate(se, expected_se, label):
    covariates = ["age", "educ", "black", "hisp", "marr", "nodegree", "re74", "re75"]
    res = ebpm.regress(
        _nsw(), "re78 ~ treat", se=se, design="experiment", balance=covariates, effect_unit="ドル"
    )
    assert res.estimate == pytest.approx(1794.34, abs=0.005)
    assert res.se == pytest.approx(expected_se, abs=0.01)
    assert res.se_type == label
    assert res.n == 445
    # The randomisation check finds the sample's known imbalance in 'nodegree': Dehejia & Wahba
    # (1999) Table 1, NSW treated 0.71 vs controls 0.83 (2 d.p.; tolerance 0.01). It costs one step.
    bal = res.details["balance"].set_index("covariate")
    assert bal.loc["nodegree", "difference"] == pytest.approx(0.71 - 0.83, abs=0.01)
    assert res.grade == "B" and any("nodegree" in r for r in res.reasons)
    unchecked = ebpm.regress(_nsw(), "re78 ~ treat", se=se, design="experiment")
    assert unchecked.grade == "B" and "balance" in unchecked.grading.untested
    assert res.summary_ja().startswith("re78は、treatが1単位大きいと平均で1,794ドル高い")


@pytest.mark.parametrize("se", ["classical", "HC0", "HC1", "HC2", "HC3"])
def test_se_types_match_statsmodels(se):
    frame = _toy()
    res = ebpm.regress(frame, "y ~ x + z", se=se)
    ref = (
        smf.ols("y ~ x + z", frame).fit()
        if se == "classical"
        else smf.ols("y ~ x + z", frame).fit(cov_type=se)
    )
    assert res.estimate == pytest.approx(ref.params["x"], rel=1e-12)
    assert res.se == pytest.approx(ref.bse["x"], rel=1e-12)
    coefs = res.coefficients
    assert list(coefs.columns) == ["term", "estimate", "se", "ci_low", "ci_high", "pvalue"]
    assert coefs["term"].tolist() == ["Intercept", "x", "z"]


def test_cluster_se_and_few_cluster_warnings():
    frame = _toy(clusters=40)
    res = ebpm.regress(frame, "y ~ x + z", se="cluster:g")
    ref = smf.ols("y ~ x + z", frame).fit(
        cov_type="cluster", cov_kwds={"groups": frame["g"]}, use_t=True
    )
    assert res.se == pytest.approx(ref.bse["x"], rel=1e-10)
    assert res.se_type == f"クラスター頑健（g、G={frame['g'].nunique()}）"
    kw = {"se": "cluster:g", "design": "experiment", "balance": ["z"]}  # z: balanced by design
    few = ebpm.regress(_toy(clusters=20), "y ~ x", **kw)
    very_few = ebpm.regress(_toy(clusters=6), "y ~ x", **kw)
    assert few.warnings and very_few.warnings
    assert (few.grade, very_few.grade) == ("B", "C")  # < 30 clusters: one step; < 10: two steps


def test_focus_default_is_first_written_term():
    frame = _toy()
    # patsy puts categorical terms first; the headline must still be the first term as written
    res = ebpm.regress(frame, "y ~ x + C(kind)")
    assert res.details["focus"] == "x"
    res = ebpm.regress(frame, "y ~ x + C(kind)", focus="C(kind)")
    assert res.details["focus"].startswith("C(kind)[")


@pytest.mark.parametrize(
    ("formula", "first"),
    [
        ("y ~ x + z", "x"),
        ("y ~ 1 + x", "x"),
        ("y ~ C(a, Treatment('b')) + x", "C(a, Treatment('b'))"),
        ("y ~ 0 + z", "z"),
    ],
)
def test_first_term(formula, first):
    assert _first_term(formula) == first


def test_bad_input():
    frame = _toy()
    with pytest.raises(EstimationError, match="数値"):
        ebpm.regress(frame, "kind ~ x")
    with pytest.raises(EstimationError, match="「nope」"):
        ebpm.regress(frame, "y ~ nope")
    with pytest.raises(ParameterError, match="HC1"):
        ebpm.regress(frame, "y ~ x", se="robust")
    with pytest.raises(EstimationError, match="多重共線性"):
        ebpm.regress(frame.assign(x2=2 * frame["x"]), "y ~ x + x2")
    with pytest.raises(ParameterError, match="focus"):
        ebpm.regress(frame, "y ~ x", focus="w")


def test_outputs_are_japanese_and_json_safe():
    res = ebpm.regress(_toy(), "y ~ x", se="HC1", effect_unit="分", outcome_label="待ち時間")
    text = res.summary_ja()
    assert text.startswith("待ち時間は、xが1単位大きいと平均で") and "模擬データ" in text
    json.dumps(res.to_dict())
    assert "模擬データ" in json.dumps(res.chart().to_dict(), ensure_ascii=False)


def test_negative_effect_is_worded_by_direction():
    frame = _toy().assign(y=lambda f: -f["y"])
    text = ebpm.regress(frame, "y ~ x", effect_unit="分").summary_ja()
    assert "平均で2" in text and "分低い" in text and "-" not in text.split("（")[0]

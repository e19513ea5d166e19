"""Few-cluster inference: restricted wild cluster bootstrap against wildboottest, and its use in did."""

from __future__ import annotations

import ebpm
import numpy as np
import pandas as pd
import pytest
from ebpm.errors import ParameterError
from ebpm.methods._inference import cluster_weights, wild_cluster_linear


def _ols_example() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    g, per = 10, 20
    cl = np.repeat(np.arange(g), per)
    treat = (cl < 3).astype(float)
    x = rng.normal(size=g * per)
    y = 1 + 0.3 * treat + 0.5 * x + rng.normal(size=g)[cl] + rng.normal(size=g * per) * (1 + cl / 5)
    return pd.DataFrame({"y": y, "treat": treat, "x": x, "cl": cl})


@pytest.mark.reference
@pytest.mark.parametrize(
    ("theta0", "expected"),
    [
        # wildboottest 0.3.2 (PyPI), full enumeration of 2^10 Rademacher draws:
        # wildboottest(smf.ols("y ~ treat + x", df.assign(y=y - theta0 * treat)), param="treat",
        #   cluster=df["cl"], B=9999, weights_type="rademacher", impose_null=True, bootstrap_type="11")
        (0.0, 0.140625),
        (1.0, 0.988281),
        (-0.3, 0.083984),
    ],
)
def test_wcr_pvalues_match_wildboottest(theta0, expected):
    # tolerance 5e-7 (wildboottest prints 6 decimals; enumeration makes both exact multiples of 1/1024)
    df = _ols_example()
    x = np.column_stack([np.ones(len(df)), df["treat"], df["x"]])
    boot = wild_cluster_linear(
        x,
        df["y"].to_numpy(),
        np.array([0.0, 1.0, 0.0]),
        df["cl"].to_numpy(),
        draws=9999,
        kind="rademacher",
    )
    assert boot["weights_ja"] == "Rademacher 分布（全列挙）"
    assert boot["pvalue_at"](theta0) == pytest.approx(expected, abs=5e-7)
    # the interval is the set of θ0 not rejected at 5%
    lo, hi = boot["ci"]
    assert boot["pvalue_at"](lo + 1e-3) > 0.05 and boot["pvalue_at"](hi - 1e-3) > 0.05
    assert boot["pvalue_at"](lo - 1e-2) <= 0.05 and boot["pvalue_at"](hi + 1e-2) <= 0.05


def test_bootstrap_is_reproducible_and_uses_webb_weights_for_small_g():
    w1, name = cluster_weights(8)
    w2, _ = cluster_weights(8)
    assert name == "Webb の6点分布" and np.array_equal(w1, w2)
    assert set(np.round(np.unique(w1) ** 2, 12)) == {0.5, 1.0, 1.5}


def _panel(n_units=15, n_treated=3, seed=1, n_periods=10):
    rng = np.random.default_rng(seed)
    first = np.full(n_units, np.nan)
    first[:n_treated] = rng.choice([5, 7], n_treated)
    rows = []
    for i in range(n_units):
        e = rng.normal(size=n_periods)
        for t in range(n_periods):
            d = float(not np.isnan(first[i]) and t >= first[i])
            rows.append(
                (f"u{i:02d}", f"r{i % 5}", t, first[i], d, 0.5 * i + 0.1 * t + 1.0 * d + e[t])
            )
    return pd.DataFrame(rows, columns=["unit", "region", "time", "first", "d", "y"])


@pytest.mark.parametrize("method", ["twfe", "staggered"])
def test_did_panel_reports_the_few_cluster_method_and_keeps_the_analytic_interval(method):
    df = _panel()
    res = ebpm.did(
        df, y="y", post="d", unit="unit", time="time", first_treated="first", method=method
    )
    inf = res.diagnostics["inference"]
    assert inf["method"] == "wild_cluster_bootstrap" and inf["n_clusters"] == 15
    assert inf["n_treated_clusters"] == 3 and inf["valid"]
    assert inf["analytic_ci"] != list(res.ci)
    assert "ブートストラップ" in res.summary_ja()
    again = ebpm.did(
        df, y="y", post="d", unit="unit", time="time", first_treated="first", method=method
    )
    assert again.ci == res.ci  # fixed seed


def test_single_treated_cluster_is_flagged_and_lowers_the_grade():
    df = _panel(n_treated=1)
    res = ebpm.did(df, y="y", post="d", unit="unit", time="time", method="twfe")
    inf = res.diagnostics["inference"]
    assert not inf["valid"]
    assert "どの方法でも" in inf["reason_ja"]
    assert any(r.startswith("【要注意】") and "どの方法でも" in r for r in res.reasons)


def test_staggered_honours_the_cluster_column():
    df = _panel(n_units=20, n_treated=6)
    by_unit = ebpm.did(df, y="y", post="d", unit="unit", time="time", first_treated="first")
    by_region = ebpm.did(
        df, y="y", post="d", unit="unit", time="time", first_treated="first", se="cluster:region"
    )
    assert by_region.estimate == pytest.approx(by_unit.estimate, abs=1e-12)
    assert by_region.diagnostics["inference"]["cluster"] == "region"
    assert by_region.diagnostics["inference"]["n_clusters"] == 5
    assert "region" in by_region.se_type and by_region.se != by_unit.se
    # a cluster that varies within a unit is refused in Japanese
    bad = df.assign(half=(df["time"] > 4).astype(int))
    with pytest.raises(ParameterError, match="単位ごとに一つ"):
        ebpm.did(
            bad, y="y", post="d", unit="unit", time="time", first_treated="first", se="cluster:half"
        )


def test_two_by_two_with_few_clusters_uses_the_bootstrap():
    df = _panel()
    two = df[df["time"].isin([2, 9])].assign(
        post=lambda f: (f["time"] == 9).astype(float),
        treat=lambda f: f["first"].notna().astype(float),
    )
    res = ebpm.did(two, y="y", treat="treat", post="post", se="cluster:unit")
    assert res.diagnostics["inference"]["method"] == "wild_cluster_bootstrap"

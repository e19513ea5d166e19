"""Power and sample size: Cohen's table, design effects, the DiD variance factor, bad input."""

from __future__ import annotations

import json
import math

import ebpm
import pytest
from ebpm.errors import ParameterError
from ebpm.methods.power import design_factor
from statsmodels.stats.power import TTestIndPower


@pytest.mark.reference
@pytest.mark.parametrize(
    ("d", "n_table"),
    [
        # Cohen (1988) Statistical Power Analysis, 2nd ed., Table 2.4.1 (two-sided α = .05, power .80):
        # n per group 393 (d = .2), 64 (d = .5), 26 (d = .8). Tolerance: 0.5 on the exact t-test
        # solution (Cohen's table rounds an approximation).
        (0.2, 393),
        (0.5, 64),
        (0.8, 26),
    ],
)
def test_cohen_table(d, n_table):
    res = ebpm.power(effect_size=d, power=0.8)
    assert res.details["n"] == pytest.approx(n_table, abs=0.5)
    assert res.estimate == math.ceil(res.details["n"])
    assert "1群あたり" in res.summary_ja()


def test_solves_each_missing_quantity_consistently():
    n = ebpm.power(effect_size=0.4, power=0.9).details["n"]
    assert ebpm.power(effect_size=0.4, n=n).estimate == pytest.approx(0.9, abs=1e-6)
    assert ebpm.power(n=n, power=0.9).estimate == pytest.approx(0.4, abs=1e-6)
    mde = ebpm.power(n=100, power=0.8, sd=12.0, effect_unit="分")
    assert mde.estimate == pytest.approx(
        12.0 * TTestIndPower().solve_power(nobs1=100, alpha=0.05, power=0.8), rel=1e-9
    )
    assert "分" in mde.summary_ja() and "MDE" in mde.summary_ja()


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"design": "two_sample"}, 1.0),
        (
            {"design": "cluster", "icc": 0.05, "cluster_size": 21},
            2.0,
        ),  # 1 + 20·0.05 (Donner & Klar 2000)
        ({"design": "did", "rho": 0.0}, 2.0),  # one pre, one post, independent: variance doubles
        ({"design": "did", "rho": 0.5}, 1.0),  # 2(1 − ρ), Frison & Pocock (1992) change score
        (
            {"design": "did", "rho": 0.5, "periods_pre": 3, "periods_post": 3},
            1 / 3,
        ),  # McKenzie (2012)
    ],
)
def test_design_factor(kwargs, expected):
    assert design_factor(**kwargs) == pytest.approx(expected, rel=1e-12)


def test_cluster_design_inflates_n_by_design_effect():
    base = ebpm.power(effect_size=0.3, power=0.8).details["n"]
    res = ebpm.power(effect_size=0.3, power=0.8, design="cluster", icc=0.05, cluster_size=21)
    # the t-test df change with n, so the inflation is the design effect to within a fraction of a person
    assert res.details["n"] == pytest.approx(2.0 * base, abs=1.0)
    assert "集落" in res.summary_ja()
    json.dumps(res.to_dict())
    assert res.chart() is not None


def test_bad_input():
    with pytest.raises(ParameterError, match="ちょうど1つ"):
        ebpm.power(effect_size=0.5)
    with pytest.raises(ParameterError, match="icc"):
        ebpm.power(effect_size=0.5, power=0.8, design="cluster")
    with pytest.raises(ParameterError, match="design"):
        ebpm.power(effect_size=0.5, power=0.8, design="rct")
    with pytest.raises(ParameterError, match="rho"):
        ebpm.power(effect_size=0.5, power=0.8, design="did")

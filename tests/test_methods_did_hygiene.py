"""Staggered DiD hygiene: always-treated units dropped with a reason line; ineligible controls questioned."""

from __future__ import annotations

import warnings

import ebpm
import numpy as np
import pandas as pd
import pytest


def _panel(always: int = 2) -> pd.DataFrame:
    """16 units × 12 periods; 4 adopt at 5, 4 at 8, ``always`` before the window, the rest never."""
    rng = np.random.default_rng(11)
    firsts = [5] * 4 + [8] * 4 + [0.5] * always + [np.nan] * (8 - always)
    rows = []
    for u, first in enumerate(firsts):
        for t in range(1, 13):
            d = not np.isnan(first) and t >= first
            rows.append(
                {
                    "office": f"窓口{u:02d}",
                    "t": t,
                    "first": first,
                    "y": 50 + u + 0.5 * t - 4.0 * d + rng.normal(0, 1),
                    "handles": int(u < 14),  # the last two offices never handle the procedure
                }
            )
    return pd.DataFrame(rows)


def test_always_treated_units_are_dropped_with_a_reason_line():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = ebpm.did(_panel(), y="y", unit="office", time="t", first_treated="first")
    assert res.diagnostics["n_always_treated_dropped"] == 2
    assert res.diagnostics["always_treated_units"] == ["窓口08", "窓口09"]
    assert any("当初から介入済みの単位2個" in r for r in res.reasons)
    assert any("当初から介入済み" in w for w in res.warnings)
    assert res.diagnostics["n_treated_units"] == 8
    # the planted effect is -4: dropping the always-treated keeps it within the 95% CI
    assert res.ci[0] < -4.0 < res.ci[1]


def test_no_always_treated_no_line():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = ebpm.did(_panel(always=0), y="y", unit="office", time="t", first_treated="first")
    assert res.diagnostics["n_always_treated_dropped"] == 0
    assert not any("当初から介入済み" in r for r in res.reasons)


def test_ineligible_controls_warn_and_cost_a_grade_step():
    data = _panel(always=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = ebpm.did(data, y="y", unit="office", time="t", first_treated="first")
        questioned = ebpm.did(
            data, y="y", unit="office", time="t", first_treated="first", eligible="handles"
        )
    assert questioned.diagnostics["n_ineligible_controls"] == 2
    assert any("定義上介入を受けられない" in w for w in questioned.warnings)
    order = "ABCD"
    assert order.index(questioned.grade) == min(order.index(plain.grade) + 1, 3)


def test_eligible_must_be_a_column():
    with pytest.raises(ebpm.errors.EstimationError, match="もしかして「handles」"):
        ebpm.did(_panel(), y="y", unit="office", time="t", first_treated="first", eligible="handle")


def test_catalog_eligibility_column_is_picked_up_automatically():
    """A frame whose table declares `eligibility:` in the catalog is questioned without `eligible=`."""
    data = _panel(always=0)
    data.attrs["eligibility"] = "handles"  # what ebpm.load sets from the catalog flag
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        auto = ebpm.did(data, y="y", unit="office", time="t", first_treated="first")
        off = ebpm.did(data, y="y", unit="office", time="t", first_treated="first", eligible=False)
    assert auto.diagnostics["n_ineligible_controls"] == 2
    assert auto.diagnostics["eligibility_column"] == "handles"
    assert auto.diagnostics["eligibility_from_catalog"] is True
    assert any("定義上介入を受けられない" in w and "自動で使った" in w for w in auto.warnings)
    assert off.diagnostics["n_ineligible_controls"] == 0
    assert off.diagnostics["eligibility_column"] is None
    order = "ABCD"
    assert order.index(auto.grade) == min(order.index(off.grade) + 1, 3)


def test_catalog_eligibility_survives_a_merge_by_column_name():
    """pandas drops attrs in merge; the column noted by the data layer is still recognised."""
    from ebpm import labels

    data = _panel(always=0)
    units = data[["office", "handles"]].drop_duplicates()
    panel = data.drop(columns="handles").merge(units, on="office")
    assert panel.attrs == {}
    labels.note_eligibility("offices", "handles")  # what ebpm.load does for a flagged table
    try:
        assert labels.eligibility(panel) == "handles"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = ebpm.did(panel, y="y", unit="office", time="t", first_treated="first")
        assert res.diagnostics["n_ineligible_controls"] == 2
    finally:
        labels.forget()


@pytest.mark.parametrize(("value", "words"), [(True, "True は使えません"), (3, "列名（文字列）")])
def test_eligible_argument_is_checked(value, words):
    with pytest.raises(ebpm.errors.ParameterError, match=words):
        ebpm.did(_panel(), y="y", unit="office", time="t", first_treated="first", eligible=value)

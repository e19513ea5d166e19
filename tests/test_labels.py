"""Column titles, units and the 模擬データ flag survive pandas operations that drop ``attrs``."""

from __future__ import annotations

import ebpm
import pandas as pd
import pytest
from ebpm import labels
from ebpm.methods import _common as c


@pytest.fixture
def tiny(tiny_built):
    labels.forget()
    return tiny_built


def test_titles_survive_merge_pivot_groupby_and_a_new_frame(tiny):
    pop = ebpm.load("population")
    area = ebpm.load("area")
    merged = pop.merge(area, left_on="area_code", right_on="code5")
    pivot = pop.pivot_table(index="area_code", columns="year", values="population").reset_index()
    summed = (
        pop.groupby("year", as_index=False)["population"]
        .sum()
        .assign(double=lambda d: d.population * 2)
    )
    fresh = pd.DataFrame(pop.to_dict("list"))  # no attrs at all
    assert fresh.attrs == {}
    for frame in (merged, pivot, summed, fresh):
        assert c.title_of(frame, "area_code") == "団体コード" or "area_code" not in frame
    assert c.title_of(fresh, "population") == "人口"
    assert c.unit_of(fresh, "population") == "人"
    assert c.title_of(summed, "double") == "double"  # a new column has no title to borrow
    summary = ebpm.describe(fresh, columns="population").summary_ja()
    assert "人口" in summary and "population" not in summary


def test_a_title_two_tables_disagree_on_is_not_guessed(tiny):
    ebpm.load("visitors")  # area_code: 団体コード here too; name: 町名 here, 名称 in area
    ebpm.load("area")
    assert c.title_of(pd.DataFrame({"name": ["a"]}), "name") == "name"
    assert c.title_of(pd.DataFrame({"area_code": ["a"]}), "area_code") == "団体コード"


def test_synthetic_flag_survives_when_attrs_are_lost():
    labels.forget()
    labels.note("counter_visit", "visits", title="来庁者数", unit="人", synthetic=True)
    assert c.is_synthetic(pd.DataFrame({"visits": [1.0]}), None) is True
    assert c.is_synthetic(pd.DataFrame({"other": [1.0]}), None) is False
    assert c.is_synthetic(pd.DataFrame({"visits": [1.0]}), False) is False
    labels.forget()


def test_sql_with_join_using_keeps_its_sources(tiny):
    """DuckDB's get_table_names refuses some JOIN … USING queries; the sources must not vanish."""
    frame = ebpm.sql(
        "SELECT v.name, p.population FROM visitors v JOIN population p USING (area_code) "
        "WHERE p.year = $y",
        {"y": 2020},
    )
    assert frame.attrs["tables"] == ["population", "visitors"]
